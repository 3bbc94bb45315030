/* linear_bf16.c - y = x·Wᵀ with bfloat16 weights as stored ([N, K] row-major).
 *
 * Each weight is widened to float32 in registers (zero-extend to 32 bits, shift left 16:
 * exact) and multiplied in float32 FMA, so the result is the float32 product of the same
 * widened weights - what HF computes when it runs a bf16 checkpoint in float32 - at half
 * the weight bytes.  (vdpbf16ps would also round the activations to bf16: a numerics
 * change, and bench/bench_lowp measures it no faster at decode, which is bound by weight
 * bytes, not FMAs.)
 *
 * Few rows (decode): the dot-product tile of linear_f32.c, MR activation rows x 4 weight
 * rows, K blocked so the activation block stays in L2; threads split N (the pool).
 * Many rows (prefill): panels of W widened to float32 (on the pool) and multiplied by BLIS in
 * pool chunks (t5g_cpu_sgemm), whose packed GEMM is fast there; the widening costs N·K, the product M·N·K. */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "backend/cpu/tile.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern int t5g_lowp_avx512;

#define NB 32 /* weight rows per claimed chunk */

typedef t5g_tile_job bf_job; /* w: bf16 rows */

/* ---- AVX-512: MR <= 6 rows x 4 weight rows (24 accumulators + 4 weights + 1 activation): the
 * float32 tile of tile.h, each weight widened in registers ---- */

T5G_TILE512 static void rows512(const bf_job *j, int n0, int n1) {
    t5g_rows512(j, n0, n1, 2);
}

/* ---- AVX2: MR <= 3 rows x 4 weight rows ---- */

static inline __m256 widen8(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

__attribute__((always_inline)) static inline void tile256(const bf_job *j, int m0, int mr, int n0, int nr) {
    __m256 acc[3][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm256_setzero_ps();
    const uint16_t *w[4];
    const float *a[3];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] =
        (const uint16_t *)t5g_tile_wrow(j, n0 + (n < nr ? n : 0), 2);
    _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) a[m] = j->x + (size_t)(m0 + (m < mr ? m : 0)) * j->ldx + j->k0;
    int kc = j->kc, k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 av[3];
        _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) av[m] = _mm256_loadu_ps(a[m] + k);
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) {
            __m256 wv = widen8(w[n] + k);
            _Pragma("GCC unroll 8") for (int m = 0; m < 3; m++) acc[m][n] = _mm256_fmadd_ps(av[m], wv, acc[m][n]);
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < mr; m++) {
        float *y = j->y + (size_t)(m0 + m) * j->ldy + n0;
        _Pragma("GCC unroll 8") for (int n = 0; n < nr; n++) {
            float v = t5g_hsum256(acc[m][n]);
            for (int kk = k; kk < kc; kk++) v += a[m][kk] * t5g_bf16_to_f32(w[n][kk]);
            y[n] = j->accumulate ? y[n] + v : v;
        }
    }
}

static void rows256(const bf_job *j, int n0, int n1) {
    for (int m = 0; m < j->M; m += 3) {
        int mr = j->M - m < 3 ? j->M - m : 3;
        for (int n = n0; n < n1; n += 4) {
            int nr = n1 - n < 4 ? n1 - n : 4;
            if (mr == 3) tile256(j, m, 3, n, nr);
            else if (mr == 2) tile256(j, m, 2, n, nr);
            else tile256(j, m, 1, n, nr);
        }
    }
}

/* AVX2 path: read the chunk's weights once in address order before the tiles: a tile walks 4 rows at
 * once, and short rows (1 KB at K = 512) give the hardware prefetcher too little to lock on
 * to; a sequential pass streams at full bandwidth and leaves the rows in L1/L2 (decode is
 * bound by these bytes).  One load per cache line. */
static void touch_rows(const bf_job *j, int n0, int n1) {
    __m256i acc = _mm256_setzero_si256();
    for (int n = n0; n < n1; n++) {
        const char *p = t5g_tile_wrow(j, n, 2);
        size_t bytes = 2 * (size_t)j->kc, b = 0;
        for (; b + 32 <= bytes; b += 64) acc = _mm256_or_si256(acc, _mm256_loadu_si256((const __m256i *)(p + b)));
    }
    __asm__ volatile("" : : "x"(acc)); /* keep the loads */
}

