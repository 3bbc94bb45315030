/* comm.c - see comm.h */
#include "parallel/comm.h"
#include "core/err.h"
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nodes spanned by the TP group: a node is an MPI shared-memory domain (a host; a network
 * namespace of tests/shell/test_multinode.sh), named by the world rank of its first rank. */
static int count_tp_nodes(t5g_comm *c) {
    MPI_Comm node;
    int leader = c->world_rank;
    MPI_Comm_split_type(c->world, MPI_COMM_TYPE_SHARED, c->world_rank, MPI_INFO_NULL, &node);
    MPI_Allreduce(MPI_IN_PLACE, &leader, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    int *all = malloc(sizeof(int) * c->tp_size), n = 0;
    T5G_CHECK(all, "out of memory");
    MPI_Allgather(&leader, 1, MPI_INT, all, 1, MPI_INT, c->tp);
    for (int i = 0; i < c->tp_size; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= all[j] == all[i];
        n += !seen;
    }
    free(all);
    c->tp_nodes = n;
    return 0;
}

/* T5G_SIM_LATENCY_US: microseconds, 0..100000 */
static int sim_latency_from_env(t5g_comm *c) {
    const char *s = getenv("T5G_SIM_LATENCY_US");
    if (!s || !*s) return 0;
    char *end;
    double v = strtod(s, &end);
    T5G_CHECK(end != s && *end == 0 && v >= 0 && v <= 1e5,
              "T5G_SIM_LATENCY_US must be a number of microseconds from 0 to 100000, got '%s'", s);
    c->sim_latency_us = v;
    if (v > 0 && c->world_rank == 0)
        fprintf(stderr,
                "t5g: SIMULATED inter-node latency %.1f us per cross-node collective step (T5G_SIM_LATENCY_US); "
                "TP group spans %d node(s)\n",
                v, c->tp_nodes);
    return 0;
}

int t5g_comm_init(t5g_comm *c, int tp) {
    memset(c, 0, sizeof *c);
    c->world = MPI_COMM_WORLD;
    MPI_Comm_rank(c->world, &c->world_rank);
    MPI_Comm_size(c->world, &c->world_size);
    if (tp <= 0) tp = c->world_size;
    T5G_CHECK(c->world_size % tp == 0,
              "--tp %d does not divide the number of MPI ranks (%d); use a TP size that divides it", tp, c->world_size);
    c->tp_size = tp;
    c->tp_rank = c->world_rank % tp;
    c->dp_size = c->world_size / tp;
    c->dp_rank = c->world_rank / tp;
    MPI_Comm_split(c->world, c->dp_rank, c->tp_rank, &c->tp);
    MPI_Comm_split(c->world, c->tp_rank, c->dp_rank, &c->dp);
    T5G_TRY(count_tp_nodes(c));
    return sim_latency_from_env(c);
}

void t5g_comm_self(t5g_comm *c) {
    memset(c, 0, sizeof *c);
    c->world = c->tp = c->dp = MPI_COMM_SELF;
    c->world_size = c->tp_size = c->dp_size = c->tp_nodes = 1;
}

#ifdef T5G_CUDA
void t5g_cuda_comm_free(void **device_comm); /* backend/cuda (cuda_ops.h): destroys the NCCL communicator */
#endif

t5g_dev_group t5g_comm_tp_group(t5g_comm *c) {
    t5g_dev_group g = {c->tp, c->tp_rank, c->tp_size, &c->device_comm};
    return g;
}

void t5g_comm_free(t5g_comm *c) {
#ifdef T5G_CUDA
    t5g_cuda_comm_free(&c->device_comm);
#endif
    if (c->tp != MPI_COMM_SELF && c->tp != MPI_COMM_NULL) MPI_Comm_free(&c->tp);
    if (c->dp != MPI_COMM_SELF && c->dp != MPI_COMM_NULL) MPI_Comm_free(&c->dp);
    c->tp = c->dp = MPI_COMM_NULL;
}

void t5g_allreduce_sum(t5g_comm *c, float *x, int64_t n, t5g_comm_stats *st) {
    if (c->tp_size <= 1 || n <= 0) return;
    double t0 = MPI_Wtime();
    /* MPI counts are int: reduce in pieces for very large buffers */
    for (int64_t off = 0; off < n; off += (1 << 30)) {
        int cnt = (int)((n - off) < (1 << 30) ? (n - off) : (1 << 30));
        MPI_Allreduce(MPI_IN_PLACE, x + off, cnt, MPI_FLOAT, MPI_SUM, c->tp);
    }
    double sim = t5g_sim_wire(c);
    if (!st) return;
    st->allreduce_seconds += MPI_Wtime() - t0;
    st->sim_seconds += sim;
    st->allreduce_calls++;
    st->allreduce_bytes += n * (int64_t)sizeof(float);
}

double t5g_sim_wire(const t5g_comm *c) {
    if (!c || c->sim_latency_us <= 0 || c->tp_nodes < 2) return 0;
    double t0 = MPI_Wtime(), until = t0 + c->sim_latency_us * 1e-6 * ceil(log2(c->tp_nodes));
    while (MPI_Wtime() < until) sched_yield(); /* other ranks on an oversubscribed host may run */
    return MPI_Wtime() - t0;
}

int t5g_any_failed(MPI_Comm comm, int failed) {
    int f = failed != 0, any = 0;
    MPI_Allreduce(&f, &any, 1, MPI_INT, MPI_MAX, comm);
    return any;
}
