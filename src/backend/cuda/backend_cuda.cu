/* backend_cuda.cu - the CUDA backend (make CUDA=1): one context per device (t5g_backend_cuda
 * picks local_rank % device count), one stream per context, cuBLAS for the matrix products,
 * the kernels of kelem/kattn/kselect.cuh for the rest, NCCL for the TP all-reduce
 * (communicator bootstrapped over MPI, which is not CUDA-aware here).  Nothing waits for the
 * GPU except sync(), device-to-host copies and the rare growth of a workspace, so a layer
 * runs without host round trips.
 *
 * Errors (backend.h): alloc() returns NULL with a message.  Any other failed call (launch,
 * cuBLAS, workspace, unsupported weight dtype) records the first error in the context; later
 * ops do nothing until sync() returns it (-1, T5G_FAIL) and clears it.  Faults inside a
 * kernel surface at the next synchronisation.  One exception: a failed NCCL call with TP
 * peers ends the job (MPI_Abort), because peers already inside the collective cannot be
 * released any other way. */
#include <mpi.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern "C" {
#include "backend/backend.h"
#include "core/err.h"
#include "backend/cuda/table_cache.h"
}
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kattn.cuh"
#include "backend/cuda/kelem.cuh"
#include "backend/cuda/kselect.cuh"

#define T5G_CU_MAX_DEVICES 64
/* bf16 linear: plane products of at most this many bytes per cuBLAS call (chunks over N) */
#define T5G_CU_LIN_WS      ((size_t)192 << 20)
#define T5G_CU_LIN_MCHUNK  4096

typedef struct {
    void *p;
    size_t cap;
} cu_buf;

typedef struct {
    int device, attn_path;
    cudaStream_t stream;
    cublasHandle_t blas;
    char err[480];       /* first error since the last sync; "" = none */
    cu_buf part;         /* attention partials of the decode kernel */
    cu_buf ws;           /* top-k candidates, bf16 conversions */
    cu_buf lin;          /* bf16 linear: activation planes + plane products */
    cu_buf kvmap;        /* attention_batch: sequence -> K/V row */
    int32_t *kvmap_host; /* what kvmap holds (kvmap_n entries): an unchanged map is not uploaded again */
    int kvmap_n;
    t5g_table_cache rope; /* RoPE inverse frequencies per (head width, theta, factor) */
    t5g_table_cache rel;  /* relative-bias buckets per (buckets, max distance, direction) */
} cu_ctx;

static cu_ctx *CTX[T5G_CU_MAX_DEVICES];
static t5g_backend BACKEND[T5G_CU_MAX_DEVICES];
static int NCTX; /* contexts made; with more than one, every op selects its device first */

/* ---- errors ---- */

/* record the first error; returns -1 */
static int fail(cu_ctx *c, const char *what, const char *detail) {
    if (!c->err[0]) snprintf(c->err, sizeof c->err, "CUDA backend (GPU %d): %s failed: %s", c->device, what, detail);
    return -1;
}
static int ck(cu_ctx *c, cudaError_t e, const char *what) {
    return e == cudaSuccess ? 0 : fail(c, what, cudaGetErrorString(e));
}
static int ck_blas(cu_ctx *c, cublasStatus_t s, const char *what) {
    return s == CUBLAS_STATUS_SUCCESS ? 0 : fail(c, what, cublasGetStatusString(s));
}
/* after a kernel launch: configuration errors show up here, faults at the next sync */
static int ck_launch(cu_ctx *c, const char *what) {
    return ck(c, cudaGetLastError(), what);
}

/* ---- memory ---- */

