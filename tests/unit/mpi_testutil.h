/* mpi_testutil.h - the set-up and the verdict of the CUnit programs that run under mpirun
 * (test_tp, test_lowp_mpi, test_t5gemma2): a job id that names the /tmp files the ranks share,
 * the TP/DP communicator, one report (from rank 0), and a failure on any rank fails them all. */
#ifndef T5G_MPI_TESTUTIL_H
#define T5G_MPI_TESTUTIL_H
#include "testutil.h"
#include "fixture_util.h"
#include "t5g.h"
#include "backend/backend.h"
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

static t5g_comm g_comm;
/* rank 0's pid: names the /tmp files every rank of this job shares and no other test run uses */
static int g_job;

/* MPI, g_job, BLIS threads, g_comm with tp ranks per TP group (0: all ranks); only rank 0
 * prints.  Returns 0, or 2 (exit status) when stdout cannot be silenced. */
static inline int mpi_test_init(int *argc, char ***argv, int tp) {
    MPI_Init(argc, argv);
    g_job = (int)getpid();
    MPI_Bcast(&g_job, 1, MPI_INT, 0, MPI_COMM_WORLD);
    t5g_cpu_setup(1);
    if (t5g_comm_init(&g_comm, tp)) {
        t5g_print_error();
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (g_comm.world_rank != 0 && !freopen("/dev/null", "w", stdout)) return 2;
    return 0;
}

/* Runs the suites on every rank: 1 if any assertion, test or suite failed on any rank, 2 if
 * CUnit could not start.  MPI stays up (mpi_test_end). */
static inline int mpi_test_run(CU_SuiteInfo *suites) {
    if (CU_initialize_registry() != CUE_SUCCESS || CU_register_suites(suites) != CUE_SUCCESS) return 2;
    CU_basic_set_mode(g_comm.world_rank == 0 ? CU_BRM_VERBOSE : CU_BRM_SILENT);
    CU_basic_run_tests();
    int fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
    int any = 0;
    MPI_Allreduce(&fails, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_cleanup_registry();
    return any ? 1 : 0;
}

/* fn(dir, name) on every forward fixture (tests/fixtures/fwd, sorted: the same order on every
 * rank) whose model splits over this TP size; the others are named and left out (such layouts
 * must fail cleanly: tested elsewhere).  Returns how many ran. */
static inline int mpi_each_fwd_fixture(void (*fn)(const char *dir, const char *name)) {
    char names[64][256];
    int n = fixture_cases("fwd", names, 64), ran = 0;
    CU_ASSERT_FATAL(n > 0);
    for (int i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fwd/%s", fixtures_dir(), names[i]);
        int splits = fixture_splits(dir, g_comm.tp_size);
        CU_ASSERT_FATAL(splits >= 0);
        if (!splits) {
            if (g_comm.world_rank == 0) printf("\n  %-10s TP=%d not a valid layout: %s", names[i], g_comm.tp_size, t5g_last_error());
            continue;
        }
        fn(dir, names[i]);
        ran++;
    }
    if (g_comm.world_rank == 0) printf("\n");
    return ran;
}

/* Once every rank is done with the shared file h5, rank 0 removes it. */
static inline void mpi_unlink_shared(const char *h5) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_comm.world_rank == 0) unlink(h5);
}

static inline int mpi_test_end(int rc) {
    t5g_comm_free(&g_comm);
    MPI_Finalize();
    return rc;
}
#endif
