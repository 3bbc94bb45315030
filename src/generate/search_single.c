/* search_single.c - greedy search and sampling: one row per request.
 * Greedy: argmax of the (processed) logits, ties to the lowest id (torch.argmax).  Sampling:
 * HF's warpers (temperature, top-k, top-p) on the top-k candidates, then a draw from the
 * request's own counter-based generator (the same draw whatever the batch or the TP size). */
#include "generate/search_impl.h"
#include "core/hash.h"
#include "core/err.h"
#include "generate/logits_process.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int t5g_sample_filter(const t5g_cand *cand, int k, float temperature, float top_p, double *prob) {
    double mx = cand[0].value / temperature, sum = 0;
    for (int i = 0; i < k; i++) {
        prob[i] = cand[i].value == -INFINITY ? 0 : exp(cand[i].value / temperature - mx);
        sum += prob[i];
    }
    for (int i = 0; i < k; i++) prob[i] /= sum;
    int keep = k;
    if (top_p < 1.0f) {
        double tail = 0; /* cumulative probability from the least likely upward */
        for (int i = k - 1; i > 0; i--) {
            tail += prob[i];
            if (tail <= 1.0 - top_p) keep = i;
            else break;
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
    double u = (t5g_splitmix64(seed ^ t5g_splitmix64((uint64_t)step + 1)) >> 11) * (1.0 / 9007199254740992.0), acc = 0;
    int pick = keep - 1;
    for (int i = 0; i < keep; i++) {
        acc += prob[i];
        if (u < acc) {
            pick = i;
            break;
        }
    }
    return cand[pick].id;
}

/* Choose row i's token (greedy, or a draw with sample); run_score[i] gets its log-probability (NAN-based
 * without the statistics).  Called for all rows at once: the collectives need every rank. */
static int choose(t5g_search_ctx *c, int rows, int step, int sample, int *tok) {
    int rc;
    if (!sample) {
        rc = t5g_vocab_argmax(c->m->comm, c->logits, rows, c->nv, c->v0, tok, c->run_score); /* run_score: logit */
        for (int i = 0; i < rows; i++) c->run_score[i] -= c->lse[i];
        return rc;
    }
    rc = t5g_vocab_topk(c->m->comm, c->logits, rows, c->nv, c->v0, c->btk, NULL, NULL, c->cand);
    for (int i = 0; i < rows && !rc; i++) {
        t5g_request *r = &c->reqs[c->live[i]];
        int gen_step = step - c->plen[c->live[i]]; /* the draw is keyed by generated position */
        tok[i] = sample_token(c->cand + (size_t)i * c->btk, c->btk, c->o->temperature, c->o->top_p, r->seed, gen_step,
                              c->prob);
        int j = 0; /* its logit is among the candidates */
        while (j < c->btk - 1 && c->cand[(size_t)i * c->btk + j].id != tok[i]) j++;
        c->run_score[i] = c->cand[(size_t)i * c->btk + j].value - c->lse[i];
    }
    return rc;
}

/* greedy (sample 0) or sampling (1) */
static int search_single(t5g_search_ctx *c, int sample) {
    const t5g_model *m = c->m;
    t5g_state *s = c->s;
    c->nlive = c->n;
    for (int i = 0; i < c->n; i++) {
        c->live[i] = i;
        c->step_ids[i] = m->cfg.decoder_start_token_id;
    }
    int *len = calloc(c->n, sizeof(int));
    int *tok = malloc(sizeof(int) * c->n);
    if (!len || !tok) {
        free(len);
        free(tok);
        return T5G_FAIL("out of memory for a batch of %d requests", c->n);
    }
    int rc = 0, M = c->M;
    for (int step = 0; step < M && c->nlive > 0 && !rc; step++) {
        int rows = c->nlive;
        if ((rc = t5g_decode(s, c->step_ids, NULL, 1, NULL, c->logits, 1))) break;
        if (t5g_processing_on(c->o))
            for (int i = 0; i < rows; i++) {
                int q = c->live[i];
                if (len[q] >= c->plen[q]) t5g_search_process_row(c, i, q, c->seq + (size_t)q * M, len[q], NAN);
            }
        /* the log-softmax statistics only serve the scores: choosing a token needs none */
        int want_lp = c->o->scores || c->o->token_scores;
        if (want_lp && (rc = t5g_vocab_logsumexp(m->comm, c->logits, rows, c->nv, c->lse))) break;
        if (!want_lp)
            for (int i = 0; i < rows; i++) c->lse[i] = NAN;
        if ((rc = choose(c, rows, step, sample, tok)))
            break; /* rows inside their prefix choose too (collectives), then are overridden */
        int kept = 0;
        for (int i = 0; i < rows && !rc; i++) {
            int q = c->live[i];
            int32_t *seq = c->seq + (size_t)q * M;
            int stop = 0;
            if (len[q] < c->plen[q]) { /* forced prefix: its token, no score */
                tok[i] = c->pre[q][len[q]];
            } else {
                stop = t5g_search_stops(c, q, seq, len[q], tok[i]);
                if (c->seq_lp) c->seq_lp[(size_t)q * M + len[q]] = c->run_score[i];
                c->fin_score[q] += c->run_score[i];
            }
            seq[len[q]++] = tok[i];
            if (stop) {
                float sc = c->o->scores ? c->fin_score[q] : NAN;
                rc =
                    t5g_search_finish(c, q, &c->reqs[q], seq, c->seq_lp ? c->seq_lp + (size_t)q * M : NULL, len[q], sc);
                continue;
            }
            c->rows[kept] = i;
            c->live[kept] = q;
            c->step_ids[kept] = tok[i];
            kept++;
        }
        c->nlive = kept;
        if (kept && !rc) rc = t5g_select_rows(s, c->rows, kept); /* finished rows leave the batch */
    }
    free(len);
    free(tok);
    return rc;
}

static int run_greedy(t5g_search_ctx *c) {
    return search_single(c, 0);
}

static int run_sample(t5g_search_ctx *c) {
    return search_single(c, 1);
}

/* the top-k candidates the warpers see (the whole vocabulary with top_k 0) */
static int sample_candidates(const t5g_gen_opts *o, int n_eos, int vocab) {
    return o->top_k > 0 ? o->top_k : vocab;
}

const t5g_strategy t5g_strategy_greedy = {.name = "greedy", .run = run_greedy};
const t5g_strategy t5g_strategy_sample = {
    .name = "sample", .sampling = 1, .candidates = sample_candidates, .run = run_sample};
