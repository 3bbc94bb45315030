/* bench_linear.c - the decode GEMM kernels against the machine, measured in the same run:
 * square sgemm (BLIS) GFLOP/s as the compute peak, read bandwidth as the memory roofline,
 * and for the t5gemma-s-s decode shapes (LM head 256000 x 512, projections 512..1024) the
 * dot-product-tile kernel vs BLIS at M = 1..128; then the prefill shapes of an 8 x 512 encoder
 * (the projections at M = 4096, attention's q·kᵀ and P·V of one head) through the packed AVX-512
 * GEMM (gemm_f32.c) vs BLIS, both on one thread.  Repetitions are interleaved; medians and
 * ranges are printed.
 * usage: bench_linear [--reps R] [--vocab V] [--hidden H] */
#include "bench_util.h"
#include "cli/args.h"
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "plan/plan.h"
#include "core/progress.h"
#include <blis.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double time_ours(const float *x, int M, const float *w, int N, int K, float *y) {
    double t0 = t5g_now();
    t5g_cpu_linear_small(x, M, K, w, N, K, K, y, N);
    return t5g_now() - t0;
}
static double time_blis(const float *x, int M, const float *w, int N, int K, float *y) {
    float one = 1.0f, zero = 0.0f;
    double t0 = t5g_now();
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, M, N, K, &one, (float *)x, K, 1, (float *)w, K, 1, &zero, y, N, 1);
    return t5g_now() - t0;
}

/* thread CPU seconds: a shared machine's other processes do not count */
static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Prefill products on one thread (thread CPU time): gemm_f32.c (where this CPU has AVX-512) vs BLIS. */
static void prefill(int reps) {
    if (!t5g_gemm_f32_native()) {
        printf("prefill: no AVX-512 here, BLIS does the prefill products\n");
        return;
    }
    t5g_pool_set_threads(1);
    struct {
        const char *name;
        int tb, M, N, K;
    } sh[] = {{"q/k/v/o", 1, 4096, 512, 512}, {"gate/up", 1, 4096, 1024, 512}, {"down", 1, 4096, 512, 1024},
              {"q.k^T", 1, 512, 512, 64},     {"P.V", 0, 512, 64, 512},        {"square", 1, 2048, 2048, 2048}};
    printf("prefill products, 1 thread each, GFLOP/s of thread CPU time:\n");
    printf("%-8s %5s %5s %5s %12s %12s %8s\n", "shape", "M", "N", "K", "ours GF/s", "BLIS GF/s", "ours/BLIS");
    for (size_t i = 0; i < sizeof sh / sizeof *sh; i++) {
        int tb = sh[i].tb, M = sh[i].M, N = sh[i].N, K = sh[i].K, ldb = tb ? K : N;
        float *A = rnd((size_t)M * K, 3), *B = rnd((size_t)N * K, 5), *C = malloc(sizeof(float) * (size_t)M * N);
        double *a = malloc(sizeof(double) * (reps + 1)), *b = malloc(sizeof(double) * (reps + 1));
        float one = 1.0f, zero = 0.0f;
        rntm_t rntm = BLIS_RNTM_INITIALIZER;
        bli_rntm_set_num_threads(1, &rntm);
        for (int r = 0; r <= reps; r++) { /* interleaved; r = 0 warms up */
            double t0 = cpu_now();
            t5g_gemm_f32(0, tb, M, N, K, A, K, B, ldb, 0.0f, C, N);
            double t1 = cpu_now();
            bli_sgemm_ex(BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &one, A, K, 1, B, ldb, 1,
                         &zero, C, N, 1, NULL, &rntm);
            double t2 = cpu_now();
            if (r) {
                a[r - 1] = t1 - t0;
                b[r - 1] = t2 - t1;
            }
        }
        double fl = 2.0 * M * N * (double)K, ta = median(a, reps), tbl = median(b, reps);
        printf("%-8s %5d %5d %5d %12.1f %12.1f %8.2f\n", sh[i].name, M, N, K, fl / ta / 1e9, fl / tbl / 1e9, tbl / ta);
        free(A);
        free(B);
        free(C);
        free(a);
        free(b);
    }
}

#define USAGE "usage: bench_linear [--reps R] [--vocab V] [--hidden H]"

int main(int argc, char **argv) {
    int reps = 5, V = 256000, H = 512;
    arg_spec specs[] = {
        {"--reps", ARG_INT, &reps, "repetitions, interleaved; medians (default 5)"},
        {"--vocab", ARG_INT, &V, "rows of the LM head shape (default 256000)"},
        {"--hidden", ARG_INT, &H, "hidden size: the projections are H x H, 2H x H and H x 2H (default 512)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--reps", reps, 1, 64) || args_check_range("--vocab", V, 1, 1 << 22) ||
        args_check_range("--hidden", H, 1, 65536))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    printf("threads %d\n", (int)bli_thread_get_num_threads());
    double sq[64], bw[64];
    int S = 2048;
    for (int r = 0; r < reps && r < 64; r++) {
        sq[r] = t5g_bare_gemm_gflops(S, S, S, 1);
        bw[r] = t5g_read_bandwidth((size_t)1 << 30, 1);
    }
    double peak = median(sq, reps), band = median(bw, reps);
    printf("square sgemm %d^3 (BLIS): median %.1f GFLOP/s; read bandwidth median %.1f GB/s\n", S, peak, band);
    struct {
        const char *name;
        int N, K;
    } shapes[] = {{"lm_head", V, H}, {"q_proj", H, H}, {"gate_proj", 2 * H, H}, {"down_proj", H, 2 * H}};
    int Ms[] = {1, 8, 16, 32, 64, 128};
    printf("%-10s %4s %10s %10s %12s %12s %8s %s\n", "shape", "M", "ours ms", "BLIS ms", "ours GF/s", "BLIS GF/s",
           "ours/BLIS", "ours vs peak / roofline");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int N = shapes[s].N, K = shapes[s].K;
        float *w = rnd((size_t)N * K, 7), *x = rnd((size_t)128 * K, 11), *y = malloc(sizeof(float) * 128 * (size_t)N);
        for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++) {
            int M = Ms[mi];
            int R = N * (double)K > 1e7 ? reps : reps * 20;
            double *a = malloc(sizeof(double) * R), *b = malloc(sizeof(double) * R);
            time_ours(x, M, w, N, K, y);
            time_blis(x, M, w, N, K, y);
            for (int r = 0; r < R; r++) { /* interleaved */
                a[r] = time_ours(x, M, w, N, K, y);
                b[r] = time_blis(x, M, w, N, K, y);
            }
            double ra = median(a, R), rb = median(b, R), fl = 2.0 * M * N * (double)K;
            double roof = (double)N * K * 4 / (band * 1e9);
            printf("%-10s %4d %10.3f %10.3f %12.1f %12.1f %8.2f %.2f of peak, %.2f x roofline (range %.3f-%.3f ms)\n",
                   shapes[s].name, M, ra * 1e3, rb * 1e3, fl / ra / 1e9, fl / rb / 1e9, rb / ra, fl / ra / 1e9 / peak,
                   ra / roof, a[0] * 1e3, a[R - 1] * 1e3);
            free(a);
            free(b);
        }
        free(w);
        free(x);
        free(y);
    }
    prefill(reps);
    MPI_Finalize();
    return 0;
}
