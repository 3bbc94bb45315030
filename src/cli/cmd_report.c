/* cmd_report.c - `t5g report DIR [DIR...] [--png FILE] [--markdown FILE]`: one table over
 * evaluation runs beside the model-card numbers, a PNG chart (gnuplot) and optionally the
 * table as markdown.  The first bad run folder stops the report (see eval/report.h). */
#include "cli/args.h"
#include "cli/cli.h"
#include "core/err.h"
#include "eval/report.h"
#include "eval/lmeval.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: t5g report DIR [DIR...] [--png FILE] [--markdown FILE]\n"
    "       t5g report DIR --lm-eval FILE\n"
    "Reads DIR/results.json of each run (written by t5g eval) and prints one table: score beside the\n"
    "model card (WMT14 EN-FR BLEU 28.5, CNN/DM ROUGE-2 F 18.2, SQuAD v2 F1 85.3), samples, whether the run\n"
    "is reportable, TP x DP layout, tokens/s, wall time and model.  A bad folder is an error (no partial\n"
    "table).  The chart needs gnuplot (T5G_GNUPLOT names another program); without it only a warning.\n"
    "--lm-eval FILE: instead, write run DIR as an lm-evaluation-harness results JSON (results/configs/\n"
    "versions/n-samples/config layout, metric,none and metric_stderr,none as lm-eval computes them;\n"
    "see docs/evaluation.md).";

/* Load every run folder, skipping plain files (a glob over results/ also matches the
 * chart); fail on the first bad folder.  *n becomes the number of runs. */
static report_run *load_runs(const char **dirs, int *n) {
    report_run *runs = t5g_calloc((size_t)*n, sizeof *runs, "report runs");
    int k = 0;
    for (int i = 0; runs && i < *n; i++) {
        int rc = report_load(dirs[i], &runs[k]);
        if (rc < 0) {
            free(runs);
            return NULL;
        }
        if (rc == 1) fprintf(stderr, "t5g: note: skipping %s (a file, not a run folder)\n", dirs[i]);
        else k++;
    }
    if (runs && !k) {
        free(runs);
        T5G_FAIL("no run folders among the arguments (expected results/RUN folders)");
        return NULL;
    }
    *n = k;
    return runs;
}

/* Everything is made before anything is shown: the table in memory, the markdown in its temp file,
 * then the chart; the markdown is committed and the table printed only when all worked, so a
 * failed report leaves no file and prints no table. */
static int write_outputs(const report_run *runs, int n, const char *png, const char *markdown) {
    char *table = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&table, &len);
    if (!mem) return T5G_FAIL("out of memory printing the report");
    int rc = report_print_text(mem, runs, n);
    /* glibc's fclose of a memory stream may report success yet leave no buffer when its last realloc fails */
    if ((fclose(mem) != 0 || !table) && !rc) rc = T5G_FAIL("out of memory printing the report");
    t5g_outfile md;
    int staged = 0;
    if (!rc && markdown) {
        rc = report_stage_markdown(markdown, runs, n, &md);
        staged = !rc;
    }
    if (!rc) {
        const char *gnuplot = getenv("T5G_GNUPLOT") && *getenv("T5G_GNUPLOT") ? getenv("T5G_GNUPLOT") : "gnuplot";
        int drawn = report_write_png(png, runs, n, gnuplot);
        if (drawn == 1)
            fprintf(stderr,
                    "t5g: warning: cannot run %s, so no chart was written to %s "
                    "(install gnuplot, e.g. apt-get install gnuplot-nox)\n",
                    gnuplot, png);
        rc = drawn < 0 ? -1 : 0;
    }
    if (staged && rc) t5g_out_abort(&md);
    else if (staged) rc = t5g_out_commit(&md);
    if (!rc && (fputs(table, stdout) < 0 || fflush(stdout) != 0)) rc = T5G_FAIL("write error on standard output");
    free(table);
    return rc;
}

int cmd_report(int argc, char **argv) {
    const char *png = "results/report.png", *markdown = NULL, *lm_eval = NULL;
    const arg_spec specs[] = {
        {"--png", ARG_STR, &png, "chart file (default results/report.png)"},
        {"--markdown", ARG_STR, &markdown, "also write the table as markdown to FILE"},
        {"--lm-eval", ARG_STR, &lm_eval, "write run DIR as an lm-eval results JSON to FILE (no table)"},
    };
    enum { MAXRUNS = 4096 };
    const char **dirs = calloc(MAXRUNS, sizeof *dirs);
    int n = 0;
    if (!dirs) {
        fprintf(stderr, "t5g: error: out of memory\n");
        return 1;
    }
    int pr = args_parse(argc, argv, specs, 3, USAGE, dirs, MAXRUNS, &n);
    if (pr != 0 || n == 0) {
        if (pr < 0) t5g_print_error();
        else if (pr == 0) fprintf(stderr, "t5g: error: no run folders given\n%s\n", USAGE);
        free(dirs);
        return pr > 0 ? 0 : 2;
    }
    if (lm_eval) {
        int rc = n == 1 ? lmeval_export(dirs[0], lm_eval) : T5G_FAIL("--lm-eval exports one run folder; %d given", n);
        if (rc == 0) printf("%s -> %s (lm-eval results layout)\n", dirs[0], lm_eval);
        free(dirs);
        if (rc != 0) t5g_print_error();
        return rc != 0;
    }
    report_run *runs = load_runs(dirs, &n);
    free(dirs);
    if (!runs) {
        t5g_print_error();
        return 1;
    }
    int rc = write_outputs(runs, n, png, markdown);
    free(runs);
    if (rc != 0) {
        t5g_print_error();
        return 1;
    }
    return 0;
}
