/* test_lowp.c - the bf16 and int8 weight kernels (linear_bf16.c, linear_int8.c) against
 * float64 references on random odd shapes, M = 1..129, with padded strides, one and two
 * threads, the AVX-512 / VNNI kernels and the AVX2 fallback.
 *  bf16: reference = float64 product with the widened weights; tolerance 2e-6 of Σ|x·w|
 *        (float32 accumulation, as the float32 kernel).
 *  int8: reference = the same per-row activation quantization done here in float64 and an
 *        exact integer dot; tolerance 1e-6 of Σ|q_x·q_w|·s_x·s_w; the ISAs (AMX-INT8 where usable,
 *        AVX512-VNNI, AVX2) must agree bit for bit; and the
 *        error against the unquantized float64 product stays within the quantization bound. */
#include "testutil.h"
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

static unsigned rng = 777u;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

typedef struct { int M, N, K, pad; } shape;

static const int Ms[] = {1, 2, 3, 5, 6, 7, 13, 16, 31, 64, 65, 100, 128, 129};
static const int NK[][2] = {{1, 1}, {3, 5}, {4, 16}, {37, 19}, {130, 67}, {257, 512}, {64, 1000}, {9, 4099}, {5, 63}, {6, 65}};

/* ---- bf16 ---- */
static double check_bf16(shape s, float *yout) {
    int ldx = s.K + s.pad, ldw = s.K + 2 * s.pad, ldy = s.N + s.pad;
    float *x = malloc(sizeof(float) * (size_t)s.M * ldx), *y = malloc(sizeof(float) * (size_t)s.M * ldy);
    uint16_t *w = malloc(sizeof(uint16_t) * (size_t)s.N * ldw);
    for (size_t i = 0; i < (size_t)s.M * ldx; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)s.N * ldw; i++) w[i] = t5g_f32_to_bf16(frand());
    for (size_t i = 0; i < (size_t)s.M * ldy; i++) y[i] = 12345.0f;  /* padding must stay untouched */
    t5g_wmat W = {w, T5G_DT_BF16, s.N, s.K, ldw, NULL};
    t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, s.M, ldx, &W, y, ldy);
    double worst = 0;
    for (int m = 0; m < s.M; m++) {
        for (int n = 0; n < s.N; n++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < s.K; k++) {
                double p = (double)x[(size_t)m * ldx + k] * t5g_bf16_to_f32(w[(size_t)n * ldw + k]);
                ref += p;
                mag += fabs(p);
            }
            double e = fabs(y[(size_t)m * ldy + n] - ref) / (mag + 1e-30);
            if (!(e <= worst)) worst = e;  /* NaN counts as worst */
        }
        for (int n = s.N; n < ldy; n++)
            if (y[(size_t)m * ldy + n] != 12345.0f) worst = 1;
    }
    if (yout) memcpy(yout, y, sizeof(float) * (size_t)s.M * ldy);
    free(x); free(w); free(y);
    return worst;
}

static void test_bf16_shapes(void) {
    for (int isa = 1; isa >= 0; isa--) {
        t5g_cpu_lowp_isa(isa);
        for (int threads = 1; threads <= 2; threads++) {
            t5g_pool_set_threads(threads);
            for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
                for (size_t b = 0; b < sizeof NK / sizeof *NK; b++) {
                    shape s = {Ms[a], NK[b][0], NK[b][1], (int)((a + b) % 3)};
                    double e = check_bf16(s, NULL);
                    if (e > 2e-6) printf("\nbf16 M %d N %d K %d isa %d threads %d: rel err %.3g\n", s.M, s.N, s.K, isa, threads, e);
                    CU_ASSERT(e <= 2e-6);
                }
        }
    }
    t5g_cpu_lowp_isa(1);
}

/* K blocks (M·K above the L2 block) and the many-row path: widened panels through BLIS,
 * more than one panel (N·K above 2M floats) */
static void test_bf16_blocks_and_panels(void) {
    t5g_pool_set_threads(2);
    for (int isa = 1; isa >= 0; isa--) {
        t5g_cpu_lowp_isa(isa);
        shape s[] = {{128, 40, 3000, 1}, {100, 8, 7001, 0}, {129, 1030, 2050, 2}, {300, 33, 70, 1}};
        for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
            double e = check_bf16(s[i], NULL);
            if (e > 4e-6) printf("\nbf16 M %d N %d K %d isa %d: rel err %.3g\n", s[i].M, s[i].N, s[i].K, isa, e);
            CU_ASSERT(e <= 4e-6);
        }
    }
    t5g_cpu_lowp_isa(1);
}

