/* calibrate.c - `t5g calibrate`'s measurements (see plan.h, docs/planner.md): GEMM and weight
 * streaming rates of every node's first rank, all-reduce latency, bandwidth and sync cost inside
 * a node, over an oversubscribed node and across nodes.  Rates are taken over windows of a
 * quarter second or more, as a run lasting seconds sees a shared machine. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "plan/plan.h"
#include "core/err.h"
#include "core/progress.h"
#include "parallel/comm.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <blis.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double t5g_bare_gemm_gflops(int M, int N, int K, int reps) {
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K), *C = malloc(sizeof(float) * M * N);
    if (!A || !B || !C) {
        free(A);
        free(B);
        free(C);
        return 0;
    }
    for (int64_t i = 0; i < (int64_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < (int64_t)N * K; i++) B[i] = (float)(i % 5) * 0.1f;
    float one = 1, zero = 0;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now();
        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, M, N, K, &one, A, K, 1, B, K, 1, &zero, C, N, 1);
        double t = t5g_now() - t0;
        if (t < best) best = t;
    }
    free(A);
    free(B);
    free(C);
    return 2.0 * M * N * K / best / 1e9;
}

/* Sum with 4 AVX accumulators: a streaming read, like a decode step reading weights. */
static float sum_chunk(const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    float s = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    for (; i < n; i++) s += x[i];
    return s;
}

double t5g_read_bandwidth(size_t bytes, int reps) {
    size_t n = bytes / sizeof(float);
    /* the weights' own allocator (2 MB pages where the kernel gives them), so that the roofline is
     * what a decode step can stream: a plain malloc'd buffer of 4 KB pages read 25 GB/s where the
     * same sum over 2 MB pages read 35 GB/s (2 threads, Sapphire Rapids VM) */
    const t5g_backend *be = t5g_backend_cpu();
    float *x = be->alloc(be->ctx, bytes);
    if (!x) return 0;
    int nt = omp_get_max_threads();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = 1.0f; /* first touch by the reading threads */
    double best = 1e30, sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = t5g_now(), s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
        for (int t = 0; t < nt; t++) s += sum_chunk(x + n / nt * t, t == nt - 1 ? n - n / nt * t : n / nt);
        double t = t5g_now() - t0;
        sink += s;
        if (t < best) best = t;
    }
    be->release(be->ctx, x);
    return sink > 0 ? bytes / best / 1e9 : 0;
}

static double median3(double a, double b, double c) {
    return fmax(fmin(a, b), fmin(fmax(a, b), c));
}

/* all-reduce latency (s, 8 bytes) and bandwidth (B/s, 4 MiB) over comm; sim: wire delay added
 * per call as in real runs (NULL: none) */
static void measure_allreduce(MPI_Comm comm, const t5g_comm *sim, int quick, double *lat, double *bw) {
    float small[2] = {1, 2};
    int reps = quick ? 100 : 300;
    size_t n = 1 << 20;
    float *big = calloc(n, sizeof(float));
    double l[3], b[3];
    for (int k = 0; k < 3; k++) { /* median of 3 rounds: the machine may be shared */
        MPI_Barrier(comm);
        double t0 = MPI_Wtime();
        for (int i = 0; i < reps; i++) {
            MPI_Allreduce(MPI_IN_PLACE, small, 2, MPI_FLOAT, MPI_SUM, comm);
            t5g_sim_wire(sim);
        }
        l[k] = (MPI_Wtime() - t0) / reps;
        MPI_Barrier(comm);
        t0 = MPI_Wtime();
        for (int i = 0; i < (quick ? 3 : 8) && big; i++) {
            MPI_Allreduce(MPI_IN_PLACE, big, (int)n, MPI_FLOAT, MPI_SUM, comm);
            t5g_sim_wire(sim);
        }
        b[k] = n * 4.0 / ((MPI_Wtime() - t0) / (quick ? 3 : 8));
    }
    free(big);
    double v[2] = {median3(l[0], l[1], l[2]), -median3(b[0], b[1], b[2])};
    MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_DOUBLE, MPI_MAX, comm); /* the slowest rank */
    *lat = v[0];
    *bw = -v[1];
}

/* Seconds one collective adds when the ranks of comm compute between collectives: the same
 * compute loop (40 chunks of ~2 ms of single-core GEMM work) with and without an 8-byte
 * all-reduce after each chunk, on all ranks at once; median of 3 differences.  On a dedicated
 * node this is about the latency; on a shared or oversubscribed one it is the wait for a rank
 * the OS has descheduled, which back-to-back all-reduces do not show. */
