/* test_punkt.c - eval/punkt.c against nltk.sent_tokenize (NLTK 3.10, English punkt_tab).
 * Fixture tests/fixtures/punkt/sent_tokenize.jsonl was written by
 * tests/reference/make_punkt_fixtures.py with the real NLTK loading the tables this
 * repository ships (eval/punkt_english/): CNN/DM articles and highlights, edge cases and
 * random paragraphs built around Punkt's rules.  Every sentence must match byte for byte. */
#include "eval_testutil.h"
#include "eval/punkt.h"

static int same_sentences(const pj_value *c) {
    const pj_value *text = pj_get(c, "text"), *want = pj_get(c, "sents");
    if (!text || text->type != PJ_STR || !want || want->type != PJ_ARR) return 0;
    punkt_span *sp = NULL;
    size_t n = 0;
    if (punkt_sentences(text->s, text->n, &sp, &n)) return 0;
    int ok = n == want->count;
    for (size_t k = 0; ok && k < n; k++) ok = pj_str_eq(&want->items[k], text->s + sp[k].start, sp[k].end - sp[k].start);
    if (!ok && getenv("T5G_PUNKT_DEBUG")) {
        fprintf(stderr, "  text: %s\n", text->s);
        for (size_t k = 0; k < n; k++) fprintf(stderr, "  got[%zu]: %.*s\n", k, (int)(sp[k].end - sp[k].start), text->s + sp[k].start);
        for (size_t k = 0; k < want->count; k++) fprintf(stderr, "  want[%zu]: %s\n", k, want->items[k].s);
    }
    free(sp);
    return ok;
}

static void test_parity(void) {
    et_jsonl j;
    CU_ASSERT_EQUAL_FATAL(et_jsonl_load(et_path("punkt", "sent_tokenize.jsonl"), &j), 0);
    size_t bad = 0;
    for (size_t i = 0; i < j.n; i++)
        if (!same_sentences(pj_root(j.docs[i])) && bad++ < 5) fprintf(stderr, "  ^ sent_tokenize.jsonl line %zu\n", i + 1);
    fprintf(stderr, "  sent_tokenize.jsonl: %zu texts, %zu mismatches\n", j.n, bad);
    CU_ASSERT(j.n >= 1000);
    CU_ASSERT_EQUAL(bad, 0);
    et_jsonl_free(&j);
}

/* Hand-checked Punkt decisions (so a broken fixture cannot hide a broken splitter). */
static void test_known(void) {
    static const struct {
        const char *text;
        size_t n;
    } cases[] = {
        {"Mr. Smith went home. He slept.", 2}, /* abbreviation */
        {"J. S. Bach was born in 1685. He died in 1750.", 2}, /* initials */
        {"(He left.) She stayed.", 2},  /* realigned bracket */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        punkt_span *sp = NULL;
        size_t n = 9;
        CU_ASSERT_EQUAL(punkt_sentences(cases[i].text, strlen(cases[i].text), &sp, &n), 0);
        CU_ASSERT_EQUAL(n, cases[i].n);
        if (i == 2 && n == 2) CU_ASSERT_EQUAL(sp[0].end, strlen("(He left.)"));
        free(sp);
    }
}

int main(void) {
    static CU_TestInfo tests[] = {{"nltk.sent_tokenize parity", test_parity}, {"hand-checked splits", test_known}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"punkt", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