static void *cu_alloc(void *ctx, size_t bytes) {
    cu_ctx *c = (cu_ctx *)ctx;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
    if (e != cudaSuccess) {
        cudaGetLastError(); /* out-of-memory is not sticky: clear it */
        T5G_FAIL("cudaMalloc of %zu bytes on GPU %d failed (%s); use more TP ranks or --device cpu", bytes, c->device,
                 cudaGetErrorString(e));
        return NULL;
    }
    return p;
}
static void cu_release(void *ctx, void *p) {
    cu_ctx *c = (cu_ctx *)ctx;
    if (!p) return;
    ck(c, cudaStreamSynchronize(c->stream), "sync before cudaFree"); /* queued kernels may still use p */
    ck(c, cudaFree(p), "cudaFree");
}
static void cu_copy(void *ctx, void *dst, const void *src, size_t bytes, t5g_copy_kind kind) {
    cu_ctx *c = (cu_ctx *)ctx;
    if (!bytes || dst == src) return;
    if (c->err[0]) {
        if (kind == T5G_COPY_D2H) memset(dst, 0xff, bytes); /* NaN, never a plausible number */
        return;
    }
    cudaMemcpyKind k = kind == T5G_COPY_H2D   ? cudaMemcpyHostToDevice
                       : kind == T5G_COPY_D2H ? cudaMemcpyDeviceToHost
                                              : cudaMemcpyDeviceToDevice;
    ck(c, cudaMemcpyAsync(dst, src, bytes, k, c->stream), "cudaMemcpyAsync");
    /* the caller reads a host destination right away */
    if (kind == T5G_COPY_D2H && ck(c, cudaStreamSynchronize(c->stream), "device-to-host copy"))
        memset(dst, 0xff, bytes);
}
static void cu_zero(void *ctx, void *p, size_t bytes) {
    cu_ctx *c = (cu_ctx *)ctx;
    if (bytes && !c->err[0]) ck(c, cudaMemsetAsync(p, 0, bytes, c->stream), "cudaMemsetAsync");
}
static int cu_sync(void *ctx) {
    cu_ctx *c = (cu_ctx *)ctx;
    ck(c, cudaStreamSynchronize(c->stream), "kernel execution (cudaStreamSynchronize)");
    if (!c->err[0]) return 0;
    T5G_FAIL("%s", c->err);
    c->err[0] = 0;
    return -1;
}

/* Grow a device workspace to at least `bytes` (waits for queued work before freeing). */
static int grow(cu_ctx *c, cu_buf *b, size_t bytes, const char *what) {
    if (bytes <= b->cap) return 0;
    if (b->p) cu_release(c, b->p);
    b->p = NULL;
    b->cap = 0;
    size_t want = bytes + bytes / 2;
    b->p = cu_alloc(c, want);
    if (!b->p) return fail(c, what, t5g_last_error());
    b->cap = want;
    return 0;
}

/* ---- small per-configuration tables, uploaded once (table_cache.h) ---- */

/* On the context's stream, so the kernels queued after it see the table (a plain cudaMemcpy
 * runs on the legacy stream, which a non-blocking stream does not wait for); the wait lets the
 * caller free the host copy. */
static int cu_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    cu_ctx *c = (cu_ctx *)ctx;
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream);
    if (e == cudaSuccess) return 0;
    T5G_FAIL("table upload of %zu bytes to GPU %d failed (%s)", bytes, c->device, cudaGetErrorString(e));
    return -1;
}
static const void *device_table(cu_ctx *c, t5g_table_cache *tc, const float *key, size_t bytes, t5g_table_fill fill,
                                const char *what) {
    const t5g_table_dev dev = {c, cu_alloc, cu_upload, cu_release};
    const void *d = t5g_table_get(tc, &dev, key, bytes, fill);
    if (!d) fail(c, what, t5g_last_error());
    return d;
}

/* key: head width, theta, scaling factor */
static void fill_inv_freq(void *host, const float *key) {
    t5gk_inv_freq((float *)host, (int)key[0], key[1], key[2]);
}
static const float *rope_inv_freq(cu_ctx *c, int hd, float theta, float factor) {
    const float key[T5G_TABLE_KEY] = {(float)hd, theta, factor, 0.0f};
    return (const float *)device_table(c, &c->rope, key, sizeof(float) * (hd / 2), fill_inv_freq, "rope table");
}

/* key: buckets, maximum distance, bidirectional; the table spans relative positions -L .. L */
static void fill_rel_buckets(void *host, const float *key) {
    int buckets = (int)key[0];
    int maxd = (int)key[1];
    t5gk_rel_table((int *)host, t5gk_rel_L(buckets, maxd), (int)key[2], buckets, maxd);
}
static const int *rel_bucket_table(cu_ctx *c, int buckets, int maxd, int bidir, int *L) {
    const float key[T5G_TABLE_KEY] = {(float)buckets, (float)maxd, (float)(bidir != 0), 0.0f};
    *L = t5gk_rel_L(buckets, maxd);
    size_t bytes = sizeof(int) * (2 * (size_t)*L + 1);
    return (const int *)device_table(c, &c->rel, key, bytes, fill_rel_buckets, "relative-bias table");
}

/* ---- ops ---- */

