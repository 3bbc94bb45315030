/* test_squad.c - parity of eval/squad.c with the official SQuAD v2.0 evaluation.
 * Hand-checked tables: worked by hand from the official evaluate-v2.0.py rules (docs/evaluation.md).  Fixtures (tests/fixtures/squad) come
 * from tests/reference/make_bleu_squad_fixtures.py running tests/reference/squad_v2_official.py. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/pyfmt.h"
#include "eval/squad.h"
#include "core/err.h"
#include <math.h>

/* ================================================================ hand-checked tables */

typedef struct {
    const char *golds[4];  /* raw answer texts (NULL-terminated); empty list = no answer */
    const char *pred;
    int em;
    double f1;
} single_case;

/* max over golds that normalize to something, else against "" (get_raw_scores) */
static void score_single(const single_case *c, int *em, double *f1) {
    *em = 0;
    *f1 = 0;
    int any = 0;
    for (int k = 0; k < 4 && c->golds[k]; k++) {
        char *n = squad_normalize_answer(c->golds[k], strlen(c->golds[k]));
        int keep = n && *n;
        free(n);
        if (!keep) continue;
        any = 1;
        int e = squad_compute_exact(c->golds[k], c->pred);
        double f = squad_compute_f1(c->golds[k], c->pred);
        if (e > *em) *em = e;
        if (f > *f1) *f1 = f;
    }
    if (!any) {
        *em = squad_compute_exact("", c->pred);
        *f1 = squad_compute_f1("", c->pred);
    }
}

static void test_spec_single(void) {
    static const single_case cases[] = {
        {{"Denver Broncos", "The Denver Broncos"}, "Denver Broncos", 1, 1.0},
        {{"Broncos"}, "the Broncos!", 1, 1.0},
        {{"Denver Broncos"}, "Denver", 0, 0.6666666666666666},
        {{NULL}, "", 1, 1},
        {{NULL}, "something", 0, 0},
        {{"Denver"}, "", 0, 0},
        {{"1000"}, "1,000", 1, 1.0},
        {{"Broncos"}, "\xE2\x80\x9C" "Broncos" "\xE2\x80\x9D", 0, 0},
        {{"cat"}, "the the cat cat", 0, 0.6666666666666666},
        {{"the"}, "a", 1, 1},
        {{"state-of-the-art"}, "state of the art", 0, 0},
        {{"New York City"}, "New York", 0, 0.8},
        {{"1 2 3"}, "3 2 1", 0, 1.0},
        {{"\xC3\x89mile Zola"}, "\xC3\xA9mile zola", 1, 1.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int em;
        double f1;
        score_single(&cases[i], &em, &f1);
        if (em != cases[i].em || f1 != cases[i].f1)
            fprintf(stderr, "  case %zu (%s): em %d f1 %.17g\n", i, cases[i].pred, em, f1);
        CU_ASSERT_EQUAL(em, cases[i].em);
        CU_ASSERT_EQUAL(f1, cases[i].f1);
    }
    static const char *const norm[][2] = {
        {"\xE2\x80\x9CThe Broncos\xE2\x80\x9D", "\xE2\x80\x9C broncos\xE2\x80\x9D"},
        {"the\xC3\xA9 a\xCC\x81 An", "the\xC3\xA9 \xCC\x81"},  /* U+0301 is not \w: 'a' is an article */
        {"state-of-the-art", "stateoftheart"}, {"a.m.", "am"}, {"the_c", "thec"},
        {"  The\tcat\xC2\xA0sat.  ", "cat sat"}, {"", ""}};
    for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++) {
        char *n = squad_normalize_answer(norm[i][0], strlen(norm[i][0]));
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        if (strcmp(n, norm[i][1])) fprintf(stderr, "  normalize(%s) = [%s]\n", norm[i][0], n);
        CU_ASSERT_STRING_EQUAL(n, norm[i][1]);
        free(n);
    }
}

static const char k_data[] =
    "{\"version\": \"v2.0\", \"data\": [{\"title\": \"t\", \"paragraphs\": [{\"context\": \"c\", \"qas\": ["
    "{\"id\": \"q1\", \"answers\": [{\"text\": \"Denver Broncos\"}, {\"text\": \"Denver Broncos\"}, {\"text\": \"The Denver Broncos\"}]},"
    "{\"id\": \"q2\", \"answers\": [{\"text\": \"Santa Clara, California\"}]},"
    "{\"id\": \"q3\", \"answers\": []}, {\"id\": \"q4\", \"answers\": []},"
    "{\"id\": \"q5\", \"answers\": [{\"text\": \"1000\"}]}]}]}]}";
static const char k_pred[] =
    "{\"q1\": \"Denver Broncos\", \"q2\": \"Santa Clara\", \"q3\": \"\", \"q4\": \"Levi's Stadium\", \"q5\": \"one thousand\"}";
static const char k_na[] = "{\"q1\": 0.1, \"q2\": 0.3, \"q3\": 0.9, \"q4\": 0.6, \"q5\": 0.7}";

