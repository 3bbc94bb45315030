/* gen_stream.h - `t5g generate`'s input, one chunk at a time (see jsonl_stream.h).
 * DP group d of D owns the chunks k with k % D == d; chunks are fixed runs of input lines
 * (jsonl_chunk_lines: they depend on the input's size only), so the DP size changes who
 * computes a line, never what is written.  Every group validates its own lines before any
 * group generates, keeping the checked requests in a temporary file; then it reads them back and
 * runs one chunk at a time. */
#ifndef T5G_GEN_STREAM_H
#define T5G_GEN_STREAM_H
#include "generate/runner.h"
#include "io/jsonl_stream.h"
#include "parallel/comm.h"

typedef struct {
    const char *in;
    const t5g_tokenizer *tok;
    int flags, vocab, dec_vocab, max_input, truncate, skip; /* skip: --on-error skip */
    uint64_t seed;
    FILE *spill; /* the checked requests between check and run (closed after the last chunk's) */
} gen_stream_cfg;

/* One chunk's requests (in[i].index is i; ids_json[i] the request's id). */
typedef t5g_gen_list gen_chunk;

/* Send world rank 0's index to every rank. */
int gen_stream_bcast_index(jsonl_index *ix, MPI_Comm world);
/* TP rank 0 of DP group dp_rank: check every line of its chunks (stop: the first bad line is
 * the error; skip: a warning and a bit in bad) and keep the requests on disk (c->spill: about
 * 24 bytes + 4 per token + the id per request) for the run.  Truncation warnings are printed here. */
int gen_stream_validate(gen_stream_cfg *c, const jsonl_index *ix, int dp_rank, int dp_size, uint8_t *bad);
/* Chunk k's requests, leaving out the lines marked in bad or done (either may be NULL): the
 * group's chunks must be read in order, as gen_stream_validate checked them; after the last one
 * (or an error) c->spill is closed. */
int gen_stream_read_chunk(const gen_stream_cfg *c, const jsonl_index *ix, int64_t k, const uint8_t *bad,
                          const uint8_t *done, gen_chunk *ch);
void gen_chunk_free(gen_chunk *ch);
#endif
