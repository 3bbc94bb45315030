/* safetensors.c - see safetensors.h.  Little-endian host assumed (x86-64, like the format). */
#include "io/safetensors.h"
#include "core/json.h"
#include "core/err.h"
#include "io/ckpt.h" /* bf16 helpers */
#include "core/fileio.h"
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors reader assumes a little-endian host");

#define ST_MAX_HEADER (100u * 1000u * 1000u) /* the format's own limit (safetensors MAX_HEADER_SIZE) */

typedef struct {
    char *path;
    int fd;
    uint64_t size;
} st_file;

struct t5g_st {
    st_file *files;
    int nfiles;
    t5g_st_tensor *t;
    int n, cap;
};

static const struct {
    const char *name;
    t5g_st_dtype dt;
    int size;
} DTYPES[] = {
    {"F32", T5G_ST_F32, 4},    {"F16", T5G_ST_F16, 2},       {"BF16", T5G_ST_BF16, 2},     {"F64", T5G_ST_OTHER, 8},
    {"I64", T5G_ST_OTHER, 8},  {"U64", T5G_ST_OTHER, 8},     {"I32", T5G_ST_OTHER, 4},     {"U32", T5G_ST_OTHER, 4},
    {"I16", T5G_ST_OTHER, 2},  {"U16", T5G_ST_OTHER, 2},     {"I8", T5G_ST_OTHER, 1},      {"U8", T5G_ST_OTHER, 1},
    {"BOOL", T5G_ST_OTHER, 1}, {"F8_E5M2", T5G_ST_OTHER, 1}, {"F8_E4M3", T5G_ST_OTHER, 1},
};

float t5g_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13); /* inf / NaN (payload kept) */
    } else if (exp != 0) {
        u = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign;
    } else { /* subnormal: normalise */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400u));
        u = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int read_at(const st_file *f, void *buf, uint64_t n, uint64_t off) {
    char *p = buf;
    while (n > 0) {
        size_t want = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t got = pread(f->fd, p, want, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return T5G_FAIL("read error on %s: %s", f->path, strerror(errno));
        if (got == 0) return T5G_FAIL("%s ended early (truncated?) at byte %llu", f->path, (unsigned long long)off);
        p += got;
        off += (uint64_t)got;
        n -= (uint64_t)got;
    }
    return 0;
}

static t5g_st_tensor *new_tensor(t5g_st *st) {
    if (st->n == st->cap) {
        int cap = st->cap ? 2 * st->cap : 64;
        t5g_st_tensor *nt = realloc(st->t, (size_t)cap * sizeof *nt);
        if (!nt) {
            T5G_FAIL("out of memory listing safetensors tensors");
            return NULL;
        }
        st->t = nt;
        st->cap = cap;
    }
    t5g_st_tensor *t = &st->t[st->n++];
    memset(t, 0, sizeof *t);
    return t;
}

/* A JSON number that is a non-negative integer below 2^53 (exact in a double). */
static int json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

/* One header entry -> tensor; offsets checked against the data section [data0, data0+dlen). */
static int parse_entry(t5g_st *st, int fi, const cJSON *e, uint64_t data0, uint64_t dlen) {
    const char *path = st->files[fi].path, *name = e->string;
    T5G_CHECK(cJSON_IsObject(e), "%s: safetensors entry '%s' is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    T5G_CHECK(cJSON_IsString(dt) && cJSON_IsArray(sh) && cJSON_IsArray(off) && cJSON_GetArraySize(off) == 2,
              "%s: tensor '%s' needs \"dtype\" (string), \"shape\" (list) and \"data_offsets\" ([begin, end])", path,
              name);
    t5g_st_tensor *t = new_tensor(st);
    if (!t) return -1;
    t->name = strdup(name);
    T5G_CHECK(t->name, "out of memory");
    t->file = fi;
    int k = 0, nd = (int)(sizeof DTYPES / sizeof DTYPES[0]);
    while (k < nd && strcmp(DTYPES[k].name, dt->valuestring)) k++;
    T5G_CHECK(k < nd, "%s: tensor '%s' has unknown dtype '%.20s' (not a safetensors dtype)", path, name,
              dt->valuestring);
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", DTYPES[k].name);
    t->dtype = DTYPES[k].dt;
    t->elem_size = DTYPES[k].size;
    t->ndim = cJSON_GetArraySize(sh);
    T5G_CHECK(t->ndim <= T5G_ST_MAX_DIMS, "%s: tensor '%s' has %d dimensions (at most %d supported)", path, name,
              t->ndim, T5G_ST_MAX_DIMS);
    t->numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t v;
        T5G_CHECK(json_u64(cJSON_GetArrayItem(sh, d), &v) == 0 && v < (1ull << 40),
                  "%s: tensor '%s' has a bad shape entry %d", path, name, d);
        t->shape[d] = (int64_t)v;
        T5G_CHECK(v == 0 || t->numel <= (INT64_MAX / 8) / (int64_t)v, "%s: tensor '%s' is too large", path, name);
        t->numel *= (int64_t)v;
    }
    uint64_t b, en;
    T5G_CHECK(json_u64(cJSON_GetArrayItem(off, 0), &b) == 0 && json_u64(cJSON_GetArrayItem(off, 1), &en) == 0 &&
                  b <= en,
              "%s: tensor '%s' has bad data_offsets (need 0 <= begin <= end)", path, name);
    T5G_CHECK(en <= dlen,
              "%s: tensor '%s' data_offsets [%llu, %llu] run past the end of the file (data section "
              "is %llu bytes); the file is truncated or corrupt",
              path, name, (unsigned long long)b, (unsigned long long)en, (unsigned long long)dlen);
    uint64_t want = (uint64_t)t->numel * (uint64_t)t->elem_size;
    T5G_CHECK(en - b == want, "%s: tensor '%s' has %llu bytes in data_offsets but shape x %s needs %llu", path, name,
              (unsigned long long)(en - b), t->dtype_name, (unsigned long long)want);
    t->begin = data0 + b;
    t->end = data0 + en;
    return 0;
}

