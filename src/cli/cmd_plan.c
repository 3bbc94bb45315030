/* cmd_plan.c - `t5g plan` (layout planner) and `t5g calibrate` (machine numbers). */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "io/ckpt.h"
#include "parallel/plan.h"
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
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    }
    if (*end == 'B' || *end == 'i') end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    T5G_CHECK(*end == 0, "--mem-per-rank must be a size like 64G or 68719476736, got '%s'", s);
    *out = (int64_t)(v * mul);
    return 0;
}

static double gib(int64_t b) { return b / 1073741824.0; }

static void print_plan(const t5g_config *c, const t5g_plan *p, const t5g_machine *m, int64_t mem) {
    int world = p->nodes * p->ranks_per_node;
    printf("layout     %d nodes x %d ranks = %d ranks: TP %d x DP %d (%s checkpoint)\n", p->nodes, p->ranks_per_node,
           world, p->tp, world / p->tp, p->dtype_bytes == 2 ? "bfloat16" : p->dtype_bytes == 1 ? "int8" : "float32");
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
    if (mem) printf("  available                %10.3f GiB  -> %s\n", gib(mem), p->total <= mem ? "fits" : "DOES NOT FIT");
    printf("checkpoint read per rank   %.3f GiB\n", gib(p->checkpoint_read));
    printf("all-reduces: %.0f per encoder pass (%.0f bytes per source token), %.0f per decoder step (%.0f bytes per generated token)\n",
           p->allreduces_per_enc_pass, p->bytes_per_enc_token, p->allreduces_per_step, p->bytes_per_gen_token);
    printf("machine    GEMM %.1f GFLOP/s, skinny GEMM %.1f GFLOP/s, read bandwidth %.1f GB/s, all-reduce %.1f us + %.2f GB/s%s\n",
           m->gemm_gflops, m->skinny_gflops, m->mem_bw_gbs, m->ar_latency_us, m->ar_bw_gbs,
           m->measured_allreduce ? "" : " (all-reduce: platform defaults; run t5g calibrate under mpirun)");
    printf("predicted  encoder %.0f tokens/s per TP group; decoder step %.2f ms (weights %.2f ms, all-reduce %.2f ms) = %.1f generated tokens/s per TP group, %.1f for the job\n",
           p->enc_tokens_per_s, p->step_ms, p->step_mem_ms, p->step_comm_ms, p->gen_tokens_per_s,
           p->gen_tokens_per_s * world / p->tp);
    (void)c;
}

