/* plan.h - the layout planner: per-rank memory of a TP layout and a predicted throughput
 * from measured machine numbers (`t5g calibrate`).  Memory numbers come from the same
 * functions that size the real allocations (t5g_weight_share, t5g_state_memory). */
#ifndef T5G_PLAN_H
#define T5G_PLAN_H
#include "model/config.h"
#include <mpi.h>
#include <stdint.h>

typedef struct {
    double gemm_gflops;        /* large sgemm, all threads of a rank */
    double skinny_gflops;      /* M = 8 decode-shaped sgemm */
    double mem_bw_gbs;         /* streaming read bandwidth of a rank */
    double ar_latency_us;      /* MPI_Allreduce of 8 bytes */
    double ar_bw_gbs;          /* MPI_Allreduce of 4 MiB: bytes / time */
    int threads;
    int measured_allreduce;    /* 0: the allreduce numbers are platform.md defaults */
} t5g_machine;

/* Streaming read bandwidth (GB/s) of this rank's threads over `bytes`. */
double t5g_read_bandwidth(size_t bytes, int reps);
/* Best-of-reps GFLOP/s of a bare BLIS sgemm C[M,N] = A[M,K]·B[N,K]ᵀ. */
double t5g_bare_gemm_gflops(int M, int N, int K, int reps);

/* Measure the machine (GEMM, bandwidth; allreduce over comm when it has >= 2 ranks). */
int t5g_calibrate(t5g_machine *m, MPI_Comm comm, int quick);
int t5g_machine_save(const t5g_machine *m, const char *path);
int t5g_machine_load(t5g_machine *m, const char *path);

typedef struct {
    int tp, nodes, ranks_per_node;
    int batch, src_len, tgt_len, beams;
    int dtype_bytes;           /* checkpoint storage: 4 (f32), 2 (bf16) or 1 (int8 + row scales) */
    int wdtype;                /* weights in memory (--compute-type): 0 f32, 1 bf16, 2 int8 (t5g_dtype) */
    /* memory of the busiest rank, bytes */
    int64_t weights, weights_replicated, cross_kv, self_kv, activations, logits, overhead, total;
    int64_t checkpoint_read;   /* checkpoint bytes this rank reads */
    /* communication */
    double allreduces_per_enc_pass, bytes_per_enc_token;   /* per encoder pass / per source token */
    double allreduces_per_step, bytes_per_gen_token;       /* per decoder step / per generated token */
    /* predictions (one TP group) */
    double enc_tokens_per_s, gen_tokens_per_s, step_ms, step_mem_ms, step_comm_ms;
} t5g_plan;

/* Plan rank layout tp for the given shapes.  Fails (clear message) on an invalid layout. */
int t5g_plan_compute(const t5g_config *c, const t5g_machine *mach, t5g_plan *p);
#endif
