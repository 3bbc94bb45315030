/* score_rouge_compat.c - `t5g score rouge --target_filepattern=... ...`: the command line of
 * rouge-score 0.1.2 (`python -m rouge_score.rouge`, rouge_score/rouge.py + io.py) and its CSV.
 *
 * Flags (absl syntax: --name=value, --name value, -name=value; booleans --name, --noname,
 * --name=true|false|t|f|1|0 in any case): target_filepattern, prediction_filepattern,
 * output_filename (required), rouge_types (default rouge1,rouge2,rougeL), use_stemmer,
 * aggregate (default true), split_summaries (rougeLsum sentences from nltk.sent_tokenize:
 * eval/punkt.h), delimiter (default "\n"), and the extension --seed (see below).
 *
 * What io.py does and we do the same way:
 *   files   glob.glob(pattern) for each side (no brace expansion, '*' skips dot files, a
 *           pattern without wildcards names one existing file); the counts must be equal
 *           and positive; files are paired in sorted (code point) order.
 *   records open() in text mode: UTF-8, universal newlines ("\r\n" and "\r" read as "\n"),
 *           then text.split(delimiter); an empty last record is dropped, a non-empty one is
 *           kept with a warning.  Both files of a pair must have the same record count.
 *   CSV     --aggregate (default): "score_type,low,mid,high", per type in sorted name order
 *           the rows <type>-R, <type>-P, <type>-F with "%f" numbers (BootstrapAggregator,
 *           95% interval, 1000 samples).  --noaggregate: "id,<type>-P,<type>-R,<type>-F,..."
 *           (sorted types) and one "%d,%f,..." row per record.
 *
 * The bootstrap (low/mid/high) draws from numpy's global RNG, which rouge-score never seeds,
 * so its own numbers change from run to run.  We draw the same stream as numpy after
 * numpy.random.seed(S) (S = --seed, default 0): bit-identical to rouge-score run after that
 * seeding (tests/reference/make_rouge_cli_fixtures.py does exactly that). */
#define _GNU_SOURCE /* memmem */
#include "eval/rouge.h"
#include "cli/score.h"
#include "core/err.h"
#include "core/fileio.h"
#include "eval/unicode.h"
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *USAGE =
    "usage: t5g score rouge --target_filepattern=PAT --prediction_filepattern=PAT\n"
    "                       --output_filename=FILE [--rouge_types=rouge1,rouge2,rougeL]\n"
    "                       [--use_stemmer[=true|false]] [--noaggregate] [--delimiter=STR]\n"
    "                       [--split_summaries] [--seed=S]\n"
    "The command line and CSV of rouge-score 0.1.2 (python -m rouge_score.rouge), absl flag\n"
    "syntax (--flag=value, --flag value, --flag / --noflag for booleans).  Files matching each\n"
    "pattern are paired in sorted order; records are split on --delimiter (default newline).\n"
    "  --aggregate (default)  CSV score_type,low,mid,high: bootstrap 95% interval, 1000 samples,\n"
    "                         numpy's random stream after numpy.random.seed(S), S = --seed (0)\n"
    "  --noaggregate          CSV id,<type>-P,<type>-R,<type>-F,... one row per record\n"
    "  --split_summaries      rougeLsum sentences from NLTK's Punkt splitter (nltk.sent_tokenize,\n"
    "                         English punkt_tab) instead of newlines\n"
    "The other form, t5g score rouge --targets T --predictions P, is listed by --help without\n"
    "rouge-score flags.\n";

enum { F_TARGET, F_PRED, F_OUTPUT, F_DELIM, F_TYPES, F_STEM, F_AGG, F_SPLIT, F_SEED, F_COUNT };
static const struct {
    const char *name;
    int boolean;
} FLAGS[F_COUNT] = {
    {"target_filepattern", 0},
    {"prediction_filepattern", 0},
    {"output_filename", 0},
    {"delimiter", 0},
    {"rouge_types", 0},
    {"use_stemmer", 1},
    {"aggregate", 1},
    {"split_summaries", 1},
    {"seed", 0},
};

