/* ckpt.c - our HDF5 checkpoint: parallel (MPI-IO) hyperslab reads, serial writes through a
 * temp file.  Layout and rules: docs/checkpoint.md.  HDF5's own error printing is switched
 * off; its innermost message is folded into our one-line errors. */
#include "io/ckpt_impl.h"
#include "core/err.h"
#include "core/progress.h"
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

struct t5g_ckpt {
    hid_t file;
    char *path;
    char *config;
    char dtype[16];
    int64_t bytes_read;
    t5g_progress *prog; /* model loading on stderr (t5g_ckpt_show_load_progress) */
};

/* ---- HDF5 error handling ---- */

void ckpt_h5_quiet(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t take_innermost(unsigned n, const H5E_error2_t *e, void *data) {
    if (n != 0 || !e->desc) return 0;
    char *out = data;
    /* one line: "file write failed: time = ...\n, ..., error message = 'No space left on device', ..."
       becomes "file write failed: No space left on device" */
    const char *msg = strstr(e->desc, "error message = '"), *colon = strchr(e->desc, ':');
    if (msg && colon) {
        msg += strlen("error message = '");
        const char *end = strchr(msg, '\'');
        snprintf(out, 200, "%.*s: %.*s", (int)(colon - e->desc), e->desc, (int)(end ? end - msg : 80), msg);
    } else {
        snprintf(out, 200, "%s", e->desc);
    }
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    return 0;
}

static _Thread_local char g_why[200];

/* Remember the innermost message on HDF5's error stack, e.g. "truncated file: eof = ...".
 * Call it right after the failing call: every HDF5 API call clears the stack on entry. */
void ckpt_h5_note(void) {
    g_why[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, g_why);
    H5Eclear2(H5E_DEFAULT);
}

/* The message h5_note kept. */
const char *ckpt_h5_reason(void) {
    return g_why[0] ? g_why : "no detail";
}

/* Evaluate an HDF5 call; on failure note the reason.  Yields the call's value. */
long long ckpt_h5_checked(long long v) {
    if (v < 0) ckpt_h5_note();
    return v;
}

/* ---- attributes ---- */

/* String attribute (fixed or variable length).  0 ok (*out malloc'd), 1 absent, -1 not a string,
 * -2 out of memory (recorded with T5G_FAIL: not "not a string", which would blame the file). */
int ckpt_get_str_attr(hid_t obj, const char *name, char **out) {
    *out = NULL;
    int oom = 0;
    if (H5Aexists(obj, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 1;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
    int rc = -1;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &s) >= 0 && s) {
                *out = strdup(s);
                oom = !*out;
                H5free_memory(s);
            }
        } else {
            size_t n = H5Tget_size(t);
            H5Tset_size(mt, n + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            *out = calloc(1, n + 2);
            oom = !*out;
            if (*out && H5Aread(a, mt, *out) < 0) {
                free(*out);
                *out = NULL;
            }
        }
        H5Tclose(mt);
        rc = *out ? 0 : -1;
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    if (oom) {
        T5G_FAIL("out of memory reading attribute %s", name);
        return -2;
    }
    return rc;
}

/* Integer attribute: 0 ok, 1 absent, -1 not an integer. */
int ckpt_get_int_attr(hid_t obj, const char *name, long long *v) {
    if (H5Aexists(obj, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 1;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
    int rc = -1;
    if (t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 1 &&
        H5Aread(a, H5T_NATIVE_LLONG, v) >= 0)
        rc = 0;
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

int ckpt_put_str_attr(hid_t obj, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = H5Tset_size(t, strlen(s) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ? -1 : 0;
    if (!rc) a = H5NOTE(H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT));
    if (!rc && (a < 0 || H5NOTE(H5Awrite(a, t, s)) < 0)) rc = -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc ? T5G_FAIL("cannot write attribute %s (%s)", name, ckpt_h5_reason()) : 0;
}

int ckpt_put_int_attr(hid_t obj, const char *name, long long v) {
    T5G_CHECK(v >= INT32_MIN && v <= INT32_MAX, "attribute %s = %lld does not fit a 32-bit int", name, v);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5NOTE(H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT));
    int rc = a < 0 || H5NOTE(H5Awrite(a, H5T_NATIVE_LLONG, &v)) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc ? T5G_FAIL("cannot write attribute %s (%s)", name, ckpt_h5_reason()) : 0;
}

/* ---- reading ---- */

static int not_ours(const char *path, const char *why) {
    return T5G_FAIL("%s is not a t5gemma HDF5 checkpoint (%s)", path, why);
}

/* Root attributes format / format_version / config / dtype. */
static int check_root(t5g_ckpt *c) {
    char *fmt = NULL, *dt = NULL;
    int rc = ckpt_get_str_attr(c->file, "format", &fmt);
    if (rc == -2) return -1;
    if (rc) return not_ours(c->path, rc > 0 ? "no 'format' attribute" : "'format' attribute is not a string");
    int ok = !strcmp(fmt, FORMAT_NAME);
    if (!ok) {
        char why[160];
        snprintf(why, sizeof why, "format is '%.60s', expected '" FORMAT_NAME "'", fmt);
        free(fmt);
        return not_ours(c->path, why);
    }
    free(fmt);
    long long ver = 0;
    rc = ckpt_get_int_attr(c->file, "format_version", &ver);
    if (rc) return not_ours(c->path, rc > 0 ? "no 'format_version' attribute" : "'format_version' is not an integer");
    T5G_CHECK(ver == FORMAT_VERSION,
              "%s has format_version %lld, but this t5g reads only version %d; re-convert "
              "the model with this t5g (or use the t5g that wrote it)",
              c->path, ver, FORMAT_VERSION);
    rc = ckpt_get_str_attr(c->file, "config", &c->config);
    if (rc == -2) return -1;
    T5G_CHECK(rc == 0, "%s has no 'config' attribute (JSON string); re-convert it", c->path);
    rc = ckpt_get_str_attr(c->file, "dtype", &dt);
    if (rc == -2) return -1;
    T5G_CHECK(rc == 0, "%s has no 'dtype' attribute; re-convert it", c->path);
    ok = !strcmp(dt, "float32") || !strcmp(dt, "bfloat16") || !strcmp(dt, "int8");
    if (ok) snprintf(c->dtype, sizeof c->dtype, "%s", dt);
    else T5G_FAIL("%s has dtype attribute '%.40s'; expected float32 or bfloat16 (or int8)", c->path, dt);
    free(dt);
    return ok ? 0 : -1;
}

static int g_load_progress;
void t5g_ckpt_show_load_progress(int on) {
    g_load_progress = on;
}
hid_t ckpt_file(const t5g_ckpt *c) {
    return c->file;
}

static void count_read(t5g_ckpt *c, int64_t n) {
    c->bytes_read += n;
    if (c->prog) t5g_progress_add(c->prog, n, 0);
}

/* The bytes this rank will read: the tensor data over the ranks that split it (an estimate
 * under TP: replicated norms and int8 scales are read by every rank). */
static void start_progress(t5g_ckpt *c, MPI_Comm comm) {
    int mpi = 0, size = 1;
    MPI_Initialized(&mpi);
    if (mpi) MPI_Comm_size(comm, &size);
    c->prog = malloc(sizeof *c->prog + 320);
    if (!c->prog) return;
    char *label = (char *)(c->prog + 1);
    snprintf(label, 320, "loading %s%s", c->path, size > 1 ? " (this rank's share)" : "");
    t5g_progress_start_bytes(c->prog, label, ckh_data_bytes(c->file) / size, 1);
}

/* MPI-IO driver when MPI is up (any comm), else the default POSIX driver. */
static hid_t open_file(const char *path, MPI_Comm comm) {
    int mpi = 0;
    MPI_Initialized(&mpi);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (mpi) H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t f = H5NOTE(H5Fopen(path, H5F_ACC_RDONLY, fapl));
    H5Pclose(fapl);
    return f;
}

t5g_ckpt *t5g_ckpt_open(const char *path, MPI_Comm comm) {
    T5G_CHECK_NULL(path && *path, "no checkpoint file given");
    ckpt_h5_quiet();
    if (access(path, R_OK) != 0) {
        T5G_FAIL("cannot open checkpoint %s: %s", path, strerror(errno));
        return NULL;
    }
    htri_t is = H5Fis_hdf5(path);
    H5Eclear2(H5E_DEFAULT);
    if (is <= 0) {
        not_ours(path, "not an HDF5 file");
        return NULL;
    }
    t5g_ckpt *c = t5g_calloc(1, sizeof *c, "checkpoint handle");
    if (!c) return NULL;
    c->path = strdup(path);
    c->file = open_file(path, comm);
    if (c->file < 0) {
        char why[260];
        snprintf(why, sizeof why, "HDF5 cannot open it: %s; is it truncated or damaged?", ckpt_h5_reason());
        not_ours(path, why);
        free(c->path);
        free(c);
        return NULL;
    }
    if (!c->path || check_root(c)) {
        if (!c->path) T5G_FAIL("out of memory");
        t5g_ckpt_close(c);
        return NULL;
    }
    if (g_load_progress) start_progress(c, comm);
    return c;
}

void t5g_ckpt_close(t5g_ckpt *c) {
    if (!c) return;
    if (c->file >= 0) H5Fclose(c->file);
    H5Eclear2(H5E_DEFAULT);
    /* the last line when loading took a while or a line was drawn (nothing for a config-only open) */
    if (c->prog && c->prog->done > 0 && (t5g_now() - c->prog->t0 >= 1.0 || c->prog->last > c->prog->t0))
        t5g_progress_finish(c->prog);
    free(c->prog);
    free(c->path);
    free(c->config);
    free(c);
}

const char *t5g_ckpt_config_json(const t5g_ckpt *c) {
    return c ? c->config : NULL;
}
const char *t5g_ckpt_dtype(const t5g_ckpt *c) {
    return c ? c->dtype : NULL;
}
int64_t t5g_ckpt_bytes_read(const t5g_ckpt *c) {
    return c ? c->bytes_read : 0;
}
const char *t5g_ckpt_path(const t5g_ckpt *c) {
    return c ? c->path : NULL;
}

int t5g_ckpt_has(t5g_ckpt *c, const char *name) {
    if (!c || !name || !*name) return 0;
    hid_t d = H5Dopen2(c->file, name, H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (d < 0) return 0;
    H5Dclose(d);
    return 1;
}

static hid_t open_tensor(t5g_ckpt *c, const char *name) {
    if (!c || !name || !*name) {
        T5G_FAIL("t5g_ckpt: NULL handle or tensor name");
        return -1;
    }
    hid_t d = H5Dopen2(c->file, name, H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (d < 0) T5G_FAIL("checkpoint %s lacks tensor %s; re-convert it", c->path, name);
    return d;
}

static void fmt_shape(char *buf, size_t n, int nd, const int64_t *s) {
    int k = snprintf(buf, n, "[");
    for (int i = 0; i < nd && k < (int)n; i++)
        k += snprintf(buf + k, n - (size_t)k, i ? ", %lld" : "%lld", (long long)s[i]);
    if (k < (int)n) snprintf(buf + k, n - (size_t)k, "]");
}

/* Element kind of a dataset: 4 = float32, 2 = bfloat16, 1 = int8; error otherwise. */
static int tensor_kind(t5g_ckpt *c, hid_t d, const char *name) {
    hid_t t = H5Dget_type(d);
    H5T_class_t cl = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    H5T_sign_t sg = cl == H5T_INTEGER ? H5Tget_sign(t) : H5T_SGN_ERROR;
    H5Tclose(t);
    if (cl == H5T_FLOAT && sz == 4) return 4;
    char *dt = NULL;
    int small_int = cl == H5T_INTEGER && ((sz == 2 && sg == H5T_SGN_NONE) || (sz == 1 && sg == H5T_SGN_2));
    if (small_int && ckpt_get_str_attr(d, "dtype", &dt) == -2) return -1;
    /* dt is read only for uint16 / int8 storage */
    int bf = dt && sz == 2 && !strcmp(dt, "bfloat16");
    int i8 = dt && sz == 1 && !strcmp(dt, "int8");
    free(dt);
    if (bf) return 2;
    if (i8) return 1;
    const char *what = cl == H5T_FLOAT     ? "a float of another width"
                       : cl == H5T_INTEGER ? "an integer type"
                                           : "a non-numeric type";
    if (cl == H5T_INTEGER && sz == 2) what = "uint16 without attribute dtype=\"bfloat16\"";
    if (cl == H5T_INTEGER && sz == 1) what = "8-bit integer without attribute dtype=\"int8\"";
    return T5G_FAIL(
        "tensor %s in %s has the wrong dtype (%s, %zu bytes); expected float32 or bfloat16 (or int8); re-convert it",
        name, c->path, what, sz);
}

/* Dataset dims; rank > 2 is reported as 3 (never matches). */
static int tensor_dims(hid_t d, int64_t dims[2]) {
    hid_t sp = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t h[H5S_MAX_RANK];
    if (nd >= 0 && nd <= 2) H5Sget_simple_extent_dims(sp, h, NULL);
    for (int i = 0; i < nd && i < 2; i++) dims[i] = (int64_t)h[i];
    H5Sclose(sp);
    return nd > 2 ? 3 : nd;
}

int t5g_ckpt_shape(t5g_ckpt *c, const char *name, int *ndim, int64_t shape[2]) {
    T5G_CHECK(ndim && shape, "t5g_ckpt_shape: NULL argument");
    hid_t d = open_tensor(c, name);
    if (d < 0) return -1;
    shape[0] = shape[1] = 1;
    *ndim = tensor_dims(d, shape);
    H5Dclose(d);
    T5G_CHECK(*ndim >= 1 && *ndim <= 2, "tensor %s in %s has %d dimensions; expected 1 or 2", name, c->path, *ndim);
    return 0;
}

/* Read the hyperslab into out (kind 4: floats directly; kind 2: uint16 into the upper half of
 * out, then widened in place). */
static int read_slab(t5g_ckpt *c, hid_t d, const char *name, int kind, int nd, const hsize_t *off, const hsize_t *cnt,
                     float *out) {
    size_t n = (size_t)cnt[0] * (nd == 2 ? (size_t)cnt[1] : 1);
    if (n == 0) return 0;
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(nd, cnt, NULL); /* same shape as the selection: HDF5's fast path */
    unsigned char *base = (unsigned char *)out;
    herr_t e = H5NOTE(H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL));
    if (e >= 0)
        e = H5NOTE(H5Dread(d, kind == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_UINT16, ms, fs, H5P_DEFAULT,
                           kind == 4 ? (void *)out : (void *)(base + 2 * n)));
    H5Sclose(ms);
    H5Sclose(fs);
    if (e < 0) {
        const char *why = ckpt_h5_reason();
        if (strstr(why, "hecksum") || strstr(why, "letcher"))
            return T5G_FAIL("tensor %s in %s fails its checksum (%s): the file is corrupted; re-convert or re-copy it",
                            name, c->path, why);
        return T5G_FAIL("cannot read tensor %s from %s (%s); the file may be damaged", name, c->path, why);
    }
    if (kind == 2) t5g_bf16_widen_inplace(out, n);
    count_read(c, (int64_t)n * kind);
    return 0;
}

static int read_i8_as_f32(t5g_ckpt *c, const char *name, const int64_t *shape, int64_t row0, int64_t nrows,
                          int64_t col0, int64_t ncols, float *out);

int t5g_ckpt_read(t5g_ckpt *c, const char *name, int ndim, const int64_t *shape, int64_t row0, int64_t nrows,
                  int64_t col0, int64_t ncols, float *out) {
    T5G_CHECK(c && name && shape && (out || nrows == 0 || ncols == 0), "t5g_ckpt_read: NULL argument");
    T5G_CHECK(ndim == 1 || ndim == 2, "t5g_ckpt_read(%s): ndim must be 1 or 2", name);
    if (ndim == 1) {
        col0 = 0;
        ncols = 1;
    }
    int64_t want_cols = ndim == 2 ? shape[1] : 1;
    T5G_CHECK(row0 >= 0 && nrows >= 0 && row0 + nrows <= shape[0] && col0 >= 0 && ncols >= 0 &&
                  col0 + ncols <= want_cols,
              "t5g_ckpt_read(%s): slice rows [%lld, %lld) cols [%lld, %lld) is outside the tensor", name,
              (long long)row0, (long long)(row0 + nrows), (long long)col0, (long long)(col0 + ncols));
    hid_t d = open_tensor(c, name);
    if (d < 0) return -1;
    int64_t dims[2] = {0, 0};
    int nd = tensor_dims(d, dims);
    int rc = 0;
    if (nd != ndim || dims[0] != shape[0] || (ndim == 2 && dims[1] != shape[1])) {
        char got[64], want[64];
        fmt_shape(got, sizeof got, nd, dims);
        fmt_shape(want, sizeof want, ndim, shape);
        if (nd > 2) snprintf(got, sizeof got, "%d dimensions", nd);
        rc = T5G_FAIL("tensor %s in %s has shape %s, but the config needs %s; re-convert it", name, c->path, got, want);
    }
    int kind = rc ? -1 : tensor_kind(c, d, name);
    if (kind == 1) { /* int8: dequantized with the row scales */
        H5Dclose(d);
        return ndim == 2 ? read_i8_as_f32(c, name, shape, row0, nrows, col0, ncols, out)
                         : T5G_FAIL("tensor %s in %s is int8 but 1-D; only matrices are stored as int8; re-convert it",
                                    name, c->path);
    }
    if (kind > 0) {
        hsize_t off[2] = {(hsize_t)row0, (hsize_t)col0}, cnt[2] = {(hsize_t)nrows, (hsize_t)ncols};
        rc = read_slab(c, d, name, kind, ndim, off, cnt, out);
    } else {
        rc = -1;
    }
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

int t5g_ckpt_read_bytes(t5g_ckpt *c, const char *name, unsigned char **buf, size_t *len) {
    T5G_CHECK(c && name && buf && len, "t5g_ckpt_read_bytes: NULL argument");
    *buf = NULL;
    *len = 0;
    if (!t5g_ckpt_has(c, name)) return 1;
    hid_t d = open_tensor(c, name);
    if (d < 0) return -1;
    hid_t t = H5Dget_type(d);
    int ok = H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 1;
    H5Tclose(t);
    int64_t dims[2] = {0, 0};
    int nd = tensor_dims(d, dims);
    int rc = ok && nd == 1 ? 0 : T5G_FAIL("dataset %s in %s is not a 1-D uint8 array; re-convert it", name, c->path);
    if (!rc) {
        *buf = t5g_malloc((size_t)dims[0], name);
        rc = *buf ? 0 : -1;
    }
    if (!rc && dims[0] > 0 && H5NOTE(H5Dread(d, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf)) < 0)
        rc = T5G_FAIL("cannot read %s from %s (%s)", name, c->path, ckpt_h5_reason());
    H5Dclose(d);
    if (rc) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *len = (size_t)dims[0];
    count_read(c, dims[0]);
    return 0;
}

int t5g_ckpt_attr_int(t5g_ckpt *c, const char *name, long long *value) {
    T5G_CHECK(c && name && value, "t5g_ckpt_attr_int: NULL argument");
    int rc = ckpt_get_int_attr(c->file, name, value);
    T5G_CHECK(rc >= 0, "root attribute %s of %s is not an integer", name, c->path);
    return rc;
}

/* ---- int8 storage: NAME int8 [rows, cols] (attribute dtype="int8") + NAME_scale float32 [rows] ---- */

void ckpt_scale_name(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s_scale", name);
}

/* rows [row0, row0+nrows) of NAME_scale: present, shape [rows], finite and >= 0 */
static int read_scales(t5g_ckpt *c, const char *name, int64_t rows, int64_t row0, int64_t nrows, float *scale) {
    char sn[600];
    ckpt_scale_name(name, sn, sizeof sn);
    T5G_CHECK(t5g_ckpt_has(c, sn), "int8 tensor %s in %s has no scale dataset %s (one float32 per row); re-convert it",
              name, c->path, sn);
    int nd = 0;
    int64_t sh[2] = {0, 0};
    T5G_TRY(t5g_ckpt_shape(c, sn, &nd, sh));
    if (nd != 1 || sh[0] != rows) {
        char got[64];
        fmt_shape(got, sizeof got, nd, sh);
        return T5G_FAIL("scale dataset %s in %s has shape %s; expected [%lld] (one float32 scale per row of %s); "
                        "re-convert it",
                        sn, c->path, got, (long long)rows, name);
    }
    T5G_TRY(t5g_ckpt_read(c, sn, 1, &rows, row0, nrows, 0, 1, scale));
    for (int64_t r = 0; r < nrows; r++)
        T5G_CHECK(isfinite(scale[r]) && scale[r] >= 0.0f,
                  "scale dataset %s in %s holds %g at row %lld; int8 scales must be finite and >= 0; re-convert it", sn,
                  c->path, (double)scale[r], (long long)(row0 + r));
    return 0;
}

int t5g_ckpt_is_int8(t5g_ckpt *c, const char *name) {
    hid_t d = open_tensor(c, name);
    if (d < 0) return -1;
    int kind = tensor_kind(c, d, name);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return kind < 0 ? -1 : kind == 1;
}

int t5g_ckpt_read_i8(t5g_ckpt *c, const char *name, const int64_t shape[2], int64_t row0, int64_t nrows, int64_t col0,
                     int64_t ncols, int8_t *q, float *scale) {
    T5G_CHECK(c && name && shape && q && scale, "t5g_ckpt_read_i8: NULL argument");
    T5G_CHECK(row0 >= 0 && nrows >= 0 && row0 + nrows <= shape[0] && col0 >= 0 && ncols >= 0 &&
                  col0 + ncols <= shape[1],
              "t5g_ckpt_read_i8(%s): slice is outside the tensor", name);
    hid_t d = open_tensor(c, name);
    if (d < 0) return -1;
    int64_t dims[2] = {0, 0};
    int nd = tensor_dims(d, dims), rc = 0;
    if (nd != 2 || dims[0] != shape[0] || dims[1] != shape[1]) {
        char got[64], want[64];
        fmt_shape(got, sizeof got, nd > 2 ? 2 : nd, dims);
        fmt_shape(want, sizeof want, 2, shape);
        rc = T5G_FAIL("tensor %s in %s has shape %s, but the config needs %s; re-convert it", name, c->path, got, want);
    }
    if (!rc && tensor_kind(c, d, name) != 1)
        rc = T5G_FAIL("tensor %s in %s is not stored as int8; re-convert it", name, c->path);
    size_t n = (size_t)nrows * (size_t)ncols;
    if (!rc && n) {
        hsize_t off[2] = {(hsize_t)row0, (hsize_t)col0}, cnt[2] = {(hsize_t)nrows, (hsize_t)ncols};
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, cnt, NULL);
        herr_t e = H5NOTE(H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL));
        if (e >= 0) e = H5NOTE(H5Dread(d, H5T_NATIVE_SCHAR, ms, fs, H5P_DEFAULT, q));
        H5Sclose(ms);
        H5Sclose(fs);
        if (e < 0)
            rc = T5G_FAIL("cannot read tensor %s from %s (%s); the file may be damaged", name, c->path,
                          ckpt_h5_reason());
        else count_read(c, (int64_t)n);
    }
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    for (size_t i = 0; i < n && !rc; i++)
        if (q[i] == -128)
            rc = T5G_FAIL("int8 tensor %s in %s holds -128 (row %lld); symmetric int8 weights lie in [-127, 127]; "
                          "re-convert it",
                          name, c->path, (long long)(row0 + (int64_t)(i / (size_t)ncols)));
    if (!rc) rc = read_scales(c, name, shape[0], row0, nrows, scale);
    return rc;
}

/* int8 read into the top quarter of out, then widened in place in blocks of 64 (block i's
 * stores end at byte 4i+256, the next unread byte is 3n+i+64, and i <= n-64 for full blocks) */
static int read_i8_as_f32(t5g_ckpt *c, const char *name, const int64_t *shape, int64_t row0, int64_t nrows,
                          int64_t col0, int64_t ncols, float *out) {
    size_t n = (size_t)nrows * (size_t)ncols;
    float *scale = t5g_malloc(sizeof(float) * (size_t)(nrows ? nrows : 1), "int8 scales");
    if (!scale) return -1;
    int8_t *q = (int8_t *)out + 3 * n;
    int rc = t5g_ckpt_read_i8(c, name, shape, row0, nrows, col0, ncols, q, scale);
    for (size_t i = 0; i < n && !rc; i += 64) {
        size_t m = n - i < 64 ? n - i : 64;
        int8_t h[64];
        memcpy(h, q + i, m);
        for (size_t k = 0; k < m; k++) out[i + k] = scale[(i + k) / (size_t)ncols] * (float)h[k];
    }
    free(scale);
    return rc;
}
