/* linear_amx.c - the AMX tile loop that the bf16-act (tdpbf16ps, linear_bf16dp.c) and int8
 * (tdpbssd, linear_int8_amx.c) products share.
 * A operand: 16 weight rows x 64 bytes as stored (row stride ldw); B operand: the activations in
 * 4-byte groups, 16 activation rows per tile (t5g_amx_pack); C: 16 weight rows x 16 activation
 * rows.  Tiles 0-3 C (2 weight blocks x 2 activation blocks), 4-5 A, 6-7 B.  Threads split N in
 * chunks of NB rows.  Every C element sums its K in the same order whatever M, the chunk or the
 * thread is, and the zero padding of K and M adds exact zeros.
 * A C tile leaves through one 16 x 16 transpose in registers, so each activation row's 16 results
 * are one vector store (one element at a time, the transposed stores cost more than the tile
 * products of the LM head). */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define NB       32
#define PF_CHUNK 2 /* prefetch the weight rows this many chunks ahead (to L2, one line per row per k step) */
#define T5G_AMXK __attribute__((target("amx-tile,amx-int8,amx-bf16,avx512f,avx512bw,avx512dq,avx512vl")))

/* 16 weight rows [n, n + 16) at byte k, or staged with zeros past N and past the row's kb bytes */
static const uint8_t *a_rows(const t5g_amx_job *j, int n, int k, uint8_t *stage, int *ld) {
    if (n + 16 <= j->N && k + 64 <= j->kb) {
        *ld = (int)j->ldw;
        return j->w + (size_t)n * j->ldw + k;
    }
    memset(stage, 0, 16 * 64);
    int kk = j->kb - k < 64 ? j->kb - k : 64;
    for (int r = 0; r < 16 && n + r < j->N; r++) memcpy(stage + 64 * r, j->w + (size_t)(n + r) * j->ldw + k, kk);
    *ld = 64;
    return stage;
}

/* r[i] = column i of the 16 x 16 block whose rows r[] held */
T5G_AMXK static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 4; i++) {
            t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
            t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
    }
}

/* C tile c[r][i] (weight row n + r, activation row m + i) into y: bf16 sums as they are; int32
 * sums as linear_int8.c's emit, (float)dot · (s_x[m]·s_w[n]), added to y after the first K block */
T5G_AMXK static void emit(const t5g_amx_job *j, int n, int m, const void *c) {
    int nr = j->N - n < 16 ? j->N - n : 16, mr = j->M - m < 16 ? j->M - m : 16;
    __mmask16 mk = (__mmask16)((1u << nr) - 1);
    __m512 v[16];
    for (int r = 0; r < 16; r++) v[r] = _mm512_load_ps((const float *)c + 16 * r);
    transpose16(v);
    __m512 ws = j->xs ? _mm512_maskz_loadu_ps(mk, j->ws + n) : _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) {
        float *y = j->y + (size_t)(m + i) * j->ldy + n;
        __m512 o = v[i];
        if (j->xs) {
            o = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_castps_si512(o)),
                              _mm512_mul_ps(_mm512_set1_ps(j->xs[m + i]), ws));
            if (j->accumulate) o = _mm512_add_ps(_mm512_maskz_loadu_ps(mk, y), o);
        }
        _mm512_mask_storeu_ps(y, mk, o);
    }
}

/* weight rows [n0, n0 + 32) against activation blocks [b0, b1) over bytes [k0, k0 + kc) */
T5G_AMXK static void block(const t5g_amx_job *j, int n0, int b0, int b1) {
    uint8_t stage[2][16 * 64] __attribute__((aligned(64)));
    float c[4][16][16] __attribute__((aligned(64)));
    int two_n = n0 + 16 < j->N, kend = j->k0 + j->kc, pf = n0 + PF_CHUNK * NB + NB <= j->N && b0 == 0;
    const uint8_t *pw = j->w + (size_t)(n0 + PF_CHUNK * NB) * j->ldw;
    for (int b = b0; b < b1; b += 2) {
        int two_m = b + 1 < b1;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int k = j->k0; k < kend; k += 64) {
            int lda;
            if (pf && b == b0)
                for (int r = 0; r < NB; r++) _mm_prefetch((const char *)(pw + (size_t)r * j->ldw + k), _MM_HINT_T1);
            const uint8_t *a = a_rows(j, n0, k, stage[0], &lda);
            const uint32_t *xb0 = j->xp + ((size_t)b * j->kq + k / 4) * 16, *xb1 = xb0 + (size_t)j->kq * 16;
            _tile_loadd(4, a, lda);
            _tile_loadd(6, xb0, 64);
            if (j->bf16) _tile_dpbf16ps(0, 4, 6);
            else _tile_dpbssd(0, 4, 6);
            if (two_m) {
                _tile_loadd(7, xb1, 64);
                if (j->bf16) _tile_dpbf16ps(1, 4, 7);
                else _tile_dpbssd(1, 4, 7);
            }
            if (two_n) {
                a = a_rows(j, n0 + 16, k, stage[1], &lda);
                _tile_loadd(5, a, lda);
                if (j->bf16) _tile_dpbf16ps(2, 5, 6);
                else _tile_dpbssd(2, 5, 6);
                if (two_m) {
                    if (j->bf16) _tile_dpbf16ps(3, 5, 7);
                    else _tile_dpbssd(3, 5, 7);
                }
            }
        }
        _tile_stored(0, c[0], 64);
        _tile_stored(1, c[1], 64);
        _tile_stored(2, c[2], 64);
        _tile_stored(3, c[3], 64);
        for (int t = 0; t < 4; t++) {
            if (((t & 1) && !two_m) || ((t >> 1) && !two_n)) continue;
            emit(j, n0 + 16 * (t >> 1), 16 * (b + (t & 1)), c[t]);
        }
    }
}

T5G_AMXK static void chunk(void *ctx, int64_t c0, int64_t c1) {
    const t5g_amx_job *j = ctx;
    t5g_amx_config(); /* per thread: the tile configuration is thread state */
    for (int64_t c = c0; c < c1; c++)
        for (int b = 0; b < j->nmb; b += j->mbb) block(j, (int)(c * NB), b, b + j->mbb < j->nmb ? b + j->mbb : j->nmb);
    _tile_release();
}

void t5g_amx_run(const t5g_amx_job *j) {
    t5g_pool_for((j->N + NB - 1) / NB, 1, chunk, (void *)j);
}
