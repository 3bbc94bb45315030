/* score_squad.c - `t5g score squad2`: the command line of the official evaluate-v2.0.py.
 *
 *   t5g score squad2 DATA.json PRED.json [-n|--na-prob-file F] [-t|--na-prob-thresh T]
 *       [-o|--out-file F] [-p|--out-image-dir DIR] [--missing-as-empty] [-v]
 *
 * stdout is byte-identical to `python evaluate-v2.0.py DATA PRED [same flags]`:
 * json.dumps(out_eval, indent=2) and a newline, or nothing when --out-file is given (the
 * file then holds json.dump(out_eval), no newline).  "Missing prediction for <qid>" lines
 * go to stdout as in the script; the script then dies with a KeyError, we exit 1 with one
 * error line (or score them as "" with --missing-as-empty, an extension).
 * --out-image-dir with --na-prob-file: the pr_exact_ap / pr_f1_ap / pr_oracle_ap keys and the
 * script's PNGs, drawn with gnuplot (squad_plot.c) before anything is printed; without
 * gnuplot it is an error and nothing is printed.  Without --na-prob-file the option does
 * nothing, as in the script. */
#include "eval/squad.h"
#include "cli/score.h"
#include "core/err.h"
#include "core/fileio.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python float(text): surrounding whitespace, '_' between digits, inf/infinity/nan words. */
static int py_float(const char *s, double *out) {
    char buf[256];
    size_t k = 0;
    while (isspace((unsigned char)*s)) s++;
    for (const char *p = s; *p && k + 1 < sizeof buf; p++) {
        if (*p == '_') {
            if (p == s || !isdigit((unsigned char)p[-1]) || !isdigit((unsigned char)p[1])) return -1;
            continue;
        }
        buf[k++] = *p;
    }
    while (k > 0 && isspace((unsigned char)buf[k - 1])) k--;
    buf[k] = 0;
    const char *body = buf + (buf[0] == '+' || buf[0] == '-');
    if (!*body || strchr(body, 'x') || strchr(body, 'X') || isspace((unsigned char)*body)) return -1;
    char *end;
    *out = strtod(buf, &end);
    if (*end) return -1;
    if (isalpha((unsigned char)*body) && strcasecmp(body, "inf") && strcasecmp(body, "infinity") &&
        strcasecmp(body, "nan"))
        return -1;
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: t5g score squad2 DATA.json PRED.json [options]   (official SQuAD v2.0 script)\n"
               "  -n, --na-prob-file F      model probabilities that a question has no answer\n"
               "  -t, --na-prob-thresh T    predict \"\" if the no-answer probability exceeds T (default 1.0)\n"
               "  -o, --out-file F          write the metrics (compact JSON) to F instead of stdout\n"
               "  -p, --out-image-dir DIR   with -n: also the precision-recall analysis (pr_*_ap keys) and\n"
               "                            its PNGs in DIR: pr_exact, pr_f1, pr_oracle, na_prob_hist_hasAns,\n"
               "                            na_prob_hist_noAns (gnuplot; T5G_GNUPLOT names another program)\n"
               "  --missing-as-empty        score questions without a prediction as \"\" (the official\n"
               "                            script stops with an error instead)\n");
}

typedef struct {
    const char *data, *pred, *na, *out, *images;
    squad2_opts o;
} cli_args;

/* s is the short name, or the long name (klen = its length before any "=value"). */
static int is_opt(const char *s, size_t klen, const char *shrt, const char *lng) {
    return (shrt && !strcmp(s, shrt)) || (strlen(lng) == klen && !strncmp(s, lng, klen));
}

