/* test_lowp_bf16act.c - the bf16-act kernel (linear_bf16dp.c: activations rounded to bf16,
 * vdpbf16ps, float32 accumulation) against a float64 reference on random odd shapes,
 * M = 1..129 and 300, with padded strides, one and two threads.
 *  reference: float64 sum of bf16(x)·w (x rounded to nearest even here, w bf16 as stored);
 *  tolerance: 2e-6 of Σ|bf16(x)·w| (float32 accumulation);
 *  the activation rounding is really applied: against the unrounded x the error exceeds it;
 *  batch composition: each row of an M-row call equals, bit for bit, the same row computed
 *  alone (M = 1) and inside other batches (no numerics switched by M).
 * Both kernels: AMX-BF16 tiles (where the CPU and OS allow) and vdpbf16ps.
 * On a CPU without AVX512-BF16 the test asserts the one clear error instead. */
#include "testutil.h"
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

static unsigned rng = 4242u;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

static const int Ms[] = {1, 2, 3, 5, 6, 7, 13, 16, 31, 32, 64, 65, 100, 128, 129, 300};
static const int NK[][2] = {{1, 1}, {3, 5}, {4, 16}, {37, 19}, {130, 67}, {257, 512}, {64, 1000}, {9, 4099}, {5, 63}, {6, 65}, {33, 32}};

static int have_bf16dp(void) { return t5g_cpu_bf16act_check() == 0; }

typedef struct { double err, err_unrounded; } errs;

/* y = x·Wᵀ through the backend with W->act_bf16; errors against the two references */
static errs check(int M, int N, int K, int pad, float *yout) {
    int ldx = K + pad, ldw = K + 2 * pad, ldy = N + pad;
    float *x = malloc(sizeof(float) * (size_t)M * ldx), *y = malloc(sizeof(float) * (size_t)M * ldy);
    uint16_t *w = malloc(sizeof(uint16_t) * (size_t)N * ldw);
    for (size_t i = 0; i < (size_t)M * ldx; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)N * ldw; i++) w[i] = t5g_f32_to_bf16(frand());
    for (size_t i = 0; i < (size_t)M * ldy; i++) y[i] = 12345.0f;  /* padding must stay untouched */
    t5g_wmat W = {w, T5G_DT_BF16, N, K, ldw, NULL, 1};
    t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, M, ldx, &W, y, ldy);
    errs e = {0, 0};
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double ref = 0, raw = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                double wk = t5g_bf16_to_f32(w[(size_t)n * ldw + k]), xk = x[(size_t)m * ldx + k];
                double p = (double)t5g_bf16_to_f32(t5g_f32_to_bf16((float)xk)) * wk;
                ref += p;
                raw += xk * wk;
                mag += fabs(p);
            }
            double v = y[(size_t)m * ldy + n], d = fabs(v - ref) / (mag + 1e-30), r = fabs(v - raw) / (mag + 1e-30);
            if (!(d <= e.err)) e.err = d;  /* NaN counts as worst */
            if (r > e.err_unrounded) e.err_unrounded = r;
        }
        for (int n = N; n < ldy; n++)
            if (y[(size_t)m * ldy + n] != 12345.0f) e.err = 1;
    }
    if (yout) memcpy(yout, y, sizeof(float) * (size_t)M * ldy);
    free(x); free(w); free(y);
    return e;
}

static void test_shapes(void) {
    if (!have_bf16dp()) {
        CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "AVX512-BF16"));
        printf("\n  no AVX512-BF16 on this CPU: the clear error is checked instead");
        return;
    }
    double worst = 0, unrounded = 0;
    for (int path = 0; path < 4; path++) {  /* AMX (where usable) and vdpbf16ps, one and two threads */
        int threads = 1 + (path & 1);
        t5g_cpu_setup(threads);
        if (!t5g_cpu_bf16act_amx(path >> 1) && (path >> 1)) continue;
        for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
            for (size_t b = 0; b < sizeof NK / sizeof *NK; b++) {
                int M = Ms[a], N = NK[b][0], K = NK[b][1];
                if ((int64_t)M * N * K > (int64_t)40 << 20) continue;
                errs e = check(M, N, K, (int)((a + b) % 3) * 3, NULL);
                if (!(e.err <= 2e-6)) printf("\n  M %d N %d K %d: %.3g", M, N, K, e.err);
                CU_ASSERT(e.err <= 2e-6);
                if (!(e.err <= worst)) worst = e.err;
                if (K >= 64 && e.err_unrounded > unrounded) unrounded = e.err_unrounded;
            }
    }
    printf("\n  worst error / sum|x.w| %.2e; against unrounded x %.2e (AMX %s)", worst, unrounded,
           t5g_cpu_bf16act_amx(1) ? "and vdpbf16ps" : "not usable here: vdpbf16ps only");
    CU_ASSERT(unrounded > 1e-4);  /* the activations really are rounded to bf16 */
    t5g_cpu_setup(0);
}

