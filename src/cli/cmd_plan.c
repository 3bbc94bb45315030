/* cmd_plan.c - `t5g plan` (layout planner) and `t5g calibrate` (machine numbers). */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "io/ckpt.h"
#include "plan/plan.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "64G", "1.5T", "123456789" -> bytes */
static int parse_bytes(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    T5G_CHECK(s != end && !errno && v >= 0, "--mem-per-rank must be a size like 64G or 68719476736, got '%s'", s);
    double mul = 1;
    switch (*end) {
        case 'k':
        case 'K':
            mul = 1024.0;
            end++;
            break;
        case 'm':
        case 'M':
            mul = 1024.0 * 1024;
            end++;
            break;
        case 'g':
        case 'G':
            mul = 1024.0 * 1024 * 1024;
            end++;
            break;
        case 't':
        case 'T':
            mul = 1024.0 * 1024 * 1024 * 1024;
            end++;
            break;
    }
    if (*end == 'B' || *end == 'i') end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    T5G_CHECK(*end == 0, "--mem-per-rank must be a size like 64G or 68719476736, got '%s'", s);
    *out = (int64_t)(v * mul);
    return 0;
}

static double gib(int64_t b) {
    return b / 1073741824.0;
}

static void print_machine(const t5g_machine *m, const char *source) {
    printf("machine    %s: %d cores/node, %d threads/rank; GEMM %.1f GFLOP/s per core, %.1f per node (f32; bf16 %s, "
           "int8 %s), "
           "skinny %.1f; read %.1f GB/s per node, %.1f per core\n",
           source, m->cores, m->threads, m->gemm_gflops, m->gemm_gflops_node,
           m->gemm_gflops_bf16 > 0 ? "given" : "= f32", m->gemm_gflops_int8 > 0 ? "given" : "= f32", m->skinny_gflops,
           m->mem_bw_gbs, m->mem_bw_core_gbs);
    printf("           all-reduce inside a node %.1f us + %.2f GB/s%s; across nodes ", m->ar_latency_us, m->ar_bw_gbs,
           m->measured_allreduce ? "" : " (defaults, not measured)");
    if (m->inter_latency_us > 0) printf("%.1f us + %.2f GB/s", m->inter_latency_us, m->inter_bw_gbs);
    else printf("unknown");
    if (m->sim_latency_us > 0) printf(" (includes %.1f us SIMULATED latency)", m->sim_latency_us);
    printf("\n");
    if (m->cores_got > 0)
        printf(
            "           the calibration got %.2f of the node's %d cores (CPU time / wall; other work took the rest)\n",
            m->cores_got, m->cores);
    if (m->oversub_ranks > 0)
        printf("           all-reduce of %d ranks on %d cores (oversubscribed) %.1f us + %.2f GB/s\n", m->oversub_ranks,
               m->cores, m->oversub_latency_us, m->oversub_bw_gbs);
}

