/* backend_cuda.cu - the CUDA backend (make CUDA=1): one device per process (local_rank %
 * device count), one stream, cuBLAS for every matrix product, the kernels of kelem/kattn/
 * kselect.cuh for the rest, NCCL for the TP all-reduce (communicator bootstrapped over MPI,
 * which is not CUDA-aware here).  Nothing waits for the GPU except sync(), device-to-host
 * copies and the rare growth of a workspace, so a layer runs without host round trips.
 *
 * Errors: alloc() returns NULL with a message (the caller reports it).  The other ops have no
 * error return; a failed launch, cuBLAS or NCCL call or an asynchronous fault leaves the GPU
 * state unusable, so it is reported as "t5g: error: ..." and the job ends (MPI_Abort when MPI
 * is running, so that TP peers do not hang in a collective). */
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
#include "parallel/comm.h"
}
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kattn.cuh"
#include "backend/cuda/kelem.cuh"
#include "backend/cuda/kselect.cuh"

#define T5G_CU_CACHE 8

static struct {
    int ready, device, attn_path;
    cudaStream_t stream;
    cublasHandle_t blas;
    float *part;      /* attention partials of the decode kernel */
    size_t part_bytes;
    void *ws;         /* top-k candidates, bf16 activations */
    size_t ws_bytes;
    struct { float theta; int hd; float *d; } rope[T5G_CU_CACHE];
    struct { int buckets, maxd, bidir, L; int *d; } rel[T5G_CU_CACHE];
    int nrope, nrel;
} G;

/* ---- errors ---- */

static void fatal(const char *what, const char *detail) {
    T5G_FAIL("CUDA backend: %s failed: %s", what, detail);
    fprintf(stderr, "t5g: error: %s\n", t5g_last_error());
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    if (init) MPI_Finalized(&fin);
    if (init && !fin) MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}
static void ck(cudaError_t e, const char *what) {
    if (e != cudaSuccess) fatal(what, cudaGetErrorString(e));
}
static void ck_blas(cublasStatus_t s, const char *what) {
    if (s != CUBLAS_STATUS_SUCCESS) fatal(what, cublasGetStatusString(s));
}
/* after a kernel launch: configuration errors show up here, faults at the next sync */
static void ck_launch(const char *what) { ck(cudaGetLastError(), what); }

/* ---- memory ---- */

static void *cu_alloc(size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
    if (e != cudaSuccess) {
        cudaGetLastError(); /* out-of-memory is not sticky: clear it */
        T5G_FAIL("cudaMalloc of %zu bytes on GPU %d failed (%s); use more TP ranks or --device cpu", bytes, G.device,
                 cudaGetErrorString(e));
        return NULL;
    }
    return p;
}
static void cu_release(void *p) {
    if (!p) return;
    ck(cudaStreamSynchronize(G.stream), "sync before cudaFree"); /* queued kernels may still use p */
    ck(cudaFree(p), "cudaFree");
}
static void cu_copy(void *dst, const void *src, size_t bytes, t5g_copy_kind kind) {
    if (!bytes || dst == src) return;
    cudaMemcpyKind k = kind == T5G_COPY_H2D ? cudaMemcpyHostToDevice
                     : kind == T5G_COPY_D2H ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
    ck(cudaMemcpyAsync(dst, src, bytes, k, G.stream), "cudaMemcpyAsync");
    /* the caller reads a host destination right away */
    if (kind == T5G_COPY_D2H) ck(cudaStreamSynchronize(G.stream), "device-to-host copy");
}
static void cu_zero(void *p, size_t bytes) {
    if (bytes) ck(cudaMemsetAsync(p, 0, bytes, G.stream), "cudaMemsetAsync");
}
static void cu_sync(void) { ck(cudaStreamSynchronize(G.stream), "kernel execution (cudaStreamSynchronize)"); }

/* Grow a device workspace to at least `bytes` (waits for queued work before freeing). */
static int grow(void **p, size_t *cap, size_t bytes) {
    if (bytes <= *cap) return 0;
    if (*p) cu_release(*p);
    *cap = 0;
    size_t want = bytes + bytes / 2;
    *p = cu_alloc(want);
    if (!*p) return -1;
    *cap = want;
    return 0;
}

/* ---- small per-configuration tables, uploaded once ---- */

