/* cuda_ops.h - CUDA-only functions beyond the op table (built with `make CUDA=1`; C API).
 * `ctx` is be->ctx of the backend t5g_backend_cuda() returned; pointers are device memory of
 * its device; work is queued on its stream in order with the op-table calls, so nothing here
 * waits for the GPU unless it says so.  Functions returning int give 0, or -1 with a
 * T5G_FAIL message for bad arguments; a failure on the device is recorded in the backend's
 * state and returned by its sync(), as for the ops (backend.h). */
#ifndef T5G_CUDA_OPS_H
#define T5G_CUDA_OPS_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#include "backend/backend.h"

/* {value, id}: the layout of t5g_cand (parallel/vocab.h) and of MPI_FLOAT_INT, so results can
 * be copied to the host and fed to the vocab-parallel merge (MPI_MAXLOC, qsort) unchanged. */
typedef struct {
    float value;
    int32_t id;
} t5g_cuda_cand;

/* Number of CUDA devices this process can use; 0 with the reason recorded (T5G_FAIL) when
 * there is none (no GPU, no driver, driver older than the CUDA runtime). */
int t5g_cuda_device_count(void);

/* Per row r of x [rows, n] (row stride ld): out[r] = {max value, v0 + its column}; ties ->
 * lowest column (as t5g_vocab_argmax). */
int t5g_cuda_argmax(void *ctx, const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out);

/* Per row: the k best candidates of value (x - lse[r]) + add[r] (lse/add: device arrays
 * [rows] or NULL = 0), id v0 + column, sorted by value descending then id ascending; when
 * k > n the tail is {-inf, INT32_MAX} (as t5g_vocab_topk).  out [rows, k].  1 <= k <= 256. */
int t5g_cuda_topk(void *ctx, const float *x, int rows, int n, int ld, int v0, int k, const float *lse, const float *add,
                  t5g_cuda_cand *out);

/* dst[i] = bf16(src[i]) (round to nearest even), n elements (weights converted on the device). */
int t5g_cuda_to_bf16(void *ctx, const float *src, uint16_t *dst, size_t n);

/* Destroy the NCCL communicator the backend created in *device_comm (a t5g_dev_group's) and
 * set it to NULL; t5g_comm_free calls it in a CUDA=1 build.  No-op when there is none. */
void t5g_cuda_comm_free(void **device_comm);

/* "GPU n: name (sm_XY, SMs, memory)" of the device in use; "none" before initialisation. */
const char *t5g_cuda_device_name(void *ctx);

/* The backend's cudaStream_t (for timing with CUDA events); NULL before initialisation. */
void *t5g_cuda_stream(void *ctx);

/* Which attention kernel to use: 0 = automatic (decode kernel for Tq == 1 or head width > 256,
 * tiled prefill kernel otherwise), 1 = always prefill (head width <= 256), 2 = always decode.
 * For tests and benchmarks. */
void t5g_cuda_set_attention_path(void *ctx, int path);

#ifdef __cplusplus
}
#endif
#endif
