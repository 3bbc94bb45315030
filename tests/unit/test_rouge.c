/* test_rouge.c - rouge-score 0.1.2 port: hand-checked cases (from the project's metric specification, R1-R12; expected values written here),
 * the parity corpus made with the real rouge-score + nltk + numpy
 * (tests/reference/make_rouge_fixtures.py), the CLI's printed digits, and bad input. */
#include "testutil.h"
#include "cli/score.h"
#include "eval/rouge.h"
#include "core/err.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* ---------- helpers ---------- */

static rouge_scorer *scorer(const char *types, int stem) {
    rouge_type t[ROUGE_MAX_TYPES];
    int n;
    if (rouge_parse_types(types, t, ROUGE_MAX_TYPES, &n)) return NULL;
    return rouge_scorer_new(t, n, stem);
}

/* Score target/prediction with the listed types; out gets one score per type. */
static int score(const char *types, int stem, const char *tgt, const char *pred, rouge_score *out) {
    rouge_scorer *s = scorer(types, stem);
    if (!s) return -1;
    int rc = rouge_score_pair(s, tgt, strlen(tgt), pred, strlen(pred), out);
    rouge_scorer_free(s);
    return rc;
}

static int same(rouge_score x, double p, double r, double f) {
    if (x.precision == p && x.recall == r && x.fmeasure == f) return 1;
    fprintf(stderr, "\n  got P %.17g R %.17g F %.17g, want %.17g %.17g %.17g", x.precision, x.recall,
            x.fmeasure, p, r, f);
    return 0;
}

static int same_f(rouge_score x, double f) {
    if (x.fmeasure == f) return 1;
    fprintf(stderr, "\n  got F %.17g, want %.17g", x.fmeasure, f);
    return 0;
}

/* Unique temp file name in buf (512 bytes). */
static char *tmp_path(char *buf, const char *name) {
    snprintf(buf, 512, "/tmp/t5g_test_rouge_%d_%s", (int)getpid(), name);
    return buf;
}

static void write_file(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

#define WRITE_LIT(path, lit) write_file(path, lit, sizeof(lit) - 1)

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Run the CLI with a NULL-terminated argument list (argv[0] = "rouge"). */
static int cli(const char *first, ...) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = "rouge";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    t5g_clear_error();
    return rouge_cli_main(argc, argv);
}

/* ---------- spec tables ---------- */

