/* gemm_f32.c - C = A·op(B) + beta·C for many rows (prefill), float32, AVX-512.
 *
 * Why not BLIS: on the Sapphire Rapids VM of docs/performance.md, BLIS 0.9's skx kernels (which
 * t5g_cpu_setup selects) ran the encoder shapes at 96-126 GFLOP/s per core of thread CPU time,
 * this code at 125-149 (bare AVX-512 FMAs: 212; BLIS's own detection even picks its AVX2 kernels
 * there, ~95).  This is the usual packed GEMM (Goto / BLIS loops):
 *   for each (KC x NC) block of op(B): pack it once, shared by the team (panels of NR columns,
 *   k-major), then for every micro-panel of MR rows of A (a pool task): pack it (k-major,
 *   28 KB at KC = 512, stays in L1) and run the MR x NR micro-kernel over every B panel of the
 *   block (the block, 1 MB, stays in L2).
 * Micro-kernel: 14 x 32 (28 zmm accumulators, 2 B vectors, 1 broadcast A value per row and k).
 * Summation order: every C element is one FMA chain over k per K block, the blocks added in order;
 * it depends on K alone, not on M, the row's position or the thread count.
 * CPUs without AVX-512 and alpha != 1 keep BLIS (linear_f32.c). */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>

#define T5G_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma,prfchw")))

enum { MR = 14, NR = 32, KC = 512, NC = 512, PF = 8 }; /* PF: B prefetch distance in k steps */

typedef struct {
    int tb, M, N, K, lda, ldb, ldc;
    const float *A, *B;
    float *C;
    float beta; /* for this K block: the caller's beta on the first, 1 after */
    int k0, kc; /* K block */
    int n0, nc; /* N block */
    int nsub;   /* tasks per micro-panel of A: the N block cut into nsub column ranges */
    float *Bp;  /* packed block: nc/NR panels of kc x NR */
} gemm_job;

/* r[i] = row i of a 16 x 16 block -> r[j] = column j (unpack, unpack, two 128-bit lane shuffles) */
T5G_AVX512 static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        t[c + 4] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        t[c + 8] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[c + 12] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0xdd);
        r[c + 4] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0xdd);
    }
}

/* dst[k * lds + i] = src[i * ld + k] for rows i < rows (<= 16; rows up to 16 are zeros) and
 * k < kc: 16 x 16 blocks transposed in registers.  Each store writes 16 floats; with lds < 16
 * it runs into the next k's place, which the next store rewrites (the buffer has 16 floats of
 * slack past its end). */
T5G_AVX512 static void pack_rows(const float *src, size_t ld, int rows, int kc, float *dst, int lds) {
    for (int k = 0; k < kc; k += 16) {
        int kn = kc - k < 16 ? kc - k : 16;
        __mmask16 mk = (__mmask16)((1u << kn) - 1);
        __m512 r[16];
        _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) r[i] =
            i < rows ? _mm512_maskz_loadu_ps(mk, src + (size_t)i * ld + k) : _mm512_setzero_ps();
        transpose16(r);
        for (int c = 0; c < kn; c++) _mm512_storeu_ps(dst + (size_t)(k + c) * lds, r[c]);
    }
}

/* One NR-column panel of op(B) for k in [k0, k0+kc): Bp[k][0..NR), zeros past N. */
T5G_AVX512 static void pack_b_panel(const gemm_job *j, int p) {
    float *dst = j->Bp + (size_t)p * j->kc * NR;
    int n0 = j->n0 + p * NR, nr = j->N - n0 < NR ? j->N - n0 : NR;
    if (j->tb) { /* B [N, K]: a transpose, 16 rows at a time */
        for (int h = 0; h < NR; h += 16) {
            int rows = nr - h < 0 ? 0 : nr - h > 16 ? 16 : nr - h;
            pack_rows(j->B + (size_t)(n0 + h) * j->ldb + j->k0, (size_t)j->ldb, rows, j->kc, dst + h, NR);
        }
        return;
    }
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    for (int k = 0; k < j->kc; k++) { /* B [K, N]: row segments */
        const float *src = j->B + (size_t)(j->k0 + k) * j->ldb + n0;
        _mm512_store_ps(dst + (size_t)k * NR, _mm512_maskz_loadu_ps(m0, src));
        _mm512_store_ps(dst + (size_t)k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
}

static void pack_b_task(void *ctx, int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) pack_b_panel(ctx, (int)p);
}

/* MR rows of A from row m0 (mr of them real, the rest zeros), k-major: Ap[k][0..MR). */
T5G_AVX512 static void pack_a(const gemm_job *j, int m0, int mr, float *Ap) {
    pack_rows(j->A + (size_t)m0 * j->lda + j->k0, (size_t)j->lda, mr, j->kc, Ap, MR);
}

/* C[0..mr)[cols of masks m0, m1] = beta·C + Σ_k Ap[k]ᵀ·Bp[k] (beta == 0 never reads C).  The C
 * tile's rows are 14 lines far apart that miss every cache on a large C: they are prefetched
 * for writing when the kernel starts and are there when the sums are. */
T5G_AVX512 static void kernel_14x32(int kc, const float *Ap, const float *Bp, float *C, int ldc, int mr, __mmask16 m0,
                                    __mmask16 m1, float beta) {
    __m512 c[MR][2];
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(C + (size_t)i * ldc), _MM_HINT_ET0);
        _mm_prefetch((const char *)(C + (size_t)i * ldc + 16), _MM_HINT_ET0);
    }
    _Pragma("GCC unroll 14") for (int i = 0; i < MR; i++) {
        c[i][0] = _mm512_setzero_ps();
        c[i][1] = _mm512_setzero_ps();
    }
    _Pragma("GCC unroll 2") for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
        _mm_prefetch((const char *)(Bp + PF * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(Bp + PF * NR + 16), _MM_HINT_T0);
        _Pragma("GCC unroll 14") for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(Ap[i]);
            c[i][0] = _mm512_fmadd_ps(a, b0, c[i][0]);
            c[i][1] = _mm512_fmadd_ps(a, b1, c[i][1]);
        }
        Ap += MR;
        Bp += NR;
    }
    __m512 bv = _mm512_set1_ps(beta);
    _Pragma("GCC unroll 14") for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *y = C + (size_t)i * ldc;
        if (beta != 0.0f) {
            __m512 o0 = _mm512_maskz_loadu_ps(m0, y), o1 = _mm512_maskz_loadu_ps(m1, y + 16);
            if (beta != 1.0f) {
                o0 = _mm512_mul_ps(o0, bv);
                o1 = _mm512_mul_ps(o1, bv);
            }
            c[i][0] = _mm512_add_ps(o0, c[i][0]);
            c[i][1] = _mm512_add_ps(o1, c[i][1]);
        }
        _mm512_mask_storeu_ps(y, m0, c[i][0]);
        _mm512_mask_storeu_ps(y + 16, m1, c[i][1]);
    }
}