/* the op's context; an op after an unreported error does nothing */
#define CTX_OK(ctx)                                                                                                    \
    cu_ctx *c = (cu_ctx *)(ctx);                                                                                       \
    if (NCTX > 1) cudaSetDevice(c->device);                                                                            \
    if (c->err[0]) return

static void cu_gemm(void *ctx, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc) {
    CTX_OK(ctx);
    if (M <= 0 || N <= 0) return;
    /* row-major C = A·op(B) is column-major Cᵀ = op(B)ᵀ·Aᵀ: swap the operands */
    ck_blas(c,
            cublasSgemm(c->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta, C,
                        ldc),
            "cublasSgemm");
}

/* y = x·Wᵀ for bf16 W: the activations as three bf16 planes (kelem.cuh: t5gk_split3), one
 * cublasGemmEx (bf16 x bf16, float32 accumulation and output) of the 3M plane rows against
 * the weights - W is read once per chunk, as in a plain bf16 product - then the planes'
 * products summed.  The result is the CPU backend's float32-activation product up to float32
 * summation order; cuBLAS has no float32 x bf16 product, and rounding the activations to
 * bf16 instead would differ from the CPU by ~1e-3 relative.  Cost: 3x the tensor-core work
 * of a bf16 GEMM (prefill), the same weight bytes (decode). */
