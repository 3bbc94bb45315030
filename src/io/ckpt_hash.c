/* ckpt_hash.c - the content sha256 of a checkpoint (docs/checkpoint.md "Content hash"): over
 * the root attributes (but content_sha256 and producer) and every dataset's path, stored dtype,
 * shape and stored little-endian bytes, in byte order of the names.  It does not depend on the
 * HDF5 layout (chunking, checksums, object order, library version), so the same model written
 * twice has the same hash, and it is computed while writing: reading it back costs nothing. */
#include "io/ckpt_impl.h"
#include "core/err.h"
#include "core/progress.h"
#include "core/sha256.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "t5g-content-sha256/1\n"

typedef struct {
    char *name;
    char head[96];
    uint8_t digest[32];
} ckh_tensor;

struct ckh_writer {
    ckh_tensor *t;
    int n, cap, open;
    t5g_sha256_ctx ctx; /* the tensor being written */
};

ckh_writer *ckh_new(void) {
    return t5g_calloc(1, sizeof(ckh_writer), "checkpoint hash");
}

void ckh_free(ckh_writer *h) {
    if (!h) return;
    for (int i = 0; i < h->n; i++) free(h->t[i].name);
    free(h->t);
    free(h);
}

/* "tag\0dims\n": what a dataset's digest is prefixed with besides its name */
static void tensor_head(char *buf, size_t cap, const char *tag, int ndim, const int64_t *shape) {
    int k = snprintf(buf, cap, "%s", tag) + 1;
    for (int i = 0; i < ndim && k < (int)cap; i++)
        k += snprintf(buf + k, cap - (size_t)k, i ? ",%lld" : "%lld", (long long)shape[i]);
}

int ckh_begin(ckh_writer *h, const char *name, const char *tag, int ndim, const int64_t *shape) {
    if (!h) return 0;
    T5G_CHECK(!h->open, "checkpoint hash: tensor %s begun inside another", name);
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        ckh_tensor *t = realloc(h->t, sizeof *t * (size_t)cap);
        T5G_CHECK(t, "out of memory (checkpoint hash)");
        h->t = t;
        h->cap = cap;
    }
    ckh_tensor *t = &h->t[h->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    T5G_CHECK(t->name, "out of memory (checkpoint hash)");
    tensor_head(t->head, sizeof t->head, tag, ndim, shape);
    t5g_sha256_init(&h->ctx);
    h->open = 1;
    return 0;
}

void ckh_data(ckh_writer *h, const void *buf, size_t len) {
    if (h && h->open) t5g_sha256_update(&h->ctx, buf, len);
}

int ckh_end(ckh_writer *h) {
    if (!h) return 0;
    T5G_CHECK(h->open, "checkpoint hash: tensor ended twice");
    t5g_sha256_final(&h->ctx, h->t[h->n].digest);
    h->open = 0;
    h->n++;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const ckh_tensor *)a)->name, ((const ckh_tensor *)b)->name);
}
static int by_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- names of attributes and datasets ---- */

typedef struct {
    char **v;
    int n, cap;
    int oom; /* an allocation failed: the iteration stopped for that, not for the file */
} names;

static int names_add(names *s, const char *name) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        char **v = realloc(s->v, sizeof *v * (size_t)cap);
        if (!v) return -(s->oom = 1);
        s->v = v;
        s->cap = cap;
    }
    return (s->v[s->n] = strdup(name)) ? (s->n++, 0) : -(s->oom = 1);
}

static void names_free(names *s) {
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    return names_add(data, name) ? -1 : 0;
}

static herr_t obj_cb(hid_t loc, const char *name, const H5O_info_t *info, void *data) { /* HDF5 1.10 API */
    return info->type == H5O_TYPE_DATASET && names_add(data, name) ? -1 : 0;
}

/* the root attributes into the hash, sorted by name */
static int hash_attrs(t5g_sha256_ctx *ctx, hid_t file) {
    names a = {0};
    hsize_t idx = 0;
    int rc = H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &a) < 0 ? -1 : 0;
    H5Eclear2(H5E_DEFAULT);
    if (rc) {
        names_free(&a);
        return T5G_FAIL(a.oom ? "out of memory listing the checkpoint's root attributes"
                              : "cannot list the checkpoint's root attributes");
    }
    if (a.n > 1) qsort(a.v, (size_t)a.n, sizeof *a.v, by_str); /* a.v is NULL without attributes */
    for (int i = 0; i < a.n && !rc; i++) {
        if (!strcmp(a.v[i], "content_sha256") || !strcmp(a.v[i], "producer")) continue;
        char *s = NULL, num[32];
        long long v;
        const char *kind = "s", *text = NULL;
        int srk = ckpt_get_str_attr(file, a.v[i], &s);
        if (srk == 0) {
            text = s;
        } else if (srk == -2) {
            rc = -1;
            break;
        } else if (ckpt_get_int_attr(file, a.v[i], &v) == 0) {
            snprintf(num, sizeof num, "%lld", v);
            kind = "i";
            text = num;
        } else {
            rc = T5G_FAIL("root attribute %s is neither a string nor an integer; the content hash covers only those",
                          a.v[i]);
            break;
        }
        t5g_sha256_update(ctx, a.v[i], strlen(a.v[i]) + 1);
        t5g_sha256_update(ctx, kind, 2);
        t5g_sha256_update(ctx, text, strlen(text));
        t5g_sha256_update(ctx, "\n", 1);
        free(s);
    }
    names_free(&a);
    return rc;
}

