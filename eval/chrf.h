/* chrf.h - chrF / chrF++ exactly as sacreBLEU 2.6.0's CHRF computes and prints it.
 *
 * Per segment (hypothesis and references alike): optional Python str.lower(); character
 * n-grams 1..char_order over code points of the segment with Python whitespace removed
 * (kept with `whitespace`); word n-grams 1..word_order over the words of str.split() with
 * one ASCII punctuation character (string.punctuation) split off the end of a word, or else
 * off its start (sacreBLEU's _remove_punctuation: "(hi)" -> "(hi" ")"; Unicode punctuation
 * stays attached; one-character words stay whole).  Per order: [hyp, ref, match] counts,
 * hyp counted as 0 when the reference has no n-gram of that order.  Several references: the
 * one with the highest sentence F wins (the first on ties).  Corpus statistics are integer
 * sums; the F score follows _compute_f_score with the same floating-point operation order.
 *
 * Library use:
 *   chrf_opts o; chrf_opts_default(&o); o.word_order = 2;            // chrF++
 *   const char *const *streams[1] = {refs};
 *   chrf_score s;
 *   if (chrf_corpus(hyps, NULL, n, streams, NULL, 1, &o, &s)) t5g_print_error(); */
#ifndef T5G_CHRF_H
#define T5G_CHRF_H
#include <stddef.h>

#define CHRF_MAX_ORDER 64 /* char_order + word_order */

typedef struct {
    int char_order;    /* default 6 */
    int word_order;    /* default 0; 2 = chrF++ */
    int beta;          /* default 2 */
    int lowercase;     /* Python str.lower() first */
    int whitespace;    /* keep whitespace in character n-grams */
    int eps_smoothing; /* chrF++.py / Moses / NLTK epsilon smoothing instead of effective order */
} chrf_opts;

typedef struct {
    double score;                        /* 0..100 */
    long long stats[3 * CHRF_MAX_ORDER]; /* per order: hyp, ref, match (summed over segments) */
    int nrefs;                           /* references per segment; -1 = varies ("var") */
} chrf_score;

void chrf_opts_default(chrf_opts *o);

/* Corpus chrF.  hyps[i] (length hyp_lens[i], or strlen if NULL), i < n; refs[r][i] is segment
 * i of reference stream r (NULL entry = Python None: skipped; every segment needs one).
 * n == 0 is an error (sacreBLEU cannot score it).  Invalid UTF-8 is an error. */
int chrf_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
                const size_t *const *ref_lens, size_t nstreams, const chrf_opts *o, chrf_score *out);
/* CHRF.sentence_score of one hypothesis against nrefs references. */
int chrf_sentence(const char *hyp, const char *const *refs, size_t nrefs, const chrf_opts *o, chrf_score *out);
/* _compute_f_score of summed statistics (3 * (char_order + word_order) values). */
double chrf_f_score(const long long *stats, const chrf_opts *o);

/* "chrF2", "chrF2++" (beta, then one '+' per word order). */
void chrf_name(const chrf_opts *o, char *buf, size_t n);
/* "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0" or the short form
 * "#:1|c:mixed|e:yes|nc:6|nw:0|s:no|v:2.6.0".  0, or -1 if buf is small. */
int chrf_signature(const chrf_opts *o, int nrefs, int short_form, char *buf, size_t n);

#endif