static void linear_bf16(cu_ctx *c, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    const int N = W->rows, K = W->cols;
    const float one = 1.0f, zero = 0.0f;
    for (int m0 = 0; m0 < M; m0 += T5G_CU_LIN_MCHUNK) {
        int mc = M - m0 < T5G_CU_LIN_MCHUNK ? M - m0 : T5G_CU_LIN_MCHUNK;
        size_t per_col = 3 * sizeof(float) * (size_t)mc;
        size_t nc = T5G_CU_LIN_WS / per_col / 128 * 128;
        if (nc < 128) nc = 128;
        if (nc > (size_t)N) nc = (size_t)N;
        size_t planes = (3 * sizeof(uint16_t) * (size_t)mc * K + 255) / 256 * 256;
        if (grow(c, &c->lin, planes + per_col * nc, "bf16 linear workspace")) return;
        uint16_t *a16 = (uint16_t *)c->lin.p;
        float *P = (float *)((char *)c->lin.p + planes);
        t5gk_split3(c->stream, x + (size_t)m0 * ldx, mc, K, ldx, a16);
        if (ck_launch(c, "bf16 split kernel")) return;
        for (int n0 = 0; n0 < N; n0 += (int)nc) {
            int nn = N - n0 < (int)nc ? N - n0 : (int)nc;
            const uint16_t *w = (const uint16_t *)W->data + (size_t)n0 * W->ld;
            if (ck_blas(c,
                        cublasGemmEx(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, nn, 3 * mc, K, &one, w, CUDA_R_16BF, W->ld, a16,
                                     CUDA_R_16BF, K, &zero, P, CUDA_R_32F, nn, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                        "cublasGemmEx (bf16 weights)"))
                return;
            t5gk_combine3(c->stream, P, mc, nn, nn, y + (size_t)m0 * ldy + n0, ldy);
            if (ck_launch(c, "bf16 combine kernel")) return;
        }
    }
}

static void cu_linear(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    CTX_OK(ctx);
    const int N = W->rows, K = W->cols;
    if (M <= 0 || N <= 0) return;
    if (W->dtype == T5G_DT_INT8) {
        /* the CPU's int8 product also quantizes the activations (W8A8): no GPU kernel here */
        fail(c, "linear",
             "int8 weights are CPU-only; use --device cpu, or --compute-type f32 or bf16 with --device cuda");
        return;
    }
    if (K <= 0) { /* empty sum */
        ck(c, cudaMemset2DAsync(y, sizeof(float) * (size_t)ldy, 0, sizeof(float) * (size_t)N, M, c->stream),
           "cudaMemset2DAsync");
        return;
    }
    if (W->dtype == T5G_DT_BF16) {
        linear_bf16(c, x, M, ldx, W, y, ldy);
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    ck_blas(c,
            cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, (const float *)W->data, W->ld, x, ldx, &zero,
                        y, ldy),
            "cublasSgemm (linear)");
}

static void cu_rmsnorm(void *ctx, const float *x, const float *w, float *y, int rows, int n, float eps) {
    CTX_OK(ctx);
    t5gk_rmsnorm(c->stream, x, w, y, rows, n, eps);
    ck_launch(c, "rmsnorm kernel");
}
static void cu_embed(void *ctx, const t5g_wmat *E, int v0, const int32_t *ids, int T, float scale, float *out) {
    CTX_OK(ctx);
    t5gk_embed(c->stream, E, v0, ids, T, scale, out);
    ck_launch(c, "embedding kernel");
}
static void cu_rope_scaled(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta,
                           float factor) {
    CTX_OK(ctx);
    if (T <= 0 || nheads <= 0 || hd < 2 || Tq <= 0) return;
    const float *inv = rope_inv_freq(c, hd, theta, factor);
    if (!inv) return;
    t5gk_rope(c->stream, x, T, ld, nheads, hd, Tq, pos0, inv);
    ck_launch(c, "rope kernel");
}
static void cu_rope(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta) {
    cu_rope_scaled(ctx, x, T, ld, nheads, hd, Tq, pos0, theta, 1.0f); /* x / 1.0f is exact, as on the CPU */
}

/* kv_rows (host memory) in device memory; every layer of a step passes the same map, so it
 * is uploaded only when it changed (a pageable upload may wait for the stream).  NULL on error. */
static const int32_t *upload_kv_rows(cu_ctx *c, const int32_t *kv_rows, int rows) {
    size_t bytes = sizeof(int32_t) * (size_t)rows;
    if (c->kvmap.p && c->kvmap_n == rows && !memcmp(c->kvmap_host, kv_rows, bytes)) return (const int32_t *)c->kvmap.p;
    if (bytes > c->kvmap.cap) {
        c->kvmap_n = 0;
        free(c->kvmap_host);
        c->kvmap_host = (int32_t *)malloc(bytes + bytes / 2);
        if (!c->kvmap_host) {
            fail(c, "attention row map", "out of host memory");
            return NULL;
        }
        if (grow(c, &c->kvmap, bytes, "attention row map")) return NULL;
    }
    c->kvmap_n = 0;
    if (ck(c, cudaMemcpyAsync(c->kvmap.p, kv_rows, bytes, cudaMemcpyHostToDevice, c->stream),
           "attention row map upload"))
        return NULL;
    memcpy(c->kvmap_host, kv_rows, bytes);
    c->kvmap_n = rows;
    return (const int32_t *)c->kvmap.p;
}

/* attention of `rows` sequences in one launch per 65535 rows (kattn.cuh: t5gk_attention) */
static void attention_rows(cu_ctx *c, const t5g_attn_args *a, int rows, const long long st[5], const int32_t *kv_rows) {
    if (a->Tq <= 0 || a->nh <= 0 || a->hd <= 0 || rows <= 0) return;
    const int *tab = NULL;
    int L = 0;
    if (a->rel_table && !(tab = rel_bucket_table(c, a->rel_buckets, a->rel_max_distance, a->rel_bidirectional, &L)))
        return;
    int decode = t5gk_use_decode(c->attn_path, a), per = t5gk_rows_per_launch(c->attn_path, a);
    if (decode &&
        grow(c, &c->part, sizeof(float) * t5gk_decode_scratch(a, rows < per ? rows : per), "attention workspace"))
        return;
    const int32_t *map = NULL;
    if (kv_rows && !(map = upload_kv_rows(c, kv_rows, rows))) return;
    t5gk_attention(c->stream, a, rows, st, map, tab, L, c->attn_path, (float *)c->part.p);
    ck_launch(c, decode ? "decode attention kernel" : "prefill attention kernel");
}
static void cu_attention(void *ctx, const t5g_attn_args *a) {
    CTX_OK(ctx);
    static const long long none[5] = {0, 0, 0, 0, 0};
    attention_rows(c, a, 1, none, NULL);
}
static void cu_attention_batch(void *ctx, const t5g_attn_args *a, int rows, int64_t sq, int64_t so, int64_t skv,
                               int64_t svalid, const int32_t *kv_rows) {
    CTX_OK(ctx);
    const long long st[5] = {sq, skv, skv, so, svalid};
    attention_rows(c, a, rows, st, kv_rows);
}
static void cu_gelu_mul(void *ctx, const float *gate, const float *up, float *out, size_t n) {
    CTX_OK(ctx);
    t5gk_gelu_mul(c->stream, gate, up, out, n);
    ck_launch(c, "gelu_mul kernel");
}
static void cu_softcap(void *ctx, float *x, size_t n, float cap) {
    CTX_OK(ctx);
    t5gk_softcap(c->stream, x, n, cap);
    ck_launch(c, "softcap kernel");
}
static void cu_add(void *ctx, float *y, const float *x, size_t n) {
    CTX_OK(ctx);
    t5gk_add(c->stream, y, x, n);
    ck_launch(c, "add kernel");
}

/* ---- NCCL all-reduce over the TP group ---- */

/* A failed NCCL call with TP peers: they may already wait inside the collective. */
static void nccl_fatal(cu_ctx *c, const char *what, const char *detail) {
    fail(c, what, detail);
    fprintf(stderr, "t5g: error: %s\n", c->err);
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    if (init) MPI_Finalized(&fin);
    if (init && !fin) MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

static ncclComm_t nccl_of(cu_ctx *c, const t5g_dev_group *g) {
    if (*g->device_comm) return (ncclComm_t)*g->device_comm;
    struct {
        int ok;
        ncclUniqueId id;
    } boot;
    memset(&boot, 0, sizeof boot);
    if (g->rank == 0) boot.ok = ncclGetUniqueId(&boot.id) == ncclSuccess;
    MPI_Bcast(&boot, (int)sizeof boot, MPI_BYTE, 0, g->mpi); /* everyone learns whether rank 0 succeeded */
    if (!boot.ok) nccl_fatal(c, "ncclGetUniqueId on TP rank 0", "see NCCL_DEBUG=WARN output");
    ncclComm_t nc;
    ncclResult_t r = ncclCommInitRank(&nc, g->size, boot.id, g->rank);
    if (r != ncclSuccess) nccl_fatal(c, "ncclCommInitRank (one GPU per TP rank is required)", ncclGetErrorString(r));
    *g->device_comm = nc;
    return nc;
}

static void cu_allreduce_sum(void *ctx, const t5g_dev_group *g, float *x, int64_t n) {
    cu_ctx *c = (cu_ctx *)ctx;
    if (!g || g->size <= 1 || n <= 0) return;
    /* not skipped after an error: the peers' collectives must still be matched (the result is
     * discarded, sync() reports the error) */
    ncclComm_t nc = nccl_of(c, g);
    ncclResult_t r = ncclAllReduce(x, x, (size_t)n, ncclFloat32, ncclSum, nc, c->stream);
    if (r != ncclSuccess) nccl_fatal(c, "ncclAllReduce", ncclGetErrorString(r));
}

/* ---- C API ---- */

extern "C" int t5g_cuda_device_count(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        T5G_FAIL("no usable CUDA device (%s); use --device cpu", cudaGetErrorString(e));
        return 0;
    }
    if (n <= 0) T5G_FAIL("no usable CUDA device (none visible: check CUDA_VISIBLE_DEVICES); use --device cpu");
    return n > 0 ? n : 0;
}

static cu_ctx *ctx_create(int dev, int n) {
    cu_ctx *c = (cu_ctx *)calloc(1, sizeof *c);
    if (!c) {
        T5G_FAIL("out of memory for the CUDA backend state");
        return NULL;
    }
    c->device = dev;
    cudaError_t e = cudaSetDevice(dev);
    if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        cudaGetLastError();
        T5G_FAIL("cannot use CUDA device %d of %d (%s); use --device cpu", dev, n, cudaGetErrorString(e));
        free(c);
        return NULL;
    }
    cublasStatus_t s = cublasCreate(&c->blas);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(c->blas, c->stream);
    /* plain float32 products: no TF32 unless NVIDIA_TF32_OVERRIDE asks for it */
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        T5G_FAIL("cuBLAS initialisation on CUDA device %d failed (%s)", dev, cublasGetStatusString(s));
        cudaStreamDestroy(c->stream);
        free(c);
        return NULL;
    }
    return c;
}

