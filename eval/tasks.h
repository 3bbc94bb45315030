/* tasks.h - the benchmark tasks: prompt templates (docs/evaluation.md, the table of tasks),
 * references, and scoring with the C scorers.  A sample is one line of a prepared shard
 * (datasets/README.md).
 *
 * A task is one file, eval/task_<name>.c, defining one `const task_info` (its table row and
 * functions), and its name in the registry (TASKS in eval/tasks.c). */
#ifndef T5G_TASKS_H
#define T5G_TASKS_H
#include "lmeval.h"
#include <cJSON.h>
#include <stddef.h>

/* The no-answer convention for SQuAD v2: a generative model answers this string (the demo
 * model is trained to), and it is scored as "" (no answer).  --no-answer changes the string;
 * the match ignores case, surrounding white space and one trailing period. */
#define SQUAD_NO_ANSWER     "unanswerable"
#define TASK_NO_ANSWER_RULE "case-insensitive; surrounding white space and one trailing '.' ignored"

typedef struct {
    const char *no_answer; /* SQuAD v2: the prediction that means "no answer" */
} task_opts;
void task_opts_default(task_opts *o);

/* One evaluated sample. */
typedef struct {
    cJSON *sample;    /* the shard line (owned) */
    char *prediction; /* the model's text (owned) */
    double metric;    /* per-sample metric (sentence BLEU, ROUGE-2 F, SQuAD F1) */
    double metric2;   /* (SQuAD EM) */
} task_sample;

typedef struct {
    const char *name;               /* "wmt14-en-fr" ... */
    const char *prompt_prefix;      /* documentation of the template */
    const char *primary;            /* "BLEU", "ROUGE-2", "F1" */
    double model_card;              /* the number the model card reports */
    long official_samples;          /* size of the official full set (reportable runs only) */
    const char *refs_key;           /* the shard sample's references ("refs", "highlights", "answers") */
    const char *sample_metric;      /* samples.jsonl name of task_sample.metric ("sentence_bleu", ...) */
    const char *sample_metric2;     /* ... and of metric2, written before it (NULL: none) */
    const char *lmeval_aggregation; /* lm-eval's metric_list aggregation ("bleu", "mean") */
    /* Prompt text (malloc'd); NULL + error when a field is missing. */
    char *(*prompt)(const cJSON *sample);
    /* The task's fields in their types (the shared "index" check is task_check_sample's). */
    int (*check_sample)(const cJSON *sample);
    /* Fill each sample's metric(s), add the results "metrics" to m, set *primary.  n > 0. */
    int (*score)(task_sample *s, int n, const task_opts *opt, cJSON *m, double *primary);
    /* The lm-eval export's metrics (recomputed from samples.jsonl, checked against results.json):
     * at most LMEVAL_MAX_METRICS, in output order, count in *nm. */
    int (*lmeval_metrics)(const lmeval_run *r, lmeval_metric *m, int *nm);
} task_info;

const task_info *task_find(const char *name); /* NULL + error listing the tasks */
int task_count(void);                         /* the registered tasks, in order */
const task_info *task_at(int i);              /* NULL outside 0..task_count()-1 */
/* The registered names into buf: "a, b or c" with sep ", " and last " or " (cap >= 1). */
void task_names(char *buf, size_t cap, const char *sep, const char *last);

/* Prompt text for one shard sample (malloc'd). */
char *task_prompt(const task_info *t, const cJSON *sample);

/* A shard sample has what the task needs: "index", the prompt fields, the references in
 * their types.  Checked for every sample before any generation. */
int task_check_sample(const task_info *t, const cJSON *sample);

/* Score all samples: fills each sample's metric and returns the results "metrics" object
 * and the primary value.  Samples must be in a deterministic order (by "index"). */
int task_score(const task_info *t, task_sample *s, int n, const task_opts *opt, cJSON **metrics, double *primary);

/* ---- helpers for the task files ---- */
/* Does pred mean "no answer" (TASK_NO_ANSWER_RULE)? */
int task_is_no_answer(const char *pred, const char *no_answer);
/* T5's rougeLsum preparation (" . " -> " .\n"), malloc'd; NULL when out of memory. */
char *task_t5_sentences(const char *s);
/* Add a metric as Python's repr prints it (json.dumps digits): what the reference tools print. */
void task_add_float(cJSON *obj, const char *key, double v);
/* The string member key of s, or NULL. */
const char *task_field(const cJSON *s, const char *key);
/* a b c d concatenated (malloc'd; NULL when out of memory). */
char *task_concat(const char *a, const char *b, const char *c, const char *d);
/* Is a an array of at least min strings? */
int task_string_array(const cJSON *a, int min);
#endif
