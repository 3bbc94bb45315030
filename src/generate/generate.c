/* generate.c - the decode loop for one batch: encoder once, cross K/V once, then one
 * decoder step per generated token with the KV cache; finished requests leave the batch. */
#include "generate/generate.h"
#include "generate/search.h"
#include "generate/logits_process.h"
#include "core/err.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void t5g_gen_defaults(t5g_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->search = "greedy";
    o->max_new_tokens = 128;
    o->num_beams = 1;
    o->length_penalty = 1.0f;
    o->temperature = 1.0f;
    o->top_k = 50;
    o->top_p = 1.0f;
    o->repetition_penalty = 1.0f;
    o->num_return_sequences = 1;
    o->batch_size = 32;
}

const int *t5g_gen_eos(const t5g_gen_opts *o, const t5g_model *m, int *n) {
    if (o->n_eos > 0) {
        *n = o->n_eos;
        return o->eos_token_ids;
    }
    *n = m->cfg.n_eos;
    return m->cfg.eos_token_ids;
}

int t5g_gen_validate(const t5g_gen_opts *o) {
    T5G_CHECK(o, "no generation options");
    const t5g_strategy *st = t5g_strategy_of(o);
    if (!st) {
        char names[256];
        return T5G_FAIL("no search strategy '%s' (the strategies: %s)", o->search,
                        t5g_strategy_names(", ", names, sizeof names));
    }
    T5G_CHECK(o->max_new_tokens >= 1, "--max-new-tokens must be >= 1");
    T5G_CHECK(o->num_beams >= 1, "--beams must be >= 1");
    if (st->validate) T5G_TRY(st->validate(o));
    T5G_CHECK(o->temperature > 0, "--temperature must be > 0");
    T5G_CHECK(o->top_k >= 0, "--top-k must be >= 0");
    T5G_CHECK(o->top_p > 0 && o->top_p <= 1, "--top-p must be in (0, 1]");
    T5G_CHECK(o->batch_size >= 1, "--batch-size must be >= 1");
    T5G_CHECK(o->num_return_sequences >= 1 && o->num_return_sequences <= o->num_beams,
              "--num-return-sequences must be between 1 and --beams (%d)", o->num_beams);
    T5G_CHECK(o->num_return_sequences == 1 || st->beams, "--num-return-sequences > 1 needs beam search (--beams K)");
    T5G_TRY(t5g_process_validate(o));
    T5G_CHECK(o->max_tokens_per_batch >= 0, "--max-tokens-per-batch must be >= 0");
    T5G_CHECK(o->n_eos >= 0 && o->n_eos <= T5G_MAX_EOS, "--eos-token-ids takes 1..%d ids", T5G_MAX_EOS);
    for (int i = 0; i < o->n_eos; i++)
        T5G_CHECK(o->eos_token_ids[i] >= 0, "--eos-token-ids: ids are >= 0, got %d", o->eos_token_ids[i]);
    T5G_CHECK(o->n_target_prefix >= 0 && (o->n_target_prefix == 0 || o->target_prefix), "--target-prefix: no ids");
    return 0;
}

void t5g_request_clear(t5g_request *r) {
    free(r->out);
    free(r->token_lp);
    for (int i = 0; i < r->nhyp; i++) {
        free(r->hyp[i].ids);
        free(r->hyp[i].token_lp);
    }
    free(r->hyp);
    r->out = NULL;
    r->token_lp = NULL;
    r->hyp = NULL;
    r->nout = 0;
    r->nhyp = 0;
    r->nforced = 0;
    r->eos = 0;
}

static const t5g_request *g_sort_reqs;
static int by_length(const void *a, const void *b) {
    const t5g_request *x = &g_sort_reqs[*(const int *)a], *y = &g_sort_reqs[*(const int *)b];
    if (x->n != y->n) return y->n - x->n;
    return (x->index > y->index) - (x->index < y->index);
}

