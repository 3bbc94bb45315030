/* score_sacrebleu.c - input reading and score printing shared by the sacreBLEU-style CLIs. */
#include "cli/score_sacrebleu.h"
#include "cli/score.h"
#include "eval/pyfmt.h"
#include "eval/unicode.h"
#include "core/err.h"
#include "core/fileio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_text_free(sb_text *t) {
    free(t->buf);
    free(t->lines);
    free(t->lens);
    memset(t, 0, sizeof *t);
}

const char *sb_display_name(const char *path) {
    return strcmp(path, "-") ? path : "<stdin>";
}

static char *read_stdin(size_t *n) {
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (!b) {
            T5G_FAIL("out of memory reading stdin");
            return NULL;
        }
        size_t got = fread(b + len, 1, cap - len, stdin);
        len += got;
        if (got == 0) break;
        if (len == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) free(b);
            b = nb;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(b);
        T5G_FAIL("cannot read the hypothesis from stdin");
        return NULL;
    }
    b[len] = 0;
    *n = len;
    return b;
}

/* End of the line starting at s and the start of the next one. Files break at "\n" only;
 * stdin (Python's TextIOWrapper default) also at "\r\n" and "\r". */
static size_t line_end(const char *b, size_t s, size_t n, int universal, size_t *next) {
    for (size_t i = s; i < n; i++) {
        if (b[i] == '\n') {
            *next = i + 1;
            return i;
        }
        if (universal && b[i] == '\r') {
            *next = i + 1 + (i + 1 < n && b[i + 1] == '\n');
            return i;
        }
    }
    *next = n + 1;
    return n;
}

static int split_lines(sb_text *t, size_t n, const char *path, const char *role, int is_stdin) {
    size_t cap = 2;
    for (size_t i = 0; i < n; i++) cap += t->buf[i] == '\n' || t->buf[i] == '\r';
    t->lines = malloc(cap * sizeof *t->lines);
    t->lens = malloc(cap * sizeof *t->lens);
    T5G_CHECK(t->lines && t->lens, "out of memory reading %s", sb_display_name(path));
    for (size_t s = 0; s < n || (is_stdin && n == 0 && t->n == 0);) {
        size_t next, e = line_end(t->buf, s, n, is_stdin, &next);
        size_t k = py_rstrip_len(t->buf + s, e - s);
        if (is_stdin && memchr(t->buf + s, '\t', k))
            return T5G_FAIL("%s on stdin, line %zu, contains a tab: sacreBLEU reads tab-separated stdin "
                            "fields as several systems; t5g scores one system (remove the tabs or use -i FILE)",
                            role, t->n + 1);
        t->buf[s + k] = 0;
        t->lines[t->n] = t->buf + s;
        t->lens[t->n++] = k;
        s = next;
    }
    return 0;
}

int sb_read_lines(const char *path, const char *role, sb_text *t) {
    memset(t, 0, sizeof *t);
    int is_stdin = !strcmp(path, "-");
    size_t len = strlen(path), n = 0;
    T5G_CHECK(!(len > 3 && !strcmp(path + len - 3, ".gz")),
              "%s file %s is gzip-compressed; decompress it first (gunzip -k)", role, path);
    t->buf = is_stdin ? read_stdin(&n) : t5g_read_file(path, &n);
    if (!t->buf) return -1;
    size_t bad;
    if (u8_validate(t->buf, n, &bad)) {
        size_t line = 1, start = 0;
        for (size_t i = 0; i < bad; i++)
            if (t->buf[i] == '\n') {
                line++;
                start = i + 1;
            }
        T5G_FAIL("%s file %s: invalid UTF-8 at line %zu, byte %zu of the line (file offset %zu, byte 0x%02X); "
                 "convert the file to UTF-8",
                 role, sb_display_name(path), line, bad - start + 1, bad, (unsigned char)t->buf[bad]);
        sb_text_free(t);
        return -1;
    }
    if (split_lines(t, n, path, role, is_stdin)) {
        sb_text_free(t);
        return -1;
    }
    return 0;
}

static int put_s(u8buf *b, const char *s) {
    return u8buf_put(b, s, strlen(s));
}