static const float *rope_inv_freq(int hd, float theta) {
    for (int i = 0; i < G.nrope; i++)
        if (G.rope[i].hd == hd && G.rope[i].theta == theta) return G.rope[i].d;
    int slot = G.nrope < T5G_CU_CACHE ? G.nrope++ : 0;
    if (G.rope[slot].d) cu_release(G.rope[slot].d);
    float host[T5GK_HD_MAX * 4];
    if (hd / 2 > (int)(sizeof host / sizeof *host)) fatal("rope", "head width too large");
    t5gk_inv_freq(host, hd, theta);
    float *d = (float *)cu_alloc(sizeof(float) * (hd / 2 + 1));
    if (!d) fatal("rope table", t5g_last_error());
    ck(cudaMemcpy(d, host, sizeof(float) * (hd / 2), cudaMemcpyHostToDevice), "rope table upload");
    G.rope[slot].hd = hd; G.rope[slot].theta = theta; G.rope[slot].d = d;
    return d;
}

static const int *rel_bucket_table(int buckets, int maxd, int bidir, int *L) {
    for (int i = 0; i < G.nrel; i++)
        if (G.rel[i].buckets == buckets && G.rel[i].maxd == maxd && G.rel[i].bidir == bidir) {
            *L = G.rel[i].L;
            return G.rel[i].d;
        }
    int slot = G.nrel < T5G_CU_CACHE ? G.nrel++ : 0;
    if (G.rel[slot].d) cu_release(G.rel[slot].d);
    int l = t5gk_rel_L(buckets, maxd);
    int *host = (int *)t5g_malloc(sizeof(int) * (2 * (size_t)l + 1), "relative-bias bucket table");
    int *d = (int *)cu_alloc(sizeof(int) * (2 * (size_t)l + 1));
    if (!host || !d) fatal("relative-bias table", t5g_last_error());
    t5gk_rel_table(host, l, bidir, buckets, maxd);
    ck(cudaMemcpy(d, host, sizeof(int) * (2 * (size_t)l + 1), cudaMemcpyHostToDevice), "bucket table upload");
    free(host);
    G.rel[slot].buckets = buckets; G.rel[slot].maxd = maxd; G.rel[slot].bidir = bidir; G.rel[slot].L = l; G.rel[slot].d = d;
    *L = l;
    return d;
}

/* ---- ops ---- */

static void cu_gemm(int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    /* row-major C = A·op(B) is column-major Cᵀ = op(B)ᵀ·Aᵀ: swap the operands */
    ck_blas(cublasSgemm(G.blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta, C,
                        ldc),
            "cublasSgemm");
}
static void cu_rmsnorm(const float *x, const float *w, float *y, int rows, int n, float eps) {
    t5gk_rmsnorm(G.stream, x, w, y, rows, n, eps);
    ck_launch("rmsnorm kernel");
}
static void cu_embed(const float *E, int v0, int Vl, int H, const int32_t *ids, int T, float scale, float *out) {
    t5gk_embed(G.stream, E, v0, Vl, H, ids, T, scale, out);
    ck_launch("embedding kernel");
}
static void cu_rope(float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta) {
    if (T <= 0 || nheads <= 0 || hd < 2 || Tq <= 0) return;
    t5gk_rope(G.stream, x, T, ld, nheads, hd, Tq, pos0, rope_inv_freq(hd, theta));
    ck_launch("rope kernel");
}
/* attention of `rows` sequences (rows = 1: the op-table call) */
static void attention_rows(const t5g_attn_args *a, int rows, const long long st[5]) {
    if (a->Tq <= 0 || a->nh <= 0 || a->hd <= 0 || rows <= 0) return;
    const int *tab = NULL;
    int L = 0;
    if (a->rel_table) tab = rel_bucket_table(a->rel_buckets, a->rel_max_distance, a->rel_bidirectional, &L);
    int decode = t5gk_use_decode(G.attn_path, a);
    /* the partials of one launch (at most 65535 query rows) */
    int per = rows < 65535 / a->Tq ? rows : (65535 / a->Tq > 0 ? 65535 / a->Tq : 1);
    if (decode && grow((void **)&G.part, &G.part_bytes, sizeof(float) * t5gk_decode_scratch(a, per)))
        fatal("attention workspace", t5g_last_error());
    t5gk_attention(G.stream, a, rows, st, tab, L, G.attn_path, G.part);
    ck_launch(decode ? "decode attention kernel" : "prefill attention kernel");
}
static void cu_attention(const t5g_attn_args *a) {
    static const long long none[5] = {0, 0, 0, 0, 0};
    attention_rows(a, 1, none);
}
static void cu_gelu_mul(const float *gate, const float *up, float *out, size_t n) {
    t5gk_gelu_mul(G.stream, gate, up, out, n);
    ck_launch("gelu_mul kernel");
}
static void cu_softcap(float *x, size_t n, float cap) {
    t5gk_softcap(G.stream, x, n, cap);
    ck_launch("softcap kernel");
}
static void cu_add(float *y, const float *x, size_t n) {
    t5gk_add(G.stream, y, x, n);
    ck_launch("add kernel");
}

