/* jsonl_stream.c - see jsonl_stream.h */
#define _GNU_SOURCE
#include "io/jsonl_stream.h"
#include "io/jsonl.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/hash.h"
#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- reader ---- */
int jsonl_reader_open(jsonl_reader *r, const char *path, int64_t off, int64_t line0) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->line = line0;
    r->off = off;
    r->f = fopen(path, "rb");
    T5G_CHECK(r->f, "cannot open %s: %s", path, strerror(errno));
    if (off > 0 && fseeko(r->f, (off_t)off, SEEK_SET)) {
        fclose(r->f);
        r->f = NULL;
        return T5G_FAIL("cannot seek in %s: %s", path, strerror(errno));
    }
    return 0;
}

int jsonl_reader_next(jsonl_reader *r, char **p, size_t *n, long long *lineno) {
    for (;;) {
        errno = 0;
        ssize_t got = getline(&r->buf, &r->cap, r->f);
        if (got < 0) {
            if (ferror(r->f)) return T5G_FAIL("read error on %s: %s", r->path, strerror(errno));
            return 0;
        }
        r->line++;
        r->off += got;
        if (got > 0 && r->buf[got - 1] == '\n') r->buf[--got] = 0;
        const char *q = r->buf;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (!*q) continue; /* blank (as jsonl_read: a NUL ends the line) */
        *p = r->buf;
        *n = (size_t)got;
        *lineno = r->line;
        return 1;
    }
}

