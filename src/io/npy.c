/* npy.c - see npy.h.  Layout (numpy.lib.format, version 1.0): "\x93NUMPY", bytes 1 and 0,
 * a little-endian uint16 header length, then the header dict as ASCII, then the raw data. */
#include "io/npy.h"
#include "core/err.h"
#include "core/fileio.h"
#include <stdio.h>
#include <string.h>

/* the data are written as they lie in memory and labelled little-endian */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy.c writes '<f4' from native floats");

int t5g_npy_header(char *buf, size_t cap, int ndim, const int64_t *shape) {
    T5G_CHECK(ndim >= 0 && ndim <= T5G_NPY_MAX_DIMS, "npy: %d dimensions (at most %d)", ndim, T5G_NPY_MAX_DIMS);
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++) {
        T5G_CHECK(shape[i] >= 0, "npy: negative dimension %lld", (long long)shape[i]);
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape[i], i + 1 < ndim ? " " : "");
    }
    if (ndim > 1) n--; /* (2, 3) but (5,) for one dimension */
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1, padded = (total + 63) / 64 * 64; /* + '\n', aligned to 64 */
    T5G_CHECK(padded <= cap, "npy: header of %zu bytes does not fit %zu", padded, cap);
    size_t hlen = padded - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', padded - 11 - (size_t)n);
    buf[padded - 1] = '\n';
    return (int)padded;
}

int t5g_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data) {
    char head[512];
    int hl = t5g_npy_header(head, sizeof head, ndim, shape);
    if (hl < 0) return -1;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= (size_t)shape[i];
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, path, "wb"));
    if (fwrite(head, 1, (size_t)hl, o.f) != (size_t)hl || fwrite(data, sizeof(float), count, o.f) != count) {
        t5g_out_abort(&o);
        return T5G_FAIL("write error on %s (disk full?)", path);
    }
    return t5g_out_commit(&o);
}
