/* ter.h - TER exactly as sacreBLEU 2.6.0's TER computes and prints it.
 *
 * Segments go through sacreBLEU's TercomTokenizer (rstrip; Python str.lower() unless
 * case_sensitive; with `normalized` the Tercom western rules - XML entities, ASCII
 * punctuation split, possessive 's, period/comma unless next to a digit, dash after a
 * digit - and with asian_support CJK characters split one by one; with no_punct
 * [.,?:;!"()] removed, plus CJK / full-width punctuation with asian_support; then
 * whitespace collapsed).  Edits follow lib_ter.py: greedy shifts (at most 10 words, at
 * most 50 positions away, 1000 shift candidates per hypothesis/reference pair in all)
 * ranked as Tercom does, and a beam edit distance (25 cells around the length-scaled
 * diagonal).  Segment statistics: fewest edits over the references and the average
 * reference length; corpus TER = 100 * sum(edits) / sum(average reference lengths).
 *
 * Library use:
 *   ter_opts o; ter_opts_default(&o);
 *   const char *const *streams[1] = {refs};
 *   ter_score s;
 *   if (ter_corpus(hyps, NULL, n, streams, NULL, 1, &o, &s)) t5g_print_error(); */
#ifndef T5G_TER_H
#define T5G_TER_H
#include <stddef.h>

typedef struct {
    int normalized;     /* Tercom normalization */
    int no_punct;       /* remove punctuation */
    int asian_support;  /* CJK handling (only with normalized and/or no_punct) */
    int case_sensitive; /* default off: lowercase everything */
} ter_opts;

typedef struct {
    double score; /* 100 * num_edits / ref_length (100 if no reference word but edits, 0 if neither) */
    long long num_edits;
    double ref_length; /* sum of per-segment average reference lengths */
    int nrefs;         /* references per segment; -1 = varies ("var") */
} ter_score;

void ter_opts_default(ter_opts *o);

/* TercomTokenizer(sent.rstrip()) appended to out (a malloc'd NUL-terminated string). */
int ter_tokenize(const char *s, size_t n, const ter_opts *o, char **out, size_t *out_len);

/* lib_ter.translation_edit_rate on whitespace-split token strings: edits (shifts + beam edit
 * distance) of hyp against ref; *ref_words = number of reference words. */
int ter_edits(const char *hyp, const char *ref, long long *edits, long long *ref_words);

/* Corpus TER; arguments as bleu_corpus (NULL reference entries skipped; n == 0 is an error). */
int ter_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
               const size_t *const *ref_lens, size_t nstreams, const ter_opts *o, ter_score *out);
int ter_sentence(const char *hyp, const char *const *refs, size_t nrefs, const ter_opts *o, ter_score *out);

/* "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0"
 * (short: "#:1|c:lc|t:tercom|nr:no|pn:yes|as:no|v:2.6.0").  0, or -1 if buf is small. */
int ter_signature(const ter_opts *o, int nrefs, int short_form, char *buf, size_t n);

#endif
