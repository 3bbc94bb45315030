/* gen_stream.c - see gen_stream.h */
#include "cli/gen_stream.h"
#include "cli/gen_options.h"
#include "io/jsonl_load.h"
#include "core/err.h"
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

int gen_stream_bcast_index(jsonl_index *ix, MPI_Comm world) {
    int me;
    MPI_Comm_rank(world, &me);
    int64_t hdr[3] = {ix->n, ix->chunk, ix->nchunks};
    MPI_Bcast(hdr, 3, MPI_INT64_T, 0, world);
    if (me != 0) {
        ix->n = hdr[0];
        ix->chunk = hdr[1];
        ix->nchunks = hdr[2];
        ix->off = malloc(sizeof(int64_t) * (size_t)(hdr[2] ? hdr[2] : 1));
        ix->line0 = malloc(sizeof(int64_t) * (size_t)(hdr[2] ? hdr[2] : 1));
    }
    int ok = ix->off && ix->line0, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, world);
    T5G_CHECK(all, "out of memory sharing the input index");
    MPI_Bcast(ix->off, (int)hdr[2], MPI_INT64_T, 0, world);
    MPI_Bcast(ix->line0, (int)hdr[2], MPI_INT64_T, 0, world);
    return 0;
}

/* The loader's policy for this input: the first pass warns and marks bad lines (--on-error skip),
 * the second leaves them out. */
static jsonl_load_policy policy(const gen_stream_cfg *c, const uint8_t *bad, const uint8_t *done, uint8_t *mark,
                                int first_pass) {
    return (jsonl_load_policy){.path = c->in,
                               .tok = c->tok,
                               .tok_flags = c->flags,
                               .vocab = c->vocab,
                               .max_input = c->max_input,
                               .too_long = !c->truncate ? JSONL_TOO_LONG_ERROR : first_pass ? JSONL_CUT : JSONL_CUT_QUIET,
                               .what = "input",
                               .bad = bad,
                               .done = done,
                               .mark_bad = c->skip ? mark : NULL,
                               .prefix = cli_request_prefix,
                               .dec_vocab = c->dec_vocab};
}

int gen_stream_validate(const gen_stream_cfg *c, const jsonl_index *ix, int dp_rank, int dp_size, uint8_t *bad) {
    jsonl_load_policy p = policy(c, bad, NULL, bad, 1);
    for (int64_t k = dp_rank; k < ix->nchunks; k += dp_size) {
        int64_t first, end;
        jsonl_chunk_range(ix, k, &first, &end);
        T5G_TRY(jsonl_load(&p, ix->off[k], ix->line0[k], first, end - first, NULL, NULL));
    }
    return 0;
}

int gen_stream_read_chunk(const gen_stream_cfg *c, const jsonl_index *ix, int64_t k, const uint8_t *bad,
                          const uint8_t *done, gen_chunk *ch) {
    memset(ch, 0, sizeof *ch);
    ch->seed = c->seed;
    /* lines were checked before: a failure now means the file changed under us */
    jsonl_load_policy p = policy(c, bad, done, NULL, 0);
    int64_t first, end;
    jsonl_chunk_range(ix, k, &first, &end);
    int rc = jsonl_load(&p, ix->off[k], ix->line0[k], first, end - first, t5g_gen_list_emit, ch);
    if (rc) gen_chunk_free(ch);
    return rc;
}

void gen_chunk_free(gen_chunk *ch) {
    t5g_gen_list_free(ch);
}
