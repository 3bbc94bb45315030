/* score_rouge.c - `t5g score rouge`: read target/prediction files, score with rouge.c, print
 * means (and bootstrap intervals) with Python repr digits.  Formats: rouge.h and --help. */
#include "eval/rouge.h"
#include "cli/score.h"
#include "eval/pyfmt.h"
#include "core/err.h"
#include "core/fileio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *USAGE =
    "usage: t5g score rouge --targets T --predictions P [--types rouge1,rouge2,rougeL,rougeLsum]\n"
    "                       [--stem] [--bootstrap N [--seed S] [--confidence C]]\n"
    "                       [--per-example FILE] [--format text|json] [--input-format auto|text|jsonl]\n"
    "                       [-o FILE]\n"
    "Google rouge-score 0.1.2 (RougeScorer.score(target, prediction)); same digits as Python.\n"
    "  --types LIST      rouge1..rouge9, rougeL, rougeLsum (default rouge1,rouge2,rougeL,rougeLsum)\n"
    "  --stem            Porter stemming of tokens longer than 3 chars (use_stemmer=True)\n"
    "  --bootstrap N     also BootstrapAggregator intervals from N resamples; --seed S (default 0)\n"
    "                    reproduces numpy.random.seed(S) exactly; --confidence C (default 0.95)\n"
    "  --per-example F   CSV: id,<type>-P,<type>-R,<type>-F,... one row per example (repr digits)\n"
    "  --format          text (default): '<type> mean P <p> R <r> F <f>' per type, plus\n"
    "                    '<type> low|mid|high P .. R .. F ..' with --bootstrap;\n"
    "                    json: Python json.dumps(d, indent=1) of {\"examples\", \"use_stemmer\",\n"
    "                    \"scores\": {type: {precision, recall, fmeasure}}, [\"bootstrap\": {...}]}\n"
    "  -o FILE           write the result there instead of stdout (\"-\" = stdout)\n"
    "Inputs: UTF-8, one example per line, same number of lines in both files.  In plain text\n"
    "the escape \\n is a newline inside a summary (rougeLsum splits sentences on it) and \\\\ is\n"
    "a backslash.  Files named *.jsonl (or --input-format jsonl) hold one JSON string per line.\n"
    "Means are the plain per-example means (sum in order, then / count, as T5's rouge_mean).\n"
    "rouge-score's own flags (--target_filepattern=... --output_filename=...) are accepted too:\n"
    "see t5g score rouge --target_filepattern=x --help.\n";

typedef struct {
    size_t off, len;
} span;

typedef struct {
    char *buf; /* file contents, decoded in place */
    span *lines;
    size_t n;
} corpus;

enum { IN_AUTO, IN_TEXT, IN_JSONL };

/* Offset of the first byte that is not valid UTF-8 (Python's strict decoder), or -1. */
static long utf8_error_at(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else return (long)i;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n) return (long)i;
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF)) return (long)i;
        }
        i += k + 1;
    }
    return -1;
}

/* Plain-text line: \n -> newline, \\ -> backslash, in place; returns the new length. */
static size_t unescape_text(char *p, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n && (p[i + 1] == 'n' || p[i + 1] == '\\')) {
            p[o++] = p[i + 1] == 'n' ? '\n' : '\\';
            i++;
        } else {
            p[o++] = p[i];
        }
    }
    return o;
}

static int put_utf8(char *out, unsigned cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 63));
        out[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 63));
    out[2] = (char)(0x80 | ((cp >> 6) & 63));
    out[3] = (char)(0x80 | (cp & 63));
    return 4;
}

static int hex4(const char *p, size_t avail, unsigned *v) {
    if (avail < 4) return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        *v = *v * 16 + (unsigned)d;
    }
    return 0;
}