static void bf_chunk(void *ctx, int64_t c0, int64_t c1) {
    const bf_job *j = ctx;
    for (int64_t c = c0; c < c1; c++) {
        int n0 = (int)(c * NB), n1 = n0 + NB < j->N ? n0 + NB : j->N;
        if (t5g_lowp_avx512) {
            rows512(j, n0, n1); /* prefetches its own rows */
            continue;
        }
        if (j->M <= 8) touch_rows(j, n0, n1);
        rows256(j, n0, n1);
    }
}

static void linear_small(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    int N = W->rows, K = W->cols, kc = K;
    int64_t limit = 65536 / M; /* the M x kc activation block within ~256 KB of L2 */
    if (kc > limit) kc = (int)(limit < 256 ? 256 : limit / 16 * 16);
    bf_job j = {x, W->data, y, M, N, K, ldx, W->ld, ldy, 0, kc, 0};
    for (int k0 = 0; k0 < K; k0 += kc) {
        j.k0 = k0;
        j.kc = K - k0 < kc ? K - k0 : kc;
        j.accumulate = k0 > 0;
        t5g_pool_for((N + NB - 1) / NB, 1, bf_chunk, &j);
    }
}

/* ---- many rows: widened panels through BLIS ---- */

typedef struct {
    const uint16_t *w;
    float *out;
    int K, ldw;
} widen_job;

static void widen_rows(void *ctx, int64_t r0, int64_t r1) {
    const widen_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) {
        const uint16_t *s = j->w + (size_t)r * j->ldw;
        float *d = j->out + (size_t)r * j->K;
        int k = 0;
        for (; k + 8 <= j->K; k += 8) _mm256_storeu_ps(d + k, widen8(s + k));
        for (; k < j->K; k++) d[k] = t5g_bf16_to_f32(s[k]);
    }
}

#define PANEL_FLOATS (1 << 21) /* 8 MB of widened weights per BLIS call */

static _Thread_local void *g_panel; /* reused across calls, one per calling thread */
static _Thread_local size_t g_panel_n;

static void linear_panels(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    int N = W->rows, K = W->cols;
    int P = K > 0 ? PANEL_FLOATS / K : N;
    P = P < 16 ? 16 : P / 16 * 16;
    if (P > N) P = N;
    size_t need = (size_t)P * (size_t)K;
    float *panel = t5g_cpu_scratch(&g_panel, &g_panel_n, sizeof(float) * need);
    if (!panel) { /* no memory for a panel: the tile kernel needs none */
        linear_small(x, M, ldx, W, y, ldy);
        return;
    }
    for (int n0 = 0; n0 < N; n0 += P) {
        int pn = N - n0 < P ? N - n0 : P;
        widen_job wj = {(const uint16_t *)W->data + (size_t)n0 * W->ld, panel, K, W->ld};
        t5g_pool_for(pn, 4, widen_rows, &wj);
        t5g_cpu_sgemm(1, M, pn, K, 1.0f, x, ldx, panel, K, 0.0f, y + n0, ldy); /* BLIS on the pool's team */
    }
}

void t5g_cpu_linear_bf16(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    if (M <= 0 || W->rows <= 0) return;
    if (W->act_bf16) { /* bf16-act: another numerics, chosen at load (never by M) */
        t5g_cpu_linear_bf16dp(x, M, ldx, W, y, ldy);
        return;
    }
    if (t5g_lowp_avx512 < 0) t5g_cpu_lowp_isa(-1);
    if (W->cols <= 0) { /* empty sum */
        for (int m = 0; m < M; m++) memset(y + (size_t)m * ldy, 0, sizeof(float) * (size_t)W->rows);
        return;
    }
    if (t5g_cpu_linear_use_small(M, W->rows, W->cols)) linear_small(x, M, ldx, W, y, ldy);
    else linear_panels(x, M, ldx, W, y, ldy);
}
