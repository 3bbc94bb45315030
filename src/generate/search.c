/* search.c - greedy, beam search and sampling over one batch.
 *
 * Beam search follows transformers' `_beam_search` (v4.50+ vectorised form, read in
 * transformers 5.24 generation/utils.py; rules written down in docs/generation.md):
 * per request, the top max(2, 1+n_eos)·K continuations of (running score + log-softmax);
 * the best K that do not stop continue; those among the top K that stop (eos, or max length)
 * enter the finished set with score / len^lp (len = generated tokens incl. eos), subject to
 * the early-stopping heuristic; the request ends when the heuristic says no improvement is
 * possible, when early_stopping=True and K hypotheses are finished, or at max length. */
#include "generate/search.h"
#include "core/err.h"
#include "generate/logits_process.h"
#include "parallel/vocab.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct t5g_search_ctx {
    const t5g_model *m;
    t5g_state *s;
    t5g_request *reqs;
    int n, K, btk, max_new, nv, v0, V;
    const t5g_gen_opts *o;
    int *live, nlive;          /* live requests, in row order (K rows each) */
    int *rows;                 /* scratch for t5g_select_rows */
    int32_t *step_ids;         /* [n·K] */
    float *logits, *lse;       /* [n·K·nv], [n·K] */
    t5g_cand *cand;            /* [n·K·btk] per-row candidates, then per-request merge */
    /* per request, per beam (K = 1 for greedy/sample) */
    int32_t *seq;              /* running sequences [n][K][max_new] */
    int32_t *seq_tmp;          /* [K][max_new] */
    float *run_score;          /* [n][K] */
    int32_t *fin_seq;          /* finished [n][K][max_new] */
    int *fin_len;              /* [n][K] */
    float *fin_score;          /* [n][K] */
    unsigned char *fin;        /* [n][K] */
    unsigned char *heur;       /* [n] is_early_stop_heuristic_unsatisfied */
    int cur_len;               /* decoder length so far, start token included */
    /* per-step scratch, allocated once (nothing is allocated in the token loop) */
    t5g_cand *merge;           /* [K·btk] one request's candidates */
    float *add;                /* [n·K] running scores in row order */
    double *prob;              /* [btk] sampling distribution */
    int32_t *hist, *hist_tmp;  /* [1 + max_new] one row's decoder ids; scratch of the processors */
};

void t5g_search_free(t5g_search_ctx *c) {
    if (!c) return;
    free(c->live); free(c->rows); free(c->step_ids); free(c->logits); free(c->lse); free(c->cand);
    free(c->seq); free(c->seq_tmp); free(c->run_score); free(c->fin_seq); free(c->fin_len); free(c->fin_score);
    free(c->fin); free(c->heur); free(c->merge); free(c->add); free(c->prob);
    free(c->hist); free(c->hist_tmp);
    free(c);
}

