/* kcommon.cuh - what every CUDA kernel header of the backend shares: the launch helper,
 * warp/block reductions, bf16 rounding.  The kernel headers (kelem, kattn, kselect) hold
 * device code plus small host launchers that take a stream; they are included by
 * backend_cuda.cu and, with T5G_CUDA_EMU defined, by tests/gpu/test_cuda_emu.cc, which
 * runs the same kernel source on the host (tests/gpu/cuda_emu.h) so that the kernels'
 * logic is checked on machines without a GPU. */
#ifndef T5G_KCOMMON_CUH
#define T5G_KCOMMON_CUH
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>

#ifndef T5G_CUDA_EMU
#include <cuda_runtime.h>
/* Launch kernel k on stream s (function-pointer launch keeps template kernels out of macros). */
template <typename... KA, typename... A>
static inline void t5g_launch(void (*k)(KA...), dim3 grid, dim3 block, size_t smem, cudaStream_t s, A... args) {
    k<<<grid, block, smem, s>>>(args...);
}
/* Allow more than 48 KB of dynamic shared memory for kernel k on the current device. */
template <typename... KA> static inline void t5g_allow_smem(void (*k)(KA...), size_t bytes) {
    if (bytes > 48 * 1024)
        cudaFuncSetAttribute((const void *)k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
}
/* bit of the current device in a 64-bit "done on this device" mask */
static inline unsigned long long t5g_device_bit(void) {
    int d = 0;
    cudaGetDevice(&d);
    return 1ull << (d & 63);
}
#define T5G_DYN_SMEM(name) extern __shared__ float name[]
#endif

#define T5GK_WARP 32

struct t5gk_sum {
    template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct t5gk_max {
    __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

/* Butterfly reduction inside one warp: every lane ends with the result. */
template <typename T, typename Op> __device__ __forceinline__ T t5gk_warp_reduce(T v, Op op) {
    for (int o = T5GK_WARP / 2; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Reduction over the whole block (blockDim.x a multiple of 32, every thread calls it);
 * every thread gets the result.  Warp results are combined in a fixed order, so the
 * result does not depend on scheduling. */
template <typename T, typename Op> __device__ __forceinline__ T t5gk_block_reduce(T v, Op op) {
    __shared__ T red[32];
    int lane = threadIdx.x & (T5GK_WARP - 1), w = threadIdx.x / T5GK_WARP, nw = blockDim.x / T5GK_WARP;
    v = t5gk_warp_reduce(v, op);
    __syncthreads(); /* a previous call's readers are done with red */
    if (lane == 0) red[w] = v;
    __syncthreads();
    T r = red[0];
    for (int i = 1; i < nw; i++) r = op(r, red[i]);
    return r;
}

/* float -> bf16 bits, round to nearest even, NaN stays NaN (same rule as io/ckpt.h). */
__host__ __device__ __forceinline__ uint16_t t5gk_f32_to_bf16(float f) {
    union {
        float f;
        uint32_t u;
    } v;
    v.f = f;
    if ((v.u & 0x7f800000u) == 0x7f800000u && (v.u & 0x7fffffu)) return (uint16_t)((v.u >> 16) | 0x40);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

/* bf16 bits -> float (exact) */
__host__ __device__ __forceinline__ float t5gk_bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v;
    v.u = (uint32_t)h << 16;
    return v.f;
}

static inline unsigned t5gk_blocks(size_t n, unsigned threads, unsigned cap) {
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b > cap ? cap : b);
}
#endif
