/* gnuplot.h - drawing a PNG with gnuplot (used by `t5g report` and `t5g score squad2
 * --out-image-dir`): the caller writes the plot commands, we run gnuplot on them, check the
 * result is a PNG and rename it into place (no half-written image under the final name). */
#ifndef T5G_GNUPLOT_H
#define T5G_GNUPLOT_H
#include <stdio.h>

/* A gnuplot double-quoted string (labels may hold any bytes) / single-quoted (file names). */
void gp_quoted(FILE *f, const char *s);
void gp_single_quoted(FILE *f, const char *s);

/* The terminal lines: pngcairo W x H if gnuplot has it, else png; then "set output OUT". */
void gp_terminal(FILE *f, int w, int h, const char *out);

/* fn writes the script that draws into OUT (a temp name beside PNG).  GNUPLOT is the program
 * (NULL = "gnuplot").  Returns 0 when PNG is written, 1 when gnuplot cannot be started
 * (nothing written), -1 on error (message recorded). */
typedef void (*gp_script_fn)(FILE *f, const char *out, const void *ctx);
int gp_draw_png(const char *png, gp_script_fn fn, const void *ctx, const char *gnuplot);

/* 1 if PATH starts with the PNG signature, 0 if not (or unreadable), -1 when opening it ran out of memory. */
int gp_is_png(const char *path);
#endif