static void print_plan(const t5g_plan *p, const t5g_machine *m, int64_t mem) {
    int world = p->nodes * p->ranks_per_node;
    printf("layout     %d nodes x %d ranks = %d ranks: TP %d x DP %d, a TP group spans %d node(s) (%s checkpoint)\n",
           p->nodes, p->ranks_per_node, world, p->tp, world / p->tp, p->tp_nodes,
           p->dtype_bytes == 2   ? "bfloat16"
           : p->dtype_bytes == 1 ? "int8"
                                 : "float32");
    if (m && p->ranks_per_node > (m->cores > 0 ? m->cores : m->threads))
        printf("           %d ranks on %d cores per node: OVERSUBSCRIBED, each rank gets %.2f cores%s\n",
               p->ranks_per_node, m->cores > 0 ? m->cores : m->threads,
               (double)(m->cores > 0 ? m->cores : m->threads) / p->ranks_per_node,
               m->oversub_ranks > 0 ? "" : "; collectives assume no scheduling waits (no oversub_* numbers)");
    printf("shapes     batch %d, source %d, target %d, beams %d\n", p->batch, p->src_len, p->tgt_len, p->beams);
    printf("memory per rank (busiest rank):\n");
    printf("  weights (%-4s in memory) %10.3f GiB  (replicated part %.3f GiB)\n", t5g_dtype_name((t5g_dtype)p->wdtype),
           gib(p->weights), gib(p->weights_replicated));
    printf("  cross-attention K/V      %10.3f GiB\n", gib(p->cross_kv));
    printf("  self-attention KV cache  %10.3f GiB\n", gib(p->self_kv));
    printf("  activations + scratch    %10.3f GiB\n", gib(p->activations));
    printf("  logits + search          %10.3f GiB\n", gib(p->logits));
    printf("  runtime overhead         %10.3f GiB\n", gib(p->overhead));
    printf("  total                    %10.3f GiB%s\n", gib(p->total), mem ? "" : "  (no --mem-per-rank given)");
    if (mem)
        printf("  available                %10.3f GiB  -> %s\n", gib(mem), p->total <= mem ? "fits" : "DOES NOT FIT");
    printf("memory per node (%d ranks) %9.3f GiB", p->ranks_per_node, gib(p->node_total));
    if (m && m->node_mem_gib > 0)
        printf("  (node has %.1f GiB -> %s)", m->node_mem_gib,
               p->node_total <= m->node_mem_gib * 1073741824.0 ? "fits" : "DOES NOT FIT");
    printf("\ncheckpoint read per rank   %.3f GiB\n", gib(p->checkpoint_read));
    printf("all-reduces: %.0f per encoder pass (%.0f bytes per source token), %.0f per decoder step (%.0f bytes per "
           "generated token)\n",
           p->allreduces_per_enc_pass, p->bytes_per_enc_token, p->allreduces_per_step, p->bytes_per_gen_token);
    if (!p->predicted) {
        printf("predicted  nothing: no machine numbers (give --machine FILE from t5g calibrate, or --measure to "
               "measure this machine now)\n");
        return;
    }
    const char *sim = m->sim_latency_us > 0 && p->tp_nodes > 1 ? " (with SIMULATED inter-node latency)" : "";
    printf("predicted  encoder %.4g tokens/s per TP group: pass %.4g ms = GEMM %.4g + attention %.4g + norms %.4g + "
           "all-reduce %.4g%s\n",
           p->enc_tokens_per_s, p->enc_gemm_ms + p->enc_attn_ms + p->enc_norm_ms + p->enc_comm_ms, p->enc_gemm_ms,
           p->enc_attn_ms, p->enc_norm_ms, p->enc_comm_ms, sim);
    if (p->enc_proj_2d_ms >= 0)
        printf("predicted  encoder projections: 1-D %.4g ms, 2-D ScaLAPACK %.4g ms per pass -> %s\n", p->enc_proj_1d_ms,
               p->enc_proj_2d_ms, p->enc_proj == T5G_ENC_PROJ_2D ? "2-D" : "1-D");
    printf("predicted  decoder step %.4g ms = weights %.4g + cache attention %.4g + norms %.4g + vocab statistics %.4g "
           "+ collectives %.4g%s\n",
           p->step_ms, p->step_mem_ms, p->step_attn_ms, p->step_norm_ms, p->step_vocab_ms, p->step_comm_ms, sim);
    printf("predicted  %.4g generated tokens/s per TP group, %.4g for the job; %.4g requests/s for the job\n",
           p->gen_tokens_per_s, p->gen_tokens_per_s * world / p->tp, p->requests_per_s);
}

static void print_candidates(const t5g_plan *cand, int n, const t5g_plan *best, int64_t mem) {
    printf("layouts considered (TP groups whole inside nodes or spanning whole nodes):\n");
    printf("   TP  DP  nodes/group  GiB/rank   fits  enc tok/s  gen tok/s (job)  requests/s\n");
    for (int i = 0; i < n; i++) {
        const t5g_plan *q = &cand[i];
        int world = q->nodes * q->ranks_per_node;
        printf("  %3d %3d  %11d  %8.2f  %5s  %9.4g  %15.4g  %10.4g%s\n", q->tp, world / q->tp, q->tp_nodes,
               gib(q->total), !mem || q->total <= mem ? "yes" : "no", q->enc_tokens_per_s,
               q->gen_tokens_per_s * world / q->tp, q->requests_per_s, q->tp == best->tp ? "  <- chosen" : "");
    }
}

/* --dtype default: the checkpoint's own storage, else bf16 (what the released checkpoints use). */
static const char *storage_dtype(const char *model) {
    if (!model) return "bf16";
    t5g_ckpt *ck = t5g_ckpt_open(model, MPI_COMM_SELF);
    const char *dt = ck ? t5g_ckpt_dtype(ck) : "";
    const char *r = !strcmp(dt, "float32") ? "f32" : !strcmp(dt, "int8") ? "int8" : "bf16";
    t5g_ckpt_close(ck);
    return r;
}

/* The plan at --tp T, or the layout search's choice; printed (or only the TP size).  1 on failure
 * (error recorded and printed). */