/* ---- NCCL all-reduce over the TP group ---- */

static ncclComm_t nccl_of(t5g_comm *c) {
    if (c->device_comm) return (ncclComm_t)c->device_comm;
    struct { int ok; ncclUniqueId id; } boot;
    memset(&boot, 0, sizeof boot);
    if (c->tp_rank == 0) boot.ok = ncclGetUniqueId(&boot.id) == ncclSuccess;
    MPI_Bcast(&boot, (int)sizeof boot, MPI_BYTE, 0, c->tp); /* everyone learns whether rank 0 succeeded */
    if (!boot.ok) fatal("ncclGetUniqueId on TP rank 0", "see NCCL_DEBUG=WARN output");
    ncclComm_t nc;
    ncclResult_t r = ncclCommInitRank(&nc, c->tp_size, boot.id, c->tp_rank);
    if (r != ncclSuccess) fatal("ncclCommInitRank (one GPU per TP rank is required)", ncclGetErrorString(r));
    c->device_comm = nc;
    return nc;
}

static void cu_allreduce_sum(struct t5g_comm_s *c, float *x, int64_t n) {
    if (!c || c->tp_size <= 1 || n <= 0) return;
    double t0 = MPI_Wtime();
    ncclComm_t nc = nccl_of(c);
    ncclResult_t r = ncclAllReduce(x, x, (size_t)n, ncclFloat32, ncclSum, nc, G.stream);
    if (r != ncclSuccess) fatal("ncclAllReduce", ncclGetErrorString(r));
    c->allreduce_seconds += MPI_Wtime() - t0; /* enqueue time: the transfer itself overlaps the stream */
    c->allreduce_calls++;
    c->allreduce_bytes += n * (int64_t)sizeof(float);
}

static const t5g_backend CUDA_BACKEND = {
    "cuda", cu_alloc, cu_release, cu_copy, cu_zero, cu_sync, cu_allreduce_sum, cu_gemm, cu_rmsnorm, cu_embed, cu_rope,
    cu_attention, cu_gelu_mul, cu_softcap, cu_add,
};

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

extern "C" const t5g_backend *t5g_backend_cuda(int local_rank) {
    if (G.ready) return &CUDA_BACKEND;
    int n = t5g_cuda_device_count();
    if (n <= 0) return NULL;
    int dev = (local_rank < 0 ? 0 : local_rank) % n;
    cudaError_t e = cudaSetDevice(dev);
    if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&G.stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        cudaGetLastError();
        T5G_FAIL("cannot use CUDA device %d of %d (%s); use --device cpu", dev, n, cudaGetErrorString(e));
        return NULL;
    }
    cublasStatus_t s = cublasCreate(&G.blas);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(G.blas, G.stream);
    /* plain float32 products: no TF32 unless NVIDIA_TF32_OVERRIDE asks for it */
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(G.blas, CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        T5G_FAIL("cuBLAS initialisation on CUDA device %d failed (%s)", dev, cublasGetStatusString(s));
        return NULL;
    }
    G.device = dev;
    G.ready = 1;
    return &CUDA_BACKEND;
}

#define NEED_READY(fn) T5G_CHECK(G.ready, fn ": the CUDA backend is not initialised (call t5g_backend_cuda first)")

extern "C" int t5g_cuda_argmax(const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out) {
    NEED_READY("t5g_cuda_argmax");
    T5G_CHECK(x && out && rows >= 0 && n > 0 && ld >= n, "t5g_cuda_argmax: bad arguments (rows %d, n %d, ld %d)", rows,
              n, ld);
    t5gk_argmax(G.stream, x, rows, n, ld, v0, (t5gk_cand *)out);
    ck_launch("argmax kernel");
    return 0;
}

