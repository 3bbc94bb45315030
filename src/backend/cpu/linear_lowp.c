/* linear_lowp.c - what the bf16 and int8 weight kernels share: the CPU feature check (run
 * time; the build targets x86-64-v3, so AVX2 + FMA is the floor every kernel has) and the
 * widening of one weight row (embedding lookups). */
#include "backend/cpu/linear.h"
#include "core/err.h"
#include <stdint.h>

int t5g_lowp_avx512 = -1;  /* bf16 kernels: AVX-512F/BW/VL */
int t5g_lowp_vnni = -1;    /* int8 kernels: AVX512-VNNI (+BW/VL) */
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
    else if (want == 1) { t5g_lowp_avx512 = native512; t5g_lowp_vnni = nativevnni; }
    return (t5g_lowp_avx512 ? T5G_LOWP_AVX512 : 0) | (t5g_lowp_vnni ? T5G_LOWP_VNNI : 0);
}

int t5g_cpu_dtype_check(t5g_dtype dt) {
    detect();
    __builtin_cpu_init();
    int avx2 = !!__builtin_cpu_supports("avx2") && !!__builtin_cpu_supports("fma");
    const char *name = dt == T5G_DT_BF16 ? "bf16" : dt == T5G_DT_INT8 ? "int8" : "f32";
    T5G_CHECK(avx2, "compute type %s has no CPU kernel on this CPU (it needs at least AVX2 and FMA); "
              "run on an x86-64-v3 CPU", name);
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
    if (dt == T5G_DT_INT8) return t5g_lowp_vnni ? "int8: AVX512-VNNI vpdpbusd" : "int8: AVX2 vpmaddubsw";
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
