/* search.c - the search strategies' registry and common state.  Strategies: search_single.c
 * (greedy, sampling), search_beam.c (beam search, Hugging Face semantics); a new one is a file
 * search_NAME.c defining `const t5g_strategy t5g_strategy_NAME` plus its line in T5G_STRATEGIES. */
#include "generate/search_impl.h"
#include "core/err.h"
#include "generate/logits_process.h"
#include "generate/stop_strings.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry, one line per strategy, in the order --help lists them. */
#define T5G_STRATEGIES(X)                                                                                              \
    X(greedy)                                                                                                          \
    X(beam)                                                                                                            \
    X(sample)

#define T5G_DECLARE_STRATEGY(n) extern const t5g_strategy t5g_strategy_##n;
T5G_STRATEGIES(T5G_DECLARE_STRATEGY)
#define T5G_STRATEGY_ENTRY(n) &t5g_strategy_##n,
static const t5g_strategy *const STRATEGIES[] = {T5G_STRATEGIES(T5G_STRATEGY_ENTRY)};

int t5g_strategy_count(void) {
    return (int)(sizeof STRATEGIES / sizeof STRATEGIES[0]);
}

const t5g_strategy *t5g_strategy_at(int i) {
    return i >= 0 && i < t5g_strategy_count() ? STRATEGIES[i] : NULL;
}

const t5g_strategy *t5g_strategy_find(const char *name) {
    for (int i = 0; name && i < t5g_strategy_count(); i++)
        if (!strcmp(STRATEGIES[i]->name, name)) return STRATEGIES[i];
    return NULL;
}

const t5g_strategy *t5g_strategy_of(const t5g_gen_opts *o) {
    return t5g_strategy_find(o->search ? o->search : "greedy"); /* NULL: zeroed options keep meaning greedy */
}

const char *t5g_strategy_names(const char *sep, char *buf, size_t cap) {
    size_t at = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < t5g_strategy_count() && at < cap; i++) {
        int w = snprintf(buf + at, cap - at, "%s%s", i ? sep : "", STRATEGIES[i]->name);
        if (w < 0) break;
        at += (size_t)w;
    }
    return buf;
}

void t5g_search_free(t5g_search_ctx *c) {
    if (!c) return;
    free(c->live);
    free(c->rows);
    free(c->step_ids);
    free(c->logits);
    free(c->lse);
    free(c->cand);
    free(c->seq);
    free(c->seq_tmp);
    free(c->run_score);
    free(c->fin_seq);
    free(c->fin_len);
    free(c->fin_score);
    free(c->fin);
    free(c->heur);
    free(c->merge);
    free(c->add);
    free(c->prob);
    free(c->hist);
    free(c->hist_tmp);
    free(c->seq_lp);
    free(c->fin_lp);
    free(c->lp_tmp);
    free(c->old_run);
    free(c->pre);
    free(c->plen);
    free(c->hit);
    free(c);
}

t5g_search_ctx *t5g_search_new(const t5g_model *m, t5g_state *s, t5g_request *reqs, int n, const t5g_gen_opts *o) {
    t5g_search_ctx *c = t5g_calloc(1, sizeof *c, "search");
    if (!c) return NULL;
    c->m = m;
    c->s = s;
    c->reqs = reqs;
    c->n = n;
    c->o = o;
    c->st = t5g_strategy_of(o);
    if (!c->st) {
        free(c);
        T5G_FAIL("no search strategy '%s'", o->search);
        return NULL;
    }
    c->K = c->st->beams ? o->num_beams : 1;
    c->V = m->cfg.dec.vocab_size;
    c->nv = m->dec.sh.nv;
    c->v0 = m->dec.sh.v0;
    c->max_new = o->max_new_tokens;
    c->eos = t5g_gen_eos(o, m, &c->n_eos);
    c->pre = calloc(n, sizeof *c->pre);
    c->plen = calloc(n, sizeof(int));
    if (!c->pre || !c->plen) {
        t5g_search_free(c);
        T5G_FAIL("out of memory");
        return NULL;
    }
    int maxp = 0;
    for (int i = 0; i < n; i++) {
        c->pre[i] = reqs[i].prefix ? reqs[i].prefix : o->target_prefix;
        c->plen[i] = reqs[i].prefix ? reqs[i].nprefix : o->n_target_prefix;
        if (c->plen[i] > maxp) maxp = c->plen[i];
    }
    c->M = c->max_new + maxp;
    c->btk = c->st->candidates ? c->st->candidates(o, c->n_eos, c->V) : 1;
    if (c->btk > c->V) c->btk = c->V;
    size_t nk = (size_t)n * c->K, M = (size_t)c->M;
    c->live = malloc(sizeof(int) * n);
    c->rows = malloc(sizeof(int) * nk);
    c->step_ids = malloc(sizeof(int32_t) * nk);
    c->logits = malloc(sizeof(float) * nk * c->nv);
    c->lse = malloc(sizeof(float) * nk);
    c->cand = malloc(sizeof(t5g_cand) * nk * c->btk);
    c->seq = calloc(nk * M, sizeof(int32_t));
    c->seq_tmp = calloc((size_t)c->K * M, sizeof(int32_t));
    c->run_score = calloc(nk, sizeof(float));
    c->fin_seq = calloc(nk * M, sizeof(int32_t));
    c->fin_len = calloc(nk, sizeof(int));
    c->fin_score = calloc(nk, sizeof(float));
    c->fin = calloc(nk, 1);
    c->heur = calloc(n, 1);
    c->merge = malloc(sizeof(t5g_cand) * (size_t)c->K * c->btk);
    c->add = malloc(sizeof(float) * nk);
    c->prob = malloc(sizeof(double) * c->btk);
    c->hit = malloc((size_t)c->K * c->btk + 1);
    c->hist = malloc(sizeof(int32_t) * (M + 1));
    c->hist_tmp = malloc(sizeof(int32_t) * (M + 1));
    c->old_run = malloc(sizeof(float) * c->K);
    if (o->token_scores) {
        c->seq_lp = calloc(nk * M, sizeof(float));
        c->fin_lp = calloc(nk * M, sizeof(float));
        c->lp_tmp = calloc((size_t)c->K * M, sizeof(float));
    }
    int lp_ok = !o->token_scores || (c->seq_lp && c->fin_lp && c->lp_tmp);
    if (!lp_ok || !c->old_run || !c->hist || !c->hist_tmp || !c->live || !c->rows || !c->step_ids || !c->logits ||
        !c->lse || !c->cand || !c->seq || !c->seq_tmp || !c->run_score || !c->fin_seq || !c->fin_len || !c->fin_score ||
        !c->fin || !c->heur || !c->merge || !c->add || !c->prob || !c->hit) {
        t5g_search_free(c);
        T5G_FAIL("out of memory for the search state of a batch of %d (beams %d, vocab %d)", n, c->K, c->V);
        return NULL;
    }
    return c;
}