static int put_json(u8buf *b, const char *name, const char *sc, const char *sig) {
    char num[64], *copy = strdup(sig);
    T5G_CHECK(copy, "out of memory");
    py_repr_double(strtod(sc, NULL), num, sizeof num, 1); /* float(f"{score:.{w}f}") */
    int rc = put_s(b, "{\n \"name\": ") || u8buf_put_json_str(b, name) || put_s(b, ",\n \"score\": ") ||
             put_s(b, num) || put_s(b, ",\n \"signature\": ") || u8buf_put_json_str(b, sig);
    for (char *kv = copy, *end; !rc && kv && *kv; kv = end ? end + 1 : NULL) { /* key:value pairs */
        end = strchr(kv, '|');
        if (end) *end = 0;
        char *colon = strchr(kv, ':');
        if (!colon) {
            rc = T5G_FAIL("malformed signature '%s'", sig);
            break;
        }
        *colon = 0;
        rc = put_s(b, ",\n ") || u8buf_put_json_str(b, kv) || put_s(b, ": ") || u8buf_put_json_str(b, colon + 1);
    }
    free(copy);
    return rc || put_s(b, "\n}") ? -1 : 0;
}

char *sb_format(const char *name, double score, const char *sig, int width, int score_only, int json) {
    T5G_CHECK_NULL(width >= 0 && width <= 1000, "width %d out of range (0..1000)", width);
    T5G_CHECK_NULL(!json || sig || score_only, "JSON output needs a signature");
    size_t cap = 340 + (size_t)width;
    char *sc = malloc(cap);
    T5G_CHECK_NULL(sc, "out of memory");
    py_format_fixed(score, width, sc, cap);
    u8buf b = {0};
    int rc;
    if (score_only) rc = put_s(&b, sc);
    else if (json) rc = put_json(&b, name, sc, sig);
    else rc = put_s(&b, name) || (sig && (put_s(&b, "|") || put_s(&b, sig))) || put_s(&b, " = ") || put_s(&b, sc);
    free(sc);
    if (rc || !b.p) {
        u8buf_free(&b);
        if (!rc) T5G_FAIL("out of memory");
        return NULL;
    }
    return b.p;
}

int sb_is_opt(const char *a, const char *shrt, const char *lng, const char *lng2, const char **eq) {
    *eq = NULL;
    if (shrt && !strcmp(a, shrt)) return 1;
    for (int k = 0; k < 2; k++) {
        const char *l = k ? lng2 : lng;
        if (!l) continue;
        size_t m = strlen(l);
        if (!strcmp(a, l)) return 1;
        if (!strncmp(a, l, m) && a[m] == '=') {
            *eq = a + m;
            return 1;
        }
    }
    return 0;
}

