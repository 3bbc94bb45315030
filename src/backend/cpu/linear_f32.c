/* linear_f32.c - y = x·Wᵀ with float32 weights as stored ([N, K] row-major).
 *
 * Decode (M <= T5G_LINEAR_SMALL_M rows) never goes through BLIS: BLIS packs (copies) all of
 * W on every call, which for the 256000-row LM head costs more than the product.  Here the
 * product is a tile of MR activation rows x 4 weight rows with one vector accumulator per
 * (row, weight row) along K ("dot-product tile"): each weight element is read from memory
 * once per call and reused from L1 for every activation row, activations stay in L2, and
 * from M ~ 16 the tile is bound by FMAs, not bytes.  K is cut into blocks so that the
 * activation block fits L2 for any M.  Threads split N (the pool, pool.h).
 * Larger M (prefill) uses the packed AVX-512 GEMM of gemm_f32.c, or on CPUs without AVX-512
 * BLIS, single-threaded in pool chunks. */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "backend/cpu/tile.h"
#include <blis.h>
#include <immintrin.h>
#include <stdint.h>

#define NB 32 /* weight rows per claimed chunk (8 quads): ~32 KB of a 256-wide K block */

typedef t5g_tile_job lin_job; /* w: float32 rows */

/* ---- AVX-512: 16 lanes, MR x 4 tile, MR <= 6 (24 accumulators + 4 weights + 1 activation): tile.h ---- */

T5G_TILE512 static void rows512(const lin_job *j, int n0, int n1) {
    t5g_rows512(j, n0, n1, 4);
}

/* ---- AVX2: 8 lanes, MR x 4 tile, MR <= 3 (12 accumulators + 3 activations + 1 weight) ---- */

__attribute__((always_inline)) static inline void tile256(const lin_job *j, int m0, int mr, int n0, int nr,
                                                          const float *pf) {
    __m256 acc[3][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm256_setzero_ps();
    const float *w[4], *a[3];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] =
        (const float *)t5g_tile_wrow(j, n0 + (n < nr ? n : 0), 4);
    _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) a[m] = j->x + (size_t)(m0 + (m < mr ? m : 0)) * j->ldx + j->k0;
    int kc = j->kc, k = 0;
    for (; k + 8 <= kc; k += 8) {
        if (pf && k % 16 == 0) {
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++)
                _mm_prefetch((const char *)(pf + (size_t)n * j->ldw + k), _MM_HINT_T1);
        }
        __m256 av[3];
        _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) av[m] = _mm256_loadu_ps(a[m] + k);
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) {
            __m256 wv = _mm256_loadu_ps(w[n] + k);
            _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) acc[m][n] = _mm256_fmadd_ps(av[m], wv, acc[m][n]);
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < mr; m++) {
        float *y = j->y + (size_t)(m0 + m) * j->ldy + n0;
        _Pragma("GCC unroll 8") for (int n = 0; n < nr; n++) {
            float v = t5g_hsum256(acc[m][n]);
            for (int kk = k; kk < kc; kk++) v += a[m][kk] * w[n][kk];
            y[n] = j->accumulate ? y[n] + v : v;
        }
    }
}

static void rows256(const lin_job *j, int n0, int n1) {
    for (int n = n0; n < n1; n += 4) { /* weight quad outside, as rows512 */
        int nr = n1 - n < 4 ? n1 - n : 4;
        for (int m = 0; m < j->M; m += 3) {
            int mr = j->M - m < 3 ? j->M - m : 3;
            const float *p = m == 0 ? (const float *)t5g_tile_prefetch_rows(j, n, 4) : NULL;
            if (mr == 3) tile256(j, m, 3, n, nr, p);
            else if (mr == 2) tile256(j, m, 2, n, nr, p);
            else tile256(j, m, 1, n, nr, p);
        }
    }
}

static int have_avx512 = -1;

