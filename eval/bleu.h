/* bleu.h - BLEU exactly as sacreBLEU 2.6.0 computes and prints it.
 *
 * Pipeline per segment (hypotheses and references alike): optional Python str.lower(),
 * str.rstrip(), tokenizer (13a | intl | none), split on Python whitespace, n-grams 1..4.
 * Corpus statistics are integer sums; the score follows sacreBLEU's compute_bleu with the
 * same floating-point operation order, so the raw double equals sacreBLEU's on CPython
 * 3.11 (whose sum() is plain left-to-right addition; CPython >= 3.12 compensates sum()
 * and can differ in the last bits - never at the printed widths, docs/evaluation.md).
 *
 * Library use:
 *   bleu_opts o; bleu_opts_default(&o); o.tokenize = BLEU_TOK_INTL;
 *   const char *const *streams[1] = {refs};              // refs[i] = reference of segment i
 *   bleu_score s;
 *   if (bleu_corpus(hyps, NULL, n, streams, NULL, 1, &o, &s)) t5g_print_error();
 *   char line[1024]; bleu_format(&s, &o, 2, 0, 0, 0, line, sizeof line);
 * Strings are UTF-8; invalid UTF-8 is an error that names the segment and byte offset. */
#ifndef T5G_BLEU_H
#define T5G_BLEU_H
#include <stddef.h>

#define BLEU_MAX_ORDER 4
#define BLEU_VERSION   "2.6.0" /* the sacreBLEU version whose output is reproduced */

typedef enum { BLEU_TOK_13A, BLEU_TOK_INTL, BLEU_TOK_NONE } bleu_tokenize;
typedef enum { BLEU_SMOOTH_EXP, BLEU_SMOOTH_FLOOR, BLEU_SMOOTH_ADDK, BLEU_SMOOTH_NONE } bleu_smooth;

typedef struct {
    bleu_tokenize tokenize;    /* default 13a */
    bleu_smooth smooth_method; /* default exp */
    double smooth_value;       /* NaN = method default (floor 0.1, add-k 1); ignored by exp/none */
    int lowercase;             /* Python str.lower() before tokenizing */
    int effective_order;       /* drop orders past the first with no hypothesis n-grams */
    int force;                 /* only silences the "tokenized period" warning, as in sacreBLEU */
    int f32_precisions;        /* bleu_compute: precisions in float32, as sacreBLEU's significance
                                  tests get them (float32 statistics, NumPy 2 scalar rules) */
} bleu_opts;

typedef struct {
    double score;                  /* 0..100 */
    double counts[BLEU_MAX_ORDER]; /* matches; add-k adds k to orders 2..4 as sacreBLEU does */
    double totals[BLEU_MAX_ORDER];
    double precisions[BLEU_MAX_ORDER]; /* percent */
    double bp, ratio;                  /* ratio = sys_len/ref_len (0 if ref_len == 0) */
    long long sys_len, ref_len;
    int nrefs;                        /* references per segment; -1 = varies ("var") */
    long long tokenized_period_lines; /* hypotheses ending in " ." (warning if >= 100 and !force) */
} bleu_score;

void bleu_opts_default(bleu_opts *o);
/* Parse names as the sacreBLEU CLI spells them; -1 if unknown. */
int bleu_tokenize_from_name(const char *name);
int bleu_smooth_from_name(const char *name);
const char *bleu_tokenize_name(bleu_tokenize t); /* "13a", "intl", "none" */
const char *bleu_smooth_name(bleu_smooth s);     /* "exp", "floor", "add-k", "none" */

/* Tokenize one segment as sacreBLEU does before n-gram extraction (lower if asked, rstrip,
 * tokenizer); result appended to *out as a malloc'd NUL-terminated string.  0 / -1. */
int bleu_preprocess(const char *s, size_t len, const bleu_opts *o, char **out, size_t *out_len);

/* Corpus BLEU.  hyps[i] (length hyp_lens[i], or strlen if hyp_lens is NULL), i < n;
 * refs[r][i] is segment i of reference stream r (NULL entry = Python None: skipped),
 * ref_lens likewise optional ([r][i]).  n == 0 is an error (sacreBLEU cannot score it). */
int bleu_corpus(const char *const *hyps, const size_t *hyp_lens, size_t n, const char *const *const *refs,
                const size_t *const *ref_lens, size_t nstreams, const bleu_opts *o, bleu_score *out);

/* Sentence BLEU of one hypothesis against nrefs references (sacreBLEU
 * BLEU.sentence_score).  Note sacrebleu.sentence_bleu() and the CLI's --sentence-level
 * turn effective_order on; set o->effective_order yourself for that. */
int bleu_sentence(const char *hyp, const char *const *refs, size_t nrefs, const bleu_opts *o, bleu_score *out);

/* Score from summed statistics (sacreBLEU compute_bleu); counts/totals are modified by
 * add-k exactly as in sacreBLEU.  Fails only on a math error that sacreBLEU also raises. */
int bleu_compute(const double *correct, const double *total, long long sys_len, long long ref_len, const bleu_opts *o,
                 bleu_score *out);

/* Signature, e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
 * (short_form: "#:1|c:mixed|e:no|tok:13a|s:exp|v:2.6.0").  Returns 0, or -1 if buf is small. */
int bleu_signature(const bleu_opts *o, int nrefs, int short_form, char *buf, size_t n);

/* Score.format(width, score_only, signature, is_json) of sacreBLEU: the text line
 * "BLEU|<sig> = 48.5 73.3/30.4/16.7/7.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)",
 * or the JSON object (indent=1) the CLI prints, or just the score with score_only.
 * short_sig: 0 = long signature, 1 = short (-sh; text only, JSON always uses the long one),
 * -1 = no signature ("BLEU = 48.53 ...", Python's repr(score); not valid with json).
 * No trailing newline.  width must be 0..1000. */
int bleu_format(const bleu_score *s, const bleu_opts *o, int width, int score_only, int json, int short_sig, char *buf,
                size_t n);

#endif
