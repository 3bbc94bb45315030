/* bleu_cli.c - `t5g score bleu`: the sacreBLEU 2.6.0 command line for one system.
 *
 *   t5g score bleu REF [REF...] -i HYP [--tokenize 13a|intl|none]
 *       [--smooth-method exp|floor|add-k|none] [--smooth-value V] [-lc] [--force]
 *       [--effective-order] [--format json|text] [--width W] [--sentence-level]
 *       [--score-only] [--short] [--quiet]
 *
 * stdout is byte-identical to `sacrebleu REF... -i HYP` with the same flags (short forms
 * -tok -s -sv -lc -f -w -sl -b -sh -q as in sacreBLEU).  Files are read as sacreBLEU does:
 * UTF-8, lines split at "\n" only, each line rstrip()-ed.  Differences, all deliberate:
 * --effective-order exists only here (sacreBLEU offers it through its API; the CLI turns
 * it on only with --sentence-level); no test sets (-t), stdin input, --num-refs, gzip,
 * multiple systems, SACREBLEU_FORMAT or option abbreviations; errors are one line
 * "t5g: error: ..." (sacreBLEU logs "sacreBLEU: ..." and exits 1 too). */
#include "bleu.h"
#include "unicode.h"
#include "core/err.h"
#include "core/fileio.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;            /* whole file */
    const char **lines;   /* rstrip()-ed lines, NUL-terminated in place */
    size_t *lens, n;
} text_file;

static void text_free(text_file *t) {
    free(t->buf);
    free(t->lines);
    free(t->lens);
    memset(t, 0, sizeof *t);
}

/* Read a file as sacreBLEU's smart_open + line.rstrip(): UTF-8, split at "\n" only. */
static int read_lines(const char *path, const char *role, text_file *t) {
    memset(t, 0, sizeof *t);
    size_t len = strlen(path);
    T5G_CHECK(!(len > 3 && !strcmp(path + len - 3, ".gz")),
              "%s file %s is gzip-compressed; decompress it first (gunzip -k)", role, path);
    size_t n;
    t->buf = t5g_read_file(path, &n);
    if (!t->buf) return -1;
    size_t bad;
    if (u8_validate(t->buf, n, &bad)) {
        size_t line = 1, start = 0;
        for (size_t i = 0; i < bad; i++)
            if (t->buf[i] == '\n') { line++; start = i + 1; }
        T5G_FAIL("%s file %s: invalid UTF-8 at line %zu, byte %zu of the line (file offset %zu, byte 0x%02X); "
                 "convert the file to UTF-8", role, path, line, bad - start + 1, bad, (unsigned char)t->buf[bad]);
        text_free(t);
        return -1;
    }
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += t->buf[i] == '\n';
    t->lines = malloc(cap * sizeof *t->lines);
    t->lens = malloc(cap * sizeof *t->lens);
    if (!t->lines || !t->lens) { text_free(t); return T5G_FAIL("out of memory reading %s", path); }
    for (size_t s = 0; s < n;) {
        char *nl = memchr(t->buf + s, '\n', n - s);
        size_t e = nl ? (size_t)(nl - t->buf) : n;
        size_t k = py_rstrip_len(t->buf + s, e - s);
        t->buf[s + k] = 0;
        t->lines[t->n] = t->buf + s;
        t->lens[t->n++] = k;
        s = e + 1;
    }
    return 0;
}

typedef struct {
    const char *refs[64];
    size_t nrefs;
    const char *hyp;
    bleu_opts o;
    int width, json, sentence, score_only, short_sig, quiet;
} cli_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: t5g score bleu REF [REF...] -i HYP [options]   (sacreBLEU 2.6.0 output)\n"
            "  -tok, --tokenize 13a|intl|none       tokenizer (default 13a)\n"
            "  -s, --smooth-method exp|floor|add-k|none   smoothing (default exp)\n"
            "  -sv, --smooth-value V                value for floor (0.1) / add-k (1)\n"
            "  -lc, --lowercase                     case-insensitive BLEU\n"
            "  --effective-order                    skip orders without hypothesis n-grams (API option)\n"
            "  -f, --format json|text               output format (default json)\n"
            "  -w, --width W                        decimals of the score (default 1)\n"
            "  -sl, --sentence-level                one line per segment (forces effective order)\n"
            "  -b, --score-only  -sh, --short  -q, --quiet  --force\n");
}