/* Index of the absl flag named by argument a (with "no" for booleans), or -1. */
static int flag_index(const char *a, int *negated) {
    if (a[0] != '-') return -1;
    const char *p = a + 1 + (a[1] == '-');
    size_t l = strcspn(p, "=");
    *negated = 0;
    for (int k = 0; k < F_COUNT; k++) {
        if (strlen(FLAGS[k].name) == l && !strncmp(p, FLAGS[k].name, l)) return k;
        if (FLAGS[k].boolean && l == strlen(FLAGS[k].name) + 2 && !strncmp(p, "no", 2) &&
            !strncmp(p + 2, FLAGS[k].name, l - 2)) {
            *negated = 1;
            return k;
        }
    }
    return -1;
}

int rouge_compat_wanted(int argc, char **argv) {
    int neg;
    for (int i = 1; i < argc; i++)
        if (flag_index(argv[i], &neg) >= 0 && flag_index(argv[i], &neg) != F_SEED) return 1; /* --seed: both forms */
    return 0;
}

typedef struct {
    const char *v[F_COUNT];
    int stem, aggregate, split;
    uint32_t seed;
    rouge_type types[ROUGE_MAX_TYPES];
    int ntypes;
} cfg;

/* absl's BooleanParser. */
static int parse_bool(const char *flag, const char *v, int *out) {
    if (!strcasecmp(v, "true") || !strcasecmp(v, "t") || !strcmp(v, "1")) *out = 1;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "f") || !strcmp(v, "0")) *out = 0;
    else return T5G_FAIL("--%s expects true or false, got '%s'", flag, v);
    return 0;
}

/* absl DEFINE_list: comma-separated, each item stripped. */
static int parse_types(const char *v, cfg *c) {
    char buf[512];
    size_t k = 0;
    for (const char *p = v; *p; p++) {
        if (*p == ' ' || *p == '\t') continue;
        T5G_CHECK(k + 1 < sizeof buf, "--rouge_types is too long");
        buf[k++] = *p;
    }
    buf[k] = 0;
    T5G_CHECK(k > 0, "--rouge_types is empty (give e.g. rouge1,rouge2,rougeL)");
    return rouge_parse_types(buf, c->types, ROUGE_MAX_TYPES, &c->ntypes);
}

/* Returns 0, 1 (help shown) or -1. */
static int parse(int argc, char **argv, cfg *c) {
    memset(c, 0, sizeof *c);
    c->aggregate = 1;
    c->v[F_DELIM] = "\n";
    c->v[F_TYPES] = "rouge1,rouge2,rougeL";
    int seen[F_COUNT] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help")) return 1;
        int neg, k = flag_index(a, &neg);
        if (k < 0 && a[0] == '-') return T5G_FAIL("unknown flag '%s' (see t5g score rouge --help)", a);
        T5G_CHECK(k >= 0, "unexpected argument '%s' (rouge-score takes only flags)", a);
        T5G_CHECK(!seen[k], "--%s given twice", FLAGS[k].name);
        seen[k] = 1;
        if (FLAGS[k].boolean) {
            int b = 1;
            T5G_CHECK(!(neg && eq), "%s does not take a value", a);
            if (eq) T5G_TRY(parse_bool(FLAGS[k].name, eq + 1, &b));
            if (neg) b = 0;
            if (k == F_STEM) c->stem = b;
            else if (k == F_AGG) c->aggregate = b;
            else c->split = b;
            continue;
        }
        if (eq) c->v[k] = eq + 1;
        else {
            T5G_CHECK(i + 1 < argc, "missing value for flag %s", a);
            c->v[k] = argv[++i];
        }
    }
    for (int k = F_TARGET; k <= F_OUTPUT; k++)
        T5G_CHECK(c->v[k], "flag --%s must be given (see t5g score rouge --help)", FLAGS[k].name);
    T5G_CHECK(*c->v[F_DELIM], "--delimiter must not be empty");
    if (c->v[F_SEED]) {
        char *end;
        unsigned long long s = strtoull(c->v[F_SEED], &end, 10);
        T5G_CHECK(*c->v[F_SEED] >= '0' && *c->v[F_SEED] <= '9' && !*end && s <= 4294967295ULL,
                  "--seed expects an integer 0..4294967295 (numpy's seed range), got '%s'", c->v[F_SEED]);
        c->seed = (uint32_t)s;
    }
    return parse_types(c->v[F_TYPES], c);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* glob.glob(pattern) then sorted(): no backslash escapes, "." and ".." never match. */
