/* lmeval.c - see lmeval.h. */
#include "lmeval.h"
#include "bleu.h"
#include "mt19937.h"
#include "rouge.h"
#include "tasks.h"
#include "core/err.h"
#include "core/fileio.h"
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double lmeval_sample_stddev(const double *x, int n) {
    double s = 0, mu, v = 0;
    for (int i = 0; i < n; i++) s += x[i];
    mu = s / n;
    for (int i = 0; i < n; i++) v += (x[i] - mu) * (x[i] - mu);
    return sqrt(v / (n - 1));
}

double lmeval_mean_stderr(const double *x, int n) {
    return lmeval_sample_stddev(x, n) / sqrt((double)n);
}

typedef struct {
    const char *dir;
    cJSON *res; /* results.json */
    cJSON **s;  /* samples.jsonl lines */
    int n;
    char file[4200]; /* samples.jsonl path, for messages */
} run;

static int load_samples(run *r) {
    size_t len;
    snprintf(r->file, sizeof r->file, "%s/samples.jsonl", r->dir);
    char *text = t5g_read_file(r->file, &len);
    if (!text) return -1;
    int cap = 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
    r->s = calloc((size_t)cap, sizeof *r->s);
    int line = 0, rc = r->s ? 0 : T5G_FAIL("out of memory");
    for (char *p = text; !rc && p < text + len;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        if (*p) {
            r->s[r->n] = cJSON_Parse(p);
            if (!cJSON_IsObject(r->s[r->n])) rc = T5G_FAIL("%s:%d: not a JSON object", r->file, line);
            else r->n++;
        }
        p = nl ? nl + 1 : text + len;
    }
    free(text);
    if (!rc && !r->n) rc = T5G_FAIL("%s has no samples", r->file);
    return rc;
}

static const cJSON *path(const cJSON *o, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static int sample_num(const run *r, int i, const char *key, double *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->s[i], key);
    T5G_CHECK(cJSON_IsNumber(x), "%s: sample %d has no number '%s'", r->file, i + 1, key);
    *v = x->valuedouble;
    return 0;
}

/* The metrics of one task, in output order. */
typedef struct {
    char name[32];
    double value, stderr_;
    int has_stderr;
} metric;

static void set_mean_stderr(metric *m, const double *x, int n) {
    m->has_stderr = n > 1;
    if (n > 1) m->stderr_ = lmeval_mean_stderr(x, n);
}

/* WMT: per-segment BLEU statistics, the corpus score checked against results.json, then
 * lm-eval's bootstrap_stderr: chunks of min(1000, iters) draws, chunk i from Random(i). */