static int by_begin(const void *a, const void *b) {
    const t5g_st_tensor *x = *(t5g_st_tensor *const *)a, *y = *(t5g_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* Byte ranges of tensors [first, st->n) (all from one file) must not overlap. */
static int check_overlaps(t5g_st *st, int first) {
    int n = st->n - first;
    if (n < 2) return 0;
    t5g_st_tensor **v = t5g_malloc((size_t)n * sizeof *v, "overlap check");
    if (!v) return -1;
    for (int i = 0; i < n; i++) v[i] = &st->t[first + i];
    qsort(v, (size_t)n, sizeof *v, by_begin);
    int rc = 0;
    for (int i = 1; i < n && !rc; i++)
        if (v[i]->begin < v[i - 1]->end)
            rc = T5G_FAIL("%s: tensors '%s' and '%s' overlap in the file (data_offsets); the file is corrupt",
                          st->files[v[i]->file].path, v[i - 1]->name, v[i]->name);
    free(v);
    return rc;
}

static int parse_header(t5g_st *st, int fi, const char *json, uint64_t len, uint64_t data0) {
    const char *path = st->files[fi].path;
    const char *end = NULL;
    int oom;
    cJSON *root = t5g_json_parse(json, (size_t)len, &end, 0, &oom, path);
    if (oom) return -1;
    if (!root)
        return T5G_FAIL("%s: malformed safetensors header JSON (near byte %ld of the header)", path,
                        end ? (long)(end - json) : -1L);
    int rc = 0, first = st->n;
    if (!cJSON_IsObject(root)) rc = T5G_FAIL("%s: safetensors header is not a JSON object", path);
    for (const cJSON *e = root->child; e && !rc; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0) rc = parse_entry(st, fi, e, data0, st->files[fi].size - data0);
    cJSON_Delete(root);
    return rc ? rc : check_overlaps(st, first);
}

/* Open one .safetensors file and append its tensors. */
static int add_file(t5g_st *st, const char *path) {
    st_file *nf = realloc(st->files, (size_t)(st->nfiles + 1) * sizeof *nf);
    T5G_CHECK(nf, "out of memory");
    st->files = nf;
    st_file *f = &st->files[st->nfiles];
    f->path = strdup(path);
    T5G_CHECK(f->path, "out of memory opening %s", path);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        int e = errno;
        free(f->path);
        return T5G_FAIL("cannot open %s: %s", path, strerror(e));
    }
    int fi = st->nfiles++;
    struct stat sb;
    T5G_CHECK(f->path && fstat(f->fd, &sb) == 0, "cannot stat %s", path);
    f->size = (uint64_t)sb.st_size;
    T5G_CHECK(f->size >= 8, "%s is not a safetensors file (only %llu bytes)", path, (unsigned long long)f->size);
    unsigned char lenb[8];
    T5G_TRY(read_at(f, lenb, 8, 0));
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | lenb[i];
    T5G_CHECK(hlen <= f->size - 8,
              "%s: safetensors header length %llu runs past the end of the file (%llu bytes); "
              "the file is truncated or not a safetensors file",
              path, (unsigned long long)hlen, (unsigned long long)f->size);
    T5G_CHECK(hlen >= 2 && hlen <= ST_MAX_HEADER, "%s: safetensors header length %llu is not plausible", path,
              (unsigned long long)hlen);
    char *json = t5g_malloc((size_t)hlen + 1, "safetensors header");
    if (!json) return -1;
    int rc = read_at(f, json, hlen, 8);
    if (!rc) {
        json[hlen] = 0;
        rc = parse_header(st, fi, json, hlen, 8 + hlen);
    }
    free(json);
    return rc;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const t5g_st_tensor *)a)->name, ((const t5g_st_tensor *)b)->name);
}