int t5g_plan_batches(const t5g_request *reqs, int n, const t5g_gen_opts *o, int **order, int **starts, int *nb) {
    T5G_CHECK(reqs && o && order && starts && nb && n >= 0, "t5g_plan_batches: bad arguments");
    int *ord = malloc(sizeof(int) * (n + 1)), *st = malloc(sizeof(int) * (n + 2));
    T5G_CHECK(ord && st, "out of memory planning batches");
    for (int i = 0; i < n; i++) ord[i] = i;
    g_sort_reqs = reqs;
    qsort(ord, n, sizeof(int), by_length);
    int k = 0;
    for (int i = 0; i < n;) {
        st[k++] = i;
        int maxlen = reqs[ord[i]].n, cnt = 0;
        while (i < n && cnt < o->batch_size) {
            /* sorted longest first: the batch pads to its first request's length */
            if (o->max_tokens_per_batch && cnt > 0 && (int64_t)(cnt + 1) * maxlen > o->max_tokens_per_batch) break;
            i++;
            cnt++;
        }
    }
    st[k] = n;
    *order = ord;
    *starts = st;
    *nb = k;
    return 0;
}

/* ---- the loop ---- */

int t5g_generate_batch(const t5g_model *m, t5g_request *reqs, int n, const t5g_gen_opts *o) {
    T5G_CHECK(m && reqs && n > 0, "t5g_generate_batch: bad arguments");
    T5G_TRY(t5g_gen_validate(o));
    int K = t5g_strategy_of(o)->beams ? o->num_beams : 1, Le = 1, maxp = 0, V = m->cfg.dec.vocab_size, neos = 0;
    const int *eos = t5g_gen_eos(o, m, &neos);
    for (int i = 0; i < neos; i++) T5G_CHECK(eos[i] < V, "eos id %d is outside the decoder vocabulary (%d)", eos[i], V);
    for (int i = 0; i < n; i++) {
        T5G_CHECK(reqs[i].n >= 1 && reqs[i].ids, "request %lld has no input tokens", (long long)reqs[i].index);
        if (reqs[i].n > Le) Le = reqs[i].n;
        const int32_t *pre = reqs[i].prefix ? reqs[i].prefix : o->target_prefix;
        int np = reqs[i].prefix ? reqs[i].nprefix : o->n_target_prefix;
        for (int t = 0; t < np; t++)
            T5G_CHECK(pre[t] >= 0 && pre[t] < V,
                      "request %lld: target prefix id %d is outside the decoder vocabulary (%d)",
                      (long long)reqs[i].index, pre[t], V);
        if (np > maxp) maxp = np;
        reqs[i].nforced = 0;
        reqs[i].eos = 0;
        reqs[i].out = NULL;
        reqs[i].nout = 0;
        reqs[i].score = 0;
        reqs[i].token_lp = NULL;
        reqs[i].nhyp = 0;
        reqs[i].hyp = NULL;
    }
    int pad = m->cfg.pad_token_id;
    int32_t *ids = malloc(sizeof(int32_t) * n * Le), *mask = malloc(sizeof(int32_t) * n * Le);
    t5g_state *s = ids && mask ? t5g_state_new(m, n, Le, n * K, o->max_new_tokens + 1 + maxp) : NULL;
    t5g_search_ctx *sc = s ? t5g_search_new(m, s, reqs, n, o) : NULL;
    int rc = -1;
    if (!sc) {
        if (!t5g_last_error()[0]) T5G_FAIL("out of memory for a batch of %d", n);
        goto done;
    }
    for (int i = 0; i < n; i++) /* right padding, as HF tokenizers pad */
        for (int t = 0; t < Le; t++) {
            ids[i * Le + t] = t < reqs[i].n ? reqs[i].ids[t] : pad;
            mask[i * Le + t] = t < reqs[i].n;
        }
    if (t5g_encode(s, ids, mask)) goto done;
    if (t5g_search_run(sc)) goto done;
    rc = 0;
done:
    t5g_search_free(sc);
    t5g_state_free(s);
    free(ids);
    free(mask);
    return rc;
}
