/* ckpt.h - our HDF5 checkpoint (layout: docs/checkpoint.md).
 *
 * Reading is per-rank hyperslabs with parallel HDF5 (MPI-IO): a rank asks for rows
 * [row0, row0+nrows) x cols [col0, col0+ncols) of a 2-D tensor (or a range of a 1-D one)
 * and gets float32, whatever the stored dtype (bfloat16 is stored as uint16 with
 * attribute dtype="bfloat16" and widened exactly).  Only the requested bytes are read;
 * t5g_ckpt_bytes_read() counts them so tests can check each rank's share.
 * Writing is serial (one process) through a temp file renamed into place on success. */
#ifndef T5G_CKPT_H
#define T5G_CKPT_H
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct t5g_ckpt t5g_ckpt;

/* Open for reading.  comm: the ranks that open it together (MPI_COMM_SELF for one process).
 * Checks the root attributes format == "t5gemma-hdf5" and format_version == 1.
 * Not collective beyond H5Fopen itself: every later call is independent I/O. */
t5g_ckpt *t5g_ckpt_open(const char *path, MPI_Comm comm);
void t5g_ckpt_close(t5g_ckpt *c);
/* The root attribute "config" (JSON text). Owned by the handle. */
const char *t5g_ckpt_config_json(const t5g_ckpt *c);
/* Stored dtype of the file's tensors: "float32", "bfloat16" or "int8" (root attribute "dtype"). */
const char *t5g_ckpt_dtype(const t5g_ckpt *c);
/* 1 if dataset `name` exists (name uses '/' separators, e.g. model/encoder/norm/weight). */
int t5g_ckpt_has(t5g_ckpt *c, const char *name);
/* Read a slice as float32.  ndim and shape[] give the expected FULL shape: a mismatch is
 * an error naming the tensor and both shapes.  For ndim == 1, col0/ncols are ignored
 * (pass 0, 1) and rows index the vector.  out holds nrows*ncols floats, row-major. */
int t5g_ckpt_read(t5g_ckpt *c, const char *name, int ndim, const int64_t *shape, int64_t row0, int64_t nrows,
                  int64_t col0, int64_t ncols, float *out);
/* Read a whole uint8 dataset (e.g. tokenizer/spm_model). *buf is malloc'd. Returns 0, or
 * 1 when absent (not an error), or -1 on error. */
int t5g_ckpt_read_bytes(t5g_ckpt *c, const char *name, unsigned char **buf, size_t *len);
/* Bytes of tensor data this handle has read so far (requested elements x stored size). */
int64_t t5g_ckpt_bytes_read(const t5g_ckpt *c);

typedef struct t5g_ckpt_writer t5g_ckpt_writer;
/* Create path (through path.tmp.PID); dtype "float32" or "bfloat16". config_json is stored
 * as the root attribute "config". */
t5g_ckpt_writer *t5g_ckpt_create(const char *path, const char *config_json, const char *dtype);
/* Write a float32 tensor; converted to bf16 (round to nearest even) if the file is bf16. */
int t5g_ckpt_write(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, const float *data);
/* Write bf16 bit patterns as they are (file must be bf16). */
int t5g_ckpt_write_bf16(t5g_ckpt_writer *w, const char *name, int ndim, const int64_t *shape, const uint16_t *data);
int t5g_ckpt_write_bytes(t5g_ckpt_writer *w, const char *name, const unsigned char *buf, size_t len);
/* Close and rename into place. On any error the temp file is removed. Frees w. */
int t5g_ckpt_finish(t5g_ckpt_writer *w);
/* Close and remove the temp file. Frees w. */
void t5g_ckpt_abort(t5g_ckpt_writer *w);

/* ---- extensions (docs/checkpoint.md) ---- */

/* Default chunk tile of 2-D tensors (rows x cols, clipped to the tensor) and chunk length of
 * 1-D ones: a head / row-range / column-range slice reads only the chunks it touches. */
#define T5G_CKPT_CHUNK_ROWS 64
#define T5G_CKPT_CHUNK_COLS 256
#define T5G_CKPT_CHUNK_1D   65536

/* The path this handle was opened with. */
const char *t5g_ckpt_path(const t5g_ckpt *c);
/* Stored shape of dataset `name` (ndim 1 or 2; shape[1] = 1 for 1-D). */
int t5g_ckpt_shape(t5g_ckpt *c, const char *name, int *ndim, int64_t shape[2]);
/* Integer root attribute (e.g. add_bos_token): 0 ok, 1 absent, -1 error. */
int t5g_ckpt_attr_int(t5g_ckpt *c, const char *name, long long *value);
/* Fletcher32 checksum on every chunk (default on); a corrupt chunk then fails to read with
 * a clear error instead of giving wrong numbers. */
