/* ckpt_conv.c - the element conversions of io/ckpt.h: bf16 widening in place, int8 quantization. */
#include "io/ckpt.h"
#include <float.h>
#include <math.h>
#include <string.h>

/* Blocks of 64 are loaded before they are stored: block i's stores end at byte 4i+256, the
 * next unread source starts at 2n+2i+128, and i <= n-64 for every full block. */
void t5g_bf16_widen_inplace(float *buf, size_t n) {
    unsigned char *base = (unsigned char *)buf;
    for (size_t i = 0; i < n; i += 64) {
        size_t m = n - i < 64 ? n - i : 64;
        uint16_t h[64];
        uint32_t u[64];
        memcpy(h, base + 2 * n + 2 * i, 2 * m);
        for (size_t k = 0; k < m; k++) u[k] = (uint32_t)h[k] << 16;
        memcpy(base + 4 * i, u, 4 * m);
    }
}

float t5g_int8_amax(const float *w, int64_t n) {
    float amax = 0.0f;
    int finite = 1;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(w[i]);
        finite &= a <= FLT_MAX;
        amax = a > amax ? a : amax;
    }
    return finite ? amax : NAN;
}

float t5g_int8_quantize(const float *w, int64_t n, float amax, int8_t *q) {
    if (!(amax > 0.0f)) {
        memset(q, 0, (size_t)n);
        return 0.0f;
    }
    float inv = 127.0f / amax;
    for (int64_t i = 0; i < n; i++) {
        float v = rintf(w[i] * inv);
        q[i] = (int8_t)(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
    }
    return amax / 127.0f;
}