extern "C" const t5g_backend *t5g_backend_cuda(int local_rank) {
    int n = t5g_cuda_device_count();
    if (n <= 0) return NULL;
    int dev = (local_rank < 0 ? 0 : local_rank) % n;
    if (dev >= T5G_CU_MAX_DEVICES) {
        T5G_FAIL("CUDA device %d: at most %d devices per process are supported", dev, T5G_CU_MAX_DEVICES);
        return NULL;
    }
    if (CTX[dev]) {
        cudaSetDevice(dev); /* later calls of this thread run on that device */
        return &BACKEND[dev];
    }
    cu_ctx *c = ctx_create(dev, n);
    if (!c) return NULL;
    t5g_backend *b = &BACKEND[dev];
    memset(b, 0, sizeof *b);
    b->name = "cuda";
    b->ctx = c;
    b->alloc = cu_alloc;
    b->release = cu_release;
    b->copy = cu_copy;
    b->zero = cu_zero;
    b->sync = cu_sync;
    b->allreduce_sum = cu_allreduce_sum;
    b->gemm = cu_gemm;
    b->rmsnorm = cu_rmsnorm;
    b->linear = cu_linear;
    b->embed = cu_embed;
    b->rope = cu_rope;
    b->attention = cu_attention;
    b->attention_batch = cu_attention_batch;
    b->gelu_mul = cu_gelu_mul;
    b->softcap = cu_softcap;
    b->add = cu_add;
    b->rope_scaled = cu_rope_scaled;
    CTX[dev] = c;
    NCTX++;
    return b;
}

