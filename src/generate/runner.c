/* runner.c - see runner.h */
#include "generate/runner.h"
#include "core/json.h"
#include "core/hash.h"
#include "core/err.h"
#include "text/tokenizer.h"
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t t5g_request_seed(const char *id_json, uint64_t seed) {
    return t5g_fnv1a64_str(id_json) ^ (seed * 0x9e3779b97f4a7c15ull);
}

char *t5g_request_text(const t5g_tokenizer *tok, const t5g_request *r) {
    int n = r->eos && r->nout > 0 ? r->nout - 1 : r->nout;
    return tok ? t5g_tokenizer_decode(tok, r->out, (size_t)n, 0, NULL) : strdup("");
}

static void add_floats(cJSON *o, const char *key, const float *v, int n) {
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
}

/* --num-return-sequences N: "hypotheses": the N best, best first, each with its text, score
 * and (like the line itself) output_ids and token_logprobs */
static int add_hypotheses(t5g_jsonl_sink *s, cJSON *o, const t5g_request *r) {
    cJSON *hs = cJSON_AddArrayToObject(o, "hypotheses");
    for (int k = 0; k < r->nhyp; k++) {
        t5g_request one = {.out = r->hyp[k].ids, .nout = r->hyp[k].n, .eos = r->hyp[k].eos};
        char *text = t5g_request_text(s->tok, &one);
        if (!text) return -1;
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, s->text_key, text);
        free(text);
        if (s->output_ids) {
            cJSON *ids = cJSON_AddArrayToObject(h, "output_ids");
            for (int i = 0; i < one.nout; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(one.out[i]));
        }
        cJSON_AddNumberToObject(h, "score", r->hyp[k].score);
        if (r->hyp[k].token_lp)
            add_floats(h, "token_logprobs", r->hyp[k].token_lp, one.nout - r->nforced); /* generated tokens only */
        cJSON_AddItemToArray(hs, h);
    }
    return 0;
}

int t5g_jsonl_sink_write(void *ctx, const t5g_gen_input *in, const t5g_request *r) {
    t5g_jsonl_sink *s = ctx;
    if (!r) /* a batch is complete: one flush (a crash loses at most the batch in flight) */
        return fflush(s->f) != 0 ? T5G_FAIL("cannot write results (disk full?)") : 0;
    char *text = t5g_request_text(s->tok, r);
    if (!text) return -1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "id", cJSON_CreateRaw(s->ids_json[in->index])); /* compact JSON text already */
    cJSON_AddStringToObject(o, s->text_key, text);
    if (s->output_ids) {
        cJSON *ids = cJSON_AddArrayToObject(o, "output_ids");
        for (int i = 0; i < r->nout; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(r->out[i]));
    } else {
        cJSON_AddNumberToObject(o, "tokens", r->nout);
    }
    if (r->nforced > 0) cJSON_AddNumberToObject(o, "prefix_tokens", r->nforced); /* output_ids start with them */
    if (!isnan(r->score)) cJSON_AddNumberToObject(o, "score", r->score);         /* greedy/sample: only with --scores */
    if (r->token_lp) add_floats(o, "token_logprobs", r->token_lp, r->nout - r->nforced); /* generated tokens only */
    if (r->nhyp > 1 && add_hypotheses(s, o, r)) {
        cJSON_Delete(o);
        free(text);
        return -1;
    }
    char *line = t5g_json_print(o, 0, "a result line");
    cJSON_Delete(o);
    free(text);
    if (!line) return -1;
    int bad = fprintf(s->f, "%s\n", line) < 0;
    free(line);
    s->tokens += r->nout;
    return bad ? T5G_FAIL("cannot write results (disk full?)") : 0;
}

int t5g_gen_list_emit(void *ctx, jsonl_req *r) {
    t5g_gen_list *l = ctx;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        t5g_gen_input *in = realloc(l->in, sizeof *in * cap);
        if (in) l->in = in;
        char **ids = in ? realloc(l->ids_json, sizeof *ids * cap) : NULL;
        if (ids) l->ids_json = ids;
        if (!in || !ids) {
            jsonl_req_free(r);
            return T5G_FAIL("out of memory reading requests");
        }
        l->cap = cap;
    }
    l->in[l->n] = (t5g_gen_input){.index = l->n,
                                  .seed = t5g_request_seed(r->id_json, l->seed),
                                  .ids = r->ids,
                                  .n = (int)r->n,
                                  .prefix = r->prefix,
                                  .nprefix = r->nprefix};
    l->ids_json[l->n++] = r->id_json;
    memset(r, 0, sizeof *r);
    return 0;
}

void t5g_gen_list_free(t5g_gen_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->in[i].ids);
        free(l->in[i].prefix);
        free(l->ids_json[i]);
    }
    free(l->in);
    free(l->ids_json);
    memset(l, 0, sizeof *l);
}

