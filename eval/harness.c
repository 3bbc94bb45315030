/* harness.c - see harness.h */
#include "harness.h"
#include "core/err.h"
#include "core/fileio.h"
#include "generate/runner.h"
#include "io/jsonl.h"
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
    if (!text) return T5G_FAIL("%s: no prepared %s data there (run datasets/prepare.py %s ... --out %s)", c->data,
                               c->task->name, c->task->name, c->data);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *ns = j ? cJSON_GetObjectItem(j, "num_shards") : NULL, *task = j ? cJSON_GetObjectItem(j, "task") : NULL;
    int n = cJSON_IsNumber(ns) ? ns->valueint : -1;
    int ok = cJSON_IsString(task) && !strcmp(task->valuestring, c->task->name);
    cJSON_Delete(j);
    T5G_CHECK(n > 0 && ok, "%s is not a manifest of task %s with num_shards (re-run datasets/prepare.py)", p, c->task->name);
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

int eval_scan(const eval_cfg *c, int dp_size, eval_stats *st) {
    memset(st, 0, sizeof *st);
    int ns = num_shards(c);
    T5G_TRY(ns < 0 ? -1 : 0);
    st->num_shards = ns;
    char d[4200], p[4200], q[4200];
    for (int s = 0; s < ns; s++) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        jsonl_doc doc;
        T5G_TRY(jsonl_read(d, &doc));
        for (int i = 0; i < doc.n; i++) {
            if (!doc.items[i]) { int ln = doc.lineno[i]; jsonl_free(&doc); return T5G_FAIL("%s:%d: not valid JSON", d, ln); }
            st->samples += in_limit(c, doc.items[i]);
            if (s % dp_size == 0) st->samples_group0 += in_limit(c, doc.items[i]);
        }
        jsonl_free(&doc);
    }
    return 0;
}

/* One shard on TP rank 0: inputs still to do (skipping ids in the .partial file). */
static int shard_inputs(const eval_cfg *c, const t5g_tokenizer *tok, const char *data, const char *partial,
                        t5g_gen_input **in, int *n, char ***ids, int *nids) {
    jsonl_doc doc;
    T5G_TRY(jsonl_read(data, &doc));
    str_set done = {0};
    if (jsonl_collect_ids(partial, 0, &done)) { jsonl_free(&doc); return -1; }
    t5g_gen_input *v = calloc(doc.n + 1, sizeof *v);
    char **idv = calloc(doc.n + 1, sizeof(char *));
    int k = 0, rc = v && idv ? 0 : T5G_FAIL("out of memory");
    for (int i = 0; i < doc.n && !rc; i++) {
        const cJSON *it = doc.items[i];
        if (!it) { rc = T5G_FAIL("%s:%d: not valid JSON", data, doc.lineno[i]); break; }
        if (!in_limit(c, it)) continue;
        char *idj = jsonl_id(it);
        if (!idj) { rc = T5G_FAIL("%s:%d: sample has no id", data, doc.lineno[i]); break; }
        if (str_set_has(&done, idj)) { free(idj); continue; }
        char *prompt = task_prompt(c->task, it);
        int32_t *tids = NULL;
        size_t nt = 0;
        if (!prompt || t5g_tokenizer_encode(tok, prompt, strlen(prompt), c->tok_flags, &tids, &nt)) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", t5g_last_error());
            rc = T5G_FAIL("%s:%d: %s", data, doc.lineno[i], msg);
            free(prompt); free(idj);
            break;
        }
        free(prompt);
        for (size_t j = 0; j < nt; j++)
            if (tids[j] >= c->vocab) {
                rc = T5G_FAIL("%s:%d: token id %d is outside the model's vocabulary (%d): the checkpoint's tokenizer does not match the model",
                              data, doc.lineno[i], tids[j], c->vocab);
                break;
            }
        if (rc) { free(tids); free(idj); break; }
        if (nt > (size_t)c->max_input) {
            fprintf(stderr, "t5g: warning: %s:%d: prompt of %zu tokens truncated to %d\n", data, doc.lineno[i], nt, c->max_input);
            nt = (size_t)c->max_input;
        }
        idv[i] = idj;
        v[k].index = i;
        v[k].seed = t5g_request_seed(idj, c->gen.seed);
        v[k].ids = tids;
        v[k].n = (int)nt;
        k++;
    }
    *nids = doc.n;
    jsonl_free(&doc);
    str_set_free(&done);
    *in = v; *n = k; *ids = idv;
    return rc;
}

