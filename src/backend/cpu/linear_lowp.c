/* linear_lowp.c - bf16 and int8 weight kernels of the CPU backend (reference loops: each
 * weight widened to float32, float32 accumulation). */
#include "backend/cpu/linear.h"
#include <stdint.h>

void t5g_cpu_wrow_f32(const t5g_wmat *W, int row, float *out) {
    int K = W->cols;
    if (W->dtype == T5G_DT_BF16) {
        const uint16_t *w = (const uint16_t *)W->data + (size_t)row * W->ld;
        for (int k = 0; k < K; k++) out[k] = t5g_bf16_to_f32(w[k]);
    } else if (W->dtype == T5G_DT_INT8) {
        const int8_t *w = (const int8_t *)W->data + (size_t)row * W->ld;
        float s = W->scale[row];
        for (int k = 0; k < K; k++) out[k] = s * (float)w[k];
    } else {
        const float *w = (const float *)W->data + (size_t)row * W->ld;
        for (int k = 0; k < K; k++) out[k] = w[k];
    }
}

void t5g_cpu_linear_bf16(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    int N = W->rows, K = W->cols;
#pragma omp parallel for schedule(static) if ((int64_t)N * K > 65536)
    for (int n = 0; n < N; n++) {
        const uint16_t *w = (const uint16_t *)W->data + (size_t)n * W->ld;
        for (int m = 0; m < M; m++) {
            const float *a = x + (size_t)m * ldx;
            float s = 0.0f;
            for (int k = 0; k < K; k++) s += a[k] * t5g_bf16_to_f32(w[k]);
            y[(size_t)m * ldy + n] = s;
        }
    }
}

void t5g_cpu_linear_int8(const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    int N = W->rows, K = W->cols;
#pragma omp parallel for schedule(static) if ((int64_t)N * K > 65536)
    for (int n = 0; n < N; n++) {
        const int8_t *w = (const int8_t *)W->data + (size_t)n * W->ld;
        for (int m = 0; m < M; m++) {
            const float *a = x + (size_t)m * ldx;
            float s = 0.0f;
            for (int k = 0; k < K; k++) s += a[k] * (float)w[k];
            y[(size_t)m * ldy + n] = s * W->scale[n];
        }
    }
}
