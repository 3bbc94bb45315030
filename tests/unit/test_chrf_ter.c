/* test_chrf_ter.c - sacreBLEU 2.6.0 parity of eval/chrf.c (chrF, chrF++) and eval/ter.c (TER),
 * and the stdin input of the sacreBLEU-style CLIs.  Fixtures (tests/fixtures/bleu/chrf.jsonl,
 * ter.jsonl, ter_tok.jsonl, cli/chrf_ter_cases.json) were written by
 * tests/reference/make_chrf_ter_fixtures.py with the real sacreBLEU on CPython 3.11; scores are
 * compared as repr() of the double, i.e. bit for bit. */
#include "eval_testutil.h"
#include "cli/score.h"
#include "eval/bleu.h"
#include "eval/chrf.h"
#include "eval/pyfmt.h"
#include "cli/score_sacrebleu.h"
#include "eval/ter.h"
#include "core/err.h"
#include <fcntl.h>

/* ================================================================ fixture texts */

static et_jsonl g_pool, g_corpus;

static int load_texts(void) {
    if (g_pool.n) return 0;
    if (et_jsonl_load(et_path("bleu", "pool.jsonl"), &g_pool)) return -1;
    return et_jsonl_load(et_path("bleu", "corpus.jsonl"), &g_corpus);
}

static int flag(const pj_value *c, const char *key) {
    const pj_value *v = pj_get(c, key);
    return v && (v->type == PJ_TRUE || (v->type == PJ_INT && v->num != 0));
}

/* A text of a case: pool index, inline string or null (None reference). */
static void resolve(const pj_value *v, const char **s, size_t *n) {
    if (v->type == PJ_NULL) { *s = NULL; *n = 0; return; }
    if (v->type == PJ_STR) { *s = v->s; *n = v->n; return; }
    const pj_value *p = pj_root(g_pool.docs[(size_t)v->num]);
    *s = p->s;
    *n = p->n;
}

/* Hypotheses and reference streams of a case, as the scorers take them. */
typedef struct {
    size_t n, ns;
    const char **hyp, **ref[SB_MAX_REFS];
    size_t *hl, *rl[SB_MAX_REFS];
} case_texts;

static void texts_free(case_texts *t) {
    free(t->hyp);
    free(t->hl);
    for (size_t r = 0; r < t->ns; r++) { free(t->ref[r]); free(t->rl[r]); }
}

static int case_load(const pj_value *c, case_texts *t) {
    memset(t, 0, sizeof *t);
    const pj_value *k = pj_get(c, "corpus"), *src = k ? pj_root(g_corpus.docs[(size_t)k->num]) : c;
    const pj_value *hyps = pj_get(src, "hyps"), *refs = pj_get(src, "refs");
    if (!hyps || !refs || refs->count > SB_MAX_REFS) return -1;
    t->n = hyps->count;
    t->ns = refs->count;
    t->hyp = calloc(t->n + 1, sizeof *t->hyp);
    t->hl = calloc(t->n + 1, sizeof *t->hl);
    for (size_t i = 0; i < t->n; i++) resolve(&hyps->items[i], &t->hyp[i], &t->hl[i]);
    for (size_t r = 0; r < t->ns; r++) {
        t->ref[r] = calloc(t->n + 1, sizeof **t->ref);
        t->rl[r] = calloc(t->n + 1, sizeof **t->rl);
        for (size_t i = 0; i < t->n; i++) resolve(&refs->items[r].items[i], &t->ref[r][i], &t->rl[r][i]);
    }
    return 0;
}

/* The three printed forms (text, short text, JSON) of a score against the fixture. */
static int check_printed(const pj_value *c, const char *name, double score, const char *sig, const char *short_sig) {
    int w = (int)et_num(c, "width"), ok = 1;
    char *t = sb_format(name, score, sig, w, 0, 0), *sh = sb_format(name, score, short_sig, w, 0, 0);
    char *js = sb_format(name, score, sig, w, 0, 1);
    ok = t && sh && js && !strcmp(t, et_str(c, "text")) && !strcmp(sh, et_str(c, "short")) &&
         (!pj_get(c, "json") || !strcmp(js, et_str(c, "json")));  /* JSON: corpus cases */
    if (!ok) fprintf(stderr, "  printed: [%s] want [%s]\n", t ? t : "ERR", et_str(c, "text"));
    free(t);
    free(sh);
    free(js);
    return ok;
}

/* ================================================================ chrF */

static void chrf_opts_of(const pj_value *c, chrf_opts *o) {
    chrf_opts_default(o);
    o->char_order = (int)et_num(c, "nc");
    o->word_order = (int)et_num(c, "nw");
    o->beta = (int)et_num(c, "beta");
    o->lowercase = flag(c, "lc");
    o->whitespace = flag(c, "ws");
    o->eps_smoothing = flag(c, "eps");
}

