/* lmeval.h - a `t5g eval` run as an lm-evaluation-harness results file (the JSON that
 * `lm_eval --output_path` writes and its tooling reads: lm_eval.utils.make_table, the
 * leaderboard scripts, zeno/wandb loggers).
 *
 * Layout (lm-eval 0.4.x): "results" {task: {"alias", "name", "sample_len", "<metric>,none",
 * "<metric>_stderr,none"}}, "group_subtasks", "configs" (task config: output_type
 * generate_until, doc_to_text, metric_list, generation_kwargs, metadata), "versions",
 * "n-shot", "higher_is_better", "n-samples" {task: {"original", "effective"}}, "config"
 * (model, model_args, batch_size, device, limit, bootstrap_iters, seeds), "git_hash", "date",
 * env info, "model_source", "model_name", "model_name_sanitized", start/end time,
 * "total_evaluation_time_seconds", "task_hashes".
 *
 * Values are the run's (results.json, Python repr digits).  Standard errors as lm-eval
 * computes them (lm_eval.api.metrics):
 *   bleu     corpus-level, bootstrappable: bootstrap_stderr(bleu, items, iters=100) - lm-eval
 *            caps bleu/chrf/ter at min(bootstrap_iters, 100) - i.e. random.Random(0),
 *            100 x rnd.choices(items, k=n), corpus BLEU of each, sample_stddev of the 100.
 *   rouge*, exact, f1 and the HasAns_/NoAns_ breakdown: mean-aggregated per-sample values,
 *            mean_stderr = sample_stddev / sqrt(n) (n - 1 in the variance).
 *   one sample (or an empty breakdown): "N/A", as lm-eval.
 * The per-sample values are recomputed from samples.jsonl and checked against results.json
 * (a mismatch is an error: the export would describe another run). */
#ifndef T5G_LMEVAL_H
#define T5G_LMEVAL_H

#include <cJSON.h>

#define LMEVAL_BLEU_ITERS  100 /* min(bootstrap_iters = 100000, 100) in lm-eval */
#define LMEVAL_MAX_METRICS 8   /* per task */

/* Read RUN_DIR/results.json and RUN_DIR/samples.jsonl, write the lm-eval JSON to OUT_PATH
 * (temp file + rename).  0, or -1 with one error recorded. */
int lmeval_export(const char *run_dir, const char *out_path);

/* lm-eval's sample_stddev and mean_stderr (left-to-right sums as CPython 3.11's sum()). */
double lmeval_sample_stddev(const double *x, int n);
double lmeval_mean_stderr(const double *x, int n);

/* ---- for the tasks' lmeval_metrics (task_info): the run being exported ---- */
typedef struct {
    const char *dir;
    cJSON *res;      /* results.json */
    cJSON **s;       /* samples.jsonl lines */
    int n;           /* ... how many (> 0) */
    char file[4200]; /* samples.jsonl path, for messages */
} lmeval_run;

/* One metric of a task, in output order. */
typedef struct {
    char name[32];
    double value, stderr_;
    int has_stderr;
} lmeval_metric;

/* o[a] or o[a][b] (b NULL: o[a]); NULL when missing. */
const cJSON *lmeval_path(const cJSON *o, const char *a, const char *b);
/* Sample i's number key, or -1 + error. */
int lmeval_sample_num(const lmeval_run *r, int i, const char *key, double *v);
/* m's stderr: lm-eval's mean_stderr of the n per-sample values ("N/A" for n < 2). */
void lmeval_set_mean_stderr(lmeval_metric *m, const double *x, int n);
#endif