/* every row of one call equals that row computed alone and in a batch of another size */
static void test_batch_independent(void) {
    if (!have_bf16dp()) {
        CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "AVX512-BF16"));
        return;
    }
    const int N = 131, K = 1029, Mall = 300;
    float *x = malloc(sizeof(float) * (size_t)Mall * K), *yall = malloc(sizeof(float) * (size_t)Mall * N),
          *y = malloc(sizeof(float) * (size_t)Mall * N);
    uint16_t *w = malloc(sizeof(uint16_t) * (size_t)N * K);
    for (size_t i = 0; i < (size_t)Mall * K; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)N * K; i++) w[i] = t5g_f32_to_bf16(frand());
    t5g_wmat W = {w, T5G_DT_BF16, N, K, K, NULL, 1};
    const t5g_backend *be = t5g_backend_cpu();
    be->linear(be->ctx, x, Mall, K, &W, yall, N);
    int bad = 0;
    const int sub[] = {1, 2, 5, 6, 7, 16, 17, 32, 129};
    for (int amx = 1; amx >= 0; amx--) {
    if (!t5g_cpu_bf16act_amx(amx) && amx) continue;
    float *first = amx ? NULL : malloc(sizeof(float) * (size_t)Mall * N);
    if (first) memcpy(first, yall, sizeof(float) * (size_t)Mall * N);
    be->linear(be->ctx, x, Mall, K, &W, yall, N);
    for (size_t s = 0; s < sizeof sub / sizeof *sub; s++)
        for (int m0 = 0; m0 + sub[s] <= Mall; m0 += sub[s] * 7 + 3) {  /* rows at every tile offset */
            be->linear(be->ctx, x + (size_t)m0 * K, sub[s], K, &W, y, N);
            bad += memcmp(y, yall + (size_t)m0 * N, sizeof(float) * (size_t)sub[s] * N) != 0;
        }
    free(first);
    }
    CU_ASSERT_EQUAL(bad, 0);
    t5g_cpu_bf16act_amx(1);
    free(x); free(yall); free(y); free(w);
}

/* NaN and inf in the activations reach the output, not a finite number */
static void test_nonfinite(void) {
    if (!have_bf16dp()) return;
    for (int amx = 1; amx >= 0; amx--) {
    if (!t5g_cpu_bf16act_amx(amx) && amx) continue;
    const int N = 5, K = 40;
    float x[2 * 40], y[2 * 5];
    uint16_t w[5 * 40];
    for (int i = 0; i < 2 * K; i++) x[i] = frand();
    for (int i = 0; i < N * K; i++) w[i] = t5g_f32_to_bf16(frand());
    x[3] = NAN;
    x[K + 37] = INFINITY;
    t5g_wmat W = {w, T5G_DT_BF16, N, K, K, NULL, 1};
    t5g_backend_cpu()->linear(NULL, x, 2, K, &W, y, N);
    for (int n = 0; n < N; n++) {
        CU_ASSERT(isnan(y[n]));
        CU_ASSERT(!isfinite(y[N + n]));
    }
    }
    t5g_cpu_bf16act_amx(1);
}

static CU_TestInfo tests[] = {
    {"bf16-act kernel vs float64 on odd shapes", test_shapes},
    {"bf16-act rows independent of the batch", test_batch_independent},
    {"bf16-act NaN / inf propagate", test_nonfinite},
    CU_TEST_INFO_NULL,
};
static CU_SuiteInfo suites[] = {{"lowp_bf16act", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
