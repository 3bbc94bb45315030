/* test_lmeval.c - `t5g report DIR --lm-eval FILE`: the lm-evaluation-harness results layout
 * and its standard errors.  tests/fixtures/lmeval/<task>/ are t5g run folders whose numbers
 * come from sacreBLEU / rouge-score / the official SQuAD computation, and expected.json holds
 * what lm-eval 0.4.x computes for them (bootstrap_stderr for BLEU, mean_stderr otherwise) and
 * CPython's random stream (tests/reference/make_lmeval_fixtures.py).  The values must be equal
 * as doubles; the layout is checked key by key without Python. */
#include "eval_testutil.h"
#include "eval/lmeval.h"
#include "eval/mt19937.h"
#include <cJSON.h>
#include <math.h>
#include <sys/stat.h>

static cJSON *load(const char *path) {
    size_t n;
    char *t = t5g_read_file(path, &n);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void test_python_random(void) {
    cJSON *e = load(et_path("lmeval", "expected.json"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const cJSON *pr = get(e, "python_random"), *s0 = get(pr, "seed0"), *c7 = get(pr, "seed7_choices_10_of_1000");
    mt19937 g;
    uint32_t key = 0;
    mt_seed_array(&g, &key, 1);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(s0), 5);
    for (int i = 0; i < cJSON_GetArraySize(s0); i++) CU_ASSERT_EQUAL(mt_py_random(&g), cJSON_GetArrayItem(s0, i)->valuedouble);
    key = 7;
    mt_seed_array(&g, &key, 1);
    for (int i = 0; i < cJSON_GetArraySize(c7); i++)
        CU_ASSERT_EQUAL((int)floor(mt_py_random(&g) * 1000.0), cJSON_GetArrayItem(c7, i)->valueint);
    double x[4] = {1, 2, 3, 4};
    CU_ASSERT_DOUBLE_EQUAL(lmeval_sample_stddev(x, 4), sqrt(5.0 / 3.0), 1e-15);
    cJSON_Delete(e);
}

static const char *const KEYS[] = {"results", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better",
                                   "n-samples", "config", "git_hash", "date", "pretty_env_info",
                                   "transformers_version", "lm_eval_version", "upper_git_hash", "model_source",
                                   "model_name", "model_name_sanitized", "start_time", "end_time",
                                   "total_evaluation_time_seconds", "task_hashes"};

static void check_task(const char *task, const cJSON *expect) {
    char dir[600], out[600];
    snprintf(dir, sizeof dir, "%s", et_path("lmeval", task));
    snprintf(out, sizeof out, "%s", tpath("lm_eval.json"));
    unlink(out);
    t5g_clear_error();
    int rc = lmeval_export(dir, out);
    if (rc) fprintf(stderr, "\n  %s: %s\n", task, t5g_last_error());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    cJSON *j = load(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (size_t k = 0; k < sizeof KEYS / sizeof *KEYS; k++) {
        CU_ASSERT_PTR_NOT_NULL(get(j, KEYS[k]));
        if (!get(j, KEYS[k])) fprintf(stderr, "\n  %s: key %s missing", task, KEYS[k]);
    }
    const cJSON *res = get(get(j, "results"), task), *cfg = get(get(j, "configs"), task);
    const cJSON *ns = get(get(j, "n-samples"), task), *hib = get(get(j, "higher_is_better"), task);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(get(res, "alias")), task);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(get(cfg, "output_type")), "generate_until");
    CU_ASSERT_EQUAL(get(get(j, "versions"), task)->valuedouble, 1.0);
    CU_ASSERT_EQUAL(get(get(j, "n-shot"), task)->valueint, 0);
    CU_ASSERT(cJSON_IsNumber(get(ns, "original")) && get(ns, "effective")->valueint == get(res, "sample_len")->valueint);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(get(get(j, "config"), "model")), "t5g");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(get(cfg, "metric_list")), cJSON_GetArraySize(expect));
    const cJSON *e;
    cJSON_ArrayForEach(e, expect) {
        char k1[64], k2[64];
        snprintf(k1, sizeof k1, "%s,none", e->string);
        snprintf(k2, sizeof k2, "%s_stderr,none", e->string);
        const cJSON *v = get(res, k1), *se = get(res, k2), *want_se = get(e, "stderr");
        CU_ASSERT(cJSON_IsNumber(v) && v->valuedouble == get(e, "value")->valuedouble);
        int ok = cJSON_IsString(want_se) ? cJSON_IsString(se) && !strcmp(se->valuestring, want_se->valuestring)
                                         : cJSON_IsNumber(se) && se->valuedouble == want_se->valuedouble;
        CU_ASSERT(ok);
        if (!ok || !cJSON_IsNumber(v) || v->valuedouble != get(e, "value")->valuedouble)
            fprintf(stderr, "\n  %s %s: value %.17g stderr %.17g (want %.17g, %.17g)", task, e->string,
                    v ? v->valuedouble : NAN, se ? se->valuedouble : NAN, get(e, "value")->valuedouble,
                    want_se->valuedouble);
        CU_ASSERT(cJSON_IsTrue(get(hib, e->string)));
    }
    cJSON_Delete(j);
}

