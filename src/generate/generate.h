/* generate.h - batched generation: greedy, beam search (Hugging Face `generate` semantics,
 * docs/generation.md), sampling (temperature / top-k / top-p, per-request seeds).
 *
 * All ranks of a TP group call these with the same requests and options; every decision
 * (argmax, top-k, sampled token) comes from the vocab-parallel collectives, so the ranks
 * stay in lock-step.  Token choice depends only on the request itself and the seed, never
 * on the batch composition or the TP size. */
#ifndef T5G_GENERATE_H
#define T5G_GENERATE_H
#include "model/state.h"
#include <stdint.h>

typedef enum { T5G_SEARCH_GREEDY = 0, T5G_SEARCH_BEAM, T5G_SEARCH_SAMPLE } t5g_search;
typedef enum { T5G_EARLY_FALSE = 0, T5G_EARLY_TRUE, T5G_EARLY_NEVER } t5g_early;

typedef struct {
    t5g_search search;
    int max_new_tokens;      /* generated tokens per request, eos included (HF max_new_tokens) */
    int num_beams;
    float length_penalty;    /* HF: score = sum logprob / len^lp */
    int gnmt_penalty;        /* 1: score = sum logprob / ((5+len)/6)^lp (T5 / GNMT) */
    t5g_early early_stopping;
    float temperature;       /* sampling */
    int top_k;               /* 0 = whole vocabulary */
    float top_p;             /* 1 = off */
    uint64_t seed;
    int batch_size;          /* requests per batch */
    int64_t max_tokens_per_batch; /* padded encoder tokens per batch (0 = unlimited) */
    /* HF logits processors (src/generate/logits_process.h), all strategies */
    int min_new_tokens;      /* no eos before this many generated tokens (0 = off) */
    float repetition_penalty; /* 1 = off; > 1 discourages repeats, < 1 encourages them */
    int no_repeat_ngram_size; /* 0 = off; no n-gram of the output occurs twice */
    int num_return_sequences; /* beam search: return this many hypotheses, best first (HF; <= beams) */
    int token_scores;        /* also return each generated token's log-probability (HF output_scores
                              * / compute_transition_scores; costs the exp over the vocabulary) */
    int scores;              /* greedy/sample: also compute the sequence log-probability (one exp
                              * over the vocabulary per token; off by default, as HF/CT2) */
} t5g_gen_opts;

void t5g_gen_defaults(t5g_gen_opts *o);
/* Check the options against the model (beams >= 1, temperature > 0, 0 < top_p <= 1, ...). */
int t5g_gen_validate(const t5g_gen_opts *o);

typedef struct {
    int64_t index;           /* position in the caller's input order */
    uint64_t seed;           /* per-request sampling seed (e.g. hash of the id and --seed) */
    const int32_t *ids;      /* encoder input ids (bos/eos as the caller wants) */
    int n;
    /* results */
    int32_t *out;            /* generated ids, eos included if produced (malloc'd; caller frees) */
    int nout;
    float score;             /* beam: the HF sequence score; greedy/sample: sum of token log-probs
                              * with opts.scores, NAN without */
    float *token_lp;         /* opts.token_scores: [nout] log-probability of each output token
                              * (after the logits processors), else NULL (malloc'd; caller frees) */
    int nhyp;                /* opts.num_return_sequences > 1: hyp[0..nhyp), best first; hyp[0]
                              * repeats out/nout/score/token_lp (separate copies) */
    struct t5g_hyp { int32_t *ids; int n; float score; float *token_lp; } *hyp;
} t5g_request;

/* free what generation stored in a request (out, token_lp, hyp) and reset those fields */
void t5g_request_clear(t5g_request *r);

/* Run one batch (all requests share one encoder pass and one state). */
int t5g_generate_batch(const t5g_model *m, t5g_request *reqs, int n, const t5g_gen_opts *o);

/* Split requests (sorted longest first, ties in input order) into batches bounded by
 * batch_size and max_tokens_per_batch.  order[] receives request indices; starts[] the
 * first position of each batch (nbatches + 1 entries).  Both malloc'd. */
int t5g_plan_batches(const t5g_request *reqs, int n, const t5g_gen_opts *o, int **order, int **starts, int *nbatches);
#endif