static char *eval_text(const char *na, double thresh, int pretty) {
    squad2_opts o;
    squad2_opts_default(&o);
    o.na_prob_thresh = thresh;
    squad2_result r;
    int rc = squad2_evaluate(k_data, strlen(k_data), k_pred, strlen(k_pred), na, na ? strlen(na) : 0, &o, &r);
    char *t = rc ? NULL : squad2_format(&r, pretty);
    squad2_result_free(&r);
    return t;
}

static void test_spec_aggregate(void) {
    char *t = eval_text(NULL, 1.0, 0);
    CU_ASSERT_STRING_EQUAL(t, "{\"exact\": 40.0, \"f1\": 56.0, \"total\": 5, \"HasAns_exact\": 33.333333333333336, "
                              "\"HasAns_f1\": 60.0, \"HasAns_total\": 3, \"NoAns_exact\": 50.0, \"NoAns_f1\": 50.0, "
                              "\"NoAns_total\": 2}");
    free(t);
    t = eval_text(k_na, 1.0, 0);
    CU_ASSERT_STRING_EQUAL(t, "{\"exact\": 40.0, \"f1\": 56.0, \"total\": 5, \"HasAns_exact\": 33.333333333333336, "
                              "\"HasAns_f1\": 60.0, \"HasAns_total\": 3, \"NoAns_exact\": 50.0, \"NoAns_f1\": 50.0, "
                              "\"NoAns_total\": 2, \"best_exact\": 60.0, \"best_exact_thresh\": 0.1, \"best_f1\": 76.0, "
                              "\"best_f1_thresh\": 0.3}");
    free(t);
    t = eval_text(k_na, 0.5, 1);
    CU_ASSERT_STRING_EQUAL(t, "{\n  \"exact\": 60.0,\n  \"f1\": 76.0,\n  \"total\": 5,\n  \"HasAns_exact\": 33.333333333333336,\n"
                              "  \"HasAns_f1\": 60.0,\n  \"HasAns_total\": 3,\n  \"NoAns_exact\": 100.0,\n  \"NoAns_f1\": 100.0,\n"
                              "  \"NoAns_total\": 2,\n  \"best_exact\": 60.0,\n  \"best_exact_thresh\": 0.1,\n  \"best_f1\": 76.0,\n"
                              "  \"best_f1_thresh\": 0.3\n}");
    free(t);
}

/* ================================================================ parity fixtures */

static void test_parity_pairs(void) {
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("squad", "pairs.jsonl"), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++) {
        const pj_value *c = pj_root(j.docs[i]), *it = c->items;
        char *ng = squad_normalize_answer(it[0].s, it[0].n), *np = squad_normalize_answer(it[1].s, it[1].n);
        /* golds/preds here never hold NUL bytes, so the C-string entry points apply */
        int em = squad_compute_exact(it[0].s, it[1].s);
        double f1 = squad_compute_f1(it[0].s, it[1].s);
        char f1s[64];
        py_repr_double(f1, f1s, sizeof f1s, 0);
        int ok = ng && np && pj_str_eq(&it[2], ng, strlen(ng)) && pj_str_eq(&it[3], np, strlen(np)) &&
                 em == (int)it[4].num && pj_str_eq(&it[5], f1s, strlen(f1s));
        if (!ok && bad++ < 5)
            fprintf(stderr, "  pair %zu [%s] [%s]: norm [%s] [%s] em %d f1 %s; want [%s] [%s] %d %s\n", i, it[0].s,
                    it[1].s, ng ? ng : "?", np ? np : "?", em, f1s, it[2].s, it[3].s, (int)it[4].num, it[5].s);
        free(ng);
        free(np);
    }
    fprintf(stderr, "  pairs: %zu cases, %zu mismatches\n", j.n, bad);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