static int expand(const char *pattern, glob_t *g, size_t *n) {
    memset(g, 0, sizeof *g);
    int rc = *pattern ? glob(pattern, GLOB_NOESCAPE, NULL, g) : GLOB_NOMATCH;
    T5G_CHECK(rc == 0 || rc == GLOB_NOMATCH, "cannot expand the file pattern '%s'", pattern);
    size_t k = 0;
    for (size_t i = 0; i < g->gl_pathc; i++) {
        const char *s = strrchr(g->gl_pathv[i], '/');
        s = s ? s + 1 : g->gl_pathv[i];
        if (!strcmp(s, ".") || !strcmp(s, "..")) continue;
        char *t = g->gl_pathv[k]; /* swap, so globfree still frees every name */
        g->gl_pathv[k++] = g->gl_pathv[i];
        g->gl_pathv[i] = t;
    }
    if (k) qsort(g->gl_pathv, k, sizeof *g->gl_pathv, cmp_str); /* gl_pathv is NULL on no match */
    *n = k;
    return 0;
}

typedef struct {
    char *buf;
    size_t *off, *len, n;
} records;

/* open(path).read().split(delimiter), the empty last record dropped. */
static int read_records(const char *path, const char *delim, records *r) {
    memset(r, 0, sizeof *r);
    size_t n, bad;
    r->buf = t5g_read_file(path, &n);
    if (!r->buf) return -1;
    T5G_CHECK(!u8_validate(r->buf, n, &bad), "%s: invalid UTF-8 at byte %zu (files must be UTF-8)", path, bad);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = r->buf[i];
        if (ch == '\r') {
            ch = '\n';
            if (i + 1 < n && r->buf[i + 1] == '\n') i++;
        }
        r->buf[o++] = ch;
    }
    n = o;
    size_t dl = strlen(delim), cap = 1;
    for (const char *p = r->buf; (p = memmem(p, n - (size_t)(p - r->buf), delim, dl)); p += dl) cap++;
    r->off = t5g_malloc(cap * sizeof *r->off, "records");
    r->len = t5g_malloc(cap * sizeof *r->len, "records");
    if (!r->off || !r->len) return -1;
    size_t s = 0;
    for (;;) {
        const char *p = memmem(r->buf + s, n - s, delim, dl);
        size_t e = p ? (size_t)(p - r->buf) : n;
        r->off[r->n] = s;
        r->len[r->n++] = e - s;
        if (!p) break;
        s = e + dl;
    }
    if (r->len[r->n - 1] == 0) r->n--;
    else
        fprintf(stderr,
                "t5g: warning: %s: no delimiter at the end of the file (its last record is "
                "scored, as rouge-score does)\n",
                path);
    return 0;
}

static void records_free(records *r) {
    free(r->buf);
    free(r->off);
    free(r->len);
}

typedef struct {
    rouge_score *v;
    size_t n, cap;
} rows;

/* Score every record pair of one target/prediction file pair, appending to out. */
static int score_files(rouge_scorer *s, int nt, const char *tf, const char *pf, const char *delim, rows *out) {
    records t, p;
    int rc = -1;
    memset(&p, 0, sizeof p);
    if (read_records(tf, delim, &t) || read_records(pf, delim, &p)) goto done;
    if (t.n != p.n) {
        T5G_FAIL("%s has %zu records but %s has %zu (rouge-score needs equal counts per file pair)", tf, t.n, pf, p.n);
        goto done;
    }
    if (out->n + t.n > out->cap) {
        size_t cap = (out->n + t.n) * 2;
        rouge_score *v = realloc(out->v, cap * (size_t)nt * sizeof *v);
        if (!v) {
            T5G_FAIL("out of memory for %zu ROUGE scores", cap);
            goto done;
        }
        out->v = v;
        out->cap = cap;
    }
    for (size_t i = 0; i < t.n; i++, out->n++)
        if (rouge_score_pair(s, t.buf + t.off[i], t.len[i], p.buf + p.off[i], p.len[i], out->v + out->n * (size_t)nt))
            goto done;
    rc = 0;
done:
    records_free(&t);
    records_free(&p);
    return rc;
}