/* ---- int8 ---- */
typedef struct { double exact, quant; } i8_err;

/* y from the kernel; exact: vs the same quantization in float64; quant: vs the unquantized
 * float64 product, relative to the bound Σ_k |w_k|·s_x/2 + Σ_k |x_k|·s_w/2 (+ their product) */
static i8_err check_int8(shape s, float *yout) {
    int ldx = s.K + s.pad, ldw = s.K + 2 * s.pad, ldy = s.N + s.pad;
    float *x = malloc(sizeof(float) * (size_t)s.M * ldx), *y = malloc(sizeof(float) * (size_t)s.M * ldy);
    int8_t *w = malloc((size_t)s.N * ldw);
    float *ws = malloc(sizeof(float) * (size_t)s.N);
    for (size_t i = 0; i < (size_t)s.M * ldx; i++) x[i] = frand() * (1 + (int)(i % 7));
    for (int n = 0; n < s.N; n++) {
        ws[n] = (0.5f + frand()) / 127.0f;
        for (int k = 0; k < ldw; k++) w[(size_t)n * ldw + k] = (int8_t)((int)(frand() * 254.999f));
    }
    for (size_t i = 0; i < (size_t)s.M * ldy; i++) y[i] = 12345.0f;
    t5g_wmat W = {w, T5G_DT_INT8, s.N, s.K, ldw, ws};
    t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, s.M, ldx, &W, y, ldy);
    i8_err err = {0, 0};
    int8_t *q = malloc((size_t)s.K + 1);
    for (int m = 0; m < s.M; m++) {
        const float *xr = x + (size_t)m * ldx;
        float amax = 0;  /* the kernel's quantization, in float32 as specified: s_x = amax/127 */
        for (int k = 0; k < s.K; k++) amax = fmaxf(amax, fabsf(xr[k]));
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        double sx = amax / 127.0f;
        for (int k = 0; k < s.K; k++) {
            volatile float t = xr[k] * inv;  /* rounded to float before rint */
            q[k] = (int8_t)nearbyintf(t);
        }
        for (int n = 0; n < s.N; n++) {
            const int8_t *wr = w + (size_t)n * ldw;
            int64_t dot = 0;
            double full = 0, bound = 0, mag = 0;
            for (int k = 0; k < s.K; k++) {
                dot += (int64_t)q[k] * wr[k];
                mag += fabs((double)q[k] * wr[k]);
                full += (double)xr[k] * ws[n] * wr[k];
                bound += fabs((double)ws[n] * wr[k]) * sx / 2;
            }
            double ref = (double)dot * sx * ws[n], got = y[(size_t)m * ldy + n];
            double e1 = fabs(got - ref) / (mag * sx * ws[n] + 1e-30);
            double e2 = fabs(got - full) / (bound + 1e-30);
            if (!(e1 <= err.exact)) err.exact = e1;
            if (!(e2 <= err.quant)) err.quant = e2;
        }
        for (int n = s.N; n < ldy; n++)
            if (y[(size_t)m * ldy + n] != 12345.0f) err.exact = 1;
    }
    if (yout) memcpy(yout, y, sizeof(float) * (size_t)s.M * ldy);
    free(q); free(x); free(w); free(ws); free(y);
    return err;
}

static void int8_case(shape s, int isa, int threads) {
    i8_err e = check_int8(s, NULL);
    /* exact: float rounding of the scale products only; quant: within the rounding bound */
    if (e.exact > 1e-6 || e.quant > 1.0)
        printf("\nint8 M %d N %d K %d isa %d threads %d: err vs same quantization %.3g, vs float64 %.3g of bound\n",
               s.M, s.N, s.K, isa, threads, e.exact, e.quant);
    CU_ASSERT(e.exact <= 1e-6);
    CU_ASSERT(e.quant <= 1.0);
}

/* 2: AMX-INT8 (1 = not usable here), 1: AVX512-VNNI, 0: AVX2 */
static int set_isa(int isa) {
    int amx = t5g_cpu_int8_amx(isa == 2);
    t5g_cpu_lowp_isa(isa ? 1 : 0);
    return isa == 2 && !amx;
}

static void test_int8_shapes(void) {
    for (int isa = 2; isa >= 0; isa--) {
        if (set_isa(isa)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            t5g_pool_set_threads(threads);
            for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
                for (size_t b = 0; b < sizeof NK / sizeof *NK; b++) {
                    shape s = {Ms[a], NK[b][0], NK[b][1], (int)((a + b) % 3)};
                    int8_case(s, isa, threads);
                }
        }
    }
    set_isa(2);
}