t5g_search_ctx *t5g_search_new(const t5g_model *m, t5g_state *s, t5g_request *reqs, int n, const t5g_gen_opts *o) {
    t5g_search_ctx *c = t5g_calloc(1, sizeof *c, "search");
    if (!c) return NULL;
    c->m = m; c->s = s; c->reqs = reqs; c->n = n; c->o = o;
    c->K = o->search == T5G_SEARCH_BEAM ? o->num_beams : 1;
    c->V = m->cfg.dec.vocab_size; c->nv = m->dec.sh.nv; c->v0 = m->dec.sh.v0;
    c->max_new = o->max_new_tokens;
    int topk = o->top_k > 0 && o->top_k < c->V ? o->top_k : c->V;
    c->btk = o->search == T5G_SEARCH_BEAM ? (m->cfg.n_eos + 1 > 2 ? m->cfg.n_eos + 1 : 2) * c->K
           : o->search == T5G_SEARCH_SAMPLE ? topk : 1;
    if (c->btk > c->V) c->btk = c->V;
    size_t nk = (size_t)n * c->K;
    c->live = malloc(sizeof(int) * n); c->rows = malloc(sizeof(int) * nk);
    c->step_ids = malloc(sizeof(int32_t) * nk);
    c->logits = malloc(sizeof(float) * nk * c->nv); c->lse = malloc(sizeof(float) * nk);
    c->cand = malloc(sizeof(t5g_cand) * nk * c->btk);
    c->seq = calloc(nk * c->max_new, sizeof(int32_t)); c->seq_tmp = calloc((size_t)c->K * c->max_new, sizeof(int32_t));
    c->run_score = calloc(nk, sizeof(float)); c->fin_seq = calloc(nk * c->max_new, sizeof(int32_t));
    c->fin_len = calloc(nk, sizeof(int)); c->fin_score = calloc(nk, sizeof(float));
    c->fin = calloc(nk, 1); c->heur = calloc(n, 1);
    c->merge = malloc(sizeof(t5g_cand) * (size_t)c->K * c->btk); c->add = malloc(sizeof(float) * nk);
    c->prob = malloc(sizeof(double) * c->btk);
    c->hist = malloc(sizeof(int32_t) * (c->max_new + 1));
    c->hist_tmp = malloc(sizeof(int32_t) * (c->max_new + 1));
    if (!c->hist || !c->hist_tmp ||!c->live || !c->rows || !c->step_ids || !c->logits || !c->lse || !c->cand || !c->seq || !c->seq_tmp ||
        !c->run_score || !c->fin_seq || !c->fin_len || !c->fin_score || !c->fin || !c->heur || !c->merge || !c->add ||
        !c->prob) {
        t5g_search_free(c);
        T5G_FAIL("out of memory for the search state of a batch of %d (beams %d, vocab %d)", n, c->K, c->V);
        return NULL;
    }
    return c;
}

static int is_eos(const t5g_model *m, int id) {
    for (int i = 0; i < m->cfg.n_eos; i++) if (m->cfg.eos_token_ids[i] == id) return 1;
    return 0;
}

static int finish_request(t5g_request *r, const int32_t *seq, int len, float score) {
    r->out = malloc(sizeof(int32_t) * (len ? len : 1));
    T5G_CHECK(r->out, "out of memory storing a result");
    memcpy(r->out, seq, sizeof(int32_t) * len);
    r->nout = len;
    r->score = score;
    return 0;
}

/* HF logits processors on row `row` of the step's logits; gen[0..len) are its generated ids
 * (the start token is prepended here, as in HF's decoder input_ids). */
static void process_row(t5g_search_ctx *c, int row, const int32_t *gen, int len, float lse) {
    c->hist[0] = c->m->cfg.decoder_start_token_id;
    memcpy(c->hist + 1, gen, sizeof(int32_t) * len);
    t5g_process_row(c->o, c->m->cfg.eos_token_ids, c->m->cfg.n_eos, c->logits + (size_t)row * c->nv, c->nv, c->v0,
                    c->hist, len + 1, lse, c->hist_tmp);
}

/* ---- greedy and sampling ---- */

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int t5g_sample_filter(const t5g_cand *cand, int k, float temperature, float top_p, double *prob) {
    double mx = cand[0].value / temperature, sum = 0;
    for (int i = 0; i < k; i++) {
        prob[i] = cand[i].value == -INFINITY ? 0 : exp(cand[i].value / temperature - mx);
        sum += prob[i];
    }
    for (int i = 0; i < k; i++) prob[i] /= sum;
    int keep = k;
    if (top_p < 1.0f) {
        double tail = 0;  /* cumulative probability from the least likely upward */
        for (int i = k - 1; i > 0; i--) {
            tail += prob[i];
            if (tail <= 1.0 - top_p) keep = i; else break;
        }
    }
    double total = 0;
    for (int i = 0; i < keep; i++) total += prob[i];
    for (int i = 0; i < keep; i++) prob[i] /= total;
    return keep;
}

/* Draw from the filtered distribution with the request's own counter-based generator
 * (the same draw whatever the batch or the TP size). */
