/* test_bleu.c - sacreBLEU 2.6.0 parity of eval/bleu.c and the Python str semantics of
 * eval/unicode.c.  Hand-checked tables are worked by hand from sacreBLEU 2.6's rules (docs/evaluation.md); the parity
 * fixtures (tests/fixtures/bleu) were produced by tests/reference/make_bleu_squad_fixtures.py
 * with the real sacreBLEU on CPython 3.11. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/bleu.h"
#include "eval/pyfmt.h"
#include "eval/unicode.h"
#include "core/err.h"
#include <math.h>
#include <stdint.h>

/* ================================================================ Unicode */

enum { F_SPACE = 1, F_ALNUM = 2, F_IGN = 4, F_CASED = 8 };

typedef struct {
    uint32_t cp;
    char low[16];
} lower_entry;

static int cmp_lower(const void *a, const void *b) {
    uint32_t x = ((const lower_entry *)a)->cp, y = ((const lower_entry *)b)->cp;
    return (x > y) - (x < y);
}

static void test_unicode_exhaustive(void) {
    size_t len;
    char *text = t5g_read_file(et_path("bleu", "unicode_ref.txt"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    uint8_t *flags = calloc(0x110000, 1), *rx = calloc(0x110000, 1);
    lower_entry *low = calloc(4096, sizeof *low);
    size_t nlow = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char kind[16], rest[256];
        unsigned a, b;
        if (line[0] == '#' || sscanf(line, "%15s %x %255s", kind, &a, rest) != 3) continue;
        if (!strcmp(kind, "lower")) {
            u8buf u = {0};
            char *save, *t = strtok_r(rest, ",", &save);
            for (; t; t = strtok_r(NULL, ",", &save)) u8buf_putcp(&u, (uint32_t)strtoul(t, NULL, 16));
            low[nlow].cp = a;
            memcpy(low[nlow++].low, u.p, u.n + 1);
            u8buf_free(&u);
            continue;
        }
        b = (unsigned)strtoul(rest, NULL, 16);
        for (unsigned c = a; c <= b; c++) {
            if (!strcmp(kind, "space")) flags[c] |= F_SPACE;
            else if (!strcmp(kind, "alnum")) flags[c] |= F_ALNUM;
            else if (!strcmp(kind, "ign")) flags[c] |= F_IGN;
            else if (!strcmp(kind, "cased")) flags[c] |= F_CASED;
            else if (!strcmp(kind, "rxP")) rx[c] = RX_P;
            else if (!strcmp(kind, "rxS")) rx[c] = RX_S;
            else if (!strcmp(kind, "rxN")) rx[c] = RX_N;
        }
    }
    CU_ASSERT(nlow > 1000);
    qsort(low, nlow, sizeof *low, cmp_lower);
    size_t bad[5] = {0};
    u8buf one = {0}, got = {0};
    for (uint32_t c = 0; c < 0x110000; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        int miss[5];
        miss[0] = py_isspace(c) != !!(flags[c] & F_SPACE);
        miss[1] = py_isalnum(c) != !!(flags[c] & F_ALNUM);
        miss[2] = c != 0x3A3 && (py_iscaseignorable(c) != !!(flags[c] & F_IGN) ||
                                 (!(flags[c] & F_IGN) && py_iscased(c) != !!(flags[c] & F_CASED)));
        miss[3] = rx_class(c) != rx[c];
        one.n = got.n = 0;
        u8buf_putcp(&one, c);
        py_lower(one.p, one.n, &got);
        u8buf_put(&got, "", 0);
        lower_entry key = {c, ""}, *e = bsearch(&key, low, nlow, sizeof *low, cmp_lower);
        miss[4] = strcmp(got.p, e ? e->low : one.p) != 0;
        for (int k = 0; k < 5; k++) {
            if (miss[k] && bad[k] < 3) fprintf(stderr, "  unicode mismatch kind %d at U+%04X\n", k, c);
            bad[k] += miss[k];
        }
    }
    for (int k = 0; k < 5; k++) CU_ASSERT_EQUAL(bad[k], 0);
    u8buf_free(&one);
    u8buf_free(&got);
    free(flags);
    free(rx);
    free(low);
    free(text);
}

static void expect_lower(const char *in, const char *want) {
    u8buf b = {0};
    CU_ASSERT_EQUAL(py_lower(in, strlen(in), &b), 0);
    u8buf_put(&b, "", 0);
    if (strcmp(b.p, want)) fprintf(stderr, "  lower(%s) = %s, want %s\n", in, b.p, want);
    CU_ASSERT_STRING_EQUAL(b.p, want);
    u8buf_free(&b);
}

static void test_unicode_ops(void) {
    /* final sigma (CPython handle_capital_sigma) and full lowercase of U+0130 */
    expect_lower("ΟΔΟΣ", "οδος");
    expect_lower("ΣΟΦΟΣ ΣΑ", "σοφος σα");
    expect_lower("Σ", "σ");
    expect_lower("ΑΣ'", "ας'");
    expect_lower("ΑΣ'Α", "ασ'α");
    expect_lower("Α\xC2\xADΣ", "α\xC2\xADς");
    expect_lower("İstanbul", "i\xCC\x87stanbul");
    expect_lower("\xE2\x84\xAA", "k");  /* KELVIN SIGN */
    expect_lower("ẞ Ǆ ǅ", "ß ǆ ǆ");
    /* whitespace set of str.split / rstrip */
    const char *s = "a\xC2\xA0" "b\xE2\x80\x8B" "c\xE3\x80\x80 \t\xC2\x85";
    CU_ASSERT_EQUAL(py_rstrip_len(s, strlen(s)), strlen(s) - 7);
    u8buf j = {0};
    py_split_join(s, strlen(s), &j);
    CU_ASSERT_STRING_EQUAL(j.p, "a b\xE2\x80\x8B" "c");  /* ZWSP is not whitespace */
    u8buf_free(&j);
    CU_ASSERT_EQUAL(py_lstrip_off("\xE2\x80\xA8 x", 5), 4);
    /* UTF-8 validation as Python's strict codec */
    struct { const char *s; size_t n; int ok; size_t at; } v[] = {
        {"abc", 3, 1, 0}, {"a\xC3\xA9", 3, 1, 0}, {"a\xC3(", 3, 0, 1}, {"\xC0\xAF", 2, 0, 0},
        {"ab\xED\xA0\x80", 5, 0, 2}, {"\xF4\x90\x80\x80", 4, 0, 0}, {"\xF0\x9F\x98\x80", 4, 1, 0},
        {"xy\xE2\x82", 4, 0, 2}, {"\x80", 1, 0, 0}, {"\xEF\xBB\xBF", 3, 1, 0}, {"a\0b", 3, 1, 0}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t at = 99;
        CU_ASSERT_EQUAL(u8_validate(v[i].s, v[i].n, &at) == 0, v[i].ok);
        if (!v[i].ok) CU_ASSERT_EQUAL(at, v[i].at);
    }
}

static void test_pyfmt(void) {
    struct { double x; const char *want; } v[] = {
        {100.00000000000004, "100.00000000000004"}, {40.0, "40.0"}, {1e-05, "1e-05"},
        {0.0001, "0.0001"}, {1e16, "1e+16"}, {123456789012345.6, "123456789012345.6"},
        {0.1, "0.1"}, {33.333333333333336, "33.333333333333336"}, {-0.0, "-0.0"},
        {7.120236347223045e-307, "7.120236347223045e-307"}, /* shortest needs the upper neighbour */
        {5.641232424577593e-278, "5.641232424577593e-278"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {INFINITY, "Infinity"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char b[64];
        py_repr_double(v[i].x, b, sizeof b, 1);
        if (strcmp(b, v[i].want)) fprintf(stderr, "  repr %s, want %s\n", b, v[i].want);
        CU_ASSERT_STRING_EQUAL(b, v[i].want);
    }
    char b[400];
    py_format_fixed(NAN, 2, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "nan");
    py_format_fixed(0.125, 2, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "0.12");  /* exact binary tie: half-even like Python */
}

/* ================================================================ the BLEU tables of docs/evaluation.md */

static bleu_opts opts_of(const char *tok, const char *smooth, double sv, int lc, int eff) {
    bleu_opts o;
    bleu_opts_default(&o);
    o.tokenize = (bleu_tokenize)bleu_tokenize_from_name(tok);
    o.smooth_method = (bleu_smooth)bleu_smooth_from_name(smooth);
    o.smooth_value = sv;
    o.lowercase = lc;
    o.effective_order = eff;
    return o;
}

typedef struct {
    const char *id;
    const char *hyp[3];
    const char *refs[2][3];   /* [stream][segment]; NULL = None */
    int nseg, nst;
    const char *tok, *smooth;
    double sv;
    int lc, eff;
    double score;
    int counts[4], totals[4];
    long long sys_len, ref_len;
    const char *text2;        /* Score.format(width 2) text line, or NULL */
} spec_case;

static const spec_case k_spec[] = {
    {"B1", {"The cat sat on the mat."}, {{"The cat sat on the mat."}}, 1, 1, "13a", "exp", NAN, 0, 0,
     100.00000000000004, {7, 6, 5, 4}, {7, 6, 5, 4}, 7, 7,
     "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)"},
    {"B2", {""}, {{"The cat sat on the mat."}}, 1, 1, "13a", "exp", NAN, 0, 0, 0.0, {0}, {0}, 0, 7,
     "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 7)"},
    {"B3", {"xyz"}, {{"abc def"}}, 1, 1, "13a", "exp", NAN, 0, 0, 0.0, {0}, {1, 0, 0, 0}, 1, 2, NULL},
    {"B4", {"the cat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 0, 0.0, {2, 1, 0, 0}, {2, 1, 0, 0}, 2, 6, NULL},
    {"B4e", {"the cat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 1, 13.533528323661276, {2, 1, 0, 0}, {2, 1, 0, 0}, 2, 6, NULL},
    {"B5", {"the cat sat on a mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 0, 53.7284965911771, {5, 3, 2, 1}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B5f", {"the cat sat on a mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "floor", NAN, 0, 0, 53.7284965911771, {5, 3, 2, 1}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B5n", {"the cat sat on a mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "none", NAN, 0, 0, 53.7284965911771, {5, 3, 2, 1}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B5k", {"the cat sat on a mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "add-k", NAN, 0, 0, 63.894310424627285, {5, 4, 3, 2}, {6, 6, 5, 4}, 6, 6, NULL},
    {"B6", {"a b c d e"}, {{"a b c d"}, {"a b c d e f"}}, 1, 2, "13a", "exp", NAN, 0, 0, 100.00000000000004, {5, 4, 3, 2}, {5, 4, 3, 2}, 5, 4,
     "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.250 hyp_len = 5 ref_len = 4)"},
    {"B7", {"THE CAT sat on the mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 0, 50.81327481546149, {4, 3, 2, 1}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B7l", {"THE CAT sat on the mat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 1, 0, 100.00000000000004, {6, 5, 4, 3}, {6, 5, 4, 3}, 6, 6,
     "BLEU|nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0 = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)"},
    {"B8", {"He was born in 2014."}, {{"He was born in 2014 ."}}, 1, 1, "13a", "exp", NAN, 0, 0, 100.00000000000004, {6, 5, 4, 3}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B8i", {"He was born in 2014."}, {{"He was born in 2014 ."}}, 1, 1, "intl", "exp", NAN, 0, 0, 54.75182535069452, {4, 3, 2, 1}, {5, 4, 3, 2}, 5, 6, NULL},
    {"B8n", {"He was born in 2014."}, {{"He was born in 2014 ."}}, 1, 1, "none", "exp", NAN, 0, 0, 54.75182535069452, {4, 3, 2, 1}, {5, 4, 3, 2}, 5, 6, NULL},
    {"B9", {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."},
     {{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}}, 3, 2,
     "13a", "exp", NAN, 0, 0, 48.530827009929865, {14, 7, 5, 3}, {17, 14, 11, 8}, 17, 18,
     "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)"},
    {"B9b", {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."},
     {{"", "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}}, 3, 2,
     "13a", "exp", NAN, 0, 0, 29.443657650964873, {14, 6, 3, 1}, {17, 14, 11, 8}, 17, 19,
     "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)"},
    {"B9c", {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."},
     {{NULL, "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}}, 3, 2,
     "13a", "exp", NAN, 0, 0, 29.443657650964873, {14, 6, 3, 1}, {17, 14, 11, 8}, 17, 19,
     "BLEU|nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)"},
    {"B10", {"the cat sat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 1, 36.78794411714425, {3, 2, 1, 0}, {3, 2, 1, 0}, 3, 6, NULL},
    {"B10b", {"the cat sat"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 0, 0.0, {3, 2, 1, 0}, {3, 2, 1, 0}, 3, 6, NULL},
    {"B11", {"the the the the the the the"}, {{"the cat is on the mat"}, {"there is a cat on the mat"}}, 1, 2, "13a", "exp", NAN, 0, 0, 7.809849842300637, {2, 0, 0, 0}, {7, 6, 5, 4}, 7, 7, NULL},
    {"B11f", {"the the the the the the the"}, {{"the cat is on the mat"}, {"there is a cat on the mat"}}, 1, 2, "13a", "floor", NAN, 0, 0, 3.9281465090051304, {2, 0, 0, 0}, {7, 6, 5, 4}, 7, 7,
     "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:floor[0.10]|version:2.6.0 = 3.93 28.6/1.7/2.0/2.5 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)"},
    {"B11f5", {"the the the the the the the"}, {{"the cat is on the mat"}, {"there is a cat on the mat"}}, 1, 2, "13a", "floor", 0.5, 0, 0, 13.134549472120794, {2, 0, 0, 0}, {7, 6, 5, 4}, 7, 7, NULL},
    {"B11k", {"the the the the the the the"}, {{"the cat is on the mat"}, {"there is a cat on the mat"}}, 1, 2, "13a", "add-k", NAN, 0, 0, 19.20561263749893, {2, 1, 1, 1}, {7, 7, 6, 5}, 7, 7,
     "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:add-k[1.00]|version:2.6.0 = 19.21 28.6/14.3/16.7/20.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)"},
    {"B11n", {"the the the the the the the"}, {{"the cat is on the mat"}, {"there is a cat on the mat"}}, 1, 2, "13a", "none", NAN, 0, 0, 0.0, {2, 0, 0, 0}, {7, 6, 5, 4}, 7, 7, NULL},
    {"B12", {"the cat\xC2\xA0sat on the mat \t"}, {{"the cat sat on the mat"}}, 1, 1, "13a", "exp", NAN, 0, 0, 100.00000000000004, {6, 5, 4, 3}, {6, 5, 4, 3}, 6, 6, NULL},
    {"B13", {"It costs 1,000.50 dollars."}, {{"It costs 1 , 000.50 dollars ."}}, 1, 1, "13a", "exp", NAN, 0, 0, 20.252884954471366, {4, 2, 0, 0}, {5, 4, 3, 2}, 5, 7, NULL},
    {"B14", {"the cat sat on the mat", "hello there general kenobi"}, {{"the cat sat on the mat", "hello there general kenobi you are a bold one"}}, 2, 1, "13a", "exp", NAN, 0, 0, 60.653065971263366, {10, 8, 6, 4}, {10, 8, 6, 4}, 10, 15, NULL},
    {"B15", {"a &amp; b"}, {{"a & b"}}, 1, 1, "13a", "exp", NAN, 0, 0, 0.0, {3, 2, 1, 0}, {3, 2, 1, 0}, 3, 3, NULL},
};

static void test_spec_cases(void) {
    for (size_t i = 0; i < sizeof k_spec / sizeof k_spec[0]; i++) {
        const spec_case *c = &k_spec[i];
        bleu_opts o = opts_of(c->tok, c->smooth, c->sv, c->lc, c->eff);
        const char *const *streams[2] = {c->refs[0], c->refs[1]};
        bleu_score s;
        int rc = bleu_corpus(c->hyp, NULL, (size_t)c->nseg, streams, NULL, (size_t)c->nst, &o, &s);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        int ok = s.score == c->score && s.sys_len == c->sys_len && s.ref_len == c->ref_len;
        for (int k = 0; k < 4; k++) ok &= s.counts[k] == c->counts[k] && s.totals[k] == c->totals[k];
        char line[1024] = "";
        if (c->text2) {
            CU_ASSERT_EQUAL(bleu_format(&s, &o, 2, 0, 0, 0, line, sizeof line), 0);
            ok &= !strcmp(line, c->text2);
        }
        if (!ok) fprintf(stderr, "  %s: score %.17g (want %.17g) len %lld/%lld  %s\n", c->id, s.score,
                         c->score, s.sys_len, s.ref_len, line);
        CU_ASSERT(ok);
    }
}

static void test_spec_cli_line_and_sentence(void) {
    /* B11 with the CLI's width 1; B10 through bleu_sentence with effective order */
    const char *refs[] = {"the cat is on the mat", "there is a cat on the mat"};
    bleu_opts o = opts_of("13a", "exp", NAN, 0, 0);
    bleu_score s;
    CU_ASSERT_EQUAL(bleu_sentence("the the the the the the the", refs, 2, &o, &s), 0);
    char line[1024];
    bleu_format(&s, &o, 1, 0, 0, 0, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 7.8 28.6/8.3/5.0/3.1 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)");
    bleu_format(&s, &o, 1, 0, 0, 1, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "BLEU|#:2|c:mixed|e:no|tok:13a|s:exp|v:2.6.0 = 7.8 28.6/8.3/5.0/3.1 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)");
    bleu_format(&s, &o, 1, 0, 1, 0, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "{\n \"name\": \"BLEU\",\n \"score\": 7.8,\n \"signature\": \"nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0\",\n"
                                 " \"verbose_score\": \"28.6/8.3/5.0/3.1 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)\",\n"
                                 " \"nrefs\": \"2\",\n \"case\": \"mixed\",\n \"eff\": \"no\",\n \"tok\": \"13a\",\n \"smooth\": \"exp\",\n \"version\": \"2.6.0\"\n}");
    o.effective_order = 1;
    const char *r1[] = {"the cat sat on the mat"};
    CU_ASSERT_EQUAL(bleu_sentence("the cat sat", r1, 1, &o, &s), 0);
    CU_ASSERT_EQUAL(s.score, 36.78794411714425);
}

static void expect_tok(const char *in, const char *tok, const char *want) {
    bleu_opts o = opts_of(tok, "exp", NAN, 0, 0);
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(bleu_preprocess(in, strlen(in), &o, &out, NULL), 0);
    if (strcmp(out, want)) fprintf(stderr, "  %s(%s) = [%s], want [%s]\n", tok, in, out, want);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
}

static void test_spec_tokenizers(void) {
    expect_tok("It costs $1,000.50, or 3.5% in 2014.", "13a", "It costs $ 1,000.50 , or 3.5 % in 2014 .");
    expect_tok("It costs $1,000.50, or 3.5% in 2014.", "intl", "It costs $ 1,000.50 , or 3.5 % in 2014.");
    expect_tok("&amp;lt;tag&gt;", "13a", "< tag >");
    expect_tok("&amp;lt;tag&gt;", "intl", "& amp ; lt ; tag & gt ;");
    expect_tok(" <skipped> a-\nb", "13a", "ab");
    expect_tok(" <skipped> a-\nb", "intl", "< skipped > a - b");
    static const char *const v13a[][2] = {
        {"1,000.50", "1,000.50"}, {"3.5%", "3.5 %"}, {"in 2014.", "in 2014 ."}, {"e.g.", "e . g ."},
        {"5.a", "5 . a"}, {"a.5", "a . 5"}, {"a-b x-1", "a-b x-1"}, {"1-2", "1 - 2"}, {"3.5-4", "3.5 - 4"},
        {"don't l'été you’re café—done « Bonjour »", "don't l'été you’re café—done « Bonjour »"},
        {",5", ", 5"}, {"5,", "5 ,"}, {"1,,2", "1 , , 2"}, {"a..", "a . ."}, {"&apos;", "& apos ;"}};
    for (size_t i = 0; i < sizeof v13a / sizeof v13a[0]; i++) expect_tok(v13a[i][0], "13a", v13a[i][1]);
    static const char *const vintl[][2] = {
        {"in 2014.", "in 2014."}, {"5,", "5,"}, {"1-2", "1-2"}, {"a-b", "a - b"}, {"x-1", "x - 1"},
        {"don't", "don ' t"}, {"you’re «a»—b", "you ’ re « a » — b"}, {"&amp;", "& amp ;"}};
    for (size_t i = 0; i < sizeof vintl / sizeof vintl[0]; i++) expect_tok(vintl[i][0], "intl", vintl[i][1]);
}

/* ================================================================ parity fixtures */

typedef struct {
    et_jsonl pool;
    const char **seg;
    size_t *len, n;
} pool_t;

static pool_t g_pool;

static int load_pool(void) {
    if (g_pool.n) return 0;
    if (et_jsonl_load(et_path("bleu", "pool.jsonl"), &g_pool.pool)) return -1;
    g_pool.n = g_pool.pool.n;
    g_pool.seg = malloc(g_pool.n * sizeof *g_pool.seg);
    g_pool.len = malloc(g_pool.n * sizeof *g_pool.len);
    for (size_t i = 0; i < g_pool.n; i++) {
        const pj_value *v = pj_root(g_pool.pool.docs[i]);
        g_pool.seg[i] = v->s;
        g_pool.len[i] = v->n;
    }
    return 0;
}

static bleu_opts opts_of_case(const pj_value *c) {
    const pj_value *sv = pj_get(c, "sv");
    return opts_of(et_str(c, "tok"), et_str(c, "smooth"), sv && sv->type != PJ_NULL ? sv->num : NAN,
                   (int)et_num(c, "lc"), (int)et_num(c, "eff"));
}

static void test_parity_preprocess(void) {
    CU_ASSERT_EQUAL_FATAL(load_pool(), 0);
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("bleu", "preprocess.jsonl"), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++) {
        const pj_value *c = pj_root(j.docs[i]), *want = pj_get(c, "out");
        size_t idx = (size_t)et_num(c, "i");
        bleu_opts o = opts_of(et_str(c, "tok"), "exp", NAN, (int)et_num(c, "lc"), 0);
        char *out = NULL;
        size_t on = 0;
        if (bleu_preprocess(g_pool.seg[idx], g_pool.len[idx], &o, &out, &on) || !pj_str_eq(want, out, on)) {
            if (bad++ < 5) fprintf(stderr, "  preprocess #%zu (%s lc=%d): [%s] want [%s]\n", idx,
                                   et_str(c, "tok"), o.lowercase, out ? out : "ERR", want->s);
        }
        free(out);
    }
    fprintf(stderr, "  preprocess: %zu cases, %zu mismatches\n", j.n, bad);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

/* Compare a computed score with a fixture record; returns 1 if everything matches. */
static int check_record(const pj_value *c, const bleu_score *s, const bleu_opts *o, int full, char *why, size_t wn) {
    char b[64], line[4096];
    py_repr_double(s->score, b, sizeof b, 0);
    if (strcmp(b, et_str(c, "score"))) { snprintf(why, wn, "score %s want %s", b, et_str(c, "score")); return 0; }
    const pj_value *counts = pj_get(c, "counts"), *totals = pj_get(c, "totals"), *prec = pj_get(c, "prec");
    for (int k = 0; k < 4; k++) {
        py_repr_double(s->counts[k], b, sizeof b, 0);
        if (!pj_str_eq(&counts->items[k], b, strlen(b))) { snprintf(why, wn, "count %d %s", k, b); return 0; }
        py_repr_double(s->totals[k], b, sizeof b, 0);
        if (!pj_str_eq(&totals->items[k], b, strlen(b))) { snprintf(why, wn, "total %d %s", k, b); return 0; }
        py_repr_double(s->precisions[k], b, sizeof b, 0);
        if (full && !pj_str_eq(&prec->items[k], b, strlen(b))) { snprintf(why, wn, "prec %d %s", k, b); return 0; }
    }
    if (s->sys_len != (long long)et_num(c, "sys_len") || s->ref_len != (long long)et_num(c, "ref_len")) {
        snprintf(why, wn, "lengths %lld/%lld", s->sys_len, s->ref_len);
        return 0;
    }
    int width = (int)et_num(c, "width");
    if (bleu_format(s, o, width, 0, 0, (int)et_num(c, "short"), line, sizeof line) || strcmp(line, et_str(c, "text"))) {
        snprintf(why, wn, "text [%s] want [%s]", line, et_str(c, "text"));
        return 0;
    }
    if (!full) return 1;
    py_repr_double(s->bp, b, sizeof b, 0);
    if (strcmp(b, et_str(c, "bp"))) { snprintf(why, wn, "bp %s", b); return 0; }
    if (bleu_format(s, o, width, 0, 1, 0, line, sizeof line) || strcmp(line, et_str(c, "json"))) {
        snprintf(why, wn, "json [%s]", line);
        return 0;
    }
    if (bleu_format(s, o, width, 1, 0, 0, line, sizeof line) || strcmp(line, et_str(c, "score_only"))) {
        snprintf(why, wn, "score_only [%s]", line);
        return 0;
    }
    return 1;
}

static void test_parity_sentence(void) {
    CU_ASSERT_EQUAL_FATAL(load_pool(), 0);
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("bleu", "sentence.jsonl"), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++) {
        const pj_value *c = pj_root(j.docs[i]), *refs = pj_get(c, "refs");
        bleu_opts o = opts_of_case(c);
        size_t h = (size_t)et_num(c, "hyp");
        const char *rs[4];
        size_t rl[4];
        const char *const *streams[4];
        const size_t *lens[4];
        for (size_t r = 0; r < refs->count; r++) {
            size_t k = (size_t)refs->items[r].num;
            rs[r] = g_pool.seg[k];
            rl[r] = g_pool.len[k];
            streams[r] = &rs[r];
            lens[r] = &rl[r];
        }
        bleu_score s;
        char why[8192] = "error";
        if (bleu_corpus(&g_pool.seg[h], &g_pool.len[h], 1, streams, lens, refs->count, &o, &s) ||
            !check_record(c, &s, &o, 0, why, sizeof why)) {
            if (bad++ < 5) fprintf(stderr, "  sentence case %zu: %s\n", i, why);
        }
    }
    fprintf(stderr, "  sentence: %zu cases, %zu mismatches\n", j.n, bad);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

static void test_parity_corpus(void) {
    CU_ASSERT_EQUAL_FATAL(load_pool(), 0);
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("bleu", "corpus.jsonl"), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++) {
        const pj_value *c = pj_root(j.docs[i]), *hyps = pj_get(c, "hyps"), *refs = pj_get(c, "refs");
        bleu_opts o = opts_of_case(c);
        size_t n = hyps->count, ns = refs->count;
        const char **h = malloc(n * sizeof *h), **r = malloc(n * ns * sizeof *r);
        size_t *hl = malloc(n * sizeof *hl), *rl = malloc(n * ns * sizeof *rl);
        const char *const *streams[4];
        const size_t *lens[4];
        for (size_t k = 0; k < n; k++) {
            h[k] = g_pool.seg[(size_t)hyps->items[k].num];
            hl[k] = g_pool.len[(size_t)hyps->items[k].num];
        }
        for (size_t st = 0; st < ns; st++) {
            for (size_t k = 0; k < n; k++) {
                const pj_value *v = &refs->items[st].items[k];
                r[st * n + k] = v->type == PJ_NULL ? NULL : g_pool.seg[(size_t)v->num];
                rl[st * n + k] = v->type == PJ_NULL ? 0 : g_pool.len[(size_t)v->num];
            }
            streams[st] = r + st * n;
            lens[st] = rl + st * n;
        }
        bleu_score s;
        char why[8192] = "error";
        if (bleu_corpus(h, hl, n, streams, lens, ns, &o, &s) || !check_record(c, &s, &o, 1, why, sizeof why)) {
            if (bad++ < 5) fprintf(stderr, "  corpus case %zu: %s (%s)\n", i, why, t5g_last_error());
        }
        free(h); free(r); free(hl); free(rl);
    }
    fprintf(stderr, "  corpus: %zu cases, %zu mismatches\n", j.n, bad);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

/* ================================================================ CLI (vs the sacrebleu program) */

static void test_cli_parity(void) {
    size_t len;
    char *text = t5g_read_file(et_path("bleu/cli", "cases.json"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    pj_doc *d = pj_parse(text, len, "cases.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_root(d);
    size_t bad = 0, errors = 0;
    int checked_utf8 = 0;
    for (size_t i = 0; i < cases->count; i++) {
        const pj_value *c = &cases->items[i], *args = pj_get(c, "args");
        char *argv[64];
        int argc = 0;
        argv[argc++] = "bleu";
        for (size_t k = 0; k < args->count && argc < 63; k++) {
            const char *a = args->items[k].s;
            size_t al = strlen(a);  /* file names are the *.txt arguments */
            argv[argc++] = strdup(al > 4 && !strcmp(a + al - 4, ".txt") ? et_path("bleu/cli", a) : a);
        }
        int rc, want_rc = (int)et_num(c, "rc");
        char *err = NULL, *out = et_capture(bleu_cli_main, argc, argv, &rc, &err);
        int ok = want_rc == 0 ? (rc == 0 && out && !strcmp(out, et_str(c, "stdout")))
                              : (rc != 0 && out && !*out && et_one_error_line(err));
        errors += want_rc != 0;
        if (!ok && bad++ < 5)
            fprintf(stderr, "  cli case %zu (rc %d want %d):\n%s---\n%s---\n%s", i, rc, want_rc, out ? out : "",
                    et_str(c, "stdout"), err ? err : "");
        if (want_rc && ok && strstr(argv[argc - 1], "bad_utf8.txt")) {  /* names line and byte */
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 6, byte 9 "));
            checked_utf8 = 1;
        }
        free(out);
        free(err);
        for (int k = 1; k < argc; k++) free(argv[k]);
    }
    fprintf(stderr, "  cli: %zu cases (%zu expected failures), %zu mismatches\n", cases->count, errors, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(errors >= 4);
    CU_ASSERT(checked_utf8);
    pj_free(d);
    free(text);
}

/* ================================================================ bad input (API) */

static void test_bad_input(void) {
    bleu_opts o;
    bleu_opts_default(&o);
    bleu_score s;
    const char *h[] = {"ok", "bad \xC3\x28 x"};
    const char *r[] = {"ok", "fine"};
    const char *const *st[] = {r};
    CU_ASSERT_EQUAL(bleu_corpus(h, NULL, 2, st, NULL, 1, &o, &s), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "hypothesis segment 2: invalid UTF-8 at byte offset 4"));
    const char *r2[] = {"ok", "\xFF"};
    const char *const *st2[] = {r, r2};
    CU_ASSERT_EQUAL(bleu_corpus(r, NULL, 2, st2, NULL, 2, &o, &s), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "reference stream 2, segment 2"));
    CU_ASSERT_EQUAL(bleu_corpus(h, NULL, 0, st, NULL, 1, &o, &s), -1);
    const char *none[] = {NULL};
    const char *const *st3[] = {none};
    CU_ASSERT_EQUAL(bleu_corpus(h, NULL, 1, st3, NULL, 1, &o, &s), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "no reference"));
    o.smooth_method = BLEU_SMOOTH_FLOOR;
    o.smooth_value = -1;
    const char *hh[] = {"a b c d e"}, *rr[] = {"a x y z"};
    const char *const *st4[] = {rr};
    CU_ASSERT_EQUAL(bleu_corpus(hh, NULL, 1, st4, NULL, 1, &o, &s), -1);  /* log of a negative precision */
    bleu_opts_default(&o);
    CU_ASSERT_EQUAL(bleu_format(&s, &o, -1, 0, 0, 0, (char[64]){0}, 64), -1);
    o.tokenize = (bleu_tokenize)7;
    CU_ASSERT_EQUAL(bleu_corpus(hh, NULL, 1, st4, NULL, 1, &o, &s), -1);
    /* CLI usage errors: exit status 2, one line */
    char *argv[] = {"bleu", "-i", "hyp.txt"};  /* no reference (a missing -i reads stdin) */
    int rc;
    char *err = NULL, *out = et_capture(bleu_cli_main, 3, argv, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "-i HYP"));
    free(out);
    free(err);
    char *argv2[] = {"bleu", "r", "-i", "h", "--tokenize", "zh"};
    out = et_capture(bleu_cli_main, 6, argv2, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "--tokenize needs one of 13a, intl, none"));
    free(out);
    free(err);
}

int main(void) {
    static CU_TestInfo unicode[] = {{"exhaustive vs CPython 3.11 / regex", test_unicode_exhaustive},
                                    {"lower, strip, split, UTF-8", test_unicode_ops},
                                    {"float repr and fixed format", test_pyfmt},
                                    CU_TEST_INFO_NULL};
    static CU_TestInfo spec[] = {{"hand-checked cases B1-B15", test_spec_cases},
                                 {"CLI line, JSON, sentence", test_spec_cli_line_and_sentence},
                                 {"tokenizer vectors", test_spec_tokenizers},
                                 CU_TEST_INFO_NULL};
    static CU_TestInfo parity[] = {{"preprocess vs sacreBLEU", test_parity_preprocess},
                                   {"sentence_score vs sacreBLEU", test_parity_sentence},
                                   {"corpus_score vs sacreBLEU", test_parity_corpus},
                                   {"CLI vs sacrebleu program", test_cli_parity},
                                   CU_TEST_INFO_NULL};
    static CU_TestInfo bad[] = {{"bad input", test_bad_input}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"unicode", NULL, NULL, NULL, NULL, unicode},
                                    {"bleu-spec", NULL, NULL, NULL, NULL, spec},
                                    {"bleu-parity", NULL, NULL, NULL, NULL, parity},
                                    {"bleu-errors", NULL, NULL, NULL, NULL, bad},
                                    CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    for (size_t i = 0; i < g_pool.n; i++) pj_free(g_pool.pool.docs[i]);
    free(g_pool.pool.docs);
    free(g_pool.seg);
    free(g_pool.len);
    return rc;
}
