/* report.c - see report.h. */
#include "report.h"
#include "core/json.h"
#include "core/err.h"
#include "core/fileio.h"
#include "tasks.h"
#include "gnuplot.h"
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ results.json fields */

/* Object member by dotted path ("primary.value"); NULL if any step is missing. */
static const cJSON *field(const cJSON *root, const char *path) {
    char key[64];
    const cJSON *v = root;
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key || !cJSON_IsObject(v)) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        v = cJSON_GetObjectItemCaseSensitive(v, key);
        path += n + (path[n] == '.');
    }
    return v;
}

static int get_number(const cJSON *root, const char *path, const char *file, double lo, double hi, double *out) {
    const cJSON *v = field(root, path);
    T5G_CHECK(cJSON_IsNumber(v), "%s: field '%s' is missing or not a number", file, path);
    T5G_CHECK(isfinite(v->valuedouble) && v->valuedouble >= lo && v->valuedouble <= hi,
              "%s: field '%s' is %g, expected a number in [%g, %g]", file, path, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return 0;
}

static int get_int(const cJSON *root, const char *path, const char *file, long lo, long *out) {
    double d;
    T5G_TRY(get_number(root, path, file, (double)lo, 9.0e15, &d));
    T5G_CHECK(d == floor(d), "%s: field '%s' is %g, expected a whole number", file, path, d);
    *out = (long)d;
    return 0;
}

static int get_string(const cJSON *root, const char *path, const char *file, char *out, size_t cap) {
    const cJSON *v = field(root, path);
    T5G_CHECK(cJSON_IsString(v) && v->valuestring[0], "%s: field '%s' is missing or not a non-empty string", file,
              path);
    T5G_CHECK(strlen(v->valuestring) < cap, "%s: field '%s' is too long (%zu bytes)", file, path,
              strlen(v->valuestring));
    snprintf(out, cap, "%s", v->valuestring);
    return 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Line and column of a parse error position, for the message. */
static void text_position(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else (*col)++;
    }
}

static int parse_task(const cJSON *root, const char *file, report_run *r) {
    T5G_TRY(get_string(root, "task", file, r->task, sizeof r->task));
    const task_info *t = task_find(r->task);
    if (!t) {
        char why[512];
        snprintf(why, sizeof why, "%s", t5g_last_error());
        return T5G_FAIL("%s: field 'task': %s", file, why);
    }
    T5G_TRY(get_string(root, "primary.name", file, r->metric, sizeof r->metric));
    T5G_CHECK(!strcmp(r->metric, t->primary), "%s: field 'primary.name' is '%s', but the primary metric of %s is '%s'",
              file, r->metric, t->name, t->primary);
    T5G_TRY(get_number(root, "primary.value", file, 0, 100, &r->value));
    r->model_card = t->model_card;
    return 0;
}

static int parse_limit(const cJSON *root, const char *file, report_run *r) {
    const cJSON *rep = field(root, "reportable");
    T5G_CHECK(cJSON_IsBool(rep), "%s: field 'reportable' is missing or not true/false", file);
    const cJSON *lim = field(root, "limit");
    T5G_CHECK(lim, "%s: field 'limit' is missing (null or a number of samples)", file);
    r->limit = -1;
    if (!cJSON_IsNull(lim)) T5G_TRY(get_int(root, "limit", file, 1, &r->limit));
    /* a limited run is never reportable, whatever the flag says */
    r->reportable = cJSON_IsTrue(rep) && r->limit < 0;
    return 0;
}

static int parse_model(const cJSON *root, const char *file, report_run *r) {
    char path[4096];
    T5G_TRY(get_string(root, "model.path", file, path, sizeof path));
    snprintf(r->model, sizeof r->model, "%s", base_name(path));
    T5G_CHECK(r->model[0], "%s: field 'model.path' ('%s') does not name a file", file, path);
    T5G_TRY(get_string(root, "model.sha256", file, r->sha256, sizeof r->sha256));
    T5G_CHECK(strlen(r->sha256) == 64 && strspn(r->sha256, "0123456789abcdef") == 64,
              "%s: field 'model.sha256' is not a SHA-256 (64 lowercase hex digits)", file);
    return 0;
}

static int parse_fields(const cJSON *root, const char *file, report_run *r) {
    T5G_CHECK(cJSON_IsObject(root), "%s: expected a JSON object at the top level", file);
    T5G_TRY(parse_task(root, file, r));
    T5G_TRY(parse_limit(root, file, r));
    T5G_TRY(get_int(root, "samples", file, 0, &r->samples));
    long tp, dp;
    T5G_TRY(get_int(root, "layout.tp", file, 1, &tp));
    T5G_TRY(get_int(root, "layout.dp", file, 1, &dp));
    T5G_CHECK(tp <= 1000000 && dp <= 1000000, "%s: fields 'layout.tp'/'layout.dp' are implausibly large", file);
    r->tp = (int)tp;
    r->dp = (int)dp;
    T5G_TRY(get_number(root, "throughput.tokens_per_second", file, 0, HUGE_VAL, &r->tokens_per_s));
    T5G_TRY(get_number(root, "time.wall_seconds", file, 0, HUGE_VAL, &r->wall_s));
    return parse_model(root, file, r);
}

int report_parse(const char *json, const char *file, const char *run, report_run *r) {
    T5G_CHECK(json && file && run && r, "report_parse: NULL argument");
    memset(r, 0, sizeof *r);
    snprintf(r->file, sizeof r->file, "%s", file);
    snprintf(r->run, sizeof r->run, "%s", run);
    const char *end = NULL;
    int oom;
    cJSON *root = t5g_json_parse(json, strlen(json), &end, 1, &oom, file);
    if (oom) return -1;
    if (!root) {
        int line, col;
        text_position(json, end, &line, &col);
        return T5G_FAIL("%s: invalid JSON near line %d, column %d", file, line, col);
    }
    int rc = parse_fields(root, file, r);
    cJSON_Delete(root);
    return rc;
}

int report_load(const char *dir, report_run *r) {
    T5G_CHECK(dir && *dir && r, "report: no run folder given");
    char d[4096], file[4096 + 16];
    T5G_CHECK(strlen(dir) < sizeof d, "report: path too long: %s", dir);
    snprintf(d, sizeof d, "%s", dir);
    struct stat st;
    T5G_CHECK(stat(d, &st) == 0, "%s: %s (expected a run folder written by t5g eval)", d, strerror(errno));
    if (!S_ISDIR(st.st_mode) && strcmp(base_name(d), "results.json")) return 1; /* results/report.png ... */
    if (S_ISREG(st.st_mode)) { /* RUN/results.json given directly: the run is its folder */
        snprintf(file, sizeof file, "%s", d);
        char *slash = strrchr(d, '/');
        if (slash) *slash = 0;
        else snprintf(d, sizeof d, ".");
    } else {
        size_t n = strlen(d);
        while (n > 1 && d[n - 1] == '/') d[--n] = 0; /* "results/run/" names "run" */
        snprintf(file, sizeof file, "%s/results.json", d);
        T5G_CHECK(access(file, F_OK) == 0, "%s: no results.json in this folder (not a finished t5g eval run?)", d);
    }
    char *text = t5g_read_file(file, NULL);
    if (!text) return -1;
    const char *run = base_name(d);
    char cwd[4096];
    if (!strcmp(run, ".") || !*run) run = getcwd(cwd, sizeof cwd) ? base_name(cwd) : "run"; /* "." -> its name */
    int rc = report_parse(text, file, run, r);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ table */

enum {
    COL_RUN,
    COL_TASK,
    COL_METRIC,
    COL_SCORE,
    COL_CARD,
    COL_DIFF,
    COL_SAMPLES,
    COL_REPORTABLE,
    COL_LAYOUT,
    COL_TOKS,
    COL_WALL,
    COL_MODEL,
    NCOL
};
enum { CELL = 512 };

static const struct {
    const char *head;
    int right;
} COLS[NCOL] = {{"run", 0},     {"task", 0},       {"metric", 0}, {"score", 1},    {"model card", 1}, {"diff", 1},
                {"samples", 1}, {"reportable", 0}, {"TPxDP", 0},  {"tokens/s", 1}, {"wall", 1},       {"model", 0}};

/* 42.3s / 4m05s / 1h02m03s */
static void format_wall(double s, char *out, size_t cap) {
    if (s < 59.95) {
        snprintf(out, cap, "%.1fs", s);
        return;
    }
    long t = lround(s);
    if (t < 3600) snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, cap, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60, t % 60);
}

static void reportable_text(const report_run *r, char *out, size_t cap) {
    if (r->limit >= 0) snprintf(out, cap, "not reportable (--limit %ld)", r->limit);
    else snprintf(out, cap, "%s", r->reportable ? "yes" : "not reportable");
}

static void row_cells(const report_run *r, char cell[NCOL][CELL]) {
    snprintf(cell[COL_RUN], CELL, "%s", r->run);
    snprintf(cell[COL_TASK], CELL, "%s", r->task);
    snprintf(cell[COL_METRIC], CELL, "%s", r->metric);
    snprintf(cell[COL_SCORE], CELL, "%.2f", r->value);
    snprintf(cell[COL_CARD], CELL, "%.1f", r->model_card);
    if (r->reportable) snprintf(cell[COL_DIFF], CELL, "%+.2f", r->value - r->model_card);
    else snprintf(cell[COL_DIFF], CELL, "n/a"); /* a subset or another set: no comparison with the card */
    snprintf(cell[COL_SAMPLES], CELL, "%ld", r->samples);
    reportable_text(r, cell[COL_REPORTABLE], CELL);
    snprintf(cell[COL_LAYOUT], CELL, "%dx%d", r->tp, r->dp);
    snprintf(cell[COL_TOKS], CELL, "%.1f", r->tokens_per_s);
    format_wall(r->wall_s, cell[COL_WALL], CELL);
    snprintf(cell[COL_MODEL], CELL, "%s (%.8s)", r->model, r->sha256);
}

static void header_cells(char cell[NCOL][CELL]) {
    for (int c = 0; c < NCOL; c++) snprintf(cell[c], CELL, "%s", COLS[c].head);
}

/* One aligned line; the last column is not padded (no trailing blanks). */
static void text_line(FILE *f, char cell[NCOL][CELL], const int *width) {
    for (int c = 0; c < NCOL; c++) {
        const char *sep = c ? "  " : "";
        if (c == NCOL - 1 && !COLS[c].right) fprintf(f, "%s%s", sep, cell[c]);
        else fprintf(f, COLS[c].right ? "%s%*s" : "%s%-*s", sep, width[c], cell[c]);
    }
    fputc('\n', f);
}

int report_print_text(FILE *f, const report_run *runs, int n) {
    T5G_CHECK(f && (runs || n == 0) && n >= 0, "report_print_text: bad arguments");
    char(*cell)[CELL] = t5g_malloc(sizeof(char[NCOL][CELL]), "report row");
    if (!cell) return -1;
    int width[NCOL], total = 2 * (NCOL - 1);
    header_cells(cell);
    for (int c = 0; c < NCOL; c++) width[c] = (int)strlen(cell[c]);
    for (int i = 0; i < n; i++) {
        row_cells(&runs[i], cell);
        for (int c = 0; c < NCOL; c++)
            if ((int)strlen(cell[c]) > width[c]) width[c] = (int)strlen(cell[c]);
    }
    for (int c = 0; c < NCOL; c++) total += width[c];
    header_cells(cell);
    text_line(f, cell, width);
    for (int k = 0; k < total; k++) fputc('-', f);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        row_cells(&runs[i], cell);
        text_line(f, cell, width);
    }
    free(cell);
    T5G_CHECK(!ferror(f), "write error while printing the report");
    return 0;
}