static int sample_token(const t5g_cand *cand, int k, float temperature, float top_p, uint64_t seed, int step,
                        double *prob) {
    int keep = t5g_sample_filter(cand, k, temperature, top_p, prob);
    double u = (mix64(seed ^ mix64((uint64_t)step + 1)) >> 11) * (1.0 / 9007199254740992.0), acc = 0;
    int pick = keep - 1;
    for (int i = 0; i < keep; i++) { acc += prob[i]; if (u < acc) { pick = i; break; } }
    return cand[pick].id;
}

static int run_single(t5g_search_ctx *c) {
    const t5g_model *m = c->m;
    t5g_state *s = c->s;
    c->nlive = c->n;
    for (int i = 0; i < c->n; i++) { c->live[i] = i; c->step_ids[i] = m->cfg.decoder_start_token_id; }
    int *len = calloc(c->n, sizeof(int));
    int *tok = malloc(sizeof(int) * c->n);
    T5G_CHECK(len && tok, "out of memory");
    int rc = 0;
    for (int step = 0; step < c->max_new && c->nlive > 0 && !rc; step++) {
        int rows = c->nlive;
        if ((rc = t5g_decode(s, c->step_ids, NULL, 1, NULL, c->logits, 1))) break;
        if (t5g_processing_on(c->o))
            for (int i = 0; i < rows; i++) process_row(c, i, c->seq + (size_t)c->live[i] * c->max_new, len[c->live[i]], NAN);
        /* the log-softmax statistics only serve the score: choosing a token needs none */
        if (c->o->scores && (rc = t5g_vocab_logsumexp(m->comm, c->logits, rows, c->nv, c->lse))) break;
        if (!c->o->scores)
            for (int i = 0; i < rows; i++) c->lse[i] = NAN;
        if (c->o->search == T5G_SEARCH_GREEDY) {
            rc = t5g_vocab_argmax(m->comm, c->logits, rows, c->nv, c->v0, tok, c->run_score);  /* run_score: logit */
            for (int i = 0; i < rows; i++) c->run_score[i] -= c->lse[i];
        } else {
            rc = t5g_vocab_topk(m->comm, c->logits, rows, c->nv, c->v0, c->btk, NULL, NULL, c->cand);
            for (int i = 0; i < rows && !rc; i++) {
                t5g_request *r = &c->reqs[c->live[i]];
                tok[i] = sample_token(c->cand + (size_t)i * c->btk, c->btk, c->o->temperature, c->o->top_p, r->seed, step, c->prob);
                int j = 0;  /* its logit is among the candidates */
                while (j < c->btk - 1 && c->cand[(size_t)i * c->btk + j].id != tok[i]) j++;
                c->run_score[i] = c->cand[(size_t)i * c->btk + j].value - c->lse[i];
            }
        }
        if (rc) break;
        int kept = 0;
        for (int i = 0; i < rows; i++) {
            int q = c->live[i];
            c->seq[(size_t)q * c->max_new + len[q]++] = tok[i];
            c->fin_score[q] += c->run_score[i];
            if (is_eos(m, tok[i]) || len[q] == c->max_new) {
                rc = finish_request(&c->reqs[q], c->seq + (size_t)q * c->max_new, len[q], c->fin_score[q]);
                continue;
            }
            c->rows[kept] = i;
            c->live[kept] = q;
            c->step_ids[kept] = tok[i];
            kept++;
        }
        c->nlive = kept;
        if (kept && !rc) rc = t5g_select_rows(s, c->rows, kept);  /* finished rows leave the batch */
    }
    free(len);
    free(tok);
    return rc;
}

/* ---- beam search ---- */

static double penalty(const t5g_gen_opts *o, int len) {
    return o->gnmt_penalty ? pow((5.0 + len) / 6.0, o->length_penalty) : pow((double)len, o->length_penalty);
}

