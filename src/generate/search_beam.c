/* search_beam.c - beam search over one batch.
 *
 * Beam search follows transformers' `_beam_search` (v4.50+ vectorised form, read in
 * transformers 5.24 generation/utils.py; rules written down in docs/generation.md):
 * per request, the top max(2, 1+n_eos)·K continuations of (running score + log-softmax);
 * the best K that do not stop continue; those among the top K that stop (eos, or max length)
 * enter the finished set with score / len^lp (len = generated tokens incl. eos), subject to
 * the early-stopping heuristic; the request ends when the heuristic says no improvement is
 * possible, when early_stopping=True and K hypotheses are finished, or at max length. */
#include "generate/search_impl.h"
#include "core/err.h"
#include "generate/logits_process.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BEAMS      64  /* per request */
#define MAX_CANDIDATES 192 /* (1 + eos ids) x beams per request and step */

static double penalty(const t5g_gen_opts *o, int len) {
    return o->gnmt_penalty ? pow((5.0 + len) / 6.0, o->length_penalty) : pow((double)len, o->length_penalty);
}

/* One request's view of the search state (beam k of request q at index k). */
typedef struct {
    int q, base;         /* request, its first row in this step's logits */
    t5g_cand *all;       /* its merged, sorted candidates (flat id k·V + token) */
    float *run, *fsc;    /* running scores, finished scores */
    unsigned char *fin;  /* finished-slot flags */
    int32_t *seq, *fseq; /* running and finished sequences [K][M] */
    int *flen;           /* finished lengths */
    float *slp, *flp;    /* token_scores: log-probabilities beside seq, fseq (else NULL) */
} beam_view;

/* slot k of dst (ids and, when kept, log-probabilities) = slot `from` of src, plus the step's token */
static void copy_slot(const t5g_search_ctx *c, int32_t *dst, float *dlp, int k, const int32_t *src, const float *slp,
                      int from) {
    int M = c->M;
    memcpy(dst + (size_t)k * M, src + (size_t)from * M, sizeof(int32_t) * M);
    if (dlp) memcpy(dlp + (size_t)k * M, slp + (size_t)from * M, sizeof(float) * M);
}

/* HF's stopping criteria on each candidate (its beam's ids + its token): eos, the last
 * position, a stop string; c->hit[i] for candidate i of request q. */
static void candidates_stop(t5g_search_ctx *c, const beam_view *v) {
    int n = c->K * c->btk, len = c->cur_len - 1;
    for (int i = 0; i < n; i++) {
        int id = v->all[i].id;
        if (id == 0x7fffffff) c->hit[i] = (unsigned char)(len + 1 - c->plen[v->q] >= c->max_new);
        else c->hit[i] = (unsigned char)t5g_search_stops(c, v->q, v->seq + (size_t)(id / c->V) * c->M, len, id % c->V);
    }
}

/* HF _get_top_k_continuations: the K·btk per-beam candidates merged and sorted; the flat index
 * k·V + id orders ties like torch.topk over the flattened beams. */
static void top_k_continuations(t5g_search_ctx *c, const beam_view *v) {
    int K = c->K, btk = c->btk;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < btk; j++) {
            t5g_cand x = c->cand[(size_t)(v->base + k) * btk + j];
            v->all[k * btk + j].value = x.value;
            v->all[k * btk + j].id = x.id == 0x7fffffff ? 0x7fffffff : k * c->V + x.id;
        }
    qsort(v->all, (size_t)K * btk, sizeof *v->all, t5g_cand_cmp); /* the flat index k·V + id breaks ties */
}

/* HF _update_finished_beams: candidates among the first K that stop enter the finished set
 * with score / penalty(len) unless the early-stopping rules mask them (-1e9); the set keeps
 * its best K (ties to the earlier entry).  Returns 1 if every candidate stops. */
