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

static int run_case(const char *dir) {
    char cmd[2048], h5[512];
    snprintf(h5, sizeof h5, "/tmp/t5g_fwd_%d_%s.h5", (int)getpid(), strrchr(dir, '/') + 1);
    snprintf(cmd, sizeof cmd, "./build/t5g convert --hf %s/hf -o %s > /dev/null", dir, h5);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    char p[1024];
    snprintf(p, sizeof p, "%s/batch.json", dir);
    char *text = t5g_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    int B, Le, B2, Ld;
    int32_t *ids = fixture_matrix(root, "input_ids", &B, &Le), *mask = fixture_matrix(root, "attention_mask", &B, &Le);
    int32_t *dids = fixture_matrix(root, "decoder_input_ids", &B2, &Ld), *dmask = fixture_matrix(root, "decoder_attention_mask", &B2, &Ld);
    cJSON_Delete(root);
    t5g_comm comm;
    t5g_comm_self(&comm);
    t5g_model *m = t5g_model_load(h5, &comm);
    if (!m) printf("\n  load failed: %s\n", t5g_last_error());
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int He = m->cfg.enc.hidden_size, Hd = m->cfg.dec.hidden_size, V = m->cfg.dec.vocab_size;
    float *eo = malloc(sizeof(float) * B * Le * He), *dout = malloc(sizeof(float) * B * Ld * Hd),
          *lg = malloc(sizeof(float) * B * Ld * V);
    t5g_backbone_in in = {B, Le, Ld, ids, mask, dids, dmask};
    t5g_backbone_out out = {eo, dout, lg};
    int rc = t5g_backbone(m, &in, &out);
    if (rc) printf("\n  forward failed: %s\n", t5g_last_error());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    float *re = fixture_f32(dir, "encoder_out.f32", (size_t)B * Le * He), *rd = fixture_f32(dir, "decoder_out.f32", (size_t)B * Ld * Hd),
          *rl = fixture_f32(dir, "logits.f32", (size_t)B * Ld * V);
    CU_ASSERT_FATAL(re && rd && rl);
    double de = fixture_maxdiff(eo, re, B * Le, He, mask), dd = fixture_maxdiff(dout, rd, B * Ld, Hd, dmask),
           dl = fixture_maxdiff(lg, rl, B * Ld, V, dmask);
    printf("\n  %-10s max|d| encoder %.2e decoder %.2e logits %.2e ", strrchr(dir, '/') + 1, de, dd, dl);
    CU_ASSERT(de <= 1e-4);
    CU_ASSERT(dd <= 1e-4);
    CU_ASSERT(dl <= 1e-4);
    free(re); free(rd); free(rl); free(eo); free(dout); free(lg);
    free(ids); free(mask); free(dids); free(dmask);
    t5g_model_free(m);
    unlink(h5);
    return 0;
}

static void test_fixtures(void) {
    char base[512];
    snprintf(base, sizeof base, "%s/fwd", fixtures_dir());
    DIR *d = opendir(base);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int n = 0;
    char names[64][256];
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.') snprintf(names[n++], 256, "%s", e->d_name);
    closedir(d);
    CU_ASSERT(n >= 6);  /* mha, gqa, window, padding, unbalanced, nosoftcap, bf16, sharded */
    for (int i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", base, names[i]);
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