static void detect(void) {
    if (have_avx512 >= 0) return;
    __builtin_cpu_init();
    have_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

int t5g_cpu_linear_isa(int want) {
    detect();
    static int native = -1;
    if (native < 0) native = have_avx512;
    if (want == 0) have_avx512 = 0;
    else if (want == 1) have_avx512 = native;
    if (want == 0 || want == 1) t5g_gemm_f32_enable(want);
    return have_avx512;
}

static void lin_chunk(void *ctx, int64_t c0, int64_t c1) {
    const lin_job *j = ctx;
    int n0 = (int)(c0 * NB), n1 = (int)(c1 * NB);
    if (n1 > j->N) n1 = j->N;
    if (have_avx512) rows512(j, n0, n1);
    else rows256(j, n0, n1);
}

void t5g_cpu_linear_small(const float *x, int M, int ldx, const float *w, int N, int K, int ldw, float *y, int ldy) {
    detect();
    /* K block: the M x kc activation block stays within ~256 KB of L2 */
    int kc = K;
    int64_t limit = 65536 / (M > 0 ? M : 1);
    if (kc > limit) kc = (int)(limit < 256 ? 256 : limit / 16 * 16);
    lin_job j = {x, w, y, M, N, K, ldx, ldw, ldy, 0, kc, 0};
    for (int k0 = 0; k0 < K; k0 += kc) {
        j.k0 = k0;
        j.kc = K - k0 < kc ? K - k0 : kc;
        j.accumulate = k0 > 0;
        t5g_pool_for((N + NB - 1) / NB, 1, lin_chunk, &j);
    }
}

/* ---- many rows: gemm_f32.c; without AVX-512 BLIS, one single-threaded call per pool chunk ----
 * BLIS's own threads are an OpenMP team that spins at its barriers; next to the pool's
 * workers that made two teams fight for the cores (beam search at 128 rows ran at half
 * speed) and one descheduled thread stalled every call.  So BLIS runs single-threaded
 * inside pool chunks: one team, chunks claimed dynamically. */

void t5g_cpu_sgemm_serial(int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (alpha == 1.0f && t5g_gemm_f32(0, tb, M, N, K, A, lda, B, ldb, beta, C, ldc) == 0) return;
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    /* BLIS takes general strides: row-major A[M,K] is (rs=lda, cs=1). */
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &alpha, (float *)A, lda, 1,
                 (float *)B, ldb, 1, &beta, C, ldc, 1, NULL, &rntm);
}

typedef struct {
    int tb, M, N, K, ldA, ldB, ldC, split_m, chunk;
    float alpha, beta;
    const float *A, *B;
    float *C;
} gemm_job;

static void gemm_chunk(void *ctx, int64_t c0, int64_t c1) {
    const gemm_job *j = ctx;
    int lim = j->split_m ? j->M : j->N;
    int i0 = (int)(c0 * j->chunk), i1 = (int)(c1 * j->chunk);
    if (i1 > lim) i1 = lim;
    if (j->split_m) { /* rows of A and C; each chunk packs all of B (cheap next to its FLOPs) */
        t5g_cpu_sgemm_serial(j->tb, i1 - i0, j->N, j->K, j->alpha, j->A + (size_t)i0 * j->ldA, j->ldA, j->B, j->ldB,
                             j->beta, j->C + (size_t)i0 * j->ldC, j->ldC);
        return;
    }
    const float *B = j->tb ? j->B + (size_t)i0 * j->ldB : j->B + i0; /* columns of op(B) and C */
    t5g_cpu_sgemm_serial(j->tb, j->M, i1 - i0, j->K, j->alpha, j->A, j->ldA, B, j->ldB, j->beta, j->C + i0, j->ldC);
}

void t5g_cpu_sgemm(int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (alpha == 1.0f && t5g_gemm_f32(1, tb, M, N, K, A, lda, B, ldb, beta, C, ldc) == 0) return;
    int T = t5g_pool_threads();
    gemm_job j = {tb, M, N, K, lda, ldb, ldc, 0, 0, alpha, beta, A, B, C};
    /* ~4 chunks per thread so a late or slow thread leaves less behind; no chunk below
     * 96 rows or 128 columns, where BLIS's packing stops paying for itself */
    int mc = (M + 4 * T - 1) / (4 * T);
    mc = mc < 96 ? 96 : (mc + 15) / 16 * 16;
    int nc = (N + 4 * T - 1) / (4 * T);
    nc = nc < 128 ? 128 : (nc + 63) / 64 * 64;
    if (T > 1 && M >= 2 * mc && M >= N) {
        j.split_m = 1;
        j.chunk = mc;
    } else if (T > 1 && N >= 2 * nc) {
        j.chunk = nc;
    } else if (T > 1 && M >= 2 * mc) {
        j.split_m = 1;
        j.chunk = mc;
    } else {
        t5g_cpu_sgemm_serial(tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int lim = j.split_m ? M : N;
    t5g_pool_for((lim + j.chunk - 1) / j.chunk, 1, gemm_chunk, &j);
}

void t5g_cpu_linear_f32(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    if (M <= 0 || W->rows <= 0) return;
    if (t5g_cpu_f32_use_tile(M)) {
        t5g_cpu_linear_small(x, M, ldx, W->data, W->rows, W->cols, W->ld, y, ldy);
        return;
    }
    t5g_cpu_sgemm(1, M, W->rows, W->cols, 1.0f, x, ldx, W->data, W->ld, 0.0f, y, ldy);
}
