/* linear_int8.c - y = x·Wᵀ with int8 weights, one float32 scale per weight row
 * (w[n][k] = s_w[n]·q[n][k], symmetric, q in [-127, 127]), as CTranslate2's int8.
 *
 * Each call quantizes the activations per row on the fly (s_x[m] = amax/127, q = rint(x/s_x))
 * and forms exact int32 dot products; y[m][n] = (float)dot · (s_x[m]·s_w[n]).
 *  - AVX512-VNNI: vpdpbusd multiplies unsigned by signed bytes, so the activations are stored
 *    as q + 128 and 128·Σq_w (the weight row sums, one pass over the chunk's rows that also pulls
 *    them into cache) is taken off: the same integers as a signed product.
 *  - AVX2: vpmaddubsw on |q_x| and sign(q_w, q_x) (no saturation: 2·127·127 < 32767), then
 *    vpmaddwd by ones.  Both give the same int32 sums, so the same y bit for bit.
 * Tile and threading as linear_f32.c: MR activation rows x 4 weight rows, K blocked so the
 * quantized activation block stays in L2, threads split N over the pool.  The same kernel
 * serves prefill: at MR = 6 it is bound by vpdpbusd, not by bytes. */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "backend/cpu/tile.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int t5g_lowp_vnni;

#define NB   32    /* weight rows per claimed chunk */
#define KMAX 32768 /* K block cap: |Σ (q_x+128)·q_w| < 255·127·32768 < 2^31 */

typedef struct {
    const int8_t *xq; /* [M, Kp] quantized activations (zero-padded to Kp, a multiple of 64) */
    const float *xs;  /* [M] activation scales */
    const int8_t *w;
    const float *ws;
    float *y;
    int M, N, Kp, ldw, ldy;
    int k0, kc, accumulate;
} i8_job;

/* the one place an int32 dot becomes a float: both ISAs round identically */
static inline void emit(const i8_job *j, int m, int n, int32_t dot) {
    float v = (float)dot * (j->xs[m] * j->ws[n]);
    float *y = j->y + (size_t)m * j->ldy + n;
    *y = j->accumulate ? *y + v : v;
}

/* ---- AVX512-VNNI: MR <= 6 rows x 4 weight rows (24 accumulators + 4 weights + 2) ---- */

#define T5G_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

T5G_VNNI static inline __mmask64 tail_mask(int n) {
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

/* Software prefetch of the weight rows PF_QUADS quads ahead into L2 (T1) during the row sums of
 * each quad, one line per row per 64 bytes of K (as linear_f32.c / linear_bf16.c). */
#define PF_QUADS 2

/* 128·Σ_k q_w[n][k] over the block, for rows [n0, n1) (at most a quad); pf: rows to prefetch */
T5G_VNNI static void rowsums512(const i8_job *j, int n0, int n1, int32_t *comp, const int8_t *pf) {
    const __m512i ones = _mm512_set1_epi8(1);
    for (int n = n0; n < n1; n++) {
        const int8_t *w = j->w + (size_t)n * j->ldw + j->k0;
        const char *p = pf ? (const char *)(pf + (size_t)(n - n0) * j->ldw) : NULL;
        __m512i s = _mm512_setzero_si512();
        int k = 0;
        for (; k + 64 <= j->kc; k += 64) {
            if (p) _mm_prefetch(p + k, _MM_HINT_T1);
            s = _mm512_dpbusd_epi32(s, ones, _mm512_loadu_si512(w + k));
        }
        if (k < j->kc) s = _mm512_dpbusd_epi32(s, ones, _mm512_maskz_loadu_epi8(tail_mask(j->kc - k), w + k));
        comp[n - n0] = 128 * _mm512_reduce_add_epi32(s);
    }
}

T5G_VNNI __attribute__((always_inline)) static inline void tile512(const i8_job *j, int m0, int mr, int n0, int nr,
                                                                   const int32_t *comp) {
    __m512i acc[6][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm512_setzero_si512();
    const int8_t *w[4], *a[6];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] = j->w + (size_t)(n0 + (n < nr ? n : 0)) * j->ldw + j->k0;
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) a[m] = j->xq + (size_t)(m0 + (m < mr ? m : 0)) * j->Kp + j->k0;
    int kc = j->kc;
    for (int k = 0; k < kc; k += 64) {
        __mmask64 mk = tail_mask(kc - k); /* the activation rows are padded to Kp: only W needs it */
        __m512i wv[4];
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) wv[n] = _mm512_maskz_loadu_epi8(mk, w[n] + k);
        _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) {
            if (m >= mr) break;
            __m512i av = _mm512_loadu_si512(a[m] + k); /* q + 128, see quant_rows */
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] = _mm512_dpbusd_epi32(acc[m][n], av, wv[n]);
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < mr; m++) _Pragma("GCC unroll 8") for (int n = 0; n < nr; n++)
        emit(j, m0 + m, n0 + n, _mm512_reduce_add_epi32(acc[m][n]) - comp[n]);
}

