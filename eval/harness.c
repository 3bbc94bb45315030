/* harness.c - see harness.h */
#include "harness.h"
#include "core/json.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/sha256.h"
#include "generate/runner.h"
#include "io/jsonl_load.h"
#include "text/tokenizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int num_shards(const eval_cfg *c) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/manifest.json", c->data, c->task->name);
    char *text = t5g_read_file(p, NULL);
    if (!text && access(p, F_OK) == 0) return -1; /* there but unreadable: t5g_read_file said why */
    if (!text)
        return T5G_FAIL("%s: no prepared %s data there (run datasets/prepare.py %s ... --out %s)", c->data,
                        c->task->name, c->task->name, c->data);
    int oom;
    cJSON *j = t5g_json_parse(text, strlen(text), NULL, 0, &oom, p);
    free(text);
    if (oom) return -1;
    const cJSON *ns = j ? cJSON_GetObjectItem(j, "num_shards") : NULL,
                *task = j ? cJSON_GetObjectItem(j, "task") : NULL;
    int n = cJSON_IsNumber(ns) ? ns->valueint : -1;
    int ok = cJSON_IsString(task) && !strcmp(task->valuestring, c->task->name);
    cJSON_Delete(j);
    T5G_CHECK(n > 0 && ok, "%s is not a manifest of task %s with num_shards (re-run datasets/prepare.py)", p,
              c->task->name);
    return n;
}

static void shard_paths(const eval_cfg *c, int s, int ns, char *data, char *pred, char *partial, size_t cap) {
    snprintf(data, cap, "%s/%s/shard-%05d-of-%05d.jsonl", c->data, c->task->name, s, ns);
    snprintf(pred, cap, "%s/predictions/shard-%05d-of-%05d.jsonl", c->out, s, ns);
    snprintf(partial, cap, "%s/predictions/shard-%05d-of-%05d.partial", c->out, s, ns);
}

static int in_limit(const eval_cfg *c, const cJSON *item) {
    const cJSON *ix = cJSON_GetObjectItem(item, "index");
    return c->limit <= 0 || (cJSON_IsNumber(ix) && ix->valuedouble < c->limit);
}

/* The manifest's record of the data: sample count, whether the raw sources carry a sha256,
 * and each shard's sha256 (checked against the files: a shard edited after prepare.py is
 * not the data the manifest describes). */
static int read_manifest(const eval_cfg *c, eval_stats *st, cJSON **shards, t5g_sha256_ctx *h) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/manifest.json", c->data, c->task->name);
    size_t len = 0;
    char *text = t5g_read_file(p, &len);
    if (!text) return -1;
    t5g_sha256_update(h, text, len);
    int oom;
    cJSON *j = t5g_json_parse(text, len, NULL, 0, &oom, p);
    free(text);
    if (oom) return -1;
    const cJSON *ns = cJSON_GetObjectItem(j, "num_samples"), *src = cJSON_GetObjectItem(j, "sources"), *e;
    st->manifest_samples = cJSON_IsNumber(ns) ? (int64_t)ns->valuedouble : -1;
    st->sources_hashed = cJSON_IsArray(src) && cJSON_GetArraySize(src) > 0;
    cJSON_ArrayForEach(e, src) {
        const cJSON *sh = cJSON_GetObjectItem(e, "sha256");
        if (!cJSON_IsString(sh) || strlen(sh->valuestring) != 64) st->sources_hashed = 0;
    }
    *shards = cJSON_DetachItemFromObject(j, "shards");
    cJSON_Delete(j);
    return 0;
}

static int check_shard_hash(const cJSON *shards, int s, const char *path, t5g_sha256_ctx *h) {
    char hex[65];
    T5G_TRY(t5g_sha256_file(path, hex));
    t5g_sha256_update(h, hex, 64);
    const cJSON *rec = cJSON_GetObjectItem(cJSON_GetArrayItem(shards, s), "sha256");
    T5G_CHECK(!cJSON_IsString(rec) || !strcmp(rec->valuestring, hex),
              "%s changed since its manifest was written (sha256 %.12s..., manifest says %.12s...): re-run "
              "datasets/prepare.py",
              path, hex, rec->valuestring);
    return 0;
}