static void hash_tensor(t5g_sha256_ctx *ctx, const ckh_tensor *t) {
    size_t hl = strlen(t->head) + 1;
    hl += strlen(t->head + hl);
    t5g_sha256_update(ctx, t->name, strlen(t->name) + 1);
    t5g_sha256_update(ctx, t->head, hl);
    t5g_sha256_update(ctx, "\n", 1);
    t5g_sha256_update(ctx, t->digest, 32);
}

/* MAGIC, the attributes, then the tensors (sorted by name) */
static int combine(ckh_tensor *t, int n, hid_t file, char hex[65]) {
    t5g_sha256_ctx ctx;
    t5g_sha256_init(&ctx);
    t5g_sha256_update(&ctx, MAGIC, strlen(MAGIC));
    T5G_TRY(hash_attrs(&ctx, file));
    if (n > 1) qsort(t, (size_t)n, sizeof *t, by_name); /* a file without tensors has t == NULL */
    for (int i = 0; i < n; i++) {
        T5G_CHECK(i == 0 || strcmp(t[i - 1].name, t[i].name), "checkpoint hash: tensor %s written twice", t[i].name);
        hash_tensor(&ctx, &t[i]);
    }
    uint8_t d[32];
    t5g_sha256_final(&ctx, d);
    t5g_sha256_hex(d, hex);
    return 0;
}

int ckh_final(ckh_writer *h, hid_t file, char hex[65]) {
    T5G_CHECK(h && !h->open, "checkpoint hash: a tensor is still open");
    return combine(h->t, h->n, file, hex);
}

/* ---- recomputing it from a file ---- */

/* Stored tag, element size and memory type of a dataset, as the writer labels them. */
static int dataset_kind(hid_t d, const char *name, const char **tag, size_t *size, hid_t *mt) {
    hid_t t = H5Dget_type(d);
    H5T_class_t cl = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    H5T_sign_t sg = cl == H5T_INTEGER ? H5Tget_sign(t) : H5T_SGN_ERROR;
    H5Tclose(t);
    char *dt = NULL;
    if (cl == H5T_INTEGER && sz <= 2 && ckpt_get_str_attr(d, "dtype", &dt) == -2) return -1;
    *tag = NULL;
    if (cl == H5T_FLOAT && sz == 4) {
        *tag = "float32";
        *mt = H5T_NATIVE_FLOAT;
    } else if (cl == H5T_INTEGER && sz == 2 && sg == H5T_SGN_NONE && dt && !strcmp(dt, "bfloat16")) {
        *tag = "bfloat16";
        *mt = H5T_NATIVE_UINT16;
    } else if (cl == H5T_INTEGER && sz == 1 && sg == H5T_SGN_2 && dt && !strcmp(dt, "int8")) {
        *tag = "int8";
        *mt = H5T_NATIVE_SCHAR;
    } else if (cl == H5T_INTEGER && sz == 1 && sg == H5T_SGN_NONE) {
        *tag = "uint8";
        *mt = H5T_NATIVE_UCHAR;
    }
    free(dt);
    *size = sz;
    T5G_CHECK(*tag, "dataset %s has a type the content hash does not cover (float32, bfloat16, int8, uint8)", name);
    return 0;
}