void jsonl_reader_close(jsonl_reader *r) {
    if (r->f) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int jsonl_each_line(const char *path, int64_t off, int64_t line0, int64_t first, int64_t count, jsonl_line_fn fn,
                    void *ctx) {
    jsonl_reader r;
    T5G_TRY(jsonl_reader_open(&r, path, off, line0));
    char *p;
    size_t n;
    long long ln;
    int rc = 0;
    for (int64_t i = first; (count < 0 || i < first + count) && !rc; i++) {
        int got = jsonl_reader_next(&r, &p, &n, &ln);
        if (got < 0) rc = -1;
        else if (got == 0 && count >= 0) rc = T5G_FAIL("%s changed while it was read (fewer lines)", path);
        if (got <= 0) break;
        rc = fn(ctx, i, p, n, ln);
    }
    jsonl_reader_close(&r);
    return rc;
}

/* ---- chunk index ---- */
static int64_t chunk_override(void) {
    const char *e = getenv("T5G_GEN_CHUNK_LINES");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? v : 0;
}

int64_t jsonl_chunk_lines(int64_t n) {
    int64_t o = chunk_override();
    if (o) return o;
    int64_t c = 64;
    while (c < 4096 && c * 16 < n) c *= 2;
    return c;
}

void jsonl_index_free(jsonl_index *ix) {
    free(ix->off);
    free(ix->line0);
    memset(ix, 0, sizeof *ix);
}

void jsonl_chunk_range(const jsonl_index *ix, int64_t k, int64_t *first, int64_t *end) {
    *first = k * ix->chunk;
    *end = *first + ix->chunk < ix->n ? *first + ix->chunk : ix->n;
}

/* ---- duplicate ids: (hash, line) records spilled to NBUCKET temporary files by hash, each
 * bucket then sorted alone; equal hashes are confirmed on the text by a second read. */
#define NBUCKET 64
#define BUFREC  128
typedef struct {
    uint64_t h;
    int64_t line;
} idrec;
typedef struct {
    int64_t a, b;
} idpair; /* line b repeats line a's id (if the texts agree) */
#define MAXCAND 16

typedef struct {
    FILE *f[NBUCKET];
    idrec buf[NBUCKET][BUFREC];
    int nbuf[NBUCKET];
    idpair cand[MAXCAND]; /* smallest b first */
    int ncand;
} idspill;

FILE *jsonl_tmpfile(void) {
    const char *dir = getenv("TMPDIR");
    char p[4200];
    snprintf(p, sizeof p, "%s/t5g-ids.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(p);
    if (fd < 0) return NULL;
    unlink(p); /* gone when closed, whatever happens */
    FILE *f = fdopen(fd, "w+b");
    if (!f) close(fd);
    return f;
}

static int spill_flush(idspill *s, int b) {
    if (!s->nbuf[b]) return 0;
    if (!s->f[b] && !(s->f[b] = jsonl_tmpfile()))
        return T5G_FAIL("cannot create a temporary file for the id check: %s (set TMPDIR)", strerror(errno));
    size_t n = (size_t)s->nbuf[b];
    s->nbuf[b] = 0;
    T5G_CHECK(fwrite(s->buf[b], sizeof(idrec), n, s->f[b]) == n,
              "write error on a temporary file (disk full? set TMPDIR)");
    return 0;
}

static int spill_add(idspill *s, uint64_t h, int64_t line) {
    int b = (int)(h >> 58);
    s->buf[b][s->nbuf[b]++] = (idrec){h, line};
    return s->nbuf[b] == BUFREC ? spill_flush(s, b) : 0;
}

static void add_cand(idspill *s, int64_t a, int64_t b) {
    int i = s->ncand;
    if (i == MAXCAND) { /* full: keep the MAXCAND smallest b */
        if (s->cand[MAXCAND - 1].b <= b) return;
        i = MAXCAND - 1;
    } else {
        s->ncand++;
    }
    s->cand[i] = (idpair){a, b};
    for (; i > 0 && s->cand[i - 1].b > s->cand[i].b; i--) {
        idpair t = s->cand[i];
        s->cand[i] = s->cand[i - 1];
        s->cand[i - 1] = t;
    }
}

static int by_hash_line(const void *x, const void *y) {
    const idrec *a = x, *b = y;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

/* Every bucket sorted; each pair of neighbours with equal hashes is a candidate. */
static int spill_candidates(idspill *s) {
    for (int b = 0; b < NBUCKET; b++) {
        T5G_TRY(spill_flush(s, b));
        if (!s->f[b]) continue;
        long bytes = ftell(s->f[b]);
        size_t n = bytes > 0 ? (size_t)bytes / sizeof(idrec) : 0;
        idrec *v = malloc(sizeof *v * (n ? n : 1));
        T5G_CHECK(v, "out of memory checking ids");
        rewind(s->f[b]);
        if (fread(v, sizeof *v, n, s->f[b]) != n) {
            free(v);
            return T5G_FAIL("read error on a temporary file");
        }
        qsort(v, n, sizeof *v, by_hash_line);
        for (size_t i = 1; i < n; i++)
            if (v[i].h == v[i - 1].h) add_cand(s, v[i - 1].line, v[i].line);
        free(v);
        fclose(s->f[b]);
        s->f[b] = NULL;
    }
    return 0;
}

/* The "id" of a line as JSON text, as the old in-memory check printed it (*out NULL if none);
 * -1 when memory ran out (a missing id would hide a duplicate). */
static int line_id(const char *p, size_t n, char **out) {
    const char *why;
    cJSON *it = jsonl_parse_line(p, n, &why);
    const cJSON *id = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "id") : NULL;
    *out = id && (cJSON_IsString(id) || cJSON_IsNumber(id)) ? cJSON_PrintUnformatted(id) : NULL;
    cJSON_Delete(it);
    if (why == JSONL_OUT_OF_MEMORY) return -1;
    return id && !*out && (cJSON_IsString(id) || cJSON_IsNumber(id)) ? T5G_FAIL("out of memory checking ids") : 0;
}

/* Read the candidates' lines again; the first (smallest second line) whose ids agree is the error. */
static int confirm(const char *path, const idspill *s) {
    if (!s->ncand) return 0;
    char *ids[2 * MAXCAND] = {0};
    jsonl_reader r;
    T5G_TRY(jsonl_reader_open(&r, path, 0, 0));
    char *p;
    size_t n;
    long long ln;
    int rc = 0, got;
    while (!rc && (got = jsonl_reader_next(&r, &p, &n, &ln)) == 1 && ln <= s->cand[s->ncand - 1].b)
        for (int c = 0; c < s->ncand && !rc; c++) {
            if (s->cand[c].a == ln && !ids[2 * c]) rc = line_id(p, n, &ids[2 * c]);
            if (!rc && s->cand[c].b == ln && !ids[2 * c + 1]) rc = line_id(p, n, &ids[2 * c + 1]);
        }
    jsonl_reader_close(&r);
    if (got < 0) rc = -1;
    for (int c = 0; c < s->ncand && !rc; c++)
        if (ids[2 * c] && ids[2 * c + 1] && !strcmp(ids[2 * c], ids[2 * c + 1])) rc = 1 + c;
    if (rc > 0) {
        int c = rc - 1;
        rc = T5G_FAIL("%s:%lld: id %s already used at %s:%lld (ids must be unique)", path, (long long)s->cand[c].b,
                      ids[2 * c + 1], path, (long long)s->cand[c].a);
    }
    for (int i = 0; i < 2 * MAXCAND; i++) free(ids[i]);
    return rc;
}

int jsonl_scan(const char *path, jsonl_index *ix) {
    memset(ix, 0, sizeof *ix);
    int64_t g = chunk_override();
    if (!g) g = 64; /* index granularity: every chunk size of jsonl_chunk_lines is a multiple */
    idspill *s = calloc(1, sizeof *s);
    T5G_CHECK(s, "out of memory");
    jsonl_reader r;
    if (jsonl_reader_open(&r, path, 0, 0)) {
        free(s);
        return -1;
    }
    size_t cap = 0;
    int64_t *off = NULL, *line0 = NULL, pos = 0, pline = 0, i = 0;
    char *p;
    size_t n;
    long long ln;
    int rc = 0, got = 0;
    while (!rc && (got = jsonl_reader_next(&r, &p, &n, &ln)) == 1) {
        if (i % g == 0) {
            size_t e = (size_t)(i / g);
            if (e == cap) {
                cap = cap ? 2 * cap : 256;
                int64_t *no = realloc(off, sizeof *off * cap), *nl = no ? realloc(line0, sizeof *line0 * cap) : NULL;
                if (no) off = no;
                if (nl) line0 = nl;
                if (!no || !nl) {
                    rc = T5G_FAIL("out of memory indexing %s", path);
                    break;
                }
            }
            off[e] = pos; /* where the reader stood before this line (blank lines included) */
            line0[e] = pline;
        }
        char *id = NULL;
        rc = line_id(p, n, &id);
        if (!rc && id) rc = spill_add(s, t5g_fnv1a64_str(id), ln);
        free(id);
        pos = r.off;
        pline = r.line;
        i++;
    }
    if (!rc && got < 0) rc = -1;
    jsonl_reader_close(&r);
    if (!rc) rc = spill_candidates(s);
    if (!rc) rc = confirm(path, s);
    for (int b = 0; b < NBUCKET; b++)
        if (s->f[b]) fclose(s->f[b]);
    free(s);
    if (rc) {
        free(off);
        free(line0);
        return -1;
    }
    ix->n = i;
    ix->chunk = jsonl_chunk_lines(i);
    ix->nchunks = (i + ix->chunk - 1) / ix->chunk;
    int64_t step = ix->chunk / g;
    for (int64_t k = 0; k < ix->nchunks; k++) { /* keep every step-th entry, in place */
        off[k] = off[k * step];
        line0[k] = line0[k * step];
    }
    ix->off = off;
    ix->line0 = line0;
    return 0;
}

/* ---- merge ---- */
/* One results file read in order; head is its next result not yet placed. */
typedef struct {
    jsonl_reader r;
    int open, eof;
    char *id, *line; /* head: its id (JSON text) and the line as written out */
    long long lineno;
} mstream;

static int stream_head(mstream *s) {
    if (s->id || s->eof) return 0;
    char *p;
    size_t n;
    int got = jsonl_reader_next(&s->r, &p, &n, &s->lineno);
    if (got <= 0) {
        s->eof = 1;
        return got;
    }
    const char *why;
    cJSON *it = jsonl_parse_line(p, n, &why);
    if (why == JSONL_OUT_OF_MEMORY) return -1;
    /* a torn tail was cut before: a bad line now means the file was damaged */
    if (!it) return T5G_FAIL("%s:%lld: %s: results file damaged; start fresh (delete it)", s->r.path, s->lineno, why);
    s->id = jsonl_result_id(it, s->r.path, s->lineno);
    s->line = s->id ? cJSON_PrintUnformatted(it) : NULL; /* printed as the old merge did */
    cJSON_Delete(it);
    if (!s->id) return -1;
    T5G_CHECK(s->line, "out of memory merging %s", s->r.path);
    return 0;
}

static void stream_pop(mstream *s) {
    free(s->id);
    free(s->line);
    s->id = s->line = NULL;
}

/* id -> slot of the current chunk (open addressing over 2^k >= 2 * chunk slots) */
typedef struct {
    char **id;
    int *slot;
    size_t mask;
} chunk_map;

static int64_t map_find(const chunk_map *m, char *const *ids, const char *id) {
    size_t j = t5g_fnv1a64_str(id) & m->mask;
    for (; m->slot[j] >= 0; j = (j + 1) & m->mask)
        if (!strcmp(ids[m->slot[j]], id)) return m->slot[j];
    return -1;
}

static void map_put(chunk_map *m, char *const *ids, int k) {
    size_t j = t5g_fnv1a64_str(ids[k]) & m->mask;
    for (; m->slot[j] >= 0; j = (j + 1) & m->mask)
        if (!strcmp(ids[m->slot[j]], ids[k])) return; /* a repeated id (only without the scan) keeps its first line */
    m->slot[j] = k;
}

/* Input chunk k's ids into ids[] (NULL where a line has none) and the map. */
typedef struct {
    char **ids;
    chunk_map *m;
    int64_t first;
} chunk_ids;

static int chunk_id(void *ctx, int64_t i, char *p, size_t n, long long lineno) {
    (void)lineno;
    chunk_ids *c = ctx;
    T5G_TRY(line_id(p, n, &c->ids[i - c->first]));
    if (c->ids[i - c->first]) map_put(c->m, c->ids, (int)(i - c->first));
    return 0;
}

static int load_chunk(const char *in, const jsonl_index *ix, int64_t k, char **ids, chunk_map *m) {
    int64_t first, end;
    jsonl_chunk_range(ix, k, &first, &end);
    for (size_t j = 0; j <= m->mask; j++) m->slot[j] = -1;
    chunk_ids c = {ids, m, first};
    return jsonl_each_line(in, ix->off[k], ix->line0[k], first, end - first, chunk_id, &c);
}

int jsonl_merge_chunks(const char *in, const char *out, const jsonl_index *ix, uint8_t *done) {
    char **parts = NULL;
    int np = 0;
    T5G_TRY(jsonl_part_paths(out, &parts, &np));
    int ns = np + 1, rc = 0;
    size_t c = (size_t)ix->chunk, cap = 1;
    while (cap < 2 * c) cap *= 2;
    mstream *st = calloc((size_t)ns, sizeof *st);
    char **ids = calloc(c, sizeof *ids), **slot = calloc(c, sizeof *slot);
    chunk_map m = {NULL, malloc(sizeof(int) * cap), cap - 1};
    if (!st || !ids || !slot || !m.slot) rc = T5G_FAIL("out of memory merging %s", out);
    for (int s = 0; s < ns && !rc; s++) {
        const char *p = s == 0 ? out : parts[s - 1];
        if (access(p, F_OK) != 0) {
            st[s].eof = 1;
            continue;
        }
        rc = jsonl_reader_open(&st[s].r, p, 0, 0);
        st[s].open = !rc;
    }
    t5g_outfile o;
    int opened = !rc && !(rc = t5g_out_open(&o, out, "w"));
    for (int64_t k = 0; k < ix->nchunks && !rc; k++) {
        int64_t first, end;
        jsonl_chunk_range(ix, k, &first, &end);
        rc = load_chunk(in, ix, k, ids, &m);
        /* each file's results for this chunk come next in it (in any order) */
        for (int s = 0; s < ns && !rc; s++)
            while (!(rc = stream_head(&st[s])) && st[s].id) {
                int64_t j = map_find(&m, ids, st[s].id);
                if (j < 0) break; /* a later chunk's */
                if (!slot[j]) {
                    slot[j] = st[s].line;
                    st[s].line = NULL;
                } /* first copy wins */
                stream_pop(&st[s]);
            }
        for (int64_t j = 0; j < end - first; j++) {
            if (slot[j] && !rc && fprintf(o.f, "%s\n", slot[j]) < 0)
                rc = T5G_FAIL("write error on %s (disk full?)", out);
            if (slot[j] && done) jsonl_set_bit(done, first + j);
            free(slot[j]);
            free(ids[j]);
            slot[j] = ids[j] = NULL;
        }
    }
    for (int s = 0; s < ns && !rc; s++) /* anything left is not this input's or out of order */
        if (!(rc = stream_head(&st[s])) && st[s].id)
            rc = T5G_FAIL("%s:%lld: the result for id %s is not in %s or out of input order (another run's file?); "
                          "rerun without --resume to start fresh",
                          st[s].r.path, st[s].lineno, st[s].id, in);
    if (opened) {
        if (!rc) rc = t5g_out_commit(&o);
        else t5g_out_abort(&o);
    }
    for (int s = 0; st && s < ns; s++) {
        stream_pop(&st[s]);
        if (st[s].open) jsonl_reader_close(&st[s].r);
    }
    if (!rc)
        for (int k = 0; k < np; k++) unlink(parts[k]);
    jsonl_free_paths(parts, np);
    free(st);
    free(ids);
    free(slot);
    free(m.slot);
    return rc;
}