/* Task t: micro-panel t / nsub of A against column range t % nsub of the packed block. */
T5G_AVX512 static void compute_task(void *ctx, int64_t t0, int64_t t1) {
    const gemm_job *j = ctx;
    float Ap[KC * MR + 16] __attribute__((aligned(64))); /* 28 KB: stays in L1 */
    int panels = (j->nc + NR - 1) / NR, last = -1;
    for (int64_t t = t0; t < t1; t++) {
        int ip = (int)(t / j->nsub), s = (int)(t % j->nsub);
        int m0 = ip * MR, mr = j->M - m0 < MR ? j->M - m0 : MR;
        if (ip != last) pack_a(j, m0, mr, Ap);
        last = ip;
        int p0 = (int)((int64_t)panels * s / j->nsub), p1 = (int)((int64_t)panels * (s + 1) / j->nsub);
        for (int p = p0; p < p1; p++) {
            int n = j->n0 + p * NR, nr = j->N - n;
            __mmask16 k0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
            __mmask16 k1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
            kernel_14x32(j->kc, Ap, j->Bp + (size_t)p * j->kc * NR, j->C + (size_t)m0 * j->ldc + n, j->ldc, mr, k0, k1,
                         j->beta);
        }
    }
}

/* The packed block of the calling thread (workers read it through the job). */
static float *block_buffer(void) {
    static _Thread_local float *buf;
    if (!buf && posix_memalign((void **)&buf, 64, sizeof(float) * ((size_t)KC * NC + 16))) buf = NULL;
    return buf;
}

static int gemm_off; /* tests: t5g_gemm_f32_enable(0) takes the BLIS / AVX2 paths */

void t5g_gemm_f32_enable(int on) {
    gemm_off = !on;
}

int t5g_gemm_f32_native(void) {
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    }
    return have && !gemm_off;
}

/* on the pool, or all on the calling thread */
static void run(int parallel, int64_t n, t5g_pool_fn fn, void *ctx) {
    if (parallel) t5g_pool_for(n, 1, fn, ctx);
    else fn(ctx, 0, n);
}

int t5g_gemm_f32(int parallel, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc) {
    if (!t5g_gemm_f32_native()) return -1;
    float *Bp = block_buffer();
    if (!Bp) return -1;
    if (M <= 0 || N <= 0) return 0;
    gemm_job j = {tb, M, N, K, lda, ldb, ldc, A, B, C, beta, 0, 0, 0, 0, 1, Bp};
    int T = parallel ? t5g_pool_threads() : 1, mp = (M + MR - 1) / MR;
    if (K <= 0) { /* no products: C = beta·C */
        for (int i = 0; i < M; i++)
            for (int n = 0; n < N; n++) C[(size_t)i * ldc + n] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + n];
        return 0;
    }
    for (int n0 = 0; n0 < N; n0 += NC) {
        j.n0 = n0;
        j.nc = N - n0 < NC ? N - n0 : NC;
        int panels = (j.nc + NR - 1) / NR;
        /* few micro-panels of A: cut the block's columns too, so every thread has work */
        j.nsub = 1;
        while (T > 1 && mp * j.nsub < 8 * T && j.nsub * 2 <= panels) j.nsub *= 2;
        for (int k0 = 0; k0 < K; k0 += KC) {
            j.k0 = k0;
            j.kc = K - k0 < KC ? K - k0 : KC;
            j.beta = k0 == 0 ? beta : 1.0f;
            run(parallel, panels, pack_b_task, &j);
            run(parallel, (int64_t)mp * j.nsub, compute_task, &j);
        }
    }
    return 0;
}
