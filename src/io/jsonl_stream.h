/* jsonl_stream.h - JSON-lines input too large to hold: a line reader that starts anywhere, a
 * chunk index (each chunk a fixed run of non-blank lines, the same whatever the rank count),
 * a duplicate-id check whose memory does not grow with the input (id hashes spilled to
 * temporary files), and generate's in-order merge of OUT and its parts one chunk at a time.
 * Memory per input line: 1 bit per bitmap the caller keeps (done, bad), 16 bytes of temporary
 * disk during the duplicate check, and 1/64 of an index entry (16 bytes per 64 lines). */
#ifndef T5G_JSONL_STREAM_H
#define T5G_JSONL_STREAM_H
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

/* Non-blank lines of a file from a byte offset on, with their 1-based line numbers. */
typedef struct {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap;
    long long line; /* physical lines read so far */
    int64_t off;    /* byte offset just past them */
} jsonl_reader;
/* off/line0: where to start (a chunk's offset and the physical lines before it; 0, 0 = start). */
int jsonl_reader_open(jsonl_reader *r, const char *path, int64_t off, int64_t line0);
/* The next non-blank line (newline cut, NUL-terminated in r's buffer): 1, 0 at the end, -1 error. */
int jsonl_reader_next(jsonl_reader *r, char **p, size_t *n, long long *lineno);
void jsonl_reader_close(jsonl_reader *r);
/* fn(ctx, i, line, n, lineno) for count non-blank lines (count < 0: to the end) read from byte off
 * (line0 physical lines before it), numbered i = first, first + 1, ...; a file with fewer
 * lines than count changed while it was read (an error).  fn's non-zero return stops the walk. */
typedef int (*jsonl_line_fn)(void *ctx, int64_t i, char *p, size_t n, long long lineno);
int jsonl_each_line(const char *path, int64_t off, int64_t line0, int64_t first, int64_t count, jsonl_line_fn fn,
                    void *ctx);

/* A temporary file under $TMPDIR (else /tmp), unlinked at once: gone when closed, whatever happens. */
FILE *jsonl_tmpfile(void);

typedef struct {
    int64_t n;     /* non-blank lines */
    int64_t chunk; /* lines per chunk: jsonl_chunk_lines(n) */
    int64_t nchunks;
    int64_t *off;   /* byte offset of chunk k's first line */
    int64_t *line0; /* physical lines before it */
} jsonl_index;

/* Lines per chunk for an input of n lines: a power of two from 64 to 4096, n/16 or more, so
 * an input makes 8 to 16 chunks (up to ~8 DP groups get fair shares) until chunks reach 4096
 * lines (1 M lines: 245 chunks).  Requests are length-sorted into batches inside a chunk:
 * 1024 lines of short prompts cut the padding (13 % less CPU than 128, as much as sorting
 * 10 k at once); a chunk's requests, ~1 MB for 4096 short prompts, is what a group holds.
 * T5G_GEN_CHUNK_LINES (tests only) fixes it. */
int64_t jsonl_chunk_lines(int64_t n);
/* One pass over path: the chunk index, and every line's "id" unique (an error names both lines;
 * lines without a usable id are left to the line's own check).  Needs n > 0 to be useful. */
int jsonl_scan(const char *path, jsonl_index *ix);
void jsonl_index_free(jsonl_index *ix);
/* First and one-past-last line (0-based, non-blank) of chunk k. */
void jsonl_chunk_range(const jsonl_index *ix, int64_t k, int64_t *first, int64_t *end);

/* Bitmaps over input lines. */
static inline int jsonl_bit(const uint8_t *b, int64_t i) {
    return b && (b[i >> 3] >> (i & 7)) & 1;
}
static inline void jsonl_set_bit(uint8_t *b, int64_t i) {
    b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Merge OUT (when present) and its parts OUT.part<k> into OUT in the input's line order (temp
 * file + rename), reading one chunk of input and each file's results for it at a time: every
 * file must hold its results chunk by chunk in input-chunk order (any order inside a chunk),
 * as generate writes them.  The first copy of a result wins (OUT, then the parts in order).
 * done (ix->n bits, zeroed by the caller, may be NULL) marks the lines that have a result.
 * Removes the parts. */
int jsonl_merge_chunks(const char *in, const char *out, const jsonl_index *ix, uint8_t *done);
#endif