int t5g_ckpt_set_checksum(t5g_ckpt_writer *w, int on);
/* Chunk tile for the 2-D tensors written after this call. */
int t5g_ckpt_set_chunk(t5g_ckpt_writer *w, int64_t rows, int64_t cols);
/* Integer root attribute (stored as int32). */
int t5g_ckpt_write_attr_int(t5g_ckpt_writer *w, const char *name, long long value);

/* ---- content sha256 (docs/checkpoint.md "Content hash") ----
 * Every checkpoint written by t5g_ckpt_finish carries the root attribute content_sha256:
 * sha256 over the root attributes (but itself and producer) and each dataset's path, stored
 * dtype, shape and bytes, in name order.  It does not depend on the HDF5 layout (chunks,
 * checksums, write order), and it is computed while writing: no second pass over the data. */
/* The stored hash: 0 ok, 1 absent (a checkpoint from before it existed), -1 error (malformed). */
int t5g_ckpt_stored_sha256(t5g_ckpt *c, char hex[65]);
/* Recompute it by reading every dataset (progress on stderr when show_progress). */
int t5g_ckpt_compute_sha256(t5g_ckpt *c, char hex[65], int show_progress);
/* What a run fingerprint records for the model at path: the stored content hash (nothing read
 * but the attribute); for a checkpoint without one, the sha256 of the whole file, as before,
 * with a note on stderr (so runs recorded by an older t5g still resume). */
int t5g_ckpt_model_sha256(const char *path, char hex[65]);
/* Reading a checkpoint (model loading) shows the bytes read, rate and ETA on stderr in this
 * process (the CLI turns it on for world rank 0 unless -q). */
void t5g_ckpt_show_load_progress(int on);

/* buf holds n bf16 values in its upper half (bytes [2n, 4n)); widen them to n floats in place
 * (exact).  Lets a reader fetch bf16 straight into the float output buffer. */
void t5g_bf16_widen_inplace(float *buf, size_t n);

/* ---- int8 storage (docs/checkpoint.md "int8 checkpoints") ----
 * A 2-D projection NAME is int8 [rows, cols] with attribute dtype="int8" (values in
 * [-127, 127]) plus NAME_scale, float32 [rows]: w[r][c] = scale[r] · q[r][c].  The root
 * attribute dtype is "int8"; every other tensor is float32.  t5g_ckpt_read on an int8
 * tensor returns the dequantized floats. */
/* max |w| over n values; NaN if any is inf or NaN */
float t5g_int8_amax(const float *w, int64_t n);
/* q = rint(w · 127/amax) clamped to [-127, 127]; returns the scale amax/127 (0 and q = 0 if amax <= 0) */
float t5g_int8_quantize(const float *w, int64_t n, float amax, int8_t *q);
/* 1 if tensor name is stored as int8, 0 if not, -1 on error (missing, bad dtype) */
int t5g_ckpt_is_int8(t5g_ckpt *c, const char *name);
/* Rows [row0, +nrows) x cols [col0, +ncols) of a 2-D int8 tensor with full shape `shape`, and
 * those rows' scales.  One clear error for a missing scale dataset, a scale dataset of the
 * wrong shape, a non-finite or negative scale, or a -128. */
int t5g_ckpt_read_i8(t5g_ckpt *c, const char *name, const int64_t shape[2], int64_t row0, int64_t nrows, int64_t col0,
                     int64_t ncols, int8_t *q, float *scale);
/* Write an int8 matrix and its scales (NAME_scale) into an int8 checkpoint. */
int t5g_ckpt_write_i8(t5g_ckpt_writer *w, const char *name, const int64_t shape[2], const int8_t *q,
                      const float *scale);

/* bf16 <-> f32 helpers (round to nearest even; NaN stays NaN). */
static inline float t5g_bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v = {.u = (uint32_t)h << 16};
    return v.f;
}
static inline uint16_t t5g_f32_to_bf16(float f) {
    union {
        uint32_t u;
        float f;
    } v = {.f = f};
    if ((v.u & 0x7f800000u) == 0x7f800000u && (v.u & 0x7fffffu)) return (uint16_t)((v.u >> 16) | 0x40);
    uint32_t r = v.u + 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(r >> 16);
}
#endif