static int wmt_metrics(const run *r, metric *m, int *nm) {
    const cJSON *score = path(path(r->res, "metrics", "bleu"), "score", NULL);
    T5G_CHECK(cJSON_IsNumber(score), "%s/results.json: metrics.bleu.score is missing", r->dir);
    double(*st)[10] = calloc((size_t)r->n, sizeof *st); /* 4 counts, 4 totals, sys, ref */
    T5G_CHECK(st, "out of memory");
    bleu_opts o;
    bleu_opts_default(&o);
    int rc = 0;
    for (int i = 0; i < r->n && !rc; i++) {
        const cJSON *hyp = cJSON_GetObjectItemCaseSensitive(r->s[i], "prediction"),
                    *refs = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
        const char *rv[16];
        int nr = cJSON_GetArraySize(refs);
        if (!cJSON_IsString(hyp) || !cJSON_IsArray(refs) || nr < 1 || nr > 16) {
            rc = T5G_FAIL("%s: sample %d needs \"prediction\" and 1..16 \"references\"", r->file, i + 1);
            break;
        }
        for (int k = 0; k < nr; k++) rv[k] = cJSON_GetStringValue(cJSON_GetArrayItem(refs, k));
        for (int k = 0; k < nr && !rc; k++)
            if (!rv[k]) rc = T5G_FAIL("%s: sample %d: a reference is not a string", r->file, i + 1);
        bleu_score sc;
        if (rc || (rc = bleu_sentence(hyp->valuestring, rv, (size_t)nr, &o, &sc))) break;
        for (int k = 0; k < 4; k++) st[i][k] = sc.counts[k], st[i][4 + k] = sc.totals[k];
        st[i][8] = (double)sc.sys_len, st[i][9] = (double)sc.ref_len;
    }
    double sum[10] = {0};
    for (int i = 0; i < r->n && !rc; i++)
        for (int k = 0; k < 10; k++) sum[k] += st[i][k];
    bleu_score all;
    if (!rc) rc = bleu_compute(sum, sum + 4, (long long)sum[8], (long long)sum[9], &o, &all);
    if (!rc && all.score != score->valuedouble)
        rc = T5G_FAIL("%s gives BLEU %.17g but results.json says %.17g: the files are from different runs", r->file,
                      all.score, score->valuedouble);
    int iters = LMEVAL_BLEU_ITERS, chunk = iters < 1000 ? iters : 1000, nres = 0;
    double *res = rc ? NULL : malloc(sizeof(double) * (size_t)iters);
    if (!rc && !res) rc = T5G_FAIL("out of memory");
    for (int c = 0; !rc && c < iters / chunk; c++) {
        mt19937 g;
        uint32_t key = (uint32_t)c;
        mt_seed_array(&g, &key, 1);
        for (int b = 0; b < chunk && !rc; b++) {
            double t[10] = {0};
            for (int k = 0; k < r->n; k++) {
                int i = (int)floor(mt_py_random(&g) * (double)r->n);
                for (int j = 0; j < 10; j++) t[j] += st[i][j];
            }
            bleu_score sc;
            rc = bleu_compute(t, t + 4, (long long)t[8], (long long)t[9], &o, &sc);
            res[nres++] = sc.score;
        }
    }
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

/* CNN/DM: per-sample ROUGE F x 100 (T5 sentence split, no stemming) recomputed; ROUGE-2 must
 * equal samples.jsonl's rouge2_f and each mean results.json's fmeasure. */
static int cnn_metrics(const run *r, metric *m, int *nm) {
    rouge_type types[4];
    int nt = 0, rc;
    T5G_TRY(rouge_parse_types("rouge1,rouge2,rougeL,rougeLsum", types, 4, &nt));
    rouge_scorer *sc = rouge_scorer_new(types, nt, 0);
    double *x = malloc(sizeof(double) * (size_t)r->n * 4);
    rc = sc && x ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < r->n && !rc; i++) {
        const char *pred = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->s[i], "prediction"));
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
        /* the highlights as one string, or a list holding that one string */
        const char *hl =
            cJSON_GetStringValue(cJSON_IsArray(ref) && cJSON_GetArraySize(ref) == 1 ? cJSON_GetArrayItem(ref, 0) : ref);
        if (!pred || !hl) {
            rc = T5G_FAIL("%s: sample %d needs \"prediction\" and \"references\" strings", r->file, i + 1);
            break;
        }
        char *p = task_t5_sentences(pred), *t = task_t5_sentences(hl);
        rouge_score out[4];
        rc = p && t ? rouge_score_pair(sc, t, strlen(t), p, strlen(p), out) : T5G_FAIL("out of memory");
        free(p), free(t);
        double stored;
        if (!rc) rc = sample_num(r, i, "rouge2_f", &stored);
        for (int k = 0; k < 4 && !rc; k++) x[(size_t)k * r->n + i] = out[k].fmeasure;
        if (!rc && stored != x[(size_t)r->n + i] * 100)
            rc = T5G_FAIL("%s: sample %d: rouge2_f %.17g but the prediction scores %.17g", r->file, i + 1, stored,
                          x[(size_t)r->n + i] * 100);
    }
    for (int k = 0; k < 4 && !rc; k++) {
        char name[16];
        rouge_type_name(types[k], name, sizeof name);
        const cJSON *f = path(path(r->res, "metrics", name), "fmeasure", NULL);
        if (!cJSON_IsNumber(f)) {
            rc = T5G_FAIL("%s/results.json: metrics.%s.fmeasure is missing", r->dir, name);
            break;
        }
        double s = 0, *xk = x + (size_t)k * r->n;
        for (int i = 0; i < r->n; i++) s += xk[i];
        if (s / r->n * 100 != f->valuedouble) /* rouge_mean, then x 100 as tasks.c */
            rc = T5G_FAIL("%s: mean %s F %.17g but results.json says %.17g: the files are from different runs", r->file,
                          name, s / r->n * 100, f->valuedouble);
        for (int i = 0; i < r->n; i++) xk[i] *= 100; /* per-sample values in percent */
        snprintf(m[k].name, sizeof m[k].name, "%s", name);
        m[k].value = f->valuedouble;
        set_mean_stderr(&m[k], xk, r->n);
    }
    if (!rc) *nm = 4;
    rouge_scorer_free(sc);
    free(x);
    return rc;
}

