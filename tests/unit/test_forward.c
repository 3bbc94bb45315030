/* test_forward.c - exactness against Hugging Face transformers (eager, float32).
 * For every tests/fixtures/fwd/<case>/: convert hf/ with `build/t5g convert`, load, run the
 * backbone on batch.json and compare encoder output, decoder output and logits at valid
 * positions with the reference dumps (max |Δ| <= 1e-4).  Also checks that TP slices of one
 * process (T = 2, 4 simulated by the shard plan) reproduce the same model. */
#include "testutil.h"
#include "fixture_util.h"
#include "t5g.h"
#include "core/fileio.h"
#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static void run_case(const char *dir) {
    char h5[512];
    snprintf(h5, sizeof h5, "/tmp/t5g_fwd_%d_%s.h5", (int)getpid(), strrchr(dir, '/') + 1);
    CU_ASSERT_EQUAL_FATAL(fixture_convert(dir, h5), 0);
    t5g_comm comm;
    t5g_comm_self(&comm);
    t5g_model *m = t5g_model_load(h5, &comm);
    if (!m) printf("\n  load failed: %s\n", t5g_last_error());
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    double d[3];
    fixture_forward_diff(m, dir, d);
    printf("\n  %-10s max|d| encoder %.2e decoder %.2e logits %.2e ", strrchr(dir, '/') + 1, d[0], d[1], d[2]);
    CU_ASSERT(d[0] <= 1e-4);
    CU_ASSERT(d[1] <= 1e-4);
    CU_ASSERT(d[2] <= 1e-4);
    t5g_model_free(m);
    unlink(h5);
}

static void test_fixtures(void) {
    char names[64][256];
    int n = fixture_cases("fwd", names, 64);
    CU_ASSERT(n >= 6);  /* mha, gqa, window, padding, unbalanced, nosoftcap, bf16, sharded */
    for (int i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fwd/%s", fixtures_dir(), names[i]);
        run_case(dir);
    }
    printf("\n");
}

/* ids >= vocab, masks that are not 0/1, bad sizes: one clear error, nothing computed. */
static void test_bad_inputs(void) {
    t5g_config c;
    CU_ASSERT_EQUAL_FATAL(t5g_config_preset("tiny", &c), 0);
    t5g_comm self;
    t5g_comm_self(&self);
    t5g_model *m = t5g_model_random(&c, 1, &self);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int32_t ids[4] = {2, 5, 6, 7}, bad[4] = {2, 5, 512, 7}, mask[4] = {1, 1, 2, 0}, dec[2] = {2, 9}, neg[2] = {2, -1};
    float logits[2 * 512];
    t5g_backbone_out out = {NULL, NULL, logits};
    t5g_backbone_in in = {1, 4, 2, bad, NULL, dec, NULL};
    CU_ASSERT_EQUAL(t5g_backbone(m, &in, &out), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "outside the vocabulary"));
    t5g_backbone_in in2 = {1, 4, 2, ids, mask, dec, NULL};
    CU_ASSERT_EQUAL(t5g_backbone(m, &in2, &out), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "attention_mask"));
    t5g_backbone_in in3 = {1, 4, 2, ids, NULL, neg, NULL};
    CU_ASSERT_EQUAL(t5g_backbone(m, &in3, &out), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "decoder input"));
    t5g_backbone_in in4 = {0, 4, 2, ids, NULL, dec, NULL};
    CU_ASSERT_EQUAL(t5g_backbone(m, &in4, &out), -1);
    /* invalid configs are refused with the field named */
    t5g_config z = c;
    z.enc.num_key_value_heads = 3;
    CU_ASSERT_EQUAL(t5g_config_validate(&z), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "num_key_value_heads"));
    CU_ASSERT_EQUAL(t5g_config_from_json("{\"model_type\": \"t5gemma\", \"encoder\": {\"head_dim\": 7}}", &z), -1);
    CU_ASSERT_EQUAL(t5g_config_from_json("{\"model_type\": \"llama\"}", &z), -1);
    CU_ASSERT_EQUAL(t5g_config_from_json("{\"encoder\": {\"layer_types\": [\"sliding_attention\"]}}", &z), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "layer_types"));
    t5g_model_free(m);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    static CU_TestInfo tests[] = {{"HF fixtures: encoder, decoder, logits within 1e-4", test_fixtures},
                                  {"bad inputs and configs are refused clearly", test_bad_inputs}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"forward", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    MPI_Finalize();
    return rc;
}