static int update_finished_beams(t5g_search_ctx *c, const beam_view *v) {
    const t5g_gen_opts *o = c->o;
    int K = c->K, btk = c->btk, V = c->V, M = c->M, gen = c->cur_len; /* ids after this step, prefix included */
    const t5g_cand *all = v->all;
    int all_fin = 1;
    for (int k = 0; k < K; k++) all_fin &= v->fin[k];
    float den = (float)penalty(o, gen - c->plen[v->q]); /* HF: cur_len + 1 - decoder_prompt_len */
    typedef struct {
        float score;
        int from;
        int idx;
    } slot;
    slot merged[MAX_BEAMS + MAX_CANDIDATES];
    int nm = 0;
    for (int k = 0; k < K; k++) merged[nm++] = (slot){v->fsc[k], -1, k};
    int hits_all = 1;
    for (int i = 0; i < btk; i++) {
        int hit = c->hit[i];
        hits_all &= hit;
        float sc = all[i].value / den;
        if (o->early_stopping == T5G_EARLY_TRUE && all_fin) sc += -1.0e9f;
        if (!c->heur[v->q]) sc += -1.0e9f;
        if (!(hit && i < K)) sc += -1.0e9f;
        merged[nm++] = (slot){sc, i, 0};
    }
    int32_t *newf = c->seq_tmp;
    float *nlp = v->flp ? c->lp_tmp : NULL;
    float nsc[MAX_BEAMS];
    int nlen[MAX_BEAMS];
    unsigned char nfin[MAX_BEAMS], used[MAX_BEAMS + MAX_CANDIDATES] = {0};
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int j = 0; j < nm; j++)
            if (!used[j] && (best < 0 || merged[j].score > merged[best].score)) best = j;
        used[best] = 1;
        nsc[k] = merged[best].score;
        if (merged[best].from < 0) {
            int e = merged[best].idx;
            copy_slot(c, newf, nlp, k, v->fseq, v->flp, e);
            nlen[k] = v->flen[e];
            nfin[k] = v->fin[e];
        } else {
            int i = merged[best].from, b = all[i].id / V;
            copy_slot(c, newf, nlp, k, v->seq, v->slp, b);
            newf[(size_t)k * M + gen - 1] = all[i].id % V;
            if (nlp) nlp[(size_t)k * M + gen - 1] = all[i].value - c->old_run[b];
            nlen[k] = gen;
            nfin[k] = (unsigned char)(i < K && c->hit[i]);
        }
    }
    memcpy(v->fseq, newf, sizeof(int32_t) * K * M);
    if (nlp) memcpy(v->flp, nlp, sizeof(float) * K * M);
    for (int k = 0; k < K; k++) {
        v->fsc[k] = nsc[k];
        v->flen[k] = nlen[k];
        v->fin[k] = nfin[k];
    }
    return hits_all;
}

/* HF _get_running_beams_for_next_iteration: the best K candidates that do not stop continue;
 * src[k] receives the row each new beam k continues. */
static void running_beams_for_next_iteration(t5g_search_ctx *c, const beam_view *v, int *src) {
    int K = c->K, btk = c->btk, V = c->V, M = c->M, gen = c->cur_len;
    const t5g_cand *all = v->all;
    int32_t *newf = c->seq_tmp;
    float *nlp = v->slp ? c->lp_tmp : NULL;
    unsigned char taken[MAX_CANDIDATES] = {0};
    for (int k = 0; k < K; k++) {
        int best = -1;
        float bv = 0;
        for (int i = 0; i < btk; i++) {
            if (taken[i]) continue;
            float val = all[i].value + (c->hit[i] ? -1.0e9f : 0.0f);
            if (best < 0 || val > bv) {
                best = i;
                bv = val;
            }
        }
        taken[best] = 1;
        int b = all[best].id / V;
        copy_slot(c, newf, nlp, k, v->seq, v->slp, b);
        newf[(size_t)k * M + gen - 1] = all[best].id % V;
        if (nlp) nlp[(size_t)k * M + gen - 1] = all[best].value - c->old_run[b];
        src[k] = v->base + b;
        v->run[k] = bv;
        c->step_ids[v->base + k] = all[best].id % V; /* rewritten after the row reorder */
    }
    memcpy(v->seq, newf, sizeof(int32_t) * K * M);
    if (nlp) memcpy(v->slp, nlp, sizeof(float) * K * M);
}