/* Value of an option given as "--opt V" or "--opt=V". */
static const char *opt_value(int argc, char **argv, int *i, const char *eq) {
    if (eq) return eq + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < -1000000 || v > 1000000) return -1;
    *out = (int)v;
    return 0;
}

static int is_opt(const char *a, const char *shrt, const char *lng, const char **eq) {
    size_t k = strlen(lng);
    *eq = NULL;
    if ((shrt && !strcmp(a, shrt)) || !strcmp(a, lng)) return 1;
    if (!strncmp(a, lng, k) && a[k] == '=') { *eq = a + k; return 1; }
    return 0;
}

static int parse_args(int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    bleu_opts_default(&a->o);
    a->width = 1;
    a->json = 1;
    int nhyp = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *eq, *v;
        if (is_opt(s, "-i", "--input", &eq)) {
            if (eq) { a->hyp = eq + 1; nhyp++; continue; }
            while (i + 1 < argc && argv[i + 1][0] != '-') { a->hyp = argv[++i]; nhyp++; }
        } else if (is_opt(s, "-tok", "--tokenize", &eq)) {
            if (!(v = opt_value(argc, argv, &i, eq)) || bleu_tokenize_from_name(v) < 0)
                return T5G_FAIL("--tokenize needs one of 13a, intl, none (got '%s')", v ? v : "");
            a->o.tokenize = (bleu_tokenize)bleu_tokenize_from_name(v);
        } else if (is_opt(s, "-s", "--smooth-method", &eq)) {
            if (!(v = opt_value(argc, argv, &i, eq)) || bleu_smooth_from_name(v) < 0)
                return T5G_FAIL("--smooth-method needs one of exp, floor, add-k, none (got '%s')", v ? v : "");
            a->o.smooth_method = (bleu_smooth)bleu_smooth_from_name(v);
        } else if (is_opt(s, "-sv", "--smooth-value", &eq)) {
            char *end;
            if (!(v = opt_value(argc, argv, &i, eq)) || (a->o.smooth_value = strtod(v, &end), end == v || *end))
                return T5G_FAIL("--smooth-value needs a number (got '%s')", v ? v : "");
        } else if (is_opt(s, "-f", "--format", &eq)) {
            if (!(v = opt_value(argc, argv, &i, eq)) || (strcmp(v, "json") && strcmp(v, "text")))
                return T5G_FAIL("--format needs json or text (got '%s')", v ? v : "");
            a->json = !strcmp(v, "json");
        } else if (is_opt(s, "-w", "--width", &eq)) {
            if (!(v = opt_value(argc, argv, &i, eq)) || parse_int(v, &a->width) || a->width < 0 || a->width > 1000)
                return T5G_FAIL("--width needs an integer 0..1000 (got '%s')", v ? v : "");
        } else if (is_opt(s, "-lc", "--lowercase", &eq)) a->o.lowercase = 1;
        else if (is_opt(s, NULL, "--force", &eq)) a->o.force = 1;
        else if (is_opt(s, "-eff", "--effective-order", &eq)) a->o.effective_order = 1;
        else if (is_opt(s, "-sl", "--sentence-level", &eq)) a->sentence = 1;
        else if (is_opt(s, "-b", "--score-only", &eq)) a->score_only = 1;
        else if (is_opt(s, "-sh", "--short", &eq)) a->short_sig = 1;
        else if (is_opt(s, "-q", "--quiet", &eq)) a->quiet = 1;
        else if (s[0] == '-' && s[1]) return T5G_FAIL("unknown option '%s' (see t5g score bleu --help)", s);
        else {
            if (a->nrefs == sizeof a->refs / sizeof a->refs[0]) return T5G_FAIL("too many reference files (max 64)");
            a->refs[a->nrefs++] = s;
        }
    }
    T5G_CHECK(a->nrefs > 0, "no reference file given; usage: t5g score bleu REF [REF...] -i HYP");
    T5G_CHECK(nhyp == 1, "%s", nhyp ? "give exactly one hypothesis file after -i (one system at a time)"
                                    : "no hypothesis file given; use -i HYP (reading stdin is not supported)");
    if (a->sentence) a->o.effective_order = 1;  /* sacreBLEU >= 2.0 does this for -sl */
    return 0;
}

