/* test_hf_import.c - t5g_convert_hf as a library call (what `t5g convert` runs): the result
 * fields, the written checkpoint loads with the same parameter count and passes its content
 * hash check, the requested dtype is honoured, and bad calls are one clear error with no file. */
#include "testutil.h"
#include "t5g.h"
#include "model/hf_import.h"
#include <string.h>
#include <sys/stat.h>

static void test_convert_call(void) {
    char hf[512];
    snprintf(hf, sizeof hf, "%s/fwd/gqa/hf", fixtures_dir());
    t5g_convert_opts o = {.hf = hf, .out = tpath("gqa.h5"), .checksum = 1, .quiet = 1};
    t5g_convert_result r;
    memset(&r, 0, sizeof r);
    CU_ASSERT_EQUAL_FATAL(t5g_convert_hf(&o, &r), 0);
    CU_ASSERT(r.tensors > 0);
    CU_ASSERT_STRING_EQUAL(r.dtype, "float32");
    CU_ASSERT_EQUAL(r.vision_tensors, 0);
    t5g_comm comm;
    t5g_comm_self(&comm);
    t5g_model *m = t5g_model_load(o.out, &comm);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(t5g_config_param_count(&m->cfg), r.parameters);
    t5g_model_free(m);
    /* the dtype asked for is the one stored */
    t5g_convert_opts b = o;
    b.out = tpath("gqa_bf16.h5");
    b.dtype = "bfloat16";
    CU_ASSERT_EQUAL_FATAL(t5g_convert_hf(&b, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.dtype, "bfloat16");
}

static void test_bad_calls(void) {
    struct stat st;
    t5g_convert_opts o = {.hf = "/nonexistent/hf", .out = tpath("none.h5"), .checksum = 1, .quiet = 1};
    CU_ASSERT_EQUAL(t5g_convert_hf(&o, NULL), -1);
    CU_ASSERT(strstr(t5g_last_error(), "/nonexistent/hf") != NULL);
    CU_ASSERT(stat(o.out, &st) != 0);  /* nothing written */
    char hf[512];
    snprintf(hf, sizeof hf, "%s/fwd/gqa/hf", fixtures_dir());
    o.hf = hf;
    o.dtype = "float16";
    CU_ASSERT_EQUAL(t5g_convert_hf(&o, NULL), -1);
    CU_ASSERT(strstr(t5g_last_error(), "float16") != NULL);
    CU_ASSERT(stat(o.out, &st) != 0);
    o.dtype = NULL;
    o.out = NULL;
    CU_ASSERT_EQUAL(t5g_convert_hf(&o, NULL), -1);
    printf("\n    -> %s", t5g_last_error());
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    static CU_TestInfo tests[] = {{"library conversion of an HF directory", test_convert_call},
                                  {"bad calls: one clear error, no file", test_bad_calls},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"hf_import", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    MPI_Finalize();
    return rc;
}