/* SQuAD v2: the official values (metrics.official), stderr over the per-sample EM / F1. */
static int squad_metrics(const run *r, metric *m, int *nm) {
    static const char *const keys[6] = {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1"};
    const cJSON *off = path(r->res, "metrics", "official");
    double *x = malloc(sizeof(double) * (size_t)r->n * 6);
    int cnt[6] = {0}, rc = x ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < r->n && !rc; i++) {
        double e, f;
        const cJSON *refs = cJSON_GetObjectItemCaseSensitive(r->s[i], "references");
        if ((rc = sample_num(r, i, "exact", &e)) || (rc = sample_num(r, i, "f1", &f))) break;
        if (!cJSON_IsArray(refs)) {
            rc = T5G_FAIL("%s: sample %d: \"references\" must be a list", r->file, i + 1);
            break;
        }
        int g = cJSON_GetArraySize(refs) > 0 ? 2 : 4; /* HasAns or NoAns (official: bool(answers)) */
        x[(size_t)0 * r->n + cnt[0]++] = e, x[(size_t)1 * r->n + cnt[1]++] = f;
        x[(size_t)g * r->n + cnt[g]++] = e, x[(size_t)(g + 1) * r->n + cnt[g + 1]++] = f;
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
        set_mean_stderr(&m[k2++], x + (size_t)k * r->n, cnt[k]);
    }
    if (!rc) *nm = k2;
    free(x);
    return rc;
}

static void add_float(cJSON *o, const char *key, double v) {
    task_add_float(o, key, v);
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (0 if unreadable). */
static double epoch_of(const char *iso) {
    struct tm tm = {0};
    if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                       &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

/* "N/A" or the number, as lm-eval stores a stderr. */
static void add_stderr(cJSON *o, const char *key, const metric *m) {
    if (m->has_stderr) add_float(o, key, m->stderr_);
    else cJSON_AddStringToObject(o, key, "N/A");
}

/* configs[task]: the task as lm-eval's dump_config() describes a generate_until task. */
static cJSON *task_config(const run *r, const task_info *t, const metric *m, int nm) {
    cJSON *c = cJSON_CreateObject(), *ml, *g, *md;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(r->res, "decoding");
    const char *search = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dec, "search"));
    cJSON_AddStringToObject(c, "task", t->name);
    cJSON_AddStringToObject(c, "dataset_path", "t5g prepared shards (datasets/README.md)");
    cJSON_AddStringToObject(c, "test_split", "test");
    cJSON_AddStringToObject(c, "output_type", "generate_until");
    cJSON_AddStringToObject(c, "doc_to_text", t->prompt_prefix);
    cJSON_AddStringToObject(c, "doc_to_target", t->refs_key);
    cJSON_AddStringToObject(c, "description", "");
    cJSON_AddStringToObject(c, "target_delimiter", " ");
    cJSON_AddStringToObject(c, "fewshot_delimiter", "\n\n");
    cJSON_AddNumberToObject(c, "num_fewshot", 0);
    ml = cJSON_AddArrayToObject(c, "metric_list");
    for (int k = 0; k < nm; k++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "metric", m[k].name);
        cJSON_AddStringToObject(e, "aggregation", t->id == TASK_WMT14_EN_FR ? "bleu" : "mean");
        cJSON_AddBoolToObject(e, "higher_is_better", 1);
        cJSON_AddItemToArray(ml, e);
    }
    g = dec ? cJSON_Duplicate(dec, 1) : cJSON_CreateObject();
    cJSON_AddItemToObject(g, "until", cJSON_CreateArray());
    cJSON_AddBoolToObject(g, "do_sample", search && !strcmp(search, "sample"));
    cJSON_AddItemToObject(c, "generation_kwargs", g);
    cJSON_AddNumberToObject(c, "repeats", 1);
    cJSON_AddBoolToObject(c, "should_decontaminate", 0);
    md = cJSON_AddObjectToObject(c, "metadata");
    add_float(md, "version", 1.0);
    cJSON_AddStringToObject(md, "scale", "BLEU, ROUGE F, EM and F1 in percent (0..100)");
    cJSON_AddItemToObject(md, "t5g_metrics", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->res, "metrics"), 1));
    cJSON_AddItemToObject(md, "reportable", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r->res, "reportable"), 1));
    return c;
}

