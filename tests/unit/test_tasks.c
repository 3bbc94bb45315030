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

/* Every registered task is complete: each field and function set, names unique, task_find
 * finds each; an unknown name is rejected with the registered names listed. */
static void test_registry(void) {
    int n = task_count();
    CU_ASSERT_FATAL(n >= 3);
    CU_ASSERT_PTR_NULL(task_at(-1));
    CU_ASSERT_PTR_NULL(task_at(n));
    for (int i = 0; i < n; i++) {
        const task_info *t = task_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_FATAL(t->name && *t->name && t->prompt_prefix && *t->prompt_prefix);
        CU_ASSERT(t->primary && *t->primary && t->refs_key && *t->refs_key);
        CU_ASSERT(t->sample_metric && *t->sample_metric && (!t->sample_metric2 || *t->sample_metric2));
        CU_ASSERT(t->lmeval_aggregation &&
                  (!strcmp(t->lmeval_aggregation, "bleu") || !strcmp(t->lmeval_aggregation, "mean")));
        CU_ASSERT(t->model_card > 0 && t->model_card <= 100 && t->official_samples > 0);
        CU_ASSERT(t->prompt && t->check_sample && t->score && t->lmeval_metrics);
        CU_ASSERT_PTR_EQUAL(task_find(t->name), t);
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(task_at(j)->name, t->name) != 0);
    }
    CU_ASSERT_PTR_NOT_NULL(task_find("wmt14-en-fr"));
    CU_ASSERT_PTR_NOT_NULL(task_find("cnn-dailymail"));
    CU_ASSERT_PTR_NOT_NULL(task_find("squad-v2"));
    CU_ASSERT_PTR_NULL(task_find("squad-v1"));
    const char *e = t5g_last_error();
    CU_ASSERT(!strncmp(e, "unknown task 'squad-v1' (use ", 29));
    for (int i = 0; i < n; i++) CU_ASSERT_PTR_NOT_NULL(strstr(e, task_at(i)->name));
    CU_ASSERT_PTR_NULL(task_find(NULL));
    char names[256];
    task_names(names, sizeof names, ", ", " or ");
    CU_ASSERT_STRING_EQUAL(names, "wmt14-en-fr, cnn-dailymail or squad-v2");
    task_names(names, 12, " | ", " | ");
    CU_ASSERT_STRING_EQUAL(names, "wmt14-en-fr"); /* truncated at a name */
}

/* Each task's prompt is its documented template: prompt_prefix with every {field} replaced
 * by the sample's value. */
static void test_prompt_templates(void) {
    for (int i = 0; i < task_count(); i++) {
        const task_info *t = task_at(i);
        cJSON *s = cJSON_CreateObject();
        char expect[512] = "", key[64];
        size_t k = 0;
        for (const char *p = t->prompt_prefix; *p && k + 80 < sizeof expect;) {
            const char *close = *p == '{' ? strchr(p, '}') : NULL;
            if (!close || close - p - 1 >= (long)sizeof key) {
                expect[k++] = *p++;
                continue;
            }
            snprintf(key, sizeof key, "%.*s", (int)(close - p - 1), p + 1);
            char val[96];
            snprintf(val, sizeof val, "<%s value>", key);
            cJSON_AddStringToObject(s, key, val);
            k += (size_t)snprintf(expect + k, sizeof expect - k, "%s", val);
            p = close + 1;
        }
        expect[k] = 0;
        char *got = task_prompt(t, s);
        CU_ASSERT_PTR_NOT_NULL(strchr(t->prompt_prefix, '{'));
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, expect);
        free(got);
        cJSON_Delete(s);
    }
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
    {"registry: every task complete, names unique, unknown names listed", test_registry},
    {"each task's prompt follows its documented template", test_prompt_templates},
    {"every shard sample checked for the task's fields", test_sample_checks},
    {"SQuAD no-answer rule: case, white space, one final period", test_no_answer},
    {"metrics printed with Python repr digits", test_repr_digits},
    {"rougeLsum: T5's sentence split on targets too", test_rougelsum_split},
    CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"tasks", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
