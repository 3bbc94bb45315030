/* rouge-score tokenizer, Porter stemmer and scorer on target '\n' prediction; with valid UTF-8
 * also the --split_summaries scorer (Punkt sentence splitter, eval/punkt.c). */
#include "fuzz_util.h"
#include "eval/rouge.h"
#include "eval/unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    static rouge_scorer *plain, *stem, *split;
    static rouge_type types[4];
    static int nt;
    if (!plain) {
        rouge_parse_types("rouge1,rouge2,rougeL,rougeLsum", types, 4, &nt);
        plain = rouge_scorer_new(types, nt, 0);
        stem = rouge_scorer_new(types, nt, 1);
        split = rouge_scorer_new(types, nt, 0);
        rouge_scorer_split_summaries(split, 1);
    }
    fz_pair p;
    fz_pair_make(&p, d, n);
    rouge_score sc[4];
    rouge_score_pair(plain, p.all, p.a_len, p.b, p.b_len, sc);
    rouge_score_pair(stem, p.all, p.a_len, p.b, p.b_len, sc);
    size_t bad;
    if (!u8_validate(p.all, n, &bad)) rouge_score_pair(split, p.all, p.a_len, p.b, p.b_len, sc);
    char buf[4096];
    rouge_tokens_string(stem, p.all, n, buf, sizeof buf);
    fz_pair_free(&p);
    return 0;
}
