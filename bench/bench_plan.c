/* bench_plan.c - the measured side of bench/plan_accuracy.sh: calibration and measurement in
 * one process, interleaved, so that both see the same share of a shared machine.  Each round
 * runs `t5g calibrate`'s measurements (t5g_calibrate over all ranks of this launch) and writes
 * them to MACHINE.r, then times one encoder pass of batch x len tokens and `steps` decoder steps
 * of dec-batch rows over a 64-token source on the TP group of all ranks (random weights).
 * It also counts the CPU time all ranks got during each phase (getrusage), so a run that lost
 * its cores to other work shows it.  Output, one line per round and the medians:
 *   ROUND r=0 enc_tok_s=... dec_tok_s=... enc_cpu_cores=... dec_cpu_cores=... machine=FILE.0
 *   RESULT phase=encoder tokens_per_s=MEDIAN min=... max=...
 * usage: mpirun -np N bench_plan --machine-out FILE [--preset P] [--rounds R] [--batch B]
 *        [--len L] [--dec-batch D] [--steps S] */
#include "bench_util.h"
#include "t5g.h"
#include "cli/args.h"
#include "core/err.h"
#include "core/progress.h"
#include "plan/plan.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

/* cores the whole job used during a phase of `wall` seconds that started at cpu0 */
static double job_cores(double cpu0, double wall) {
    double used = cpu_seconds() - cpu0;
    MPI_Allreduce(MPI_IN_PLACE, &used, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return used / wall;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *phase, double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("RESULT phase=%s tokens_per_s=%.2f min=%.2f max=%.2f rounds=%d\n", phase, med, v[0], v[n - 1], n);
}

typedef struct {
    const char *preset, *out;
    int rounds, B, L, DB, steps;
} opts;

#define USAGE                                                                                                          \
    "usage: mpirun -np N bench_plan --machine-out FILE [--preset P] [--rounds R] [--batch B] [--len L]\n"              \
    "                               [--dec-batch D] [--steps S]"

/* 0 to go on, 1 after --help, -1 on a bad flag or value (message recorded) */
static int parse(int argc, char **argv, opts *o) {
    *o = (opts){"t5gemma-s-s", NULL, 5, 4, 256, 4, 16};
    arg_spec specs[] = {
        {"--machine-out", ARG_STR, &o->out, "calibration of round r goes to FILE.r (required)"},
        {"--preset", ARG_STR, &o->preset, "model shape, random weights (default t5gemma-s-s)"},
        {"--rounds", ARG_INT, &o->rounds, "rounds of calibrate + measure (1..99, default 5)"},
        {"--batch", ARG_INT, &o->B, "encoder batch (default 4)"},
        {"--len", ARG_INT, &o->L, "encoder tokens per sequence (default 256)"},
        {"--dec-batch", ARG_INT, &o->DB, "decoder rows (default 4)"},
        {"--steps", ARG_INT, &o->steps, "timed decoder steps (default 16)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return rc;
    T5G_CHECK(o->out, "bench_plan needs --machine-out FILE (see --help)");
    T5G_TRY(args_check_range("--rounds", o->rounds, 1, 99));
    T5G_TRY(args_check_range("--batch", o->B, 1, T5G_MAX_BATCH));
    T5G_TRY(args_check_range("--len", o->L, 1, 65536));
    T5G_TRY(args_check_range("--dec-batch", o->DB, 1, T5G_MAX_BATCH));
    return args_check_range("--steps", o->steps, 1, 65536);
}

static void fail_all(void) {
    t5g_print_error();
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return args_exit(rc);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm;
    t5g_config c;
    if (t5g_comm_init(&comm, 0) || t5g_config_preset(o.preset, &c)) fail_all();
    t5g_model *m = t5g_model_random(&c, 1, &comm);
    if (!m) fail_all();
    t5g_state *se = t5g_state_new(m, o.B, o.L, o.DB, 2), *sd = t5g_state_new(m, o.DB, 64, o.DB, o.steps + 2);
    int32_t *ids = malloc(sizeof(int32_t) * o.B * o.L), *src = malloc(sizeof(int32_t) * o.DB * 64),
            *tok = malloc(sizeof(int32_t) * o.DB);
    float *logits = malloc(sizeof(float) * o.DB * m->dec.sh.nv);
    if (!se || !sd || !ids || !src || !tok || !logits) fail_all();
    bench_ids(ids, (size_t)o.B * o.L, 7919, 30000, c.enc.vocab_size);
    bench_ids(src, (size_t)o.DB * 64, 31, 30000, c.enc.vocab_size);
    for (int i = 0; i < o.DB; i++) tok[i] = 2;
    if (t5g_encode(se, ids, NULL)) fail_all(); /* warm-up: first-touch of the weights and scratch */
    double enc[99], dec[99];
    for (int r = 0; r < o.rounds; r++) {
        t5g_machine mach;
        char path[4096];
        if (t5g_calibrate(&mach, MPI_COMM_WORLD, 0)) fail_all();
        snprintf(path, sizeof path, "%s.%d", o.out, r);
        if (comm.world_rank == 0 && t5g_machine_save(&mach, path)) fail_all();
        MPI_Barrier(MPI_COMM_WORLD);
        double cpu0 = cpu_seconds(), t0 = t5g_now();
        if (t5g_encode(se, ids, NULL)) fail_all();
        MPI_Barrier(MPI_COMM_WORLD);
        double te = t5g_now() - t0, ce = job_cores(cpu0, te);
        /* a fresh decoder cache each round: encode the source, one untimed step, then the timed ones */
        if (t5g_encode(sd, src, NULL) || t5g_decode(sd, tok, NULL, 1, NULL, logits, 1)) fail_all();
        MPI_Barrier(MPI_COMM_WORLD);
        cpu0 = cpu_seconds();
        t0 = t5g_now();
        for (int i = 0; i < o.steps; i++)
            if (t5g_decode(sd, tok, NULL, 1, NULL, logits, 1)) fail_all();
        MPI_Barrier(MPI_COMM_WORLD);
        double td = t5g_now() - t0, cd = job_cores(cpu0, td);
        enc[r] = (double)o.B * o.L / te;
        dec[r] = (double)o.DB * o.steps / td;
        if (comm.world_rank == 0)
            printf("ROUND r=%d enc_tok_s=%.2f dec_tok_s=%.2f enc_cpu_cores=%.2f dec_cpu_cores=%.2f machine=%s\n", r,
                   enc[r], dec[r], ce, cd, path);
        fflush(stdout);
    }
    if (comm.world_rank == 0) {
        report("encoder", enc, o.rounds);
        report("decode", dec, o.rounds);
    }
    t5g_state_free(se);
    t5g_state_free(sd);
    free(ids);
    free(src);
    free(tok);
    free(logits);
    t5g_model_free(m);
    t5g_comm_free(&comm);
    MPI_Finalize();
    return 0;
}
