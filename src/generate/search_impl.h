/* search_impl.h - what the search strategies share (private to src/generate/search*.c).
 * A strategy is one file that defines a t5g_strategy (search.h) whose run(t5g_search_ctx *)
 * decodes the batch until every request is finished, plus its line in search.c's T5G_STRATEGIES. */
#ifndef T5G_SEARCH_IMPL_H
#define T5G_SEARCH_IMPL_H
#include "generate/search.h"
#include "parallel/vocab.h"

struct t5g_search_ctx {
    const t5g_model *m;
    t5g_state *s;
    t5g_request *reqs;
    int n, K, btk, max_new, nv, v0, V;
    int M; /* sequence capacity: max_new + the longest forced prefix */
    const t5g_gen_opts *o;
    const t5g_strategy *st; /* o's strategy */
    const int *eos;         /* the stop ids in force (t5g_gen_eos) */
    int n_eos;
    const int32_t **pre; /* [n] each request's forced prefix (may be NULL when plen is 0) */
    int *plen;           /* [n] its length: the first plen decoder steps are forced */
    unsigned char *hit;  /* [K·btk] beam: whether each candidate stops (eos, length, stop string) */
    int *live, nlive;    /* live requests, in row order (K rows each) */
    int *rows;           /* scratch for t5g_select_rows */
    int32_t *step_ids;   /* [n·K] */
    float *logits, *lse; /* [n·K·nv], [n·K] */
    t5g_cand *cand;      /* [n·K·btk] per-row candidates, then per-request merge */
    /* per request, per beam (K = 1 unless the strategy uses beams) */
    int32_t *seq;        /* running sequences [n][K][M]: forced prefix, then generated ids */
    int32_t *seq_tmp;    /* [K][M] */
    float *run_score;    /* [n][K] */
    int32_t *fin_seq;    /* finished [n][K][M] */
    int *fin_len;        /* [n][K] */
    float *fin_score;    /* [n][K] */
    unsigned char *fin;  /* [n][K] */
    unsigned char *heur; /* [n] is_early_stop_heuristic_unsatisfied */
    int cur_len;         /* decoder length so far, start token included */
    /* per-step scratch, allocated once (nothing is allocated in the token loop) */
    t5g_cand *merge;          /* [K·btk] one request's candidates */
    float *add;               /* [n·K] running scores in row order */
    double *prob;             /* [btk] sampling distribution */
    int32_t *hist, *hist_tmp; /* [1 + M] one row's decoder ids; scratch of the processors */
    /* opts.token_scores: per-token log-probabilities beside seq / fin_seq / seq_tmp (else NULL) */
    float *seq_lp, *fin_lp, *lp_tmp;
    float *old_run; /* [K] one request's running scores before this step */
};

/* whether id is one of the stop ids in force */
int t5g_search_is_eos(const t5g_search_ctx *c, int id);
/* whether request q's row, whose ids are seq[0..len) (prefix included), stops on token tok:
 * eos, max_new generated tokens, or a stop string (HF's stopping criteria) */
int t5g_search_stops(t5g_search_ctx *c, int q, const int32_t *seq, int len, int32_t tok);
/* copy request q's finished ids (prefix included), score and (lp != NULL) the generated
 * tokens' log-probabilities (lp is aligned with seq) into r */
int t5g_search_finish(t5g_search_ctx *c, int q, t5g_request *r, const int32_t *seq, const float *lp, int len,
                      float score);
/* beam search: the best opts.num_return_sequences of a request's finished pool (sorted best
 * first; slot k at seq + k·M, lp + k·M, len[k], score[k]) into r */
int t5g_search_finish_pool(t5g_search_ctx *c, int q, t5g_request *r, const int32_t *seq, const float *lp,
                           const int *len, const float *score);
/* HF logits processors on row `row` of the step's logits for request q; gen[0..len) its ids
 * (prefix included); lse: NAN for raw logits, else the row's log-sum-exp (logits_process.h) */
void t5g_search_process_row(t5g_search_ctx *c, int row, int q, const int32_t *gen, int len, float lse);
#endif