/* "config": what lm-eval records about the model and the run. */
static cJSON *run_config(const run *r) {
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(r->res, "model"),
                *lay = cJSON_GetObjectItemCaseSensitive(r->res, "layout");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(r->res, "decoding"),
                *lim = cJSON_GetObjectItemCaseSensitive(r->res, "limit");
    const char *mp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mo, "path"));
    const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mo, "sha256"));
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(dec, "batch_size");
    char args[5000];
    snprintf(args, sizeof args, "model=%s,sha256=%s,tp=%d,dp=%d", mp ? mp : "", sha ? sha : "",
             cJSON_GetObjectItemCaseSensitive(lay, "tp") ? cJSON_GetObjectItemCaseSensitive(lay, "tp")->valueint : 1,
             cJSON_GetObjectItemCaseSensitive(lay, "dp") ? cJSON_GetObjectItemCaseSensitive(lay, "dp")->valueint : 1);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "model", "t5g");
    cJSON_AddStringToObject(c, "model_args", args);
    cJSON_AddItemToObject(c, "batch_size", bs ? cJSON_Duplicate(bs, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "batch_sizes", cJSON_CreateArray());
    cJSON_AddStringToObject(c, "device", "cpu");
    cJSON_AddNullToObject(c, "use_cache");
    cJSON_AddItemToObject(c, "limit", lim ? cJSON_Duplicate(lim, 1) : cJSON_CreateNull());
    cJSON_AddNumberToObject(c, "bootstrap_iters", 100000);
    cJSON_AddNullToObject(c, "gen_kwargs");
    cJSON_AddNumberToObject(c, "random_seed", 0);
    cJSON_AddNumberToObject(c, "numpy_seed", 1234);
    cJSON_AddNumberToObject(c, "torch_seed", 1234);
    cJSON_AddNumberToObject(c, "fewshot_seed", 1234);
    return c;
}