/* A markdown cell: '|' would end the cell, so escape it. */
static void md_cell(FILE *f, const char *s) {
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
    fputs(" |", f);
}

int report_print_markdown(FILE *f, const report_run *runs, int n) {
    T5G_CHECK(f && (runs || n == 0) && n >= 0, "report_print_markdown: bad arguments");
    char(*cell)[CELL] = t5g_malloc(sizeof(char[NCOL][CELL]), "report row");
    if (!cell) return -1;
    header_cells(cell);
    fputc('|', f);
    for (int c = 0; c < NCOL; c++) md_cell(f, cell[c]);
    fputs("\n|", f);
    for (int c = 0; c < NCOL; c++) fputs(COLS[c].right ? " ---: |" : " --- |", f);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        row_cells(&runs[i], cell);
        fputc('|', f);
        for (int c = 0; c < NCOL; c++) md_cell(f, cell[c]);
        fputc('\n', f);
    }
    free(cell);
    T5G_CHECK(!ferror(f), "write error while writing the markdown report");
    return 0;
}

/* ------------------------------------------------------------------ chart (gnuplot) */

/* set xtics ("run\ntask METRIC" 0, ...) - labels built here, so no data-file quoting. */
static void gp_xtics(FILE *f, const report_run *runs, int n, int with_task) {
    char label[1024];
    fputs("set xtics (", f);
    for (int i = 0; i < n; i++) {
        const report_run *r = &runs[i];
        if (!with_task) snprintf(label, sizeof label, "%s\nTP%d x DP%d", r->run, r->tp, r->dp);
        else if (r->limit >= 0)
            snprintf(label, sizeof label, "%s\n%s %s\n(--limit %ld)", r->run, r->task, r->metric, r->limit);
        else snprintf(label, sizeof label, "%s\n%s %s", r->run, r->task, r->metric);
        gp_quoted(f, label);
        fprintf(f, " %d%s", i, i + 1 < n ? ", " : ")\n");
    }
}

