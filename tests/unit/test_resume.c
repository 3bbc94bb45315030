/* test_resume.c - the pieces that keep resumed runs from losing or mixing results: torn-tail
 * cutting, run fingerprints, duplicate-id detection, part discovery, strict JSONL lines. */
#include "core/err.h"
#include "core/fileio.h"
#include "core/fingerprint.h"
#include "io/jsonl.h"
#include "testutil.h"
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_torn_tail(void) {
    const char *p = tpath("torn.jsonl");
    write_text(p, "{\"id\":1}\n{\"id\":2}\n{\"id\":3,\"te");
    CU_ASSERT_EQUAL(t5g_cut_torn_tail(p), 11);  /* {"id":3,"te */
    char *t = t5g_read_file(p, NULL);
    CU_ASSERT_STRING_EQUAL(t, "{\"id\":1}\n{\"id\":2}\n");
    free(t);
    CU_ASSERT_EQUAL(t5g_cut_torn_tail(p), 0);              /* whole: untouched */
    write_text(p, "no newline at all");
    CU_ASSERT_EQUAL(t5g_cut_torn_tail(p), 17);              /* nothing complete: emptied */
    t = t5g_read_file(p, NULL);
    CU_ASSERT_STRING_EQUAL(t, "");
    free(t);
    CU_ASSERT_EQUAL(t5g_cut_torn_tail(tpath("absent.jsonl")), 0);
}

static cJSON *fp_with(const char *search, int beams) {
    cJSON *fp = t5g_fingerprint_new("test");
    cJSON_AddStringToObject(fp, "model_sha256", "abc");
    cJSON_AddStringToObject(fp, "search", search);
    cJSON_AddNumberToObject(fp, "num_beams", beams);
    t5g_fingerprint_add_float(fp, "length_penalty", 0.6f);
    return fp;
}

static void test_fingerprint(void) {
    const char *p = tpath("run.json");
    unlink(p);
    cJSON *a = fp_with("beam", 4), *b = fp_with("greedy", 1), *c = fp_with("beam", 4);
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, a, 0, "hint"), 0);   /* nothing stored, no outputs */
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, a, 1, "hint"), -1);  /* outputs without a record */
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "cannot tell"));
    CU_ASSERT_EQUAL(t5g_fingerprint_write(p, a), 0);
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, c, 1, "hint"), 0);   /* same settings */
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, b, 1, "delete it"), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "search is \"greedy\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "made with \"beam\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "delete it"));
    cJSON_AddStringToObject(c, "extra", "x");                    /* a field the record lacks */
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, c, 1, "hint"), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "extra"));
    char *text = t5g_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"0.6\""));             /* shortest float text */
    free(text);
    write_text(p, "[1]");
    CU_ASSERT_EQUAL(t5g_fingerprint_check(p, a, 1, "hint"), -1);
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

static void test_unique_ids(void) {
    const char *p = tpath("ids.jsonl");
    write_text(p, "{\"id\": \"a\"}\n\n{\"id\": 2}\n{\"id\": \"b\"}\n{\"id\": 2}\n");
    jsonl_doc d;
    CU_ASSERT_EQUAL_FATAL(jsonl_read(p, &d), 0);
    CU_ASSERT_EQUAL(jsonl_doc_unique_ids(&d), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), ":5: id 2 already used at"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), ":3"));
    jsonl_free(&d);
    write_text(p, "{\"id\": \"2\"}\n{\"id\": 2}\n");                /* "2" and 2 differ */
    CU_ASSERT_EQUAL_FATAL(jsonl_read(p, &d), 0);
    CU_ASSERT_EQUAL(jsonl_doc_unique_ids(&d), 0);
    jsonl_free(&d);
}

static void test_strict_lines(void) {
    const char *p = tpath("strict.jsonl");
    write_text(p, "{\"id\": 1} x\n{\"id\": 2}{}\n{\"id\": 3, \"text\": \"a\\u0000b\"}\n{\"id\": 4, \"text\": \"a\\\\u0000b\"}\n"
                  "{\"id\": 5}  \r\n");
    jsonl_doc d;
    CU_ASSERT_EQUAL_FATAL(jsonl_read(p, &d), 0);
    CU_ASSERT_EQUAL_FATAL(d.n, 5);
    CU_ASSERT_PTR_NULL(d.items[0]);
    CU_ASSERT_PTR_NOT_NULL(strstr(jsonl_why(&d, 0), "after the value"));
    CU_ASSERT_PTR_NULL(d.items[1]);
    CU_ASSERT_PTR_NULL(d.items[2]);
    CU_ASSERT_PTR_NOT_NULL(strstr(jsonl_why(&d, 2), "u0000"));
    CU_ASSERT_PTR_NOT_NULL(d.items[3]);                      /* an escaped backslash, then u0000: text */
    CU_ASSERT_PTR_NOT_NULL(d.items[4]);                      /* trailing white space is fine */
    jsonl_free(&d);
    write_text(p, "{\"id\": 2.5, \"input_ids\": [1]}\n{\"id\": 1, \"input_ids\": [1, 1e999]}\n{\"id\": 1, \"input_ids\": [1, 7]}\n");
    CU_ASSERT_EQUAL_FATAL(jsonl_read(p, &d), 0);
    char *id = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(jsonl_request(&d, 0, NULL, 0, 10, &id, &ids, &n), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "integer"));
    CU_ASSERT_EQUAL(jsonl_request(&d, 1, NULL, 0, 10, &id, &ids, &n), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "input_ids[1]"));
    CU_ASSERT_EQUAL(jsonl_request(&d, 2, NULL, 0, 10, &id, &ids, &n), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(ids && ids[0] == 1 && ids[1] == 7);
    free(id);
    free(ids);
    jsonl_free(&d);
}

static void test_parts(void) {
    const char *out = tpath("gen.jsonl");
    char p[700];
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s.part%d", out, k == 2 ? 11 : k);
        write_text(p, "{\"id\": 1}\n");
    }
    snprintf(p, sizeof p, "%s.partX", out);
    write_text(p, "");
    snprintf(p, sizeof p, "%s.part1.tmp.5", out);
    write_text(p, "");
    char **v;
    int n;
    CU_ASSERT_EQUAL_FATAL(jsonl_part_paths(out, &v, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);  /* part0, part1, part11: in part order, nothing else */
    CU_ASSERT_PTR_NOT_NULL(strstr(v[0], ".part0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(v[2], ".part11"));
    jsonl_free_paths(v, n);
}

static CU_TestInfo tests[] = {
    {"torn tail cut back to the last line", test_torn_tail},
    {"run fingerprint: match, mismatch naming the field, no record", test_fingerprint},
    {"duplicate ids with both line numbers", test_unique_ids},
    {"strict lines: trailing data, \\u0000, non-integer ids, inf ids", test_strict_lines},
    {"parts of any DP size found, in order", test_parts},
    CU_TEST_INFO_NULL};
static CU_SuiteInfo suites[] = {{"resume", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
int main(void) { return t5g_test_main(suites); }