static void test_int8_blocks(void) {
    t5g_pool_set_threads(2);
    for (int isa = 2; isa >= 0; isa--) {
        if (set_isa(isa)) continue;
        shape s[] = {{128, 40, 3000, 1}, {100, 8, 7001, 0}, {300, 33, 70, 1}, {2, 5, 40000, 0}};
        for (size_t i = 0; i < sizeof s / sizeof *s; i++) int8_case(s[i], isa, 2);
    }
    set_isa(2);
}

/* the VNNI and AVX2 kernels form the same int32 sums: the same floats bit for bit */
static void test_int8_isas_agree(void) {
    if (!(t5g_cpu_lowp_isa(1) & T5G_LOWP_VNNI)) {
        printf("(no AVX512-VNNI here: only the AVX2 kernel is checked)");
        return;
    }
    shape s[] = {{7, 37, 1000, 1}, {129, 66, 130, 0}, {1, 9, 4099, 2}, {33, 17, 64, 1}, {16, 32, 128, 0}};
    int amx_checked = 0;
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        size_t n = (size_t)s[i].M * (s[i].N + s[i].pad);
        float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
        unsigned seed = rng;
        set_isa(1);
        check_int8(s[i], a);
        rng = seed;
        t5g_cpu_lowp_isa(0);
        check_int8(s[i], b);
        CU_ASSERT(memcmp(a, b, sizeof(float) * n) == 0);
        if (!set_isa(2)) {  /* AMX-INT8 tiles: the same integers too */
            rng = seed;
            check_int8(s[i], b);
            CU_ASSERT(memcmp(a, b, sizeof(float) * n) == 0);
            amx_checked++;
        }
        set_isa(1);
        free(a); free(b);
    }
    printf("(AMX-INT8 = VNNI bit for bit on %d shapes)", amx_checked);
    set_isa(2);
}

/* a row's int8 result does not depend on its batch: below 4 rows the VNNI kernel runs, from 4 the
 * AMX tiles (where the CPU has them), and their integer sums are the same */
static void test_int8_rows_batch_independent(void) {
    set_isa(2);
    t5g_pool_set_threads(2);
    enum { M = 32, N = 300, K = 520 };
    float *x = malloc(sizeof(float) * M * K), *ws = malloc(sizeof(float) * N), *all = malloc(sizeof(float) * M * N),
          *part = malloc(sizeof(float) * 3 * N);
    int8_t *w = malloc((size_t)N * K);
    for (int i = 0; i < M * K; i++) x[i] = frand();
    for (int i = 0; i < N * K; i++) w[i] = (int8_t)(i * 37 % 255 - 127);
    for (int n = 0; n < N; n++) ws[n] = 0.001f * (1 + n % 7);
    t5g_wmat W = {w, T5G_DT_INT8, N, K, K, ws};
    const t5g_backend *be = t5g_backend_cpu();
    be->linear(be->ctx, x, M, K, &W, all, N);
    int differ = 0;
    for (int m = 0; m < M; m++) { /* each row alone (1 row), and in a batch of 3 */
        be->linear(be->ctx, x + (size_t)m * K, 1, K, &W, part, N);
        differ += memcmp(part, all + (size_t)m * N, sizeof(float) * N) != 0;
        if (m + 3 <= M) {
            be->linear(be->ctx, x + (size_t)m * K, 3, K, &W, part, N);
            differ += memcmp(part, all + (size_t)m * N, sizeof(float) * 3 * N) != 0;
        }
    }
    CU_ASSERT_EQUAL(differ, 0);
    printf("(rows of 1 and 3 = rows of 32 bit for bit; AMX-INT8 %s)", t5g_cpu_int8_amx(-1) ? "on from 4 rows" : "not here");
    free(x); free(ws); free(all); free(part); free(w);
}

