/* task_wmt14.c - WMT14 English -> French (newstest2014, 3,003 sentences).
 *   Scoring: sacreBLEU corpus BLEU, tokenize 13a (sacreBLEU default; primary) and intl (T5's
 *   setting), smooth exp, mixed case; per sample: sentence BLEU (13a, effective order).
 *   lm-eval export: corpus BLEU with lm-eval's bootstrap_stderr (lmeval.h). */
#include "tasks.h"
#include "bleu.h"
#include "mt19937.h"
#include "core/err.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *wmt_prompt(const cJSON *s) {
    const char *a;
    T5G_CHECK_NULL((a = task_field(s, "src")), "sample lacks \"src\"");
    return task_concat("translate English to French: ", a, "", "");
}

static int wmt_check(const cJSON *s) {
    T5G_CHECK(task_field(s, "src"), "sample lacks \"src\" (string)");
    T5G_CHECK(task_string_array(cJSON_GetObjectItemCaseSensitive(s, "refs"), 1),
              "sample lacks \"refs\" (a list of strings)");
    return 0;
}

/* Corpus BLEU with tokenizer 13a (k = 0, "bleu") or intl (k = 1, "bleu_intl") into m. */
static int wmt_corpus(const char **hyps, const char ***streams, int n, int nrefs, int k, cJSON *m, double *primary) {
    static const char *const names[2] = {"bleu", "bleu_intl"};
    bleu_opts o;
    bleu_opts_default(&o);
    o.tokenize = k ? BLEU_TOK_INTL : BLEU_TOK_13A;
    bleu_score sc;
    char sig[256], text[1024];
    T5G_TRY(bleu_corpus(hyps, NULL, n, (const char *const *const *)streams, NULL, nrefs, &o, &sc));
    bleu_signature(&o, sc.nrefs, 0, sig, sizeof sig);
    bleu_format(&sc, &o, 2, 0, 0, 0, text, sizeof text);
    cJSON *b = cJSON_AddObjectToObject(m, names[k]);
    task_add_float(b, "score", sc.score);
    cJSON_AddStringToObject(b, "signature", sig);
    cJSON_AddStringToObject(b, "text", text);
    task_add_float(b, "bp", sc.bp);
    cJSON_AddNumberToObject(b, "sys_len", (double)sc.sys_len);
    cJSON_AddNumberToObject(b, "ref_len", (double)sc.ref_len);
    if (k == 0) *primary = sc.score;
    return 0;
}

/* Corpus BLEU (13a and intl), sentence BLEU per sample. */
static int wmt_score(task_sample *s, int n, const task_opts *opt, cJSON *m, double *primary) {
    const cJSON *r0 = cJSON_GetObjectItem(s[0].sample, "refs");
    int nrefs = cJSON_GetArraySize(r0);
    T5G_CHECK(nrefs >= 1, "wmt14 samples need \"refs\"");
    const char **hyps = malloc(sizeof(char *) * n);
    const char ***streams = calloc(nrefs, sizeof(char **));
    int rc = hyps && streams ? 0 : T5G_FAIL("out of memory scoring %d samples", n);
    for (int r = 0; r < nrefs && !rc; r++)
        if (!(streams[r] = malloc(sizeof(char *) * n))) rc = T5G_FAIL("out of memory scoring %d samples", n);
    for (int i = 0; i < n && !rc; i++) {
        hyps[i] = s[i].prediction;
        const cJSON *refs = cJSON_GetObjectItem(s[i].sample, "refs");
        if (cJSON_GetArraySize(refs) != nrefs)
            rc = T5G_FAIL("sample %d has %d references, expected %d", i, cJSON_GetArraySize(refs), nrefs);
        for (int r = 0; r < nrefs && !rc; r++) streams[r][i] = cJSON_GetArrayItem(refs, r)->valuestring;
    }
    for (int k = 0; k < 2 && !rc; k++) rc = wmt_corpus(hyps, streams, n, nrefs, k, m, primary);
    /* per-sample sentence BLEU (13a, effective order as sacrebleu.sentence_bleu) */
    for (int i = 0; i < n && !rc; i++) {
        bleu_opts o;
        bleu_opts_default(&o);
        o.effective_order = 1;
        const char *refs[16];
        for (int r = 0; r < nrefs && r < 16; r++) refs[r] = streams[r][i];
        bleu_score sc;
        rc = bleu_sentence(hyps[i], refs, nrefs < 16 ? nrefs : 16, &o, &sc);
        s[i].metric = sc.score;
    }
    for (int r = 0; streams && r < nrefs; r++) free(streams[r]);
    free(streams);
    free(hyps);
    return rc;
}

