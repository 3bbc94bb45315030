/* safetensors.h - reader for Hugging Face safetensors checkpoints.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data; offsets are relative to the end of the header.  A sharded checkpoint has a
 * model.safetensors.index.json whose "weight_map" names the shard file of each tensor.
 *
 * t5g_st_open validates every header up front (header length past the end of the file,
 * malformed JSON, unknown dtype, offsets past the end of the data, offsets that overlap,
 * byte ranges that do not match shape x dtype size, duplicate names across shards) so that a
 * later read can only fail on I/O.  Data is read with pread, one tensor at a time. */
#ifndef T5G_SAFETENSORS_H
#define T5G_SAFETENSORS_H
#include <stdint.h>

#define T5G_ST_MAX_DIMS 8

/* Dtypes t5g can read; every other valid safetensors dtype is T5G_ST_OTHER (open accepts it
 * for validation, a read of such a tensor is an error). */
typedef enum { T5G_ST_OTHER = 0, T5G_ST_F32, T5G_ST_F16, T5G_ST_BF16 } t5g_st_dtype;

typedef struct {
    char *name;         /* as in the header, e.g. model.encoder.norm.weight */
    char dtype_name[8]; /* as in the header, e.g. "BF16" */
    t5g_st_dtype dtype;
    int elem_size; /* bytes per element */
    int ndim;
    int64_t shape[T5G_ST_MAX_DIMS];
    int64_t numel;
    int file;            /* index of the shard that holds it */
    uint64_t begin, end; /* absolute byte range in that file */
} t5g_st_tensor;

typedef struct t5g_st t5g_st;

/* Open a .safetensors file, a model.safetensors.index.json, or a directory holding one of
 * them (the index wins).  NULL with a message naming the file (and tensor) on error. */
t5g_st *t5g_st_open(const char *path);
void t5g_st_close(t5g_st *st);
int t5g_st_count(const t5g_st *st);
/* Tensors in name order; i in [0, count). */
const t5g_st_tensor *t5g_st_get(const t5g_st *st, int i);
/* NULL when absent (no error recorded). */
const t5g_st_tensor *t5g_st_find(const t5g_st *st, const char *name);
/* Path of the file that holds t. */
const char *t5g_st_file(const t5g_st *st, const t5g_st_tensor *t);
/* Read a whole tensor as float32 (numel floats); F16/BF16 are widened exactly. */
int t5g_st_read_f32(t5g_st *st, const t5g_st_tensor *t, float *out);
/* Elements [first, first+count) in storage order, as float32 (for block-wise comparisons). */
int t5g_st_read_f32_range(t5g_st *st, const t5g_st_tensor *t, int64_t first, int64_t count, float *out);
/* Read a whole tensor as bfloat16 bits (numel values): BF16 is copied exactly, F32 and F16
 * are rounded to nearest even. */
int t5g_st_read_bf16(t5g_st *st, const t5g_st_tensor *t, uint16_t *out);

/* IEEE half -> float (exact, subnormals/inf/NaN included). */
float t5g_f16_to_f32(uint16_t h);
#endif