int eval_generate(const t5g_model *m, t5g_comm *comm, const t5g_tokenizer *tok, const eval_cfg *c, eval_stats *st,
                  t5g_progress *prog) {
    char d[4200], p[4200], q[4200];
    int ns = st->num_shards, rc = 0;
    for (int s = comm->dp_rank; s < ns && !rc; s += comm->dp_size) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        t5g_gen_input *in = NULL;
        char **ids = NULL;
        int n = 0, nids = 0, fail = 0, complete = 0;
        t5g_jsonl_sink ps = {NULL, NULL, tok, m, "prediction", 0, 0};
        if (comm->tp_rank == 0) {
            complete = access(p, F_OK) == 0;  /* finished in an earlier run */
            if (!complete) {
                fail = shard_inputs(c, tok, d, q, &in, &n, &ids, &nids) != 0;
                if (!fail && !(ps.f = fopen(q, "a"))) fail = T5G_FAIL("cannot write %s", q) != 0;
                ps.ids_json = ids;
            }
        }
        int flags[2] = {fail, complete};
        MPI_Bcast(flags, 2, MPI_INT, 0, comm->tp);
        if (flags[0]) rc = -1;
        else if (!flags[1]) {
            rc = t5g_run_requests(m, comm, in, n, &c->gen, t5g_jsonl_sink_write, &ps, prog);
            if (ps.f && fclose(ps.f) != 0 && !rc) rc = T5G_FAIL("write error on %s", q);
            ps.f = NULL;
            if (!rc && comm->tp_rank == 0 && rename(q, p) != 0) rc = T5G_FAIL("cannot rename %s", q);  /* shard complete */
            st->generated_tokens += ps.tokens;
            st->done_now += n;
        }
        if (ps.f) fclose(ps.f);
        for (int i = 0; i < n; i++) free(in[i].ids);
        for (int i = 0; ids && i < nids; i++) free(ids[i]);
        free(ids);
        free(in);
    }
    return rc;
}

static int by_index(const void *a, const void *b) {
    const task_sample *x = a, *y = b;
    double i = cJSON_GetObjectItem(x->sample, "index")->valuedouble, j = cJSON_GetObjectItem(y->sample, "index")->valuedouble;
    return (i > j) - (i < j);
}

typedef struct { char *id; const char *text; } keyed;
static int by_id(const void *a, const void *b) { return strcmp(((const keyed *)a)->id, ((const keyed *)b)->id); }

int eval_collect(const eval_cfg *c, task_sample **out, int *nout) {
    int ns = num_shards(c);
    T5G_TRY(ns < 0 ? -1 : 0);
    char d[4200], p[4200], q[4200];
    task_sample *v = NULL;
    int n = 0, cap = 0, rc = 0;
    for (int s = 0; s < ns && !rc; s++) {
        shard_paths(c, s, ns, d, p, q, sizeof d);
        jsonl_doc data, pred;
        if (jsonl_read(d, &data)) { rc = -1; break; }
        if (jsonl_read(p, &pred)) { jsonl_free(&data); rc = T5G_FAIL("shard %d has no complete predictions (%s): rerun t5g eval to finish it", s, p); break; }
        /* id -> prediction, by binary search over the sorted prediction ids */
        keyed *keys = calloc(pred.n + 1, sizeof *keys);
        int nk = 0;
        for (int j = 0; j < pred.n && keys; j++) {
            const cJSON *t = pred.items[j] ? cJSON_GetObjectItem(pred.items[j], "prediction") : NULL;
            char *pid = pred.items[j] ? jsonl_id(pred.items[j]) : NULL;
            if (pid && cJSON_IsString(t)) { keys[nk].id = pid; keys[nk].text = t->valuestring; nk++; }
            else free(pid);
        }
        qsort(keys, nk, sizeof *keys, by_id);
        for (int i = 0; i < data.n && !rc; i++) {
            if (!data.items[i] || !in_limit(c, data.items[i])) continue;
            char *id = jsonl_id(data.items[i]);
            keyed want = {id, NULL}, *hit = id && keys ? bsearch(&want, keys, nk, sizeof *keys, by_id) : NULL;
            const char *text = hit ? hit->text : NULL;
            if (!text) rc = T5G_FAIL("%s: no prediction for sample %s; delete the file and rerun t5g eval", p, id ? id : "?");
            else {
                if (n == cap) { cap = cap ? 2 * cap : 256; v = realloc(v, sizeof *v * cap); }
                v[n].sample = cJSON_Duplicate(data.items[i], 1);
                v[n].prediction = strdup(text);
                v[n].metric = v[n].metric2 = 0;
                n++;
            }
            free(id);
        }
        for (int j = 0; j < nk; j++) free(keys[j].id);
        free(keys);
        jsonl_free(&data);
        jsonl_free(&pred);
    }
    if (rc) { eval_free_samples(v, n); return -1; }
    qsort(v, n, sizeof *v, by_index);
    *out = v;
    *nout = n;
    return 0;
}

void eval_free_samples(task_sample *s, int n) {
    for (int i = 0; i < n; i++) { cJSON_Delete(s[i].sample); free(s[i].prediction); }
    free(s);
}
