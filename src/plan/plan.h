/* plan.h - the layout planner: per-rank and per-node memory of a TP x DP layout and a
 * predicted throughput from a machine description (`t5g calibrate` or written by hand; see
 * docs/planner.md).  Memory numbers come from the same functions that size the real
 * allocations (t5g_weight_share, t5g_state_memory). */
#ifndef T5G_PLAN_H
#define T5G_PLAN_H
#include "model/config.h"
#include <mpi.h>
#include <stdint.h>

/* One cluster's numbers (machine file keys in docs/planner.md).  0 in an optional field means
 * "not known": the planner says what it assumed instead, or refuses the layout that needs it. */
typedef struct {
    double gemm_gflops;                        /* f32 GEMM of large shapes, one core */
    double skinny_gflops;                      /* f32 GEMM of decode shape (M = 8), one core */
    double mem_bw_gbs;                         /* streaming read bandwidth of a whole node (all cores) */
    double ar_latency_us;                      /* intra-node MPI_Allreduce of 8 bytes between 2 ranks */
    double ar_bw_gbs;                          /* intra-node MPI_Allreduce of 4 MiB between 2 ranks: bytes / time */
    int threads;                               /* threads per rank the numbers assume by default */
    int measured_allreduce;                    /* 0: the intra-node all-reduce numbers are defaults, not measured */
    int cores;                                 /* cores per node (0: = threads) */
    double mem_bw_core_gbs;                    /* streaming read by one core (0: mem_bw_gbs / cores) */
    double gemm_gflops_bf16, gemm_gflops_int8; /* one core (0: the f32 number is used, said so) */
    double inter_latency_us, inter_bw_gbs;     /* all-reduce step between nodes (0: unknown) */
    double node_mem_gib;                       /* memory of a node (0: unknown) */
    double sim_latency_us;                     /* SIMULATED latency (T5G_SIM_LATENCY_US) included in inter_latency_us */
    double gemm_gflops_node;                   /* f32 GEMM of all cores of a node at once (0: cores x gemm_gflops) */
    /* more ranks than cores on a node: an all-reduce over all oversub_ranks of them, whose
     * cost is the wait for ranks the OS has descheduled (0: not measured) */
    int oversub_ranks;
    /* extra wall time of one collective between computing ranks (measure_sync in plan.c): inside a
     * node, across nodes, oversubscribed (0: not measured) */
    double intra_sync_us, inter_sync_us, oversub_sync_us;
    double cores_got; /* cores the calibration got with every core busy (CPU time / wall; shared node: < cores) */
    double oversub_latency_us, oversub_bw_gbs;
} t5g_machine;

/* Streaming read bandwidth (GB/s) of this rank's threads over `bytes` allocated as the weights are. */
double t5g_read_bandwidth(size_t bytes, int reps);
/* Best-of-reps GFLOP/s of a bare BLIS sgemm C[M,N] = A[M,K]·B[N,K]ᵀ. */
double t5g_bare_gemm_gflops(int M, int N, int K, int reps);

/* Measure the machine: GEMM and bandwidth on world rank 0 (the other ranks idle), the
 * intra-node all-reduce between 2 ranks of a node, the inter-node one between the first ranks
 * of 2 nodes (with the simulated latency of T5G_SIM_LATENCY_US added, as in real runs). */
int t5g_calibrate(t5g_machine *m, MPI_Comm comm, int quick);
int t5g_machine_save(const t5g_machine *m, const char *path);
int t5g_machine_load(t5g_machine *m, const char *path);

/* Layouts of the encoder's projections (q/k/v, o, gate/up, down) the planner chooses between:
 * the 1-D tensor-parallel layout, and an optional 2-D block-cyclic one (ScaLAPACK PSGEMM +
 * PxGEMR2D into the head-parallel layout; src/parallel/scalapack*), picked only where
 * t5g_enc_proj_2d_seconds predicts it faster. */
typedef enum { T5G_ENC_PROJ_1D = 0, T5G_ENC_PROJ_2D = 1 } t5g_enc_proj;

typedef struct {
    int tp, nodes, ranks_per_node;
    int batch, src_len, tgt_len, beams;
    int dtype_bytes; /* checkpoint storage: 4 (f32), 2 (bf16) or 1 (int8 + row scales) */
    int wdtype;      /* weights in memory (--compute-type): 0 f32, 1 bf16, 2 int8 (t5g_dtype) */
    /* memory of the busiest rank, bytes */
    int64_t weights, weights_replicated, cross_kv, self_kv, activations, logits, overhead, total;
    int64_t checkpoint_read; /* checkpoint bytes this rank reads */
    /* communication */
    double allreduces_per_enc_pass, bytes_per_enc_token; /* per encoder pass / per source token */
    double allreduces_per_step, bytes_per_gen_token;     /* per decoder step / per generated token */
    /* predictions (one TP group) */
    double enc_tokens_per_s, gen_tokens_per_s, step_ms, step_mem_ms, step_comm_ms;
    /* layout across nodes, and what the predictions are made of */
    int tp_nodes;                                              /* nodes one TP group spans */
    int64_t node_total;                                        /* memory of one node: its ranks' totals */
    int predicted;                                             /* 0: no machine numbers, memory only */
    double enc_gemm_ms, enc_attn_ms, enc_norm_ms, enc_comm_ms; /* one encoder pass */
    double step_attn_ms, step_norm_ms, step_vocab_ms;          /* one decoder step */
    double requests_per_s; /* the job: DP groups x batch / (encoder pass + tgt_len steps) */
    int enc_proj;          /* t5g_enc_proj the encoder's projections use */
    double enc_proj_1d_ms; /* projections' GEMMs + all-reduces per pass in the 1-D layout */
    double enc_proj_2d_ms; /* the same in the 2-D layout; < 0: not available for this layout */
} t5g_plan;

/* Seconds of one encoder pass's projections (GEMMs, panel broadcasts, redistribution) in the
 * 2-D ScaLAPACK layout on p's TP group, given the shard E of the 1-D layout; < 0 when the 2-D
 * layout is not available (not built, or no grid for p->tp).  The planner hook for
 * src/parallel/scalapack*: it picks 2-D only where this is below the 1-D figure. */
double t5g_enc_proj_2d_seconds(const t5g_config *c, const t5g_machine *m, const t5g_plan *p);

/* Plan rank layout tp for the given shapes; mach NULL = memory only.  Fails (clear message)
 * on an invalid layout, or a TP group across nodes with no inter-node numbers. */
int t5g_plan_compute(const t5g_config *c, const t5g_machine *mach, t5g_plan *p);
/* Seconds of one all-reduce of `bytes` over T ranks spanning `nodes` nodes of rpn ranks each. */
double t5g_allreduce_cost(const t5g_machine *m, int T, int nodes, int rpn, double bytes);
/* Layout search: every TP size whose groups stay whole inside nodes or span whole nodes, that
 * fits mem_per_rank (0 = any) and the node memory; the fastest predicted (requests/s; the
 * smallest TP that fits when mach is NULL).  p carries the shapes in; *best the result.
 * cand/ncand (optional, up to 32) receive every layout considered. */
int t5g_plan_search(const t5g_config *c, const t5g_machine *mach, const t5g_plan *p, int64_t mem_per_rank,
                    t5g_plan *best, t5g_plan *cand, int *ncand);
#endif
