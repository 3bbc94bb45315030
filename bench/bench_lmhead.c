/* bench_lmhead.c - one decode step's LM head (256000 x 512 by default, the t5gemma-s-s shape) at M
 * rows for each weight dtype: the product alone, the final soft-cap pass, the argmax, and the fused
 * product + soft-cap (backend linear_softcap), in process CPU time (all threads together) and wall
 * time, medians and ranges of --reps interleaved repetitions.  CPU time is what to compare on a
 * shared host: a descheduled thread adds wall time, not CPU time.  Also checks that the fused op
 * equals the product then the soft-cap bit for bit.
 * usage: bench_lmhead [--rows M] [--reps R] [--vocab V] [--hidden H] */
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include "cli/args.h"
#include "parallel/vocab.h"
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Random weights (and their bf16 / per-row int8 copies) and activations, the same on every run. */
static void fill(float *wf, float *x, uint16_t *wb, int8_t *wq, float *sc, int N, int K, int M) {
    unsigned r = 1;
    for (size_t i = 0; i < (size_t)N * K; i++) {
        r = r * 1664525u + 1013904223u;
        wf[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
    }
    for (size_t i = 0; i < (size_t)M * K; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = 4.0f * ((float)(r >> 8) / 16777216.0f - 0.5f);
    }
    for (int n = 0; n < N; n++) {
        float amax = 0;
        for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(wf[(size_t)n * K + k]));
        sc[n] = amax / 127.0f;
        for (int k = 0; k < K; k++) {
            wb[(size_t)n * K + k] = t5g_f32_to_bf16(wf[(size_t)n * K + k]);
            wq[(size_t)n * K + k] = (int8_t)rintf(wf[(size_t)n * K + k] / sc[n]);
        }
    }
}

/* One dtype: product, soft-cap pass and fused op timed interleaved (ta: argmax after the fused op), then the
 * fused == separate check, printed as one row. */
static void bench_dtype(const t5g_backend *be, const t5g_wmat *Wd, const char *name, const float *x, float *y,
                        float *ref, int *ids, int M, int N, int K, int reps, double *ta) {
    double tc[4][64], tw[4][64];
    for (int rep = 0; rep < reps; rep++)
        for (int op = 0; op < 3; op++) {
            double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
            if (op == 0) be->linear(be->ctx, x, M, K, Wd, y, N);
            else if (op == 1) be->softcap(be->ctx, y, (size_t)M * N, 30.0f);
            else be->linear_softcap(be->ctx, x, M, K, Wd, y, N, 30.0f);
            tc[op][rep] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
            tw[op][rep] = now(CLOCK_MONOTONIC) - w0;
            if (op == 2) {
                c0 = now(CLOCK_PROCESS_CPUTIME_ID);
                t5g_vocab_argmax(NULL, y, M, N, 0, ids, NULL);
                ta[rep] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
            }
        }
    be->linear(be->ctx, x, M, K, Wd, ref, N);
    be->softcap(be->ctx, ref, (size_t)M * N, 30.0f);
    be->linear_softcap(be->ctx, x, M, K, Wd, y, N, 30.0f);
    int same = !memcmp(ref, y, sizeof(float) * (size_t)M * N);
    char cell[3][64];
    for (int op = 0; op < 3; op++) {
        qsort(tc[op], reps, sizeof(double), cmpd);
        qsort(tw[op], reps, sizeof(double), cmpd);
        snprintf(cell[op], sizeof cell[op], "%.1f [%.1f-%.1f] / %.1f", 1e3 * tc[op][reps / 2], 1e3 * tc[op][0],
                 1e3 * tc[op][reps - 1], 1e3 * tw[op][reps / 2]);
    }
    printf("%-9s %-28s %-28.*s %-28s %s\n", name, cell[0], (int)(strchr(cell[1], '/') - cell[1]), cell[1], cell[2],
           same ? "yes" : "NO");
}

#define USAGE "usage: bench_lmhead [--rows M] [--reps R] [--vocab V] [--hidden H]"

int main(int argc, char **argv) {
    int N = 256000, K = 512, M = 32, reps = 7;
    arg_spec specs[] = {
        {"--rows", ARG_INT, &M, "rows of activations: the decode batch (1..512, default 32)"},
        {"--reps", ARG_INT, &reps, "repetitions, interleaved; medians (1..64, default 7)"},
        {"--vocab", ARG_INT, &N, "LM head rows (default 256000)"},
        {"--hidden", ARG_INT, &K, "LM head columns (default 512)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--rows", M, 1, 512) || args_check_range("--reps", reps, 1, 64) ||
        args_check_range("--vocab", N, 1, 1 << 22) || args_check_range("--hidden", K, 1, 65536))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    float *wf = malloc(sizeof(float) * (size_t)N * K), *x = malloc(sizeof(float) * (size_t)M * K);
    float *y = malloc(sizeof(float) * (size_t)M * N), *ref = malloc(sizeof(float) * (size_t)M * N);
    uint16_t *wb = malloc(sizeof(uint16_t) * (size_t)N * K);
    int8_t *wq = malloc((size_t)N * K);
    float *sc = malloc(sizeof(float) * N);
    if (!wf || !x || !y || !ref || !wb || !wq || !sc) {
        fprintf(stderr, "bench_lmhead: out of memory\n");
        return 1;
    }
    fill(wf, x, wb, wq, sc, N, K, M);
    int nd = t5g_cpu_bf16act_check() == 0 ? 3 : 2;
    t5g_wmat W[3] = {
        {wf, T5G_DT_F32, N, K, K, NULL, 0}, {wq, T5G_DT_INT8, N, K, K, sc, 0}, {wb, T5G_DT_BF16, N, K, K, NULL, 1}};
    const char *name[3] = {"f32", "int8", "bf16-act"};
    const t5g_backend *be = t5g_backend_cpu();
    printf("LM head %d x %d, %d rows, %d threads; kernels: %s; ms per call, median [range] of %d\n", N, K, M,
           t5g_pool_threads(), t5g_cpu_dtype_kernel(T5G_DT_INT8), reps);
    printf("%-9s %-28s %-28s %-28s %s\n", "dtype", "product (cpu / wall)", "+ soft-cap pass (cpu)",
           "fused (cpu / wall)", "fused == separate");
    int *ids = malloc(sizeof(int) * M);
    double ta[64];
    for (int d = 0; d < nd; d++) bench_dtype(be, &W[d], name[d], x, y, ref, ids, M, N, K, reps, ta);
    qsort(ta, reps, sizeof(double), cmpd);
    printf("argmax of the %d x %d logits: %.1f ms cpu\n", M, N, 1e3 * ta[reps / 2]);
    free(ids);
    MPI_Finalize();
    return 0;
}
