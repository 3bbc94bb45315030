/* bench_lowp.c - the bf16, bf16-act and int8 weight kernels against the float32 one, measured in
 * the same run, interleaved: GFLOP/s (2·M·N·K per call) and the weight-read rate (GB/s of the
 * weights as stored) at M = 1..512 on a t5gemma-s-s-shaped projection and LM head, against
 * the read bandwidth of the machine (the decode roofline: weight bytes ÷ bandwidth).
 * bf16-act (activations rounded to bf16: AMX tiles, else vdpbf16ps) only where the CPU has AVX512-BF16.
 * Medians of --reps repetitions.
 * usage: bench_lowp [--reps R] [--vocab V] [--hidden H] [--ffn F] */
#include "bench_util.h"
#include "cli/args.h"
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

typedef struct {
    const char *name;
    int N, K;
} shape;

/* One shape's weights in every stored form: f32, bf16, int8 with per-row scales, and bf16 with
 * bf16 activations, with the bytes each form reads per call. */
typedef struct {
    float *wf, *sc;
    uint16_t *wb;
    int8_t *wq;
    t5g_wmat W[4];
    size_t wbytes[4];
} weights;

static void weights_make(weights *w, int N, int K) {
    w->wf = rnd((size_t)N * K, 7);
    w->wb = malloc(sizeof(uint16_t) * (size_t)N * K);
    w->wq = malloc((size_t)N * K);
    w->sc = malloc(sizeof(float) * N);
    for (int n = 0; n < N; n++) {
        const float *row = w->wf + (size_t)n * K;
        float amax = 0;
        for (int k = 0; k < K; k++) amax = fmaxf(amax, fabsf(row[k]));
        w->sc[n] = amax / 127.0f;
        for (int k = 0; k < K; k++) {
            w->wb[(size_t)n * K + k] = t5g_f32_to_bf16(row[k]);
            w->wq[(size_t)n * K + k] = (int8_t)rintf(row[k] / w->sc[n]);
        }
    }
    t5g_wmat W[4] = {{w->wf, T5G_DT_F32, N, K, K, NULL, 0},
                     {w->wb, T5G_DT_BF16, N, K, K, NULL, 0},
                     {w->wq, T5G_DT_INT8, N, K, K, w->sc, 0},
                     {w->wb, T5G_DT_BF16, N, K, K, NULL, 1}};
    size_t wbytes[4] = {(size_t)N * K * 4, (size_t)N * K * 2, (size_t)N * K + (size_t)N * 4, (size_t)N * K * 2};
    memcpy(w->W, W, sizeof W);
    memcpy(w->wbytes, wbytes, sizeof wbytes);
}

static void weights_free(weights *w) {
    free(w->wf);
    free(w->wb);
    free(w->wq);
    free(w->sc);
}

/* One table: the nd weight forms at M = 1..512, interleaved repetitions, medians. */
static void bench_shape(const shape *sh, int reps, int nd, double BW) {
    static const int Ms[] = {1, 8, 32, 128, 512};
    const t5g_backend *be = t5g_backend_cpu();
    int N = sh->N, K = sh->K;
    int maxm = N > 65536 ? 128 : 512;
    weights w;
    weights_make(&w, N, K);
    float *x = rnd((size_t)maxm * K, 11), *y = malloc(sizeof(float) * (size_t)maxm * N);
    printf("\n%s  N %d  K %d   GFLOP/s (weight GB/s; time / roofline = weight bytes / %.1f GB/s)\n", sh->name, N, K,
           BW);
    printf("%5s %24s %24s %24s %24s\n", "M", "f32", "bf16", "int8", nd == 4 ? "bf16-act" : "");
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++) {
        int M = Ms[a];
        if (M > maxm) continue; /* prefill rows on the LM head: not a workload */
        double t[4][64];
        for (int r = 0; r < reps; r++) { /* interleaved */
            for (int d = 0; d < nd; d++) {
                be->linear(be->ctx, x, M, K, &w.W[d], y, N); /* warm */
                double t0 = t5g_now();
                be->linear(be->ctx, x, M, K, &w.W[d], y, N);
                t[d][r] = t5g_now() - t0;
            }
        }
        printf("%5d", M);
        for (int d = 0; d < nd; d++) {
            double tm = median(t[d], reps), roof = w.wbytes[d] / (BW * 1e9);
            char cell[64];
            snprintf(cell, sizeof cell, "%.1f (%.1f; %.2fx)", 2.0 * M * N * K / tm * 1e-9, w.wbytes[d] / tm * 1e-9,
                     tm / roof);
            printf(" %24s", cell);
        }
        printf("\n");
    }
    free(x);
    free(y);
    weights_free(&w);
}

#define USAGE "usage: bench_lowp [--reps R] [--vocab V] [--hidden H] [--ffn F]"

int main(int argc, char **argv) {
    int reps = 5, V = 256000, H = 512, F = 1024;
    arg_spec specs[] = {
        {"--reps", ARG_INT, &reps, "repetitions, interleaved; medians (1..64, default 5)"},
        {"--vocab", ARG_INT, &V, "LM head rows (default 256000)"},
        {"--hidden", ARG_INT, &H, "hidden size: the columns of both shapes (default 512)"},
        {"--ffn", ARG_INT, &F, "rows of the ffn up projection (default 1024)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--reps", reps, 1, 64) || args_check_range("--vocab", V, 1, 1 << 22) ||
        args_check_range("--hidden", H, 1, 65536) || args_check_range("--ffn", F, 1, 1 << 22))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_cpu_lowp_isa(1);
    __builtin_cpu_init();
    int has_bf16dp = t5g_cpu_bf16act_check() == 0;
    printf("threads %d; kernels: %s, %s\n", t5g_pool_threads(), t5g_cpu_dtype_kernel(T5G_DT_BF16),
           t5g_cpu_dtype_kernel(T5G_DT_INT8));
    double bw[64];
    for (int r = 0; r < reps; r++) bw[r] = t5g_read_bandwidth((size_t)256 << 20, 1);
    double BW = median(bw, reps);
    printf("read bandwidth %.1f GB/s (median of %d)\n", BW, reps);
    shape shapes[] = {{"ffn up", F, H}, {"LM head", V, H}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) bench_shape(&shapes[s], reps, has_bf16dp ? 4 : 3, BW);
    MPI_Finalize();
    return 0;
}
