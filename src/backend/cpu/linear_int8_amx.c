/* linear_int8_amx.c - the int8 products of linear_int8.c on AMX-INT8 tiles (`tdpbssd`: signed
 * activations x signed weights, int32 sums; the tile loop is linear_amx.c's).  The int32 dot
 * products are exact, so y equals the VNNI / AVX2 kernels' bit for bit (same quantized
 * activations, same K blocks, the same float operations per element). */
#include "backend/cpu/linear.h"
#include <stdint.h>

#define XB_BYTES 262144 /* quantized activation blocks per pass: within L2 */

static int g_use = 1; /* tests: 0 forces VNNI / AVX2 */

int t5g_cpu_int8_amx(int want) {
    if (want >= 0) g_use = want;
    return (t5g_cpu_amx() & T5G_AMX_INT8) && g_use;
}

/* xq [M, Kp] signed (Kp a multiple of 64, zero-padded), xp scratch of ceil(M/16)·16·Kp bytes */
void t5g_cpu_int8_amx_run(const int8_t *xq, const float *xs, int M, int Kp, const t5g_wmat *W, float *y, int ldy,
                          int kc, uint32_t *xp) {
    int nmb = (M + 15) / 16, mbb = XB_BYTES / (16 * Kp), K = W->cols;
    t5g_amx_pack(xq, M, Kp / 4, xp, nmb);
    t5g_amx_job j = {.xp = xp,
                     .w = W->data,
                     .ldw = (size_t)W->ld,
                     .N = W->rows,
                     .kb = K,
                     .kq = Kp / 4,
                     .M = M,
                     .nmb = nmb,
                     .mbb = mbb < 2 ? 2 : mbb / 2 * 2,
                     .xs = xs,
                     .ws = W->scale,
                     .y = y,
                     .ldy = ldy};
    for (int k0 = 0; k0 < K; k0 += kc) {
        j.k0 = k0;
        j.kc = K - k0 < kc ? K - k0 : kc;
        j.accumulate = k0 > 0;
        t5g_amx_run(&j);
    }
}
