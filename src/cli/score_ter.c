/* score_ter.c - `t5g score ter`: `sacrebleu REF... -i HYP -m ter` for one system.
 *
 *   t5g score ter REF [REF...] [-i HYP] [--normalized] [--no-punct] [--asian-support]
 *       [--case-sensitive] [-f json|text] [-w W] [-sl] [-b] [-sh] [-q]
 *
 * stdout is byte-identical to sacreBLEU 2.6.0's; its option names (--ter-normalized,
 * --ter-no-punct, --ter-asian-support, --ter-case-sensitive) are accepted too.  Without -i
 * (or with -i -) the hypothesis is read from stdin. */
#include "eval/ter.h"
#include "cli/score.h"
#include "cli/score_sacrebleu.h"
#include "core/err.h"
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: t5g score ter REF [REF...] [-i HYP] [options]   (sacreBLEU 2.6.0 TER)\n"
               "  HYP defaults to stdin (also -i -)\n"
               "  --normalized           Tercom normalization (punctuation, XML entities)\n"
               "  --no-punct             remove punctuation\n"
               "  --asian-support        CJK characters and punctuation (with --normalized / --no-punct)\n"
               "  --case-sensitive       do not lowercase\n" SB_COMMON_HELP);
}

static int metric_score(void *ctx, const char *const *hyps, const size_t *hl, size_t n, const char *const *const *refs,
                        const size_t *const *rl, size_t ns, double *score, int *nrefs) {
    ter_score s;
    T5G_TRY(ter_corpus(hyps, hl, n, refs, rl, ns, ctx, &s));
    *score = s.score;
    *nrefs = s.nrefs;
    return 0;
}

static void metric_name(void *ctx, char *buf, size_t n) {
    snprintf(buf, n, "TER");
}

static int metric_sig(void *ctx, int nrefs, int short_form, char *buf, size_t n) {
    return ter_signature(ctx, nrefs, short_form, buf, n);
}

static int parse_args(int argc, char **argv, sb_common *c, ter_opts *o) {
    sb_common_default(c);
    ter_opts_default(o);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *eq;
        int k = sb_common_arg(argc, argv, &i, c, "ter");
        if (k < 0) return -1;
        if (k) continue;
        if (sb_is_opt(s, NULL, "--normalized", "--ter-normalized", &eq)) o->normalized = 1;
        else if (sb_is_opt(s, NULL, "--no-punct", "--ter-no-punct", &eq)) o->no_punct = 1;
        else if (sb_is_opt(s, NULL, "--asian-support", "--ter-asian-support", &eq)) o->asian_support = 1;
        else if (sb_is_opt(s, NULL, "--case-sensitive", "--ter-case-sensitive", &eq)) o->case_sensitive = 1;
        else return T5G_FAIL("unknown option '%s' (see t5g score ter --help)", s);
    }
    return sb_common_finish(c, "ter");
}

int ter_cli_main(int argc, char **argv) {
    if (score_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    sb_common c;
    ter_opts o;
    if (parse_args(argc, argv, &c, &o)) return score_parse_exit(-1, NULL);
    sb_metric m = {"ter", &o, metric_score, metric_name, metric_sig};
    return sb_run(&c, &m);
}