extern "C" int t5g_cuda_topk(const float *x, int rows, int n, int ld, int v0, int k, const float *lse, const float *add,
                             t5g_cuda_cand *out) {
    NEED_READY("t5g_cuda_topk");
    T5G_CHECK(x && out && rows >= 0 && n > 0 && ld >= n, "t5g_cuda_topk: bad arguments (rows %d, n %d, ld %d)", rows, n,
              ld);
    T5G_CHECK(k >= 1 && k <= T5GK_TK_MAX, "t5g_cuda_topk: k = %d, must be in 1..%d", k, T5GK_TK_MAX);
    T5G_TRY(grow(&G.ws, &G.ws_bytes, 2 * sizeof(t5gk_cand) * t5gk_topk_scratch(rows, n, k)));
    t5gk_topk(G.stream, x, rows, n, ld, v0, lse, add, k, (t5gk_cand *)out, (t5gk_cand *)G.ws);
    ck_launch("top-k kernel");
    return 0;
}

extern "C" int t5g_cuda_to_bf16(const float *src, uint16_t *dst, size_t n) {
    NEED_READY("t5g_cuda_to_bf16");
    T5G_CHECK((src && dst) || !n, "t5g_cuda_to_bf16: NULL buffer");
    const size_t piece = (size_t)1 << 30; /* the kernel's row width is an int */
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        t5gk_to_bf16(G.stream, src + off, 1, (int)m, (int)m, dst + off);
    }
    ck_launch("bf16 conversion kernel");
    return 0;
}

extern "C" int t5g_cuda_gemm_bf16w(int M, int N, int K, const float *A, int lda, const uint16_t *W, int ldw, float *C,
                                   int ldc) {
    NEED_READY("t5g_cuda_gemm_bf16w");
    T5G_CHECK(A && W && C && M >= 0 && N >= 0 && K > 0 && lda >= K && ldw >= K && ldc >= N,
              "t5g_cuda_gemm_bf16w: bad arguments (M %d N %d K %d lda %d ldw %d ldc %d)", M, N, K, lda, ldw, ldc);
    if (!M || !N) return 0;
    T5G_TRY(grow(&G.ws, &G.ws_bytes, sizeof(uint16_t) * (size_t)M * K));
    uint16_t *a16 = (uint16_t *)G.ws;
    t5gk_to_bf16(G.stream, A, M, K, lda, a16);
    ck_launch("bf16 conversion kernel");
    const float one = 1.0f, zero = 0.0f;
    ck_blas(cublasGemmEx(G.blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &one, W, CUDA_R_16BF, ldw, a16, CUDA_R_16BF, K, &zero,
                         C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            "cublasGemmEx (bf16 weights)");
    return 0;
}

extern "C" int t5g_cuda_attention_rows(const t5g_attn_args *a, int rows, int64_t sq, int64_t sk, int64_t sv, int64_t so,
                                       int64_t svalid) {
    NEED_READY("t5g_cuda_attention_rows");
    T5G_CHECK(a && a->q && a->k && a->v && a->out && rows >= 0 && a->Tk >= 0 && a->group > 0,
              "t5g_cuda_attention_rows: bad arguments");
    const long long st[5] = {sq, sk, sv, so, svalid};
    attention_rows(a, rows, st);
    return 0;
}

extern "C" void t5g_cuda_comm_free(struct t5g_comm_s *c) {
    if (!c || !c->device_comm) return;
    ncclCommDestroy((ncclComm_t)c->device_comm);
    c->device_comm = NULL;
}

extern "C" const char *t5g_cuda_device_name(void) {
    static char name[320];
    cudaDeviceProp p;
    if (!G.ready || cudaGetDeviceProperties(&p, G.device) != cudaSuccess) return "none";
    snprintf(name, sizeof name, "GPU %d: %s (sm_%d%d, %d SMs, %.1f GiB)", G.device, p.name, p.major, p.minor,
             p.multiProcessorCount, p.totalGlobalMem / 1073741824.0);
    return name;
}

extern "C" void *t5g_cuda_stream(void) { return G.ready ? (void *)G.stream : NULL; }

extern "C" void t5g_cuda_set_attention_path(int path) { G.attn_path = path >= 0 && path <= 2 ? path : 0; }