/* Give every rank of the group the same inputs (ids, then prefixes, concatenated). */
static int share_inputs(t5g_comm *comm, const t5g_gen_input *in, int n, t5g_gen_input **out, int *nout,
                        int32_t **pool) {
    int64_t hdr[2] = {n, 0};
    if (comm->tp_rank == 0)
        for (int i = 0; i < n; i++) hdr[1] += in[i].n + in[i].nprefix;
    MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm->tp);
    int cnt = (int)hdr[0];
    t5g_gen_input *v = calloc(cnt ? cnt : 1, sizeof *v);
    int32_t *ids = malloc(sizeof(int32_t) * (hdr[1] ? hdr[1] : 1));
    int64_t *meta = malloc(sizeof(int64_t) * 5 * (cnt ? cnt : 1));
    if (!v || !ids || !meta) {
        free(v);
        free(ids);
        free(meta);
        return T5G_FAIL("out of memory sharing %d inputs", cnt);
    }
    if (comm->tp_rank == 0) {
        int64_t off = 0;
        for (int i = 0; i < n; i++) {
            int64_t *mt = meta + 5 * i;
            mt[0] = in[i].index;
            mt[1] = (int64_t)in[i].seed;
            mt[2] = in[i].n;
            mt[3] = in[i].prefix ? in[i].nprefix : -1; /* -1: none of its own */
            mt[4] = 0;
            memcpy(ids + off, in[i].ids, sizeof(int32_t) * in[i].n);
            off += in[i].n;
            if (in[i].prefix && in[i].nprefix) memcpy(ids + off, in[i].prefix, sizeof(int32_t) * in[i].nprefix);
            off += in[i].prefix ? in[i].nprefix : 0;
        }
    }
    MPI_Bcast(meta, 5 * cnt, MPI_INT64_T, 0, comm->tp);
    for (int64_t off = 0; off < hdr[1]; off += 1 << 28) {
        int c = (int)(hdr[1] - off < (1 << 28) ? hdr[1] - off : (1 << 28));
        MPI_Bcast(ids + off, c, MPI_INT32_T, 0, comm->tp);
    }
    int64_t off = 0;
    for (int i = 0; i < cnt; i++) {
        const int64_t *mt = meta + 5 * i;
        v[i].index = mt[0];
        v[i].seed = (uint64_t)mt[1];
        v[i].n = (int)mt[2];
        v[i].ids = ids + off;
        off += v[i].n;
        if (mt[3] >= 0) {
            v[i].prefix = ids + off;
            v[i].nprefix = (int)mt[3];
            off += mt[3];
        }
    }
    free(meta);
    *out = v;
    *nout = cnt;
    *pool = ids;
    return 0;
}

int t5g_run_requests(const t5g_model *m, t5g_comm *comm, const t5g_gen_input *in, int n, const t5g_gen_opts *o,
                     t5g_gen_sink sink, void *ctx, t5g_progress *prog) {
    T5G_CHECK(m && comm && o, "t5g_run_requests: NULL argument");
    T5G_TRY(t5g_gen_validate(o));
    t5g_gen_input *all = NULL;
    int32_t *pool = NULL;
    int cnt = 0;
    T5G_TRY(share_inputs(comm, in, n, &all, &cnt, &pool));
    t5g_request *reqs = calloc(cnt ? cnt : 1, sizeof *reqs);
    int *order = NULL, *starts = NULL, nb = 0, rc = 0;
    if (!reqs) {
        rc = T5G_FAIL("out of memory");
        goto done;
    }
    for (int i = 0; i < cnt; i++) {
        reqs[i].index = i;
        reqs[i].seed = all[i].seed;
        reqs[i].ids = all[i].ids;
        reqs[i].n = all[i].n;
        reqs[i].prefix = all[i].prefix;
        reqs[i].nprefix = all[i].nprefix;
    }
    if ((rc = t5g_plan_batches(reqs, cnt, o, &order, &starts, &nb))) goto done;
    t5g_request *batch = calloc(o->batch_size + 1, sizeof *batch);
    if (!batch) {
        rc = T5G_FAIL("out of memory");
        goto done;
    }
    for (int b = 0; b < nb && !rc; b++) {
        int bn = starts[b + 1] - starts[b];
        for (int j = 0; j < bn; j++) batch[j] = reqs[order[starts[b] + j]];
        int fail = t5g_generate_batch(m, batch, bn, o) != 0;
        int64_t toks = 0;
        for (int j = 0; j < bn && !fail; j++) {
            toks += batch[j].nout;
            if (comm->tp_rank == 0 && sink && sink(ctx, &all[batch[j].index], &batch[j])) fail = 1;
        }
        if (!fail && comm->tp_rank == 0 && sink && sink(ctx, NULL, NULL)) fail = 1;
        for (int j = 0; j < bn; j++) t5g_request_clear(&batch[j]);
        if (t5g_any_failed(comm->tp, fail)) {
            rc = fail ? -1 : T5G_FAIL("another rank of the tensor-parallel group failed");
            break;
        }
        if (prog) t5g_progress_add(prog, bn, toks);
    }
    free(batch);
done:
    free(reqs);
    free(order);
    free(starts);
    free(all);
    free(pool);
    return rc;
}