static void test_tokenizer(void) {
    static const char *const t[][2] = {
        {"Café", "caf"}, {"naïve", "na ve"}, {"don't", "don t"}, {"$1,000.", "1 000"}, {"K-9", "k 9"},
        {"İstanbul", "i stanbul"}, {"\xe2\x84\xaa", "k"}, {"a\xe2\x84\xaa" "b", "akb"},
        {"snake_case", "snake case"}, {"3.14", "3 14"}, {"  ", ""}, {"", ""},
        {"Hello\nWORLD\r\n", "hello world"}, {"a\0b", "a b"}, {"\xff\xfe x", "x"}};
    rouge_scorer *s = scorer("rouge1", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char buf[256];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t len = i == 13 ? 3 : strlen(t[i][0]);
        CU_ASSERT_EQUAL_FATAL(rouge_tokens_string(s, t[i][0], len, buf, sizeof buf), 0);
        if (strcmp(buf, t[i][1])) fprintf(stderr, "\n  tokens(%s) = '%s', want '%s'", t[i][0], buf, t[i][1]);
        CU_ASSERT_STRING_EQUAL(buf, t[i][1]);
    }
    rouge_scorer_free(s);
    /* stemming only for tokens of more than 3 chars */
    s = scorer("rouge1", 1);
    CU_ASSERT_EQUAL(rouge_tokens_string(s, "Dies ies ran running 1990s cats cat", 35, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "die ies ran run 1990 cat cat");
    CU_ASSERT_EQUAL(rouge_tokens_string(s, "abc def", 7, buf, 5), -1); /* buffer too small */
    rouge_scorer_free(s);
}

static void test_types(void) {
    rouge_type t[ROUGE_MAX_TYPES];
    int n;
    char name[16];
    CU_ASSERT_EQUAL(rouge_parse_types("rouge1,rouge9,rougeL,rougeLsum,rouge1", t, ROUGE_MAX_TYPES, &n), 0);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(rouge_type_name(t[1], name, sizeof name), "rouge9");
    CU_ASSERT_STRING_EQUAL(rouge_type_name(t[3], name, sizeof name), "rougeLsum");
    const char *bad[] = {"rouge0", "rouge10", "rougen", "rougeLSum", "", "rouge1,", "bleu"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(rouge_parse_types(bad[i], t, ROUGE_MAX_TYPES, &n), -1);
    CU_ASSERT_PTR_NULL(rouge_scorer_new(t, 0, 0));
    rouge_type wrong = {ROUGE_N, 0};
    CU_ASSERT_PTR_NULL(rouge_scorer_new(&wrong, 1, 0));
}

/* hand-checked cases R1-R12 */
static void test_spec_cases(void) {
    rouge_score o[4];
    const double third = 0.3333333333333333, two3 = 0.6666666666666666;
    CU_ASSERT_EQUAL_FATAL(score("rouge1,rouge2,rougeL", 0, "testing one two", "testing", o), 0); /* R1 */
    CU_ASSERT(same(o[0], 1.0, third, 0.5));
    CU_ASSERT(same(o[1], 0, 0, 0));
    CU_ASSERT(same(o[2], 1.0, third, 0.5));
    score("rouge1,rouge2", 0, "The cats are running quickly.", "the cat runs quick", o); /* R2 */
    CU_ASSERT(same(o[0], 0.25, 0.2, 0.22222222222222224));
    CU_ASSERT(same(o[1], 0, 0, 0));
    score("rouge1,rouge2", 1, "The cats are running quickly.", "the cat runs quick", o); /* R2s */
    CU_ASSERT(same(o[0], 0.75, 0.6, 0.6666666666666665));
    CU_ASSERT(same(o[1], third, 0.25, 0.28571428571428575));
    score("rougeL,rougeLsum", 0, "a b c\nd e f", "d e f\na b c", o); /* R3 */
    CU_ASSERT(same_f(o[0], 0.5));
    CU_ASSERT(same_f(o[1], 1.0));
    score("rougeLsum", 0, "w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", o); /* R4 */
    CU_ASSERT(same(o[0], 0.4, 0.8, 0.5333333333333333));
    score("rouge1,rouge2", 0, "Café au lait", "cafe au lait", o); /* R5 */
    CU_ASSERT(same_f(o[0], two3));
    CU_ASSERT(same_f(o[1], 0.5));
    score("rouge1,rouge2", 0, "It cost $1,000.", "it cost 1000", o); /* R6 */
    CU_ASSERT(same(o[0], two3, 0.5, 0.5714285714285715));
    CU_ASSERT(same_f(o[1], 0.4));
    score("rouge1,rouge2,rougeL", 0, "the the cat", "the the the the", o); /* R7 */
    CU_ASSERT(same(o[0], 0.5, two3, 0.5714285714285715));
    CU_ASSERT(same_f(o[1], 0.4));
    CU_ASSERT(same_f(o[2], 0.5714285714285715));
    score("rouge1,rouge2,rougeL", 0, "hello", "hello", o); /* R8 */
    CU_ASSERT(same(o[0], 1, 1, 1));
    CU_ASSERT(same(o[1], 0, 0, 0));
    CU_ASSERT(same(o[2], 1, 1, 1));
    score("rouge1,rouge2,rougeL,rougeLsum", 0, "w1 w2 w3", "", o); /* R9 */
    for (int i = 0; i < 4; i++) CU_ASSERT(same(o[i], 0, 0, 0));
    score("rouge1,rouge2,rougeL", 1, "He dies; she died.", "he died, she dies", o); /* R10 */
    for (int i = 0; i < 3; i++) CU_ASSERT(same(o[i], 1, 1, 1));
    score("rouge1,rouge2,rougeL", 0, "He dies; she died.", "he died, she dies", o);
    CU_ASSERT(same_f(o[0], 1.0));
    CU_ASSERT(same_f(o[1], 0.0));
    CU_ASSERT(same_f(o[2], 0.5));
    score("rougeL,rougeLsum", 0, "x y z\nx y", "y x\nz y x", o); /* R11: the tie rule */
    CU_ASSERT(same_f(o[0], 0.6));
    CU_ASSERT(same(o[1], 0.4, 0.4, 0.4000000000000001));
    score("rougeLsum", 1, "First sentence.\nSecond Sentence.", "Second sentence.\nFirst Sentence.", o); /* R12 */
    CU_ASSERT(same_f(o[0], 1.0));
    score("rougeLsum", 1, "First sentence. Second Sentence.", "Second sentence. First Sentence.", o);
    CU_ASSERT(same_f(o[0], 0.5));
    /* rougeLsum without "\n" equals rougeL; whitespace-only sentences change nothing */
    score("rougeL,rougeLsum", 0, "a b c d", "d c a b", o);
    CU_ASSERT(o[0].fmeasure == o[1].fmeasure);
    score("rougeLsum", 0, " \n\na b\n \n", "b a\n\n", o);
    rouge_score o2[1];
    score("rougeLsum", 0, "a b", "b a", o2);
    CU_ASSERT(same(o[0], o2[0].precision, o2[0].recall, o2[0].fmeasure));
    /* n larger than both texts: no n-grams, all zero */
    score("rouge9", 0, "a b c", "a b c", o);
    CU_ASSERT(same(o[0], 0, 0, 0));
}

/* R13: mean of two pairs x 100 (T5 rouge_mean), and the aggregation API's checks */
static void test_mean(void) {
    rouge_score rows[6], mean[3];
    CU_ASSERT_EQUAL(score("rouge1,rouge2,rougeL", 0, "the cat sat on the mat", "the cat sat", rows), 0);
    CU_ASSERT_EQUAL(score("rouge1,rouge2,rougeL", 0, "hello world", "goodbye world", rows + 3), 0);
    CU_ASSERT_EQUAL_FATAL(rouge_mean(rows, 2, 3, mean), 0);
    CU_ASSERT_EQUAL(mean[0].fmeasure * 100, 58.33333333333333);
    CU_ASSERT_EQUAL(mean[1].fmeasure * 100, 28.571428571428577);
    CU_ASSERT_EQUAL(mean[2].fmeasure * 100, 58.33333333333333);
    CU_ASSERT_EQUAL(rouge_mean(rows, 0, 3, mean), -1);
    rouge_interval ci[3];
    CU_ASSERT_EQUAL(rouge_bootstrap(rows, 2, 3, 0, 0.95, 0, ci), -1);
    CU_ASSERT_EQUAL(rouge_bootstrap(rows, 2, 3, 10, 1.5, 0, ci), -1);
    CU_ASSERT_EQUAL(rouge_bootstrap(rows, 0, 3, 10, 0.95, 0, ci), -1);
    /* one example: every resample is that example */
    CU_ASSERT_EQUAL_FATAL(rouge_bootstrap(rows, 1, 3, 5, 0.95, 3, ci), 0);
    CU_ASSERT(same(ci[0].low, rows[0].precision, rows[0].recall, rows[0].fmeasure));
    CU_ASSERT(same(ci[0].high, rows[0].precision, rows[0].recall, rows[0].fmeasure));
}

/* ---------- parity corpus (real rouge-score 0.1.2 + nltk) ---------- */

static char *fixture(const char *name) {
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, 1024, "%s/rouge/%s", fixtures_dir(), name);
    return b;
}

/* Split s in place on sep; returns the number of fields. */
static size_t split(char *s, char sep, char **f, size_t max) {
    size_t n = 0;
    for (char *p = s; n < max;) {
        f[n++] = p;
        p = strchr(p, sep);
        if (!p) break;
        *p++ = 0;
    }
    return n;
}

/* Per-example P/R/F of every type, with and without stemming, through the CLI's
 * --per-example CSV: the repr strings must equal Python's (so the doubles are equal). */
static void test_parity_per_example(void) {
    char *exp = read_all(fixture("parity.expected.tsv"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
    char *hdr_end = strchr(exp, '\n');
    CU_ASSERT_FATAL(exp[0] == '#' && hdr_end);
    *hdr_end = 0;
    char *cols[128];
    size_t ncols = split(exp + 1, '\t', cols, 128);
    /* column names "nostem:rouge1-P": collect the type list of the first half */
    char types[256] = "";
    for (size_t c = 0; c < ncols / 2; c += 3) {
        char *colon = strchr(cols[c], ':'), *dash = strrchr(cols[c], '-');
        CU_ASSERT_FATAL(colon && dash);
        strncat(types, colon + 1, (size_t)(dash - colon - 1));
        if (c + 3 < ncols / 2) strcat(types, ",");
    }
    char **lines = malloc(20000 * sizeof *lines);
    size_t nex = split(hdr_end + 1, '\n', lines, 20000);
    if (nex && !*lines[nex - 1]) nex--;
    CU_ASSERT(nex >= 2000);
    size_t checked = 0, differ = 0;
    double maxdiff = 0;
    for (int stem = 0; stem < 2; stem++) {
        char csv[512], rep[512];
        tmp_path(csv, "per_example.csv"), tmp_path(rep, "report.txt");
        int rc = stem ? cli("--targets", fixture("parity.targets.jsonl"), "--predictions",
                            fixture("parity.predictions.jsonl"), "--types", types, "--stem", "--per-example",
                            csv, "-o", rep, NULL)
                      : cli("--targets", fixture("parity.targets.jsonl"), "--predictions",
                            fixture("parity.predictions.jsonl"), "--types", types, "--per-example", csv, "-o", rep,
                            NULL);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        char *got = read_all(csv);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        char **glines = malloc(20000 * sizeof *glines);
        size_t ng = split(got, '\n', glines, 20000);
        CU_ASSERT_EQUAL(ng, nex + 2); /* header + rows + final empty */
        for (size_t i = 0; i < nex && i + 1 < ng; i++) {
            char ebuf[4096], *ef[128], *gf[128];
            snprintf(ebuf, sizeof ebuf, "%s", lines[i]);
            size_t ne = split(ebuf, '\t', ef, 128), nf = split(glines[i + 1], ',', gf, 128);
            CU_ASSERT_FATAL(ne == ncols && nf == ncols / 2 + 1);
            for (size_t c = 0; c < ncols / 2; c++) {
                const char *e = ef[stem * ncols / 2 + c], *g = gf[c + 1];
                double d = fabs(strtod(e, NULL) - strtod(g, NULL));
                maxdiff = d > maxdiff ? d : maxdiff;
                if (strcmp(e, g) && differ++ < 10)
                    fprintf(stderr, "\n  example %zu %s: C %s, Python %s", i, cols[stem * ncols / 2 + c], g, e);
                checked++;
            }
        }
        free(glines);
        free(got);
        unlink(csv);
        unlink(rep);
    }
    fprintf(stderr, "\n  %zu values over %zu examples, %zu differ, max |diff| %g ", checked, nex, differ, maxdiff);
    CU_ASSERT(maxdiff <= 1e-12);
    CU_ASSERT_EQUAL(differ, 0);
    free(lines);
    free(exp);
}

/* Printed means and bootstrap intervals, byte for byte, for the cases in cli_cases.json. */
static void test_parity_printed(void) {
    char *man = read_all(fixture("cli_cases.json"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(man);
    cJSON *cases = cJSON_Parse(man);
    CU_ASSERT_FATAL(cJSON_IsArray(cases) && cJSON_GetArraySize(cases) >= 4);
    cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        char *argv[64];
        int argc = 0;
        argv[argc++] = "rouge";
        cJSON *a;
        int next_is_file = 0;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(c, "args")) {
            const char *v = a->valuestring;
            argv[argc++] = next_is_file ? fixture(v) : (char *)v;
            next_is_file = !strcmp(v, "--targets") || !strcmp(v, "--predictions");
        }
        char out[512];
        tmp_path(out, "printed.txt");
        argv[argc++] = "-o";
        argv[argc++] = (char *)out;
        argv[argc] = NULL;
        CU_ASSERT_EQUAL_FATAL(rouge_cli_main(argc, argv), 0);
        const char *name = cJSON_GetObjectItem(c, "expected")->valuestring;
        char *want = read_all(fixture(name)), *got = read_all(out);
        CU_ASSERT_FATAL(want && got);
        if (strcmp(want, got)) fprintf(stderr, "\n  %s differs:\n--- C\n%s--- Python\n%s", name, got, want);
        CU_ASSERT_STRING_EQUAL(got, want);
        free(want);
        free(got);
        unlink(out);
    }
    cJSON_Delete(cases);
    free(man);
}

/* BootstrapAggregator alone on stored rows: numpy's RNG stream, column means and
 * percentile interpolation must give the same doubles (bootstrap.tsv). */
static void test_bootstrap_numpy(void) {
    char *txt = read_all(fixture("bootstrap.tsv"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    char **lines = malloc(2000 * sizeof *lines);
    size_t nl = split(txt, '\n', lines, 2000), nrows = 0, li = 1;
    CU_ASSERT_FATAL(sscanf(lines[0], "#rows %zu", &nrows) == 1 && nrows + 1 < nl);
    rouge_score *rows = malloc(nrows * 2 * sizeof *rows);
    for (size_t i = 0; i < nrows; i++, li++) {
        double v[6];
        CU_ASSERT_FATAL(sscanf(lines[li], "%lf %lf %lf %lf %lf %lf", v, v + 1, v + 2, v + 3, v + 4, v + 5) == 6);
        rows[2 * i] = (rouge_score){v[0], v[1], v[2]};
        rows[2 * i + 1] = (rouge_score){v[3], v[4], v[5]};
    }
    int ncases = 0, bad = 0;
    for (; li + 1 < nl && lines[li][0] == '#'; li += 2, ncases++) {
        unsigned long seed;
        int n;
        double ci;
        size_t nr;
        CU_ASSERT_FATAL(sscanf(lines[li], "#case %lu %d %lf %zu", &seed, &n, &ci, &nr) == 4);
        rouge_interval out[2];
        CU_ASSERT_EQUAL_FATAL(rouge_bootstrap(rows, nr, 2, n, ci, (uint32_t)seed, out), 0);
        double got[18], *g = got;
        for (int t = 0; t < 2; t++) {
            rouge_score w[3] = {out[t].low, out[t].mid, out[t].high};
            for (int k = 0; k < 3; k++) *g++ = w[k].precision, *g++ = w[k].recall, *g++ = w[k].fmeasure;
        }
        char *p = lines[li + 1];
        for (int k = 0; k < 18; k++) {
            double want = strtod(p, &p);
            if (want != got[k] && bad++ < 10)
                fprintf(stderr, "\n  %s value %d: C %.17g, numpy %.17g", lines[li], k, got[k], want);
        }
    }
    CU_ASSERT(ncases >= 9);
    CU_ASSERT_EQUAL(bad, 0);
    free(rows);
    free(lines);
    free(txt);
}

/* ---------- input formats ---------- */

static void test_input_formats(void) {
    char tj[512], pt[512], out[512], pe[512];
    tmp_path(tj, "t.jsonl"), tmp_path(pt, "p.txt"), tmp_path(out, "o.txt"), tmp_path(pe, "pe.csv");
    /* JSONL escapes (\u0041, surrogate pair, lone surrogate, \u0000, \n) vs text escapes */
    const char jl[] = "\"\\u0041b\\nc d\"\n  \"x\\ud83d\\ude00y\\ud800z\"  \n\"p\\u0000q\\\\nr\"\n";
    write_file(tj, jl, sizeof jl - 1);
    const char tx[] = "ab\\nc d\nx y z\np q\\\\nr";
    write_file(pt, tx, sizeof tx - 1);
    CU_ASSERT_EQUAL_FATAL(cli("--targets", tj, "--predictions", pt, "--types", "rouge1,rouge2,rougeL,rougeLsum",
                              "--per-example", pe, "-o", out, NULL), 0);
    char *got = read_all(pe);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    const char *want =
        "id,rouge1-P,rouge1-R,rouge1-F,rouge2-P,rouge2-R,rouge2-F,rougeL-P,rougeL-R,rougeL-F,"
        "rougeLsum-P,rougeLsum-R,rougeLsum-F\n"
        "0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0\n"
        "1,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0\n"
        "2,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0\n";
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
    /* the "\n" really splits sentences: rougeLsum differs from rougeL here */
    WRITE_LIT(tj, "\"a b\\nc d\"\n");
    WRITE_LIT(pt, "c d a b\n");
    CU_ASSERT_EQUAL_FATAL(cli("--targets", tj, "--predictions", pt, "--types", "rougeL,rougeLsum", "-o", out,
                              NULL), 0);
    got = read_all(out);
    CU_ASSERT_STRING_EQUAL(got, "rougeL mean P 0.5 R 0.5 F 0.5\nrougeLsum mean P 1.0 R 1.0 F 1.0\n");
    free(got);
    /* --input-format jsonl also reads a .txt name as JSONL */
    WRITE_LIT(pt, "\"c d a b\"\n");
    CU_ASSERT_EQUAL(cli("--targets", tj, "--predictions", pt, "--input-format", "jsonl", "--types", "rouge1",
                        "--format", "json", "-o", out, NULL), 0);
    got = read_all(out);
    CU_ASSERT_STRING_EQUAL(got, "{\n \"examples\": 1,\n \"use_stemmer\": false,\n \"scores\": {\n  \"rouge1\": {\n"
                                "   \"precision\": 1.0,\n   \"recall\": 1.0,\n   \"fmeasure\": 1.0\n  }\n }\n}\n");
    free(got);
    unlink(tj), unlink(pt), unlink(out), unlink(pe);
}

/* ---------- bad input ---------- */

/* Expect exit status rc and an error message containing each of the given words. */
static void expect_error(int got_rc, int rc, const char *w1, const char *w2) {
    const char *msg = t5g_last_error();
    CU_ASSERT_EQUAL(got_rc, rc);
    if ((w1 && !strstr(msg, w1)) || (w2 && !strstr(msg, w2)))
        fprintf(stderr, "\n  error '%s' lacks '%s'/'%s'", msg, w1 ? w1 : "", w2 ? w2 : "");
    CU_ASSERT(!w1 || strstr(msg, w1) != NULL);
    CU_ASSERT(!w2 || strstr(msg, w2) != NULL);
}

static void test_bad_input(void) {
    char t[512], p[512], out[512], tj[512], missing[512];
    tmp_path(t, "bt.txt"), tmp_path(p, "bp.txt"), tmp_path(out, "bo.txt"), tmp_path(tj, "bt.jsonl");
    tmp_path(missing, "missing");
    unlink(out);
    WRITE_LIT(t, "a\nb\nc\n");
    WRITE_LIT(p, "a\nb\n");
    expect_error(cli("--targets", t, "--predictions", p, "-o", out, NULL), 1, "3 examples", "2");
    CU_ASSERT_EQUAL(access(out, F_OK), -1); /* nothing written on error */
    WRITE_LIT(p, "a\n\xff\xfe\nc\n");
    expect_error(cli("--targets", t, "--predictions", p, NULL), 1, "bp.txt:2:", "UTF-8");
    WRITE_LIT(p, "a\nb\nok \xed\xa0\x80 surrogate\n"); /* UTF-8-encoded surrogate */
    expect_error(cli("--targets", t, "--predictions", p, NULL), 1, "bp.txt:3:", "byte 4");
    WRITE_LIT(p, "a\nb\n\xe2\x82"); /* truncated sequence at end of file */
    expect_error(cli("--targets", t, "--predictions", p, NULL), 1, ":3:", "UTF-8");
    WRITE_LIT(p, "a\nb\n\xc0\xaf\n"); /* overlong */
    expect_error(cli("--targets", t, "--predictions", p, NULL), 1, ":3:", "UTF-8");
    static const char *const badjson[][2] = {
        {"\"a\"\n{\"text\": \"b\"}\n\"c\"\n", "double quotes"}, {"\"a\"\n\"b\n\"c\"\n", "unterminated"},
        {"\"a\"\n\"b\\q\"\n\"c\"\n", "escape"},                {"\"a\"\n\"b\" x\n\"c\"\n", "extra text"},
        {"\"a\"\n\n\"c\"\n", "empty line"},                     {"\"a\"\n\"b\\u12\"\n\"c\"\n", "escape"},
        {"\"a\"\n\"b\tc\"\n\"c\"\n", "control character"}};
    for (size_t i = 0; i < sizeof badjson / sizeof badjson[0]; i++) {
        write_file(tj, badjson[i][0], strlen(badjson[i][0]));
        expect_error(cli("--targets", tj, "--predictions", t, NULL), 1, "bt.jsonl:2:", badjson[i][1]);
    }
    WRITE_LIT(t, "");
    WRITE_LIT(p, "");
    expect_error(cli("--targets", t, "--predictions", p, NULL), 1, "no examples", NULL);
    expect_error(cli("--targets", missing, "--predictions", p, NULL), 1, "missing", NULL);
    /* usage errors: exit 2 */
    expect_error(cli("--targets", t, NULL), 2, "--predictions", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--types", "rouge0", NULL), 2, "rouge0", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--bootstrap", "0", NULL), 2, "--bootstrap", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--bootstrap", "2.5", NULL), 2, "--bootstrap", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--seed", "-1", NULL), 2, "--seed", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--format", "xml", NULL), 2, "--format", NULL);
    expect_error(cli("--targets", t, "--predictions", p, "--frobnicate", "1", NULL), 2, "--frobnicate", NULL);
    WRITE_LIT(t, "a\n");
    WRITE_LIT(p, "a\n");
    expect_error(cli("--targets", t, "--predictions", p, "--per-example", "/tmp", NULL), 1, "cannot write /tmp",
                 NULL); /* not a regular file: written in place, never renamed over */
    expect_error(cli("--targets", t, "--predictions", p, "--per-example", "/nonexistent/dir/x.csv", NULL), 1,
                 "/nonexistent/dir", NULL);
    unlink(t), unlink(p), unlink(tj);
}

int main(void) {
    static CU_TestInfo tests[] = {{"tokenizer", test_tokenizer},
                                  {"types", test_types},
                                  {"spec cases R1-R12", test_spec_cases},
                                  {"mean R13 and aggregation args", test_mean},
                                  {"parity per-example P/R/F", test_parity_per_example},
                                  {"parity printed means and bootstrap", test_parity_printed},
                                  {"bootstrap = numpy BootstrapAggregator", test_bootstrap_numpy},
                                  {"input formats and escapes", test_input_formats},
                                  {"bad input", test_bad_input},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"rouge", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