static int plan_and_print(const t5g_config *c, const t5g_machine *mp, t5g_plan *p, int tp, int64_t mem, int print_tp,
                          int print_layout, const char *machine) {
    t5g_plan cand[32];
    int ncand = 0, computed = 0, fail;
    if (tp) {
        p->tp = tp;
        fail = t5g_plan_compute(c, mp, p) != 0;
        computed = !fail;
        if (!fail && mem && p->total > mem) {
            T5G_FAIL("the model does not fit: TP %d needs %.2f GiB per rank, %.2f GiB available; use a larger --tp, "
                     "more ranks or nodes, or a smaller --batch",
                     tp, gib(p->total), gib(mem));
            fail = 1;
        }
    } else {
        t5g_plan best;
        fail = t5g_plan_search(c, mp, p, mem, &best, cand, &ncand) != 0;
        if (!fail) *p = best;
    }
    if (fail) {
        if (!print_tp && !print_layout && computed) print_plan(p, mp, mem);
        t5g_print_error();
        return 1;
    }
    if (print_tp) {
        printf("%d\n", p->tp);
        return 0;
    }
    if (print_layout) { /* what the job scripts pass on: --tp T --encoder-layout 1d|2d */
        printf("%d %s\n", p->tp, p->enc_proj == T5G_ENC_PROJ_2D ? "2d" : "1d");
        return 0;
    }
    if (mp) print_machine(mp, machine ? machine : "measured now on this node (--measure; nothing across nodes)");
    print_plan(p, mp, mem);
    if (!tp && mp) print_candidates(cand, ncand, p, mem);
    return 0;
}

/* what `t5g plan` was asked */
typedef struct {
    const char *preset, *config, *model, *dtype, *memstr, *machine, *calib, *ct;
    int nodes, rpn, tp, batch, src, tgt, beams, print_tp, print_layout, measure, threads;
} plan_opts;

/* 0: parsed and valid; > 0: --help printed; < 0: error recorded */
static int parse_plan_args(int argc, char **argv, plan_opts *o) {
    *o = (plan_opts){.nodes = 1, .rpn = 1, .batch = 8, .src = 512, .tgt = 128, .beams = 1};
    arg_spec specs[] = {
        {"--preset", ARG_STR, &o->preset, "preset name"},
        {"--config", ARG_STR, &o->config, "HF config.json"},
        {"-m|--model", ARG_STR, &o->model, "HDF5 checkpoint"},
        {"--nodes", ARG_INT, &o->nodes, "nodes (default 1)"},
        {"--ranks-per-node", ARG_INT, &o->rpn, "MPI ranks per node (default 1)"},
        {"--tp", ARG_INT, &o->tp, "tensor-parallel size (default: the layout search picks it)"},
        {"--dtype", ARG_STR, &o->dtype, "checkpoint storage f32|bf16|int8 (default: the checkpoint's, else bf16)"},
        {"--compute-type", ARG_STR, &o->ct, "weights in memory f32|bf16|bf16-act|int8 (default: the storage dtype)"},
        {"--batch", ARG_INT, &o->batch, "requests per batch (default 8)"},
        {"--src-len", ARG_INT, &o->src, "source tokens (default 512)"},
        {"--tgt-len", ARG_INT, &o->tgt, "generated tokens (default 128)"},
        {"--beams", ARG_INT, &o->beams, "beams (default 1)"},
        {"--mem-per-rank", ARG_STR, &o->memstr, "memory per rank, e.g. 64G"},
        {"--machine", ARG_STR, &o->machine, "machine description (t5g calibrate -o, or by hand: docs/planner.md)"},
        {"--calibration", ARG_STR, &o->calib, "same as --machine"},
        {"--measure", ARG_FLAG, &o->measure,
         "measure this machine now instead of reading --machine (one node's numbers)"},
        {"--threads", ARG_INT, &o->threads, "threads per rank for the prediction (default: the machine file's)"},
        {"--print-tp", ARG_FLAG, &o->print_tp, "print only the TP size to use"},
        {"--print-layout", ARG_FLAG, &o->print_layout,
         "print only the TP size and the encoder layout to use (\"T 1d\" or \"T 2d\": --tp T --encoder-layout ...)"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]),
                        "usage: t5g plan (--preset NAME | -m MODEL.h5) --nodes N --ranks-per-node R [--tp T] [--dtype "
                        "f32|bf16|int8] [--compute-type f32|bf16|bf16-act|int8]\n"
                        "       [--batch B --src-len S --tgt-len L --beams K] [--mem-per-rank BYTES] [--machine FILE | "
                        "--measure] [--threads N] [--print-tp | --print-layout]",
                        NULL, 0, NULL);
    if (rc) return rc;
    if (args_check_range("--nodes", o->nodes, 1, 65536) || args_check_range("--ranks-per-node", o->rpn, 1, 1024) ||
        args_check_range("--tp", o->tp, 0, 1 << 20) || args_check_range("--batch", o->batch, 1, T5G_MAX_BATCH) ||
        args_check_range("--src-len", o->src, 1, 1 << 20) || args_check_range("--tgt-len", o->tgt, 1, 1 << 20) ||
        args_check_range("--beams", o->beams, 1, 64) || args_check_range("--threads", o->threads, 0, 4096))
        return -1;
    if (o->machine && o->calib) return T5G_FAIL("give --machine or --calibration (the same option), not both");
    if (!o->machine) o->machine = o->calib;
    if (o->machine && o->measure) return T5G_FAIL("give --machine FILE or --measure, not both");
    if (o->print_tp && o->print_layout) return T5G_FAIL("give --print-tp or --print-layout, not both");
    return 0;
}

