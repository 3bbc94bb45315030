/* kselect.cuh - row-wise argmax and top-k on device logits, with the ordering of
 * parallel/vocab.c: larger value first, ties -> lower id.  Results are {float value, int32 id}
 * pairs (t5g_cuda_cand in cuda_ops.h, the layout of t5g_cand and of MPI_FLOAT_INT).
 *
 * Top-k works in rounds: a block loads a chunk of T5GK_TK_CHUNK candidates of one row into
 * shared memory and extracts its k best by k block-wide arg-max passes; the chunk winners
 * (k per chunk) become the candidates of the next round until one chunk remains.  k is
 * limited to T5GK_TK_MAX so that each round shrinks the candidates at least 8-fold. */
#ifndef T5G_KSELECT_CUH
#define T5G_KSELECT_CUH
#include "backend/cuda/kcommon.cuh"

#define T5GK_ARGMAX_THREADS 512
#define T5GK_TK_THREADS     256
#define T5GK_TK_CHUNK       2048
#define T5GK_TK_MAX         256

typedef struct {
    float value;
    int32_t id;
} t5gk_cand;

/* candidate a ranks before b */
__device__ __forceinline__ bool t5gk_better(float av, int ai, float bv, int bi) {
    return av > bv || (av == bv && ai < bi);
}

/* block-wide best (value, id, slot) over every thread's candidate; all threads get it */
__device__ __forceinline__ void t5gk_block_best(float *v, int *id, int *slot) {
    __shared__ float sv[32];
    __shared__ int si[32], ss[32];
    int lane = threadIdx.x & (T5GK_WARP - 1), w = threadIdx.x / T5GK_WARP, nw = blockDim.x / T5GK_WARP;
    for (int o = T5GK_WARP / 2; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, *v, o);
        int oi = __shfl_xor_sync(0xffffffffu, *id, o), os = __shfl_xor_sync(0xffffffffu, *slot, o);
        if (t5gk_better(ov, oi, *v, *id)) {
            *v = ov;
            *id = oi;
            *slot = os;
        }
    }
    __syncthreads();
    if (lane == 0) {
        sv[w] = *v;
        si[w] = *id;
        ss[w] = *slot;
    }
    __syncthreads();
    *v = sv[0];
    *id = si[0];
    *slot = ss[0];
    for (int i = 1; i < nw; i++)
        if (t5gk_better(sv[i], si[i], *v, *id)) {
            *v = sv[i];
            *id = si[i];
            *slot = ss[i];
        }
}

/* one block per row: out[r] = best of x[r, 0:n], id = v0 + column */
__global__ void t5gk_argmax_kernel(const float *x, int n, int ld, int v0, t5gk_cand *out) {
    const float *row = x + (size_t)blockIdx.x * ld;
    float bv = -INFINITY;
    int bi = INT_MAX, slot = 0;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
        if (t5gk_better(row[j], j, bv, bi)) {
            bv = row[j];
            bi = j;
        }
    t5gk_block_best(&bv, &bi, &slot);
    if (threadIdx.x == 0) {
        out[blockIdx.x].value = bv;
        out[blockIdx.x].id = bi == INT_MAX ? INT_MAX : v0 + bi;
    }
}

/* One top-k round, grid (chunks, rows).  Input row r: either logits x[r, 0:n] (cin == NULL;
 * value (x - lse[r]) + add[r] as in t5g_vocab_topk, id v0 + column) or candidates
 * cin[r, 0:n].  Writes the chunk's k best, best first, to cout[r, chunk·k ...]; slots past
 * the chunk's size get {-inf, INT_MAX} like the CPU's padding. */
__global__ void t5gk_topk_round_kernel(const float *x, int ld, const t5gk_cand *cin, int n, int v0, const float *lse,
                                       const float *add, int k, t5gk_cand *cout) {
    __shared__ float cv[T5GK_TK_CHUNK];
    __shared__ int ci[T5GK_TK_CHUNK];
    const int r = blockIdx.y, c0 = blockIdx.x * T5GK_TK_CHUNK;
    const int cnt = n - c0 < T5GK_TK_CHUNK ? n - c0 : T5GK_TK_CHUNK;
    for (int e = threadIdx.x; e < cnt; e += blockDim.x) {
        if (cin) {
            t5gk_cand c = cin[(size_t)r * n + c0 + e];
            cv[e] = c.value;
            ci[e] = c.id;
        } else {
            float sub = lse ? lse[r] : 0.0f, off = add ? add[r] : 0.0f;
            cv[e] = (x[(size_t)r * ld + c0 + e] - sub) + off;
            ci[e] = v0 + c0 + e;
        }
    }
    __syncthreads();
    t5gk_cand *o = cout + ((size_t)r * gridDim.x + blockIdx.x) * k;
    for (int q = 0; q < k; q++) {
        float bv = -INFINITY;
        int bi = INT_MAX, bs = -1;
        for (int e = threadIdx.x; e < cnt; e += blockDim.x)
            if (ci[e] != -1 && (bs < 0 || t5gk_better(cv[e], ci[e], bv, bi))) {
                bv = cv[e];
                bi = ci[e];
                bs = e;
            }
        t5gk_block_best(&bv, &bi, &bs);
        if (threadIdx.x == 0) {
            if (bs >= 0) {
                o[q].value = bv;
                o[q].id = bi;
                ci[bs] = -1; /* taken */
            } else {
                o[q].value = -INFINITY;
                o[q].id = INT_MAX;
            }
        }
        __syncthreads(); /* the next pass must see the slot marked taken */
    }
}

/* ---- host side ---- */

static inline int t5gk_topk_chunks(int n) {
    return (n + T5GK_TK_CHUNK - 1) / T5GK_TK_CHUNK;
}

/* candidates the top-k workspace must hold (two ping-pong halves of this size each) */
static inline size_t t5gk_topk_scratch(int rows, int n, int k) {
    return (size_t)rows * t5gk_topk_chunks(n) * k;
}

static inline void t5gk_argmax(cudaStream_t s, const float *x, int rows, int n, int ld, int v0, t5gk_cand *out) {
    if (rows > 0 && n > 0)
        t5g_launch(t5gk_argmax_kernel, dim3(rows), dim3(T5GK_ARGMAX_THREADS), 0, s, x, n, ld, v0, out);
}

/* ws: 2 * t5gk_topk_scratch(rows, n, k) candidates.  0 = ok, -1 = k out of range. */
static inline int t5gk_topk(cudaStream_t s, const float *x, int rows, int n, int ld, int v0, const float *lse,
                            const float *add, int k, t5gk_cand *out, t5gk_cand *ws) {
    if (k < 1 || k > T5GK_TK_MAX) return -1;
    if (rows <= 0 || n <= 0) return 0;
    size_t half = t5gk_topk_scratch(rows, n, k);
    const t5gk_cand *cin = NULL;
    int cur = n, flip = 0;
    for (;;) {
        int nc = t5gk_topk_chunks(cur);
        t5gk_cand *dst = nc == 1 ? out : ws + (flip ? half : 0);
        t5g_launch(t5gk_topk_round_kernel, dim3(nc, rows), dim3(T5GK_TK_THREADS), 0, s, x, ld, cin, cur, v0, lse, add,
                   k, dst);
        if (nc == 1) return 0;
        cin = dst;
        cur = nc * k;
        flip ^= 1;
    }
}
#endif
