/* linear_bf16dp.c - y = x·Wᵀ with bf16 weights AND bf16 activations (--compute-type bf16-act):
 * each activation is rounded to bfloat16 (nearest even), products of bf16 pairs accumulate in
 * float32: AMX-BF16 tiles where the CPU and OS allow (see below), else AVX512-BF16 `vdpbf16ps`
 * (32 products per instruction, twice the float32 FMA's 16).
 * This is what transformers computes with torch_dtype=bfloat16 and CTranslate2 with
 * compute_type=bfloat16 in their products; it is not the exact widening path of linear_bf16.c.
 *
 * One kernel for every M (decode and prefill): a row's result never depends on which other rows
 * share the call.  The sum order is fixed by K alone: one accumulator per (row, weight row) over
 * all of K in steps of 32 (no K blocking), then the same 16-lane reduction.  vdpbf16ps treats
 * bf16 denormals as zero and flushes float32 denormal results (its fixed semantics, MXCSR is
 * not consulted); activations this small do not occur in the model.
 * vdpbf16ps tile: MR <= 6 activation rows x 4 weight rows (24 accumulators), weight quad outside, m-tiles
 * inside, M cut in blocks whose bf16 activations stay in L2; threads split N in chunks of NB. */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "backend/cpu/tile.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB       32     /* weight rows per claimed chunk */
#define XB_BYTES 262144 /* bf16 activation block per M block: within L2 */
#define PF_QUADS 2      /* software prefetch distance in weight quads (as linear_bf16.c) */

#define T5G_BF16DP __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

typedef struct {
    const uint16_t *xb; /* [M, Kp] activations rounded to bf16, zero-padded to Kp (multiple of 32) */
    const uint16_t *w;
    float *y;
    int M, N, K, Kp, ldw, ldy, mb;
} dp_job;

T5G_BF16DP __attribute__((always_inline)) static inline void tile(const dp_job *j, int m0, int mr, int n0, int nr,
                                                                  const uint16_t *pf) {
    __m512 acc[6][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] =
        _mm512_setzero_ps();
    const uint16_t *w[4], *a[6];
    _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) w[n] = j->w + (size_t)(n0 + (n < nr ? n : 0)) * j->ldw;
    _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) a[m] = j->xb + (size_t)(m0 + (m < mr ? m : 0)) * j->Kp;
    int K = j->K;
    for (int k = 0; k < K; k += 32) {
        /* the activation rows are zero-padded to Kp: only W needs the tail mask */
        __mmask32 mk = K - k >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << (K - k)) - 1);
        __m512bh wv[4];
        if (pf && !(k & 31))
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++)
                _mm_prefetch((const char *)(pf + (size_t)n * j->ldw + k), _MM_HINT_T1);
        _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) wv[n] = (__m512bh)_mm512_maskz_loadu_epi16(mk, w[n] + k);
        _Pragma("GCC unroll 8") for (int m = 0; m < 6; m++) {
            if (m >= mr) break;
            __m512bh av = (__m512bh)_mm512_loadu_si512(a[m] + k);
            _Pragma("GCC unroll 8") for (int n = 0; n < 4; n++) acc[m][n] = _mm512_dpbf16_ps(acc[m][n], av, wv[n]);
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < mr; m++) {
        float *y = j->y + (size_t)(m0 + m) * j->ldy + n0, v[4];
        _mm_storeu_ps(v, t5g_hsum4_512(acc[m][0], acc[m][1], acc[m][2], acc[m][3]));
        _Pragma("GCC unroll 8") for (int n = 0; n < nr; n++) y[n] = v[n];
    }
}

/* rows [n0, n1) of W against activation rows [m0, m1): weight quad outside (in L1), m-tiles inside */
T5G_BF16DP static void rows(const dp_job *j, int n0, int n1, int m0, int m1) {
    for (int n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? n1 - n : 4, ahead = n + 4 * PF_QUADS;
        const uint16_t *pf = ahead + 4 <= j->N ? j->w + (size_t)ahead * j->ldw : NULL;
        T5G_FOR_MTILES6(m0, m1, tile(j, m_, mr_, n, nr, m_ == m0 ? pf : NULL));
    }
}

/* one chunk of NB weight rows against every M block (the chunk's rows stay in L1/L2) */
T5G_BF16DP static void dp_chunk(void *ctx, int64_t c0, int64_t c1) {
    const dp_job *j = ctx;
    for (int64_t c = c0; c < c1; c++) {
        int n0 = (int)(c * NB), n1 = n0 + NB < j->N ? n0 + NB : j->N;
        for (int m0 = 0; m0 < j->M; m0 += j->mb) rows(j, n0, n1, m0, j->M - m0 < j->mb ? j->M : m0 + j->mb);
    }
}