int cmd_plan(int argc, char **argv) {
    const char *preset = NULL, *config = NULL, *model = NULL, *dtype = NULL, *memstr = NULL, *calib = NULL, *ct = NULL;
    int nodes = 1, rpn = 1, tp = 0, batch = 8, src = 512, tgt = 128, beams = 1, print_tp = 0;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "preset name"},
        {"--config", ARG_STR, &config, "HF config.json"},
        {"-m|--model", ARG_STR, &model, "HDF5 checkpoint"},
        {"--nodes", ARG_INT, &nodes, "nodes (default 1)"},
        {"--ranks-per-node", ARG_INT, &rpn, "MPI ranks per node (default 1)"},
        {"--tp", ARG_INT, &tp, "tensor-parallel size (default: smallest valid size that fits)"},
        {"--dtype", ARG_STR, &dtype, "checkpoint storage f32|bf16|int8 (default: the checkpoint's, else bf16)"},
        {"--compute-type", ARG_STR, &ct, "weights in memory f32|bf16|int8 (default: the storage dtype)"},
        {"--batch", ARG_INT, &batch, "requests per batch (default 8)"},
        {"--src-len", ARG_INT, &src, "source tokens (default 512)"},
        {"--tgt-len", ARG_INT, &tgt, "generated tokens (default 128)"},
        {"--beams", ARG_INT, &beams, "beams (default 1)"},
        {"--mem-per-rank", ARG_STR, &memstr, "memory per rank, e.g. 64G"},
        {"--calibration", ARG_STR, &calib, "machine numbers from t5g calibrate (default: measure now, quickly)"},
        {"--print-tp", ARG_FLAG, &print_tp, "print only the TP size to use"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]),
                        "usage: t5g plan (--preset NAME | -m MODEL.h5) --nodes N --ranks-per-node R [--tp T] [--dtype f32|bf16|int8] [--compute-type f32|bf16|int8]\n"
                        "       [--batch B --src-len S --tgt-len L --beams K] [--mem-per-rank BYTES] [--print-tp]",
                        NULL, 0, NULL);
    if (!rc && (args_check_range("--nodes", nodes, 1, 65536) || args_check_range("--ranks-per-node", rpn, 1, 1024) ||
                args_check_range("--tp", tp, 0, 1 << 20) || args_check_range("--batch", batch, 1, T5G_MAX_BATCH) ||
                args_check_range("--src-len", src, 1, 1 << 20) || args_check_range("--tgt-len", tgt, 1, 1 << 20) ||
                args_check_range("--beams", beams, 1, 64)))
        rc = -1;
    if (rc) { if (rc < 0) t5g_print_error(); return rc < 0 ? 2 : 0; }
    t5g_config c;
    int64_t mem = 0;
    if ((memstr && parse_bytes(memstr, &mem)) || cli_load_config(preset, config, model, &c)) { t5g_print_error(); return 2; }
    if (!dtype && model) {  /* the checkpoint's own storage */
        t5g_ckpt *ck = t5g_ckpt_open(model, MPI_COMM_SELF);
        dtype = ck && !strcmp(t5g_ckpt_dtype(ck), "float32") ? "f32" : ck && !strcmp(t5g_ckpt_dtype(ck), "int8") ? "int8" : "bf16";
        t5g_ckpt_close(ck);
    }
    if (!dtype) dtype = "bf16";
    t5g_dtype stored, wdt;
    if (t5g_dtype_parse(dtype, &stored)) { fprintf(stderr, "t5g: error: --dtype must be f32, bf16 or int8\n"); return 2; }
    if (t5g_dtype_parse(ct ? ct : dtype, &wdt)) { t5g_print_error(); return 2; }
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_machine m;
    int fail = calib ? t5g_machine_load(&m, calib) : t5g_calibrate(&m, MPI_COMM_SELF, 1);
    t5g_plan p = {0};
    p.nodes = nodes; p.ranks_per_node = rpn; p.batch = batch; p.src_len = src; p.tgt_len = tgt; p.beams = beams;
    p.dtype_bytes = stored == T5G_DT_INT8 ? 1 : stored == T5G_DT_BF16 ? 2 : 4;
    p.wdtype = (int)wdt;
    int world = nodes * rpn, chosen = 0;
    for (int T = tp ? tp : 1; !fail && T <= (tp ? tp : world); T++) {
        if (!tp && (world % T)) continue;
        p.tp = T;
        if (t5g_plan_compute(&c, &m, &p)) { if (tp) { fail = 1; break; } continue; }
        if (!mem || p.total <= mem) { chosen = T; break; }
        if (tp) break;
    }
    if (!fail && !chosen) {
        if (tp) T5G_FAIL("the model does not fit: TP %d needs %.2f GiB per rank, %.2f GiB available; use a larger --tp, more ranks or nodes, or a smaller --batch",
                         tp, gib(p.total), gib(mem));
        else T5G_FAIL("the model does not fit in %.2f GiB per rank with any TP size up to %d ranks; use more nodes or ranks per node, or a smaller --batch",
                      gib(mem), world);
        fail = 1;
    }
    if (!fail) {
        if (print_tp) printf("%d\n", chosen);
        else print_plan(&c, &p, &m, mem);
    } else {
        if (!print_tp && tp && p.total) print_plan(&c, &p, &m, mem);
        t5g_print_error();
    }
    MPI_Finalize();
    return fail ? 1 : 0;
}

int cmd_calibrate(int argc, char **argv) {
    const char *out = NULL;
    int quick = 0, threads = 0;
    arg_spec specs[] = {
        {"-o|--out", ARG_STR, &out, "write the numbers as JSON (for t5g plan --calibration)"},
        {"--quick", ARG_FLAG, &quick, "smaller measurements (~1 s)"},
        {"--threads", ARG_INT, &threads, "BLIS threads per rank"},
    };
    int rc = args_parse(argc, argv, specs, 3, "usage: [mpirun -np N] t5g calibrate [-o FILE] [--quick]", NULL, 0, NULL);
    if (rc) { if (rc < 0) t5g_print_error(); return rc < 0 ? 2 : 0; }
    t5g_comm comm;
    int fail = cli_mpi_begin(&argc, &argv, 0, threads, &comm) != 0;
    t5g_machine m;
    if (!fail) fail = t5g_calibrate(&m, MPI_COMM_WORLD, quick) != 0;
    if (!fail && comm.world_rank == 0) {
        printf("GEMM %.1f GFLOP/s, skinny GEMM (M=8) %.1f GFLOP/s, read bandwidth %.1f GB/s, all-reduce %.2f us latency, %.2f GB/s (%s), %d threads\n",
               m.gemm_gflops, m.skinny_gflops, m.mem_bw_gbs, m.ar_latency_us, m.ar_bw_gbs,
               m.measured_allreduce ? "measured" : "platform defaults: run under mpirun -np 2+", m.threads);
        if (out) fail = t5g_machine_save(&m, out) != 0;
    }
    return cli_mpi_end(&comm, fail);
}
