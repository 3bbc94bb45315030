/* kelem.cuh - element-wise and row-wise kernels of the CUDA backend: add, soft-cap, GeGLU,
 * embedding (f32 / bf16 / int8 rows), RMSNorm(1+w), RoPE, f32 -> bf16, and the split /
 * combine around the bf16-weight product.  Each mirrors the CPU loop in
 * backend/cpu/ops_cpu.c operation by operation (docs/model.md, Primitives); the only differences are the
 * device libm (tanhf/sinf/cosf within 2 ulp) and FMA contraction. */
#ifndef T5G_KELEM_CUH
#define T5G_KELEM_CUH
extern "C" {
#include "backend/backend.h"
}
#include "backend/cuda/kcommon.cuh"

#define T5GK_EW_THREADS    256
#define T5GK_EW_MAX_BLOCKS 65535u

__global__ void t5gk_add_kernel(float *y, const float *x, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

__global__ void t5gk_softcap_kernel(float *x, size_t n, float cap) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        x[i] = tanhf(x[i] / cap) * cap;
}

__global__ void t5gk_gelu_mul_kernel(const float *gate, const float *up, float *out, size_t n) {
    const float k0 = 0.7978845608028654f; /* sqrt(2/pi) */
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float x = gate[i];
        float x3 = x * x * x; /* torch's operation order */
        float g = 0.5f * x * (1.0f + tanhf(k0 * (x + 0.044715f * x3)));
        out[i] = g * up[i];
    }
}

/* One block per token: row id - v0 of E (dtype T5G_DT_F32 / BF16 / INT8, row stride ld;
 * int8 rows carry rscale[row]) widened to float32, then times scale - the CPU's order
 * (t5g_cpu_wrow_f32, then *= scale) - or zeros when the id is not in this rank's slice. */
__global__ void t5gk_embed_kernel(const void *E, int dtype, const float *rscale, int v0, int Vl, int H, int ld,
                                  const int32_t *ids, float scale, float *out) {
    int t = blockIdx.x;
    int id = ids[t] - v0;
    float *o = out + (size_t)t * H;
    if (id < 0 || id >= Vl) {
        for (int i = threadIdx.x; i < H; i += blockDim.x) o[i] = 0.0f;
        return;
    }
    size_t row = (size_t)id * ld;
    for (int i = threadIdx.x; i < H; i += blockDim.x) {
        float e;
        if (dtype == T5G_DT_BF16) e = t5gk_bf16_to_f32(((const uint16_t *)E)[row + i]);
        else if (dtype == T5G_DT_INT8) e = rscale[id] * (float)((const int8_t *)E)[row + i];
        else e = ((const float *)E)[row + i];
        o[i] = e * scale;
    }
}

/* one block per row; the sum of squares in double like the CPU loop */
__global__ void t5gk_rmsnorm_kernel(const float *x, const float *w, float *y, int n, float eps) {
    const float *xr = x + (size_t)blockIdx.x * n;
    float *yr = y + (size_t)blockIdx.x * n;
    double ss = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += (double)xr[i] * xr[i];
    ss = t5gk_block_reduce(ss, t5gk_sum());
    float inv = 1.0f / sqrtf((float)(ss / n) + eps); /* torch.rsqrt(mean + eps) */
    for (int i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] * inv) * (1.0f + w[i]);
}

/* one block per token at position pos0 + t % Tq; inv_freq comes from the host (the CPU's
 * powf), so the angles agree bit for bit */
__global__ void t5gk_rope_kernel(float *x, int ld, int nheads, int hd, int Tq, int pos0, const float *inv_freq) {
    int t = blockIdx.x, half = hd / 2;
    int p = pos0 + t % Tq;
    for (int e = threadIdx.x; e < nheads * half; e += blockDim.x) {
        int h = e / half, i = e % half;
        float ang = (float)p * inv_freq[i];
        float c = cosf(ang), s = sinf(ang);
        float *v = x + (size_t)t * ld + (size_t)h * hd;
        float a = v[i], b = v[i + half];
        v[i] = a * c + (-b) * s;
        v[i + half] = b * c + a * s;
    }
}

/* dst[r, 0:K] = bf16(src[r, 0:K]) for rows of stride ld (packs the activations for GemmEx) */
__global__ void t5gk_to_bf16_kernel(const float *src, int rows, int K, int ld, uint16_t *dst) {
    size_t n = (size_t)rows * K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x) {
        size_t r = e / K, k = e % K;
        dst[e] = t5gk_f32_to_bf16(src[r * ld + k]);
    }
}