static int chrf_case(const pj_value *c) {
    case_texts t;
    if (case_load(c, &t)) return 0;
    chrf_opts o;
    chrf_opts_of(c, &o);
    chrf_score s;
    const char *const *st[SB_MAX_REFS];
    const size_t *sl[SB_MAX_REFS];
    for (size_t r = 0; r < t.ns; r++) { st[r] = t.ref[r]; sl[r] = t.rl[r]; }
    int ok = !chrf_corpus(t.hyp, t.hl, t.n, st, sl, t.ns, &o, &s);
    if (!ok) fprintf(stderr, "  chrF error: %s\n", t5g_last_error());
    char rep[64], name[64], sig[256], shsig[256];
    if (ok) {
        py_repr_double(s.score, rep, sizeof rep, 0);
        const pj_value *stats = pj_get(c, "stats");
        ok = !strcmp(rep, et_str(c, "score")) && stats && stats->count == 3 * (size_t)(o.char_order + o.word_order);
        for (size_t k = 0; ok && k < stats->count; k++) ok = (double)s.stats[k] == stats->items[k].num;
        if (!ok) fprintf(stderr, "  chrF score %s want %s (nc %d nw %d beta %d)\n", rep, et_str(c, "score"),
                         o.char_order, o.word_order, o.beta);
    }
    if (ok) {
        chrf_name(&o, name, sizeof name);
        ok = !chrf_signature(&o, s.nrefs, 0, sig, sizeof sig) && !chrf_signature(&o, s.nrefs, 1, shsig, sizeof shsig) &&
             check_printed(c, name, s.score, sig, shsig);
    }
    texts_free(&t);
    return ok;
}

static void run_parity(const char *file, int (*one)(const pj_value *), size_t min_cases) {
    CU_ASSERT_EQUAL_FATAL(load_texts(), 0);
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("bleu", file), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++) {
        if (one(pj_root(j.docs[i]))) continue;
        if (bad++ < 5) fprintf(stderr, "  ^ %s line %zu\n", file, i + 1);
    }
    fprintf(stderr, "  %s: %zu cases, %zu mismatches\n", file, j.n, bad);
    CU_ASSERT(j.n >= min_cases);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

static void test_chrf_parity(void) { run_parity("chrf.jsonl", chrf_case, 1500); }

/* Hand-checked: _remove_punctuation splits one ASCII punctuation mark off the end, else the
 * start; Unicode punctuation stays; chrF++ names and signatures. */
static void test_chrf_words(void) {
    chrf_opts o;
    chrf_opts_default(&o);
    o.char_order = 0;
    o.word_order = 1;
    chrf_score s;
    const char *h = "(hi) «non» a.", *r1 = "(hi) « non » a .";
    CU_ASSERT_EQUAL_FATAL(chrf_sentence(h, &r1, 1, &o, &s), 0);
    /* hyp words: "(hi" ")" "«non»" "a" "."; ref: "(hi" ")" "«" "non" "»" "a" "." -> 4 matches */
    CU_ASSERT_EQUAL(s.stats[0], 5);
    CU_ASSERT_EQUAL(s.stats[1], 7);
    CU_ASSERT_EQUAL(s.stats[2], 4);
    char name[32], sig[256];
    o.char_order = 6;
    o.word_order = 2;
    chrf_name(&o, name, sizeof name);
    CU_ASSERT_STRING_EQUAL(name, "chrF2++");
    CU_ASSERT_EQUAL(chrf_signature(&o, 1, 0, sig, sizeof sig), 0);
    CU_ASSERT_STRING_EQUAL(sig, "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0");
    /* empty hypothesis against a non-empty reference scores 0; identical texts 100 */
    const char *ref = "the cat";
    CU_ASSERT_EQUAL(chrf_sentence("", &ref, 1, &o, &s), 0);
    CU_ASSERT_EQUAL(s.score, 0.0);
    CU_ASSERT_EQUAL(chrf_sentence("the cat", &ref, 1, &o, &s), 0);
    CU_ASSERT_EQUAL(s.score, 100.0);
    o.word_order = 100;
    CU_ASSERT_EQUAL(chrf_sentence("x", &ref, 1, &o, &s), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "char order"));
}

/* ================================================================ TER */

static void ter_opts_of(const pj_value *c, ter_opts *o) {
    ter_opts_default(o);
    o->normalized = flag(c, "norm");
    o->no_punct = flag(c, "nopunct");
    o->asian_support = flag(c, "asian");
    o->case_sensitive = flag(c, "case");
}

