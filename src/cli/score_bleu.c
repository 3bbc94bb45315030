/* score_bleu.c - `t5g score bleu`: the sacreBLEU 2.6.0 command line for one system.
 *
 *   t5g score bleu REF [REF...] [-i HYP] [--tokenize 13a|intl|none]
 *       [--smooth-method exp|floor|add-k|none] [--smooth-value V] [-lc] [--force]
 *       [--effective-order] [--format json|text] [--width W] [--sentence-level]
 *       [--score-only] [--short] [--quiet]
 *
 * stdout is byte-identical to `sacrebleu REF... -i HYP` with the same flags (short forms
 * -tok -s -sv -lc -f -w -sl -b -sh -q as in sacreBLEU).  Files are read as sacreBLEU does:
 * UTF-8, lines split at "\n" only, each line rstrip()-ed.  Differences, all deliberate:
 * --effective-order exists only here (sacreBLEU offers it through its API; the CLI turns
 * it on only with --sentence-level); no test sets (-t), --num-refs, gzip, multiple
 * systems (except --paired-bs, bleu_paired.c: JSON only), SACREBLEU_FORMAT or option abbreviations; errors are one line "t5g: error: ..."
 * (sacreBLEU logs "sacreBLEU: ..." and exits 1 too).  Without -i, or with -i -, the
 * hypothesis is read from stdin as `sacrebleu REF < HYP` does (universal newlines; a tab
 * would make sacreBLEU see several systems, so it is an error here). */
#include "eval/bleu.h"
#include "cli/score.h"
#include "cli/score_sacrebleu.h"
#include "eval/unicode.h"
#include "core/err.h"
#include "core/fileio.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *refs[64];
    size_t nrefs;
    const char *hyp;
    const char *hyps[64]; /* all -i files (several only with --paired-bs) */
    int nhyp, paired, paired_n;
    bleu_opts o;
    int width, json, sentence, score_only, short_sig, quiet;
} cli_args;

static void usage(FILE *f) {
    fprintf(f, "usage: t5g score bleu REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6.0 output)\n"
               "  HYP defaults to stdin (also -i -)\n"
               "  -tok, --tokenize 13a|intl|none       tokenizer (default 13a)\n"
               "  -s, --smooth-method exp|floor|add-k|none   smoothing (default exp)\n"
               "  -sv, --smooth-value V                value for floor (0.1) / add-k (1)\n"
               "  -lc, --lowercase                     case-insensitive BLEU\n"
               "  --effective-order                    skip orders without hypothesis n-grams (API option)\n"
               "  -f, --format json|text               output format (default json)\n"
               "  -w, --width W                        decimals of the score (default 1)\n"
               "  -sl, --sentence-level                one line per segment (forces effective order)\n"
               "  -b, --score-only  -sh, --short  -q, --quiet  --force\n"
               "  -pbs, --paired-bs                    -i BASELINE SYSTEM...: paired bootstrap resampling test\n"
               "                                       (JSON as sacreBLEU; seed SACREBLEU_SEED, default 12345)\n"
               "  -pbsn, --paired-bs-n N               resamples (default 1000)\n");
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
    if (!strncmp(a, lng, k) && a[k] == '=') {
        *eq = a + k;
        return 1;
    }
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
            if (eq) {
                a->hyp = a->hyps[nhyp < 64 ? nhyp : 63] = eq + 1;
                nhyp++;
                continue;
            }
            while (i + 1 < argc && (argv[i + 1][0] != '-' || !strcmp(argv[i + 1], "-"))) {
                a->hyp = a->hyps[nhyp < 64 ? nhyp : 63] = argv[++i];
                nhyp++;
            }
            if (!nhyp) {
                a->hyp = a->hyps[0] = "-";
                nhyp = 1;
            }
        } else if (is_opt(s, "-pbs", "--paired-bs", &eq)) {
            a->paired = 1;
        } else if (is_opt(s, "-pbsn", "--paired-bs-n", &eq)) {
            if (!(v = opt_value(argc, argv, &i, eq)) || parse_int(v, &a->paired_n) || a->paired_n < 1 ||
                a->paired_n > 100000)
                return T5G_FAIL("--paired-bs-n needs an integer 1..100000 (got '%s')", v ? v : "");
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
        else if (!s[1] && s[0] == '-')
            return T5G_FAIL("references cannot be read from stdin; give reference files (stdin is the hypothesis)");
        else {
            if (a->nrefs == sizeof a->refs / sizeof a->refs[0]) return T5G_FAIL("too many reference files (max 64)");
            a->refs[a->nrefs++] = s;
        }
    }
    T5G_CHECK(a->nrefs > 0,
              "no reference file given; usage: t5g score bleu REF [REF...] [-i HYP] (HYP defaults to stdin)");
    a->nhyp = nhyp;
    if (a->paired) {
        T5G_CHECK(nhyp >= 2 && nhyp <= 64, "--paired-bs needs -i BASELINE SYSTEM... (2..64 files)");
        T5G_CHECK(a->json && !a->sentence && !a->score_only,
                  "--paired-bs prints sacreBLEU's JSON only (no -f text, -sl or -b in t5g)");
        for (int k = 0; k < nhyp; k++)
            T5G_CHECK(strcmp(a->hyps[k], "-"), "--paired-bs reads the systems from files, not stdin");
        return 0;
    }
    T5G_CHECK(nhyp <= 1, "give exactly one hypothesis file after -i (several only with --paired-bs)");
    if (!nhyp) a->hyp = "-";
    if (a->sentence) a->o.effective_order = 1; /* sacreBLEU >= 2.0 does this for -sl */
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

