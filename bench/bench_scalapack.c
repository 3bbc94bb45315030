/* bench_scalapack.c - encoder pass in the 1-D TP layout vs the 2-D ScaLAPACK layout
 * (--encoder-layout 2d, docs/planner.md "ScaLAPACK"), run under mpirun by bench/scalapack.sh.
 * One model with random float32 weights (PRESET's widths; --layers encoder layers, 1 decoder layer
 * and a 1024-token vocabulary so that the encoder's projections dominate); the two layouts are
 * timed interleaved in the same process (1-D, 2-D, 1-D, ...), each pass after a barrier, so load
 * changes on a shared machine hit both alike.  Prints, from world rank 0:
 *   RESULT layout=1d|2d tp=T grid=RxC batch=B len=L median_s=... min_s=... max_s=... tokens_per_s=... sim_s=...
 *   RATIO tp=T grid=RxC batch=B len=L t2d_over_t1d median=... min=... max=... max_abs_diff=...
 * (the ratio of each interleaved pair; max_abs_diff: the encoder outputs of the two layouts).
 * usage: bench_scalapack [--preset P] [--layers N] [--batch B] [--len L] [--reps R] [--layout 2d[:RxC[:NB]]] */
#include "bench_util.h"
#include "t5g.h"
#include "cli/args.h"
#include "core/progress.h"
#include "model/scalapack_layout.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(void) {
    t5g_print_error();
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* one encoder pass after a barrier; seconds of the slowest rank */
static double pass(t5g_state *s, const int32_t *ids, MPI_Comm tp) {
    MPI_Barrier(tp);
    double t0 = t5g_now();
    if (t5g_encode(s, ids, NULL)) die();
    double t = t5g_now() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, tp);
    return t;
}

/* the grid part of t5g_enc2d_describe ("RxC"), for the RESULT lines */
static void grid_name(const t5g_model *m, char *gshort, size_t n) {
    char grid[96];
    t5g_enc2d_describe(m, grid, sizeof grid);
    const char *g = strstr(grid, "grid ") ? strstr(grid, "grid ") + 5 : "?";
    snprintf(gshort, n, "%.*s", (int)strcspn(g, ","), g);
}

/* reps interleaved pairs: t[0][r] 1-D, t[1][r] 2-D (two: the model's 2-D layout), ratio[r] their
 * ratio; sim[k]: simulated seconds per pass */
static void time_pairs(t5g_model *m, struct t5g_enc2d *two, t5g_state *s, const int32_t *ids, MPI_Comm tp, int reps,
                       double *t[2], double *ratio, double sim[2]) {
    sim[0] = sim[1] = 0;
    for (int r = 0; r < reps; r++) {
        m->enc2d = NULL;
        double s0 = s->stats.sim_seconds;
        t[0][r] = pass(s, ids, tp);
        m->enc2d = two;
        double s1 = s->stats.sim_seconds;
        t[1][r] = pass(s, ids, tp);
        sim[0] += s1 - s0;
        sim[1] += s->stats.sim_seconds - s1;
        ratio[r] = t[1][r] / t[0][r];
    }
    sim[0] /= reps;
    sim[1] /= reps;
}

#define USAGE                                                                                                          \
    "usage: bench_scalapack [--preset P] [--layers N] [--batch B] [--len L] [--reps R] [--layout 2d[:RxC[:NB]]]"

int main(int argc, char **argv) {
    const char *preset = "t5gemma-s-s", *spec = "2d";
    int layers = 2, B = 32, L = 16, reps = 5;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "widths of the model, random float32 weights (default t5gemma-s-s)"},
        {"--layers", ARG_INT, &layers, "encoder layers (default 2; the decoder has 1)"},
        {"--batch", ARG_INT, &B, "encoder batch (default 32)"},
        {"--len", ARG_INT, &L, "encoder tokens per sequence (default 16)"},
        {"--reps", ARG_INT, &reps, "interleaved 1-D / 2-D pairs (1..1000, default 5)"},
        {"--layout", ARG_STR, &spec, "the 2-D layout, as t5g's --encoder-layout (default 2d)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--layers", layers, 1, 1024) || args_check_range("--batch", B, 1, T5G_MAX_BATCH) ||
        args_check_range("--len", L, 1, 65536) || args_check_range("--reps", reps, 1, 1000))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm;
    t5g_config c;
    t5g_enc_layout lay;
    if (t5g_comm_init(&comm, 0) || t5g_config_preset(preset, &c) || t5g_enc_layout_parse(spec, &lay)) die();
    c.enc.num_hidden_layers = layers;
    c.dec.num_hidden_layers = 1;
    c.enc.vocab_size = c.dec.vocab_size = 1024;
    t5g_model *m = t5g_model_random(&c, 1, &comm);
    if (!m || t5g_enc2d_attach(m, &lay)) die();
    struct t5g_enc2d *two = m->enc2d;
    char gshort[16];
    grid_name(m, gshort, sizeof gshort);
    t5g_state *s = t5g_state_new(m, B, L, 1, 2);
    int32_t *ids = malloc(sizeof(int32_t) * B * L);
    int64_t N = (int64_t)B * L, He = c.enc.hidden_size;
    float *out1 = malloc(sizeof(float) * N * He);
    if (!s || !ids || !out1) die();
    for (int64_t i = 0; i < N; i++) ids[i] = 3 + (int32_t)((i * 7919) % 1000);
    /* warm both, and compare their outputs */
    m->enc2d = NULL;
    pass(s, ids, comm.tp);
    memcpy(out1, s->enc_out, sizeof(float) * N * He);
    m->enc2d = two;
    pass(s, ids, comm.tp);
    double diff = 0;
    for (int64_t i = 0; i < N * He; i++) diff = fmax(diff, fabs(out1[i] - s->enc_out[i]));
    double *t1 = malloc(sizeof(double) * reps), *t2 = malloc(sizeof(double) * reps),
           *ratio = malloc(sizeof(double) * reps);
    double *t[2] = {t1, t2}, sim[2];
    time_pairs(m, two, s, ids, comm.tp, reps, t, ratio, sim);
    if (comm.world_rank == 0) {
        for (int k = 0; k < 2; k++) {
            double med = median(t[k], reps);
            printf("RESULT layout=%s tp=%d grid=%s batch=%d len=%d median_s=%.4f min_s=%.4f max_s=%.4f "
                   "tokens_per_s=%.1f sim_s=%.4f\n",
                   k ? "2d" : "1d", comm.tp_size, k ? gshort : "1-D", B, L, med, t[k][0], t[k][reps - 1], N / med,
                   sim[k]);
        }
        double med = median(ratio, reps);
        printf("RATIO tp=%d grid=%s batch=%d len=%d t2d_over_t1d median=%.3f min=%.3f max=%.3f max_abs_diff=%.2e\n",
               comm.tp_size, gshort, B, L, med, ratio[0], ratio[reps - 1], diff);
    }
    free(t1);
    free(t2);
    free(ratio);
    free(ids);
    free(out1);
    t5g_state_free(s);
    t5g_model_free(m);
    t5g_comm_free(&comm);
    MPI_Finalize();
    return 0;
}