static int ter_case(const pj_value *c) {
    case_texts t;
    if (case_load(c, &t)) return 0;
    ter_opts o;
    ter_opts_of(c, &o);
    ter_score s;
    const char *const *st[SB_MAX_REFS];
    const size_t *sl[SB_MAX_REFS];
    for (size_t r = 0; r < t.ns; r++) { st[r] = t.ref[r]; sl[r] = t.rl[r]; }
    int ok = !ter_corpus(t.hyp, t.hl, t.n, st, sl, t.ns, &o, &s);
    if (!ok) fprintf(stderr, "  TER error: %s\n", t5g_last_error());
    char rep[64], len[64], sig[256], shsig[256];
    if (ok) {
        py_repr_double(s.score, rep, sizeof rep, 0);
        py_repr_double(s.ref_length, len, sizeof len, 0);
        ok = !strcmp(rep, et_str(c, "score")) && !strcmp(len, et_str(c, "ref_length")) &&
             (double)s.num_edits == et_num(c, "edits");
        if (!ok) fprintf(stderr, "  TER %s edits %lld len %s, want %s %g %s\n", rep, s.num_edits, len,
                         et_str(c, "score"), et_num(c, "edits"), et_str(c, "ref_length"));
    }
    if (ok)
        ok = !ter_signature(&o, s.nrefs, 0, sig, sizeof sig) && !ter_signature(&o, s.nrefs, 1, shsig, sizeof shsig) &&
             check_printed(c, "TER", s.score, sig, shsig);
    texts_free(&t);
    return ok;
}

static void test_ter_parity(void) { run_parity("ter.jsonl", ter_case, 1500); }

static int ter_tok_case(const pj_value *c) {
    if (pj_get(c, "edits")) {  /* translation_edit_rate of token strings */
        long long e = -1, n = -1;
        int ok = !ter_edits(et_str(c, "hyp"), et_str(c, "ref"), &e, &n) && (double)e == et_num(c, "edits") &&
                 (double)n == et_num(c, "ref_words");
        if (!ok) fprintf(stderr, "  edits %lld / %lld words, want %g / %g\n", e, n, et_num(c, "edits"), et_num(c, "ref_words"));
        return ok;
    }
    ter_opts o;
    ter_opts_of(c, &o);
    const pj_value *in = pj_get(c, "in"), *want = pj_get(c, "out");
    char *out = NULL;
    size_t on = 0;
    int ok = !ter_tokenize(in->s, in->n, &o, &out, &on) && pj_str_eq(want, out, on);
    if (!ok) fprintf(stderr, "  tercom(%s) = [%s] want [%s]\n", in->s, out ? out : "ERR", want->s);
    free(out);
    return ok;
}

static void test_ter_tokenizer(void) { run_parity("ter_tok.jsonl", ter_tok_case, 1500); }

/* Hand-checked: shifting one block costs one edit (Snover et al.); signature spelling. */
static void test_ter_hand(void) {
    long long e, n;
    CU_ASSERT_EQUAL(ter_edits("c d a b", "a b c d", &e, &n), 0);
    CU_ASSERT_EQUAL(e, 1);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(ter_edits("a b c d", "", &e, &n), 0);
    CU_ASSERT_EQUAL(e, 4);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(ter_edits("", "a b c", &e, &n), 0);
    CU_ASSERT_EQUAL(e, 3);
    ter_opts o;
    ter_opts_default(&o);
    char sig[256];
    CU_ASSERT_EQUAL(ter_signature(&o, -1, 1, sig, sizeof sig), 0);
    CU_ASSERT_STRING_EQUAL(sig, "#:var|c:lc|t:tercom|nr:no|pn:yes|as:no|v:2.6.0");
    char *tok = NULL;
    o.normalized = 1;
    CU_ASSERT_EQUAL(ter_tokenize("John's 3.5 (x).", 15, &o, &tok, NULL), 0);
    CU_ASSERT_STRING_EQUAL(tok, "john 's 3.5 ( x ) .");
    free(tok);
}

/* ================================================================ CLI */

typedef int (*cli_fn)(int, char **);

