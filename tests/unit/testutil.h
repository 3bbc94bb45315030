/* testutil.h - tiny helpers shared by the CUnit test programs.
 * Each tests/unit/test_*.c is its own program: it registers its suites and calls
 * T5G_TEST_MAIN(); exit status = number of failures. */
#ifndef T5G_TESTUTIL_H
#define T5G_TESTUTIL_H
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

/* Directory of committed fixtures, overridable with T5G_FIXTURES. */
static inline const char *fixtures_dir(void) {
    const char *d = getenv("T5G_FIXTURES");
    return d && *d ? d : "tests/fixtures";
}

/* A private temporary folder for a suite's files (tmpdir_init / tmpdir_clean as CUnit suite
 * init/cleanup) and paths in it (tpath, 4 rotating buffers). */
#include <unistd.h>
static inline char *t5g_tmpdir(void) { static char d[64]; return d; }
static inline int tmpdir_init(void) {
    snprintf(t5g_tmpdir(), 64, "/tmp/t5g_test_XXXXXX");
    return mkdtemp(t5g_tmpdir()) ? 0 : -1;
}
static inline int tmpdir_clean(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t5g_tmpdir());
    return system(cmd) == 0 ? 0 : -1;
}
static inline const char *tpath(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", t5g_tmpdir(), name);
    return buf[k];
}

static inline int t5g_test_run(void) {
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
                CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}

/* Usage in a test file:
 *   static CU_TestInfo tests[] = {{"name", fn}, CU_TEST_INFO_NULL};
 *   static CU_SuiteInfo suites[] = {{"suite", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
 *   int main(void) { return t5g_test_main(suites); } */
static inline int t5g_test_main(CU_SuiteInfo *suites) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    return t5g_test_run();
}
#endif