/* Every sample of one shard is usable; its ids go to refs for the duplicate check. */
static int scan_shard(const eval_cfg *c, const char *path, int s, int dp_size, eval_stats *st, jsonl_id_ref **refs,
                      size_t *nref, size_t *cap) {
    jsonl_doc doc;
    T5G_TRY(jsonl_read(path, &doc));
    int rc = 0;
    for (int i = 0; i < doc.n && !rc; i++) {
        const cJSON *it = doc.items[i];
        char *id = it ? jsonl_id(it) : NULL;
        if (!it) rc = T5G_FAIL("%s:%d: %s", path, doc.lineno[i], jsonl_why(&doc, i));
        else if (!id || task_check_sample(c->task, it)) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", t5g_last_error());
            rc = T5G_FAIL("%s:%d: %s", path, doc.lineno[i], msg);
        }
        if (!rc && *nref == *cap) {
            *cap = *cap ? 2 * *cap : 1024;
            jsonl_id_ref *nv = realloc(*refs, sizeof **refs * *cap);
            if (!nv) rc = T5G_FAIL("out of memory");
            else *refs = nv;
        }
        if (rc) {
            free(id);
            break;
        }
        (*refs)[*nref].id = id;
        (*refs)[*nref].file = s;
        (*refs)[(*nref)++].line = doc.lineno[i];
        st->samples += in_limit(c, it);
        if (s % dp_size == 0) st->samples_group0 += in_limit(c, it);
    }
    jsonl_free(&doc);
    return rc;
}

int eval_scan(const eval_cfg *c, int dp_size, eval_stats *st) {
    memset(st, 0, sizeof *st);
    int ns = num_shards(c);
    T5G_TRY(ns < 0 ? -1 : 0);
    st->num_shards = ns;
    t5g_sha256_ctx h;
    t5g_sha256_init(&h);
    cJSON *shards = NULL;
    T5G_TRY(read_manifest(c, st, &shards, &h));
    char d[4200], p[4200], q[4200];
    char **files = calloc((size_t)ns, sizeof(char *));
    jsonl_id_ref *refs = NULL;
    size_t nref = 0, cap = 0;
    int rc = files ? 0 : T5G_FAIL("out of memory");
    for (int s = 0; s < ns && !rc; s++) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        files[s] = strdup(d);
        rc = check_shard_hash(shards, s, d, &h);
        if (!rc) rc = scan_shard(c, d, s, dp_size, st, &refs, &nref, &cap);
    }
    if (!rc) rc = jsonl_check_unique(refs, nref, (const char *const *)files);
    uint8_t dig[32];
    t5g_sha256_final(&h, dig);
    t5g_sha256_hex(dig, st->data_sha256);
    for (size_t i = 0; i < nref; i++) free(refs[i].id);
    free(refs);
    for (int s = 0; files && s < ns; s++) free(files[s]);
    free(files);
    cJSON_Delete(shards);
    return rc;
}

static int keep_sample(void *ctx, const cJSON *item) {
    return in_limit(ctx, item);
}

static char *sample_prompt(void *ctx, const cJSON *item) {
    const eval_cfg *c = ctx;
    return task_prompt(c->task, item);
}

/* One shard on TP rank 0: inputs still to do (skipping ids in the .partial file); prompts
 * longer than --max-input-tokens are cut with a warning. */