/* Sort by name (for t5g_st_find) and reject a name seen twice (two shards, or a repeated
 * JSON key, which cJSON keeps). */
static int sort_and_dedup(t5g_st *st) {
    if (st->n > 1) qsort(st->t, (size_t)st->n, sizeof *st->t, by_name); /* st->t may be NULL when empty */
    for (int i = 1; i < st->n; i++)
        T5G_CHECK(strcmp(st->t[i].name, st->t[i - 1].name), "tensor '%s' appears twice (in %s and %s)", st->t[i].name,
                  st->files[st->t[i - 1].file].path, st->files[st->t[i].file].path);
    return 0;
}

/* Directory part of path (with trailing '/'), or "" */
static void dir_of(const char *path, char *dir, size_t n) {
    const char *s = strrchr(path, '/');
    size_t k = s ? (size_t)(s - path + 1) : 0;
    if (k >= n) k = 0;
    memcpy(dir, path, k);
    dir[k] = 0;
}

/* Open every shard named in an index's weight_map, then check the map against them. */
static int add_index(t5g_st *st, const char *path) {
    size_t len;
    char *txt = t5g_read_file(path, &len);
    if (!txt) return -1;
    const char *end = NULL;
    int oom;
    cJSON *root = t5g_json_parse(txt, len, &end, 0, &oom, path);
    long at = end ? (long)(end - txt) : -1L;
    free(txt);
    if (oom) return -1;
    T5G_CHECK(root, "%s: malformed JSON (near byte %ld)", path, at);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    int rc = cJSON_IsObject(wm) ? 0 : T5G_FAIL("%s has no \"weight_map\" object", path);
    char dir[4096], shard[8192];
    dir_of(path, dir, sizeof dir);
    for (const cJSON *e = wm ? wm->child : NULL; e && !rc; e = e->next) {
        if (!cJSON_IsString(e) || !*e->valuestring || e->valuestring[0] == '/' || strstr(e->valuestring, "..")) {
            rc = T5G_FAIL("%s: weight_map entry '%s' must name a shard file in the same folder", path, e->string);
            break;
        }
        snprintf(shard, sizeof shard, "%s%s", dir, e->valuestring);
        int seen = 0;
        for (int i = 0; i < st->nfiles && !seen; i++) seen = !strcmp(st->files[i].path, shard);
        if (!seen) rc = add_file(st, shard);
    }
    if (!rc) rc = sort_and_dedup(st);
    for (const cJSON *e = wm ? wm->child : NULL; e && !rc; e = e->next) {
        const t5g_st_tensor *t = t5g_st_find(st, e->string);
        snprintf(shard, sizeof shard, "%s%s", dir, e->valuestring);
        if (!t || strcmp(st->files[t->file].path, shard))
            rc = T5G_FAIL("%s: weight_map puts '%s' in %s, but that shard does not hold it", path, e->string,
                          e->valuestring);
    }
    cJSON_Delete(root);
    return rc;
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Resolve a directory to its index or single file. */
static int resolve(const char *path, char *out, size_t n) {
    struct stat sb;
    T5G_CHECK(stat(path, &sb) == 0, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(out, n, "%s", path);
        return 0;
    }
    snprintf(out, n, "%s/model.safetensors.index.json", path);
    if (access(out, R_OK) == 0) return 0;
    snprintf(out, n, "%s/model.safetensors", path);
    T5G_CHECK(access(out, R_OK) == 0, "%s holds neither model.safetensors nor model.safetensors.index.json", path);
    return 0;
}

t5g_st *t5g_st_open(const char *path) {
    T5G_CHECK_NULL(path && *path, "no safetensors path given");
    char file[4096];
    if (resolve(path, file, sizeof file)) return NULL;
    t5g_st *st = t5g_calloc(1, sizeof *st, "safetensors handle");
    if (!st) return NULL;
    int rc = has_suffix(file, ".json") ? add_index(st, file) : add_file(st, file);
    if (!rc) rc = sort_and_dedup(st);
    if (rc) {
        t5g_st_close(st);
        return NULL;
    }
    return st;
}

void t5g_st_close(t5g_st *st) {
    if (!st) return;
    for (int i = 0; i < st->nfiles; i++) {
        if (st->files[i].fd >= 0) close(st->files[i].fd);
        free(st->files[i].path);
    }
    for (int i = 0; i < st->n; i++) free(st->t[i].name);
    free(st->files);
    free(st->t);
    free(st);
}

int t5g_st_count(const t5g_st *st) {
    return st ? st->n : 0;
}

const t5g_st_tensor *t5g_st_get(const t5g_st *st, int i) {
    return st && i >= 0 && i < st->n ? &st->t[i] : NULL;
}

const t5g_st_tensor *t5g_st_find(const t5g_st *st, const char *name) {
    if (!st || !name || !st->n) return NULL;
    t5g_st_tensor key = {.name = (char *)name};
    return bsearch(&key, st->t, (size_t)st->n, sizeof key, by_name);
}

const char *t5g_st_file(const t5g_st *st, const t5g_st_tensor *t) {
    return st && t && t->file >= 0 && t->file < st->nfiles ? st->files[t->file].path : "?";
}

static int check_readable(const t5g_st *st, const t5g_st_tensor *t, const void *out) {
    T5G_CHECK(st && t && out, "t5g_st_read: NULL argument");
    T5G_CHECK(t->dtype != T5G_ST_OTHER, "%s: tensor '%s' has dtype %s; t5g reads only F32, F16 and BF16 weights",
              t5g_st_file(st, t), t->name, t->dtype_name);
    return 0;
}

/* 2-byte source read into the upper half of a 4-byte-per-element buffer, then widened in
 * increasing order: element i's output bytes [4i, 4i+4) never reach a source not yet read. */
int t5g_st_read_f32_range(t5g_st *st, const t5g_st_tensor *t, int64_t first, int64_t count, float *out) {
    T5G_TRY(check_readable(st, t, out));
    T5G_CHECK(first >= 0 && count >= 0 && first + count <= t->numel,
              "%s: read of elements [%lld, %lld) is outside "
              "tensor '%s'",
              t5g_st_file(st, t), (long long)first, (long long)(first + count), t->name);
    const st_file *f = &st->files[t->file];
    size_t n = (size_t)count;
    uint64_t off = t->begin + (uint64_t)first * (uint64_t)t->elem_size, len = (uint64_t)n * (uint64_t)t->elem_size;
    if (t->dtype == T5G_ST_F32) return read_at(f, out, len, off);
    unsigned char *base = (unsigned char *)out;
    T5G_TRY(read_at(f, base + 2 * n, len, off));
    if (t->dtype == T5G_ST_BF16) {
        t5g_bf16_widen_inplace(out, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) { /* F16: element by element, in increasing order */
        uint16_t h;
        memcpy(&h, base + 2 * n + 2 * i, 2);
        float v = t5g_f16_to_f32(h);
        memcpy(base + 4 * i, &v, 4);
    }
    return 0;
}

int t5g_st_read_f32(t5g_st *st, const t5g_st_tensor *t, float *out) {
    T5G_CHECK(t, "t5g_st_read_f32: no tensor");
    return t5g_st_read_f32_range(st, t, 0, t->numel, out);
}

int t5g_st_read_bf16(t5g_st *st, const t5g_st_tensor *t, uint16_t *out) {
    T5G_TRY(check_readable(st, t, out));
    if (t->dtype == T5G_ST_BF16) return read_at(&st->files[t->file], out, t->end - t->begin, t->begin);
    /* F32/F16: convert in blocks so that no full-size temporary is needed */
    enum { BLK = 1 << 16 };
    float *tmp = t5g_malloc(BLK * sizeof(float), "bf16 conversion");
    if (!tmp) return -1;
    int rc = 0;
    for (int64_t i0 = 0; i0 < t->numel && !rc; i0 += BLK) {
        int64_t m = t->numel - i0 < BLK ? t->numel - i0 : BLK;
        rc = t5g_st_read_f32_range(st, t, i0, m, tmp);
        for (int64_t i = 0; i < m && !rc; i++) out[i0 + i] = t5g_f32_to_bf16(tmp[i]);
    }
    free(tmp);
    return rc;
}
