/* bench_lowp.c - the bf16 and int8 weight kernels against the float32 one, measured in the
 * same run, interleaved: GFLOP/s (2·M·N·K per call) and the weight-read rate (GB/s of the
 * weights as stored) at M = 1..128 on a t5gemma-s-s-shaped projection and LM head, against
 * the read bandwidth of the machine (the decode roofline: weight bytes ÷ bandwidth).
 * Also the rejected bf16 variant: vdpbf16ps with the activations rounded to bf16 (AVX512-BF16
 * only), to show what it would buy.  Medians of --reps repetitions.
 * usage: bench_lowp [--reps R] [--vocab V] [--hidden H] [--ffn F] */
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "core/progress.h"
#include "plan/plan.h"
#include <immintrin.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *rnd(size_t n, unsigned seed) {
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = ((seed >> 9) * (1.0f / 8388608.0f) - 0.5f) * 0.1f;
    }
    return p;
}

/* ---- the rejected variant: vdpbf16ps, activations rounded to bf16 pairs ----
 * The same MR x 4 dot-product tile as linear_bf16.c (MR <= 6, K a multiple of 32 here), but
 * each instruction multiplies 32 bf16 pairs: twice the products per instruction, at the price
 * of rounding every activation to bf16 (not what HF computes in float32). */
typedef struct { const uint16_t *xb, *w; float *y; int M, N, K; } dp_job;

#define T5G_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
T5G_BF16 __attribute__((always_inline)) static inline void dp_tile(const dp_job *j, int m0, int mr, int n0, int nr) {
    __m512 acc[6][4];
    for (int m = 0; m < 6; m++)
        for (int n = 0; n < 4; n++) acc[m][n] = _mm512_setzero_ps();
    const uint16_t *w[4], *a[6];
    for (int n = 0; n < 4; n++) w[n] = j->w + (size_t)(n0 + (n < nr ? n : 0)) * j->K;
    for (int m = 0; m < 6; m++) a[m] = j->xb + (size_t)(m0 + (m < mr ? m : 0)) * j->K;
    for (int k = 0; k + 32 <= j->K; k += 32) {
        __m512bh wv[4];
        for (int n = 0; n < 4; n++) wv[n] = (__m512bh)_mm512_loadu_si512(w[n] + k);
        for (int m = 0; m < 6; m++) {
            if (m >= mr) break;
            __m512bh av = (__m512bh)_mm512_loadu_si512(a[m] + k);
            for (int n = 0; n < 4; n++) acc[m][n] = _mm512_dpbf16_ps(acc[m][n], av, wv[n]);
        }
    }
    for (int m = 0; m < mr; m++)
        for (int n = 0; n < nr; n++) j->y[(size_t)(m0 + m) * j->N + n0 + n] = _mm512_reduce_add_ps(acc[m][n]);
}

T5G_BF16 static void dp_rows(void *ctx, int64_t c0, int64_t c1) {
    const dp_job *j = ctx;
    int n0 = (int)(c0 * 32), n1 = (int)(c1 * 32) < j->N ? (int)(c1 * 32) : j->N;
    for (int m = 0; m < j->M; m += 6) {
        int mr = j->M - m < 6 ? j->M - m : 6;
        for (int n = n0; n < n1; n += 4) {
            int nr = n1 - n < 4 ? n1 - n : 4;
            switch (mr) {
            case 6: dp_tile(j, m, 6, n, nr); break;
            case 5: dp_tile(j, m, 5, n, nr); break;
            case 4: dp_tile(j, m, 4, n, nr); break;
            case 3: dp_tile(j, m, 3, n, nr); break;
            case 2: dp_tile(j, m, 2, n, nr); break;
            default: dp_tile(j, m, 1, n, nr); break;
            }
        }
    }
}

static double time_dpbf16(const float *x, int M, const uint16_t *w, int N, int K, float *y, uint16_t *xb) {
    double t0 = t5g_now();
    for (size_t i = 0; i < (size_t)M * K; i++) xb[i] = t5g_f32_to_bf16(x[i]);
    dp_job j = {xb, w, y, M, N, K};
    t5g_pool_for((N + 31) / 32, 1, dp_rows, &j);
    return t5g_now() - t0;
}

typedef struct { const char *name; int N, K; } shape;

