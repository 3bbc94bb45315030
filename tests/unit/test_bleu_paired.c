/* test_bleu_paired.c - `t5g score bleu REF -i BASE SYS... --paired-bs`: stdout must equal the
 * real sacreBLEU 2.6.0 CLI's JSON byte for byte (tests/fixtures/bleu_paired/cases.json, made
 * by tests/reference/make_paired_bs_fixtures.py: default seed 12345 and SACREBLEU_SEED, multi
 * references, -tok intl -lc, floor / none smoothing, -pbsn, a repeated baseline), and bad
 * use gives one error line and no output. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/bleu.h"
#include <limits.h>
#include <stdarg.h>

static char *run_in(const char *dir, int argc, char **argv, int *rc, char **err) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || chdir(dir)) return NULL;
    char *out = et_capture(bleu_cli_main, argc, argv, rc, err);
    if (chdir(cwd)) return out;
    return out;
}

static void test_parity(void) {
    char dir[PATH_MAX];
    if (!realpath(et_path("bleu_paired", ""), dir)) CU_FAIL_FATAL("no fixture folder");
    size_t n;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cases.json", dir);
    char *man = t5g_read_file(path, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    pj_doc *d = pj_parse(man, n, "cases.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_root(d);
    CU_ASSERT_FATAL(cases->type == PJ_ARR && cases->count >= 5);
    for (size_t c = 0; c < cases->count; c++) {
        const pj_value *cs = &cases->items[c], *args = pj_get(cs, "args"), *seed = pj_get(cs, "seed");
        char *argv[32];
        int argc = 0, rc;
        argv[argc++] = "bleu";
        for (size_t i = 0; i < args->count && argc < 31; i++) argv[argc++] = (char *)args->items[i].s;
        argv[argc] = NULL;
        if (seed && seed->type == PJ_STR) setenv("SACREBLEU_SEED", seed->s, 1);
        else unsetenv("SACREBLEU_SEED");
        char *err = NULL, *out = run_in(dir, argc, argv, &rc, &err);
        const char *want = et_str(cs, "stdout");
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT(out && !strcmp(out, want));
        if (rc || !out || strcmp(out, want))
            fprintf(stderr, "\n  case %zu: rc %d stderr '%s'\n  got:\n%s\n  want:\n%s", c, rc, err ? err : "",
                    out ? out : "", want);
        free(out), free(err);
    }
    unsetenv("SACREBLEU_SEED");
    pj_free(d);
    free(man);
}

static void expect_error(const char *seed, const char *what, int rc_want, ...) {
    char dir[PATH_MAX], *argv[16];
    int argc = 0, rc;
    if (!realpath(et_path("bleu_paired", ""), dir)) CU_FAIL_FATAL("no fixture folder");
    argv[argc++] = "bleu";
    va_list ap;
    va_start(ap, rc_want);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 15;) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    if (seed) setenv("SACREBLEU_SEED", seed, 1);
    else unsetenv("SACREBLEU_SEED");
    char *err = NULL, *out = run_in(dir, argc, argv, &rc, &err);
    CU_ASSERT_EQUAL(rc, rc_want);
    CU_ASSERT(out && !*out);
    CU_ASSERT(et_one_error_line(err) && strstr(err, what));
    if (rc != rc_want || !err || !strstr(err, what)) fprintf(stderr, "\n  rc %d stderr '%s' (want '%s')", rc, err ? err : "", what);
    unsetenv("SACREBLEU_SEED");
    free(out), free(err);
}

static void test_errors(void) {
    expect_error(NULL, "BASELINE SYSTEM", 2, "ref0.txt", "-i", "sys0.txt", "--paired-bs", NULL);
    expect_error(NULL, "JSON only", 2, "ref0.txt", "-i", "sys0.txt", "sys1.txt", "--paired-bs", "-f", "text", NULL);
    expect_error("none", "SACREBLEU_SEED", 1, "ref0.txt", "-i", "sys0.txt", "sys1.txt", "--paired-bs", NULL);
    expect_error(NULL, "line-aligned", 1, "ref0.txt", "-i", "sys0.txt", "sys_short.txt", "--paired-bs", NULL);
    expect_error(NULL, "already used", 1, "ref0.txt", "-i", "sys0.txt", "sys1.txt", "sys1.txt", "--paired-bs", NULL);
    expect_error(NULL, "--paired-bs-n", 2, "ref0.txt", "-i", "sys0.txt", "sys1.txt", "--paired-bs", "-pbsn", "0", NULL);
}

int main(void) {
    static CU_TestInfo tests[] = {{"--paired-bs = sacreBLEU", test_parity}, {"errors", test_errors}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"bleu_paired", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
