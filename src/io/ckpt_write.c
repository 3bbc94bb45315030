/* ckpt_write.c - writing our HDF5 checkpoint: serially, to a temp file renamed when complete
 * (never a half-written model), with the content hash computed on the way (ckpt_hash.c).
 * Layout and rules: docs/checkpoint.md; reading: ckpt.c. */
#include "io/ckpt_impl.h"
#include "core/err.h"
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct t5g_ckpt_writer {
    hid_t file;
    char path[4096];
    char tmp[4096 + 32];
    int bf16;
    int i8; /* int8 file: projections via t5g_ckpt_write_i8, other tensors float32 */
    int checksum;
    int64_t chunk_rows, chunk_cols;
    ckh_writer *hash; /* content sha256 of what is written (ckpt_hash.c) */
};

/* ---- writing ---- */

t5g_ckpt_writer *t5g_ckpt_create(const char *path, const char *config_json, const char *dtype) {
    T5G_CHECK_NULL(path && *path && config_json, "t5g_ckpt_create: no path or config");
    T5G_CHECK_NULL(dtype && (!strcmp(dtype, "float32") || !strcmp(dtype, "bfloat16") || !strcmp(dtype, "int8")),
                   "checkpoint dtype must be float32 or bfloat16 (or int8), not '%s'", dtype ? dtype : "(null)");
    T5G_CHECK_NULL(strlen(path) < 4096, "checkpoint path too long");
    ckpt_h5_quiet();
    t5g_ckpt_writer *w = t5g_calloc(1, sizeof *w, "checkpoint writer");
    if (!w) return NULL;
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%d", path, (int)getpid());
    w->bf16 = !strcmp(dtype, "bfloat16");
    w->i8 = !strcmp(dtype, "int8");
    w->checksum = 1;
    w->chunk_rows = T5G_CKPT_CHUNK_ROWS;
    w->chunk_cols = T5G_CKPT_CHUNK_COLS;
    w->hash = ckh_new();
    if (!w->hash) {
        free(w);
        return NULL;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST); /* dense attributes, compact groups */
    w->file = H5NOTE(H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    H5Pclose(fapl);
    if (w->file < 0) {
        T5G_FAIL("cannot create %s (%s); does the folder exist, is it writable, is the disk full?", w->tmp,
                 ckpt_h5_reason());
        unlink(w->tmp); /* a full disk fails after the file exists */
        ckh_free(w->hash);
        free(w);
        return NULL;
    }
    if (ckpt_put_str_attr(w->file, "format", FORMAT_NAME) ||
        ckpt_put_int_attr(w->file, "format_version", FORMAT_VERSION) || ckpt_put_str_attr(w->file, "dtype", dtype) ||
        ckpt_put_str_attr(w->file, "config", config_json) || ckpt_put_str_attr(w->file, "producer", "t5g")) {
        t5g_ckpt_abort(w);
        return NULL;
    }
    return w;
}

int t5g_ckpt_set_checksum(t5g_ckpt_writer *w, int on) {
    T5G_CHECK(w, "t5g_ckpt_set_checksum: no writer");
    w->checksum = on != 0;
    return 0;
}

int t5g_ckpt_set_chunk(t5g_ckpt_writer *w, int64_t rows, int64_t cols) {
    T5G_CHECK(w && rows > 0 && cols > 0, "t5g_ckpt_set_chunk: chunk sizes must be positive");
    w->chunk_rows = rows;
    w->chunk_cols = cols;
    return 0;
}

int t5g_ckpt_write_attr_int(t5g_ckpt_writer *w, const char *name, long long value) {
    T5G_CHECK(w && name && *name, "t5g_ckpt_write_attr_int: NULL argument");
    return ckpt_put_int_attr(w->file, name, value);
}

/* Chunk length along a dimension of n: n itself when n <= target; else the largest multiple
 * of 64 that divides n and is <= target (head/row blocks then never straddle a chunk, and
 * the edge chunk - stored full size by HDF5 - has no padding); else n split evenly. */
static hsize_t chunk_len(hsize_t n, hsize_t target) {
    if (n == 0) return 1;
    if (n <= target) return n;
    if (n % 64 == 0 && target >= 64)
        for (hsize_t d = target / 64 * 64; d >= 64; d -= 64)
            if (n % d == 0) return d;
    hsize_t k = (n + target - 1) / target;
    return (n + k - 1) / k;
}

/* Create dataset `name` (intermediate groups included), chunked, optionally checksummed. */
/* Fail before HDF5 meets a full disk: a write that fails inside HDF5 can leave its file
 * half-open and crash the library when it shuts down.  The margin covers the metadata. */
#define SPACE_MARGIN (256 * 1024)
static int check_space(const t5g_ckpt_writer *w, double bytes, const char *what) {
    struct statvfs fs;
    if (statvfs(w->tmp, &fs) != 0) return 0; /* cannot tell: let the write report it */
    double avail = (double)fs.f_bavail * (double)fs.f_frsize;
    T5G_CHECK(avail >= bytes + SPACE_MARGIN,
              "not enough disk space for %s in %s: %.0f bytes needed, %.0f free (disk full?)", what, w->tmp,
              bytes + SPACE_MARGIN, avail);
    return 0;
}

static hid_t create_tensor(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, hid_t type,
                           int64_t *chunk_rows) {
    hsize_t dims[2] = {(hsize_t)shape[0], ndim == 2 ? (hsize_t)shape[1] : 1}, chunk[2];
    if (check_space(w, (double)dims[0] * (double)dims[1] * (double)H5Tget_size(type), name)) return -1;
    chunk[0] = chunk_len(dims[0], (hsize_t)(ndim == 2 ? w->chunk_rows : T5G_CKPT_CHUNK_1D));
    chunk[1] = chunk_len(dims[1], (hsize_t)w->chunk_cols);
    *chunk_rows = (int64_t)chunk[0];
    hid_t sp = H5Screate_simple(ndim, dims, NULL), lcpl = H5Pcreate(H5P_LINK_CREATE),
          dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, ndim, chunk);
    if (w->checksum) H5Pset_fletcher32(dcpl);
    hid_t d = H5NOTE(H5Dcreate2(w->file, name, type, sp, lcpl, dcpl, H5P_DEFAULT));
    H5Sclose(sp);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    if (d < 0) T5G_FAIL("cannot create dataset %s in %s (%s)", name, w->tmp, ckpt_h5_reason());
    const char *tag = H5Tget_size(type) == 4 ? "float32" : H5Tget_size(type) == 2 ? "bfloat16" : "int8";
    if (d >= 0 && ckh_begin(w->hash, name, tag, ndim, shape)) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

static int check_write_args(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, const void *data) {
    T5G_CHECK(w && name && *name && shape, "t5g_ckpt_write: NULL argument");
    T5G_CHECK(ndim == 1 || ndim == 2, "t5g_ckpt_write(%s): ndim must be 1 or 2", name);
    T5G_CHECK(shape[0] >= 0 && (ndim == 1 || shape[1] >= 0), "t5g_ckpt_write(%s): negative shape", name);
    T5G_CHECK(data || shape[0] == 0 || (ndim == 2 && shape[1] == 0), "t5g_ckpt_write(%s): no data", name);
    return 0;
}

/* Write rows [r0, r0+nr) of a tensor from buf (memory type mt). */
static int write_rows(t5g_ckpt_writer *w, hid_t d, const char *name, int ndim, const int64_t *shape, int64_t r0,
                      int64_t nr, hid_t mt, const void *buf) {
    if (nr == 0 || (ndim == 2 && shape[1] == 0)) return 0;
    hsize_t off[2] = {(hsize_t)r0, 0}, cnt[2] = {(hsize_t)nr, ndim == 2 ? (hsize_t)shape[1] : 1};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(ndim, cnt, NULL);
    herr_t e = H5NOTE(H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL));
    if (e >= 0) e = H5NOTE(H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, buf));
    if (e >= 0) ckh_data(w->hash, buf, (size_t)(cnt[0] * cnt[1] * H5Tget_size(mt))); /* stored bytes, little-endian */
    H5Sclose(fs);
    H5Sclose(ms);
    return e < 0 ? T5G_FAIL("cannot write tensor %s to %s (%s; disk full?)", name, w->tmp, ckpt_h5_reason()) : 0;
}

