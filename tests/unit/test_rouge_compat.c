/* test_rouge_compat.c - `t5g score rouge` with rouge-score 0.1.2's own flags writes the CSV
 * the real `python -m rouge_score.rouge` wrote (tests/fixtures/rouge_cli, made by
 * tests/reference/make_rouge_cli_fixtures.py after numpy.random.seed(S); we pass --seed=S),
 * byte for byte; and its bad input gives one error line and no output file. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/rouge.h"
#include <stdarg.h>
#include <sys/stat.h>

static char *read_text(const char *path) {
    size_t n;
    return t5g_read_file(path, &n);
}

/* args with {D} -> fixture folder, {OUT} -> out. */
static char *subst(const char *a, const char *out) {
    char buf[8192];
    size_t k = 0;
    for (const char *p = a; *p && k + 1 < sizeof buf;) {
        const char *r = !strncmp(p, "{D}", 3) ? et_path("rouge_cli", "") : !strncmp(p, "{OUT}", 5) ? out : NULL;
        if (r) {
            size_t l = strlen(r);
            if (!strncmp(p, "{D}", 3) && l && r[l - 1] == '/') l--; /* et_path ends in "/" */
            if (k + l >= sizeof buf) break;
            memcpy(buf + k, r, l);
            k += l;
            p += !strncmp(p, "{D}", 3) ? 3 : 5;
        } else {
            buf[k++] = *p++;
        }
    }
    buf[k] = 0;
    return strdup(buf);
}

static void test_parity(void) {
    size_t n;
    char *man = t5g_read_file(et_path("rouge_cli", "cases.json"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    pj_doc *d = pj_parse(man, n, "cases.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_root(d);
    CU_ASSERT_FATAL(cases->type == PJ_ARR && cases->count >= 7);
    for (size_t c = 0; c < cases->count; c++) {
        const pj_value *cs = &cases->items[c], *args = pj_get(cs, "args");
        char out[512], seed[64], *argv[40];
        int argc = 0, rc;
        snprintf(out, sizeof out, "%s", tpath("out.csv"));
        unlink(out);
        argv[argc++] = "rouge";
        for (size_t i = 0; i < args->count && argc < 38; i++) argv[argc++] = subst(args->items[i].s, out);
        snprintf(seed, sizeof seed, "--seed=%d", (int)et_num(cs, "seed"));
        argv[argc++] = seed;
        argv[argc] = NULL;
        char *err = NULL, *so = et_capture(rouge_cli_main, argc, argv, &rc, &err);
        char *got = read_text(out), *want = read_text(et_path("rouge_cli", et_str(cs, "expected")));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_PTR_NOT_NULL(want);
        CU_ASSERT(got && want && !strcmp(got, want));
        if (rc || !got || !want || strcmp(got, want))
            fprintf(stderr, "\n  case %s: rc %d stderr '%s'\n  got:\n%s\n  want:\n%s\n", et_str(cs, "name"), rc,
                    err ? err : "", got ? got : "(none)", want ? want : "(none)");
        for (int i = 1; i < argc - 1; i++) free(argv[i]);
        free(got), free(want), free(so), free(err);
    }
    pj_free(d);
    free(man);
}

/* Run with the given arguments; expect exit rc, one "t5g: error:" line containing w, no out. */
static void expect_error(int rc, const char *w, const char *first, ...) {
    char *argv[32];
    int argc = 0, got;
    argv[argc++] = "rouge";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    unlink(tpath("bad.csv"));
    char *err = NULL, *so = et_capture(rouge_cli_main, argc, argv, &got, &err);
    CU_ASSERT_EQUAL(got, rc);
    CU_ASSERT(et_one_error_line(err));
    CU_ASSERT(err && strstr(err, w));
    if (got != rc || !err || !strstr(err, w) || !et_one_error_line(err))
        fprintf(stderr, "\n  %s: rc %d, stderr '%s' (wanted rc %d and '%s')\n", first, got, err ? err : "", rc, w);
    CU_ASSERT_EQUAL(access(tpath("bad.csv"), F_OK), -1);
    free(err), free(so);
}

static void write_lit(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    if (f) fputs(s, f), fclose(f);
}

static void test_bad_input(void) {
    char t[300], p[300], p2[300], o[300], tf[320], pf[320], of[320], pf2[320];
    snprintf(t, sizeof t, "%s", tpath("a.targets"));
    snprintf(p, sizeof p, "%s", tpath("a.decodes"));
    snprintf(p2, sizeof p2, "%s", tpath("b.decodes"));
    snprintf(o, sizeof o, "%s", tpath("bad.csv"));
    snprintf(tf, sizeof tf, "--target_filepattern=%s", t);
    snprintf(pf, sizeof pf, "--prediction_filepattern=%s", p);
    snprintf(pf2, sizeof pf2, "--prediction_filepattern=%s/*.decodes", t5g_tmpdir());
    snprintf(of, sizeof of, "--output_filename=%s", o);
    write_lit(t, "one two\nthree\n");
    write_lit(p, "one\n");
    expect_error(1, "2 records", tf, pf, of, NULL);
    write_lit(p, "one\n\xff\n");
    expect_error(1, "UTF-8", tf, pf, of, NULL);
    write_lit(p, "one\ntwo\n");
    write_lit(p2, "one\ntwo\n");
    expect_error(1, "found 1 target files", tf, pf2, of, NULL); /* 1 target vs 2 prediction files */
    expect_error(1, "found 0 target files", "--target_filepattern=/nonexistent/*.t", pf, of, NULL);
    expect_error(2, "--output_filename", tf, pf, NULL);
    expect_error(2, "true or false", tf, pf, of, "--split_summaries=maybe", NULL);
    expect_error(2, "true or false", tf, pf, of, "--use_stemmer=yes", NULL);
    expect_error(2, "does not take a value", tf, pf, of, "--nouse_stemmer=1", NULL);
    expect_error(2, "rouge0", tf, pf, of, "--rouge_types=rouge1,rouge0", NULL);
    expect_error(2, "empty", tf, pf, of, "--rouge_types=", NULL);
    expect_error(2, "unknown flag", tf, pf, of, "--use_stemer", NULL);
    expect_error(2, "given twice", tf, pf, of, "--use_stemmer", "--nouse_stemmer", NULL);
    expect_error(2, "--seed", tf, pf, of, "--seed=-3", NULL);
    expect_error(2, "missing value", tf, pf, "--output_filename", NULL);
    expect_error(2, "delimiter", tf, pf, of, "--delimiter=", NULL);
    /* --seed alone does not switch to the rouge-score form: the other form reports its error */
    expect_error(2, "option --seed=3", "--targets", t, "--predictions", p, "--seed=3", NULL);
    /* the same good input works, and --help shows the rouge-score form */
    int rc;
    char *argv[] = {"rouge", tf, pf, of, NULL};
    char *so = et_capture(rouge_cli_main, 4, argv, &rc, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(access(o, F_OK), 0);
    free(so);
    char *help[] = {"rouge", "--target_filepattern=x", "--help", NULL};
    so = et_capture(rouge_cli_main, 3, help, &rc, NULL);
    CU_ASSERT(rc == 0 && so && strstr(so, "--prediction_filepattern"));
    free(so);
}

int main(void) {
    static CU_TestInfo tests[] = {{"CSV = rouge-score CLI", test_parity}, {"bad input", test_bad_input},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"rouge_compat", tmpdir_init, tmpdir_clean, NULL, NULL, tests},
                                    CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
