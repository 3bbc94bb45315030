/* search.h - search strategies over one batch's state (greedy, beam, sampling) and their registry. */
#ifndef T5G_SEARCH_H
#define T5G_SEARCH_H
#include "generate/generate.h"
#include <stddef.h>

typedef struct t5g_search_ctx t5g_search_ctx;
t5g_search_ctx *t5g_search_new(const t5g_model *m, t5g_state *s, t5g_request *reqs, int n, const t5g_gen_opts *o);
/* Decode until every request is finished; fills reqs[].out/nout/score. */
int t5g_search_run(t5g_search_ctx *c);
void t5g_search_free(t5g_search_ctx *c);

/* A decoding strategy: src/generate/search_NAME.c defines `const t5g_strategy t5g_strategy_NAME`
 * and one line of search.c's T5G_STRATEGIES registers it; `--search NAME`, --help, the error for
 * an unknown name and the run record all come from the registry. */
typedef struct t5g_strategy {
    const char *name; /* --search NAME, t5g_gen_opts.search, the run record's "search" */
    int beams;        /* 1: opts.num_beams rows per request (--beams K, --num-return-sequences); 0: one */
    int sampling;     /* 1: temperature, top-k, top-p and the seed shape the outputs (the run record keeps them) */
    /* candidates per row and step (t5g_vocab_topk's k; capped at the vocabulary); NULL: 1 (the argmax) */
    int (*candidates)(const t5g_gen_opts *o, int n_eos, int vocab);
    int (*validate)(const t5g_gen_opts *o); /* NULL, or its own checks (t5g_gen_validate calls it) */
    int (*run)(t5g_search_ctx *c);          /* decode until every request is finished */
} t5g_strategy;

int t5g_strategy_count(void);
const t5g_strategy *t5g_strategy_at(int i);
/* the strategy named name, or NULL */
const t5g_strategy *t5g_strategy_find(const char *name);
/* the strategy of o (o->search; NULL means greedy), or NULL when no strategy has that name */
const t5g_strategy *t5g_strategy_of(const t5g_gen_opts *o);
/* the registered names joined by sep, in registry order, into buf (truncated to cap); returns buf */
const char *t5g_strategy_names(const char *sep, char *buf, size_t cap);

#include "parallel/vocab.h"
/* HF sampling warpers on k candidates sorted by logit (descending): temperature, then
 * top-p (TopPLogitsWarper: drop the low tail whose cumulative probability is <= 1 - top_p,
 * keep >= 1).  prob[0..keep) receives the renormalized distribution; returns keep. */
int t5g_sample_filter(const t5g_cand *cand, int k, float temperature, float top_p, double *prob);
#endif