static int finish_tensor(t5g_ckpt_writer *w, hid_t d, const char *name, int rc) {
    if (!rc) rc = ckpt_put_str_attr(d, "dtype", w->bf16 ? "bfloat16" : "float32");
    if (!rc) rc = ckh_end(w->hash);
    if (H5NOTE(H5Dclose(d)) < 0 && !rc)
        rc = T5G_FAIL("cannot write tensor %s to %s (%s)", name, w->tmp, ckpt_h5_reason());
    return rc;
}

int t5g_ckpt_write(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, const float *data) {
    T5G_TRY(check_write_args(w, name, ndim, shape, data));
    int64_t crows;
    hid_t d = create_tensor(w, name, ndim, shape, w->bf16 ? H5T_STD_U16LE : H5T_IEEE_F32LE, &crows);
    if (d < 0) return -1;
    int rc = 0;
    if (!w->bf16) {
        rc = write_rows(w, d, name, ndim, shape, 0, shape[0], H5T_NATIVE_FLOAT, data);
    } else { /* round to bf16 in blocks of whole chunk rows (about 1M values) */
        int64_t cols = ndim == 2 && shape[1] > 0 ? shape[1] : 1, blk = crows * (1 + (1 << 20) / (crows * cols));
        uint16_t *tmp = t5g_malloc((size_t)(blk * cols) * sizeof *tmp, "bf16 conversion");
        rc = tmp ? 0 : -1;
        for (int64_t r = 0; r < shape[0] && !rc; r += blk) {
            int64_t nr = shape[0] - r < blk ? shape[0] - r : blk;
            const float *src = data + r * cols;
            for (int64_t i = 0; i < nr * cols; i++) tmp[i] = t5g_f32_to_bf16(src[i]);
            rc = write_rows(w, d, name, ndim, shape, r, nr, H5T_NATIVE_UINT16, tmp);
        }
        free(tmp);
    }
    return finish_tensor(w, d, name, rc);
}

