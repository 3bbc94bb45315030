/* runner.h - drive generation for a TP group: rank 0 of the group holds the inputs (it read
 * the files), the token ids are broadcast to the group once, every rank runs the same
 * batches, and rank 0 receives each finished request through a sink (to write it out).
 * Ranks agree on failure after every batch, so an error never leaves a rank waiting. */
#ifndef T5G_RUNNER_H
#define T5G_RUNNER_H
#include "core/progress.h"
#include "generate/generate.h"
#include "io/jsonl_load.h"
#include <stdio.h>

typedef struct {
    int64_t index; /* caller's index (e.g. input line) */
    uint64_t seed; /* per-request sampling seed */
    int32_t *ids;  /* encoder ids */
    int n;
    int32_t *prefix; /* forced decoder prefix (input key target_prefix), or NULL: the options' */
    int nprefix;
} t5g_gen_input;

/* Requests as the runner takes them, with their ids for the sink: in[i].index is i. */
typedef struct {
    t5g_gen_input *in;
    char **ids_json;
    int n, cap;
    uint64_t seed; /* the user's seed: each request's is t5g_request_seed(id, seed) */
} t5g_gen_list;
/* A jsonl_load callback (ctx: the list): appends r, whose buffers move into the list. */
int t5g_gen_list_emit(void *ctx, jsonl_req *r);
void t5g_gen_list_free(t5g_gen_list *l);

/* Called on TP rank 0 for each finished request, in completion order, and with in = r = NULL
 * once a batch's requests are all passed (to flush). */
typedef int (*t5g_gen_sink)(void *ctx, const t5g_gen_input *in, const t5g_request *r);

/* in/n are read on TP rank 0 only.  prog may be NULL. */
int t5g_run_requests(const t5g_model *m, t5g_comm *comm, const t5g_gen_input *in, int n, const t5g_gen_opts *o,
                     t5g_gen_sink sink, void *ctx, t5g_progress *prog);

/* Decoded text of a finished request (forced prefix included, as HF's decode of sequences):
 * the trailing stop token is dropped (it is not text; <end_of_turn> would otherwise be spelled
 * out) and special pieces are skipped.  malloc'd. */
typedef struct t5g_tokenizer t5g_tokenizer;
char *t5g_request_text(const t5g_tokenizer *tok, const t5g_request *r);

/* A sink that appends one JSON line per finished request and flushes after each batch (a crash
 * loses at most the batch in flight): {"id", "prediction", "output_ids", ["prefix_tokens"], ["score"],
 * ["token_logprobs"], ["hypotheses"]} (docs/generation.md "Output lines"). */
typedef struct {
    FILE *f;
    char **ids_json; /* input index -> the request id as JSON text */
    const t5g_tokenizer *tok;
    const t5g_model *m;
    const char *text_key; /* "prediction" (generate and eval) */
    int output_ids;       /* 1: write "output_ids", else "tokens" (their count) */
    int64_t tokens;       /* generated tokens written so far */
} t5g_jsonl_sink;
int t5g_jsonl_sink_write(void *ctx, const t5g_gen_input *in, const t5g_request *r);

/* Per-request sampling seed from the request id (JSON text) and the user's seed: the same
 * request draws the same tokens in generate and eval, whatever the batch or TP size. */
uint64_t t5g_request_seed(const char *id_json, uint64_t seed);

#endif