/* weight quad outside (its row sums first: that pass brings the rows into L1), m-tiles inside */
T5G_VNNI static void rows512(const i8_job *j, int n0, int n1) {
    for (int n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? n1 - n : 4, ahead = n + 4 * PF_QUADS;
        int32_t c[4];
        rowsums512(j, n, n + nr, c, ahead + 4 <= j->N ? j->w + (size_t)ahead * j->ldw + j->k0 : NULL);
        T5G_FOR_MTILES6(0, j->M, tile512(j, m_, mr_, n, nr, c));
    }
}

/* ---- AVX2: MR <= 2 rows x 4 weight rows (8 accumulators + 4 weights + 4 temporaries) ---- */

static inline int32_t hsum256i(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

__attribute__((always_inline)) static inline void tile256(const i8_job *j, int m0, int mr, int n0, int nr) {
    __m256i acc[2][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 2; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm256_setzero_si256();
    const int8_t *w[4], *a[2];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] = j->w + (size_t)(n0 + (n < nr ? n : 0)) * j->ldw + j->k0;
    _Pragma("GCC unroll 8") for (int m = 0; m < 2; m++) a[m] = j->xq + (size_t)(m0 + (m < mr ? m : 0)) * j->Kp + j->k0;
    const __m256i ones = _mm256_set1_epi16(1);
    int kc = j->kc, k = 0;
    for (; k + 32 <= kc; k += 32) {
        __m256i wv[4];
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) wv[n] = _mm256_loadu_si256((const __m256i *)(w[n] + k));
        _Pragma("GCC unroll 8") for (int m = 0; m < 2; m++) {
            if (m >= mr) break;
            __m256i av = _mm256_loadu_si256((const __m256i *)(a[m] + k)), aa = _mm256_abs_epi8(av);
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) {
                __m256i p = _mm256_maddubs_epi16(aa, _mm256_sign_epi8(wv[n], av));
                acc[m][n] = _mm256_add_epi32(acc[m][n], _mm256_madd_epi16(p, ones));
            }
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < mr; m++) _Pragma("GCC unroll 8") for (int n = 0; n < nr; n++) {
        int32_t dot = hsum256i(acc[m][n]);
        for (int kk = k; kk < kc; kk++) dot += (int32_t)a[m][kk] * w[n][kk];
        emit(j, m0 + m, n0 + n, dot);
    }
}

static void rows256(const i8_job *j, int n0, int n1) {
    for (int m = 0; m < j->M; m += 2) {
        int mr = j->M - m < 2 ? j->M - m : 2;
        for (int n = n0; n < n1; n += 4) {
            int nr = n1 - n < 4 ? n1 - n : 4;
            if (mr == 2) tile256(j, m, 2, n, nr);
            else tile256(j, m, 1, n, nr);
        }
    }
}

static void i8_chunk(void *ctx, int64_t c0, int64_t c1) {
    const i8_job *j = ctx;
    for (int64_t c = c0; c < c1; c++) { /* one chunk at a time: rows512 keeps NB row sums */
        int n0 = (int)(c * NB), n1 = n0 + NB < j->N ? n0 + NB : j->N;
        if (t5g_lowp_vnni) rows512(j, n0, n1);
        else rows256(j, n0, n1);
    }
}

/* ---- activation quantization, per row ---- */

typedef struct {
    const float *x;
    int ldx, K, Kp;
    int8_t *q;
    float *s;
    int flip;
    const float *amax; /* given row maxima (TP row-split projections), or NULL: each row's own */
} quant_job;

/* max |x| over a row (AVX2, 8 lanes); *finite = 0 if any value is inf or NaN */
static float row_amax(const float *x, int K, int *finite) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), big = _mm256_set1_ps(3.4028235e38f);
    __m256 mx = _mm256_setzero_ps(), ok = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + k), absmask);
        ok = _mm256_and_ps(ok, _mm256_cmp_ps(a, big, _CMP_LE_OQ)); /* false for inf and NaN */
        mx = _mm256_max_ps(mx, a);
    }
    float m[8], amax = 0.0f;
    _mm256_storeu_ps(m, mx);
    int fin = _mm256_movemask_ps(ok) == 0xff;
    for (int i = 0; i < 8; i++) amax = m[i] > amax ? m[i] : amax;
    for (; k < K; k++) {
        float a = fabsf(x[k]);
        fin &= a <= 3.4028235e38f;
        amax = a > amax ? a : amax;
    }
    *finite = fin;
    return amax;
}