static int cand_desc(const void *a, const void *b) {  /* value desc, then flat index asc (id field) */
    const t5g_cand *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* One beam step for request q whose K rows start at `base`; writes the K source rows of its
 * next beams to src[0..K).  Returns 1 if the request is finished. */
static int beam_step_request(t5g_search_ctx *c, int q, int base, int *src) {
    const t5g_gen_opts *o = c->o;
    int K = c->K, btk = c->btk, V = c->V, M = c->max_new;
    int max_length = 1 + M, cur = c->cur_len;
    /* merge the K·btk per-beam candidates; flat index k·V + id orders ties like torch.topk */
    t5g_cand *all = c->merge;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < btk; j++) {
            t5g_cand x = c->cand[(size_t)(base + k) * btk + j];
            all[k * btk + j].value = x.value;
            all[k * btk + j].id = x.id == 0x7fffffff ? 0x7fffffff : k * V + x.id;
        }
    qsort(all, (size_t)K * btk, sizeof *all, cand_desc);
    float *run = c->run_score + (size_t)q * K, *fsc = c->fin_score + (size_t)q * K;
    unsigned char *fin = c->fin + (size_t)q * K;
    int32_t *seq = c->seq + (size_t)q * K * M, *fseq = c->fin_seq + (size_t)q * K * M;
    int *flen = c->fin_len + (size_t)q * K;
    int gen = cur;  /* tokens generated after this step (start token excluded): cur+1-1 */
    int all_fin = 1;
    for (int k = 0; k < K; k++) all_fin &= fin[k];
    /* finished-set update (HF _update_finished_beams) */
    float den = (float)penalty(o, gen);
    typedef struct { float score; int from; int idx; } slot;
    slot merged[2 * 64 + 192];
    int nm = 0;
    for (int k = 0; k < K; k++) merged[nm++] = (slot){fsc[k], -1, k};
    int hits_all = 1;
    for (int i = 0; i < btk; i++) {
        int id = all[i].id % V, hit = is_eos(c->m, id) || cur + 1 >= max_length;
        hits_all &= hit;
        float sc = all[i].value / den;
        if (o->early_stopping == T5G_EARLY_TRUE && all_fin) sc += -1.0e9f;
        if (!c->heur[q]) sc += -1.0e9f;
        if (!(hit && i < K)) sc += -1.0e9f;
        merged[nm++] = (slot){sc, i, 0};
    }
    /* top K of merged, ties to the earlier entry (stable) */
    int32_t *newf = c->seq_tmp;
    float nsc[64]; int nlen[64]; unsigned char nfin[64];
    unsigned char used[2 * 64 + 192] = {0};
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int j = 0; j < nm; j++) if (!used[j] && (best < 0 || merged[j].score > merged[best].score)) best = j;
        used[best] = 1;
        nsc[k] = merged[best].score;
        if (merged[best].from < 0) {
            int e = merged[best].idx;
            memcpy(newf + (size_t)k * M, fseq + (size_t)e * M, sizeof(int32_t) * M);
            nlen[k] = flen[e]; nfin[k] = fin[e];
        } else {
            int i = merged[best].from, b = all[i].id / V;
            memcpy(newf + (size_t)k * M, seq + (size_t)b * M, sizeof(int32_t) * M);
            newf[(size_t)k * M + gen - 1] = all[i].id % V;
            nlen[k] = gen;
            nfin[k] = (unsigned char)(i < K && (is_eos(c->m, all[i].id % V) || cur + 1 >= max_length));
        }
    }
    memcpy(fseq, newf, sizeof(int32_t) * K * M);
    for (int k = 0; k < K; k++) { fsc[k] = nsc[k]; flen[k] = nlen[k]; fin[k] = nfin[k]; }
    /* running beams for the next step (HF _get_running_beams_for_next_iteration) */
    unsigned char taken[192] = {0};
    for (int k = 0; k < K; k++) {
        int best = -1;
        float bv = 0;
        for (int i = 0; i < btk; i++) {
            if (taken[i]) continue;
            int id = all[i].id % V, hit = is_eos(c->m, id) || cur + 1 >= max_length;
            float v = all[i].value + (hit ? -1.0e9f : 0.0f);
            if (best < 0 || v > bv) { best = i; bv = v; }
        }
        taken[best] = 1;
        int b = all[best].id / V;
        memcpy(newf + (size_t)k * M, seq + (size_t)b * M, sizeof(int32_t) * M);
        newf[(size_t)k * M + gen - 1] = all[best].id % V;
        src[k] = base + b;
        run[k] = bv;
        c->step_ids[base + k] = all[best].id % V;  /* rewritten after the row reorder below */
    }
    memcpy(seq, newf, sizeof(int32_t) * K * M);
    /* early-stop heuristic for the next step (HF _check_early_stop_heuristic), cur_len + 1 */
    int next = cur + 1;
    int best_len = (o->early_stopping == T5G_EARLY_NEVER && o->length_penalty > 0) ? max_length - 1 : next - 1;
    float best_possible = run[0] / (float)penalty(o, best_len);
    float minf = fsc[0];
    for (int k = 1; k < K; k++) if (fsc[k] < minf) minf = fsc[k];
    int any = 0;
    for (int k = 0; k < K; k++) any |= best_possible > (fin[k] ? minf : -1.0e9f);
    c->heur[q] = c->heur[q] && any;
    all_fin = 1;
    for (int k = 0; k < K; k++) all_fin &= fin[k];
    return !c->heur[q] || (o->early_stopping == T5G_EARLY_TRUE && all_fin) || hits_all || next >= max_length;
}

