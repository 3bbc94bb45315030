/* gen_stream.c - see gen_stream.h */
#include "cli/gen_stream.h"
#include "cli/gen_options.h"
#include "io/jsonl.h"
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

/* One input line read at lineno, checked as a request: its id, encoder ids and own forced
 * decoder prefix (NULL: none). */
static int request_line(const gen_stream_cfg *c, const char *p, size_t n, long long lineno, int quiet, char **idj,
                        int32_t **ids, size_t *nt, int32_t **pre, int *npre) {
    const char *why;
    cJSON *it = jsonl_parse_line(p, n, &why);
    int bad = jsonl_request_item(c->in, lineno, it, why, c->tok, c->flags, c->vocab, idj, ids, nt);
    *pre = NULL;
    *npre = 0;
    if (!bad && cli_request_prefix(it, c->tok, c->dec_vocab, pre, npre)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        bad = T5G_FAIL("%s:%lld: %s", c->in, lineno, msg);
    }
    cJSON_Delete(it);
    if (!bad && *nt > (size_t)c->max_input) {
        if (c->truncate) {
            if (!quiet)
                fprintf(stderr, "t5g: warning: %s:%lld: input of %zu tokens truncated to %d\n", c->in, lineno, *nt,
                        c->max_input);
            *nt = (size_t)c->max_input;
        } else {
            bad = T5G_FAIL("%s:%lld: input has %zu tokens, more than --max-input-tokens %d (use --truncate)", c->in,
                           lineno, *nt, c->max_input);
        }
    }
    if (bad) {
        free(*ids);
        free(*idj);
        free(*pre);
        *ids = NULL;
        *idj = NULL;
        *pre = NULL;
    }
    return bad;
}

/* Walk chunk k: fn(ctx, line index, line) for each line. */
typedef int (*line_fn)(void *ctx, int64_t i, char *p, size_t n, long long lineno);
static int each_line(const gen_stream_cfg *c, const jsonl_index *ix, int64_t k, line_fn fn, void *ctx) {
    int64_t first, end;
    jsonl_chunk_range(ix, k, &first, &end);
    jsonl_reader r;
    T5G_TRY(jsonl_reader_open(&r, c->in, ix->off[k], ix->line0[k]));
    char *p;
    size_t n;
    long long ln;
    int rc = 0;
    for (int64_t i = first; i < end && !rc; i++) {
        int got = jsonl_reader_next(&r, &p, &n, &ln);
        if (got <= 0) {
            rc = got < 0 ? -1 : T5G_FAIL("%s changed while it was read (fewer lines)", c->in);
            break;
        }
        rc = fn(ctx, i, p, n, ln);
    }
    jsonl_reader_close(&r);
    return rc;
}

typedef struct {
    const gen_stream_cfg *c;
    uint8_t *bad;
} vctx;
static int validate_line(void *ctx, int64_t i, char *p, size_t n, long long lineno) {
    vctx *v = ctx;
    char *idj;
    int32_t *ids, *pre;
    size_t nt;
    int npre;
    if (!request_line(v->c, p, n, lineno, 0, &idj, &ids, &nt, &pre, &npre)) {
        free(idj);
        free(ids);
        free(pre);
        return 0;
    }
    if (!v->c->skip) return -1;
    fprintf(stderr, "t5g: warning: skipping: %s\n", t5g_last_error());
    jsonl_set_bit(v->bad, i);
    return 0;
}

int gen_stream_validate(const gen_stream_cfg *c, const jsonl_index *ix, int dp_rank, int dp_size, uint8_t *bad) {
    vctx v = {c, bad};
    for (int64_t k = dp_rank; k < ix->nchunks; k += dp_size) T5G_TRY(each_line(c, ix, k, validate_line, &v));
    return 0;
}

typedef struct {
    const gen_stream_cfg *c;
    const uint8_t *bad, *done;
    gen_chunk *ch;
} rctx;
static int read_line(void *ctx, int64_t i, char *p, size_t n, long long lineno) {
    rctx *r = ctx;
    if (jsonl_bit(r->bad, i)) return 0;
    char *idj;
    int32_t *ids, *pre;
    size_t nt;
    int npre;
    /* checked before: a failure now means the file changed under us */
    if (request_line(r->c, p, n, lineno, 1, &idj, &ids, &nt, &pre, &npre)) return -1;
    if (jsonl_bit(r->done, i)) {
        free(idj);
        free(ids);
        free(pre);
        return 0;
    }
    gen_chunk *ch = r->ch;
    ch->in[ch->n] = (t5g_gen_input){.index = ch->n,
                                    .seed = t5g_request_seed(idj, r->c->seed),
                                    .ids = ids,
                                    .n = (int)nt,
                                    .prefix = pre,
                                    .nprefix = npre};
    ch->ids_json[ch->n++] = idj;
    return 0;
}

int gen_stream_read_chunk(const gen_stream_cfg *c, const jsonl_index *ix, int64_t k, const uint8_t *bad,
                          const uint8_t *done, gen_chunk *ch) {
    memset(ch, 0, sizeof *ch);
    ch->in = calloc((size_t)ix->chunk, sizeof *ch->in);
    ch->ids_json = calloc((size_t)ix->chunk, sizeof *ch->ids_json);
    if (!ch->in || !ch->ids_json) {
        gen_chunk_free(ch);
        return T5G_FAIL("out of memory reading %s", c->in);
    }
    rctx r = {c, bad, done, ch};
    int rc = each_line(c, ix, k, read_line, &r);
    if (rc) gen_chunk_free(ch);
    return rc;
}

void gen_chunk_free(gen_chunk *ch) {
    for (int i = 0; i < ch->n; i++) {
        free(ch->in[i].ids);
        free(ch->in[i].prefix);
        free(ch->ids_json[i]);
    }
    free(ch->in);
    free(ch->ids_json);
    memset(ch, 0, sizeof *ch);
}
