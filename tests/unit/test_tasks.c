/* test_tasks.c - task rules the eval harness applies: sample checks before generation, the
 * SQuAD no-answer rule, rougeLsum's sentence split on targets, metrics in Python repr digits. */
#include "core/err.h"
#include "eval/tasks.h"
#include "testutil.h"
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *task, const char *json) {
    cJSON *s = cJSON_Parse(json);
    int rc = task_check_sample(task_find(task), s);
    cJSON_Delete(s);
    return rc;
}

static void test_sample_checks(void) {
    CU_ASSERT_EQUAL(check("squad-v2", "{\"id\":\"a\",\"index\":0,\"question\":\"q\",\"context\":\"c\",\"answers\":[]}"), 0);
    CU_ASSERT_EQUAL(check("squad-v2", "{\"id\":\"a\",\"question\":\"q\",\"context\":\"c\",\"answers\":[]}"), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "index"));
    CU_ASSERT_EQUAL(check("squad-v2", "{\"id\":\"a\",\"index\":1.5,\"question\":\"q\",\"context\":\"c\",\"answers\":[]}"), -1);
    CU_ASSERT_EQUAL(check("squad-v2", "{\"id\":\"a\",\"index\":0,\"question\":\"q\",\"context\":\"c\",\"answers\":[7]}"), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "answers"));
    CU_ASSERT_EQUAL(check("wmt14-en-fr", "{\"id\":1,\"index\":0,\"src\":\"s\",\"refs\":[\"r\"]}"), 0);
    CU_ASSERT_EQUAL(check("wmt14-en-fr", "{\"id\":1,\"index\":0,\"src\":\"s\",\"refs\":[]}"), -1);
    CU_ASSERT_EQUAL(check("wmt14-en-fr", "{\"id\":1,\"index\":0,\"src\":\"s\",\"refs\":[\"r\", null]}"), -1);
    CU_ASSERT_EQUAL(check("cnn-dailymail", "{\"id\":1,\"index\":0,\"article\":\"a\",\"highlights\":\"h\"}"), 0);
    CU_ASSERT_EQUAL(check("cnn-dailymail", "{\"id\":1,\"index\":0,\"article\":\"a\"}"), -1);
    CU_ASSERT_EQUAL(check("cnn-dailymail", "[1]"), -1);
}

static void test_no_answer(void) {
    CU_ASSERT(task_is_no_answer("unanswerable", SQUAD_NO_ANSWER));
    CU_ASSERT(task_is_no_answer("Unanswerable.", SQUAD_NO_ANSWER));
    CU_ASSERT(task_is_no_answer("  UNANSWERABLE \n", SQUAD_NO_ANSWER));
    CU_ASSERT(!task_is_no_answer("unanswerable..", SQUAD_NO_ANSWER));
    CU_ASSERT(!task_is_no_answer("not unanswerable", SQUAD_NO_ANSWER));
    CU_ASSERT(!task_is_no_answer("", SQUAD_NO_ANSWER));
    CU_ASSERT(task_is_no_answer("No answer.", "no answer"));
}

static void test_repr_digits(void) {
    cJSON *o = cJSON_CreateObject();
    task_add_float(o, "a", 75.91411463825018);
    task_add_float(o, "b", 100.0);
    task_add_float(o, "c", 20.899470899470902);
    char *s = cJSON_PrintUnformatted(o);
    CU_ASSERT_STRING_EQUAL(s, "{\"a\":75.91411463825018,\"b\":100.0,\"c\":20.899470899470902}");
    free(s);
    cJSON_Delete(o);
}

/* The example: RougeScorer(['rougeLsum']).score('c b . c d c .', 'd a a c .\nc d b c .')
 * is 0.7692 with T5's split applied to the target as well (0.6154 without). */
static void test_rougelsum_split(void) {
    task_sample s = {cJSON_Parse("{\"id\":1,\"index\":0,\"article\":\"x\",\"highlights\":\"c b . c d c .\"}"),
                     strdup("d a a c .\nc d b c ."), 0, 0};
    task_opts o;
    task_opts_default(&o);
    cJSON *m = NULL;
    double primary = 0;
    CU_ASSERT_EQUAL_FATAL(task_score(task_find("cnn-dailymail"), &s, 1, &o, &m, &primary), 0);
    char *text = cJSON_PrintUnformatted(m);
    cJSON *back = cJSON_Parse(text);
    const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(back, "rougeLsum"), "fmeasure");
    CU_ASSERT(cJSON_IsNumber(f) && fabs(f->valuedouble - 76.92307692307692) < 1e-9);
    free(text);
    cJSON_Delete(back);
    cJSON_Delete(m);
    cJSON_Delete(s.sample);
    free(s.prediction);
}

static CU_TestInfo tests[] = {
    {"every shard sample checked for the task's fields", test_sample_checks},
    {"SQuAD no-answer rule: case, white space, one final period", test_no_answer},
    {"metrics printed with Python repr digits", test_repr_digits},
    {"rougeLsum: T5's sentence split on targets too", test_rougelsum_split},
    CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"tasks", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
