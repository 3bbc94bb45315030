/* linear_int8_amx.c - the int8 products of linear_int8.c on AMX-INT8 tiles (`tdpbssd`: signed
 * activations x signed weights, int32 sums).  The int32 dot products are exact, so y equals the
 * VNNI / AVX2 kernels' bit for bit (same quantized activations, same K blocks, same emit).
 * A operand: 16 weight rows x 64 int8 as stored (row stride ldw); B operand: the quantized
 * activations in 4-byte groups, 16 activation rows per tile (t5g_amx_pack); C: 16 x 16 int32.
 * Tiles 0-3 C (2 weight blocks x 2 activation blocks), 4-5 A, 6-7 B; threads split N in
 * chunks of 32 rows; K blocks as the caller gives them. */
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define NB        32
#define XB_BYTES  262144 /* quantized activation blocks per pass: within L2 */
#define T5G_AMXI8 __attribute__((target("amx-tile,amx-int8")))

static int g_use = 1; /* tests: 0 forces VNNI / AVX2 */

int t5g_cpu_int8_amx(int want) {
    if (want >= 0) g_use = want;
    return (t5g_cpu_amx() & T5G_AMX_INT8) && g_use;
}

typedef struct {
    const uint32_t *xp; /* [nmb][Kp/4][16] */
    const float *xs;
    const int8_t *w;
    const float *ws;
    float *y;
    int M, N, K, Kp, ldw, ldy, nmb, mbb, k0, kc, accumulate;
} amx_i8_job;

/* 16 weight rows [n, n + 16) at k, or staged with zeros past N and past K */
static const int8_t *a_rows(const amx_i8_job *j, int n, int k, int8_t *stage, int *ld) {
    if (n + 16 <= j->N && k + 64 <= j->K) {
        *ld = j->ldw;
        return j->w + (size_t)n * j->ldw + k;
    }
    memset(stage, 0, 16 * 64);
    int kk = j->K - k < 64 ? j->K - k : 64;
    for (int r = 0; r < 16 && n + r < j->N; r++)
        memcpy(stage + 64 * r, j->w + (size_t)(n + r) * j->ldw + k, (size_t)kk);
    *ld = 64;
    return stage;
}

/* as linear_int8.c's emit: the one place an int32 dot becomes a float */
static inline void emit(const amx_i8_job *j, int m, int n, int32_t dot) {
    float v = (float)dot * (j->xs[m] * j->ws[n]);
    float *y = j->y + (size_t)m * j->ldy + n;
    *y = j->accumulate ? *y + v : v;
}

T5G_AMXI8 static void block(const amx_i8_job *j, int n0, int b0, int b1) {
    int8_t stage[2][16 * 64] __attribute__((aligned(64)));
    int32_t c[4][16][16] __attribute__((aligned(64)));
    int two_n = n0 + 16 < j->N, kq = j->Kp / 4, kend = j->k0 + j->kc;
    for (int b = b0; b < b1; b += 2) {
        int two_m = b + 1 < b1;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int k = j->k0; k < kend; k += 64) {
            int lda;
            const int8_t *a = a_rows(j, n0, k, stage[0], &lda);
            _tile_loadd(4, a, lda);
            _tile_loadd(6, j->xp + ((size_t)b * kq + k / 4) * 16, 64);
            _tile_dpbssd(0, 4, 6);
            if (two_m) {
                _tile_loadd(7, j->xp + ((size_t)(b + 1) * kq + k / 4) * 16, 64);
                _tile_dpbssd(1, 4, 7);
            }
            if (two_n) {
                a = a_rows(j, n0 + 16, k, stage[1], &lda);
                _tile_loadd(5, a, lda);
                _tile_dpbssd(2, 5, 6);
                if (two_m) _tile_dpbssd(3, 5, 7);
            }
        }
        _tile_stored(0, c[0], 64);
        _tile_stored(1, c[1], 64);
        _tile_stored(2, c[2], 64);
        _tile_stored(3, c[3], 64);
        for (int t = 0; t < 4; t++) {
            int n = n0 + 16 * (t >> 1), m = 16 * (b + (t & 1));
            if (((t & 1) && !two_m) || ((t >> 1) && !two_n)) continue;
            for (int cc = 0; cc < 16 && m + cc < j->M; cc++)
                for (int r = 0; r < 16 && n + r < j->N; r++) emit(j, m + cc, n + r, c[t][r][cc]);
        }
    }
}

T5G_AMXI8 static void chunk(void *ctx, int64_t c0, int64_t c1) {
    const amx_i8_job *j = ctx;
    t5g_amx_config(); /* per thread: the tile configuration is thread state */
    for (int64_t c = c0; c < c1; c++)
        for (int b = 0; b < j->nmb; b += j->mbb) block(j, (int)(c * NB), b, b + j->mbb < j->nmb ? b + j->mbb : j->nmb);
    _tile_release();
}

/* xq [M, Kp] signed (Kp a multiple of 64, zero-padded), xp scratch of ceil(M/16)·16·Kp bytes */
void t5g_cpu_int8_amx_run(const int8_t *xq, const float *xs, int M, int Kp, const t5g_wmat *W, float *y, int ldy,
                          int kc, uint32_t *xp) {
    int nmb = (M + 15) / 16, mbb = XB_BYTES / (16 * Kp);
    t5g_amx_pack(xq, M, Kp / 4, xp, nmb);
    amx_i8_job j = {xp, xs, W->data, W->scale, y, M, W->rows, W->cols, Kp, W->ld, ldy, nmb, mbb < 2 ? 2 : mbb / 2 * 2,
                    0,  kc, 0};
    for (int k0 = 0; k0 < j.K; k0 += kc) {
        j.k0 = k0;
        j.kc = j.K - k0 < kc ? j.K - k0 : kc;
        j.accumulate = k0 > 0;
        t5g_pool_for((j.N + NB - 1) / NB, 1, chunk, &j);
    }
}
