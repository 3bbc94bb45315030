/* score_chrf.c - `t5g score chrf`: `sacrebleu REF... -i HYP -m chrf` for one system.
 *
 *   t5g score chrf REF [REF...] [-i HYP] [--char-order N] [--word-order N] [--beta N]
 *       [--lowercase] [--whitespace] [--eps-smoothing] [-f json|text] [-w W] [-sl] [-b] [-sh] [-q]
 *
 * stdout is byte-identical to sacreBLEU 2.6.0's; its option names (-cc/--chrf-char-order,
 * -cw/--chrf-word-order, --chrf-beta, --chrf-lowercase, --chrf-whitespace,
 * --chrf-eps-smoothing) are accepted too.  Without -i (or with -i -) the hypothesis is read
 * from stdin as `sacrebleu REF < HYP` does. */
#include "eval/chrf.h"
#include "cli/score.h"
#include "cli/score_sacrebleu.h"
#include "core/err.h"
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: t5g score chrf REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6.0 chrF / chrF++)\n"
               "  HYP defaults to stdin (also -i -)\n"
               "  -cc, --char-order N    character n-gram order (default 6)\n"
               "  -cw, --word-order N    word n-gram order (default 0; 2 = chrF++)\n"
               "  --beta N               recall weight (default 2)\n"
               "  --lowercase            case-insensitive\n"
               "  --whitespace           keep whitespace in character n-grams\n"
               "  --eps-smoothing        epsilon smoothing (chrF++.py / Moses / NLTK) instead of effective "
               "order\n" SB_COMMON_HELP);
}

static int metric_score(void *ctx, const char *const *hyps, const size_t *hl, size_t n, const char *const *const *refs,
                        const size_t *const *rl, size_t ns, double *score, int *nrefs) {
    chrf_score s;
    T5G_TRY(chrf_corpus(hyps, hl, n, refs, rl, ns, ctx, &s));
    *score = s.score;
    *nrefs = s.nrefs;
    return 0;
}

static void metric_name(void *ctx, char *buf, size_t n) {
    chrf_name(ctx, buf, n);
}

static int metric_sig(void *ctx, int nrefs, int short_form, char *buf, size_t n) {
    return chrf_signature(ctx, nrefs, short_form, buf, n);
}

static int int_opt(int argc, char **argv, int *i, const char *eq, const char *name, int lo, int hi, int *out) {
    const char *v = sb_opt_value(argc, argv, i, eq);
    if (!v || sb_parse_int(v, lo, hi, out))
        return T5G_FAIL("%s needs an integer %d..%d (got '%s')", name, lo, hi, v ? v : "");
    return 0;
}

static int parse_args(int argc, char **argv, sb_common *c, chrf_opts *o) {
    sb_common_default(c);
    chrf_opts_default(o);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *eq;
        int k = sb_common_arg(argc, argv, &i, c, "chrf");
        if (k < 0) return -1;
        if (k) continue;
        if (sb_is_opt(s, "-cc", "--char-order", "--chrf-char-order", &eq))
            T5G_TRY(int_opt(argc, argv, &i, eq, "--char-order", 0, CHRF_MAX_ORDER, &o->char_order));
        else if (sb_is_opt(s, "-cw", "--word-order", "--chrf-word-order", &eq))
            T5G_TRY(int_opt(argc, argv, &i, eq, "--word-order", 0, CHRF_MAX_ORDER, &o->word_order));
        else if (sb_is_opt(s, NULL, "--beta", "--chrf-beta", &eq))
            T5G_TRY(int_opt(argc, argv, &i, eq, "--beta", 0, 1000, &o->beta));
        else if (sb_is_opt(s, NULL, "--lowercase", "--chrf-lowercase", &eq)) o->lowercase = 1;
        else if (sb_is_opt(s, NULL, "--whitespace", "--chrf-whitespace", &eq)) o->whitespace = 1;
        else if (sb_is_opt(s, NULL, "--eps-smoothing", "--chrf-eps-smoothing", &eq)) o->eps_smoothing = 1;
        else return T5G_FAIL("unknown option '%s' (see t5g score chrf --help)", s);
    }
    T5G_CHECK(o->char_order + o->word_order >= 1 && o->char_order + o->word_order <= CHRF_MAX_ORDER,
              "--char-order + --word-order must be 1..%d (got %d + %d)", CHRF_MAX_ORDER, o->char_order, o->word_order);
    return sb_common_finish(c, "chrf");
}

int chrf_cli_main(int argc, char **argv) {
    if (score_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    sb_common c;
    chrf_opts o;
    if (parse_args(argc, argv, &c, &o)) return score_parse_exit(-1, NULL);
    sb_metric m = {"chrf", &o, metric_score, metric_name, metric_sig};
    return sb_run(&c, &m);
}