static int run_beam(t5g_search_ctx *c) {
    const t5g_model *m = c->m;
    t5g_state *s = c->s;
    int K = c->K, M = c->max_new;
    T5G_CHECK(K <= 64 && c->btk <= 192, "beam search supports at most 64 beams");
    int *cross = malloc(sizeof(int) * c->n * K), *src = malloc(sizeof(int) * K);
    int32_t *next_ids = malloc(sizeof(int32_t) * c->n * K);
    T5G_CHECK(cross && src && next_ids, "out of memory");
    for (int q = 0; q < c->n; q++) {
        c->live[q] = q;
        c->heur[q] = 1;
        for (int k = 0; k < K; k++) {
            cross[q * K + k] = q;  /* beams share their request's cross K/V */
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
        if (t5g_processing_on(c->o))  /* on the log-probabilities, as HF's beam search */
            for (int j = 0; j < c->nlive; j++)
                for (int k = 0; k < K; k++)
                    process_row(c, j * K + k, c->seq + ((size_t)c->live[j] * K + k) * M, c->cur_len - 1, c->lse[j * K + k]);
        /* accumulated log-probs: (logit - lse) + running score of the row's beam */
        float *add = c->add;
        for (int j = 0; j < c->nlive; j++)
            for (int k = 0; k < K; k++) add[j * K + k] = c->run_score[(size_t)c->live[j] * K + k];
        rc = t5g_vocab_topk(m->comm, c->logits, rows, c->nv, c->v0, c->btk, c->lse, add, c->cand);
        if (rc) break;
        int kept = 0;
        for (int j = 0; j < c->nlive && !rc; j++) {
            int q = c->live[j];
            int done = beam_step_request(c, q, j * K, src);

            if (done) {  /* best finished hypothesis; HF returns sequences[:, 0] and beam_scores[:, 0] */
                rc = finish_request(&c->reqs[q], c->fin_seq + (size_t)q * K * M, c->fin_len[(size_t)q * K],
                                    c->fin_score[(size_t)q * K]);
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
        if (kept) rc = t5g_select_rows(s, c->rows, kept * K);  /* beam reorder + finished requests leave */
    }
    free(cross); free(src); free(next_ids);
    return rc;
}

int t5g_search_run(t5g_search_ctx *c) {
    T5G_CHECK(c, "no search context");
    return c->o->search == T5G_SEARCH_BEAM ? run_beam(c) : run_single(c);
}