#define NEED_CTX(fn)                                                                                                   \
    T5G_CHECK(ctx, fn ": no CUDA backend state (pass be->ctx of t5g_backend_cuda)");                                   \
    cu_ctx *c = (cu_ctx *)ctx

extern "C" int t5g_cuda_argmax(void *ctx, const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out) {
    NEED_CTX("t5g_cuda_argmax");
    T5G_CHECK(x && out && rows >= 0 && n > 0 && ld >= n, "t5g_cuda_argmax: bad arguments (rows %d, n %d, ld %d)", rows,
              n, ld);
    if (c->err[0]) return 0; /* reported by the next sync */
    t5gk_argmax(c->stream, x, rows, n, ld, v0, (t5gk_cand *)out);
    ck_launch(c, "argmax kernel");
    return 0;
}

extern "C" int t5g_cuda_topk(void *ctx, const float *x, int rows, int n, int ld, int v0, int k, const float *lse,
                             const float *add, t5g_cuda_cand *out) {
    NEED_CTX("t5g_cuda_topk");
    T5G_CHECK(x && out && rows >= 0 && n > 0 && ld >= n, "t5g_cuda_topk: bad arguments (rows %d, n %d, ld %d)", rows, n,
              ld);
    T5G_CHECK(k >= 1 && k <= T5GK_TK_MAX, "t5g_cuda_topk: k = %d, must be in 1..%d", k, T5GK_TK_MAX);
    if (c->err[0]) return 0;
    if (grow(c, &c->ws, 2 * sizeof(t5gk_cand) * t5gk_topk_scratch(rows, n, k), "top-k workspace")) return 0;
    t5gk_topk(c->stream, x, rows, n, ld, v0, lse, add, k, (t5gk_cand *)out, (t5gk_cand *)c->ws.p);
    ck_launch(c, "top-k kernel");
    return 0;
}

extern "C" int t5g_cuda_to_bf16(void *ctx, const float *src, uint16_t *dst, size_t n) {
    NEED_CTX("t5g_cuda_to_bf16");
    T5G_CHECK((src && dst) || !n, "t5g_cuda_to_bf16: NULL buffer");
    if (c->err[0]) return 0;
    const size_t piece = (size_t)1 << 30; /* the kernel's row width is an int */
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        t5gk_to_bf16(c->stream, src + off, 1, (int)m, (int)m, dst + off);
    }
    ck_launch(c, "bf16 conversion kernel");
    return 0;
}

extern "C" void t5g_cuda_comm_free(void **device_comm) {
    if (!device_comm || !*device_comm) return;
    ncclCommDestroy((ncclComm_t)*device_comm); /* local: waits for this rank's queued NCCL work */
    *device_comm = NULL;
}

extern "C" const char *t5g_cuda_device_name(void *ctx) {
    static char name[320];
    cudaDeviceProp p;
    cu_ctx *c = (cu_ctx *)ctx;
    if (!c || cudaGetDeviceProperties(&p, c->device) != cudaSuccess) return "none";
    snprintf(name, sizeof name, "GPU %d: %s (sm_%d%d, %d SMs, %.1f GiB)", c->device, p.name, p.major, p.minor,
             p.multiProcessorCount, p.totalGlobalMem / 1073741824.0);
    return name;
}

extern "C" void *t5g_cuda_stream(void *ctx) {
    return ctx ? (void *)((cu_ctx *)ctx)->stream : NULL;
}

extern "C" void t5g_cuda_set_attention_path(void *ctx, int path) {
    if (ctx) ((cu_ctx *)ctx)->attn_path = path >= 0 && path <= 2 ? path : 0;
}
