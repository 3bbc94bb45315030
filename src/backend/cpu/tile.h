/* tile.h - what the dot-product tile kernels (linear_f32.c, linear_bf16.c, linear_bf16dp.c,
 * linear_int8.c) share: the m-tile loop with a compile-time tile height, the reduction of a
 * tile row's four accumulators, and the AVX-512 tile of the float32 and bf16 weights. */
#ifndef T5G_CPU_TILE_H
#define T5G_CPU_TILE_H
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* [Σa, Σb, Σc, Σd] in one vector (11 instructions instead of four separate 16-lane reductions; the
 * tile's reductions were ~17% of an LM-head call).  The same additions in the same order for
 * every kernel and every row: a result depends on K alone. */
__attribute__((target("avx512f"), always_inline)) static inline __m128 t5g_hsum4_512(__m512 a, __m512 b, __m512 c,
                                                                                     __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b)); /* per 128: a, b, a, b */
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
    __m256 h =
        _mm256_add_ps(_mm512_castps512_ps256(s), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* the sum of the 8 lanes (the AVX2 tiles), in one fixed order */
static inline float t5g_hsum256(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* Runs CALL for each m-tile of activation rows [M0, M1) with m_ its first row and mr_ its height,
 * min(6, rows left), a constant in each case: the always-inline tile keeps its 6 x 4
 * accumulators in registers only when the height is known at compile time. */
#define T5G_MTILE_CASE(R, CALL)                                                                                        \
    case R: {                                                                                                          \
        const int mr_ = R;                                                                                             \
        CALL;                                                                                                          \
    } break;
#define T5G_FOR_MTILES6(M0, M1, CALL)                                                                                  \
    for (int m_ = (M0); m_ < (M1); m_ += 6) {                                                                          \
        switch ((M1)-m_ < 6 ? (M1)-m_ : 6) {                                                                           \
            T5G_MTILE_CASE(6, CALL)                                                                                    \
            T5G_MTILE_CASE(5, CALL)                                                                                    \
            T5G_MTILE_CASE(4, CALL)                                                                                    \
            T5G_MTILE_CASE(3, CALL)                                                                                    \
            T5G_MTILE_CASE(2, CALL)                                                                                    \
            default: {                                                                                                 \
                const int mr_ = 1;                                                                                     \
                CALL;                                                                                                  \
            } break;                                                                                                   \
        }                                                                                                              \
    }

/* One product y = x·Wᵀ over the K block [k0, k0+kc) (accumulate: add to y instead of storing),
 * W's rows of float32 or bf16 elements. */
typedef struct {
    const float *x;
    const void *w;
    float *y;
    int M, N, K, ldx, ldw, ldy;
    int k0, kc, accumulate;
} t5g_tile_job;

/* Weight row n of the job's K block as bytes (esize: 4 float32, 2 bf16). */
static inline const char *t5g_tile_wrow(const t5g_tile_job *j, int n, int esize) {
    return (const char *)j->w + ((size_t)n * j->ldw + j->k0) * esize;
}

/* Software prefetch of the weight rows T5G_PF_QUADS quads ahead into L2, issued by the first
 * m-tile of each quad (one line per row per 64 bytes of K).  The hardware prefetcher alone left
 * the tile waiting on memory: thread CPU time of the 256000 x 512 float32 LM head went 6.2 -> 10.4
 * GFLOP/s at M = 1, 33 -> 69 at M = 8, 68 -> 89 at M = 32, 93 -> 101 at M = 128 (T0 hint: half
 * the gain); short bf16 rows walked four at a time leave it behind as well. */
#define T5G_PF_QUADS 2

static inline const char *t5g_tile_prefetch_rows(const t5g_tile_job *j, int n, int esize) {
    int ahead = n + 4 * T5G_PF_QUADS;
    return ahead + 4 <= j->N ? t5g_tile_wrow(j, ahead, esize) : NULL;
}

#define T5G_TILE512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

/* 16 weights of a row from element k as float32: float32 rows load them, bf16 rows widen them
 * (zero-extend, shift left 16: exact); masked: only the lanes of mk, the rest 0. */
T5G_TILE512 __attribute__((always_inline)) static inline __m512 t5g_tile_w16(const char *row, int k, int esize,
                                                                             int masked, __mmask16 mk) {
    if (esize == 4) {
        const float *p = (const float *)row + k;
        return masked ? _mm512_maskz_loadu_ps(mk, p) : _mm512_loadu_ps(p);
    }
    const uint16_t *p = (const uint16_t *)row + k;
    __m256i h = masked ? _mm256_maskz_loadu_epi16(mk, p) : _mm256_loadu_si256((const __m256i *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* acc[m][n] += x[m][k..k+16)·w[n][k..k+16) for the tile's mr rows (masked: the lanes of mk) */
T5G_TILE512 __attribute__((always_inline)) static inline void t5g_tile512_step(__m512 acc[6][4], const float *a[6],
                                                                               const char *w[4], int k, int mr,
                                                                               int esize, int masked, __mmask16 mk) {
    __m512 wv[4];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) wv[n] = t5g_tile_w16(w[n], k, esize, masked, mk);
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) {
        if (m >= mr) break;
        __m512 av = masked ? _mm512_maskz_loadu_ps(mk, a[m] + k) : _mm512_loadu_ps(a[m] + k);
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] = _mm512_fmadd_ps(av, wv[n], acc[m][n]);
    }
}

/* The AVX-512 dot-product tile: mr (<= 6, a compile-time constant at each call) activation rows
 * x nr (<= 4) weight rows from m0, n0, one 16-lane accumulator per pair along K.  esize is a
 * constant at each call too, so float32 and bf16 weights each get their own specialized copy;
 * both sum the same float32 products in the same order. */
T5G_TILE512 __attribute__((always_inline)) static inline void t5g_tile512(const t5g_tile_job *j, int m0, int mr, int n0,
                                                                          int nr, const char *pf, int esize) {
    __m512 acc[6][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm512_setzero_ps();
    const char *w[4];
    const float *a[6];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] = t5g_tile_wrow(j, n0 + (n < nr ? n : 0), esize);
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) a[m] = j->x + (size_t)(m0 + (m < mr ? m : 0)) * j->ldx + j->k0;
    const int line = 64 / esize; /* elements per cache line: one prefetch per line of each row */
    int kc = j->kc, k = 0;
    for (; k + 16 <= kc; k += 16) {
        if (pf && !(k & (line - 1)))
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++)
                _mm_prefetch(pf + ((size_t)n * j->ldw + k) * esize, _MM_HINT_T1);
        t5g_tile512_step(acc, a, w, k, mr, esize, 0, 0);
    }
    if (k < kc) t5g_tile512_step(acc, a, w, k, mr, esize, 1, (__mmask16)((1u << (kc - k)) - 1));
    __mmask8 mn = (__mmask8)((1u << nr) - 1);
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) {
        if (m >= mr) break;
        float *y = j->y + (size_t)(m0 + m) * j->ldy + n0;
        __m128 v = t5g_hsum4_512(acc[m][0], acc[m][1], acc[m][2], acc[m][3]);
        if (j->accumulate) v = _mm_add_ps(v, _mm_maskz_loadu_ps(mn, y));
        _mm_mask_storeu_ps(y, mn, v);
    }
}

/* Weight rows [n0, n1) of the job: the weight quad loop outside, m-tiles inside.  The quad's 4
 * rows (8 KB of float32 at K = 512) come from memory once and stay in L1 while every m-tile of
 * activations (in L2) passes them.  (m-tiles outside, streaming the chunk's weight rows from L2
 * for each, measured 2.4-3.2x slower at M = 32-128 on Zen 4.) */
T5G_TILE512 __attribute__((always_inline)) static inline void t5g_rows512(const t5g_tile_job *j, int n0, int n1,
                                                                          int esize) {
    for (int n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? n1 - n : 4;
        const char *pf = t5g_tile_prefetch_rows(j, n, esize);
        T5G_FOR_MTILES6(0, j->M, t5g_tile512(j, m_, mr_, n, nr, m_ == 0 ? pf : NULL, esize));
    }
}
#endif
