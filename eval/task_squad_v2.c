/* task_squad_v2.c - SQuAD v2.0 (dev set, 11,873 questions).
 *   Scoring: the official evaluate-v2.0 computation over the evaluated questions; the answer
 *   "unanswerable" (--no-answer) means no answer ("").
 *   lm-eval export: the official values, mean_stderr over the per-sample EM / F1. */
#include "tasks.h"
#include "core/json.h"
#include "squad.h"
#include "core/err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *squad_prompt(const cJSON *s) {
    const char *a, *b;
    T5G_CHECK_NULL((a = task_field(s, "question")) && (b = task_field(s, "context")),
                   "sample lacks \"question\"/\"context\"");
    return task_concat("question: ", a, " context: ", b);
}

static int squad_check(const cJSON *s) {
    T5G_CHECK(task_field(s, "question") && task_field(s, "context"), "sample lacks \"question\"/\"context\" (strings)");
    T5G_CHECK(task_string_array(cJSON_GetObjectItemCaseSensitive(s, "answers"), 0),
              "sample's \"answers\" must be a list of strings ([] when unanswerable)");
    return 0;
}

static const char *or_empty(const char *s) {
    return s ? s : "";
}

/* The sample as one article of the official dataset JSON (answer_start unused: 0). */
static void squad_add_article(cJSON *arts, const cJSON *x) {
    cJSON *art = cJSON_CreateObject(), *paras = cJSON_AddArrayToObject(art, "paragraphs"), *p = cJSON_CreateObject();
    cJSON_AddStringToObject(art, "title", or_empty(task_field(x, "title")));
    cJSON_AddStringToObject(p, "context", or_empty(task_field(x, "context")));
    cJSON *qas = cJSON_AddArrayToObject(p, "qas"), *qa = cJSON_CreateObject();
    cJSON_AddItemToObject(qa, "id", cJSON_Duplicate(cJSON_GetObjectItem(x, "id"), 1));
    cJSON_AddStringToObject(qa, "question", or_empty(task_field(x, "question")));
    cJSON *ans = cJSON_AddArrayToObject(qa, "answers"), *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(x, "answers")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", cJSON_IsString(a) ? a->valuestring : "");
        cJSON_AddNumberToObject(o, "answer_start", 0);
        cJSON_AddItemToArray(ans, o);
    }
    cJSON_AddItemToArray(qas, qa);
    cJSON_AddItemToArray(paras, p);
    cJSON_AddItemToArray(arts, art);
}

/* Per-sample EM / F1 in percent: max over gold answers ("" when unanswerable), as the
 * official script. */
static void squad_sample_scores(task_sample *s, const char *pred) {
    double em = 0, f1 = 0;
    int ng = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(s->sample, "answers")) {
        if (!cJSON_IsString(a)) continue;
        char *norm = squad_normalize_answer(a->valuestring, strlen(a->valuestring));
        int empty = !norm || !*norm;
        free(norm);
        if (empty) continue;
        ng++;
        em = fmax(em, squad_compute_exact(a->valuestring, pred));
        f1 = fmax(f1, squad_compute_f1(a->valuestring, pred));
    }
    if (!ng) {
        em = squad_compute_exact("", pred);
        f1 = squad_compute_f1("", pred);
    }
    s->metric = 100 * f1;
    s->metric2 = 100 * em;
}

/* The official result of the dataset / predictions JSON into m ("official", "no_answer"). */
static int squad_official(const char *dj, const char *pj, const task_opts *opt, cJSON *m, double *primary) {
    squad2_opts o;
    squad2_opts_default(&o);
    squad2_result r;
    memset(&r, 0, sizeof r);
    int rc = dj && pj ? squad2_evaluate(dj, strlen(dj), pj, strlen(pj), NULL, 0, &o, &r) : T5G_FAIL("out of memory");
    if (!rc) {
        char *txt = squad2_format(&r, 0); /* the official script's digits, kept as printed */
        int oom = 0;
        cJSON *off = txt ? t5g_json_parse(txt, strlen(txt), NULL, 0, &oom, "the SQuAD result") : NULL;
        if (!txt || oom) rc = -1; /* out of memory: squad2_format / t5g_json_parse said so */
        else if (!off) rc = T5G_FAIL("internal: cannot read the SQuAD result");
        else {
            cJSON_Delete(off);
            cJSON_AddRawToObject(m, "official", txt);
            cJSON *na = cJSON_AddObjectToObject(m, "no_answer");
            cJSON_AddStringToObject(na, "string", opt->no_answer);
            cJSON_AddStringToObject(na, "rule", TASK_NO_ANSWER_RULE);
            *primary = r.f1;
        }
        free(txt);
    }
    squad2_result_free(&r);
    return rc;
}