static double measure_sync(MPI_Comm comm, const t5g_comm *sim) {
    enum { n = 256, chunks = 40, per_chunk = 8 };
    float *A = calloc(n * n, sizeof(float)), *B = calloc(n * n, sizeof(float)), *C = malloc(sizeof(float) * n * n);
    float one = 1, zero = 0, x[2] = {1, 2};
    double d[3];
    for (int k = 0; k < 3; k++) {
        double t[2];
        for (int with = 0; with < 2; with++) {
            MPI_Barrier(comm);
            double t0 = MPI_Wtime();
            for (int c = 0; c < chunks && A && B && C; c++) {
                for (int r = 0; r < per_chunk; r++)
                    if (t5g_gemm_f32(0, 1, n, n, n, A, n, B, n, 0.0f, C, n) < 0)
                        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, n, n, n, &one, A, n, 1, B, n, 1, &zero, C, n, 1);
                if (with) {
                    MPI_Allreduce(MPI_IN_PLACE, x, 2, MPI_FLOAT, MPI_SUM, comm);
                    t5g_sim_wire(sim);
                }
            }
            MPI_Barrier(comm);
            t[with] = MPI_Wtime() - t0;
        }
        d[k] = (t[1] - t[0]) / chunks;
    }
    free(A);
    free(B);
    free(C);
    double v = fmax(0, median3(d[0], d[1], d[2]));
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, comm);
    return v;
}

static int node_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static double node_mem_gib(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * size / 1073741824.0 : 0;
}

/* A shared machine gives a job its cores in scheduler slices (tens of ms; fair shares between
 * sessions), so a kernel timed once over a few ms sees either a whole core or none.  Every rate
 * below is work / wall time over a window of at least WINDOW seconds (repeating the kernel),
 * the median of 3 windows: what a run lasting seconds gets. */
#define WINDOW 0.25

static double process_cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* single-threaded GEMM of n^3 by the kernel the encoder's projections use (the AVX-512 packed
 * GEMM, else BLIS), GFLOP/s over one window */
static double gemm_window(float *A, float *B, float *C, int n) {
    float one = 1, zero = 0;
    double t0 = t5g_now(), t = 0;
    int reps = 0;
    do {
        if (t5g_gemm_f32(0, 1, n, n, n, A, n, B, n, 0.0f, C, n) < 0)
            bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, n, n, n, &one, A, n, 1, B, n, 1, &zero, C, n, 1);
        reps++;
        t = t5g_now() - t0;
    } while (t < WINDOW);
    return 2.0 * n * n * n * reps / t / 1e9;
}

/* GFLOP/s of `threads` single-threaded GEMMs at once, each timing its own window: the sum
 * (median of 3); *cores: the cores the process got meanwhile (CPU time / wall) */
static double gemm_cores(int threads, int n, double *cores) {
    double g[3], c[3];
    for (int k = 0; k < 3; k++) {
        double sum = 0, cpu0 = process_cpu_seconds(), t0 = t5g_now();
#pragma omp parallel num_threads(threads) reduction(+ : sum)
        {
            float *A = malloc(sizeof(float) * n * n), *B = malloc(sizeof(float) * n * n),
                  *C = malloc(sizeof(float) * n * n);
            if (A && B && C) {
                for (int i = 0; i < n * n; i++) {
                    A[i] = (float)(i % 7) * 0.1f;
                    B[i] = (float)(i % 5) * 0.1f;
                }
                sum += gemm_window(A, B, C, n);
            }
            free(A);
            free(B);
            free(C);
        }
        g[k] = sum;
        c[k] = (process_cpu_seconds() - cpu0) / (t5g_now() - t0);
    }
    if (cores) *cores = median3(c[0], c[1], c[2]);
    return median3(g[0], g[1], g[2]);
}

/* The decode kernel (t5g_cpu_linear_small, M = 8) on one thread: GB/s of weights streamed from
 * a 128 MiB matrix (what a decode step sees), and the GFLOP/s on a 2 MiB matrix that stays in
 * the caches; windows, medians of 3. */