/* q = rint(x · inv) clamped to [-127, 127], xor fx; 32 values per step, the rest scalar (same result) */
static void quant_row(const float *x, int K, float inv, uint8_t fx, int8_t *q) {
    const __m256 vi = _mm256_set1_ps(inv), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), flip = _mm256_set1_epi8((char)fx);
    int k = 0;
    for (; k + 32 <= K; k += 32) {
        __m256i v[4];
        for (int i = 0; i < 4; i++) {
            __m256 t = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * i), vi),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v[i] = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(t, hi), lo));
        }
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        p = _mm256_permutevar8x32_epi32(p, perm); /* packs work within 128-bit lanes */
        _mm256_storeu_si256((__m256i *)(q + k), _mm256_xor_si256(p, flip));
    }
    for (; k < K; k++) {
        float v = __builtin_rintf(x[k] * inv);
        q[k] = (int8_t)((uint8_t)(int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v) ^ fx);
    }
}

static void quant_rows(void *ctx, int64_t r0, int64_t r1) {
    const quant_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + (size_t)r * j->ldx;
        int8_t *q = j->q + (size_t)r * j->Kp;
        int finite;
        float amax = j->amax ? j->amax[r] : row_amax(x, j->K, &finite);
        if (j->amax) finite = isfinite(amax);
        memset(q + j->K, 0, (size_t)(j->Kp - j->K));
        if (!finite || amax == 0.0f) { /* a zero row gives 0; inf/NaN must not become finite */
            memset(q, j->flip ? 0x80 : 0, (size_t)j->K);
            j->s[r] = finite ? 0.0f : NAN;
            continue;
        }
        /* VNNI takes the activations unsigned: q + 128 (the tail stays 0: W is masked there) */
        quant_row(x, j->K, 127.0f / amax, j->flip ? 0x80 : 0, q);
        j->s[r] = amax / 127.0f;
    }
}

/* scratch for the quantized activations, reused across calls, one per calling thread */
static _Thread_local void *g_buf;
static _Thread_local size_t g_buf_n;

void t5g_cpu_linear_int8(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    t5g_cpu_linear_int8_amax(x, M, ldx, W, y, ldy, NULL);
}

void t5g_cpu_linear_int8_amax(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy, const float *amax) {
    if (M <= 0 || W->rows <= 0) return;
    if (t5g_lowp_vnni < 0) t5g_cpu_lowp_isa(-1);
    /* AMX from 4 rows: below, a 16 x 16 tile does 1-3 useful columns and the AVX512-VNNI kernel is
     * faster (LM head 256000 x 512 at 1 row: 4.9 vs 5.8 ms, 2 threads); the integer sums, and so the
     * results, are the same bit for bit, so a row's result still does not depend on its batch */
    int N = W->rows, K = W->cols, Kp = (K + 63) / 64 * 64, amx = M >= 4 && t5g_cpu_int8_amx(-1);
    size_t xqb = ((size_t)M * (size_t)Kp + 63) / 64 * 64, xpb = amx ? (size_t)(M + 15) / 16 * 16 * Kp : 0;
    size_t need = xqb + xpb + sizeof(float) * (size_t)M + 64;
    if (!t5g_cpu_scratch(&g_buf, &g_buf_n, need)) {
        t5g_cpu_op_oom(y, M, N, ldy, "quantizing activations for an int8 product", K);
        return;
    }
    float *xs = g_buf;
    int8_t *xq = (int8_t *)g_buf + ((sizeof(float) * (size_t)M + 63) / 64 * 64);
    quant_job q = {x, ldx, K, Kp, xq, xs, amx ? 0 : t5g_lowp_vnni, amax}; /* AMX: signed x signed */
    t5g_pool_for(M, (int64_t)K * M > 65536 ? 1 : M, quant_rows, &q);
    if (K == 0) {
        for (int m = 0; m < M; m++) memset(y + (size_t)m * ldy, 0, sizeof(float) * (size_t)N);
        return;
    }
    int kc = K;
    int64_t limit = 262144 / M; /* the M x kc byte block within ~256 KB of L2 */
    if (limit > KMAX) limit = KMAX;
    if (kc > limit) kc = (int)(limit < 256 ? 256 : limit / 64 * 64);
    if (amx) { /* the same integers on AMX tiles */
        t5g_cpu_int8_amx_run(xq, xs, M, Kp, W, y, ldy, kc, (uint32_t *)(xq + xqb));
        return;
    }
    i8_job j = {xq, xs, W->data, W->scale, y, M, N, Kp, W->ld, ldy, 0, kc, 0};
    for (int k0 = 0; k0 < K; k0 += kc) {
        j.k0 = k0;
        j.kc = K - k0 < kc ? K - k0 : kc;
        j.accumulate = k0 > 0;
        t5g_pool_for((N + NB - 1) / NB, 1, i8_chunk, &j);
    }
}
