/* tasks.h - the three benchmark tasks: prompt templates (metrics.md §6), references, and
 * scoring with the C scorers.  A sample is one line of a prepared shard (datasets/README.md). */
#ifndef T5G_TASKS_H
#define T5G_TASKS_H
#include <cJSON.h>

typedef enum { TASK_WMT14_EN_FR, TASK_CNN_DM, TASK_SQUAD_V2 } task_id;

/* The no-answer convention for SQuAD v2: a generative model answers this string (the demo
 * model is trained to), and it is scored as "" (no answer).  --no-answer changes the string;
 * the match ignores case, surrounding white space and one trailing period. */
#define SQUAD_NO_ANSWER     "unanswerable"
#define TASK_NO_ANSWER_RULE "case-insensitive; surrounding white space and one trailing '.' ignored"

typedef struct {
    const char *no_answer; /* SQuAD v2: the prediction that means "no answer" */
} task_opts;
void task_opts_default(task_opts *o);
/* Does pred mean "no answer" (TASK_NO_ANSWER_RULE)? */
int task_is_no_answer(const char *pred, const char *no_answer);
/* T5's rougeLsum preparation (" . " -> " .\n"), malloc'd; NULL when out of memory. */
char *task_t5_sentences(const char *s);
/* Add a metric as Python's repr prints it (json.dumps digits): what the reference tools print. */
void task_add_float(cJSON *obj, const char *key, double v);

typedef struct {
    const char *name; /* "wmt14-en-fr" ... */
    task_id id;
    const char *prompt_prefix; /* documentation of the template */
    const char *primary;       /* "BLEU", "ROUGE-2", "F1" */
    double model_card;         /* the number the model card reports */
    long official_samples;     /* size of the official full set (reportable runs only) */
    const char *refs_key;      /* the shard sample's references ("refs", "highlights", "answers") */
    const char *sample_metric; /* samples.jsonl name of task_sample.metric ("sentence_bleu", ...) */
    const char *sample_metric2; /* ... and of metric2, written before it (NULL: none) */
} task_info;

const task_info *task_find(const char *name); /* NULL + error listing the tasks */

/* Prompt text for one shard sample (malloc'd). */
char *task_prompt(const task_info *t, const cJSON *sample);

/* A shard sample has what the task needs: "index", the prompt fields, the references in
 * their types.  Checked for every sample before any generation. */
int task_check_sample(const task_info *t, const cJSON *sample);

/* One evaluated sample. */
typedef struct {
    cJSON *sample;    /* the shard line (owned) */
    char *prediction; /* the model's text (owned) */
    double metric;    /* per-sample metric (sentence BLEU, ROUGE-2 F, SQuAD F1) */
    double metric2;   /* (SQuAD EM) */
} task_sample;

/* Score all samples: fills each sample's metric and returns the results "metrics" object
 * and the primary value.  Samples must be in a deterministic order (by "index"). */
int task_score(const task_info *t, task_sample *s, int n, const task_opts *opt, cJSON **metrics, double *primary);
#endif