static double decode_kernel(double *gflops) {
    const int K = 512, M = 8, N = 65536, n = 1024;
    int saved = t5g_pool_threads();
    t5g_pool_set_threads(1);
    const t5g_backend *be = t5g_backend_cpu(); /* the weights' own allocator: 2 MB pages, as in a run */
    float *w = be->alloc(be->ctx, sizeof(float) * (size_t)N * K), *x = malloc(sizeof(float) * M * K),
          *y = malloc(sizeof(float) * (size_t)M * N);
    double gbs = 0, gb[3], gf[3];
    *gflops = 0;
    if (w && x && y) {
        for (size_t i = 0; i < (size_t)N * K; i++) w[i] = (float)((i * 7) % 13) * 0.01f;
        for (int i = 0; i < M * K; i++) x[i] = 0.5f;
        for (int k = 0; k < 3; k++) {
            int reps = 0;
            double t0 = t5g_now(), t;
            do {
                t5g_cpu_linear_small(x, M, K, w, N, K, K, y, N);
                reps++;
                t = t5g_now() - t0;
            } while (t < WINDOW);
            gb[k] = (double)N * K * sizeof(float) * reps / t / 1e9;
            reps = 0;
            t0 = t5g_now();
            do {
                t5g_cpu_linear_small(x, M, K, w, n, K, K, y, n);
                reps++;
                t = t5g_now() - t0;
            } while (t < WINDOW);
            gf[k] = 2.0 * M * n * K * reps / t / 1e9;
        }
        gbs = median3(gb[0], gb[1], gb[2]);
        *gflops = median3(gf[0], gf[1], gf[2]);
    }
    if (w) be->release(be->ctx, w);
    free(x);
    free(y);
    t5g_pool_set_threads(saved);
    return gbs;
}

/* every core at once, each streaming its own 128 MiB for a window and timing itself (a
 * descheduled core then slows only its own share, as with one rank per core): the sum of their
 * GB/s, median of 3 */
static double node_stream_gbs(int cores) {
    size_t n = (size_t)32 << 20;
    double g[3];
    for (int k = 0; k < 3; k++) {
        double sum = 0;
#pragma omp parallel num_threads(cores) reduction(+ : sum)
        {
            float *x = malloc(n * sizeof(float));
            if (x) {
                for (size_t i = 0; i < n; i++) x[i] = 1.0f;
                double t0 = t5g_now(), t, v = 0;
                int reps = 0;
                do {
                    v += sum_chunk(x, n);
                    reps++;
                    t = t5g_now() - t0;
                } while (t < WINDOW);
                sum += v > 0 ? n * sizeof(float) * reps / t / 1e9 : 0;
                free(x);
            }
        }
        g[k] = sum;
    }
    return median3(g[0], g[1], g[2]);
}

/* a node's first rank, its other ranks asleep: per-core GEMM rates, one core's and the node's
 * decode streaming rate, the cores the process got */
static void measure_node(t5g_machine *m, int quick) {
    int blis_threads = (int)bli_thread_get_num_threads();
    int big = quick ? 512 : 1024;
    bli_thread_set_num_threads(1);
    m->gemm_gflops = gemm_cores(1, big, NULL);
    /* all cores at once, one GEMM each: what the node's ranks get together (other tenants,
     * shared caches and clocks included) */
    m->gemm_gflops_node = gemm_cores(m->cores, big, &m->cores_got);
    bli_thread_set_num_threads(blis_threads);
    m->mem_bw_core_gbs = decode_kernel(&m->skinny_gflops);
    /* the node: the decode kernel's rate on one core scaled by what all cores stream at once */
    double one = node_stream_gbs(1), all = node_stream_gbs(m->cores);
    m->mem_bw_gbs = one > 0 ? m->mem_bw_core_gbs * fmin(all / one, m->cores) : m->mem_bw_core_gbs;
}

static void quiet_barrier(MPI_Comm comm) {
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(comm, &req);
    while (!done) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done) usleep(2000);
    }
}

/* latency (s), bandwidth (B/s) and sync cost (s, measure_sync) of an all-reduce over the ranks
 * of comm with `in` set, world rank 0 among them; the others sleep meanwhile */
static void measure_group(MPI_Comm comm, int in, const t5g_comm *sim, int quick, double out[3]) {
    MPI_Comm g;
    int rank;
    MPI_Comm_rank(comm, &rank);
    out[0] = out[1] = out[2] = 0;
    MPI_Comm_split(comm, in ? 0 : MPI_UNDEFINED, rank, &g);
    if (g != MPI_COMM_NULL) {
        measure_allreduce(g, sim, quick, &out[0], &out[1]);
        out[2] = measure_sync(g, sim);
        MPI_Comm_free(&g);
    }
    quiet_barrier(comm);
    MPI_Bcast(out, 3, MPI_DOUBLE, 0, comm);
}

