/* setup.c - BLIS threads and kernel family.
 *
 * BLIS 0.9 (Debian 12) does not recognise recent AMD CPUs (Zen 5, family 26) and falls
 * back to its 'generic' kernels, ~5x slower (jobs/README.md, BLIS_ARCH_TYPE).  Unless the user set
 * BLIS_ARCH_TYPE, we pick the skx (AVX-512) kernels on any CPU with AVX-512F/BW/DQ/VL;
 * other CPUs keep BLIS's own detection.  This must run before the first BLIS call. */
#define _GNU_SOURCE
#include "backend/backend.h"
#include "backend/cpu/pool.h"
#include <blis.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>

static int affinity_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
    return 1;
}

void t5g_cpu_setup_ranks(int threads, int local_ranks) {
    if (!getenv("BLIS_ARCH_TYPE")) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
            setenv("BLIS_ARCH_TYPE", "0", 0); /* 0 = skx in BLIS 0.9's arch_t enum */
    }
    if (threads <= 0) {
        const char *e = getenv("BLIS_NUM_THREADS");
        if (!e || !*e) e = getenv("OMP_NUM_THREADS");
        /* unbound ranks on one node share its cores: ranks x threads must not exceed them, or the
           OpenMP barriers and MPI polling of oversubscribed ranks slow everything down badly */
        int cores = affinity_cores(), per = local_ranks > 1 ? cores / local_ranks : cores;
        threads = e && atoi(e) > 0 ? atoi(e) : (per > 0 ? per : 1);
    }
    bli_thread_set_num_threads(threads);
    omp_set_num_threads(threads);
    t5g_pool_set_threads(threads);
}

void t5g_cpu_setup(int threads) {
    t5g_cpu_setup_ranks(threads, 1);
}
