/* test_report.c - src/core/sha256 (FIPS 180-4 vectors, and `sha256sum` on files) and
 * `t5g report` (eval/report.c, src/cli/cmd_report.c) on the hand-written results.json files
 * in tests/fixtures/report: exact table and markdown text, the PNG chart, bad input. */
#include "eval_testutil.h"
#include "cli/cli.h"
#include "core/sha256.h"
#include "eval/gnuplot.h"
#include "eval/report.h"
#include <cJSON.h>
#include <dirent.h>
#include <sys/stat.h>

int cmd_report(int argc, char **argv);

/* A fresh folder under /tmp for outputs (static buffer). */
static const char *tmp_dir(void) {
    static char d[64];
    snprintf(d, sizeof d, "/tmp/t5g_test_reportXXXXXX");
    return mkdtemp(d);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Number of entries in a folder other than . and .. */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void rm_tree(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!strncmp(dir, "/tmp/t5g_test_report", 20) && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* ================================================================ SHA-256 */

static void check_buf(const char *msg, size_t len, const char *want) {
    char hex[65];
    CU_ASSERT_EQUAL_FATAL(t5g_sha256_buf(msg, len, hex), 0);
    CU_ASSERT_STRING_EQUAL(hex, want);
}

static void sha_vectors(void) {
    check_buf("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_buf("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_buf(m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_buf(m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *a = malloc(1000000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    memset(a, 'a', 1000000);
    check_buf(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same message fed in uneven pieces (partial-block paths of update) */
    t5g_sha256_ctx c;
    uint8_t d[32];
    char hex[65];
    t5g_sha256_init(&c);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 7 % 131 + 1)
        t5g_sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
    t5g_sha256_final(&c, d);
    t5g_sha256_hex(d, hex);
    CU_ASSERT_STRING_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* FIPS 180-4 examples, with the SHA-NI path (where the CPU has it) and the portable one. */
static void test_sha_vectors(void) {
    printf("(SHA-NI %s) ", t5g_sha256_use_hw(1) ? "available" : "not available");
    sha_vectors();
    CU_ASSERT_EQUAL(t5g_sha256_use_hw(0), 0);
    sha_vectors();
    t5g_sha256_use_hw(1);
}

/* t5g_sha256_file against coreutils sha256sum, on lengths around the 64-byte block and
 * padding boundaries and across the 1 MiB read chunk; both code paths. */
static void sha_file_vs_sha256sum(void) {
    const char *dir = tmp_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 1048576, 3 * 1048576 + 17};
    unsigned seed = 12345;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char path[256], cmd[512], want[80] = "", got[65];
        snprintf(path, sizeof path, "%s/f%zu.bin", dir, lens[k]);
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        for (size_t i = 0; i < lens[k]; i++) fputc((seed = seed * 1103515245u + 12345u) >> 16 & 255, f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
        FILE *p = popen(cmd, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT(fgets(want, sizeof want, p) != NULL);
        CU_ASSERT_EQUAL(pclose(p), 0);
        want[64] = 0;
        CU_ASSERT_EQUAL(t5g_sha256_file(path, got), 0);
        if (strcmp(got, want)) fprintf(stderr, "length %zu: %s vs sha256sum %s\n", lens[k], got, want);
        CU_ASSERT_STRING_EQUAL(got, want);
    }
    rm_tree(dir);
}

static void test_sha_file_vs_sha256sum(void) {
    t5g_sha256_use_hw(1);
    sha_file_vs_sha256sum();
    t5g_sha256_use_hw(0);
    sha_file_vs_sha256sum();
    t5g_sha256_use_hw(1);
}

static void test_sha_errors(void) {
    char hex[65];
    CU_ASSERT_EQUAL(t5g_sha256_file("/nonexistent/model.h5", hex), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "/nonexistent/model.h5"));
    CU_ASSERT_EQUAL(t5g_sha256_file("tests", hex), -1);  /* a folder */
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "tests"));
    CU_ASSERT_EQUAL(t5g_sha256_file(NULL, hex), -1);
    CU_ASSERT_EQUAL(t5g_sha256_buf(NULL, 3, hex), -1);
}

/* ================================================================ report: good runs */

#define NFIX 4
static const char *FIX[NFIX] = {"wmt-tp2", "cnn-dp2/", "squad-full", "squad-limit8/results.json"};

static int load_fixtures(report_run *runs) {
    for (int i = 0; i < NFIX; i++)
        if (report_load(et_path("report", FIX[i]), &runs[i]) != 0) {
            fprintf(stderr, "%s\n", t5g_last_error());
            return -1;
        }
    return 0;
}

static const char TEXT[] =
    "run           task           metric   score  model card   diff  samples  reportable                  TPxDP  tokens/s      wall  model\n"
    "--------------------------------------------------------------------------------------------------------------------------------------------------------------------\n"
    "wmt-tp2       wmt14-en-fr    BLEU     28.53        28.5  +0.03     3003  yes                         2x1        32.1  1h02m03s  t5gemma-2b-2b-prefixlm.h5 (4e879daf)\n"
    "cnn-dp2       cnn-dailymail  ROUGE-2  17.91        18.2  -0.29    11490  yes                         1x2        42.8  4h29m05s  t5gemma-2b-2b-prefixlm.h5 (4e879daf)\n"
    "squad-full    squad-v2       F1       86.05        85.3  +0.75    11873  yes                         2x2        28.5    41m40s  t5gemma-2b-2b-prefixlm.h5 (4e879daf)\n"
    "squad-limit8  squad-v2       F1       62.50        85.3    n/a        8  not reportable (--limit 8)  1x1         9.4      4.3s  demo.h5 (2a97516c)\n";

static const char MARKDOWN[] =
    "| run | task | metric | score | model card | diff | samples | reportable | TPxDP | tokens/s | wall | model |\n"
    "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |\n"
    "| wmt-tp2 | wmt14-en-fr | BLEU | 28.53 | 28.5 | +0.03 | 3003 | yes | 2x1 | 32.1 | 1h02m03s | t5gemma-2b-2b-prefixlm.h5 (4e879daf) |\n"
    "| cnn-dp2 | cnn-dailymail | ROUGE-2 | 17.91 | 18.2 | -0.29 | 11490 | yes | 1x2 | 42.8 | 4h29m05s | t5gemma-2b-2b-prefixlm.h5 (4e879daf) |\n"
    "| squad-full | squad-v2 | F1 | 86.05 | 85.3 | +0.75 | 11873 | yes | 2x2 | 28.5 | 41m40s | t5gemma-2b-2b-prefixlm.h5 (4e879daf) |\n"
    "| squad-limit8 | squad-v2 | F1 | 62.50 | 85.3 | n/a | 8 | not reportable (--limit 8) | 1x1 | 9.4 | 4.3s | demo.h5 (2a97516c) |\n";

static void test_load_fields(void) {
    report_run r[NFIX];
    CU_ASSERT_EQUAL_FATAL(load_fixtures(r), 0);
    CU_ASSERT_STRING_EQUAL(r[0].run, "wmt-tp2");
    CU_ASSERT_STRING_EQUAL(r[1].run, "cnn-dp2");        /* trailing slash */
    CU_ASSERT_STRING_EQUAL(r[3].run, "squad-limit8");   /* the results.json file itself */
    CU_ASSERT_STRING_EQUAL(r[1].metric, "ROUGE-2");
    CU_ASSERT_DOUBLE_EQUAL(r[1].value, 17.912, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r[0].model_card, 28.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(r[1].model_card, 18.2, 0);
    CU_ASSERT_DOUBLE_EQUAL(r[2].model_card, 85.3, 0);
    CU_ASSERT_EQUAL(r[0].limit, -1);
    CU_ASSERT_EQUAL(r[3].limit, 8);
    CU_ASSERT_EQUAL(r[0].reportable, 1);
    CU_ASSERT_EQUAL(r[3].reportable, 0);
    CU_ASSERT_EQUAL(r[2].tp, 2);
    CU_ASSERT_EQUAL(r[2].dp, 2);
    CU_ASSERT_EQUAL(r[1].samples, 11490);
    CU_ASSERT_STRING_EQUAL(r[3].model, "demo.h5");
}

static char *print_to_string(int (*fn)(FILE *, const report_run *, int), const report_run *r, int n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    int rc = fn(f, r, n);
    fclose(f);
    if (rc != 0) { free(buf); return NULL; }
    return buf;
}

/* fn on the four fixture runs prints exactly want */
static void check_print(int (*fn)(FILE *, const report_run *, int), report_run *r, const char *want) {
    CU_ASSERT_EQUAL_FATAL(load_fixtures(r), 0);
    char *s = print_to_string(fn, r, NFIX);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    if (strcmp(s, want)) fprintf(stderr, "got:\n%s\nwant:\n%s\n", s, want);
    CU_ASSERT_STRING_EQUAL(s, want);
    free(s);
}

static void test_text_table(void) {
    report_run r[NFIX];
    check_print(report_print_text, r, TEXT);
}

static void test_markdown(void) {
    report_run r[NFIX];
    check_print(report_print_markdown, r, MARKDOWN);
    char *s;
    /* a '|' in a run name must not split the cell */
    snprintf(r[0].run, sizeof r[0].run, "a|b");
    s = print_to_string(report_print_markdown, r, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\n| a\\|b | wmt14-en-fr |"));
    free(s);
}

/* Wall-time and reportable cells other than the fixtures show. */
static void test_cells(void) {
    report_run r[1];
    CU_ASSERT_EQUAL_FATAL(report_load(et_path("report", "wmt-tp2"), &r[0]), 0);
    r[0].wall_s = 59.94;
    r[0].reportable = 0;  /* not reportable for a reason other than --limit */
    char *s = print_to_string(report_print_markdown, r, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "| not reportable | 2x1 | 32.1 | 59.9s |"));
    free(s);
    r[0].wall_s = 59.96;
    s = print_to_string(report_print_markdown, r, 1);
    CU_ASSERT_PTR_NOT_NULL(s && strstr(s, "| 1m00s |"));
    free(s);
}

static int has_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

static void test_png(void) {
    report_run r[NFIX];
    CU_ASSERT_EQUAL_FATAL(load_fixtures(r), 0);
    const char *dir = tmp_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char png[256], sub[256];
    snprintf(sub, sizeof sub, "%s/charts", dir);
    snprintf(png, sizeof png, "%s/report.png", sub);  /* parent folder does not exist yet */
    /* a run name with quotes and a backslash must not break the gnuplot script */
    snprintf(r[1].run, sizeof r[1].run, "it's \"odd\" \\ name");
    int rc = report_write_png(png, r, NFIX, NULL);
    if (!has_gnuplot()) {
        fprintf(stderr, "gnuplot is not installed: checking the 'cannot run gnuplot' result only\n");
        /* CI installs gnuplot (tools/install_deps.sh): there the chart itself must be checked */
        const char *ci = getenv("CI");
        CU_ASSERT(!ci || strcmp(ci, "true"));
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_EQUAL(file_size(png), -1);
    } else {
        if (rc) fprintf(stderr, "%s\n", t5g_last_error());
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT(gp_is_png(png));
        CU_ASSERT(file_size(png) > 10000);  /* two panels with bars and text, not an empty canvas */
        CU_ASSERT_EQUAL(count_entries(sub), 1);  /* no temp file left behind */
    }
    rm_tree(dir);
}

/* gnuplot missing -> 1 and nothing written; gnuplot failing -> error, earlier chart untouched */
static void test_png_no_gnuplot(void) {
    report_run r[NFIX];
    CU_ASSERT_EQUAL_FATAL(load_fixtures(r), 0);
    const char *dir = tmp_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char png[256];
    snprintf(png, sizeof png, "%s/report.png", dir);
    CU_ASSERT_EQUAL(report_write_png(png, r, NFIX, "/nonexistent/gnuplot"), 1);
    CU_ASSERT_EQUAL(count_entries(dir), 0);
    FILE *f = fopen(png, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("earlier chart", f);
    fclose(f);
    CU_ASSERT_EQUAL(report_write_png(png, r, NFIX, "false"), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "false failed drawing the chart (exit status 1"));
    CU_ASSERT_EQUAL(file_size(png), 13);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    CU_ASSERT_EQUAL(report_write_png(png, r, 0, NULL), -1);
    rm_tree(dir);
}

/* ================================================================ report: bad input */

static void expect_load_error(const char *dir, const char *want1, const char *want2) {
    report_run r;
    CU_ASSERT_EQUAL(report_load(dir, &r), -1);
    const char *e = t5g_last_error();
    int ok = strstr(e, want1) && (!want2 || strstr(e, want2)) && !strchr(e, '\n');
    if (!ok) fprintf(stderr, "load %s: got '%s', want '%s' and '%s'\n", dir, e, want1, want2 ? want2 : "");
    CU_ASSERT(ok);
}

static void test_bad_folders(void) {
    const char *dir = tmp_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    expect_load_error(dir, dir, "no results.json in this folder");
    expect_load_error("/nonexistent/run", "/nonexistent/run", "No such file");
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", et_path("report", "bad-json"));
    expect_load_error(bad, "bad-json/results.json: invalid JSON near line 5,", NULL);
    rm_tree(dir);
}

/* The squad-limit8 fixture with one change; returns the parse error ("" if it parsed). */
static const char *parse_modified(const char *path, const char *set_json) {
    static char err[1024];
    char *text = t5g_read_file(et_path("report", "squad-limit8/results.json"), NULL);
    cJSON *root = cJSON_Parse(text);
    free(text);
    /* walk "a.b" to the parent object */
    cJSON *obj = root;
    char key[64];
    const char *p = path, *dot;
    while ((dot = strchr(p, '.'))) {
        snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        p = dot + 1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, p);
    if (set_json) cJSON_AddItemToObject(obj, p, cJSON_Parse(set_json));
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    report_run r;
    int rc = report_parse(out, "R/results.json", "R", &r);
    free(out);
    snprintf(err, sizeof err, "%s", rc ? t5g_last_error() : "");
    return err;
}

static void expect_field_error(const char *path, const char *set_json, const char *want) {
    const char *e = parse_modified(path, set_json);
    if (strcmp(e, want)) fprintf(stderr, "%s=%s: got '%s'\n   want '%s'\n", path, set_json ? set_json : "(deleted)", e, want);
    CU_ASSERT_STRING_EQUAL(e, want);
}

static void test_missing_fields(void) {
    CU_ASSERT_STRING_EQUAL(parse_modified("versions.t5g", NULL), "");  /* not needed by the report */
    const char *need[] = {"task", "primary.name", "primary.value", "reportable", "limit", "samples", "layout.tp",
                          "layout.dp", "throughput.tokens_per_second", "time.wall_seconds", "model.path",
                          "model.sha256", "primary", "layout", "model"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const char *e = parse_modified(need[i], NULL);
        char want[128];
        snprintf(want, sizeof want, "R/results.json: field '%s", need[i]);
        int ok = !strncmp(e, want, strlen(want)) && strstr(e, "missing");
        if (!ok) fprintf(stderr, "without %s: '%s'\n", need[i], e);
        CU_ASSERT(ok);
    }
}

static void test_bad_values(void) {
    expect_field_error("samples", "\"8\"", "R/results.json: field 'samples' is missing or not a number");
    expect_field_error("samples", "2.5", "R/results.json: field 'samples' is 2.5, expected a whole number");
    expect_field_error("primary.value", "150", "R/results.json: field 'primary.value' is 150, expected a number in [0, 100]");
    expect_field_error("limit", "0", "R/results.json: field 'limit' is 0, expected a number in [1, 9e+15]");
    expect_field_error("layout.tp", "0", "R/results.json: field 'layout.tp' is 0, expected a number in [1, 9e+15]");
    expect_field_error("reportable", "\"yes\"", "R/results.json: field 'reportable' is missing or not true/false");
    expect_field_error("task", "\"squad-v1\"",
                       "R/results.json: field 'task': unknown task 'squad-v1' (use wmt14-en-fr, cnn-dailymail or squad-v2)");
    expect_field_error("primary.name", "\"EM\"",
                       "R/results.json: field 'primary.name' is 'EM', but the primary metric of squad-v2 is 'F1'");
    expect_field_error("model.sha256", "\"abc\"",
                       "R/results.json: field 'model.sha256' is not a SHA-256 (64 lowercase hex digits)");
    expect_field_error("model.path", "\"models/\"", "R/results.json: field 'model.path' ('models/') does not name a file");
    expect_field_error("time.wall_seconds", "-1", "R/results.json: field 'time.wall_seconds' is -1, expected a number in [0, inf]");
    /* reportable: true but a limit -> still not reportable */
    report_run r;
    char *text = t5g_read_file(et_path("report", "squad-limit8/results.json"), NULL);
    char *at = strstr(text, "false");
    memcpy(at, "true ", 5);
    CU_ASSERT_EQUAL(report_parse(text, "x", "x", &r), 0);
    CU_ASSERT_EQUAL(r.reportable, 0);
    free(text);
    CU_ASSERT_EQUAL(report_parse("[1, 2]", "R/results.json", "R", &r), -1);
    CU_ASSERT_STRING_EQUAL(t5g_last_error(), "R/results.json: expected a JSON object at the top level");
    CU_ASSERT_EQUAL(report_parse("", "R/results.json", "R", &r), -1);
    CU_ASSERT_STRING_EQUAL(t5g_last_error(), "R/results.json: invalid JSON near line 1, column 1");
}

/* ================================================================ the CLI entry point */

/* One `t5g report` run: exit status, stdout and stderr. */
typedef struct {
    int rc;
    char *out;
    char *err;
} cli_run;

static cli_run run_report(int argc, char **argv) {
    cli_run r;
    r.out = et_capture(cmd_report, argc, argv, &r.rc, &r.err);
    return r;
}

static void cli_run_free(cli_run *r) {
    free(r->out);
    free(r->err);
}

/* A fresh output folder, and the fixture run folders as arguments. */
typedef struct {
    const char *dir;
    char fix[NFIX][4096];
    char png[256];
    char md[256];
} cli_env;

static int cli_env_init(cli_env *e, const char *png, const char *md) {
    e->dir = tmp_dir();
    if (!e->dir) return -1;
    for (int i = 0; i < NFIX; i++) snprintf(e->fix[i], sizeof e->fix[i], "%s", et_path("report", FIX[i]));
    snprintf(e->png, sizeof e->png, "%s/out/%s", e->dir, png);
    snprintf(e->md, sizeof e->md, "%s/out/%s", e->dir, md);
    return 0;
}

static void test_cli_table_and_chart(void) {
    cli_env e;
    CU_ASSERT_EQUAL_FATAL(cli_env_init(&e, "report.png", "report.md"), 0);
    char *argv[] = {"report", e.fix[0], e.fix[1], e.fix[2], e.fix[3], "--png", e.png, "--markdown", e.md};
    cli_run r = run_report(9, argv);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_STRING_EQUAL(r.out, TEXT);
    if (has_gnuplot()) {
        CU_ASSERT_STRING_EQUAL(r.err, "");
    } else {
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "gnuplot"));  /* the warning that the plot was skipped */
    }
    char *mdtext = t5g_read_file(e.md, NULL);
    CU_ASSERT(mdtext && !strcmp(mdtext, MARKDOWN));
    free(mdtext);
    CU_ASSERT(!has_gnuplot() || gp_is_png(e.png));
    cli_run_free(&r);
    rm_tree(e.dir);
}

/* without gnuplot: the table, a warning, exit 0 */
static void test_cli_no_gnuplot(void) {
    cli_env e;
    CU_ASSERT_EQUAL_FATAL(cli_env_init(&e, "none.png", "none.md"), 0);
    char *argv[] = {"report", e.fix[0], e.fix[1], e.fix[2], e.fix[3], "--png", e.png};
    setenv("T5G_GNUPLOT", "/nonexistent/gnuplot", 1);
    cli_run r = run_report(7, argv);
    unsetenv("T5G_GNUPLOT");
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_STRING_EQUAL(r.out, TEXT);
    const char *warn = "t5g: warning: cannot run /nonexistent/gnuplot, so no chart was written";
    CU_ASSERT(!strncmp(r.err, warn, strlen(warn)) && !strchr(r.err, '\n')[1]);
    CU_ASSERT_EQUAL(file_size(e.png), -1);
    cli_run_free(&r);
    rm_tree(e.dir);
}

/* a bad folder among good ones: one error line, no table, no outputs */
static void test_cli_bad_folder(void) {
    cli_env e;
    CU_ASSERT_EQUAL_FATAL(cli_env_init(&e, "bad.png", "bad.md"), 0);
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", et_path("report", "bad-json"));
    char *argv[] = {"report", e.fix[0], bad, e.fix[2], "--png", e.png, "--markdown", e.md};
    cli_run r = run_report(8, argv);
    CU_ASSERT_EQUAL(r.rc, 1);
    CU_ASSERT_STRING_EQUAL(r.out, "");
    CU_ASSERT(et_one_error_line(r.err) && strstr(r.err, "bad-json/results.json: invalid JSON"));
    CU_ASSERT_EQUAL(file_size(e.md), -1);
    cli_run_free(&r);
    rm_tree(e.dir);
}

/* `t5g report results/RUN...` also matches files such as the chart: skipped with a note */
static void test_cli_skips_files(void) {
    cli_env e;
    CU_ASSERT_EQUAL_FATAL(cli_env_init(&e, "skip.png", "skip.md"), 0);
    char readme[256];
    snprintf(readme, sizeof readme, "%s/README.md", e.dir);
    FILE *f = fopen(readme, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    char *argv[] = {"report", readme, e.fix[0], e.fix[1], e.fix[2], e.fix[3], "--png", e.png};
    cli_run r = run_report(8, argv);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT_STRING_EQUAL(r.out, TEXT);
    CU_ASSERT(!strncmp(r.err, "t5g: note: skipping ", 20) && strstr(r.err, "README.md (a file, not a run folder)\n"));
    cli_run_free(&r);
    char *argv_files_only[] = {"report", readme};
    r = run_report(2, argv_files_only);
    CU_ASSERT_EQUAL(r.rc, 1);
    CU_ASSERT_STRING_EQUAL(r.out, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "t5g: error: no run folders among the arguments"));
    cli_run_free(&r);
    rm_tree(e.dir);
}

static void test_cli_usage(void) {
    cli_env e;
    CU_ASSERT_EQUAL_FATAL(cli_env_init(&e, "usage.png", "usage.md"), 0);
    char *argv_none[] = {"report"};
    cli_run r = run_report(1, argv_none);
    CU_ASSERT_EQUAL(r.rc, 2);
    cli_run_free(&r);
    char *argv_typo[] = {"report", e.fix[0], "--pngg", e.png};
    r = run_report(4, argv_typo);
    CU_ASSERT_EQUAL(r.rc, 2);
    CU_ASSERT(et_one_error_line(r.err));
    cli_run_free(&r);
    rm_tree(e.dir);
}

int main(void) {
    static CU_TestInfo sha[] = {{"FIPS 180-4 vectors, streaming", test_sha_vectors},
                                {"file vs sha256sum", test_sha_file_vs_sha256sum},
                                {"errors", test_sha_errors},
                                CU_TEST_INFO_NULL};
    static CU_TestInfo good[] = {{"fields", test_load_fields},
                                 {"text table", test_text_table},
                                 {"markdown", test_markdown},
                                 {"cells", test_cells},
                                 {"png chart", test_png},
                                 {"png without / failing gnuplot", test_png_no_gnuplot},
                                 CU_TEST_INFO_NULL};
    static CU_TestInfo bad[] = {{"folders and JSON syntax", test_bad_folders},
                                {"missing fields", test_missing_fields},
                                {"bad values", test_bad_values},
                                CU_TEST_INFO_NULL};
    static CU_TestInfo cli[] = {{"t5g report: table, markdown, chart", test_cli_table_and_chart},
                                {"t5g report without gnuplot", test_cli_no_gnuplot},
                                {"t5g report: a bad folder among good ones", test_cli_bad_folder},
                                {"t5g report: files among the folders", test_cli_skips_files},
                                {"t5g report: usage errors", test_cli_usage},
                                CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"sha256", NULL, NULL, NULL, NULL, sha},
                                    {"report", NULL, NULL, NULL, NULL, good},
                                    {"report-bad-input", NULL, NULL, NULL, NULL, bad},
                                    {"report-cli", NULL, NULL, NULL, NULL, cli},
                                    CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
