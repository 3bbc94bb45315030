/* tile.h - what the dot-product tile kernels (linear_f32.c, linear_bf16.c, linear_bf16dp.c,
 * linear_int8.c) share: the m-tile loop with a compile-time tile height, and the reduction of a
 * tile row's four accumulators. */
#ifndef T5G_CPU_TILE_H
#define T5G_CPU_TILE_H
#include <immintrin.h>

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
#endif
