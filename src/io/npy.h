/* npy.h - write float32 arrays as NumPy .npy files (format version 1.0, dtype '<f4', C order),
 * which numpy.load, and most array tools, open directly with their shape. */
#ifndef T5G_NPY_H
#define T5G_NPY_H
#include <stddef.h>
#include <stdint.h>

#define T5G_NPY_MAX_DIMS 8

/* The header (magic, version, length, dict padded with spaces and '\n' to a multiple of 64
 * bytes) for a float32 array of the given shape; returns its length, or -1 (error recorded)
 * if it does not fit cap. */
int t5g_npy_header(char *buf, size_t cap, int ndim, const int64_t *shape);
/* Write data (prod(shape) floats, row-major) to path through a temp file + rename. */
int t5g_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data);
#endif