/* Run one sacrebleu-style case; "stdin" names the file that becomes fd 0. */
static char *run_cli_case(const pj_value *c, int *rc, char **err) {
    const pj_value *args = pj_get(c, "args");
    char *argv[64];
    int argc = 1;
    cli_fn fn = bleu_cli_main;
    argv[0] = "bleu";
    for (size_t k = 0; k < args->count && argc < 63; k++) {
        const char *a = args->items[k].s;
        size_t al = strlen(a);
        if (!strcmp(a, "-m")) {  /* the metric picks the t5g subcommand */
            const char *m = args->items[++k].s;
            fn = !strcmp(m, "chrf") ? chrf_cli_main : ter_cli_main;
            argv[0] = (char *)m;
            continue;
        }
        argv[argc++] = strdup(al > 4 && !strcmp(a + al - 4, ".txt") ? et_path("bleu/cli", a) : a);
    }
    if (flag(c, "dash_i")) {  /* `-i -` names stdin explicitly */
        argv[argc++] = strdup("-i");
        argv[argc++] = strdup("-");
    }
    int saved = -1;
    const char *in = et_str(c, "stdin");
    if (*in) {
        int fd = open(et_path("bleu/cli", in), O_RDONLY);
        saved = dup(0);
        dup2(fd, 0);
        close(fd);
        clearerr(stdin);
    }
    char *out = et_capture(fn, argc, argv, rc, err);
    if (saved >= 0) {
        dup2(saved, 0);
        close(saved);
        clearerr(stdin);
    }
    for (int k = 1; k < argc; k++) free(argv[k]);
    return out;
}

static void test_cli_parity(void) {
    size_t len;
    char *text = t5g_read_file(et_path("bleu/cli", "chrf_ter_cases.json"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    pj_doc *d = pj_parse(text, len, "chrf_ter_cases.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const pj_value *cases = pj_root(d);
    size_t bad = 0, errors = 0, from_stdin = 0;
    for (size_t i = 0; i < cases->count; i++) {
        const pj_value *c = &cases->items[i];
        int rc, want_rc = (int)et_num(c, "rc");
        char *err = NULL, *out = run_cli_case(c, &rc, &err);
        int ok = want_rc == 0 ? (rc == 0 && out && !strcmp(out, et_str(c, "stdout")))
                              : (rc != 0 && out && !*out && et_one_error_line(err));
        errors += want_rc != 0;
        from_stdin += *et_str(c, "stdin") != 0;
        if (!ok && bad++ < 5)
            fprintf(stderr, "  cli case %zu (rc %d want %d):\n%s---\n%s---\n%s", i, rc, want_rc, out ? out : "",
                    et_str(c, "stdout"), err ? err : "");
        free(out);
        free(err);
    }
    fprintf(stderr, "  cli: %zu cases (%zu expected failures, %zu from stdin), %zu mismatches\n", cases->count,
            errors, from_stdin, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(errors >= 6);
    CU_ASSERT(from_stdin >= 6);
    pj_free(d);
    free(text);
}

/* A tab on stdin would make sacreBLEU see several systems: one clear error line. */
static void test_cli_errors(void) {
    char path[] = "/tmp/t5g_chrf_tabXXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "a b\nc\td\n", 8), 8);
    close(fd);
    char ref[] = "/tmp/t5g_chrf_refXXXXXX";
    fd = mkstemp(ref);
    CU_ASSERT_EQUAL(write(fd, "a b\nc d\n", 8), 8);
    close(fd);
    int saved = dup(0), in = open(path, O_RDONLY);
    dup2(in, 0);
    close(in);
    clearerr(stdin);
    char *argv[] = {"chrf", ref}, *err = NULL;
    int rc;
    char *out = et_capture(chrf_cli_main, 2, argv, &rc, &err);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(et_one_error_line(err));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "line 2, contains a tab"));
    free(out);
    free(err);
    char *argv2[] = {"ter", ref, "-i", "-", "--normalised"};
    out = et_capture(ter_cli_main, 5, argv2, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "unknown option '--normalised'"));
    free(out);
    free(err);
    char *argv3[] = {"chrf", ref, "-cc", "0", "-cw", "0"};
    out = et_capture(chrf_cli_main, 6, argv3, &rc, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(et_one_error_line(err));
    free(out);
    free(err);
    unlink(path);
    unlink(ref);
}

int main(void) {
    static CU_TestInfo chrf[] = {{"chrF / chrF++ vs sacreBLEU", test_chrf_parity},
                                 {"word n-grams, names, edges", test_chrf_words},
                                 CU_TEST_INFO_NULL};
    static CU_TestInfo ter[] = {{"TER vs sacreBLEU", test_ter_parity},
                                {"TercomTokenizer and edit rate vs sacreBLEU", test_ter_tokenizer},
                                {"hand-checked", test_ter_hand},
                                CU_TEST_INFO_NULL};
    static CU_TestInfo cli[] = {{"CLI vs sacrebleu program (files and stdin)", test_cli_parity},
                                {"CLI errors", test_cli_errors},
                                CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"chrf", NULL, NULL, NULL, NULL, chrf},
                                    {"ter", NULL, NULL, NULL, NULL, ter},
                                    {"sacrebleu-cli", NULL, NULL, NULL, NULL, cli},
                                    CU_SUITE_INFO_NULL};
    int rc = t5g_test_main(suites);
    et_jsonl_free(&g_pool);
    et_jsonl_free(&g_corpus);
    return rc;
}
