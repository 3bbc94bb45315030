/* test_cuda_nccl.c - the CUDA backend's TP all-reduce (NCCL, communicator bootstrapped over
 * MPI) on one GPU per rank: `mpirun -np N build/tests/gpu/test_cuda_nccl` with N GPUs on the
 * node.  Exits 77 (every rank) when the node has fewer GPUs than ranks.  Sums of small
 * integers are exact, so the check is equality. */
#include "backend/backend.h"
#include "backend/cuda/cuda_ops.h"
#include "core/err.h"
#include "parallel/comm.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_comm c;
    if (t5g_comm_init(&c, 0)) { fprintf(stderr, "t5g: error: %s\n", t5g_last_error()); MPI_Abort(MPI_COMM_WORLD, 1); }
    MPI_Comm node;
    int local = 0, nlocal = 1;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_size(node, &nlocal);
    int ndev = t5g_cuda_device_count(), enough = ndev >= nlocal, all = 0;
    MPI_Allreduce(&enough, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all) {
        if (c.world_rank == 0) printf("SKIPPED: %d ranks per node need as many GPUs (rank 0 sees %d)\n", nlocal, ndev);
        MPI_Finalize();
        return 77;
    }
    const t5g_backend *be = t5g_backend_cuda(local);
    if (!be) { fprintf(stderr, "t5g: error: %s\n", t5g_last_error()); MPI_Abort(MPI_COMM_WORLD, 1); }
    int bad = 0;
    long long calls = 0;
    int64_t sizes[4] = {1, 1000, 1 << 20, 3 * (1 << 20) + 7};
    for (int s = 0; s < 4; s++) {
        int64_t n = sizes[s];
        float *h = malloc(sizeof(float) * n);
        for (int64_t i = 0; i < n; i++) h[i] = (float)((c.tp_rank + 1) * (i % 97));
        float *dx = be->alloc(be->ctx, sizeof(float) * n);
        be->copy(be->ctx, dx, h, sizeof(float) * n, T5G_COPY_H2D);
        t5g_dev_group g = t5g_comm_tp_group(&c);
        be->allreduce_sum(be->ctx, &g, dx, n);
        calls++;
        be->copy(be->ctx, h, dx, sizeof(float) * n, T5G_COPY_D2H);
        float f = (float)(c.tp_size * (c.tp_size + 1) / 2);
        for (int64_t i = 0; i < n; i++) bad += h[i] != f * (float)(i % 97);
        be->release(be->ctx, dx);
        free(h);
    }
    int total = 0;
    MPI_Allreduce(&bad, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (c.world_rank == 0)
        printf("%s NCCL all-reduce over TP groups of %d (%d ranks, %lld calls): %d wrong elements\n",
               total ? "FAIL" : "ok  ", c.tp_size, c.world_size, (long long)calls, total);
    t5g_cuda_comm_free(&c.device_comm);
    t5g_comm_free(&c);
    MPI_Comm_free(&node);
    MPI_Finalize();
    return total ? 1 : 0;
}