/* the all-reduces: 2 ranks of the first node, all of its ranks when they outnumber its cores,
 * the first ranks of the first 2 nodes (with the simulated wire delay if any) */
static void calibrate_comm(t5g_machine *m, MPI_Comm comm, MPI_Comm node, int quick) {
    int rank, nrank, nsize, nodes, r0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    int first = nrank == 0;
    MPI_Allreduce(&first, &nodes, 1, MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(&rank, &r0, 1, MPI_INT, MPI_MIN, node);
    int on_first_node = r0 == 0, two_local = on_first_node && nsize >= 2, any_local = 0;
    MPI_Allreduce(&two_local, &any_local, 1, MPI_INT, MPI_MAX, comm);
    double g[3];
    m->ar_latency_us = 3.0; /* defaults: 2 ranks over shared memory (docs/planner.md) */
    m->ar_bw_gbs = 5.0;
    if (any_local) {
        measure_group(comm, on_first_node && nrank < 2, NULL, quick, g);
        m->ar_latency_us = g[0] * 1e6;
        m->ar_bw_gbs = g[1] / 1e9;
        m->intra_sync_us = g[2] * 1e6;
        m->measured_allreduce = 1;
    }
    int over = on_first_node && nsize > m->cores, any_over = 0;
    MPI_Allreduce(&over, &any_over, 1, MPI_INT, MPI_MAX, comm);
    if (any_over) {
        measure_group(comm, over, NULL, quick, g);
        MPI_Bcast(&nsize, 1, MPI_INT, 0, comm);
        m->oversub_ranks = nsize;
        m->oversub_latency_us = g[0] * 1e6;
        m->oversub_bw_gbs = g[1] / 1e9;
        m->oversub_sync_us = g[2] * 1e6;
    }
    if (nodes < 2) return;
    MPI_Comm leaders;
    int lr = -1;
    MPI_Comm_split(comm, first ? 0 : MPI_UNDEFINED, rank, &leaders);
    if (leaders != MPI_COMM_NULL) {
        MPI_Comm_rank(leaders, &lr);
        MPI_Comm_free(&leaders);
    }
    t5g_comm sim;
    memset(&sim, 0, sizeof sim);
    sim.tp_nodes = 2;
    const char *env = getenv("T5G_SIM_LATENCY_US");
    sim.sim_latency_us = env ? atof(env) : 0;               /* validated by t5g_comm_init */
    measure_group(comm, lr >= 0 && lr < 2, &sim, quick, g); /* world rank 0 leads the first node */
    m->inter_latency_us = g[0] * 1e6;
    m->inter_bw_gbs = g[1] / 1e9;
    m->inter_sync_us = g[2] * 1e6;
    m->sim_latency_us = sim.sim_latency_us;
}

int t5g_calibrate(t5g_machine *m, MPI_Comm comm, int quick) {
    T5G_CHECK(m, "t5g_calibrate: NULL argument");
    memset(m, 0, sizeof *m);
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    m->threads = omp_get_max_threads();
    m->cores = node_cores();
    m->node_mem_gib = node_mem_gib();
    /* the nodes (MPI shared-memory domains), their first ranks */
    MPI_Comm node;
    int nrank;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &nrank);
    /* every node's first rank at once (simulated nodes on one machine then share it as in a
     * run); the slowest node's numbers, which a TP group across nodes waits for */
    if (nrank == 0) measure_node(m, quick);
    quiet_barrier(comm); /* the other ranks sleep meanwhile: spinning would take the cores */
    double v[6] = {m->gemm_gflops,     m->gemm_gflops_node, m->skinny_gflops,
                   m->mem_bw_core_gbs, m->mem_bw_gbs,       m->cores_got};
    for (int i = 0; i < 6 && nrank != 0; i++) v[i] = 1e300;
    MPI_Allreduce(MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_MIN, comm);
    m->gemm_gflops = v[0];
    m->gemm_gflops_node = v[1];
    m->skinny_gflops = v[2];
    m->mem_bw_core_gbs = v[3];
    m->mem_bw_gbs = v[4];
    m->cores_got = v[5];
    calibrate_comm(m, comm, node, quick);
    MPI_Comm_free(&node);
    return 0;
}
