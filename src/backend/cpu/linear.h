/* linear.h - the CPU backend's y = x·Wᵀ kernels, one per weight dtype (see backend.h
 * `linear`).  x [M, W.cols] (row stride ldx), y [M, W.rows] (row stride ldy), float32
 * activations and accumulation.  ops_cpu.c dispatches on W->dtype. */
#ifndef T5G_CPU_LINEAR_H
#define T5G_CPU_LINEAR_H
#include "backend/backend.h"

/* Which products go through the dot-product-tile kernel (linear_f32.c) instead of BLIS:
 * few rows, or up to 128 rows of a large matrix (where BLIS's per-call packing of W costs
 * more than it saves; measured with bench/bench_linear). */
static inline int t5g_cpu_linear_use_small(int M, int N, int K) {
    return M <= 64 || (M <= 128 && (int64_t)N * K >= (1 << 22));
}
/* float32: the tile kernel up to 256 rows.  Thread CPU time on Zen 4, tile vs single-threaded
 * BLIS, GFLOP/s: q_proj 512x512 at M = 128: 109 vs 96, M = 256: 100 vs 96, M = 512: 96 vs 108;
 * down_proj 512x1024 at M = 256: 75 vs 51, M = 512: 72 vs 105; LM head 256000x512 at M = 128:
 * 101 vs 86.  (t5g_cpu_linear_use_small above is the bf16 kernels' rule.) */
static inline int t5g_cpu_f32_use_tile(int M) {
    return M <= 256;
}
/* Tests: 0 = use the AVX2 kernel (and BLIS for many rows), 1 = the best this CPU has; returns 1 if
 * AVX-512 is in use. */
int t5g_cpu_linear_isa(int want);
/* the small-M float32 kernel on raw pointers (W [N, K], row stride ldw) */
void t5g_cpu_linear_small(const float *x, int M, int ldx, const float *w, int N, int K, int ldw, float *y, int ldy);
/* C[M,N] = alpha·A·op(B) + beta·C through BLIS (op(B) = Bᵀ, B [N,K], if tb): _serial on the
 * calling thread; t5g_cpu_sgemm cut into chunks on the pool (one thread team, see linear_f32.c) */
void t5g_cpu_sgemm_serial(int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc);
void t5g_cpu_sgemm(int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc);
/* gemm_f32.c: the AVX-512 packed GEMM for many rows, C = A·op(B) + beta·C, on the pool (parallel)
 * or the calling thread; -1 (nothing done) where this CPU has no AVX-512 */
int t5g_gemm_f32(int parallel, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);
int t5g_gemm_f32_native(void);    /* 1 if t5g_gemm_f32 runs here */
void t5g_gemm_f32_enable(int on); /* tests: 0 = never (BLIS and the AVX2 softmax instead) */
void t5g_cpu_linear_f32(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy);
void t5g_cpu_linear_bf16(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy);
/* bf16 weights and activations rounded to bf16, vdpbf16ps (linear_bf16dp.c; W->act_bf16: bf16-act).
 * Needs AVX512-BF16 (t5g_cpu_bf16act_check). */
void t5g_cpu_linear_bf16dp(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy);
/* bf16-act uses AMX-BF16 tiles where the CPU and the OS allow it (same operands, another sum
 * order than vdpbf16ps, fixed per process).  want: 0 = vdpbf16ps (tests), 1 = AMX if usable, -1 =
 * keep; returns 1 if AMX is in use. */
int t5g_cpu_bf16act_amx(int want);
/* AMX (linear_lowp.c): T5G_AMX_* bits usable in this process (CPU bits and the tile state granted
 * by Linux, asked for once); t5g_amx_config loads the one tile layout the kernels use (tiles 0-7,
 * 16 rows x 64 bytes) on the calling thread; t5g_amx_pack turns M rows of kq 4-byte groups (row
 * stride kq) into B operands: [ceil(M/16)][kq][16], zero past M. */