int t5g_ckpt_write_bf16(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, const uint16_t *data) {
    T5G_TRY(check_write_args(w, name, ndim, shape, data));
    T5G_CHECK(w->bf16, "t5g_ckpt_write_bf16(%s): %s is a float32 checkpoint", name, w->path);
    int64_t crows;
    hid_t d = create_tensor(w, name, ndim, shape, H5T_STD_U16LE, &crows);
    if (d < 0) return -1;
    int rc = write_rows(w, d, name, ndim, shape, 0, shape[0], H5T_NATIVE_UINT16, data);
    return finish_tensor(w, d, name, rc);
}

int t5g_ckpt_write_bytes(t5g_ckpt_writer *w, const char *name, const unsigned char *buf, size_t len) {
    T5G_CHECK(w && name && *name && (buf || len == 0), "t5g_ckpt_write_bytes: NULL argument");
    T5G_TRY(check_space(w, (double)len, name));
    hsize_t n = len, chunk = len < (1u << 20) ? (len ? len : 1) : (1u << 20);
    hid_t sp = H5Screate_simple(1, &n, NULL), lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, 1, &chunk);
    if (w->checksum) H5Pset_fletcher32(dcpl);
    hid_t d = H5NOTE(H5Dcreate2(w->file, name, H5T_STD_U8LE, sp, lcpl, dcpl, H5P_DEFAULT));
    int rc = d < 0 || (len && H5NOTE(H5Dwrite(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) < 0) ? -1 : 0;
    int64_t n64 = (int64_t)len;
    if (!rc && !(rc = ckh_begin(w->hash, name, "uint8", 1, &n64))) {
        ckh_data(w->hash, buf, len);
        rc = ckh_end(w->hash);
    }
    if (d >= 0 && H5NOTE(H5Dclose(d)) < 0) rc = -1;
    H5Sclose(sp);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    return rc ? T5G_FAIL("cannot write %s to %s (%s)", name, w->tmp, ckpt_h5_reason()) : 0;
}