static int shard_inputs(const eval_cfg *c, const t5g_tokenizer *tok, const char *data, const char *partial,
                        t5g_gen_list *in) {
    memset(in, 0, sizeof *in);
    in->seed = c->gen.seed;
    str_set done = {0};
    T5G_TRY(jsonl_collect_ids(partial, 0, &done));
    jsonl_load_policy p = {.path = data,
                           .tok = tok,
                           .tok_flags = c->tok_flags,
                           .vocab = c->vocab,
                           .max_input = c->max_input,
                           .too_long = JSONL_CUT,
                           .what = "prompt",
                           .done_ids = &done,
                           .keep = keep_sample,
                           .prompt = sample_prompt,
                           .ctx = (void *)c};
    int rc = jsonl_load(&p, 0, 0, 0, -1, t5g_gen_list_emit, in);
    str_set_free(&done);
    return rc;
}

int eval_generate(const t5g_model *m, t5g_comm *comm, const t5g_tokenizer *tok, const eval_cfg *c, eval_stats *st,
                  t5g_progress *prog) {
    char d[4200], p[4200], q[4200];
    int ns = st->num_shards, rc = 0;
    for (int s = comm->dp_rank; s < ns && !rc; s += comm->dp_size) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        t5g_gen_list in = {0};
        int fail = 0, complete = 0;
        t5g_jsonl_sink ps = {NULL, NULL, tok, m, "prediction", 1, 0}; /* the same keys as generate's output */
        if (comm->tp_rank == 0) {
            complete = access(p, F_OK) == 0;                /* finished in an earlier run */
            long cut = complete ? 0 : t5g_cut_torn_tail(q); /* a kill mid-write leaves a torn last line */
            if (cut > 0)
                fprintf(stderr, "t5g: warning: %s: cut a torn last line of %ld bytes (that sample is redone)\n", q,
                        cut);
            fail = cut < 0;
            if (!complete && !fail) {
                fail = shard_inputs(c, tok, d, q, &in) != 0;
                if (!fail && !(ps.f = fopen(q, "a"))) fail = T5G_FAIL("cannot write %s", q) != 0;
                ps.ids_json = in.ids_json;
            }
        }
        int flags[2] = {fail, complete};
        MPI_Bcast(flags, 2, MPI_INT, 0, comm->tp);
        if (flags[0]) rc = -1;
        else if (!flags[1]) {
            rc = t5g_run_requests(m, comm, in.in, in.n, &c->gen, t5g_jsonl_sink_write, &ps, prog);
            if (ps.f && fclose(ps.f) != 0 && !rc) rc = T5G_FAIL("write error on %s", q);
            ps.f = NULL;
            if (!rc && comm->tp_rank == 0 && rename(q, p) != 0)
                rc = T5G_FAIL("cannot rename %s", q); /* shard complete */
            st->generated_tokens += ps.tokens;
            st->done_now += in.n;
        }
        if (ps.f) fclose(ps.f);
        t5g_gen_list_free(&in);
    }
    return rc;
}

static double sample_index(const task_sample *s) {
    const cJSON *ix =
        cJSON_GetObjectItem(s->sample, "index"); /* checked by eval_scan; never dereference a missing one */
    return cJSON_IsNumber(ix) ? ix->valuedouble : -1;
}

static int by_index(const void *a, const void *b) {
    double i = sample_index(a), j = sample_index(b);
    return (i > j) - (i < j);
}

typedef struct {
    char *id;
    const char *text;
} keyed;
static int by_id(const void *a, const void *b) {
    return strcmp(((const keyed *)a)->id, ((const keyed *)b)->id);
}

