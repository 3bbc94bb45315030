/* rouge.h - Google's rouge-score 0.1.2 (rouge_score.rouge_scorer / scoring) in C, giving the
 * same doubles as the Python package.
 *
 * Scoring, as RougeScorer(types, use_stemmer).score(target, prediction):
 *   tokens  = maximal runs of [a-z0-9] after Python str.lower() (so ASCII A-Z fold, U+0130
 *             gives "i" then a separator, U+212A KELVIN SIGN gives "k", everything else
 *             separates words); with stemming, tokens longer than 3 chars go through
 *             NLTK's Porter stemmer (porter.h).
 *   rougeN  = clipped n-gram overlap, P = hits/max(#pred n-grams,1), R = hits/max(#target n-grams,1)
 *   rougeL  = LCS of the whole token lists (0,0,0 if either is empty)
 *   rougeLsum = summary-level union LCS over sentences split on "\n" only (or, with
 *             rouge_scorer_split_summaries, by nltk.sent_tokenize), with rouge-score's
 *             backtracking tie rule and hit counting.
 *   F = (2*P*R)/(P+R), or 0 if P+R == 0.
 * Text is UTF-8; bytes that are not part of [A-Za-z0-9], U+0130 or U+212A are separators, so
 * invalid UTF-8 cannot crash the scorer (the CLI rejects it before scoring).
 *
 * Aggregation:
 *   rouge_mean      plain mean per type and measure: left-to-right double sum over examples
 *                   (start 0.0) divided by the count - what T5's metrics.rouge_mean does
 *                   (`+=` loop, then / count) and what Python's sum(xs)/len(xs) gives on
 *                   CPython <= 3.11.  The printed digits equal Python's repr of that value.
 *   rouge_bootstrap rouge-score's BootstrapAggregator: n_samples resamples of the examples
 *                   with replacement, per-sample column means, then numpy.percentile (linear)
 *                   at (1-ci)/2, 50, 1-(1-ci)/2 -> low / mid / high.  The random stream
 *                   reproduces numpy's legacy global RNG exactly (MT19937 init_genrand seeding,
 *                   np.random.choice = masked rejection sampling of 32-bit draws), np.mean's
 *                   axis-0 column sums (plain left-to-right) and numpy's two-sided lerp, so the
 *                   results are bit-identical to `numpy.random.seed(seed);
 *                   BootstrapAggregator(ci, n_samples)` fed the same per-example scores with the
 *                   types in the same order (verified by tests/unit/test_rouge.c against numpy
 *                   2.4.6, and on 11,490 examples x 1000 samples).  rouge-score
 *                   itself never seeds numpy, so its own runs are not reproducible; note that
 *                   `mid` is the median of bootstrap means, not the mean.
 *
 * A rouge_scorer keeps a growing token table and scratch buffers: create one per thread. */
#ifndef T5G_ROUGE_H
#define T5G_ROUGE_H
#include <stddef.h>
#include <stdint.h>

#define ROUGE_MAX_TYPES 16

typedef enum { ROUGE_N = 0, ROUGE_L = 1, ROUGE_LSUM = 2 } rouge_kind;

typedef struct {
    rouge_kind kind;
    int n; /* 1..9 for ROUGE_N, else 0 */
} rouge_type;

typedef struct {
    double precision, recall, fmeasure;
} rouge_score;

typedef struct {
    rouge_score low, mid, high;
} rouge_interval;

typedef struct rouge_scorer rouge_scorer;

/* "rouge1".."rouge9", "rougeL", "rougeLsum" (rouge-score's names; rouge0/rouge10 are errors). */
int rouge_parse_type(const char *name, rouge_type *out);
/* Comma-separated list; duplicates are dropped keeping the first (as rouge-score's result
 * dict does).  *count gets the number of types (1..max).  Returns 0 or -1 (error recorded). */
int rouge_parse_types(const char *list, rouge_type *out, int max, int *count);
/* Name of a type into buf ("rouge2", "rougeLsum"); returns buf. */
const char *rouge_type_name(rouge_type t, char *buf, size_t n);

/* New scorer for ntypes (1..ROUGE_MAX_TYPES) types; NULL on error (recorded). */
rouge_scorer *rouge_scorer_new(const rouge_type *types, int ntypes, int use_stemmer);
void rouge_scorer_free(rouge_scorer *s);

/* rouge-score's split_summaries=True: rougeLsum sentences come from nltk.sent_tokenize
 * (eval/punkt.h) instead of "\n" (text must then be valid UTF-8).  Off by default. */
void rouge_scorer_split_summaries(rouge_scorer *s, int on);

/* RougeScorer.score(target, prediction) - target first.  out[i] is for types[i].
 * Texts are byte ranges (need not be NUL-terminated; NUL is a separator). */
int rouge_score_pair(rouge_scorer *s, const char *target, size_t target_len, const char *prediction,
                     size_t prediction_len, rouge_score *out);

/* Space-joined tokens of text as this scorer sees them (stemmed if it stems), for tests
 * and debugging.  Returns 0, or -1 if buf (capacity n) is too small. */
int rouge_tokens_string(rouge_scorer *s, const char *text, size_t len, char *buf, size_t n);

/* Means of per-example scores.  rows: n_examples x ntypes, row-major (rows[i*ntypes+t]);
 * mean: ntypes results.  n_examples must be > 0. */
int rouge_mean(const rouge_score *rows, size_t n_examples, int ntypes, rouge_score *mean);

/* BootstrapAggregator(confidence_interval=ci, n_samples) after numpy.random.seed(seed);
 * types are resampled in order 0..ntypes-1 (rouge-score uses the order of its rouge_types).
 * ci in [0,1], n_samples > 0.  out: ntypes intervals. */
int rouge_bootstrap(const rouge_score *rows, size_t n_examples, int ntypes, int n_samples, double ci, uint32_t seed,
                    rouge_interval *out);

#endif