/* Type indices in sorted name order (rouge-score writes sorted(aggregates.items())). */
static void sorted_types(const cfg *c, int *order) {
    char a[16], b[16];
    for (int i = 0; i < c->ntypes; i++) order[i] = i;
    for (int i = 1; i < c->ntypes; i++)
        for (int j = i; j > 0; j--) {
            rouge_type_name(c->types[order[j - 1]], a, sizeof a);
            rouge_type_name(c->types[order[j]], b, sizeof b);
            if (strcmp(a, b) <= 0) break;
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

static int write_csv(const cfg *c, const rows *r) {
    int order[ROUGE_MAX_TYPES], nt = c->ntypes;
    char name[16];
    rouge_interval ci[ROUGE_MAX_TYPES];
    sorted_types(c, order);
    if (!c->aggregate && !r->n) {
        fprintf(stderr, "t5g: warning: no records, so %s is not written (as rouge-score)\n", c->v[F_OUTPUT]);
        return 0;
    }
    if (c->aggregate && r->n && rouge_bootstrap(r->v, r->n, nt, 1000, 0.95, c->seed, ci)) return -1;
    t5g_outfile o;
    if (t5g_out_open(&o, c->v[F_OUTPUT], "w")) return -1;
    FILE *f = o.f;
    if (c->aggregate) {
        fputs("score_type,low,mid,high\n", f);
        for (int k = 0; k < nt && r->n; k++) {
            const rouge_interval *x = &ci[order[k]];
            rouge_type_name(c->types[order[k]], name, sizeof name);
            fprintf(f, "%s-R,%f,%f,%f\n", name, x->low.recall, x->mid.recall, x->high.recall);
            fprintf(f, "%s-P,%f,%f,%f\n", name, x->low.precision, x->mid.precision, x->high.precision);
            fprintf(f, "%s-F,%f,%f,%f\n", name, x->low.fmeasure, x->mid.fmeasure, x->high.fmeasure);
        }
    } else {
        fputs("id", f);
        for (int k = 0; k < nt; k++) {
            rouge_type_name(c->types[order[k]], name, sizeof name);
            fprintf(f, ",%s-P,%s-R,%s-F", name, name, name);
        }
        fputc('\n', f);
        for (size_t i = 0; i < r->n; i++) {
            fprintf(f, "%zu", i);
            for (int k = 0; k < nt; k++) {
                const rouge_score *x = &r->v[i * (size_t)nt + (size_t)order[k]];
                fprintf(f, ",%f,%f,%f", x->precision, x->recall, x->fmeasure);
            }
            fputc('\n', f);
        }
    }
    return t5g_out_commit(&o);
}

static int run(const cfg *c) {
    glob_t tg, pg;
    size_t nt = 0, np = 0;
    int rc = -1;
    rows r = {0};
    rouge_scorer *s = NULL;
    memset(&pg, 0, sizeof pg);
    if (expand(c->v[F_TARGET], &tg, &nt) || expand(c->v[F_PRED], &pg, &np)) goto done;
    if (nt < 1 || nt != np) {
        T5G_FAIL("need equal and positive numbers of target and prediction files; found %zu target "
                 "files (%s), %zu prediction files (%s)",
                 nt, c->v[F_TARGET], np, c->v[F_PRED]);
        goto done;
    }
    s = rouge_scorer_new(c->types, c->ntypes, c->stem);
    if (s) rouge_scorer_split_summaries(s, c->split);
    if (!s) goto done;
    for (size_t i = 0; i < nt; i++)
        if (score_files(s, c->ntypes, tg.gl_pathv[i], pg.gl_pathv[i], c->v[F_DELIM], &r)) goto done;
    rc = write_csv(c, &r);
done:
    rouge_scorer_free(s);
    free(r.v);
    globfree(&tg);
    globfree(&pg);
    return rc;
}

int rouge_compat_main(int argc, char **argv) {
    cfg c;
    int r = parse(argc, argv, &c);
    if (r) return score_parse_exit(r, USAGE);
    return score_run_exit(run(&c));
}
