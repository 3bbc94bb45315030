/* test_porter.c - NLTK Porter stemmer (NLTK_EXTENSIONS): hand-checked vectors (from the project's metric specification; expected values written here),
 * the paper's step examples as NLTK stems them, and ~30k words against nltk's own output
 * (tests/fixtures/rouge/porter_words.tsv, made by tests/reference/make_rouge_fixtures.py). */
#include "testutil.h"
#include "eval/porter.h"
#include <string.h>

static int stem_is(const char *w, const char *want) {
    char out[256];
    size_t n = porter_stem(w, strlen(w), out);
    if (n != strlen(out) || strcmp(out, want)) {
        fprintf(stderr, "\n  stem(%s) = %s, want %s", w, out, want);
        return 0;
    }
    return 1;
}

static void check_table(const char *const (*t)[2], size_t n) {
    for (size_t i = 0; i < n; i++) CU_ASSERT(stem_is(t[i][0], t[i][1]));
}

/* the NLTK column of the hand-checked vectors */
static void test_spec_vectors(void) {
    static const char *const t[][2] = {
        {"running", "run"}, {"dies", "die"}, {"died", "die"}, {"spied", "spi"}, {"enjoy", "enjoy"},
        {"happy", "happi"}, {"geology", "geolog"}, {"archaeology", "archaeolog"}, {"hopefully", "hope"},
        {"skies", "sky"}, {"dying", "die"}, {"news", "news"}, {"proceed", "proceed"},
        {"innings", "inning"}, {"owed", "owe"}, {"1990s", "1990"}, {"agreed", "agre"},
        {"controlling", "control"}, {"relational", "relat"}, {"generalization", "gener"},
        {"sensibility", "sensibl"}, {"easily", "easili"}};
    check_table(t, sizeof t / sizeof t[0]);
}

/* Porter (1980) step examples, expected values from nltk 3.x (NLTK_EXTENSIONS). */
static void test_paper_examples(void) {
    static const char *const t[][2] = {
        {"caresses", "caress"}, {"ponies", "poni"}, {"ties", "tie"}, {"cats", "cat"}, {"feed", "feed"},
        {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"}, {"sing", "sing"},
        {"conflated", "conflat"}, {"troubled", "troubl"}, {"sized", "size"}, {"hopping", "hop"},
        {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"},
        {"failing", "fail"}, {"filing", "file"}, {"conditional", "condit"}, {"rational", "ration"},
        {"valenci", "valenc"}, {"digitizer", "digit"}, {"conformabli", "conform"},
        {"radicalli", "radic"}, {"differentli", "differ"}, {"vileli", "vile"},
        {"analogousli", "analog"}, {"vietnamization", "vietnam"}, {"predication", "predic"},
        {"operator", "oper"}, {"feudalism", "feudal"}, {"decisiveness", "decis"},
        {"hopefulness", "hope"}, {"callousness", "callous"}, {"formaliti", "formal"},
        {"sensitiviti", "sensit"}, {"sensibiliti", "sensibl"}, {"triplicate", "triplic"},
        {"formative", "form"}, {"formalize", "formal"}, {"electriciti", "electr"},
        {"electrical", "electr"}, {"goodness", "good"}, {"revival", "reviv"}, {"allowance", "allow"},
        {"inference", "infer"}, {"airliner", "airlin"}, {"gyroscopic", "gyroscop"},
        {"adjustable", "adjust"}, {"defensible", "defens"}, {"irritant", "irrit"},
        {"replacement", "replac"}, {"adjustment", "adjust"}, {"dependent", "depend"},
        {"adoption", "adopt"}, {"homologou", "homolog"}, {"communism", "commun"},
        {"activate", "activ"}, {"angulariti", "angular"}, {"homologous", "homolog"},
        {"effective", "effect"}, {"bowdlerize", "bowdler"}, {"probate", "probat"}, {"rate", "rate"},
        {"cease", "ceas"}, {"controll", "control"}, {"roll", "roll"}};
    check_table(t, sizeof t / sizeof t[0]);
}

/* Lower-casing, the irregular pool after lower-casing, short words, y runs, odd ied/ies. */
static void test_edges(void) {
    static const char *const t[][2] = {
        {"Running", "run"}, {"SKIES", "sky"}, {"ab", "ab"}, {"by", "by"}, {"y", "y"},
        {"yyyy", "yyyi"}, {"ied", "i"}, {"ies", "i"}, {"", ""}, {"a", "a"}};
    check_table(t, sizeof t / sizeof t[0]);
    char out[8];
    CU_ASSERT_EQUAL(porter_stem(NULL, 3, out), (size_t)-1);
    CU_ASSERT_EQUAL(porter_stem("abc", 3, NULL), (size_t)-1);
    /* length-delimited: bytes after len are ignored */
    CU_ASSERT_EQUAL(porter_stem("catsXYZ", 4, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "cat");
}

/* Every word of the fixture list against nltk's stem. */
static void test_nltk_word_list(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/rouge/porter_words.tsv", fixtures_dir());
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[4096], out[4096];
    size_t n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
        *tab = 0;
        char *want = tab + 1;
        want[strcspn(want, "\n")] = 0;
        size_t len = porter_stem(line, strlen(line), out);
        if (len != strlen(want) || strcmp(out, want)) {
            if (bad++ < 10) fprintf(stderr, "\n  stem(%s) = %s, nltk %s", line, out, want);
        }
        n++;
    }
    fclose(f);
    fprintf(stderr, "\n  %zu words, %zu differ from nltk ", n, bad);
    CU_ASSERT(n >= 25000);
    CU_ASSERT_EQUAL(bad, 0);
}

int main(void) {
    static CU_TestInfo tests[] = {{"spec vectors", test_spec_vectors},
                                  {"paper examples", test_paper_examples},
                                  {"edges", test_edges},
                                  {"nltk word list", test_nltk_word_list},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"porter", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
