/* scalapack_hooks.c - what ScaLAPACK calls outside itself, routed through t5g (built with ScaLAPACK
 * only, mk/scalapack.mk):
 *
 * sgemm_: PSGEMM's local products run on the same float32 GEMM as the 1-D layout's projections
 * (t5g_cpu_sgemm: the AVX-512 packed kernel, else BLIS), so 1-D vs 2-D compares the layouts, not two
 * GEMM kernels (Debian's ScaLAPACK would call the system BLAS).  Shapes it cannot take (op(B) = Bᵀ,
 * alpha != 1) go to BLIS.
 *
 * pilaenv_: PBLAS's computational block (ScaLAPACK's default is 32, to be tuned per machine, its
 * documentation says).  PSGEMM('T', 'N') computes its result 32 output rows at a time, one local
 * GEMM each that packs all the tokens' activations again; 512 measured 1.6x faster on a 1x1 grid
 * and 1.5x on 2x2 here (t5gemma-s-s widths, 4096 tokens).
 *
 * MPI: the SIMULATED inter-node latency (T5G_SIM_LATENCY_US, docs/planner.md) for the messages
 * ScaLAPACK sends in the 2-D encoder layout.  The 1-D layout's all-reduces are delayed
 * in t5g's own collective wrapper (comm.c); ScaLAPACK's panel broadcasts and PSGEMR2D messages go
 * through BLACS straight to MPI, so the MPI calls BLACS makes are wrapped here (the MPI profiling
 * interface: each wrapper calls its PMPI_ twin).  While a 2-D encoder pass runs on a TP group that
 * spans nodes (t5g_simwire_begin), each point-to-point send to a rank on another node waits the
 * latency before it leaves, and each collective waits latency x ceil(log2(nodes it spans)), as the
 * all-reduce wrapper does.  At any other time the wrappers only forward.  Built with ScaLAPACK only
 * (mk/scalapack.mk). */
#ifdef T5G_SCALAPACK
#include "parallel/scalapack_hooks.h"
#include "backend/cpu/linear.h"
#include <blis.h>
#include <mpi.h>
#include <sched.h>
#include <stdlib.h>

int pilaenv_(const int *ictxt, const char *prec) {
    (void)ictxt;
    (void)prec;
    return 512;
}

/* Fortran BLAS, column-major: C = alpha·op(A)·op(B) + beta·C.  Column-major C is row-major Cᵀ, so
 * with op(A) = A (or Aᵀ) and op(B) = B this is row-major Cᵀ = Bᵀ·op(A)ᵀ: t5g_cpu_sgemm with the
 * row-major view of B first and A second (transposed when op(A) = A). */
void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
            const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c,
            const int *ldc) {
    int at = *ta == 'T' || *ta == 't' || *ta == 'C' || *ta == 'c';
    int bt = *tb == 'T' || *tb == 't' || *tb == 'C' || *tb == 'c';
    if (*m <= 0 || *n <= 0) return;
    if (!bt && *k > 0 && *alpha == 1.0f) {
        t5g_cpu_sgemm(at, *n, *m, *k, 1.0f, b, *ldb, a, *lda, *beta, c, *ldc);
        return;
    }
    bli_sgemm(at ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, bt ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, *m, *n, *k,
              (float *)alpha, (float *)a, 1, *lda, (float *)b, 1, *ldb, (float *)beta, c, 1, *ldc);
}

static double g_us;       /* latency while a 2-D pass runs; 0: the wrappers only forward */
static double g_waited;   /* seconds waited since t5g_simwire_begin */
static MPI_Group g_group; /* the TP group's */
static int *g_node;       /* node (its lowest TP rank) of each TP rank */