/* dataset name's digest, reading it in blocks of whole rows (about 16 M elements) */
static int digest_dataset(hid_t file, const char *name, ckh_tensor *t, t5g_progress *p) {
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    T5G_CHECK(d >= 0, "cannot open dataset %s", name);
    hid_t fs = H5Dget_space(d), mt = -1;
    int nd = H5Sget_simple_extent_ndims(fs);
    hsize_t dims[2] = {0, 1};
    const char *tag;
    size_t sz;
    int rc = nd >= 1 && nd <= 2
                 ? 0
                 : T5G_FAIL("dataset %s has %d dimensions; the checkpoint holds 1-D and 2-D ones", name, nd);
    if (!rc) H5Sget_simple_extent_dims(fs, dims, NULL);
    if (!rc) rc = dataset_kind(d, name, &tag, &sz, &mt);
    int64_t shape[2] = {(int64_t)dims[0], (int64_t)dims[1]};
    if (!rc) tensor_head(t->head, sizeof t->head, tag, nd, shape);
    hsize_t cols = nd == 2 ? dims[1] : 1, blk = cols ? (1 << 24) / cols : dims[0];
    if (blk < 1) blk = 1;
    void *buf = rc ? NULL : t5g_malloc((size_t)(blk * cols * sz) + 1, "checkpoint hash");
    if (!rc && !buf) rc = -1;
    t5g_sha256_ctx ctx;
    t5g_sha256_init(&ctx);
    for (hsize_t r = 0; r < dims[0] && !rc; r += blk) {
        hsize_t off[2] = {r, 0}, cnt[2] = {dims[0] - r < blk ? dims[0] - r : blk, cols};
        hid_t ms = H5Screate_simple(nd, cnt, NULL);
        herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
        if (e >= 0 && cnt[0] * cnt[1] > 0) e = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
        H5Sclose(ms);
        if (e < 0) {
            rc = T5G_FAIL("cannot read %s (a chunk fails its checksum, or the file is damaged)", name);
            break;
        }
        size_t bytes = (size_t)(cnt[0] * cnt[1] * sz);
        t5g_sha256_update(&ctx, buf, bytes);
        if (p) t5g_progress_add(p, (int64_t)bytes, 0);
    }
    free(buf);
    H5Sclose(fs);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    if (!rc) t5g_sha256_final(&ctx, t->digest);
    return rc;
}

static int list_datasets(hid_t file, names *ds) {
    int rc = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, obj_cb, ds, H5O_INFO_BASIC) < 0 ? -1 : 0;
    H5Eclear2(H5E_DEFAULT);
    if (rc && ds->oom) return T5G_FAIL("out of memory listing the checkpoint's datasets");
    return rc ? T5G_FAIL("cannot list the checkpoint's datasets") : 0;
}

static int64_t dataset_bytes(hid_t file, const char *name) {
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    int64_t n = (int64_t)H5Sget_simple_extent_npoints(s) * (int64_t)H5Tget_size(t);
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
    return n;
}

int64_t ckh_data_bytes(hid_t file) {
    names ds = {0};
    int64_t total = 0;
    if (!list_datasets(file, &ds))
        for (int i = 0; i < ds.n; i++) total += dataset_bytes(file, ds.v[i]);
    t5g_clear_error();
    names_free(&ds);
    return total;
}

int t5g_ckpt_compute_sha256(t5g_ckpt *c, char hex[65], int show_progress) {
    T5G_CHECK(c && hex, "t5g_ckpt_compute_sha256: NULL argument");
    hid_t file = ckpt_file(c);
    names ds = {0};
    T5G_TRY(list_datasets(file, &ds));
    ckh_tensor *t = t5g_calloc((size_t)ds.n + 1, sizeof *t, "checkpoint hash");
    int rc = t ? 0 : -1;
    int64_t total = 0;
    for (int i = 0; i < ds.n && !rc; i++) total += dataset_bytes(file, ds.v[i]);
    char label[300];
    snprintf(label, sizeof label, "hashing %s", t5g_ckpt_path(c));
    t5g_progress p;
    t5g_progress_start_bytes(&p, label, total, show_progress);
    for (int i = 0; i < ds.n && !rc; i++) {
        t[i].name = ds.v[i];
        rc = digest_dataset(file, ds.v[i], &t[i], &p);
    }
    if (!rc) t5g_progress_finish(&p);
    if (!rc) rc = combine(t, ds.n, file, hex);
    if (rc && strstr(t5g_last_error(), "cannot ") == t5g_last_error()) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", t5g_last_error());
        T5G_FAIL("%s: %s", t5g_ckpt_path(c), msg);
    }
    free(t);
    names_free(&ds);
    return rc;
}

int t5g_ckpt_stored_sha256(t5g_ckpt *c, char hex[65]) {
    T5G_CHECK(c && hex, "t5g_ckpt_stored_sha256: NULL argument");
    char *s = NULL;
    int rc = ckpt_get_str_attr(ckpt_file(c), "content_sha256", &s);
    if (rc > 0) return 1;
    if (rc == -2) return -1;
    int ok = rc == 0 && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
    if (ok) memcpy(hex, s, 65);
    free(s);
    T5G_CHECK(ok,
              "%s: root attribute content_sha256 is not 64 lowercase hex digits; the file is damaged; re-convert it",
              t5g_ckpt_path(c));
    return 0;
}

int t5g_ckpt_model_sha256(const char *path, char hex[65]) {
    t5g_ckpt *c = t5g_ckpt_open(path, MPI_COMM_SELF);
    if (!c) return -1;
    int rc = t5g_ckpt_stored_sha256(c, hex);
    t5g_ckpt_close(c);
    if (rc <= 0) return rc;
    fprintf(stderr,
            "t5g: note: %s has no stored content sha256 (written before t5g stored one): hashing the whole "
            "file for the run record; re-convert it to skip this\n",
            path);
    return t5g_sha256_file(path, hex);
}