const char *sb_opt_value(int argc, char **argv, int *i, const char *eq) {
    if (eq) return eq + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

int sb_parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* ---------------------------------------------------------------- shared CLI driver */

void sb_common_default(sb_common *c) {
    memset(c, 0, sizeof *c);
    c->width = 1;
    c->json = 1;
    c->hyp = "-";
}

int sb_common_arg(int argc, char **argv, int *i, sb_common *c, const char *cmd) {
    const char *s = argv[*i], *eq, *v;
    if (sb_is_opt(s, "-i", "--input", NULL, &eq)) {
        if (eq) {
            c->hyp = eq + 1;
            c->nhyp++;
            return 1;
        }
        while (*i + 1 < argc && (argv[*i + 1][0] != '-' || !strcmp(argv[*i + 1], "-"))) {
            c->hyp = argv[++*i];
            c->nhyp++;
        }
        if (!c->nhyp) {
            c->hyp = "-";
            c->nhyp = 1;
        } /* sacreBLEU: "-i" alone reads no system; we read stdin */
        return 1;
    }
    if (sb_is_opt(s, "-f", "--format", NULL, &eq)) {
        if (!(v = sb_opt_value(argc, argv, i, eq)) || (strcmp(v, "json") && strcmp(v, "text")))
            return T5G_FAIL("--format needs json or text (got '%s')", v ? v : "");
        c->json = !strcmp(v, "json");
        return 1;
    }
    if (sb_is_opt(s, "-w", "--width", NULL, &eq)) {
        if (!(v = sb_opt_value(argc, argv, i, eq)) || sb_parse_int(v, 0, 1000, &c->width))
            return T5G_FAIL("--width needs an integer 0..1000 (got '%s')", v ? v : "");
        return 1;
    }
    if (sb_is_opt(s, "-sl", "--sentence-level", NULL, &eq)) return c->sentence = 1;
    if (sb_is_opt(s, "-b", "--score-only", NULL, &eq)) return c->score_only = 1;
    if (sb_is_opt(s, "-sh", "--short", NULL, &eq)) return c->short_sig = 1;
    if (sb_is_opt(s, "-q", "--quiet", NULL, &eq)) return c->quiet = 1;
    if (s[0] == '-' && s[1]) return 0;
    if (!strcmp(s, "-"))
        return T5G_FAIL("references cannot be read from stdin; give reference files (stdin is the hypothesis)");
    if (c->nrefs == SB_MAX_REFS) return T5G_FAIL("too many reference files (max %d)", SB_MAX_REFS);
    c->refs[c->nrefs++] = s;
    return 1;
}

int sb_common_finish(sb_common *c, const char *cmd) {
    T5G_CHECK(c->nrefs > 0,
              "no reference file given; usage: t5g score %s REF [REF...] [-i HYP] (HYP defaults to stdin)", cmd);
    T5G_CHECK(c->nhyp <= 1, "give exactly one hypothesis file after -i (one system at a time)");
    return 0;
}

static int print_one(const sb_common *c, const sb_metric *m, double score, int nrefs, int json) {
    char name[128], sig[512];
    m->name(m->ctx, name, sizeof name);
    T5G_TRY(m->signature(m->ctx, nrefs, json ? 0 : c->short_sig, sig, sizeof sig));
    char *out = sb_format(name, score, sig, c->width, c->score_only, json);
    if (!out) return -1;
    puts(out);
    free(out);
    return 0;
}

int sb_streams(const char *const *ref_paths, const sb_text *refs, size_t nrefs, const char *hyp_path,
               const sb_text *hyp, const char *const **streams, const size_t **lens) {
    for (size_t r = 0; r < nrefs; r++) {
        if (refs[r].n != hyp->n)
            return T5G_FAIL("hypothesis %s has %zu lines but reference file %s has %zu; "
                            "give line-aligned files (one segment per line)",
                            sb_display_name(hyp_path), hyp->n, ref_paths[r], refs[r].n);
        streams[r] = refs[r].lines;
        lens[r] = refs[r].lens;
    }
    T5G_CHECK(hyp->n > 0, "hypothesis file %s is empty (sacreBLEU: contains no sentence)", sb_display_name(hyp_path));
    return 0;
}

void sb_segment_at(sb_segment *g, const sb_text *refs, size_t nrefs, size_t i) {
    for (size_t r = 0; r < nrefs; r++) {
        g->line[r] = refs[r].lines[i];
        g->len[r] = refs[r].lens[i];
        g->one[r] = &g->line[r];
        g->one_len[r] = &g->len[r];
    }
}

static int run_texts(const sb_common *c, const sb_metric *m, sb_text *refs, sb_text *hyp) {
    const char *const *streams[SB_MAX_REFS];
    const size_t *lens[SB_MAX_REFS];
    T5G_TRY(sb_streams(c->refs, refs, c->nrefs, c->hyp, hyp, streams, lens));
    double score;
    int nrefs;
    if (!c->sentence) {
        T5G_TRY(m->score(m->ctx, hyp->lines, hyp->lens, hyp->n, streams, lens, c->nrefs, &score, &nrefs));
        return print_one(c, m, score, nrefs, c->json);
    }
    for (size_t i = 0; i < hyp->n; i++) { /* sacreBLEU prints text lines here even for -f json */
        sb_segment g;
        sb_segment_at(&g, refs, c->nrefs, i);
        if (m->score(m->ctx, &hyp->lines[i], &hyp->lens[i], 1, g.one, g.one_len, c->nrefs, &score, &nrefs))
            return T5G_FAIL("line %zu: %s", i + 1, t5g_last_error());
        T5G_TRY(print_one(c, m, score, nrefs, 0));
    }
    return 0;
}

int sb_run(const sb_common *c, const sb_metric *m) {
    sb_text refs[SB_MAX_REFS], hyp;
    memset(refs, 0, sizeof refs);
    memset(&hyp, 0, sizeof hyp);
    int rc = 0;
    for (size_t r = 0; r < c->nrefs && !rc; r++) rc = sb_read_lines(c->refs[r], "reference", &refs[r]);
    if (!rc) rc = sb_read_lines(c->hyp, "hypothesis", &hyp);
    if (!rc) rc = run_texts(c, m, refs, &hyp);
    for (size_t r = 0; r < c->nrefs; r++) sb_text_free(&refs[r]);
    sb_text_free(&hyp);
    return score_run_exit(rc);
}
