/* test_json.c - src/core/json.c: t5g_json_parse (the `whole` rule, where a bad text went wrong,
 * no out-of-memory claim for bad text) and t5g_json_print.  Running out of memory itself is
 * injected by tests/shell/test_alloc_fail.sh (report, eval, generate, score sweeps). */
#include "testutil.h"
#include "core/json.h"
#include "core/err.h"
#include <string.h>

static void test_parse(void) {
    int oom = 1;
    const char *end = NULL;
    const char *t = " {\"a\": [1, 2]}\n\t ";
    cJSON *j = t5g_json_parse(t, strlen(t), &end, 1, &oom, "t");
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(oom, 0);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(j, "a")), 2);
    cJSON_Delete(j);
    /* something after the value: fine unless `whole` */
    t = "{\"a\": 1} x";
    j = t5g_json_parse(t, strlen(t), &end, 0, &oom, "t");
    CU_ASSERT_PTR_NOT_NULL(j);
    cJSON_Delete(j);
    j = t5g_json_parse(t, strlen(t), &end, 1, &oom, "t");
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_EQUAL(oom, 0);
    CU_ASSERT_PTR_EQUAL(end, t + 9); /* at the x */
    /* only len bytes are read: the same text cut before the x is whole */
    j = t5g_json_parse(t, 8, &end, 1, &oom, "t");
    CU_ASSERT_PTR_NOT_NULL(j);
    cJSON_Delete(j);
    /* bad text: NULL, not out of memory, and no error recorded (the caller names the file) */
    t5g_clear_error();
    t = "{\"a\": [1, }";
    j = t5g_json_parse(t, strlen(t), &end, 0, &oom, "t");
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_EQUAL(oom, 0);
    CU_ASSERT_PTR_NOT_NULL(end);
    CU_ASSERT_STRING_EQUAL(t5g_last_error(), "");
    j = t5g_json_parse("", 0, &end, 1, &oom, "t");
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_EQUAL(oom, 0);
}

static void test_print(void) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", 3);
    char *s = t5g_json_print(o, 0, "o");
    CU_ASSERT_STRING_EQUAL(s, "{\"n\":3}");
    free(s);
    s = t5g_json_print(o, 1, "o");
    CU_ASSERT_STRING_EQUAL(s, "{\n\t\"n\":\t3\n}");
    free(s);
    cJSON_Delete(o);
    CU_ASSERT_EQUAL(t5g_json_alloc_failed(), 0);
    /* no tree and no failed allocation: an internal error, not out of memory */
    CU_ASSERT_PTR_NULL(t5g_json_print(NULL, 0, "nothing"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "internal"));
}

int main(void) {
    static CU_TestInfo tests[] = {{"parse", test_parse}, {"print", test_print}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"json", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
