/* comm.h - MPI world split into DP groups x TP groups (docs/model.md, Tensor parallelism): ranks [d·T, (d+1)·T)
 * form TP group d.  The hot-path all-reduce goes through here; its calls, bytes and time are
 * counted in the caller's t5g_comm_stats (a run's state owns one: the communicator, shared by
 * the read-only model, holds no counters). */
#ifndef T5G_COMM_H
#define T5G_COMM_H
#include "backend/backend.h"
#include <mpi.h>
#include <stdint.h>

typedef struct t5g_comm_s {
    MPI_Comm world, tp, dp; /* tp: my TP group; dp: ranks with my tp_rank across groups */
    int world_rank, world_size;
    int tp_rank, tp_size; /* T */
    int dp_rank, dp_size; /* which TP group / how many */
    void *device_comm;    /* backend-owned (NCCL communicator of the TP group) */
    int tp_nodes;         /* nodes (MPI shared-memory domains) my TP group spans */
    /* simulation switch T5G_SIM_LATENCY_US (docs/planner.md): extra wire time added to each
     * TP collective whose group spans several nodes; 0 = off (a real cluster) */
    double sim_latency_us;
} t5g_comm;

/* What one run's TP all-reduces cost (the planner and the benchmarks read these). */
typedef struct {
    int64_t allreduce_calls, allreduce_bytes;
    double allreduce_seconds; /* wall time inside the collective (device backends: enqueue time) */
    double sim_seconds;       /* of which simulated wire delay (T5G_SIM_LATENCY_US) */
} t5g_comm_stats;

/* Split MPI_COMM_WORLD with TP size tp (0 = world size). Every rank checks the layout
 * the same way, so an invalid layout fails on all ranks with the same message. */
int t5g_comm_init(t5g_comm *c, int tp);
void t5g_comm_free(t5g_comm *c);
/* A comm for one process (no MPI_Init needed beyond MPI being initialized). */
void t5g_comm_self(t5g_comm *c);

/* My TP group as a device backend's all-reduce takes it (its communicator kept in c->device_comm). */
t5g_dev_group t5g_comm_tp_group(t5g_comm *c);
/* In-place sum over the TP group (no-op when T == 1); counted in st unless st is NULL. */
void t5g_allreduce_sum(t5g_comm *c, float *x, int64_t n, t5g_comm_stats *st);
/* Simulated inter-node latency of one TP collective (no-op unless T5G_SIM_LATENCY_US > 0 and
 * the TP group spans >= 2 nodes): waits latency x ceil(log2(nodes)), the cross-node steps of a
 * recursive-doubling all-reduce.  Called after every hot-path TP collective; returns the
 * seconds waited. */
double t5g_sim_wire(const t5g_comm *c);
/* Agree on failure before the next collective: returns 1 on every rank of `comm` if any
 * rank passed failed != 0. */
int t5g_any_failed(MPI_Comm comm, int failed);
#endif