/* ---- activations to bf16, nearest even (as t5g_f32_to_bf16; NaN stays NaN) ---- */

typedef struct {
    const float *x;
    int ldx, K, Kp;
    uint16_t *xb;
} round_job;

T5G_BF16DP static void round_rows(void *ctx, int64_t r0, int64_t r1) {
    const round_job *j = ctx;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + (size_t)r * j->ldx;
        uint16_t *q = j->xb + (size_t)r * j->Kp;
        int k = 0;
        for (; k + 32 <= j->K; k += 32)
            _mm512_storeu_si512(q + k,
                                (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k)));
        for (; k < j->K; k++) q[k] = t5g_f32_to_bf16(x[k]);
        memset(q + j->K, 0, sizeof(uint16_t) * (size_t)(j->Kp - j->K));
    }
}

/* ---- AMX-BF16: tdpbf16ps on 16 x 16 float32 tiles (the tile loop: linear_amx.c) ----
 * The weights are the A operand as stored (16 rows x 32 bf16 of W per tile, row stride ldw), the
 * activations the B operand: B's rows are k pairs, its 16 columns 16 activation rows, so each
 * 4-byte element is the pair (x[m][2p], x[m][2p+1]) - a transpose of the bf16 activations in
 * 4-byte units, packed once per call (M·K).  Every element sums its products in the same K order
 * whatever M is (zero padding of K and M adds exact zeros).
 * Linux hands out the AMX tile state per process on request (t5g_cpu_amx, linear_lowp.c). */

static int g_amx_use = 1; /* tests: 0 forces vdpbf16ps */

int t5g_cpu_bf16act_amx(int want) {
    if (want >= 0) g_amx_use = want;
    return (t5g_cpu_amx() & T5G_AMX_BF16) && g_amx_use;
}

static _Thread_local void *g_xb; /* the bf16 activations, reused across calls, one per calling thread */
static _Thread_local size_t g_xb_n;
static _Thread_local void *g_xp; /* AMX: the pairs packed for the B tiles */
static _Thread_local size_t g_xp_n;

void t5g_cpu_linear_bf16dp(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    if (M <= 0 || W->rows <= 0) return;
    int N = W->rows, K = W->cols, Kp = (K + 31) / 32 * 32;
    if (K <= 0) { /* empty sum */
        for (int m = 0; m < M; m++) memset(y + (size_t)m * ldy, 0, sizeof(float) * (size_t)N);
        return;
    }
    size_t need = (size_t)M * (size_t)Kp;
    if (!t5g_cpu_scratch(&g_xb, &g_xb_n, sizeof(uint16_t) * need)) {
        t5g_cpu_op_oom(y, M, N, ldy, "rounding activations to bf16", K);
        return;
    }
    round_job r = {x, ldx, K, Kp, g_xb};
    t5g_pool_for(M, (int64_t)K * M > 65536 ? 1 : M, round_rows, &r);
    if (t5g_cpu_bf16act_amx(-1)) {
        int nmb = (M + 15) / 16;
        size_t pk = (size_t)nmb * 16 * Kp;
        if (t5g_cpu_scratch(&g_xp, &g_xp_n, sizeof(uint16_t) * pk)) {
            t5g_amx_pack(g_xb, M, Kp / 2, g_xp, nmb);
            int mbb = XB_BYTES / (32 * Kp); /* activation blocks per pass: within L2, never a sum */
            t5g_amx_job a = {.xp = g_xp,
                             .w = W->data,
                             .ldw = 2 * (size_t)W->ld,
                             .N = N,
                             .kb = 2 * K,
                             .kq = Kp / 2,
                             .M = M,
                             .nmb = nmb,
                             .mbb = mbb < 2 ? 2 : mbb / 2 * 2,
                             .kc = 2 * Kp,
                             .bf16 = 1,
                             .y = y,
                             .ldy = ldy};
            t5g_amx_run(&a);
            return;
        }
        fprintf(stderr, "t5g: error: out of memory packing %d x %d activations for AMX\n", M, K);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) y[(size_t)m * ldy + n] = NAN;
        return;
    }
    int mb = XB_BYTES / (2 * Kp); /* the block size changes only which rows share a pass, never a sum */
    mb = mb < 6 ? 6 : mb / 6 * 6;
    dp_job j = {g_xb, W->data, y, M, N, K, Kp, W->ld, ldy, mb};
    t5g_pool_for((N + NB - 1) / NB, 1, dp_chunk, &j);
}