/* The score chart's title names each registered task's primary metric ("BLEU / ROUGE-2 / F1"). */
static void gp_score_title(FILE *f) {
    fputs("set title 'Score vs model card (", f);
    for (int i = 0; i < task_count(); i++) fprintf(f, "%s%s", i ? " / " : "", task_at(i)->primary);
    fputs(")'\n", f);
}

typedef struct {
    const report_run *runs;
    int n;
} chart;

static void gp_script(FILE *f, const char *out, const void *ctx) {
    const report_run *runs = ((const chart *)ctx)->runs;
    int n = ((const chart *)ctx)->n;
    double top = 1, ttop = 1;
    for (int i = 0; i < n; i++) {
        top = fmax(top, fmax(runs[i].value, runs[i].model_card));
        ttop = fmax(ttop, runs[i].tokens_per_s);
    }
    int w = 700 + 2 * 110 * n;
    if (w > 4000) w = 4000;
    gp_terminal(f, w, 600, out);
    fputs("set multiplot layout 1,2\nset style fill solid 0.85 border -1\nset boxwidth 0.38\n"
          "set grid ytics\nset key above\nset xtics nomirror scale 0\nset bmargin 6\n",
          f);
    fprintf(f, "set xrange [-0.6:%d.6]\n", n - 1);
    /* data: index, score, model card, tokens/s, reportable (0/1) */
    int nrep = 0;
    fputs("$runs << EOD\n", f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%d %.4f %.4f %.4f %d\n", i, runs[i].value, runs[i].model_card, runs[i].tokens_per_s,
                runs[i].reportable);
        nrep += runs[i].reportable;
    }
    fputs("EOD\n", f);
    gp_xtics(f, runs, n, 1);
    gp_score_title(f);
    fprintf(f, "set ylabel 'score'\nset yrange [0:%.4f]\nplot ", top * 1.18);
    /* reportable and limited runs as separate series (hatched), each only if it has points */
    if (nrep)
        fputs("$runs using ($1-0.2):($5 > 0 ? $2 : 1/0) with boxes lc rgb '#2b6cb0' title 'this run', \\\n     ", f);
    if (nrep < n)
        fputs("$runs using ($1-0.2):($5 > 0 ? 1/0 : $2) with boxes lc rgb '#2b6cb0' fill pattern 4 "
              "title 'this run (not reportable)', \\\n     ",
              f);
    fputs("$runs using ($1+0.2):3 with boxes lc rgb '#a0aec0' title 'model card', \\\n"
          "     $runs using ($1-0.2):2:(sprintf('%.2f', $2)) with labels offset 0,0.8 notitle, \\\n"
          "     $runs using ($1+0.2):3:(sprintf('%.1f', $3)) with labels offset 0,0.8 notitle\n",
          f);
    gp_xtics(f, runs, n, 0);
    fprintf(f, "set title 'Throughput'\nset ylabel 'generated tokens/s'\nset yrange [0:%.4f]\nset boxwidth 0.5\n",
            ttop * 1.18);
    fputs("plot $runs using 1:4 with boxes lc rgb '#dd6b20' notitle, \\\n"
          "     $runs using 1:4:(sprintf('%.1f', $4)) with labels offset 0,0.8 notitle\n"
          "unset multiplot\nset output\n",
          f);
}

/* mkdir -p of the folder that will hold PATH (the chart and the markdown file). */
static int make_parent(const char *path) {
    char d[4096];
    T5G_CHECK(strlen(path) < sizeof d, "output path too long: %s", path);
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return 0;
    *slash = 0;
    return t5g_mkdirs(d);
}

int report_stage_markdown(const char *path, const report_run *runs, int n, t5g_outfile *o) {
    T5G_CHECK(path && *path, "no markdown file name given");
    T5G_TRY(make_parent(path));
    T5G_TRY(t5g_out_open(o, path, "w"));
    if (report_print_markdown(o->f, runs, n) != 0) {
        t5g_out_abort(o);
        return -1;
    }
    return 0;
}

int report_write_png(const char *png, const report_run *runs, int n, const char *gnuplot) {
    T5G_CHECK(png && *png, "no PNG file name given");
    T5G_CHECK(runs && n > 0, "no runs to chart");
    T5G_TRY(make_parent(png));
    chart c = {runs, n};
    return gp_draw_png(png, gp_script, &c, gnuplot);
}