static int run(const cli_args *a, sb_text *refs, sb_text *hyp) {
    const char *const *streams[SB_MAX_REFS];
    const size_t *lens[SB_MAX_REFS];
    T5G_TRY(sb_streams(a->refs, refs, a->nrefs, a->hyp, hyp, streams, lens));
    bleu_score s;
    if (!a->sentence) {
        T5G_TRY(bleu_corpus(hyp->lines, hyp->lens, hyp->n, streams, lens, a->nrefs, &a->o, &s));
        if (s.tokenized_period_lines >= 100 && !a->o.force && !a->quiet)
            fprintf(stderr,
                    "t5g: warning: That's 100 lines that end in a tokenized period ('.')\n"
                    "t5g: warning: It looks like you forgot to detokenize your test data, which may hurt your score.\n"
                    "t5g: warning: If you insist your data is detokenized, or don't care, you can suppress this "
                    "message with the `force` parameter.\n");
        return print_score(&s, a, a->json);
    }
    for (size_t i = 0; i < hyp->n; i++) { /* sacreBLEU prints text lines here even for -f json */
        sb_segment g;
        sb_segment_at(&g, refs, a->nrefs, i);
        if (bleu_corpus(&hyp->lines[i], &hyp->lens[i], 1, g.one, g.one_len, a->nrefs, &a->o, &s))
            return T5G_FAIL("line %zu: %s", i + 1, t5g_last_error());
        T5G_TRY(print_score(&s, a, 0));
    }
    return 0;
}

/* --paired-bs: read the systems (a repeat of the baseline is dropped, another repeat is an
 * error, as sacreBLEU), check line counts, run the test with SACREBLEU_SEED's seed. */
static int run_paired(const cli_args *a, sb_text *refs) {
    sb_text sys[64];
    const char *names[64];
    size_t ns = 0;
    int rc = 0;
    const char *env = getenv("SACREBLEU_SEED");
    char *end = NULL;
    unsigned long seed = env ? strtoul(env, &end, 10) : 12345;
    if (env && (!*env || *end || seed == 0 || seed > 0xFFFFFFFFul))
        return T5G_FAIL("SACREBLEU_SEED must be an integer 1..4294967295 (unseeded 'none' and 0 are not "
                        "reproducible), got '%s'",
                        env);
    memset(sys, 0, sizeof sys);
    for (int k = 0; k < a->nhyp && !rc; k++) {
        int dup = 0;
        for (size_t j = 0; j < ns; j++) dup |= !strcmp(names[j], a->hyps[k]) ? (j == 0 ? 1 : 2) : 0;
        if (dup == 1) continue;
        if (dup) {
            rc = T5G_FAIL("'%s' already used to name a system (give each system once)", a->hyps[k]);
            break;
        }
        names[ns] = a->hyps[k];
        rc = sb_read_lines(a->hyps[k], "hypothesis", &sys[ns]);
        if (!rc) ns++;
    }
    for (size_t j = 0; j < ns && !rc; j++)
        for (size_t r = 0; r < a->nrefs && !rc; r++)
            if (refs[r].n != sys[j].n)
                rc = T5G_FAIL("system %s has %zu lines but reference file %s has %zu; give line-aligned files",
                              names[j], sys[j].n, a->refs[r], refs[r].n);
    if (!rc)
        rc = bleu_paired_bs(refs, a->nrefs, sys, names, ns, &a->o, a->paired_n ? a->paired_n : 1000, (uint32_t)seed,
                            stdout);
    for (size_t j = 0; j < ns; j++) sb_text_free(&sys[j]);
    return rc;
}

int bleu_cli_main(int argc, char **argv) {
    if (score_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    cli_args a;
    if (parse_args(argc, argv, &a)) return score_parse_exit(-1, NULL);
    sb_text refs[64], hyp;
    memset(refs, 0, sizeof refs);
    memset(&hyp, 0, sizeof hyp);
    int rc = 0;
    for (size_t r = 0; r < a.nrefs && !rc; r++) rc = sb_read_lines(a.refs[r], "reference", &refs[r]);
    if (!rc && a.paired) rc = run_paired(&a, refs);
    else if (!rc) rc = sb_read_lines(a.hyp, "hypothesis", &hyp);
    if (!rc && !a.paired) rc = run(&a, refs, &hyp);
    for (size_t r = 0; r < a.nrefs; r++) sb_text_free(&refs[r]);
    sb_text_free(&hyp);
    return score_run_exit(rc);
}