static void test_tasks(void) {
    cJSON *e = load(et_path("lmeval", "expected.json"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const char *tasks[3] = {"wmt14-en-fr", "cnn-dailymail", "squad-v2"};
    for (int i = 0; i < 3; i++) check_task(tasks[i], get(e, tasks[i]));
    cJSON_Delete(e);
}

static void copy_file(const char *from, const char *to, const char *find, const char *repl) {
    size_t n;
    char *t = t5g_read_file(from, &n);
    FILE *f = fopen(to, "w");
    char *at = t && find ? strstr(t, find) : NULL;
    if (!t || !f) { free(t); if (f) fclose(f); return; }
    if (at) {
        fwrite(t, 1, (size_t)(at - t), f);
        fputs(repl, f);
        fputs(at + strlen(find), f);
    } else {
        fputs(t, f);
    }
    fclose(f);
    free(t);
}

/* A run folder whose files disagree, or lack samples.jsonl: one error, no output file. */
static void expect_fail(const char *dir, const char *what) {
    const char *out = tpath("bad.json");
    unlink(out);
    t5g_clear_error();
    CU_ASSERT_EQUAL(lmeval_export(dir, out), -1);
    CU_ASSERT(strstr(t5g_last_error(), what) != NULL);
    if (!strstr(t5g_last_error(), what)) fprintf(stderr, "\n  error '%s' lacks '%s'", t5g_last_error(), what);
    CU_ASSERT_EQUAL(access(out, F_OK), -1);
}

static void test_errors(void) {
    char d[300], src[600], dst[600];
    snprintf(d, sizeof d, "%s", tpath("run"));
    mkdir(d, 0755);
    snprintf(src, sizeof src, "%s", et_path("lmeval", "wmt14-en-fr/results.json"));
    snprintf(dst, sizeof dst, "%s/results.json", d);
    copy_file(src, dst, NULL, NULL);
    expect_fail(d, "samples.jsonl");
    snprintf(src, sizeof src, "%s", et_path("lmeval", "wmt14-en-fr/samples.jsonl"));
    snprintf(dst, sizeof dst, "%s/samples.jsonl", d);
    copy_file(src, dst, "\"prediction\": \"", "\"prediction\": \"extra words ");
    expect_fail(d, "different runs");
    snprintf(src, sizeof src, "%s", et_path("lmeval", "wmt14-en-fr/results.json"));
    snprintf(dst, sizeof dst, "%s/results.json", d);
    copy_file(src, dst, "\"samples\": 40", "\"samples\": 41");
    expect_fail(d, "41");
}

int main(void) {
    static CU_TestInfo tests[] = {{"CPython random and sample_stddev", test_python_random},
                                  {"layout and stderr = lm-eval", test_tasks},
                                  {"inconsistent run folders", test_errors},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"lmeval", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