static int is_json_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One JSONL line holding a JSON string: decode it in place (never longer than the input).
 * A lone surrogate escape (accepted by Python's json) becomes U+FFFD: for ROUGE both are
 * separators.  Returns the decoded length, or -1 with *why set. */
static long decode_json_line(char *p, size_t n, const char **why) {
    size_t i = 0, o = 0;
    while (i < n && is_json_ws(p[i])) i++;
    if (i == n) {
        *why = "empty line (expected a JSON string)";
        return -1;
    }
    if (p[i] != '"') {
        *why = "expected a JSON string in double quotes";
        return -1;
    }
    for (i++;; i++) {
        if (i >= n) {
            *why = "unterminated JSON string";
            return -1;
        }
        char c = p[i];
        if (c == '"') break;
        if ((unsigned char)c < 0x20) {
            *why = "control character inside a JSON string (escape it)";
            return -1;
        }
        if (c != '\\') {
            p[o++] = c;
            continue;
        }
        if (++i >= n) {
            *why = "unterminated JSON string";
            return -1;
        }
        const char *esc = strchr("\"\\/bfnrt", p[i]);
        if (esc && p[i]) {
            p[o++] = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (p[i] != 'u' || hex4(p + i + 1, n - i - 1, &cp)) {
            *why = "invalid escape in JSON string";
            return -1;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < n && p[i + 1] == '\\' && p[i + 2] == 'u' &&
            !hex4(p + i + 3, n - i - 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        o += (size_t)put_utf8(p + o, cp);
    }
    for (i++; i < n; i++)
        if (!is_json_ws(p[i])) {
            *why = "extra text after the JSON string";
            return -1;
        }
    return (long)o;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Read one input file: split on "\n" (a final newline ends the last line), check UTF-8,
 * decode each line in place. */
static int read_corpus(const char *path, int informat, corpus *c) {
    memset(c, 0, sizeof *c);
    size_t len;
    c->buf = t5g_read_file(path, &len);
    if (!c->buf) return -1;
    int jsonl = informat == IN_JSONL || (informat == IN_AUTO && ends_with(path, ".jsonl"));
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += c->buf[i] == '\n';
    c->lines = t5g_malloc(cap * sizeof(span), "input lines");
    if (!c->lines) return -1;
    for (size_t start = 0; start < len;) {
        char *nl = memchr(c->buf + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - c->buf) : len, line = c->n + 1;
        long bad = utf8_error_at((const unsigned char *)c->buf + start, end - start);
        T5G_CHECK(bad < 0, "%s:%zu: invalid UTF-8 at byte %ld of the line (files must be UTF-8)", path, line, bad + 1);
        size_t n = end - start;
        if (jsonl) {
            const char *why = NULL;
            long d = decode_json_line(c->buf + start, n, &why);
            T5G_CHECK(d >= 0, "%s:%zu: malformed JSONL: %s", path, line, why);
            n = (size_t)d;
        } else {
            n = unescape_text(c->buf + start, n);
        }
        c->lines[c->n++] = (span){start, n};
        start = end + 1;
    }
    return 0;
}

static void corpus_free(corpus *c) {
    free(c->buf);
    free(c->lines);
}

typedef struct {
    const char *targets, *predictions, *types, *per_example, *output;
    int stem, json, informat, bootstrap;
    uint32_t seed;
    double confidence;
    rouge_type types_v[ROUGE_MAX_TYPES];
    int ntypes;
} options;

static int parse_number(const char *opt, const char *v, double lo, double hi, const char *what, double *out) {
    char *end;
    double x = strtod(v, &end);
    T5G_CHECK(*v && !*end && x >= lo && x <= hi, "%s expects %s, got '%s'", opt, what, v);
    *out = x;
    return 0;
}

/* Returns 0 ok, -1 error (recorded), 1 help shown. */
static int parse_args(int argc, char **argv, options *o) {
    *o = (options){.types = "rouge1,rouge2,rougeL,rougeLsum", .confidence = 0.95};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
        if (!strcmp(a, "--stem") || !strcmp(a, "--use-stemmer")) {
            o->stem = 1;
            continue;
        }
        T5G_CHECK(i + 1 < argc, "option %s needs a value (see --help)", a);
        const char *v = argv[++i];
        double x;
        if (!strcmp(a, "--targets")) o->targets = v;
        else if (!strcmp(a, "--predictions")) o->predictions = v;
        else if (!strcmp(a, "--types")) o->types = v;
        else if (!strcmp(a, "--per-example")) o->per_example = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) o->output = v;
        else if (!strcmp(a, "--confidence")) T5G_TRY(parse_number(a, v, 0, 1, "a number in [0, 1]", &o->confidence));
        else if (!strcmp(a, "--bootstrap")) {
            T5G_TRY(parse_number(a, v, 1, 1e7, "a whole number of samples in 1..10000000", &x));
            T5G_CHECK(x == (int)x, "--bootstrap expects a whole number of samples, got '%s'", v);
            o->bootstrap = (int)x;
        } else if (!strcmp(a, "--seed")) {
            T5G_TRY(parse_number(a, v, 0, 4294967295.0, "an integer 0..4294967295 (numpy's seed range)", &x));
            T5G_CHECK(x == (double)(uint32_t)x, "--seed expects an integer 0..4294967295, got '%s'", v);
            o->seed = (uint32_t)x;
        } else if (!strcmp(a, "--format")) {
            T5G_CHECK(!strcmp(v, "text") || !strcmp(v, "json"), "--format must be text or json, got '%s'", v);
            o->json = !strcmp(v, "json");
        } else if (!strcmp(a, "--input-format")) {
            if (!strcmp(v, "auto")) o->informat = IN_AUTO;
            else if (!strcmp(v, "text")) o->informat = IN_TEXT;
            else if (!strcmp(v, "jsonl")) o->informat = IN_JSONL;
            else return T5G_FAIL("--input-format must be auto, text or jsonl, got '%s'", v);
        } else return T5G_FAIL("unknown option '%s' (see t5g score rouge --help)", a);
    }
    T5G_CHECK(o->targets && o->predictions, "--targets and --predictions are required (see --help)");
    return rouge_parse_types(o->types, o->types_v, ROUGE_MAX_TYPES, &o->ntypes);
}

static void put_repr(FILE *f, double x) {
    char b[40];
    py_repr_double(x, b, sizeof b, 0);
    fputs(b, f);
}

static void text_line(FILE *f, const char *type, const char *what, rouge_score x) {
    fprintf(f, "%s %s P ", type, what);
    put_repr(f, x.precision);
    fputs(" R ", f);
    put_repr(f, x.recall);
    fputs(" F ", f);
    put_repr(f, x.fmeasure);
    fputc('\n', f);
}

/* {"precision": p, "recall": r, "fmeasure": f} at json.dumps indent=1 depth d. */
static void json_score(FILE *f, int d, const char *key, rouge_score x, int last) {
    const char *names[3] = {"precision", "recall", "fmeasure"};
    double v[3] = {x.precision, x.recall, x.fmeasure};
    fprintf(f, "%*s\"%s\": {\n", d, "", key);
    for (int i = 0; i < 3; i++) {
        fprintf(f, "%*s\"%s\": ", d + 1, "", names[i]);
        put_repr(f, v[i]);
        fputs(i < 2 ? ",\n" : "\n", f);
    }
    fprintf(f, "%*s}%s\n", d, "", last ? "" : ",");
}

static void write_report(FILE *f, const options *o, const rouge_type *types, int nt, size_t n, const rouge_score *mean,
                         const rouge_interval *ci) {
    char name[16];
    if (!o->json) {
        for (int t = 0; t < nt; t++) {
            rouge_type_name(types[t], name, sizeof name);
            text_line(f, name, "mean", mean[t]);
            if (ci)
                text_line(f, name, "low", ci[t].low), text_line(f, name, "mid", ci[t].mid),
                    text_line(f, name, "high", ci[t].high);
        }
        return;
    }
    fprintf(f, "{\n \"examples\": %zu,\n \"use_stemmer\": %s,\n \"scores\": {\n", n, o->stem ? "true" : "false");
    for (int t = 0; t < nt; t++) json_score(f, 2, rouge_type_name(types[t], name, sizeof name), mean[t], t == nt - 1);
    fprintf(f, " }%s\n", ci ? "," : "");
    if (ci) {
        fprintf(f,
                " \"bootstrap\": {\n  \"n_samples\": %d,\n  \"seed\": %u,\n  \"confidence_interval\": ", o->bootstrap,
                (unsigned)o->seed);
        put_repr(f, o->confidence);
        fputs(",\n  \"scores\": {\n", f);
        for (int t = 0; t < nt; t++) {
            fprintf(f, "   \"%s\": {\n", rouge_type_name(types[t], name, sizeof name));
            json_score(f, 4, "low", ci[t].low, 0);
            json_score(f, 4, "mid", ci[t].mid, 0);
            json_score(f, 4, "high", ci[t].high, 1);
            fprintf(f, "   }%s\n", t == nt - 1 ? "" : ",");
        }
        fputs("  }\n }\n", f);
    }
    fputs("}\n", f);
}

/* Output file.  "-" is stdout; an existing file that is not a regular one (/dev/null, a
 * FIFO) is written in place, because t5g_out_open's temp file + rename would replace it. */
typedef struct {
    t5g_outfile out;
    FILE *direct;
} sink;

static FILE *sink_open(sink *k, const char *path) {
    struct stat st;
    memset(k, 0, sizeof *k);
    if (!strcmp(path, "-")) return k->direct = stdout;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        k->direct = fopen(path, "w");
        T5G_CHECK_NULL(k->direct, "cannot write %s", path);
        return k->direct;
    }
    return t5g_out_open(&k->out, path, "w") ? NULL : k->out.f;
}

static int sink_close(sink *k, const char *path) {
    if (!k->direct) return t5g_out_commit(&k->out);
    int bad = fflush(k->direct) != 0 || ferror(k->direct);
    if (k->direct != stdout) bad |= fclose(k->direct) != 0;
    T5G_CHECK(!bad, "write error on %s", path);
    return 0;
}

/* Drop an output that is not to be kept: a temp file is removed, a direct one closed. */
static void sink_abort(sink *k) {
    if (!k->direct) t5g_out_abort(&k->out);
    else if (k->direct != stdout) fclose(k->direct);
}

static void write_per_example(FILE *f, const rouge_type *types, int nt, size_t n, const rouge_score *rows) {
    char name[16];
    fputs("id", f);
    for (int t = 0; t < nt; t++) {
        rouge_type_name(types[t], name, sizeof name);
        fprintf(f, ",%s-P,%s-R,%s-F", name, name, name);
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", i);
        for (int t = 0; t < nt; t++) {
            const rouge_score *x = &rows[i * (size_t)nt + (size_t)t];
            fputc(',', f), put_repr(f, x->precision);
            fputc(',', f), put_repr(f, x->recall);
            fputc(',', f), put_repr(f, x->fmeasure);
        }
        fputc('\n', f);
    }
}

/* The per-example file (if asked) and the report: both are opened (temp files) before either
 * is renamed into place, so a failure to open the second leaves neither behind. */
static int write_outputs(const options *o, const rouge_type *types, int nt, size_t n, const rouge_score *rows,
                         const rouge_score *mean, const rouge_interval *ci) {
    sink pk, rk;
    FILE *pf = o->per_example ? sink_open(&pk, o->per_example) : NULL;
    if (o->per_example && !pf) return -1;
    FILE *rf = sink_open(&rk, o->output ? o->output : "-");
    if (!rf) {
        if (pf) sink_abort(&pk);
        return -1;
    }
    if (pf) write_per_example(pf, types, nt, n, rows);
    write_report(rf, o, types, nt, n, mean, ci);
    if (pf && sink_close(&pk, o->per_example)) {
        sink_abort(&rk);
        return -1;
    }
    return sink_close(&rk, o->output ? o->output : "stdout");
}

/* Score every pair, then write the per-example file and the report. */
static int run(const options *o) {
    const rouge_type *types = o->types_v;
    int nt = o->ntypes;
    corpus tc, pc;
    int rc = -1;
    rouge_scorer *s = NULL;
    rouge_score *rows = NULL, mean[ROUGE_MAX_TYPES];
    rouge_interval ci[ROUGE_MAX_TYPES];
    memset(&pc, 0, sizeof pc);
    if (read_corpus(o->targets, o->informat, &tc) || read_corpus(o->predictions, o->informat, &pc)) goto done;
    if (tc.n != pc.n) {
        T5G_FAIL("%s has %zu examples but %s has %zu (one example per line in both)", o->targets, tc.n, o->predictions,
                 pc.n);
        goto done;
    }
    if (!tc.n) {
        T5G_FAIL("no examples in %s (empty file)", o->targets);
        goto done;
    }
    rows = t5g_malloc(tc.n * (size_t)nt * sizeof *rows, "ROUGE scores");
    s = rows ? rouge_scorer_new(types, nt, o->stem) : NULL;
    if (!s) goto done;
    for (size_t i = 0; i < tc.n; i++)
        if (rouge_score_pair(s, tc.buf + tc.lines[i].off, tc.lines[i].len, pc.buf + pc.lines[i].off, pc.lines[i].len,
                             rows + i * (size_t)nt))
            goto done;
    if (rouge_mean(rows, tc.n, nt, mean)) goto done;
    if (o->bootstrap && rouge_bootstrap(rows, tc.n, nt, o->bootstrap, o->confidence, o->seed, ci)) goto done;
    rc = write_outputs(o, types, nt, tc.n, rows, mean, o->bootstrap ? ci : NULL);
done:
    rouge_scorer_free(s);
    free(rows);
    corpus_free(&tc);
    corpus_free(&pc);
    return rc;
}

int rouge_cli_main(int argc, char **argv) {
    options o;
    if (!argv || argc < 1) return 2;
    if (rouge_compat_wanted(argc, argv)) return rouge_compat_main(argc, argv);
    int r = parse_args(argc, argv, &o);
    if (r) return score_parse_exit(r, USAGE);
    return score_run_exit(run(&o));
}