/* lm-eval: per-segment BLEU statistics (4 counts, 4 totals, sys, ref) of each sample. */
static int wmt_segment_stats(const lmeval_run *r, const bleu_opts *o, double (*st)[10]) {
    for (int i = 0; i < r->n; i++) {
        const cJSON *hyp = cJSON_GetObjectItemCaseSensitive(r->s[i], "prediction"),
                    *refs = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
        const char *rv[16];
        int nr = cJSON_GetArraySize(refs);
        T5G_CHECK(cJSON_IsString(hyp) && cJSON_IsArray(refs) && nr >= 1 && nr <= 16,
                  "%s: sample %d needs \"prediction\" and 1..16 \"references\"", r->file, i + 1);
        for (int k = 0; k < nr; k++) {
            rv[k] = cJSON_GetStringValue(cJSON_GetArrayItem(refs, k));
            T5G_CHECK(rv[k], "%s: sample %d: a reference is not a string", r->file, i + 1);
        }
        bleu_score sc;
        T5G_TRY(bleu_sentence(hyp->valuestring, rv, (size_t)nr, o, &sc));
        for (int k = 0; k < 4; k++) {
            st[i][k] = sc.counts[k];
            st[i][4 + k] = sc.totals[k];
        }
        st[i][8] = (double)sc.sys_len;
        st[i][9] = (double)sc.ref_len;
    }
    return 0;
}

/* lm-eval's bootstrap_stderr: chunks of min(1000, iters) draws, chunk i from Random(i);
 * res gets the corpus BLEU of each draw. */
static int wmt_bootstrap(const lmeval_run *r, const bleu_opts *o, double (*st)[10], double *res, int *nres) {
    int iters = LMEVAL_BLEU_ITERS, chunk = iters < 1000 ? iters : 1000;
    for (int c = 0; c < iters / chunk; c++) {
        mt19937 g;
        uint32_t key = (uint32_t)c;
        mt_seed_array(&g, &key, 1);
        for (int b = 0; b < chunk; b++) {
            double t[10] = {0};
            for (int k = 0; k < r->n; k++) {
                int i = (int)floor(mt_py_random(&g) * (double)r->n);
                for (int j = 0; j < 10; j++) t[j] += st[i][j];
            }
            bleu_score sc;
            T5G_TRY(bleu_compute(t, t + 4, (long long)t[8], (long long)t[9], o, &sc));
            res[(*nres)++] = sc.score;
        }
    }
    return 0;
}

/* lm-eval: the corpus score checked against results.json, then its bootstrap stderr. */
static int wmt_lmeval(const lmeval_run *r, lmeval_metric *m, int *nm) {
    const cJSON *score = lmeval_path(lmeval_path(r->res, "metrics", "bleu"), "score", NULL);
    T5G_CHECK(cJSON_IsNumber(score), "%s/results.json: metrics.bleu.score is missing", r->dir);
    double(*st)[10] = calloc((size_t)r->n, sizeof *st);
    T5G_CHECK(st, "out of memory");
    bleu_opts o;
    bleu_opts_default(&o);
    int rc = wmt_segment_stats(r, &o, st);
    double sum[10] = {0};
    for (int i = 0; i < r->n && !rc; i++)
        for (int k = 0; k < 10; k++) sum[k] += st[i][k];
    bleu_score all;
    if (!rc) rc = bleu_compute(sum, sum + 4, (long long)sum[8], (long long)sum[9], &o, &all);
    if (!rc && all.score != score->valuedouble)
        rc = T5G_FAIL("%s gives BLEU %.17g but results.json says %.17g: the files are from different runs", r->file,
                      all.score, score->valuedouble);
    int nres = 0;
    double *res = rc ? NULL : malloc(sizeof(double) * LMEVAL_BLEU_ITERS);
    if (!rc && !res) rc = T5G_FAIL("out of memory");
    if (!rc) rc = wmt_bootstrap(r, &o, st, res, &nres);
    if (!rc) {
        snprintf(m[0].name, sizeof m[0].name, "bleu");
        m[0].value = score->valuedouble;
        m[0].has_stderr = r->n > 1;
        if (r->n > 1) m[0].stderr_ = lmeval_sample_stddev(res, nres);
        *nm = 1;
    }
    free(res);
    free(st);
    return rc;
}

const task_info task_wmt14_en_fr = {
    .name = "wmt14-en-fr",
    .prompt_prefix = "translate English to French: {src}",
    .primary = "BLEU",
    .model_card = 28.5,
    .official_samples = 3003, /* newstest2014 en-fr */
    .refs_key = "refs",
    .sample_metric = "sentence_bleu",
    .sample_metric2 = NULL,
    .lmeval_aggregation = "bleu",
    .prompt = wmt_prompt,
    .check_sample = wmt_check,
    .score = wmt_score,
    .lmeval_metrics = wmt_lmeval,
};