static void test_cli_parity(void) {
    size_t len;
    char *text = t5g_read_file(et_path("squad", "cases.json"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    pj_doc *d = pj_parse(text, len, "cases.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_root(d);
    char outp[] = "/tmp/t5g_squad_outXXXXXX";
    int ofd = mkstemp(outp);
    CU_ASSERT_FATAL(ofd >= 0);
    close(ofd);
    size_t bad = 0, errors = 0;
    for (size_t i = 0; i < cases->count; i++) {
        const pj_value *c = &cases->items[i], *args = pj_get(c, "args"), *want_file = pj_get(c, "out_file");
        char *argv[32];
        int argc = 0;
        argv[argc++] = strdup("squad2");
        for (size_t k = 0; k < args->count && argc < 31; k++) {
            const char *a = args->items[k].s;
            argv[argc++] = strdup(!strcmp(a, "@out") ? outp : a[0] == '@' ? et_path("squad", a + 1) : a);
        }
        unlink(outp);
        int rc, want_rc = (int)et_num(c, "rc");
        char *err = NULL, *out = et_capture(squad_cli_main, argc, argv, &rc, &err);
        int ok = out && !strcmp(out, et_str(c, "stdout")) && (want_rc ? rc != 0 : rc == 0);
        if (want_rc) ok &= et_one_error_line(err);
        if (ok && want_file) {
            size_t fl;
            char *f = t5g_read_file(outp, &fl);
            ok = f && pj_str_eq(want_file, f, fl);
            free(f);
        }
        errors += want_rc != 0;
        if (!ok && bad++ < 5)
            fprintf(stderr, "  squad cli case %zu (rc %d want %d): %s\n[%s]\nwant [%s]\n", i, rc, want_rc,
                    err ? err : "", out ? out : "", et_str(c, "stdout"));
        free(out);
        free(err);
        for (int k = 0; k < argc; k++) free(argv[k]);
    }
    unlink(outp);
    fprintf(stderr, "  squad cli: %zu cases (%zu failures of the official script), %zu mismatches\n",
            cases->count, errors, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(errors >= 5);
    pj_free(d);
    free(text);
}

/* ================================================================ bad input */

static int eval_rc(const char *data, const char *pred, const char *na, int missing_as_empty) {
    squad2_opts o;
    squad2_opts_default(&o);
    o.missing_as_empty = missing_as_empty;
    squad2_result r;
    int rc = squad2_evaluate(data, strlen(data), pred, strlen(pred), na, na ? strlen(na) : 0, &o, &r);
    squad2_result_free(&r);
    return rc;
}

static void expect_error(const char *data, const char *pred, const char *na, const char *needle) {
    CU_ASSERT_EQUAL(eval_rc(data, pred, na, 0), -1);
    if (!strstr(t5g_last_error(), needle)) fprintf(stderr, "  error [%s] lacks [%s]\n", t5g_last_error(), needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), needle));
}

static void test_bad_input(void) {
    expect_error(k_data, "{\"q1\": \"x\",}", NULL, "predictions file: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 12 (char 11)");
    expect_error(k_data, "{\"q1\": \"caf\xE9\"}", NULL, "predictions file: invalid UTF-8 at byte offset 11 (line 1");
    expect_error("[1]", k_pred, NULL, "dataset file: expected an object");
    expect_error(k_data, "{\"q1\": \"a\"}", NULL, "4 question(s) have no prediction (first: q2)");
    expect_error(k_data, "{\"q1\": null, \"q2\": \"\", \"q3\": \"\", \"q4\": \"\", \"q5\": \"\"}", NULL, "the answer for q1 is a None");
    expect_error(k_data, k_pred, "{\"q1\": 0.5}", "no probability for question q2");
    expect_error(k_data, k_pred, "{\"q1\": \"x\"}", "not a number");
    expect_error(k_data, k_pred, "{\"q1\": NaN}", "NaN");
    expect_error("{\"data\": [{\"paragraphs\": [{\"qas\": [{\"id\": 5, \"answers\": []}]}]}]}", k_pred, NULL, "string 'id'");
    expect_error("{\"data\": []}", k_pred, NULL, "no question was scored");
    expect_error(k_data, "\xEF\xBB\xBF{}", NULL, "Unexpected UTF-8 BOM");
    /* --missing-as-empty scores them as "" (extension) */
    CU_ASSERT_EQUAL(eval_rc(k_data, "{\"q1\": \"Denver Broncos\"}", NULL, 1), 0);
    squad2_opts o;
    squad2_opts_default(&o);
    o.missing_as_empty = 1;
    squad2_result r;
    const char *p = "{\"q1\": \"Denver Broncos\"}";
    CU_ASSERT_EQUAL(squad2_evaluate(k_data, strlen(k_data), p, strlen(p), NULL, 0, &o, &r), 0);
    CU_ASSERT_EQUAL(r.n_missing, 4);
    CU_ASSERT_STRING_EQUAL(r.missing_log, "Missing prediction for q2\nMissing prediction for q3\n"
                                          "Missing prediction for q4\nMissing prediction for q5\n");
    CU_ASSERT_EQUAL(r.exact, 60.0);  /* q1 right, q3/q4 "" right, q2/q5 wrong */
    squad2_result_free(&r);
    /* CLI usage errors */
    char *argv[] = {"squad2", "only_one.json"};
    int rc;
    char *err = NULL, *out = et_capture(squad_cli_main, 2, argv, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "need DATA.json and PRED.json"));
    free(out);
    free(err);
    char *argv2[] = {"squad2", "a.json", "b.json", "-t", "0x1p3"};
    out = et_capture(squad_cli_main, 5, argv2, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    free(out);
    free(err);
    char *argv3[] = {"squad2", "/nonexistent/d.json", "b.json"};
    out = et_capture(squad_cli_main, 3, argv3, &rc, &err);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open /nonexistent/d.json"));
    free(out);
    free(err);
}

int main(void) {
    static CU_TestInfo spec[] = {{"single-question table, normalization", test_spec_single},
                                 {"5-question aggregate", test_spec_aggregate},
                                 CU_TEST_INFO_NULL};
    static CU_TestInfo parity[] = {{"normalize/EM/F1 pairs", test_parity_pairs},
                                   {"CLI vs official script", test_cli_parity},
                                   CU_TEST_INFO_NULL};
    static CU_TestInfo bad[] = {{"bad input", test_bad_input}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"squad-spec", NULL, NULL, NULL, NULL, spec},
                                    {"squad-parity", NULL, NULL, NULL, NULL, parity},
                                    {"squad-errors", NULL, NULL, NULL, NULL, bad},
                                    CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
