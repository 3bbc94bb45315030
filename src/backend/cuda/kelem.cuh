/* kelem.cuh - element-wise and row-wise kernels of the CUDA backend: add, soft-cap, GeGLU,
 * embedding, RMSNorm(1+w), RoPE, f32 -> bf16.  Each mirrors the CPU loop in
 * backend/cpu/ops_cpu.c operation by operation (spec §3); the only differences are the
 * device libm (tanhf/sinf/cosf within 2 ulp) and FMA contraction. */
#ifndef T5G_KELEM_CUH
#define T5G_KELEM_CUH
#include "backend/cuda/kcommon.cuh"

#define T5GK_EW_THREADS 256
#define T5GK_EW_MAX_BLOCKS 65535u

__global__ void t5gk_add_kernel(float *y, const float *x, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) y[i] += x[i];
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

/* one block per token: the row of E (or zeros when the id is not in this rank's slice) */
__global__ void t5gk_embed_kernel(const float *E, int v0, int Vl, int H, const int32_t *ids, float scale, float *out) {
    int t = blockIdx.x;
    int id = ids[t] - v0;
    float *o = out + (size_t)t * H;
    if (id < 0 || id >= Vl) {
        for (int i = threadIdx.x; i < H; i += blockDim.x) o[i] = 0.0f;
        return;
    }
    const float *e = E + (size_t)id * H;
    for (int i = threadIdx.x; i < H; i += blockDim.x) o[i] = e[i] * scale;
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

/* ---- host launchers ---- */

static inline unsigned t5gk_ew_grid(size_t n) { return t5gk_blocks(n, T5GK_EW_THREADS, T5GK_EW_MAX_BLOCKS); }

static inline void t5gk_add(cudaStream_t s, float *y, const float *x, size_t n) {
    if (n) t5g_launch(t5gk_add_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, y, x, n);
}
static inline void t5gk_softcap(cudaStream_t s, float *x, size_t n, float cap) {
    if (n) t5g_launch(t5gk_softcap_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, x, n, cap);
}
static inline void t5gk_gelu_mul(cudaStream_t s, const float *gate, const float *up, float *out, size_t n) {
    if (n) t5g_launch(t5gk_gelu_mul_kernel, dim3(t5gk_ew_grid(n)), dim3(T5GK_EW_THREADS), 0, s, gate, up, out, n);
}
static inline void t5gk_embed(cudaStream_t s, const float *E, int v0, int Vl, int H, const int32_t *ids, int T,
                              float scale, float *out) {
    if (T > 0 && H > 0) t5g_launch(t5gk_embed_kernel, dim3(T), dim3(T5GK_EW_THREADS), 0, s, E, v0, Vl, H, ids, scale, out);
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

/* inv_freq[i] = 1 / theta^(2i/hd) in float32, exactly the CPU's expression (host side). */
static inline void t5gk_inv_freq(float *out, int hd, float theta) {
    for (int i = 0; i < hd / 2; i++) out[i] = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
}
#endif
