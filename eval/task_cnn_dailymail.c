/* task_cnn_dailymail.c - CNN/DailyMail 3.0.0 summarization (test split, 11,490 articles).
 *   Scoring: rouge-score rouge1/rouge2/rougeL/rougeLsum F, no stemming (T5 and HF evaluate
 *   default), plain mean; predictions get T5's " . " -> " .\n" sentence split for rougeLsum;
 *   highlights are already one sentence per line.
 *   lm-eval export: the four mean F-measures, mean_stderr over the per-sample values. */
#include "tasks.h"
#include "rouge.h"
#include "core/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CNN_ROUGE_TYPES "rouge1,rouge2,rougeL,rougeLsum"

static char *cnn_prompt(const cJSON *s) {
    const char *a;
    T5G_CHECK_NULL((a = task_field(s, "article")), "sample lacks \"article\"");
    return task_concat("summarize: ", a, "", "");
}

static int cnn_check(const cJSON *s) {
    T5G_CHECK(task_field(s, "article"), "sample lacks \"article\" (string)");
    T5G_CHECK(task_field(s, "highlights"), "sample lacks \"highlights\" (string)");
    return 0;
}

/* The results "metrics": the means in percent and how they were computed. */
static void cnn_add_means(cJSON *m, const rouge_type *types, int nt, const rouge_score *mean) {
    for (int t = 0; t < nt; t++) {
        char name[32];
        cJSON *o = cJSON_AddObjectToObject(m, rouge_type_name(types[t], name, sizeof name));
        task_add_float(o, "precision", mean[t].precision * 100);
        task_add_float(o, "recall", mean[t].recall * 100);
        task_add_float(o, "fmeasure", mean[t].fmeasure * 100);
    }
    cJSON_AddBoolToObject(m, "stemming", 0);
    cJSON_AddStringToObject(m, "aggregation", "mean");
    cJSON_AddStringToObject(m, "scale", "x100 (F-measure in percent)");
    cJSON_AddStringToObject(m, "sentence_split",
                            "T5's ' . ' -> ' .\\n' on highlights and predictions (highlights' own newlines kept)");
}

static int cnn_score(task_sample *s, int n, const task_opts *opt, cJSON *m, double *primary) {
    rouge_type types[4];
    int nt = 0;
    T5G_TRY(rouge_parse_types(CNN_ROUGE_TYPES, types, 4, &nt));
    rouge_scorer *sc = rouge_scorer_new(types, nt, 0);
    if (!sc) return -1; /* rouge_scorer_new said why */
    rouge_score *rows = malloc(sizeof(rouge_score) * n * nt);
    int rc = rows ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < n && !rc; i++) {
        const char *hl = task_field(s[i].sample, "highlights");
        char *pred = task_t5_sentences(s[i].prediction), *tgt = hl ? task_t5_sentences(hl) : NULL;
        if (!hl) rc = T5G_FAIL("sample %d lacks \"highlights\"", i);
        else if (!tgt || !pred) rc = T5G_FAIL("out of memory splitting sample %d into sentences", i);
        else rc = rouge_score_pair(sc, tgt, strlen(tgt), pred, strlen(pred), rows + (size_t)i * nt);
        free(pred);
        free(tgt);
        if (!rc) s[i].metric = rows[(size_t)i * nt + 1].fmeasure * 100; /* ROUGE-2 F */
    }
    rouge_score mean[4];
    if (!rc) rc = rouge_mean(rows, n, nt, mean);
    if (!rc) {
        cnn_add_means(m, types, nt, mean);
        *primary = mean[1].fmeasure * 100;
    }
    free(rows);
    rouge_scorer_free(sc);
    return rc;
}

/* lm-eval: sample i's ROUGE F of each type (x[k * n + i], fractions) recomputed; ROUGE-2 x 100
 * must equal samples.jsonl's rouge2_f. */
static int cnn_sample_rouge(const lmeval_run *r, rouge_scorer *sc, int i, double *x) {
    const char *pred = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->s[i], "prediction"));
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
    /* the highlights as one string, or a list holding that one string */
    const char *hl =
        cJSON_GetStringValue(cJSON_IsArray(ref) && cJSON_GetArraySize(ref) == 1 ? cJSON_GetArrayItem(ref, 0) : ref);
    T5G_CHECK(pred && hl, "%s: sample %d needs \"prediction\" and \"references\" strings", r->file, i + 1);
    char *p = task_t5_sentences(pred), *t = task_t5_sentences(hl);
    rouge_score out[4];
    int rc = p && t ? rouge_score_pair(sc, t, strlen(t), p, strlen(p), out) : T5G_FAIL("out of memory");
    free(p);
    free(t);
    double stored;
    if (!rc) rc = lmeval_sample_num(r, i, "rouge2_f", &stored);
    for (int k = 0; k < 4 && !rc; k++) x[(size_t)k * r->n + i] = out[k].fmeasure;
    if (!rc && stored != x[(size_t)r->n + i] * 100)
        rc = T5G_FAIL("%s: sample %d: rouge2_f %.17g but the prediction scores %.17g", r->file, i + 1, stored,
                      x[(size_t)r->n + i] * 100);
    return rc;
}

/* lm-eval: each mean must equal results.json's fmeasure; stderr over the per-sample values. */
static int cnn_lmeval(const lmeval_run *r, lmeval_metric *m, int *nm) {
    rouge_type types[4];
    int nt = 0, rc;
    T5G_TRY(rouge_parse_types(CNN_ROUGE_TYPES, types, 4, &nt));
    rouge_scorer *sc = rouge_scorer_new(types, nt, 0);
    double *x = malloc(sizeof(double) * (size_t)r->n * 4);
    rc = sc && x ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < r->n && !rc; i++) rc = cnn_sample_rouge(r, sc, i, x);
    for (int k = 0; k < 4 && !rc; k++) {
        char name[16];
        rouge_type_name(types[k], name, sizeof name);
        const cJSON *f = lmeval_path(lmeval_path(r->res, "metrics", name), "fmeasure", NULL);
        if (!cJSON_IsNumber(f)) {
            rc = T5G_FAIL("%s/results.json: metrics.%s.fmeasure is missing", r->dir, name);
            break;
        }
        double s = 0, *xk = x + (size_t)k * r->n;
        for (int i = 0; i < r->n; i++) s += xk[i];
        if (s / r->n * 100 != f->valuedouble) /* rouge_mean, then x 100 as cnn_score */
            rc = T5G_FAIL("%s: mean %s F %.17g but results.json says %.17g: the files are from different runs", r->file,
                          name, s / r->n * 100, f->valuedouble);
        for (int i = 0; i < r->n; i++) xk[i] *= 100; /* per-sample values in percent */
        snprintf(m[k].name, sizeof m[k].name, "%s", name);
        m[k].value = f->valuedouble;
        lmeval_set_mean_stderr(&m[k], xk, r->n);
    }
    if (!rc) *nm = 4;
    rouge_scorer_free(sc);
    free(x);
    return rc;
}

const task_info task_cnn_dailymail = {
    .name = "cnn-dailymail",
    .prompt_prefix = "summarize: {article}",
    .primary = "ROUGE-2",
    .model_card = 18.2,
    .official_samples = 11490, /* CNN/DM 3.0.0 test */
    .refs_key = "highlights",
    .sample_metric = "rouge2_f",
    .sample_metric2 = NULL,
    .lmeval_aggregation = "mean",
    .prompt = cnn_prompt,
    .check_sample = cnn_check,
    .score = cnn_score,
    .lmeval_metrics = cnn_lmeval,
};
