/* bench_tp.c - tensor-parallel throughput, run under mpirun by bench/run_bench.sh:
 *   mpirun -np 1 (BLIS_NUM_THREADS=2)  vs  mpirun -np 2 (BLIS_NUM_THREADS=1)
 * Prints encoder tokens/s and decoder step time of one TP group, and the share of time
 * spent in MPI_Allreduce (from the comm counters), as one machine-readable line per phase:
 *   RESULT tp=T threads=N phase=encoder tokens_per_s=... allreduce_share=...
 * usage: bench_tp [--preset P] [--batch B] [--len L] [--dec-batch D] [--steps S] */
#include "bench_util.h"
#include "t5g.h"
#include "cli/args.h"
#include "core/progress.h"
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(void) {
    t5g_print_error();
    MPI_Abort(MPI_COMM_WORLD, 1);
}

#define USAGE "usage: bench_tp [--preset P] [--batch B] [--len L] [--dec-batch D] [--steps S]"

int main(int argc, char **argv) {
    const char *preset = "t5gemma-s-s";
    int B = 4, L = 256, DB = 4, steps = 16, reps = 3;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "model shape, random weights (default t5gemma-s-s)"},
        {"--batch", ARG_INT, &B, "encoder batch (default 4)"},
        {"--len", ARG_INT, &L, "encoder tokens per sequence (default 256)"},
        {"--dec-batch", ARG_INT, &DB, "decoder rows (1..256, default 4)"},
        {"--steps", ARG_INT, &steps, "timed decoder steps (default 16)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), USAGE, NULL, 0, NULL);
    if (rc) return args_exit(rc);
    if (args_check_range("--batch", B, 1, T5G_MAX_BATCH) || args_check_range("--len", L, 1, 65536) ||
        args_check_range("--dec-batch", DB, 1, 256) || args_check_range("--steps", steps, 1, 65536))
        return args_exit(-1);
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm;
    t5g_config c;
    if (t5g_comm_init(&comm, 0) || t5g_config_preset(preset, &c)) die();
    t5g_model *m = t5g_model_random(&c, 1, &comm);
    if (!m) die();
    int threads = (int)bli_thread_get_num_threads();
    /* encoder: B x L tokens, best of reps */
    t5g_state *s = t5g_state_new(m, B, L, DB, steps + 2);
    int32_t *ids = malloc(sizeof(int32_t) * B * L);
    bench_ids(ids, (size_t)B * L, 7919, 30000, c.enc.vocab_size);
    t5g_encode(s, ids, NULL);
    double best = 1e30, share = 0;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(comm.tp);
        double a0 = s->stats.allreduce_seconds, t0 = t5g_now();
        t5g_encode(s, ids, NULL);
        double t = t5g_now() - t0;
        if (t < best) {
            best = t;
            share = (s->stats.allreduce_seconds - a0) / t;
        }
    }
    if (comm.world_rank == 0)
        printf("RESULT tp=%d threads=%d phase=encoder batch=%d len=%d tokens_per_s=%.1f allreduce_share=%.3f\n",
               comm.tp_size, threads, B, L, B * L / best, share);
    t5g_state_free(s);
    /* decoder steps at batch DB over a short source */
    s = t5g_state_new(m, DB, 64, DB, steps + 2);
    int32_t *src = malloc(sizeof(int32_t) * DB * 64), tok[256];
    bench_ids(src, (size_t)DB * 64, 31, 30000, c.enc.vocab_size);
    for (int i = 0; i < DB; i++) tok[i] = 2;
    float *logits = malloc(sizeof(float) * DB * m->dec.sh.nv);
    t5g_encode(s, src, NULL);
    t5g_decode(s, tok, NULL, 1, NULL, logits, 1);
    double tot = 0, ar = 0;
    for (int i = 0; i < steps; i++) {
        MPI_Barrier(comm.tp);
        double a0 = s->stats.allreduce_seconds, t0 = t5g_now();
        t5g_decode(s, tok, NULL, 1, NULL, logits, 1);
        tot += t5g_now() - t0;
        ar += s->stats.allreduce_seconds - a0;
    }
    if (comm.world_rank == 0)
        printf("RESULT tp=%d threads=%d phase=decode batch=%d step_ms=%.2f tokens_per_s=%.1f allreduce_share=%.3f\n",
               comm.tp_size, threads, DB, tot / steps * 1e3, DB * steps / tot, ar / tot);
    t5g_state_free(s);
    free(ids);
    free(src);
    free(logits);
    t5g_model_free(m);
    t5g_comm_free(&comm);
    MPI_Finalize();
    return 0;
}
