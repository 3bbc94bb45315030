/* squad_plot.c - the PNGs of evaluate-v2.0.py --out-image-dir, drawn with gnuplot instead of
 * matplotlib: the same data, titles, axis labels and ranges (640x480 like matplotlib's
 * default figure); colours and fonts are gnuplot's.
 *   pr_exact.png, pr_f1.png, pr_oracle.png  plt.step(recall, precision, where='post') over a
 *                                           filled area, alpha 0.2, axes [0, 1.05]
 *   na_prob_hist_hasAns.png / _noAns.png    plt.hist(probs, bins=20, range=(0, 1),
 *                                           weights=1/n): proportion of questions per bin */
#include "squad.h"
#include "gnuplot.h"
#include "core/err.h"
#include "core/fileio.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const squad2_curve *cv;
    const char *title;
} pr_plot;

static void pr_script(FILE *f, const char *out, const void *ctx) {
    const pr_plot *p = ctx;
    gp_terminal(f, 640, 480, out);
    fputs("set title ", f);
    gp_quoted(f, p->title);
    fputs("\nset xlabel 'Recall'\nset ylabel 'Precision'\nset xrange [0:1.05]\nset yrange [0:1.05]\n"
          "set key off\nset style fill transparent solid 0.2 noborder\n$pr << EOD\n",
          f);
    for (size_t i = 0; i < p->cv->n; i++) fprintf(f, "%.17g %.17g\n", p->cv->recall[i], p->cv->precision[i]);
    fputs("EOD\nplot $pr using 1:2 with fillsteps lc rgb '#0000ff', "
          "$pr using 1:2 with steps lc rgb '#ccccff'\nset output\n",
          f);
}

typedef struct {
    const double *x;
    size_t n;
    const char *name;
} hist_plot;

/* numpy.histogram(x, bins=20, range=(0, 1)): bin i is [i/20, (i+1)/20), the last one closed;
 * values outside [0, 1] are not counted (their weight 1/n is still in the others' divisor). */
static void hist_script(FILE *f, const char *out, const void *ctx) {
    const hist_plot *h = ctx;
    double bins[20] = {0};
    for (size_t i = 0; i < h->n; i++) {
        double v = h->x[i];
        if (!(v >= 0.0 && v <= 1.0)) continue;
        int b = v == 1.0 ? 19 : (int)floor(v * 20.0);
        if (b > 0 && v < b * 0.05) b--;
        else if (b < 19 && v >= (b + 1) * 0.05) b++;
        bins[b] += 1.0 / (double)h->n;
    }
    char title[128];
    snprintf(title, sizeof title, "Histogram of no-answer probability: %s", h->name);
    gp_terminal(f, 640, 480, out);
    fputs("set title ", f);
    gp_quoted(f, title);
    fputs("\nset xlabel 'Model probability of no-answer'\nset ylabel 'Proportion of dataset'\n"
          "set xrange [-0.05:1.05]\nset yrange [0:*]\nset key off\nset boxwidth 0.05 absolute\n"
          "set style fill solid 1.0 border lc rgb '#1f77b4'\n$h << EOD\n",
          f);
    for (int b = 0; b < 20; b++) fprintf(f, "%.4f %.17g\n", b * 0.05 + 0.025, bins[b]);
    fputs("EOD\nplot $h using 1:2 with boxes lc rgb '#1f77b4'\nset output\n", f);
}

static int join(char *buf, size_t n, const char *dir, const char *file) {
    T5G_CHECK((size_t)snprintf(buf, n, "%s/%s", dir, file) < n, "--out-image-dir path too long: %s", dir);
    return 0;
}

int squad2_draw_plots(const squad2_result *r, const char *dir, const char *gnuplot) {
    static const char *const names[3] = {"pr_exact.png", "pr_f1.png", "pr_oracle.png"};
    static const char *const titles[3] = {"Precision-Recall curve for Exact Match score",
                                          "Precision-Recall curve for F1 score",
                                          "Oracle Precision-Recall curve (binary task of HasAns vs. NoAns)"};
    char path[4200];
    T5G_CHECK(r && dir && *dir, "squad2_draw_plots: no result or folder");
    T5G_TRY(t5g_mkdirs(dir));
    for (int k = 0; k < 3 && r->pr_block; k++) {
        pr_plot p = {&r->pr[k], titles[k]};
        T5G_TRY(join(path, sizeof path, dir, names[k]));
        int rc = gp_draw_png(path, pr_script, &p, gnuplot);
        if (rc) return rc;
    }
    const hist_plot hs[2] = {{r->na_has, r->n_has, "hasAns"}, {r->na_no, r->n_no, "noAns"}};
    for (int k = 0; k < 2; k++) {
        if (!hs[k].n) continue;
        char file[64];
        snprintf(file, sizeof file, "na_prob_hist_%s.png", hs[k].name);
        T5G_TRY(join(path, sizeof path, dir, file));
        int rc = gp_draw_png(path, hist_script, &hs[k], gnuplot);
        if (rc) return rc;
    }
    return 0;
}
