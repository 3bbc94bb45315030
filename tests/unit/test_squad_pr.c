/* test_squad_pr.c - `t5g score squad2 -n NA -p DIR`: the precision-recall analysis of the
 * official evaluate-v2.0.py.  The printed JSON (best_*, pr_exact_ap, pr_f1_ap, pr_oracle_ap)
 * must equal the official script's output byte for byte (tests/fixtures/squad_pr, made by
 * tests/reference/make_squad_pr_fixtures.py from the official script), and DIR must hold the
 * same PNG files the script wrote, each a non-empty valid PNG.  Needs gnuplot for the PNGs:
 * without it the JSON is still checked through the library and the program exits 77. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/gnuplot.h"
#include "eval/squad.h"
#include <dirent.h>
#include <sys/stat.h>

static int has_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

static char *subst(const char *a, const char *img, const char *out) {
    char buf[8192];
    size_t k = 0;
    const char *d = et_path("squad_pr", "");
    for (const char *p = a; *p && k + 1 < sizeof buf;) {
        const char *r = NULL;
        size_t skip = 0, l;
        if (!strncmp(p, "{D}", 3)) r = d, skip = 3;
        else if (!strncmp(p, "{IMG}", 5)) r = img, skip = 5;
        else if (!strncmp(p, "{OUT}", 5)) r = out, skip = 5;
        if (!r) { buf[k++] = *p++; continue; }
        l = strlen(r);
        if (skip == 3 && l && r[l - 1] == '/') l--;
        if (k + l >= sizeof buf) break;
        memcpy(buf + k, r, l);
        k += l;
        p += skip;
    }
    buf[k] = 0;
    return strdup(buf);
}

static pj_doc *manifest(void) {
    size_t n;
    char *text = t5g_read_file(et_path("squad_pr", "cases.json"), &n);
    pj_doc *d = text ? pj_parse(text, n, "cases.json") : NULL;
    free(text);
    return d;
}

static char *fixture_text(const char *name) {
    size_t n;
    return t5g_read_file(et_path("squad_pr", name), &n);
}

/* The numbers through the library (no gnuplot): squad2_format(pretty) + "\n" = stdout, or
 * squad2_format(compact) = the -o file. */
static void test_numbers(void) {
    pj_doc *d = manifest();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_get(pj_root(d), "cases");
    CU_ASSERT_FATAL(cases && cases->count >= 6);
    for (size_t c = 0; c < cases->count; c++) {
        const pj_value *cs = &cases->items[c], *args = pj_get(cs, "args");
        char *data = fixture_text(strrchr(args->items[0].s, '/') + 1);
        char *pred = fixture_text(strrchr(args->items[1].s, '/') + 1);
        char *na = fixture_text(strrchr(args->items[3].s, '/') + 1);
        int compact = *et_str(cs, "out") != 0; /* -o: the file holds json.dump, no newline */
        char *want = fixture_text(et_str(cs, compact ? "out" : "stdout"));
        CU_ASSERT_FATAL(data && pred && na && want);
        squad2_opts o;
        squad2_opts_default(&o);
        o.pr_analysis = 1;
        for (size_t i = 4; i + 1 < args->count; i++)
            if (!strcmp(args->items[i].s, "-t")) o.na_prob_thresh = atof(args->items[i + 1].s);
        squad2_result r;
        int rc = squad2_evaluate(data, strlen(data), pred, strlen(pred), na, strlen(na), &o, &r);
        CU_ASSERT_EQUAL(rc, 0);
        char *got = rc ? NULL : squad2_format(&r, !compact);
        size_t wl = strlen(want) - !compact;
        int same = got && wl && strlen(got) == wl && !strncmp(got, want, wl);
        CU_ASSERT(same);
        if (!same) fprintf(stderr, "\n  %s: got\n%s\n  want\n%s", et_str(cs, "name"), got ? got : t5g_last_error(), want);
        /* the curves start at (0, 1) and end at the last recall */
        CU_ASSERT(!r.pr_block || (r.pr[0].n >= 2 && r.pr[0].recall[0] == 0.0 && r.pr[0].precision[0] == 1.0));
        squad2_result_free(&r);
        free(got), free(data), free(pred), free(na), free(want);
    }
    pj_free(d);
}

/* Names of the files in dir, sorted, joined by "," (NULL if dir is missing). */
static char *listing(const char *dir) {
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) return NULL;
    char *s = calloc(1, 4096);
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            if (*s) strcat(s, ",");
            strncat(s, ents[i]->d_name, 4000 - strlen(s));
        }
        free(ents[i]);
    }
    free(ents);
    return s;
}