int t5g_simwire_setup(MPI_Comm tp) {
    int rank, size;
    MPI_Comm_rank(tp, &rank);
    MPI_Comm_size(tp, &size);
    MPI_Comm local;
    MPI_Comm_split_type(tp, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
    int leader = rank;
    MPI_Allreduce(MPI_IN_PLACE, &leader, 1, MPI_INT, MPI_MIN, local);
    MPI_Comm_free(&local);
    free(g_node);
    g_node = malloc(sizeof(int) * size);
    if (!g_node) return -1;
    MPI_Allgather(&leader, 1, MPI_INT, g_node, 1, MPI_INT, tp);
    if (g_group != MPI_GROUP_NULL && g_group) MPI_Group_free(&g_group);
    MPI_Comm_group(tp, &g_group);
    return 0;
}

void t5g_simwire_begin(double us) {
    g_us = g_node ? us : 0;
    g_waited = 0;
}

double t5g_simwire_end(void) {
    g_us = 0;
    return g_waited;
}

static void wait_us(double us) {
    double t0 = PMPI_Wtime(), until = t0 + us * 1e-6;
    while (PMPI_Wtime() < until) sched_yield(); /* other ranks on an oversubscribed host may run */
    g_waited += PMPI_Wtime() - t0;
}

/* node of rank r of comm (-1: not in the TP group) */
static int node_of(MPI_Comm comm, int r) {
    MPI_Group g;
    int t = MPI_UNDEFINED;
    PMPI_Comm_group(comm, &g);
    PMPI_Group_translate_ranks(g, 1, &r, g_group, &t);
    PMPI_Group_free(&g);
    return t == MPI_UNDEFINED ? -1 : g_node[t];
}

static void p2p(MPI_Comm comm, int peer) {
    if (g_us <= 0 || peer < 0) return; /* MPI_PROC_NULL, MPI_ANY_SOURCE */
    int me;
    PMPI_Comm_rank(comm, &me);
    if (node_of(comm, peer) != node_of(comm, me)) wait_us(g_us);
}

static void coll(MPI_Comm comm) {
    if (g_us <= 0) return;
    int size, nodes = 0, steps = 0;
    PMPI_Comm_size(comm, &size);
    int *seen = calloc((size_t)size, sizeof(int));
    if (!seen) return;
    for (int r = 0; r < size; r++) {
        int n = node_of(comm, r), fresh = 1;
        for (int i = 0; i < nodes; i++) fresh &= seen[i] != n;
        if (fresh) seen[nodes++] = n;
    }
    free(seen);
    while ((1 << steps) < nodes) steps++;
    if (steps) wait_us(g_us * steps);
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
    p2p(comm, dest);
    return PMPI_Send(buf, count, type, dest, tag, comm);
}

int MPI_Rsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
    p2p(comm, dest);
    return PMPI_Rsend(buf, count, type, dest, tag, comm);
}

int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req) {
    p2p(comm, dest);
    return PMPI_Isend(buf, count, type, dest, tag, comm, req);
}

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype stype, int dest, int stag, void *rbuf, int rcount,
                 MPI_Datatype rtype, int source, int rtag, MPI_Comm comm, MPI_Status *status) {
    p2p(comm, dest);
    return PMPI_Sendrecv(sbuf, scount, stype, dest, stag, rbuf, rcount, rtype, source, rtag, comm, status);
}

int MPI_Bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm) {
    int rc = PMPI_Bcast(buf, count, type, root, comm);
    coll(comm);
    return rc;
}

int MPI_Reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op, int root, MPI_Comm comm) {
    int rc = PMPI_Reduce(sbuf, rbuf, count, type, op, root, comm);
    coll(comm);
    return rc;
}

int MPI_Allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
    int rc = PMPI_Allreduce(sbuf, rbuf, count, type, op, comm);
    coll(comm);
    return rc;
}

int MPI_Allgatherv(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, const int rcounts[],
                   const int displs[], MPI_Datatype rtype, MPI_Comm comm) {
    int rc = PMPI_Allgatherv(sbuf, scount, stype, rbuf, rcounts, displs, rtype, comm);
    coll(comm);
    return rc;
}
#endif