static int parse_args(int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    squad2_opts_default(&a->o);
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *eq = strchr(s, '=');
        size_t klen = eq && s[0] == '-' && s[1] == '-' ? (size_t)(eq - s) : strlen(s);
#define IS(shrt, lng) is_opt(s, klen, shrt, lng)
#define VALUE()       (klen < strlen(s) ? s + klen + 1 : (i + 1 < argc ? argv[++i] : NULL))
        const char *v;
        if (IS("-n", "--na-prob-file")) {
            T5G_CHECK((v = VALUE()), "--na-prob-file needs a file name");
            a->na = v;
        } else if (IS("-o", "--out-file")) {
            T5G_CHECK((v = VALUE()), "--out-file needs a file name");
            a->out = v;
        } else if (IS("-t", "--na-prob-thresh")) {
            v = VALUE();
            T5G_CHECK(v && !py_float(v, &a->o.na_prob_thresh) && !isnan(a->o.na_prob_thresh),
                      "--na-prob-thresh needs a number (got '%s')", v ? v : ""); /* nan: every comparison false */
        } else if (IS("-p", "--out-image-dir")) {
            T5G_CHECK((v = VALUE()) && *v, "--out-image-dir needs a folder name");
            a->images = v;
        } else if (IS("-v", "--verbose")) {
            /* accepted and unused, as in the official script */
        } else if (IS(NULL, "--missing-as-empty")) {
            a->o.missing_as_empty = 1;
        } else if (s[0] == '-' && s[1]) {
            return T5G_FAIL("unknown option '%s' (see t5g score squad2 --help)", s);
        } else if (npos < 2) {
            *(npos++ ? &a->pred : &a->data) = s;
        } else {
            return T5G_FAIL("unexpected argument '%s'; usage: t5g score squad2 DATA.json PRED.json [options]", s);
        }
#undef IS
#undef VALUE
    }
    T5G_CHECK(npos == 2, "need DATA.json and PRED.json; usage: t5g score squad2 DATA.json PRED.json [options]");
    a->o.pr_analysis = a->images && a->na;
    return 0;
}

static int write_out(const char *path, const char *text) {
    t5g_outfile f;
    T5G_TRY(t5g_out_open(&f, path, "wb"));
    if (fputs(text, f.f) < 0) {
        t5g_out_abort(&f);
        return T5G_FAIL("cannot write %s", path);
    }
    return t5g_out_commit(&f);
}

static int run(const cli_args *a) {
    size_t dn, pn, nn = 0;
    char *data = t5g_read_file(a->data, &dn), *pred = data ? t5g_read_file(a->pred, &pn) : NULL;
    char *na = pred && a->na ? t5g_read_file(a->na, &nn) : NULL;
    int rc = -1;
    if (!data || !pred || (a->na && !na)) goto out;
    squad2_result r;
    rc = squad2_evaluate(data, dn, pred, pn, na, nn, &a->o, &r);
    if (r.missing_log) fwrite(r.missing_log, 1, r.missing_log_len, stdout);
    if (!rc && a->o.pr_analysis) {
        const char *gp = getenv("T5G_GNUPLOT") && *getenv("T5G_GNUPLOT") ? getenv("T5G_GNUPLOT") : "gnuplot";
        int drawn = squad2_draw_plots(&r, a->images, gp);
        if (drawn == 1)
            T5G_FAIL("--out-image-dir needs gnuplot to draw the plots and %s cannot be run (install gnuplot, "
                     "e.g. apt-get install gnuplot-nox, or drop --out-image-dir)",
                     gp);
        rc = drawn ? -1 : 0;
    }
    if (!rc) {
        char *text = squad2_format(&r, a->out == NULL);
        if (!text) rc = -1;
        else if (a->out) rc = write_out(a->out, text);
        else if (puts(text) < 0) rc = T5G_FAIL("cannot write the output");
        free(text);
    }
    squad2_result_free(&r);
out:
    free(data);
    free(pred);
    free(na);
    return rc;
}

int squad_cli_main(int argc, char **argv) {
    if (score_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    cli_args a;
    if (parse_args(argc, argv, &a)) return score_parse_exit(-1, NULL);
    return score_run_exit(run(&a));
}
