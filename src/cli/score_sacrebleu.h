/* score_sacrebleu.h - pieces shared by the sacreBLEU-style command lines (`t5g score bleu|chrf|ter`):
 * reading line-aligned text as the sacreBLEU CLI does, and its Score.format() output for
 * metrics whose line is "NAME|SIGNATURE = SCORE" (chrF, TER). */
#ifndef T5G_SBCLI_H
#define T5G_SBCLI_H
#include <stddef.h>

typedef struct {
    char *buf;          /* whole input */
    const char **lines; /* rstrip()-ed lines, NUL-terminated in place */
    size_t *lens, n;
} sb_text;

/* Read a file as sacreBLEU's smart_open + line.rstrip(): UTF-8, split at "\n" only.
 * path "-" reads stdin as `sacrebleu REF < HYP` does: universal newlines ("\n", "\r\n",
 * "\r"), and an empty stdin is one empty line (sacreBLEU's readline() of ''); a line
 * with a tab after rstrip() is an error (sacreBLEU would read tab-separated systems).
 * role names the file in errors ("reference", "hypothesis"). */
int sb_read_lines(const char *path, const char *role, sb_text *t);
void sb_text_free(sb_text *t);
/* The name used in messages: the path, or "<stdin>" for "-". */
const char *sb_display_name(const char *path);

/* Score.format(width, score_only, signature, is_json) of sacreBLEU for a score without
 * a verbose part: "chrF2|nrefs:1|...|version:2.6.0 = 52.3", or the JSON object (indent=1,
 * signature keys repeated as string members), or the score alone.  sig NULL = no signature.
 * Returns a malloc'd string or NULL (error recorded). */
char *sb_format(const char *name, double score, const char *sig, int width, int score_only, int json);

#define SB_MAX_REFS 64
/* The references as line streams for the corpus scorers, after checking that each has as
 * many lines as the (non-empty) hypothesis; paths name the files in errors. */
int sb_streams(const char *const *ref_paths, const sb_text *refs, size_t nrefs, const char *hyp_path,
               const sb_text *hyp, const char *const **streams, const size_t **lens);
/* Line i of every reference as one-line streams (sentence-level scoring, -sl). */
typedef struct {
    const char *line[SB_MAX_REFS];
    size_t len[SB_MAX_REFS];
    const char *const *one[SB_MAX_REFS];
    const size_t *one_len[SB_MAX_REFS];
} sb_segment;
void sb_segment_at(sb_segment *g, const sb_text *refs, size_t nrefs, size_t i);

/* Command-line helpers: "--opt V" / "--opt=V" matching (shrt may be NULL; a second long
 * alias lng2 may be NULL) and bounded integers. */
int sb_is_opt(const char *a, const char *shrt, const char *lng, const char *lng2, const char **eq);
const char *sb_opt_value(int argc, char **argv, int *i, const char *eq);
int sb_parse_int(const char *s, int lo, int hi, int *out);
#endif

/* `--paired-bs` of sacreBLEU for BLEU (score_bleu_paired.c): sys[0] is the baseline, names the
 * files; nsamp resamples drawn by numpy default_rng(seed); JSON as sacreBLEU prints it. */
#include "eval/bleu.h"
#include <stdint.h>
#include <stdio.h>
int bleu_paired_bs(const sb_text *refs, size_t nrefs, const sb_text *sys, const char *const *names, size_t nsys,
                   const bleu_opts *o, int nsamp, uint32_t seed, FILE *out);

/* ---- the shared command-line driver of `t5g score chrf|ter` ---- */
/* the --help lines of the options sb_common_arg parses */
#define SB_COMMON_HELP                                                                                                 \
    "  -f, --format json|text output format (default json)\n"                                                          \
    "  -w, --width W          decimals of the score (default 1)\n"                                                     \
    "  -sl, --sentence-level  one text line per segment\n"                                                             \
    "  -b, --score-only  -sh, --short  -q, --quiet\n"
typedef struct {
    const char *refs[SB_MAX_REFS];
    size_t nrefs;
    const char *hyp; /* "-" = stdin (also when -i is absent) */
    int nhyp;
    int width, json, sentence, score_only, short_sig, quiet;
} sb_common;

/* A metric for sb_run: corpus score of line-aligned texts, its name and signature. */
typedef struct {
    const char *cmd; /* "chrf" */
    void *ctx;       /* the metric's options */
    int (*score)(void *ctx, const char *const *hyps, const size_t *hl, size_t n, const char *const *const *refs,
                 const size_t *const *rl, size_t ns, double *score, int *nrefs);
    void (*name)(void *ctx, char *buf, size_t n);
    int (*signature)(void *ctx, int nrefs, int short_form, char *buf, size_t n);
} sb_metric;

void sb_common_default(sb_common *c);
/* Handle argv[*i] if it is an option every metric shares (-i, -f, -w, -sl, -b, -sh, -q) or a
 * reference path: 1 = consumed, 0 = not ours, -1 = error (recorded). */
int sb_common_arg(int argc, char **argv, int *i, sb_common *c, const char *cmd);
/* Check references / hypothesis counts after parsing. */
int sb_common_finish(sb_common *c, const char *cmd);
/* Read the files, score (corpus, or one text line per segment with -sl) and print. */
int sb_run(const sb_common *c, const sb_metric *m);