/* HF _check_early_stop_heuristic for the next step (cur_len + 1): can the best running beam
 * still beat the worst finished one? */
static void check_early_stop_heuristic(t5g_search_ctx *c, const beam_view *v) {
    const t5g_gen_opts *o = c->o;
    int prompt = 1 + c->plen[v->q], K = c->K, max_length = prompt + c->max_new, next = c->cur_len + 1;
    int best_len =
        (o->early_stopping == T5G_EARLY_NEVER && o->length_penalty > 0) ? max_length - prompt : next - prompt;
    float best_possible = v->run[0] / (float)penalty(o, best_len);
    float minf = v->fsc[0];
    for (int k = 1; k < K; k++)
        if (v->fsc[k] < minf) minf = v->fsc[k];
    int any = 0;
    for (int k = 0; k < K; k++) any |= best_possible > (v->fin[k] ? minf : -1.0e9f);
    c->heur[v->q] = c->heur[v->q] && any;
}

/* One beam step for request q whose K rows start at `base`; writes the K source rows of its
 * next beams to src[0..K).  Returns 1 if the request is finished (HF
 * _beam_search_has_unfinished_sequences, per request). */
static int beam_step_request(t5g_search_ctx *c, int q, int base, int *src) {
    int K = c->K, M = c->M;
    size_t at = (size_t)q * K * M;
    beam_view v = {q,
                   base,
                   c->merge,
                   c->run_score + (size_t)q * K,
                   c->fin_score + (size_t)q * K,
                   c->fin + (size_t)q * K,
                   c->seq + at,
                   c->fin_seq + at,
                   c->fin_len + (size_t)q * K,
                   c->seq_lp ? c->seq_lp + at : NULL,
                   c->fin_lp ? c->fin_lp + at : NULL};
    memcpy(c->old_run, v.run, sizeof(float) * K); /* a token's log-probability: its value minus these */
    top_k_continuations(c, &v);
    candidates_stop(c, &v);
    int hits_all = update_finished_beams(c, &v);
    running_beams_for_next_iteration(c, &v, src);
    check_early_stop_heuristic(c, &v);
    int all_fin = 1;
    for (int k = 0; k < K; k++) all_fin &= v.fin[k];
    return !c->heur[q] || (c->o->early_stopping == T5G_EARLY_TRUE && all_fin) || hits_all ||
           c->cur_len + 1 >= 1 + c->plen[q] + c->max_new;
}

/* A step inside request q's forced prefix: every beam takes the prefix token, scores and
 * finished pool unchanged (HF feeds the prefix as decoder input ids and starts scoring after it). */
static int forced_step(t5g_search_ctx *c, int q, int base, int *src) {
    int K = c->K, M = c->M, at = c->cur_len - 1;
    int32_t t = c->pre[q][at];
    for (int k = 0; k < K; k++) {
        c->seq[((size_t)q * K + k) * M + at] = t;
        c->step_ids[base + k] = t;
        src[k] = base + k;
    }
    return 0;
}

static int beam_validate(const t5g_gen_opts *o) {
    T5G_CHECK(o->num_beams >= 1 && o->num_beams <= MAX_BEAMS, "--beams must be 1..%d (beam search's limit), got %d",
              MAX_BEAMS, o->num_beams);
    return 0;
}

/* HF's beams_to_keep: max(2, 1 + eos ids) per beam, so that K continue whatever stops */
static int beam_candidates(const t5g_gen_opts *o, int n_eos, int vocab) {
    return (n_eos + 1 > 2 ? n_eos + 1 : 2) * o->num_beams;
}