/* The whole lm-eval results object (key order as lm-eval writes it). */
static int write_layout(const run *r, const task_info *t, const metric *m, int nm, const char *out) {
    const char *tn = t->name;
    char key[64];
    cJSON *o = cJSON_CreateObject(), *x, *hib, *ns;
    x = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "results"), tn);
    cJSON_AddStringToObject(x, "alias", tn);
    cJSON_AddStringToObject(x, "name", tn);
    cJSON_AddNumberToObject(x, "sample_len", r->n);
    for (int k = 0; k < nm; k++) {
        snprintf(key, sizeof key, "%s,none", m[k].name);
        add_float(x, key, m[k].value);
        snprintf(key, sizeof key, "%s_stderr,none", m[k].name);
        add_stderr(x, key, &m[k]);
    }
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "group_subtasks"), tn, cJSON_CreateArray());
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "configs"), tn, task_config(r, t, m, nm));
    add_float(cJSON_AddObjectToObject(o, "versions"), tn, 1.0);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "n-shot"), tn, 0);
    hib = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "higher_is_better"), tn);
    for (int k = 0; k < nm; k++) cJSON_AddBoolToObject(hib, m[k].name, 1);
    ns = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "n-samples"), tn);
    cJSON_AddNumberToObject(ns, "original", r->n);
    cJSON_AddNumberToObject(ns, "effective", r->n);
    cJSON_AddItemToObject(o, "config", run_config(r));
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(r->res, "versions"),
                *tm = cJSON_GetObjectItemCaseSensitive(r->res, "time");
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(r->res, "model"),
                *wall = cJSON_GetObjectItemCaseSensitive(tm, "wall_seconds");
    const char *rev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "t5g"));
    const char *mp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mo, "path"));
    double start = epoch_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tm, "start")));
    char env[1024], wall_s[64], sanitized[4096];
    snprintf(env, sizeof env, "t5g %s (C; no torch): MPI %s, BLIS %s, HDF5 %s", rev ? rev : "?",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "mpi"))
                 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "mpi"))
                 : "?",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "blis"))
                 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "blis"))
                 : "?",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "hdf5"))
                 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ver, "hdf5"))
                 : "?");
    snprintf(wall_s, sizeof wall_s, "%.17g", cJSON_IsNumber(wall) ? wall->valuedouble : 0.0);
    size_t k = 0;
    for (const char *p = mp ? mp : ""; *p && k + 3 < sizeof sanitized; p++) /* lm-eval: "/" -> "__" */
        if (*p == '/') sanitized[k++] = '_', sanitized[k++] = '_';
        else sanitized[k++] = *p;
    sanitized[k] = 0;
    cJSON_AddStringToObject(o, "git_hash", rev ? rev : "");
    add_float(o, "date", start);
    cJSON_AddStringToObject(o, "pretty_env_info", env);
    cJSON_AddStringToObject(o, "transformers_version", "N/A");
    cJSON_AddStringToObject(o, "lm_eval_version", "N/A (written by t5g report --lm-eval)");
    cJSON_AddNullToObject(o, "upper_git_hash");
    cJSON_AddStringToObject(o, "model_source", "t5g");
    cJSON_AddStringToObject(o, "model_name", mp ? mp : "");
    cJSON_AddStringToObject(o, "model_name_sanitized", sanitized);
    cJSON_AddNullToObject(o, "system_instruction");
    cJSON_AddNullToObject(o, "system_instruction_sha");
    cJSON_AddBoolToObject(o, "fewshot_as_multiturn", 0);
    cJSON_AddNullToObject(o, "chat_template");
    cJSON_AddNullToObject(o, "chat_template_sha");
    add_float(o, "start_time", start);
    add_float(o, "end_time", epoch_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tm, "end"))));
    cJSON_AddStringToObject(o, "total_evaluation_time_seconds", wall_s);
    cJSON_AddObjectToObject(o, "task_hashes");
    char *json = cJSON_Print(o);
    cJSON_Delete(o);
    T5G_CHECK(json, "out of memory");
    t5g_outfile f;
    int rc = t5g_out_open(&f, out, "w");
    if (!rc && (fputs(json, f.f) < 0 || fputc('\n', f.f) < 0)) {
        t5g_out_abort(&f);
        rc = T5G_FAIL("write error on %s", out);
    } else if (!rc) {
        rc = t5g_out_commit(&f);
    }
    free(json);
    return rc;
}

int lmeval_export(const char *run_dir, const char *out_path) {
    T5G_CHECK(run_dir && out_path && *out_path, "lmeval_export: run folder and output file needed");
    run r = {.dir = run_dir};
    char rp[4200];
    size_t len;
    snprintf(rp, sizeof rp, "%s/results.json", run_dir);
    char *text = t5g_read_file(rp, &len);
    if (!text) return -1;
    r.res = cJSON_Parse(text);
    free(text);
    int rc = cJSON_IsObject(r.res) ? 0 : T5G_FAIL("%s is not a JSON object", rp);
    const task_info *t = NULL;
    if (!rc) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r.res, "task"));
        t = name ? task_find(name) : NULL;
        if (!t) rc = name ? -1 : T5G_FAIL("%s: field 'task' is missing", rp);
    }
    if (!rc) rc = load_samples(&r);
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(r.res, "samples");
    if (!rc && (!cJSON_IsNumber(ns) || ns->valueint != r.n))
        rc =
            T5G_FAIL("%s has %d samples but results.json says %d", r.file, r.n, cJSON_IsNumber(ns) ? ns->valueint : -1);
    metric m[8];
    int nm = 0;
    if (!rc)
        rc = t->id == TASK_WMT14_EN_FR ? wmt_metrics(&r, m, &nm)
             : t->id == TASK_CNN_DM    ? cnn_metrics(&r, m, &nm)
                                       : squad_metrics(&r, m, &nm);
    if (!rc) rc = write_layout(&r, t, m, nm, out_path);
    for (int i = 0; i < r.n; i++) cJSON_Delete(r.s[i]);
    free(r.s);
    cJSON_Delete(r.res);
    return rc;
}
