/* linear_lowp.c - what the bf16 and int8 weight kernels share: the CPU feature check (run
 * time; the build targets x86-64-v3, so AVX2 + FMA is the floor every kernel has) and the
 * widening of one weight row (embedding lookups). */
#include "backend/cpu/linear.h"
#include "core/err.h"
#include <cpuid.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int t5g_lowp_avx512 = -1; /* bf16 kernels: AVX-512F/BW/VL */
int t5g_lowp_vnni = -1;   /* int8 kernels: AVX512-VNNI (+BW/VL) */
static int native512 = -1, nativevnni = -1;

static void detect(void) {
    if (native512 >= 0) return;
    __builtin_cpu_init();
    native512 = !!__builtin_cpu_supports("avx512f") && !!__builtin_cpu_supports("avx512bw") &&
                !!__builtin_cpu_supports("avx512vl");
    nativevnni = native512 && !!__builtin_cpu_supports("avx512vnni");
    t5g_lowp_avx512 = native512;
    t5g_lowp_vnni = nativevnni;
}

int t5g_cpu_lowp_isa(int want) {
    detect();
    if (want == 0) t5g_lowp_avx512 = t5g_lowp_vnni = 0;
    else if (want == 1) {
        t5g_lowp_avx512 = native512;
        t5g_lowp_vnni = nativevnni;
    }
    return (t5g_lowp_avx512 ? T5G_LOWP_AVX512 : 0) | (t5g_lowp_vnni ? T5G_LOWP_VNNI : 0);
}

int t5g_cpu_dtype_check(t5g_dtype dt) {
    detect();
    __builtin_cpu_init();
    int avx2 = !!__builtin_cpu_supports("avx2") && !!__builtin_cpu_supports("fma");
    const char *name = dt == T5G_DT_BF16 ? "bf16" : dt == T5G_DT_INT8 ? "int8" : "f32";
    T5G_CHECK(avx2,
              "compute type %s has no CPU kernel on this CPU (it needs at least AVX2 and FMA); "
              "run on an x86-64-v3 CPU",
              name);
    return 0;
}

int t5g_cpu_bf16act_check(void) {
    __builtin_cpu_init();
    int ok = !!__builtin_cpu_supports("avx512f") && !!__builtin_cpu_supports("avx512bw") &&
             !!__builtin_cpu_supports("avx512bf16");
    T5G_CHECK(ok, "compute type bf16-act has no CPU kernel on this CPU (it needs AVX512-BF16: Intel Cooper Lake, "
                  "Sapphire Rapids or later, AMD Zen 4 or later); use --compute-type bf16 (float32 activations)");
    return 0;
}

const char *t5g_cpu_dtype_kernel(t5g_dtype dt) {
    detect();
    if (dt == T5G_DT_BF16) return t5g_lowp_avx512 ? "bf16: AVX-512 widen+FMA" : "bf16: AVX2 widen+FMA";
    if (dt == T5G_DT_INT8)
        return t5g_cpu_int8_amx(-1) ? "int8: AMX-INT8 tdpbssd"
               : t5g_lowp_vnni      ? "int8: AVX512-VNNI vpdpbusd"
                                    : "int8: AVX2 vpmaddubsw";
    return "f32";
}

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

/* ---- AMX: CPU bits, the tile state from Linux, one tile configuration for every kernel ---- */

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA  18

static int g_amx_bits;
static pthread_once_t g_amx_once = PTHREAD_ONCE_INIT;

static void amx_detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 24 & 1)) return; /* AMX-TILE */
    /* Linux grants the 8 KB tile state per process on request; without it the first tile op faults */
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return;
    g_amx_bits = (d >> 22 & 1 ? T5G_AMX_BF16 : 0) | (d >> 25 & 1 ? T5G_AMX_INT8 : 0);
}

int t5g_cpu_amx(void) {
    pthread_once(&g_amx_once, amx_detect);
    return g_amx_bits;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((aligned(64))) tile_cfg;

__attribute__((target("amx-tile"))) void t5g_amx_config(void) {
    tile_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    __asm__ volatile("" : : "r"(&cfg) : "memory"); /* GCC 12 drops the stores before ldtilecfg otherwise */
    _tile_loadconfig(&cfg);
}

void t5g_amx_pack(const void *x, int M, int kq, uint32_t *xp, int nmb) {
    memset(xp, 0, sizeof(uint32_t) * (size_t)nmb * kq * 16);
    for (int m = 0; m < M; m++) {
        const uint32_t *row = (const uint32_t *)x + (size_t)m * kq;
        uint32_t *dst = xp + (size_t)(m / 16) * kq * 16 + m % 16;
        for (int p = 0; p < kq; p++) dst[(size_t)p * 16] = row[p];
    }
}

void *t5g_cpu_scratch(void **buf, size_t *cap, size_t bytes) {
    if (bytes > *cap) {
        free(*buf);
        *buf = malloc(bytes);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}

void t5g_cpu_op_oom(float *y, int M, int N, int ldy, const char *what, int K) {
    fprintf(stderr, "t5g: error: out of memory %s (%d x %d activations)\n", what, M, K);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) y[(size_t)m * ldy + n] = NAN;
}
