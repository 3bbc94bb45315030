/* search.h - search strategies over one batch's state (greedy, beam, sampling). */
#ifndef T5G_SEARCH_H
#define T5G_SEARCH_H
#include "generate/generate.h"

typedef struct t5g_search_ctx t5g_search_ctx;
t5g_search_ctx *t5g_search_new(const t5g_model *m, t5g_state *s, t5g_request *reqs, int n, const t5g_gen_opts *o);
/* Decode until every request is finished; fills reqs[].out/nout/score. */
int t5g_search_run(t5g_search_ctx *c);
void t5g_search_free(t5g_search_ctx *c);

#include "parallel/vocab.h"
/* HF sampling warpers on k candidates sorted by logit (descending): temperature, then
 * top-p (TopPLogitsWarper: drop the low tail whose cumulative probability is <= 1 - top_p,
 * keep >= 1).  prob[0..keep) receives the renormalized distribution; returns keep. */
int t5g_sample_filter(const t5g_cand *cand, int k, float temperature, float top_p, double *prob);
#endif