/* the model, the memory limit and the shapes of the plan (before MPI starts) */
static int plan_inputs(const plan_opts *o, t5g_config *c, int64_t *mem, t5g_plan *p) {
    if (o->memstr && parse_bytes(o->memstr, mem)) return -1;
    T5G_TRY(cli_load_config(o->preset, o->config, o->model, c));
    const char *dtype = o->dtype ? o->dtype : storage_dtype(o->model);
    t5g_dtype stored, wdt;
    int act;
    T5G_CHECK(!t5g_dtype_parse(dtype, &stored), "--dtype must be f32, bf16 or int8");
    T5G_TRY(o->ct ? t5g_compute_type_parse(o->ct, &wdt, &act) : t5g_dtype_parse(dtype, &wdt));
    *p = (t5g_plan){.nodes = o->nodes,
                    .ranks_per_node = o->rpn,
                    .batch = o->batch,
                    .src_len = o->src,
                    .tgt_len = o->tgt,
                    .beams = o->beams};
    p->dtype_bytes = stored == T5G_DT_INT8 ? 1 : stored == T5G_DT_BF16 ? 2 : 4;
    p->wdtype = (int)wdt;
    return 0;
}

int cmd_plan(int argc, char **argv) {
    plan_opts o;
    int rc = parse_plan_args(argc, argv, &o);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    t5g_config c;
    int64_t mem = 0;
    t5g_plan p;
    if (plan_inputs(&o, &c, &mem, &p)) {
        t5g_print_error();
        return 2;
    }
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_machine m, *mp = NULL;
    int fail = 0;
    if (o.machine) fail = t5g_machine_load(&m, o.machine) != 0;
    else if (o.measure) fail = t5g_calibrate(&m, MPI_COMM_SELF, 1) != 0;
    if (!fail && (o.machine || o.measure)) mp = &m;
    if (mp && o.threads) m.threads = o.threads;
    if (!fail) fail = plan_and_print(&c, mp, &p, o.tp, mem, o.print_tp, o.print_layout, o.machine);
    else t5g_print_error();
    MPI_Finalize();
    return fail ? 1 : 0;
}

int cmd_calibrate(int argc, char **argv) {
    const char *out = NULL;
    int quick = 0, threads = 0;
    arg_spec specs[] = {
        {"-o|--out", ARG_STR, &out, "write the numbers as JSON (for t5g plan --machine)"},
        {"--quick", ARG_FLAG, &quick, "smaller measurements (~1 s)"},
        {"--threads", ARG_INT, &threads, "BLIS threads per rank"},
    };
    int rc = args_parse(argc, argv, specs, 3,
                        "usage: [mpirun -np N [--host A:R,B:R]] t5g calibrate [-o FILE] [--quick]\n"
                        "  2+ ranks on a node measure the all-reduce inside a node; ranks on 2+ nodes, across nodes",
                        NULL, 0, NULL);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    t5g_comm comm;
    int fail = cli_mpi_begin(&argc, &argv, 0, threads, &comm) != 0;
    t5g_machine m;
    if (!fail) fail = t5g_calibrate(&m, MPI_COMM_WORLD, quick) != 0;
    if (!fail && comm.world_rank == 0) {
        print_machine(&m, "measured now (medians of 3)");
        if (out) fail = t5g_machine_save(&m, out) != 0;
    }
    return cli_mpi_end(&comm, fail);
}
