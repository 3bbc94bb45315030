/* report.h - `t5g report`: one table over evaluation runs (results/RUN/results.json written
 * by `t5g eval`), beside the model-card numbers, as text or markdown, plus a PNG chart drawn
 * by gnuplot (scores vs model card per run; throughput per run).
 *
 * The model-card number of a run comes from its task's table entry (tasks.h: WMT14 EN-FR BLEU
 * 28.5, CNN/DM ROUGE-2 F 18.2, SQuAD v2 F1 85.3), not from the file, so every run is compared
 * with the same numbers.  A run with a limit is "not reportable (--limit N)".
 *
 * Bad input is an error naming the file and the field ("R/results.json: field
 * 'primary.value' is missing or not a number").  With several runs the first bad one stops
 * the report: a table that silently drops a run would be misread as complete. */
#ifndef T5G_REPORT_H
#define T5G_REPORT_H
#include "core/fileio.h"
#include <stdio.h>

/* What the report needs from one results.json. */
typedef struct {
    char run[256];     /* folder name (basename of DIR) */
    char file[4096];   /* path of the results.json, for messages */
    char task[64];     /* "wmt14-en-fr" ... */
    char metric[32];   /* primary.name: "BLEU", "ROUGE-2", "F1" */
    double value;      /* primary.value (0..100) */
    double model_card; /* from the task table */
    int reportable;    /* reportable && limit == null */
    long limit;        /* -1 = no limit */
    long samples;
    int tp, dp;
    double tokens_per_s, wall_s;
    char model[256]; /* basename of model.path */
    char sha256[65]; /* model.sha256 (64 hex digits) */
} report_run;

/* Parse one results.json text; FILE and RUN only label messages and the row.  0 or -1. */
int report_parse(const char *json, const char *file, const char *run, report_run *r);
/* Read DIR/results.json (DIR may also be the results.json file itself).  0, -1 on error, or 1
 * when DIR is some other file (so a glob over results/ can skip results/report.png). */
int report_load(const char *dir, report_run *r);

/* The table, aligned for a terminal / as a GitHub markdown table.  0 or -1 (write error). */
int report_print_text(FILE *f, const report_run *runs, int n);
int report_print_markdown(FILE *f, const report_run *runs, int n);

/* The markdown table into PATH's temp file (parent folders are created); 0: the caller then
 * commits it (t5g_out_commit) or drops it (t5g_out_abort), -1: nothing is left. */
int report_stage_markdown(const char *path, const report_run *runs, int n, t5g_outfile *o);

/* Draw the chart into PNG (temp file + rename; parent folders are created).  GNUPLOT is the
 * program to run (NULL = "gnuplot" on PATH).  Returns 0 when written, 1 when gnuplot cannot
 * be started (nothing written; the caller warns), -1 on error (message recorded). */
int report_write_png(const char *png, const report_run *runs, int n, const char *gnuplot);
#endif
