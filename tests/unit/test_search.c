/* test_search.c - the search strategies' registry (src/generate/search.c) and the flags that pick
 * one (src/cli/gen_options.c): every registered strategy has a name and a run function, the names
 * are unique and found again; the built-in strategies keep the properties generation and the run
 * record rely on; --search NAME is the same run as the older flags (--beams K, --sample, --beams 1)
 * down to the options and the run record; an unknown name is one error line listing the names. */
#include "testutil.h"
#include "cli/gen_options.h"
#include "core/err.h"
#include "generate/search.h"
#include <string.h>

static void test_registry(void) {
    int n = t5g_strategy_count();
    CU_ASSERT_FATAL(n >= 3);
    char names[512];
    t5g_strategy_names(",", names, sizeof names);
    for (int i = 0; i < n; i++) {
        const t5g_strategy *s = t5g_strategy_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s->name);
        CU_ASSERT(s->name[0] != 0);
        CU_ASSERT_PTR_NULL(strpbrk(s->name, " ,|\t\n")); /* a flag value, listed with separators */
        CU_ASSERT_PTR_NOT_NULL(s->run);
        CU_ASSERT(s->beams == 0 || s->beams == 1);
        CU_ASSERT(s->sampling == 0 || s->sampling == 1);
        CU_ASSERT_PTR_EQUAL(t5g_strategy_find(s->name), s); /* unique: the name finds this one */
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(t5g_strategy_at(j)->name, s->name) != 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(names, s->name));
    }
    CU_ASSERT_PTR_NULL(t5g_strategy_at(n));
    CU_ASSERT_PTR_NULL(t5g_strategy_at(-1));
    CU_ASSERT_PTR_NULL(t5g_strategy_find("no-such-strategy"));
    CU_ASSERT_PTR_NULL(t5g_strategy_find(NULL));
    char tiny[8]; /* truncated, still a string */
    t5g_strategy_names(", ", tiny, sizeof tiny);
    CU_ASSERT(strlen(tiny) < sizeof tiny);
}

/* what generate.c, search.c and the run record take from the three built-in strategies */
static void test_builtins(void) {
    const t5g_strategy *g = t5g_strategy_find("greedy"), *b = t5g_strategy_find("beam");
    const t5g_strategy *s = t5g_strategy_find("sample");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(!g->beams && !g->sampling && !g->candidates);
    CU_ASSERT(b->beams && !b->sampling && b->candidates && b->validate);
    CU_ASSERT(!s->beams && s->sampling && s->candidates);
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    CU_ASSERT_PTR_EQUAL(t5g_strategy_of(&o), g);
    o.search = NULL; /* zeroed options: greedy */
    CU_ASSERT_PTR_EQUAL(t5g_strategy_of(&o), g);
    o.num_beams = 4; /* HF beams_to_keep: max(2, 1 + eos ids) per beam */
    CU_ASSERT_EQUAL(b->candidates(&o, 1, 1000), 8);
    CU_ASSERT_EQUAL(b->candidates(&o, 3, 1000), 16);
    o.top_k = 0;
    CU_ASSERT_EQUAL(s->candidates(&o, 1, 1000), 1000);
    o.top_k = 40;
    CU_ASSERT_EQUAL(s->candidates(&o, 1, 1000), 40);
}

/* one error line naming every registered strategy */
static void check_names_error(const char *must) {
    const char *e = t5g_last_error();
    CU_ASSERT_PTR_NOT_NULL(strstr(e, must));
    CU_ASSERT_PTR_NULL(strchr(e, '\n'));
    for (int i = 0; i < t5g_strategy_count(); i++) CU_ASSERT_PTR_NOT_NULL(strstr(e, t5g_strategy_at(i)->name));
}

static void test_unknown_in_library(void) {
    t5g_gen_opts o;
    t5g_gen_defaults(&o);
    o.search = "no-such-strategy";
    t5g_clear_error();
    CU_ASSERT_EQUAL(t5g_gen_validate(&o), -1);
    check_names_error("no search strategy 'no-such-strategy'");
    o.search = "beam";
    o.num_beams = 65; /* beam search's own limit (its validate) */
    t5g_clear_error();
    CU_ASSERT_EQUAL(t5g_gen_validate(&o), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--beams must be 1..64"));
    o.search = "greedy";
    o.num_return_sequences = 2; /* needs a strategy with beams */
    o.num_beams = 4;
    t5g_clear_error();
    CU_ASSERT_EQUAL(t5g_gen_validate(&o), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "needs beam search"));
}