static int print_score(const bleu_score *s, const cli_args *a, int json) {
    size_t cap = 4096 + (size_t)a->width * 2;
    char *out = malloc(cap);
    T5G_CHECK(out, "out of memory");
    int rc = bleu_format(s, &a->o, a->width, a->score_only, json, json ? 0 : a->short_sig, out, cap);
    if (!rc) puts(out);
    free(out);
    return rc;
}

static int run(const cli_args *a, text_file *refs, text_file *hyp) {
    const char *const *streams[64];
    const size_t *lens[64];
    for (size_t r = 0; r < a->nrefs; r++) {
        if (refs[r].n != hyp->n)
            return T5G_FAIL("hypothesis file %s has %zu lines but reference file %s has %zu; "
                            "give line-aligned files (one segment per line)",
                            a->hyp, hyp->n, a->refs[r], refs[r].n);
        streams[r] = refs[r].lines;
        lens[r] = refs[r].lens;
    }
    T5G_CHECK(hyp->n > 0, "hypothesis file %s is empty (sacreBLEU: contains no sentence)", a->hyp);
    bleu_score s;
    if (!a->sentence) {
        T5G_TRY(bleu_corpus(hyp->lines, hyp->lens, hyp->n, streams, lens, a->nrefs, &a->o, &s));
        if (s.tokenized_period_lines >= 100 && !a->o.force && !a->quiet)
            fprintf(stderr, "t5g: warning: That's 100 lines that end in a tokenized period ('.')\n"
                            "t5g: warning: It looks like you forgot to detokenize your test data, which may hurt your score.\n"
                            "t5g: warning: If you insist your data is detokenized, or don't care, you can suppress this message with the `force` parameter.\n");
        return print_score(&s, a, a->json);
    }
    for (size_t i = 0; i < hyp->n; i++) {  /* sacreBLEU prints text lines here even for -f json */
        const char *seg_refs[64];
        size_t seg_lens[64];
        const char *const *one[64];
        const size_t *one_len[64];
        for (size_t r = 0; r < a->nrefs; r++) {
            seg_refs[r] = refs[r].lines[i];
            seg_lens[r] = refs[r].lens[i];
            one[r] = &seg_refs[r];
            one_len[r] = &seg_lens[r];
        }
        if (bleu_corpus(&hyp->lines[i], &hyp->lens[i], 1, one, one_len, a->nrefs, &a->o, &s))
            return T5G_FAIL("line %zu: %s", i + 1, t5g_last_error());
        T5G_TRY(print_score(&s, a, 0));
    }
    return 0;
}

int bleu_cli_main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
    cli_args a;
    if (parse_args(argc, argv, &a)) { t5g_print_error(); return 2; }
    text_file refs[64], hyp;
    memset(refs, 0, sizeof refs);
    memset(&hyp, 0, sizeof hyp);
    int rc = 0;
    for (size_t r = 0; r < a.nrefs && !rc; r++) rc = read_lines(a.refs[r], "reference", &refs[r]);
    if (!rc) rc = read_lines(a.hyp, "hypothesis", &hyp);
    if (!rc) rc = run(&a, refs, &hyp);
    if (rc) t5g_print_error();
    if (fflush(stdout) && !rc) { fprintf(stderr, "t5g: error: cannot write the output\n"); rc = -1; }
    for (size_t r = 0; r < a.nrefs; r++) text_free(&refs[r]);
    text_free(&hyp);
    return rc ? 1 : 0;
}
