/* lmeval.c - see lmeval.h. */
#include "lmeval.h"
#include "core/json.h"
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

static int load_samples(lmeval_run *r) {
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
            int oom;
            r->s[r->n] = t5g_json_parse(p, strlen(p), NULL, 0, &oom, r->file);
            if (oom) rc = -1;
            else if (!cJSON_IsObject(r->s[r->n])) rc = T5G_FAIL("%s:%d: not a JSON object", r->file, line);
            else r->n++;
        }
        p = nl ? nl + 1 : text + len;
    }
    free(text);
    if (!rc && !r->n) rc = T5G_FAIL("%s has no samples", r->file);
    return rc;
}

const cJSON *lmeval_path(const cJSON *o, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

int lmeval_sample_num(const lmeval_run *r, int i, const char *key, double *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->s[i], key);
    T5G_CHECK(cJSON_IsNumber(x), "%s: sample %d has no number '%s'", r->file, i + 1, key);
    *v = x->valuedouble;
    return 0;
}

void lmeval_set_mean_stderr(lmeval_metric *m, const double *x, int n) {
    m->has_stderr = n > 1;
    if (n > 1) m->stderr_ = lmeval_mean_stderr(x, n);
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
static void add_stderr(cJSON *o, const char *key, const lmeval_metric *m) {
    if (m->has_stderr) add_float(o, key, m->stderr_);
    else cJSON_AddStringToObject(o, key, "N/A");
}

/* configs[task]: the task as lm-eval's dump_config() describes a generate_until task. */
static cJSON *task_config(const lmeval_run *r, const task_info *t, const lmeval_metric *m, int nm) {
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
        cJSON_AddStringToObject(e, "aggregation", t->lmeval_aggregation);
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
static cJSON *run_config(const lmeval_run *r) {
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
static int write_layout(const lmeval_run *r, const task_info *t, const lmeval_metric *m, int nm, const char *out) {
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
    char *json = t5g_json_print(o, 1, "the lm-eval results");
    cJSON_Delete(o);
    if (!json) return -1;
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
    lmeval_run r = {.dir = run_dir};
    char rp[4200];
    size_t len;
    snprintf(rp, sizeof rp, "%s/results.json", run_dir);
    char *text = t5g_read_file(rp, &len);
    if (!text) return -1;
    int oom;
    r.res = t5g_json_parse(text, len, NULL, 0, &oom, rp);
    free(text);
    int rc = oom ? -1 : cJSON_IsObject(r.res) ? 0 : T5G_FAIL("%s is not a JSON object", rp);
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
    lmeval_metric m[LMEVAL_MAX_METRICS];
    int nm = 0;
    if (!rc) rc = t->lmeval_metrics(&r, m, &nm);
    if (!rc) rc = write_layout(&r, t, m, nm, out_path);
    for (int i = 0; i < r.n; i++) cJSON_Delete(r.s[i]);
    free(r.s);
    cJSON_Delete(r.res);
    return rc;
}