/* The activations of a bf16-weight product as three bf16 planes: x = hi + mid + lo up to
 * 2^-27 |x| (each difference is exact in float32).  bf16 x bf16 products are exact in
 * float32, so W·hi + W·mid + W·lo with float32 accumulation is the float32-activation
 * product of the CPU backend (t5g_cpu_linear_bf16), not a product of bf16-rounded
 * activations.  Plane p of row r goes to dst[(p·rows + r)·K + k]. */
__global__ void t5gk_split3_kernel(const float *src, int rows, int K, int ld, uint16_t *dst) {
    size_t n = (size_t)rows * K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x) {
        size_t r = e / K, k = e % K;
        float x = src[r * ld + k];
        uint16_t hi = t5gk_f32_to_bf16(x);
        float rest = x - t5gk_bf16_to_f32(hi);
        uint16_t mid = t5gk_f32_to_bf16(rest);
        uint16_t lo = t5gk_f32_to_bf16(rest - t5gk_bf16_to_f32(mid));
        dst[e] = hi;
        dst[n + e] = mid;
        dst[2 * n + e] = lo;
    }
}

/* y[m, 0:N] = (P[2M+m] + P[M+m]) + P[m] for the three plane products P [3M, N] (row stride
 * ldp): smallest terms first */
__global__ void t5gk_combine3_kernel(const float *P, int M, int N, int ldp, float *y, int ldy) {
    size_t n = (size_t)M * N;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x) {
        size_t m = e / N, c = e % N;
        float lo = P[(2 * (size_t)M + m) * ldp + c], mid = P[((size_t)M + m) * ldp + c], hi = P[m * ldp + c];
        y[m * ldy + c] = (lo + mid) + hi;
    }
}

/* ---- host launchers ---- */

static inline unsigned t5gk_ew_grid(size_t n) {
    return t5gk_blocks(n, T5GK_EW_THREADS, T5GK_EW_MAX_BLOCKS);
}

static inline void t5gk_add(cudaStream_t s, float *y, const float *x, size_t n) {
    if (n) t5g_launch(t5gk_add_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, y, x, n);
}
static inline void t5gk_softcap(cudaStream_t s, float *x, size_t n, float cap) {
    if (n) t5g_launch(t5gk_softcap_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, x, n, cap);
}
static inline void t5gk_gelu_mul(cudaStream_t s, const float *gate, const float *up, float *out, size_t n) {
    if (n) t5g_launch(t5gk_gelu_mul_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, gate, up, out, n);
}
static inline void t5gk_embed(cudaStream_t s, const t5g_wmat *E, int v0, const int32_t *ids, int T, float scale,
                              float *out) {
    if (T > 0 && E->cols > 0)
        t5g_launch(t5gk_embed_kernel, dim3(T), dim3(T5GK_EW_THREADS), 0, s, (const void *)E->data, (int)E->dtype,
                   (const float *)E->scale, v0, E->rows, E->cols, E->ld, ids, scale, out);
}
static inline void t5gk_rmsnorm(cudaStream_t s, const float *x, const float *w, float *y, int rows, int n, float eps) {
    if (rows > 0 && n > 0) t5g_launch(t5gk_rmsnorm_kernel, dim3(rows), dim3(T5GK_EW_THREADS), 0, s, x, w, y, n, eps);
}
static inline void t5gk_rope(cudaStream_t s, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0,
                             const float *inv_freq) {
    if (T > 0 && nheads > 0 && hd >= 2 && Tq > 0)
        t5g_launch(t5gk_rope_kernel, dim3(T), dim3(T5GK_EW_THREADS), 0, s, x, ld, nheads, hd, Tq, pos0, inv_freq);
}
static inline void t5gk_to_bf16(cudaStream_t s, const float *src, int rows, int K, int ld, uint16_t *dst) {
    size_t n = (size_t)rows * K;
    if (n) t5g_launch(t5gk_to_bf16_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, src, rows, K, ld, dst);
}

static inline void t5gk_split3(cudaStream_t s, const float *src, int rows, int K, int ld, uint16_t *dst) {
    size_t n = (size_t)rows * K;
    if (n) t5g_launch(t5gk_split3_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, src, rows, K, ld, dst);
}
static inline void t5gk_combine3(cudaStream_t s, const float *P, int M, int N, int ldp, float *y, int ldy) {
    size_t n = (size_t)M * N;
    if (n) t5g_launch(t5gk_combine3_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, P, M, N, ldp, y, ldy);
}

/* inv_freq[i] = 1 / theta^(2i/hd) / factor in float32, exactly the CPU's expression (host
 * side; factor 1 is plain RoPE, > 1 HF's linear scaling). */
static inline void t5gk_inv_freq(float *out, int hd, float theta, float factor) {
    for (int i = 0; i < hd / 2; i++) out[i] = 1.0f / powf(theta, (float)(2 * i) / (float)hd) / factor;
}
#endif
