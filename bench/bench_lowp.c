/* bench_lowp.c - the bf16, bf16-act and int8 weight kernels against the float32 one, measured in
 * the same run, interleaved: GFLOP/s (2·M·N·K per call) and the weight-read rate (GB/s of the
 * weights as stored) at M = 1..512 on a t5gemma-s-s-shaped projection and LM head, against
 * the read bandwidth of the machine (the decode roofline: weight bytes ÷ bandwidth).
 * bf16-act (activations rounded to bf16: AMX tiles, else vdpbf16ps) only where the CPU has AVX512-BF16.
 * Medians of --reps repetitions.
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

typedef struct {
    const char *name;
    int N, K;
} shape;

int main(int argc, char **argv) {
    int reps = 5, V = 256000, H = 512, F = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--vocab") && i + 1 < argc) V = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc) H = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ffn") && i + 1 < argc) F = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_lowp [--reps R] [--vocab V] [--hidden H] [--ffn F]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 64) reps = 5;
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    int isa = t5g_cpu_lowp_isa(1);
    __builtin_cpu_init();
    int has_bf16dp = t5g_cpu_bf16act_check() == 0;
    printf("threads %d; kernels: %s, %s\n", t5g_pool_threads(), t5g_cpu_dtype_kernel(T5G_DT_BF16),
           t5g_cpu_dtype_kernel(T5G_DT_INT8));
    double bw[64];
    for (int r = 0; r < reps; r++) bw[r] = t5g_read_bandwidth((size_t)256 << 20, 1);
    double BW = median(bw, reps);
    printf("read bandwidth %.1f GB/s (median of %d)\n", BW, reps);
    shape shapes[] = {{"ffn up", F, H}, {"LM head", V, H}};
    int Ms[] = {1, 8, 32, 128, 512};
    const t5g_backend *be = t5g_backend_cpu();
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int N = shapes[s].N, K = shapes[s].K;
        int maxm = N > 65536 ? 128 : 512;
        float *wf = rnd((size_t)N * K, 7), *x = rnd((size_t)maxm * K, 11),
              *y = malloc(sizeof(float) * (size_t)maxm * N);
        uint16_t *wb = malloc(sizeof(uint16_t) * (size_t)N * K);
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
        t5g_wmat W[4] = {{wf, T5G_DT_F32, N, K, K, NULL, 0},
                         {wb, T5G_DT_BF16, N, K, K, NULL, 0},
                         {wq, T5G_DT_INT8, N, K, K, sc, 0},
                         {wb, T5G_DT_BF16, N, K, K, NULL, 1}};
        size_t wbytes[4] = {(size_t)N * K * 4, (size_t)N * K * 2, (size_t)N * K + (size_t)N * 4, (size_t)N * K * 2};
        int nd = has_bf16dp ? 4 : 3;
        printf("\n%s  N %d  K %d   GFLOP/s (weight GB/s; time / roofline = weight bytes / %.1f GB/s)\n", shapes[s].name,
               N, K, BW);
        printf("%5s %24s %24s %24s %24s\n", "M", "f32", "bf16", "int8", has_bf16dp ? "bf16-act" : "");
        for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++) {
            int M = Ms[a];
            if (M > maxm) continue; /* prefill rows on the LM head: not a workload */
            double t[4][64];
            for (int r = 0; r < reps; r++) { /* interleaved */
                for (int d = 0; d < nd; d++) {
                    be->linear(be->ctx, x, M, K, &W[d], y, N); /* warm */
                    double t0 = t5g_now();
                    be->linear(be->ctx, x, M, K, &W[d], y, N);
                    t[d][r] = t5g_now() - t0;
                }
            }
            printf("%5d", M);
            for (int d = 0; d < nd; d++) {
                double tm = median(t[d], reps), roof = wbytes[d] / (BW * 1e9);
                char cell[64];
                snprintf(cell, sizeof cell, "%.1f (%.1f; %.2fx)", 2.0 * M * N * K / tm * 1e-9, wbytes[d] / tm * 1e-9,
                         tm / roof);
                printf(" %24s", cell);
            }
            printf("\n");
        }
        free(wf);
        free(x);
        free(y);
        free(wb);
        free(wq);
        free(sc);
    }
    (void)isa;
    MPI_Finalize();
    return 0;
}
