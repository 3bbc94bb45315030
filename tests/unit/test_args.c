/* test_args.c - src/cli/args.c, the flag parser of every subcommand: getopt_long rules
 * (--opt VALUE, --opt=VALUE, -o VALUE, -oVALUE, bundled short flags, -- ends the options,
 * positionals anywhere), and the errors: unknown, repeated (also through an alias), missing or
 * malformed values, a value given to a flag, no abbreviations. */
#include "testutil.h"
#include "cli/args.h"
#include "core/err.h"
#include <string.h>

typedef struct {
    const char *model, *out;
    int beams, quiet, json;
    double lp;
    arg_strs stop;
    const char *pos[4];
    int npos;
} opts;

/* Parse the NULL-terminated words (argv[0] = "cmd"); returns args_parse's value. */
static int parse(opts *o, const char *const *words) {
    memset(o, 0, sizeof *o);
    o->beams = -1;
    arg_spec specs[] = {
        {"-m|--model", ARG_STR, &o->model, "model"},
        {"-o|--out", ARG_STR, &o->out, "out"},
        {"--beams", ARG_INT, &o->beams, "beams"},
        {"--length-penalty", ARG_FLOAT, &o->lp, "lp"},
        {"-q|--quiet", ARG_FLAG, &o->quiet, "quiet"},
        {"-j|--json", ARG_FLAG, &o->json, "json"},
        {"--stop", ARG_STRS, &o->stop, "stop string (repeatable)"},
    };
    char *argv[32];
    int argc = 0;
    argv[argc++] = "cmd";
    for (; *words; words++) argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    t5g_clear_error();
    return args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), "usage: cmd", o->pos, 4, &o->npos);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_value_forms(void) {
    opts o;
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("--beams", "4", "--model=m.h5", "-oout.jsonl", "--length-penalty=0.6")), 0);
    CU_ASSERT_EQUAL(o.beams, 4);
    CU_ASSERT_STRING_EQUAL(o.model, "m.h5");
    CU_ASSERT_STRING_EQUAL(o.out, "out.jsonl");
    CU_ASSERT_DOUBLE_EQUAL(o.lp, 0.6, 1e-15);
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("--beams=7", "-m", "x", "--out", "-")), 0);  /* "-" is a value */
    CU_ASSERT_EQUAL(o.beams, 7);
    CU_ASSERT_STRING_EQUAL(o.out, "-");
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("--model=a=b", "--out=")), 0);  /* the first '=' splits */
    CU_ASSERT_STRING_EQUAL(o.model, "a=b");
    CU_ASSERT_STRING_EQUAL(o.out, "");
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("--beams", "-3")), 0);  /* a negative number is a value */
    CU_ASSERT_EQUAL(o.beams, -3);
}

static void test_positionals_and_dashdash(void) {
    opts o;
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("a", "--quiet", "b", "--", "--beams", "-q")), 0);
    CU_ASSERT_EQUAL(o.quiet, 1);
    CU_ASSERT_EQUAL(o.beams, -1);  /* after --: positional */
    CU_ASSERT_EQUAL_FATAL(o.npos, 4);
    CU_ASSERT_STRING_EQUAL(o.pos[0], "a");
    CU_ASSERT_STRING_EQUAL(o.pos[1], "b");
    CU_ASSERT_STRING_EQUAL(o.pos[2], "--beams");
    CU_ASSERT_STRING_EQUAL(o.pos[3], "-q");
    CU_ASSERT_EQUAL(parse(&o, WORDS("a", "b", "c", "d", "e")), -1);  /* more than maxpos */
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "unexpected argument 'e'"));
}

static void test_bundled_short(void) {
    opts o;
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("-qj")), 0);
    CU_ASSERT(o.quiet && o.json);
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("-qmfile.h5")), 0);  /* flags, then a short option with its value */
    CU_ASSERT(o.quiet);
    CU_ASSERT_STRING_EQUAL(o.model, "file.h5");
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("-qm", "f2.h5")), 0);
    CU_ASSERT_STRING_EQUAL(o.model, "f2.h5");
}

static void test_lists_repeat(void) {
    opts o;
    CU_ASSERT_EQUAL_FATAL(parse(&o, WORDS("--stop", "a", "--stop=b", "--stop", "")), 0);
    CU_ASSERT_EQUAL_FATAL(o.stop.n, 3);
    CU_ASSERT_STRING_EQUAL(o.stop.v[0], "a");
    CU_ASSERT_STRING_EQUAL(o.stop.v[1], "b");
    CU_ASSERT_STRING_EQUAL(o.stop.v[2], "");
}

/* args_parse fails and the one-line message contains want */
static void expect_error(const char *const *words, const char *want) {
    opts o;
    int rc = parse(&o, words);
    CU_ASSERT_EQUAL(rc, -1);
    if (!strstr(t5g_last_error(), want)) {
        printf("\n  expected '%s' in '%s'\n", want, t5g_last_error());
        CU_FAIL("error message");
    }
    CU_ASSERT_PTR_NULL(strchr(t5g_last_error(), '\n'));
}

static void test_errors(void) {
    expect_error(WORDS("--beams", "4", "--beams", "5"), "option --beams is given twice");
    expect_error(WORDS("--beams=4", "--beams=4"), "option --beams is given twice");  /* even the same value */
    expect_error(WORDS("-q", "--quiet"), "option -q|--quiet is given twice (as -q and --quiet)");
    expect_error(WORDS("-m", "a", "--model=b"), "option -m|--model is given twice (as -m and --model)");
    expect_error(WORDS("-qq"), "option -q is given twice");
    expect_error(WORDS("--bogus"), "unknown option '--bogus'");
    expect_error(WORDS("--bogus=3"), "unknown option '--bogus'");
    expect_error(WORDS("--beam", "4"), "unknown option '--beam'");  /* no abbreviations */
    expect_error(WORDS("-x"), "unknown option '-x'");
    expect_error(WORDS("-qx"), "unknown option '-x' in '-qx'");
    expect_error(WORDS("--beams"), "option --beams needs a value");
    expect_error(WORDS("-m"), "option -m needs a value");
    expect_error(WORDS("--beams=four"), "option --beams needs an integer, got 'four'");
    expect_error(WORDS("--beams="), "option --beams needs an integer, got ''");
    expect_error(WORDS("--beams", "99999999999"), "needs an integer");
    expect_error(WORDS("--length-penalty", "nan"), "option --length-penalty needs a finite number");
    expect_error(WORDS("--quiet=1"), "option --quiet takes no value (got '1')");
}

static void test_help(void) {
    opts o;
    fflush(stdout);
    FILE *saved = stdout;
    char *buf = NULL;
    size_t len = 0;
    stdout = open_memstream(&buf, &len);
    int rc = parse(&o, WORDS("--beams", "2", "--help"));
    fclose(stdout);
    stdout = saved;
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "usage: cmd"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "--opt=VALUE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "each option at most once"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-- ends the options"));
    free(buf);
    CU_ASSERT_EQUAL(parse(&o, WORDS("--", "--help")), 0);  /* after --, --help is a positional */
    CU_ASSERT_EQUAL(o.npos, 1);
}

int main(void) {
    static CU_TestInfo tests[] = {{"--opt VALUE, --opt=VALUE, -oVALUE", test_value_forms},
                                  {"positionals and --", test_positionals_and_dashdash},
                                  {"bundled short options", test_bundled_short},
                                  {"list options repeat", test_lists_repeat},
                                  {"errors: unknown, repeated, values", test_errors},
                                  {"--help", test_help},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"args", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