static int beam_run(t5g_search_ctx *c) {
    const t5g_model *m = c->m;
    t5g_state *s = c->s;
    int K = c->K, M = c->M;
    T5G_TRY(beam_validate(c->o)); /* the stack arrays are sized by MAX_BEAMS */
    T5G_CHECK(c->btk <= MAX_CANDIDATES,
              "beam search keeps max(2, 1 + eos ids) x beams candidates per request, at most %d: with %d eos ids and "
              "%d beams, %d; use fewer beams or fewer eos ids (--eos-token-ids)",
              MAX_CANDIDATES, c->n_eos, K, c->btk);
    int *cross = malloc(sizeof(int) * c->n * K), *src = malloc(sizeof(int) * K);
    int32_t *next_ids = malloc(sizeof(int32_t) * c->n * K);
    if (!cross || !src || !next_ids) {
        free(cross);
        free(src);
        free(next_ids);
        return T5G_FAIL("out of memory for beam search over %d requests x %d beams", c->n, K);
    }
    for (int q = 0; q < c->n; q++) {
        c->live[q] = q;
        c->heur[q] = 1;
        for (int k = 0; k < K; k++) {
            cross[q * K + k] = q; /* beams share their request's cross K/V */
            c->run_score[q * K + k] = k == 0 ? 0.0f : -1.0e9f;
            c->fin_score[q * K + k] = -1.0e9f;
            c->step_ids[q * K + k] = m->cfg.decoder_start_token_id;
        }
    }
    c->nlive = c->n;
    int rc = t5g_decoder_rows(s, cross, c->n * K);
    for (c->cur_len = 1; !rc && c->nlive > 0; c->cur_len++) {
        int rows = c->nlive * K;
        if ((rc = t5g_decode(s, c->step_ids, NULL, 1, NULL, c->logits, 1))) break;
        if ((rc = t5g_vocab_logsumexp(m->comm, c->logits, rows, c->nv, c->lse))) break;
        if (t5g_processing_on(c->o)) /* on the log-probabilities, as HF's beam search */
            for (int j = 0; j < c->nlive; j++)
                for (int k = 0; k < K; k++)
                    if (c->cur_len - 1 >= c->plen[c->live[j]])
                        t5g_search_process_row(c, j * K + k, c->live[j], c->seq + ((size_t)c->live[j] * K + k) * M,
                                               c->cur_len - 1, c->lse[j * K + k]);
        /* accumulated log-probs: (logit - lse) + running score of the row's beam */
        float *add = c->add;
        for (int j = 0; j < c->nlive; j++)
            for (int k = 0; k < K; k++) add[j * K + k] = c->run_score[(size_t)c->live[j] * K + k];
        rc = t5g_vocab_topk(m->comm, c->logits, rows, c->nv, c->v0, c->btk, c->lse, add, c->cand);
        if (rc) break;
        int kept = 0;
        for (int j = 0; j < c->nlive && !rc; j++) {
            int q = c->live[j];
            int done =
                c->cur_len - 1 < c->plen[q] ? forced_step(c, q, j * K, src) : beam_step_request(c, q, j * K, src);

            if (done) { /* best finished hypothesis; HF returns sequences[:, 0] and beam_scores[:, 0] */
                size_t at = (size_t)q * K * M;
                rc = t5g_search_finish_pool(c, q, &c->reqs[q], c->fin_seq + at, c->fin_lp ? c->fin_lp + at : NULL,
                                            c->fin_len + (size_t)q * K, c->fin_score + (size_t)q * K);
                continue;
            }
            for (int k = 0; k < K; k++) {
                c->rows[kept * K + k] = src[k];
                next_ids[kept * K + k] = c->step_ids[j * K + k];
            }
            c->live[kept++] = q;
        }
        if (rc) break;
        c->nlive = kept;
        memcpy(c->step_ids, next_ids, sizeof(int32_t) * kept * K);
        if (kept) rc = t5g_select_rows(s, c->rows, kept * K); /* beam reorder + finished requests leave */
    }
    free(cross);
    free(src);
    free(next_ids);
    return rc;
}

const t5g_strategy t5g_strategy_beam = {
    .name = "beam", .beams = 1, .candidates = beam_candidates, .validate = beam_validate, .run = beam_run};