/* the command's flags parsed from words (NULL-terminated) and finished; eval's defaults with eval */
static int flags(cli_gen_flags *g, int eval, const char *const *words) {
    if (eval) cli_gen_init(g, 16, 4, 0.6, 1);
    else cli_gen_init(g, 32, 1, 1.0, 0);
    arg_spec specs[CLI_GEN_NSPECS];
    int n = cli_gen_specs(g, specs);
    char *argv[16];
    int argc = 0;
    argv[argc++] = "cmd";
    for (; *words; words++) argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    int npos = 0;
    t5g_clear_error();
    if (args_parse(argc, argv, specs, n, "usage: cmd", NULL, 0, &npos)) return -1;
    return cli_gen_finish(g);
}

/* the run record's generation part: what cmd_generate / cmd_eval write, and cli_gen_record */
static char *record(const cli_gen_flags *g) {
    cJSON *fp = cJSON_CreateObject();
    cJSON_AddStringToObject(fp, "search", cli_gen_search_name(&g->o));
    cJSON_AddNumberToObject(fp, "num_beams", g->o.num_beams);
    cli_gen_record(fp, g);
    char *s = cJSON_PrintUnformatted(fp);
    cJSON_Delete(fp);
    return s;
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void same(int eval, const char *const *a, const char *const *b, const char *want_search) {
    cli_gen_flags x, y;
    CU_ASSERT_EQUAL_FATAL(flags(&x, eval, a), 0);
    CU_ASSERT_EQUAL_FATAL(flags(&y, eval, b), 0);
    CU_ASSERT_STRING_EQUAL(x.o.search, want_search);
    CU_ASSERT(memcmp(&x.o, &y.o, sizeof x.o) == 0); /* the same options, search pointer included */
    char *rx = record(&x), *ry = record(&y);
    CU_ASSERT_STRING_EQUAL(rx, ry);
    free(rx);
    free(ry);
}

static void test_flags_alias(void) {
    same(0, WORDS("--search", "beam", "--beams", "4"), WORDS("--beams", "4"), "beam");
    same(1, WORDS("--search", "beam"), WORDS("--beams", "4"), "beam"); /* eval's default 4 beams */
    same(0, WORDS("--search", "sample", "--seed", "3"), WORDS("--sample", "--seed", "3"), "sample");
    same(1, WORDS("--search", "sample", "--sample"), WORDS("--sample"), "sample");
    same(1, WORDS("--search", "greedy"), WORDS("--beams", "1"), "greedy");
    same(0, WORDS("--search", "greedy"), WORDS("--max-new-tokens", "128"), "greedy");
    cli_gen_flags g;
    CU_ASSERT_EQUAL_FATAL(flags(&g, 1, WORDS("--sample")), 0);
    char *r = record(&g);
    CU_ASSERT_STRING_EQUAL(r, /* the record eval wrote for --sample before --search */
                           "{\"search\":\"sample\",\"num_beams\":1,"
                           "\"temperature\":\"1\",\"top_k\":50,\"top_p\":\"1\",\"seed\":0}");
    free(r);
    CU_ASSERT_EQUAL_FATAL(flags(&g, 0, WORDS("--search", "beam")), 0); /* beam search with 1 beam, asked for */
    CU_ASSERT_EQUAL(g.o.num_beams, 1);
    CU_ASSERT_STRING_EQUAL(cli_gen_search_name(&g.o), "beam");
}

static void test_flags_errors(void) {
    cli_gen_flags g;
    CU_ASSERT_EQUAL(flags(&g, 0, WORDS("--search", "nucleus")), -1);
    check_names_error("--search: no strategy 'nucleus'");
    CU_ASSERT_EQUAL(flags(&g, 0, WORDS("--search", "greedy", "--beams", "3")), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--search greedy uses no beams"));
    CU_ASSERT_EQUAL(flags(&g, 0, WORDS("--search", "beam", "--sample")), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--sample is --search sample"));
    CU_ASSERT_EQUAL(flags(&g, 0, WORDS("--sample", "--beams", "2")), -1); /* the older error, unchanged */
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--sample and --beams > 1 cannot be combined"));
    CU_ASSERT_EQUAL(flags(&g, 0, WORDS("--beams", "65")), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(t5g_last_error(), "--beams must be 1..64"));
}

int main(void) {
    static CU_TestInfo tests[] = {{"every strategy: name, run, unique", test_registry},
                                  {"greedy, beam, sample", test_builtins},
                                  {"unknown name, strategy limits (library)", test_unknown_in_library},
                                  {"--search NAME = --beams K / --sample / --beams 1", test_flags_alias},
                                  {"--search errors", test_flags_errors},
                                  CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"search", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