/* id -> prediction text of one predictions file, sorted by id (for bsearch) */
static int pred_keys(const jsonl_doc *pred, const char *p, keyed **out, int *nout) {
    keyed *keys = calloc(pred->n + 1, sizeof *keys);
    T5G_CHECK(keys, "out of memory reading %s", p);
    int nk = 0, rc = 0;
    for (int j = 0; j < pred->n && !rc; j++) {
        const cJSON *t = pred->items[j] ? cJSON_GetObjectItem(pred->items[j], "prediction") : NULL;
        if (!cJSON_IsString(t)) continue;
        keys[nk].id = jsonl_id(pred->items[j]);
        keys[nk].text = t->valuestring;
        /* no id: a damaged line, or out of memory; either way jsonl_id said which */
        if (!keys[nk].id) rc = T5G_FAIL("%s:%d: %s", p, pred->lineno[j], t5g_last_error());
        else nk++;
    }
    if (nk) qsort(keys, nk, sizeof *keys, by_id); /* qsort(NULL, 0) is undefined */
    *out = keys;
    *nout = nk;
    return rc;
}

static void keys_free(keyed *keys, int nk) {
    for (int j = 0; j < nk; j++) free(keys[j].id);
    free(keys);
}

/* append a copy of the shard line and its prediction (counted even when a copy failed, so that
 * eval_free_samples frees what was made) */
static int add_sample(task_sample **v, int *n, int *cap, const cJSON *item, const char *text) {
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 256;
        task_sample *nv = realloc(*v, sizeof *nv * nc);
        T5G_CHECK(nv, "out of memory collecting %d predictions", nc);
        *v = nv;
        *cap = nc;
    }
    task_sample *t = &(*v)[(*n)++];
    t->sample = cJSON_Duplicate(item, 1);
    t->prediction = strdup(text);
    t->metric = t->metric2 = 0;
    T5G_CHECK(t->sample && t->prediction, "out of memory collecting the predictions");
    return 0;
}

/* the shard's samples (within --limit) with their predictions, appended to v */
static int collect_shard(const eval_cfg *c, const jsonl_doc *data, const char *p, const jsonl_doc *pred,
                         task_sample **v, int *n, int *cap) {
    keyed *keys = NULL;
    int nk = 0, rc = pred_keys(pred, p, &keys, &nk);
    for (int i = 0; i < data->n && !rc; i++) {
        if (!data->items[i] || !in_limit(c, data->items[i])) continue;
        char *id = jsonl_id(data->items[i]); /* checked by eval_scan: NULL is out of memory */
        keyed want = {id, NULL}, *hit = id && nk ? bsearch(&want, keys, nk, sizeof *keys, by_id) : NULL;
        if (!id) rc = -1;
        else if (!hit) rc = T5G_FAIL("%s: no prediction for sample %s; delete the file and rerun t5g eval", p, id);
        else rc = add_sample(v, n, cap, data->items[i], hit->text);
        free(id);
    }
    keys_free(keys, nk);
    return rc;
}

int eval_collect(const eval_cfg *c, task_sample **out, int *nout) {
    int ns = num_shards(c);
    T5G_TRY(ns < 0 ? -1 : 0);
    char d[4200], p[4200], q[4200];
    task_sample *v = NULL;
    int n = 0, cap = 0, rc = 0;
    for (int s = 0; s < ns && !rc; s++) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        jsonl_doc data, pred;
        if (jsonl_read(d, &data)) {
            rc = -1;
            break;
        }
        if (jsonl_read(p, &pred)) {
            jsonl_free(&data);
            /* a file that is there but cannot be read (out of memory...) keeps its own message */
            if (access(p, F_OK) == 0) rc = -1;
            else rc = T5G_FAIL("shard %d has no complete predictions (%s): rerun t5g eval to finish it", s, p);
            break;
        }
        rc = collect_shard(c, &data, p, &pred, &v, &n, &cap);
        jsonl_free(&data);
        jsonl_free(&pred);
    }
    if (rc) {
        eval_free_samples(v, n);
        return -1;
    }
    if (n) qsort(v, n, sizeof *v, by_index);
    *out = v;
    *nout = n;
    return 0;
}

void eval_free_samples(task_sample *s, int n) {
    for (int i = 0; i < n; i++) {
        cJSON_Delete(s[i].sample);
        free(s[i].prediction);
    }
    free(s);
}
