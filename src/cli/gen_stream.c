/* gen_stream.c - see gen_stream.h */
#include "cli/gen_stream.h"
#include "cli/gen_options.h"
#include "io/jsonl_load.h"
#include "core/err.h"
#include <cJSON.h>
#include <errno.h>
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

/* Between the check and the run, this group's checked requests wait on disk (jsonl_tmpfile), in
 * chunk order: per request a header, its ids (already cut to --max-input-tokens), its own prefix
 * and its id text; a header with line -1 ends a chunk, -2 the group's last (the file is closed
 * there, or at the first error).  The run then neither parses nor
 * tokenizes a line again (tokenizing is ~3 % of the demo model's run). */
typedef struct {
    int64_t line;
    int32_t n, nprefix, idlen; /* nprefix -1: no prefix of its own */
    int32_t unused;            /* named so that no padding byte is written uninitialised */
} spill_hdr;

static int spill_write(void *ctx, jsonl_req *r) {
    FILE *f = ctx;
    spill_hdr h = {r->line, (int32_t)r->n, r->prefix ? r->nprefix : -1, (int32_t)strlen(r->id_json), 0};
    size_t np = r->prefix ? (size_t)r->nprefix : 0;
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(r->ids, sizeof(int32_t), r->n, f) == r->n &&
             fwrite(r->prefix ? r->prefix : r->ids, sizeof(int32_t), np, f) == np &&
             fwrite(r->id_json, 1, (size_t)h.idlen, f) == (size_t)h.idlen;
    jsonl_req_free(r);
    T5G_CHECK(ok, "write error on a temporary file (disk full? set TMPDIR)");
    return 0;
}

static int spill_end_chunk(FILE *f, int last) {
    spill_hdr h = {last ? -2 : -1, 0, 0, 0, 0};
    T5G_CHECK(fwrite(&h, sizeof h, 1, f) == 1, "write error on a temporary file (disk full? set TMPDIR)");
    return 0;
}

/* The next request of the chunk into r (r->id_json NULL at the chunk's end; *last: the group's). */
static int spill_read(FILE *f, jsonl_req *r, int *last) {
    memset(r, 0, sizeof *r);
    spill_hdr h;
    T5G_CHECK(fread(&h, sizeof h, 1, f) == 1, "read error on a temporary file");
    *last = h.line == -2;
    if (h.line < 0) return 0;
    size_t np = h.nprefix > 0 ? (size_t)h.nprefix : 0;
    r->line = h.line;
    r->n = (size_t)h.n;
    r->nprefix = (int)np;
    r->ids = malloc(sizeof(int32_t) * (r->n ? r->n : 1));
    r->prefix = h.nprefix >= 0 ? malloc(sizeof(int32_t) * (np ? np : 1)) : NULL;
    r->id_json = malloc((size_t)h.idlen + 1);
    int ok = r->ids && r->id_json && (h.nprefix < 0 || r->prefix);
    ok = ok && fread(r->ids, sizeof(int32_t), r->n, f) == r->n &&
         (!r->prefix || fread(r->prefix, sizeof(int32_t), np, f) == np) &&
         fread(r->id_json, 1, (size_t)h.idlen, f) == (size_t)h.idlen;
    if (!ok) {
        jsonl_req_free(r);
        return T5G_FAIL("read error on a temporary file (or out of memory)");
    }
    r->id_json[h.idlen] = 0;
    return 0;
}

int gen_stream_validate(gen_stream_cfg *c, const jsonl_index *ix, int dp_rank, int dp_size, uint8_t *bad) {
    c->spill = jsonl_tmpfile();
    T5G_CHECK(c->spill, "cannot create a temporary file for the checked requests: %s (set TMPDIR)", strerror(errno));
    jsonl_load_policy p = {.path = c->in,
                           .tok = c->tok,
                           .tok_flags = c->flags,
                           .vocab = c->vocab,
                           .max_input = c->max_input,
                           .too_long = c->truncate ? JSONL_CUT : JSONL_TOO_LONG_ERROR,
                           .what = "input",
                           .bad = bad,
                           .mark_bad = c->skip ? bad : NULL,
                           .prefix = cli_request_prefix,
                           .dec_vocab = c->dec_vocab};
    int rc = 0;
    for (int64_t k = dp_rank; k < ix->nchunks && !rc; k += dp_size) {
        int64_t first, end;
        jsonl_chunk_range(ix, k, &first, &end);
        rc = jsonl_load(&p, ix->off[k], ix->line0[k], first, end - first, spill_write, c->spill);
        if (!rc) rc = spill_end_chunk(c->spill, k + dp_size >= ix->nchunks);
    }
    if (!rc && fflush(c->spill) != 0) rc = T5G_FAIL("write error on a temporary file (disk full? set TMPDIR)");
    if (rc || dp_rank >= ix->nchunks) { /* failed, or no chunk for this group */
        fclose(c->spill);
        c->spill = NULL;
    } else {
        rewind(c->spill);
    }
    return rc;
}

int gen_stream_read_chunk(const gen_stream_cfg *c, const jsonl_index *ix, int64_t k, const uint8_t *bad,
                          const uint8_t *done, gen_chunk *ch) {
    (void)ix;
    (void)k; /* chunks are read in the order gen_stream_validate wrote them */
    memset(ch, 0, sizeof *ch);
    ch->seed = c->seed;
    jsonl_req r;
    int rc, last = 0;
    while (!(rc = spill_read(c->spill, &r, &last)) && r.id_json) {
        if (jsonl_bit(bad, r.line) || jsonl_bit(done, r.line)) jsonl_req_free(&r);
        else if ((rc = t5g_gen_list_emit(ch, &r))) break;
    }
    if (rc) gen_chunk_free(ch);
    if (rc || last) fclose(c->spill); /* the run stops here, or this was the group's last chunk */
    return rc;
}

void gen_chunk_free(gen_chunk *ch) {
    t5g_gen_list_free(ch);
}