static void test_cli_images(void) {
    pj_doc *d = manifest();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_get(pj_root(d), "cases");
    for (size_t c = 0; c < cases->count; c++) {
        const pj_value *cs = &cases->items[c], *args = pj_get(cs, "args"), *imgs = pj_get(cs, "images");
        char img[300], out[300], cmd[400], *argv[24];
        snprintf(img, sizeof img, "%s", tpath("img"));
        snprintf(out, sizeof out, "%s", tpath("out.json"));
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", img, out);
        CU_ASSERT_EQUAL(system(cmd), 0);
        int argc = 0, rc;
        argv[argc++] = "squad2";
        for (size_t i = 0; i < args->count && argc < 22; i++) argv[argc++] = subst(args->items[i].s, img, out);
        argv[argc] = NULL;
        char *err = NULL, *so = et_capture(squad_cli_main, argc, argv, &rc, &err);
        char *want = fixture_text(et_str(cs, "stdout"));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT(so && want && !strcmp(so, want));
        if (*et_str(cs, "out")) {
            size_t n;
            char *wo = fixture_text(et_str(cs, "out")), *go = t5g_read_file(out, &n);
            CU_ASSERT(wo && go && !strcmp(wo, go));
            free(wo), free(go);
        }
        char expect[4096] = "", *got = listing(img);
        for (size_t i = 0; i < imgs->count; i++) {
            char path[600];
            struct stat st;
            if (i) strcat(expect, ",");
            strcat(expect, imgs->items[i].s);
            snprintf(path, sizeof path, "%s/%s", img, imgs->items[i].s);
            CU_ASSERT(stat(path, &st) == 0 && st.st_size > 100 && gp_is_png(path));
        }
        CU_ASSERT(got && !strcmp(got, expect));
        if (rc || !got || strcmp(got, expect))
            fprintf(stderr, "\n  %s: rc %d, files '%s' (want '%s'), stderr '%s'", et_str(cs, "name"), rc,
                    got ? got : "(no folder)", expect, err ? err : "");
        for (int i = 1; i < argc; i++) free(argv[i]);
        free(got), free(so), free(err), free(want);
    }
    pj_free(d);
}

/* -p without -n does nothing (as the script); gnuplot missing or a na-prob key outside the
 * dataset: one error line, nothing printed. */
static void test_errors(void) {
    char img[300], data[300], pred[300], na[300], badna[300];
    snprintf(img, sizeof img, "%s", tpath("img2"));
    snprintf(data, sizeof data, "%s", et_path("squad_pr", "mixed.data.json"));
    snprintf(pred, sizeof pred, "%s", et_path("squad_pr", "mixed.pred.json"));
    snprintf(na, sizeof na, "%s", et_path("squad_pr", "mixed.na.json"));
    snprintf(badna, sizeof badna, "%s", tpath("bad_na.json"));
    int rc;
    char *err = NULL;
    char *a1[] = {"squad2", data, pred, "-p", img, NULL};
    char *so = et_capture(squad_cli_main, 5, a1, &rc, &err);
    CU_ASSERT(rc == 0 && so && !strstr(so, "pr_exact_ap") && access(img, F_OK) != 0);
    free(so), free(err);
    setenv("T5G_GNUPLOT", "/nonexistent/gnuplot", 1);
    char *a2[] = {"squad2", data, pred, "-n", na, "-p", img, NULL};
    so = et_capture(squad_cli_main, 7, a2, &rc, &err);
    CU_ASSERT(rc == 1 && so && !*so && et_one_error_line(err) && strstr(err, "gnuplot"));
    free(so), free(err);
    unsetenv("T5G_GNUPLOT");
    size_t n;
    char *nat = t5g_read_file(na, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nat);
    FILE *f = fopen(badna, "w");
    fprintf(f, "{\"zz_not_in_data\": 0.5, %s", nat + 1);
    fclose(f);
    char *a3[] = {"squad2", data, pred, "-n", badna, "-p", img, NULL};
    so = et_capture(squad_cli_main, 7, a3, &rc, &err);
    CU_ASSERT(rc == 1 && so && !*so && et_one_error_line(err) && strstr(err, "zz_not_in_data"));
    free(so), free(err), free(nat);
}

int main(void) {
    static CU_TestInfo tests[] = {{"AP and best_* = official script", test_numbers},
                                  {"CLI: JSON and PNG files = official script", test_cli_images},
                                  {"errors", test_errors},
                                  CU_TEST_INFO_NULL};
    static CU_TestInfo numbers_only[] = {{"AP and best_* = official script", test_numbers}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"squad_pr", tmpdir_init, tmpdir_clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    static CU_SuiteInfo fallback[] = {{"squad_pr", tmpdir_init, tmpdir_clean, NULL, NULL, numbers_only},
                                      CU_SUITE_INFO_NULL};
    if (has_gnuplot()) return t5g_test_main(suites);
    int rc = t5g_test_main(fallback);
    fprintf(stderr, "gnuplot is not installed: the PNG checks did not run\n");
    return rc ? rc : 77;
}