/* a zero activation row gives 0; a row with inf or NaN gives NaN, never a finite number */
static void test_int8_special_rows(void) {
    for (int isa = 2; isa >= 0; isa--) {
        if (set_isa(isa)) continue;
        int M = 3, N = 5, K = 70;
        float x[3 * 70], y[3 * 5], ws[5];
        int8_t w[5 * 70];
        for (int i = 0; i < M * K; i++) x[i] = i < K ? 0.0f : frand();
        x[2 * K + 11] = INFINITY;
        for (int i = 0; i < N * K; i++) w[i] = (int8_t)(i % 255 - 127);
        for (int n = 0; n < N; n++) ws[n] = 0.01f;
        t5g_wmat W = {w, T5G_DT_INT8, N, K, K, ws};
        t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, M, K, &W, y, N);
        for (int n = 0; n < N; n++) {
            CU_ASSERT(y[n] == 0.0f);
            CU_ASSERT(isfinite(y[N + n]));
            CU_ASSERT(isnan(y[2 * N + n]));
        }
    }
    set_isa(2);
}

static void test_dtype_check(void) {
    CU_ASSERT_EQUAL(t5g_cpu_dtype_check(T5G_DT_BF16), 0);
    CU_ASSERT_EQUAL(t5g_cpu_dtype_check(T5G_DT_INT8), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_cpu_dtype_kernel(T5G_DT_INT8), "int8"));
}

/* linear_softcap (the LM head with its soft-cap in cache-sized blocks) = linear, then softcap, bit
 * for bit, for every weight dtype, with padded strides, from 1 row to past the 256-row switch */
static void test_linear_softcap_equal(void) {
    const t5g_backend *be = t5g_backend_cpu();
    int has_act = t5g_cpu_bf16act_check() == 0, sizes[][3] = {{1, 3000, 67}, {7, 2049, 64}, {32, 5000, 130}, {300, 700, 33}};
    for (int threads = 1; threads <= 2; threads++) {
        t5g_pool_set_threads(threads);
        for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
            int M = sizes[c][0], N = sizes[c][1], K = sizes[c][2], ldx = K + 3, ldy = N + 5;
            float *x = malloc(sizeof(float) * (size_t)M * ldx), *wf = malloc(sizeof(float) * (size_t)N * K);
            float *ws = malloc(sizeof(float) * N), *a = malloc(sizeof(float) * (size_t)M * ldy);
            float *b = malloc(sizeof(float) * (size_t)M * ldy);
            uint16_t *wb = malloc(sizeof(uint16_t) * (size_t)N * K);
            int8_t *wq = malloc((size_t)N * K);
            for (size_t i = 0; i < (size_t)M * ldx; i++) x[i] = 8 * frand();
            for (size_t i = 0; i < (size_t)N * K; i++) {
                wf[i] = frand();
                wb[i] = t5g_f32_to_bf16(wf[i]);
                wq[i] = (int8_t)(i % 255 - 127);
            }
            for (int n = 0; n < N; n++) ws[n] = 0.001f * (1 + n % 7);
            t5g_wmat W[4] = {{wf, T5G_DT_F32, N, K, K, NULL, 0}, {wb, T5G_DT_BF16, N, K, K, NULL, 0},
                             {wq, T5G_DT_INT8, N, K, K, ws, 0}, {wb, T5G_DT_BF16, N, K, K, NULL, 1}};
            for (int d = 0; d < 3 + has_act; d++) {
                for (size_t i = 0; i < (size_t)M * ldy; i++) a[i] = b[i] = 12345.0f;
                be->linear(be->ctx, x, M, ldx, &W[d], a, ldy);
                for (int m = 0; m < M; m++) be->softcap(be->ctx, a + (size_t)m * ldy, (size_t)N, 3.0f);
                be->linear_softcap(be->ctx, x, M, ldx, &W[d], b, ldy, 3.0f);
                CU_ASSERT(memcmp(a, b, sizeof(float) * (size_t)M * ldy) == 0);
                CU_ASSERT(b[(size_t)(M - 1) * ldy + N] == 12345.0f); /* padding untouched */
            }
            free(x);
            free(wf);
            free(ws);
            free(a);
            free(b);
            free(wb);
            free(wq);
        }
    }
}

static CU_TestInfo tests[] = {
    {"bf16_shapes_both_isas", test_bf16_shapes},
    {"bf16_kblocks_and_panels", test_bf16_blocks_and_panels},
    {"int8_shapes_both_isas", test_int8_shapes},
    {"int8_kblocks", test_int8_blocks},
    {"int8_isas_bitwise_equal", test_int8_isas_agree},
    {"int8_zero_and_nonfinite_rows", test_int8_special_rows},
    {"int8_rows_independent_of_batch", test_int8_rows_batch_independent},
    {"dtype_check", test_dtype_check},
    {"linear_softcap_equals_linear_then_softcap", test_linear_softcap_equal},
    CU_TEST_INFO_NULL,
};
static CU_SuiteInfo suites[] = {{"lowp", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
