/* squad.h - the official SQuAD v2.0 evaluation (evaluate-v2.0.py), bit for bit.
 *
 * Per question: normalize = lower -> drop ASCII punctuation -> remove the words a/an/the
 * (Unicode \b) -> collapse whitespace; EM and token F1 against every gold answer that
 * normalizes to something (else against ""), max over golds.  Aggregates: exact/f1/total,
 * HasAns_* and NoAns_* blocks, the --na-prob-thresh rule and, with na-probs, best_exact /
 * best_f1 and their thresholds.  Sums run left to right in double as CPython 3.11's sum()
 * does; floats print as Python repr, so the JSON text is byte-identical to the script's.
 *
 * Missing predictions: the official script prints "Missing prediction for <qid>" for each
 * and then stops with a KeyError while building HasAns/NoAns - it never scores them.  We
 * report the same lines (squad2_result.missing_log) and fail with one clear error, unless
 * opts.missing_as_empty is set (an extension: the prediction counts as "", na-prob 0.0).
 *
 * Inputs are JSON texts as read from the files (UTF-8).  Deliberate limits (clear errors,
 * the official script would crash or behave arbitrarily): question ids and predictions
 * must be strings, answers a list of {"text": str}, na-probs numbers other than NaN. */
#ifndef T5G_SQUAD_H
#define T5G_SQUAD_H
#include <stddef.h>

typedef struct {
    double na_prob_thresh; /* --na-prob-thresh, default 1.0: predict "" above it */
    int missing_as_empty;  /* 0 = official behaviour (fail), 1 = score a missing prediction as "" */
    int pr_analysis;       /* --out-image-dir: with na-probs, pr_*_ap keys and the plot data */
} squad2_opts;

/* One precision-recall curve of make_precision_recall_eval: points (recall[i], precision[i]),
 * starting at (0, 1). */
typedef struct {
    double *recall, *precision;
    size_t n;
} squad2_curve;

typedef struct {
    double exact, f1;
    long long total;
    int has_ans_block, no_ans_block, best_block; /* which key groups are present */
    double has_exact, has_f1, no_exact, no_f1;
    long long has_total, no_total;
    double best_exact, best_f1;
    char best_exact_thresh[64], best_f1_thresh[64]; /* JSON text, e.g. "0.1", "0", "0.0" */
    int pr_block; /* pr_exact_ap, pr_f1_ap, pr_oracle_ap present (na-probs, pr_analysis, some HasAns) */
    double pr_exact_ap, pr_f1_ap, pr_oracle_ap;
    squad2_curve pr[3];     /* exact, f1, oracle curves (with pr_block) */
    double *na_has, *na_no; /* with na-probs and pr_analysis: the probabilities of the HasAns / */
    size_t n_has, n_no;     /* NoAns questions in dataset order (the histograms' data) */
    size_t n_missing;
    char *missing_log;      /* "Missing prediction for <qid>\n" lines, or NULL; free with squad2_result_free */
    size_t missing_log_len; /* bytes in missing_log (ids may contain NUL) */
} squad2_result;

void squad2_opts_default(squad2_opts *o);

/* normalize_answer(s) of the official script as a malloc'd NUL-terminated string (NULL on
 * error, e.g. invalid UTF-8). */
char *squad_normalize_answer(const char *s, size_t n);
/* compute_exact / compute_f1 for one gold and one prediction (NUL-terminated UTF-8).
 * Return the score, or -1 on invalid input (error recorded). */
int squad_compute_exact(const char *gold, const char *pred);
double squad_compute_f1(const char *gold, const char *pred);

/* Whole evaluation.  na_json may be NULL (no --na-prob-file: every prob is 0.0 and no
 * best_* keys).  Returns 0, or -1 with one error line; res->missing_log is filled in both
 * cases when predictions are missing. */
int squad2_evaluate(const char *data_json, size_t data_len, const char *pred_json, size_t pred_len, const char *na_json,
                    size_t na_len, const squad2_opts *o, squad2_result *res);

/* json.dumps(out_eval, indent=2) (pretty=1, what the script prints) or json.dump(out_eval)
 * (pretty=0, what it writes to --out-file); malloc'd, no trailing newline. */
char *squad2_format(const squad2_result *r, int pretty);
void squad2_result_free(squad2_result *r);

/* --out-image-dir: draw pr_exact.png, pr_f1.png, pr_oracle.png (with pr_block) and
 * na_prob_hist_hasAns.png / na_prob_hist_noAns.png (when those questions exist) into DIR
 * (created) with gnuplot, as the official script's matplotlib plots.  0, 1 when gnuplot
 * cannot be started, -1 on error.  squad_plot.c. */
int squad2_draw_plots(const squad2_result *r, const char *dir, const char *gnuplot);

#endif