int t5g_search_is_eos(const t5g_search_ctx *c, int id) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos[i] == id) return 1;
    return 0;
}

int t5g_search_stops(t5g_search_ctx *c, int q, const int32_t *seq, int len, int32_t tok) {
    if (t5g_search_is_eos(c, tok) || len + 1 - c->plen[q] >= c->max_new) return 1;
    if (!c->o->stop_strings) return 0;
    c->hist[0] = c->m->cfg.decoder_start_token_id; /* HF matches over the decoder ids, start token included */
    memcpy(c->hist + 1, seq, sizeof(int32_t) * len);
    return t5g_stop_strings_hit(c->o->stop_strings, c->hist, len + 1, tok);
}

/* malloc'd copies of n ids and (lp != NULL) nlp log-probabilities */
static int copy_hyp(const int32_t *seq, const float *lp, int n, int nlp, int32_t **ids, float **lps) {
    *ids = malloc(sizeof(int32_t) * (n ? n : 1));
    *lps = lp ? malloc(sizeof(float) * (nlp ? nlp : 1)) : NULL;
    if (!*ids || (lp && !*lps)) {
        free(*ids);
        free(*lps);
        *ids = NULL;
        *lps = NULL;
        return T5G_FAIL("out of memory storing a result");
    }
    memcpy(*ids, seq, sizeof(int32_t) * n);
    if (lp) memcpy(*lps, lp, sizeof(float) * nlp);
    return 0;
}

int t5g_search_finish(t5g_search_ctx *c, int q, t5g_request *r, const int32_t *seq, const float *lp, int len,
                      float score) {
    int P = c->plen[q];
    T5G_TRY(copy_hyp(seq, lp ? lp + P : NULL, len, len - P, &r->out, &r->token_lp));
    r->nout = len;
    r->nforced = P;
    r->eos = len > P && t5g_search_is_eos(c, seq[len - 1]);
    r->score = score;
    return 0;
}

int t5g_search_finish_pool(t5g_search_ctx *c, int q, t5g_request *r, const int32_t *seq, const float *lp,
                           const int *len, const float *score) {
    int M = c->M, N = c->o->num_return_sequences, P = c->plen[q];
    T5G_TRY(t5g_search_finish(c, q, r, seq, lp, len[0], score[0])); /* HF: sequences[:, 0], sequences_scores[:, 0] */
    if (N <= 1) return 0;
    r->hyp = calloc(N, sizeof *r->hyp);
    T5G_CHECK(r->hyp, "out of memory storing %d hypotheses", N);
    for (int k = 0; k < N; k++) {
        const int32_t *s = seq + (size_t)k * M;
        T5G_TRY(
            copy_hyp(s, lp ? lp + (size_t)k * M + P : NULL, len[k], len[k] - P, &r->hyp[k].ids, &r->hyp[k].token_lp));
        r->hyp[k].n = len[k];
        r->hyp[k].score = score[k];
        r->hyp[k].eos = len[k] > P && t5g_search_is_eos(c, s[len[k] - 1]);
        r->nhyp = k + 1;
    }
    return 0;
}

/* the start token is prepended to gen here, as in HF's decoder input_ids */
void t5g_search_process_row(t5g_search_ctx *c, int row, int q, const int32_t *gen, int len, float lse) {
    c->hist[0] = c->m->cfg.decoder_start_token_id;
    memcpy(c->hist + 1, gen, sizeof(int32_t) * len);
    t5g_process_row(c->o, c->eos, c->n_eos, c->logits + (size_t)row * c->nv, c->nv, c->v0, c->hist, len + 1,
                    1 + c->plen[q], lse, c->hist_tmp);
}

int t5g_search_run(t5g_search_ctx *c) {
    T5G_CHECK(c, "no search context");
    return c->st->run(c);
}