/* The official computation over a dataset JSON built from the samples. */
static int squad_score(task_sample *s, int n, const task_opts *opt, cJSON *m, double *primary) {
    cJSON *data = cJSON_CreateObject(), *preds = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "version", "v2.0");
    cJSON *arts = cJSON_AddArrayToObject(data, "data");
    for (int i = 0; i < n; i++) {
        squad_add_article(arts, s[i].sample);
        const char *pred = task_is_no_answer(s[i].prediction, opt->no_answer) ? "" : s[i].prediction;
        cJSON_AddStringToObject(preds, or_empty(task_field(s[i].sample, "id")), pred);
        squad_sample_scores(&s[i], pred);
    }
    char *dj = t5g_json_print(data, 0, "the SQuAD data"),
         *pj = dj ? t5g_json_print(preds, 0, "the SQuAD predictions") : NULL;
    cJSON_Delete(data);
    cJSON_Delete(preds);
    int rc = squad_official(dj, pj, opt, m, primary);
    free(dj);
    free(pj);
    return rc;
}

/* lm-eval: the official values (metrics.official), stderr over the per-sample EM / F1. */
static int squad_lmeval(const lmeval_run *r, lmeval_metric *m, int *nm) {
    static const char *const keys[6] = {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1"};
    const cJSON *off = lmeval_path(r->res, "metrics", "official");
    double *x = malloc(sizeof(double) * (size_t)r->n * 6);
    int cnt[6] = {0}, rc = x ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < r->n && !rc; i++) {
        double e, f;
        const cJSON *refs = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
        if ((rc = lmeval_sample_num(r, i, "exact", &e)) || (rc = lmeval_sample_num(r, i, "f1", &f))) break;
        if (!cJSON_IsArray(refs)) {
            rc = T5G_FAIL("%s: sample %d: \"references\" must be a list", r->file, i + 1);
            break;
        }
        int g = cJSON_GetArraySize(refs) > 0 ? 2 : 4; /* HasAns or NoAns (official: bool(answers)) */
        x[(size_t)0 * r->n + cnt[0]++] = e;
        x[(size_t)1 * r->n + cnt[1]++] = f;
        x[(size_t)g * r->n + cnt[g]++] = e;
        x[(size_t)(g + 1) * r->n + cnt[g + 1]++] = f;
    }
    int k2 = 0;
    for (int k = 0; k < 6 && !rc; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(off, keys[k]);
        if (!v && k >= 2 && !cnt[k]) continue; /* no such questions: the official block is absent */
        if (!cJSON_IsNumber(v)) {
            rc = T5G_FAIL("%s/results.json: metrics.official.%s is missing", r->dir, keys[k]);
            break;
        }
        snprintf(m[k2].name, sizeof m[k2].name, "%s", keys[k]);
        m[k2].value = v->valuedouble;
        lmeval_set_mean_stderr(&m[k2++], x + (size_t)k * r->n, cnt[k]);
    }
    if (!rc) *nm = k2;
    free(x);
    return rc;
}

const task_info task_squad_v2 = {
    .name = "squad-v2",
    .prompt_prefix = "question: {question} context: {context}",
    .primary = "F1",
    .model_card = 85.3,
    .official_samples = 11873, /* SQuAD v2.0 dev */
    .refs_key = "answers",
    .sample_metric = "f1",
    .sample_metric2 = "exact",
    .lmeval_aggregation = "mean",
    .prompt = squad_prompt,
    .check_sample = squad_check,
    .score = squad_score,
    .lmeval_metrics = squad_lmeval,
};