/* Close a file that is being thrown away.  Its space is freed first, so that closing (which
 * flushes metadata) cannot fail on a full disk and leave a half-open file that crashes HDF5
 * when it shuts down at exit. */
static void close_discarded(hid_t f) {
    void *h = NULL;
    if (H5Fget_vfd_handle(f, H5P_DEFAULT, &h) >= 0 && h && ftruncate(*(int *)h, 0) != 0) H5Eclear2(H5E_DEFAULT);
    hid_t ids[64]; /* objects a failed close left open would keep the file open until exit */
    ssize_t n =
        H5Fget_obj_ids(f, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL, 64, ids);
    for (ssize_t i = 0; i < n; i++) {
        if (H5Iget_type(ids[i]) == H5I_ATTR) H5Aclose(ids[i]);
        else H5Oclose(ids[i]);
    }
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
}

int t5g_ckpt_finish(t5g_ckpt_writer *w) {
    T5G_CHECK(w, "t5g_ckpt_finish: no writer");
    /* flush first: if that fails (disk full) the file is discarded, never closed half-written */
    if (check_space(w, 0, "the checkpoint's metadata")) {
        t5g_ckpt_abort(w);
        return -1;
    }
    char hex[65];
    if (ckh_final(w->hash, w->file, hex) || ckpt_put_str_attr(w->file, "content_sha256", hex)) {
        t5g_ckpt_abort(w);
        return -1;
    }
    int rc = H5NOTE(H5Fflush(w->file, H5F_SCOPE_LOCAL)) < 0 || H5NOTE(H5Fclose(w->file)) < 0
                 ? T5G_FAIL("cannot finish %s (%s; disk full?)", w->tmp, ckpt_h5_reason())
                 : 0;
    if (rc && H5Iis_valid(w->file) > 0) close_discarded(w->file);
    H5Eclear2(H5E_DEFAULT);
    w->file = -1;
    if (!rc) { /* data on disk before the name appears */
        int fd = open(w->tmp, O_RDONLY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
        if (rename(w->tmp, w->path) != 0) rc = T5G_FAIL("cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
    }
    if (rc) unlink(w->tmp);
    ckh_free(w->hash);
    free(w);
    return rc;
}

void t5g_ckpt_abort(t5g_ckpt_writer *w) {
    if (!w) return;
    if (w->file >= 0) close_discarded(w->file);
    H5Eclear2(H5E_DEFAULT);
    unlink(w->tmp);
    ckh_free(w->hash);
    free(w);
}

int t5g_ckpt_write_i8(t5g_ckpt_writer *w, const char *name, const int64_t shape[2], const int8_t *q,
                      const float *scale) {
    T5G_TRY(check_write_args(w, name, 2, shape, q));
    T5G_CHECK(w->i8, "t5g_ckpt_write_i8(%s): %s is not an int8 checkpoint", name, w->path);
    for (int64_t r = 0; r < shape[0]; r++)
        T5G_CHECK(isfinite(scale[r]) && scale[r] >= 0.0f, "t5g_ckpt_write_i8(%s): row %lld has scale %g", name,
                  (long long)r, (double)scale[r]);
    int64_t crows;
    hid_t d = create_tensor(w, name, 2, shape, H5T_STD_I8LE, &crows);
    if (d < 0) return -1;
    int rc = write_rows(w, d, name, 2, shape, 0, shape[0], H5T_NATIVE_SCHAR, q);
    if (!rc) rc = ckpt_put_str_attr(d, "dtype", "int8");
    if (!rc) rc = ckh_end(w->hash);
    if (H5NOTE(H5Dclose(d)) < 0 && !rc)
        rc = T5G_FAIL("cannot write tensor %s to %s (%s)", name, w->tmp, ckpt_h5_reason());
    char sn[600];
    ckpt_scale_name(name, sn, sizeof sn);
    return rc ? rc : t5g_ckpt_write(w, sn, 1, shape, scale);
}