int main(int argc, char **argv) {
    int reps = 5, V = 256000, H = 512, F = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--vocab") && i + 1 < argc) V = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc) H = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ffn") && i + 1 < argc) F = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench_lowp [--reps R] [--vocab V] [--hidden H] [--ffn F]\n"); return 2; }
    }
    if (reps < 1 || reps > 64) reps = 5;
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    int isa = t5g_cpu_lowp_isa(1);
    __builtin_cpu_init();
    int has_bf16dp = !!__builtin_cpu_supports("avx512bf16");
    printf("threads %d; kernels: %s, %s\n", t5g_pool_threads(), t5g_cpu_dtype_kernel(T5G_DT_BF16),
           t5g_cpu_dtype_kernel(T5G_DT_INT8));
    double bw[64];
    for (int r = 0; r < reps; r++) bw[r] = t5g_read_bandwidth((size_t)256 << 20, 1);
    double BW = median(bw, reps);
    printf("read bandwidth %.1f GB/s (median of %d)\n", BW, reps);
    shape shapes[] = {{"ffn up", F, H}, {"LM head", V, H}};
    int Ms[] = {1, 8, 32, 128};
    const t5g_backend *be = t5g_backend_cpu();
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int N = shapes[s].N, K = shapes[s].K;
        float *wf = rnd((size_t)N * K, 7), *x = rnd((size_t)128 * K, 11), *y = malloc(sizeof(float) * (size_t)128 * N);
        uint16_t *wb = malloc(sizeof(uint16_t) * (size_t)N * K), *xb = malloc(sizeof(uint16_t) * (size_t)128 * K);
        int8_t *wq = malloc((size_t)N * K);
        float *sc = malloc(sizeof(float) * N);
        for (int n = 0; n < N; n++) {
            float amax = 0;
            for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(wf[(size_t)n * K + k]));
            sc[n] = amax / 127.0f;
            for (int k = 0; k < K; k++) {
                wb[(size_t)n * K + k] = t5g_f32_to_bf16(wf[(size_t)n * K + k]);
                wq[(size_t)n * K + k] = (int8_t)rintf(wf[(size_t)n * K + k] / sc[n]);
            }
        }
        t5g_wmat W[3] = {{wf, T5G_DT_F32, N, K, K, NULL}, {wb, T5G_DT_BF16, N, K, K, NULL}, {wq, T5G_DT_INT8, N, K, K, sc}};
        size_t wbytes[3] = {(size_t)N * K * 4, (size_t)N * K * 2, (size_t)N * K + (size_t)N * 4};
        printf("\n%s  N %d  K %d   GFLOP/s (weight GB/s; time / roofline = weight bytes / %.1f GB/s)\n", shapes[s].name, N,
               K, BW);
        printf("%5s %24s %24s %24s %18s\n", "M", "f32", "bf16", "int8", has_bf16dp ? "bf16 vdpbf16ps" : "");
        for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++) {
            int M = Ms[a];
            double t[4][64];
            for (int r = 0; r < reps; r++) {  /* interleaved */
                for (int d = 0; d < 3; d++) {
                    be->linear(be->ctx, x, M, K, &W[d], y, N);  /* warm */
                    double t0 = t5g_now();
                    be->linear(be->ctx, x, M, K, &W[d], y, N);
                    t[d][r] = t5g_now() - t0;
                }
                t[3][r] = has_bf16dp && K % 32 == 0 ? time_dpbf16(x, M, wb, N, K, y, xb) : NAN;
            }
            printf("%5d", M);
            for (int d = 0; d < 3; d++) {
                double tm = median(t[d], reps), roof = wbytes[d] / (BW * 1e9);
                char cell[64];
                snprintf(cell, sizeof cell, "%.1f (%.1f; %.2fx)", 2.0 * M * N * K / tm * 1e-9, wbytes[d] / tm * 1e-9, tm / roof);
                printf(" %24s", cell);
            }
            if (has_bf16dp && K % 32 == 0) printf(" %18.1f", 2.0 * M * N * K / median(t[3], reps) * 1e-9);
            printf("\n");
        }
        free(wf); free(x); free(y); free(wb); free(xb); free(wq); free(sc);
    }
    (void)isa;
    MPI_Finalize();
    return 0;
}