enum { T5G_AMX_BF16 = 1, T5G_AMX_INT8 = 2 };
int t5g_cpu_amx(void);
void t5g_amx_config(void);
void t5g_amx_pack(const void *x, int M, int kq, uint32_t *xp, int nmb);
/* the AMX tile loop of the bf16-act and int8 products (linear_amx.c): y = W·xpᵀ over the bytes
 * [k0, k0 + kc) of each weight row (multiples of 64), bf16: tdpbf16ps, y = the float sums;
 * int8: tdpbssd, y (+)= (float)sum · (xs[m]·ws[n]) */
typedef struct {
    const uint32_t *xp; /* activations packed by t5g_amx_pack: [nmb][kq][16] */
    const uint8_t *w;   /* weight rows as stored */
    size_t ldw;         /* weight row stride, bytes */
    int N, kb, kq;      /* weight rows; bytes of a row; 4-byte groups of a packed activation row */
    int M, nmb, mbb;    /* activation rows; their 16-row blocks; blocks per pass (even, within L2) */
    int k0, kc;         /* this pass's K bytes */
    int bf16;
    const float *xs, *ws; /* int8: the activation and weight scales (NULL for bf16) */
    int accumulate;       /* int8: add to y (K blocks after the first) */
    float *y;
    int ldy;
} t5g_amx_job;
void t5g_amx_run(const t5g_amx_job *j);
/* int8 products on AMX-INT8 tiles (linear_int8_amx.c): the same int32 dot products as the VNNI
 * kernel, so the same y bit for bit.  want: 0 = VNNI / AVX2 (tests), 1 = AMX if usable, -1 = keep. */
int t5g_cpu_int8_amx(int want);
/* y = the int8 product of quantized activations xq [M, Kp] (signed, zero-padded to Kp, a multiple
 * of 64) with scales xs, in K blocks of kc; xp: scratch of ceil(M/16)·16·Kp bytes */
void t5g_cpu_int8_amx_run(const int8_t *xq, const float *xs, int M, int Kp, const t5g_wmat *W, float *y, int ldy,
                          int kc, uint32_t *xp);
void t5g_cpu_linear_int8(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy);
/* the same with the activation rows quantized by the given absolute maxima (backend.h linear_amax) */
void t5g_cpu_linear_int8_amax(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy, const float *amax);

/* bf16 / int8 kernels (linear_bf16.c, linear_int8.c; feature check in linear_lowp.c).
 * bf16: weights widened to float32 in registers, float32 FMA (exact w.r.t. a bf16 model run in
 * float32).  int8: activations quantized per row on the fly (symmetric, amax/127), int32
 * dot products, y = acc · s_x · s_w.  Int8 weights must lie in [-127, 127]. */
enum { T5G_LOWP_AVX512 = 1, T5G_LOWP_VNNI = 2 };
/* Tests: 0 = the AVX2 kernels, 1 = the best this CPU has; returns the T5G_LOWP_* in use. */
int t5g_cpu_lowp_isa(int want);
/* 0 if this CPU has a kernel for dtype, else -1 + one error line naming the type. */
int t5g_cpu_dtype_check(t5g_dtype dt);
/* 0 if this CPU has AVX512-BF16 (the bf16-act kernel), else -1 + one error line. */
int t5g_cpu_bf16act_check(void);
/* which kernel dtype runs on (for logs and benchmarks) */
const char *t5g_cpu_dtype_kernel(t5g_dtype dt);

/* one weight row widened to float32 (embedding lookups of bf16 / int8 tables) */
void t5g_cpu_wrow_f32(const t5g_wmat *W, int row, float *out);

/* bfloat16 <-> float32 (round to nearest even, NaN kept quiet) */
static inline float t5g_bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)h << 16};
    return v.f;
}
static inline uint16_t t5g_f32_to_bf16(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1)) >> 16);
}
/* A per-thread scratch buffer of at least `bytes` for an op, kept and grown between calls (decode
 * calls the ops thousands of times): *buf / *cap are the caller's _Thread_local pair; NULL when
 * out of memory (linear_lowp.c). */
void *t5g_cpu_scratch(void **buf, size_t *cap, size_t bytes);
/* What an op does without its scratch: one error line naming `what`, and y (M x N) all NaN - an
 * op cannot report a failure, and NaN is never a plausible wrong number. */
void t5g_cpu_op_oom(float *y, int M, int N, int ldy, const char *what, int K);
#endif
