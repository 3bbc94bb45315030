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

typedef enum { T5G_EARLY_FALSE = 0, T5G_EARLY_TRUE, T5G_EARLY_NEVER } t5g_early;

typedef struct {
    /* the search strategy's name in the registry (search.h): "greedy", "beam", "sample", ...; NULL = greedy */
    const char *search;
    int max_new_tokens; /* generated tokens per request, eos included (HF max_new_tokens) */
    int num_beams;
    float length_penalty; /* HF: score = sum logprob / len^lp */
    int gnmt_penalty;     /* 1: score = sum logprob / ((5+len)/6)^lp (T5 / GNMT) */
    t5g_early early_stopping;
    float temperature; /* sampling */
    int top_k;         /* 0 = whole vocabulary */
    float top_p;       /* 1 = off */
    uint64_t seed;
    int batch_size;               /* requests per batch */
    int64_t max_tokens_per_batch; /* padded encoder tokens per batch (0 = unlimited) */
    /* HF logits processors (src/generate/logits_process.h), all strategies */
    int min_new_tokens;       /* no eos before this many generated tokens (0 = off) */
    float repetition_penalty; /* 1 = off; > 1 discourages repeats, < 1 encourages them */
    int no_repeat_ngram_size; /* 0 = off; no n-gram of the output occurs twice */
    int num_return_sequences; /* beam search: return this many hypotheses, best first (HF; <= beams) */
    int token_scores;         /* also return each generated token's log-probability (HF output_scores
                              * / compute_transition_scores; costs the exp over the vocabulary) */
    int scores;               /* greedy/sample: also compute the sequence log-probability (one exp
                              * over the vocabulary per token; off by default, as HF/CT2) */
    /* stopping (HF generate names) */
    int n_eos; /* > 0: eos_token_ids[0..n_eos) replace the model's stop ids (HF eos_token_id) */
    int eos_token_ids[T5G_MAX_EOS];
    const struct t5g_stop_strings *stop_strings; /* HF stop_strings (stop_strings.h); NULL = none */
    /* forced decoder prefix (HF decoder_input_ids after the start token, CTranslate2 target_prefix)
     * for requests that bring none of their own (t5g_request.prefix); NULL = none */
    const int32_t *target_prefix;
    int n_target_prefix;
} t5g_gen_opts;

void t5g_gen_defaults(t5g_gen_opts *o);
/* The stop ids in force: opts.eos_token_ids if set, else the model's eos_token_id list. */
const int *t5g_gen_eos(const t5g_gen_opts *o, const t5g_model *m, int *n);
/* Check the options against the model (beams >= 1, temperature > 0, 0 < top_p <= 1, ...). */
int t5g_gen_validate(const t5g_gen_opts *o);

typedef struct {
    int64_t index;      /* position in the caller's input order */
    uint64_t seed;      /* per-request sampling seed (e.g. hash of the id and --seed) */
    const int32_t *ids; /* encoder input ids (bos/eos as the caller wants) */
    int n;
    const int32_t *prefix; /* forced decoder prefix (HF target prefix), or NULL: opts.target_prefix */
    int nprefix;
    /* results */
    int32_t *out; /* output ids: the forced prefix, then the generated ids, eos included
                              * if produced (HF sequences[1:]; malloc'd; caller frees) */
    int nout;
    int nforced;     /* of them, the first nforced are the forced prefix */
    int eos;         /* 1: out ends with a stop id (not text: t5g_request_text drops it) */
    float score;     /* beam: the HF sequence score; greedy/sample: sum of token log-probs
                              * with opts.scores, NAN without */
    float *token_lp; /* opts.token_scores: [nout - nforced] log-probability of each generated
                              * token (after the logits processors), else NULL (malloc'd; caller frees) */
    int nhyp;        /* opts.num_return_sequences > 1: hyp[0..nhyp), best first; hyp[0]
                              * repeats out/nout/score/token_lp (separate copies) */
    struct t5g_hyp {
        int32_t *ids;
        int n;
        float score;
        float *token_lp;
        int eos;
    } * hyp;
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
