/* comm.c - see comm.h */
#include "parallel/comm.h"
#include "core/err.h"
#include <string.h>

int t5g_comm_init(t5g_comm *c, int tp) {
    memset(c, 0, sizeof *c);
    c->world = MPI_COMM_WORLD;
    MPI_Comm_rank(c->world, &c->world_rank);
    MPI_Comm_size(c->world, &c->world_size);
    if (tp <= 0) tp = c->world_size;
    T5G_CHECK(c->world_size % tp == 0, "--tp %d does not divide the number of MPI ranks (%d); use a TP size that divides it",
              tp, c->world_size);
    c->tp_size = tp;
    c->tp_rank = c->world_rank % tp;
    c->dp_size = c->world_size / tp;
    c->dp_rank = c->world_rank / tp;
    MPI_Comm_split(c->world, c->dp_rank, c->tp_rank, &c->tp);
    MPI_Comm_split(c->world, c->tp_rank, c->dp_rank, &c->dp);
    return 0;
}

void t5g_comm_self(t5g_comm *c) {
    memset(c, 0, sizeof *c);
    c->world = c->tp = c->dp = MPI_COMM_SELF;
    c->world_size = c->tp_size = c->dp_size = 1;
}

void t5g_comm_free(t5g_comm *c) {
    if (c->tp != MPI_COMM_SELF && c->tp != MPI_COMM_NULL) MPI_Comm_free(&c->tp);
    if (c->dp != MPI_COMM_SELF && c->dp != MPI_COMM_NULL) MPI_Comm_free(&c->dp);
    c->tp = c->dp = MPI_COMM_NULL;
}

void t5g_allreduce_sum(t5g_comm *c, float *x, int64_t n) {
    if (c->tp_size <= 1 || n <= 0) return;
    double t0 = MPI_Wtime();
    /* MPI counts are int: reduce in pieces for very large buffers */
    for (int64_t off = 0; off < n; off += (1 << 30)) {
        int cnt = (int)((n - off) < (1 << 30) ? (n - off) : (1 << 30));
        MPI_Allreduce(MPI_IN_PLACE, x + off, cnt, MPI_FLOAT, MPI_SUM, c->tp);
    }
    c->allreduce_seconds += MPI_Wtime() - t0;
    c->allreduce_calls++;
    c->allreduce_bytes += n * (int64_t)sizeof(float);
}

int t5g_any_failed(MPI_Comm comm, int failed) {
    int f = failed != 0, any = 0;
    MPI_Allreduce(&f, &any, 1, MPI_INT, MPI_MAX, comm);
    return any;
}
