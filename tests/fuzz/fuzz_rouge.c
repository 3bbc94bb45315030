/* rouge-score tokenizer, Porter stemmer and scorer on target '\n' prediction. */
#include "fuzz_util.h"
#include "eval/rouge.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    static rouge_scorer *plain, *stem;
    static rouge_type types[4];
    static int nt;
    if (!plain) {
        rouge_parse_types("rouge1,rouge2,rougeL,rougeLsum", types, 4, &nt);
        plain = rouge_scorer_new(types, nt, 0);
        stem = rouge_scorer_new(types, nt, 1);
    }
    char *s = fz_str(d, n);
    size_t a_len, b_len;
    const char *b;
    fz_split(s, n, &a_len, &b, &b_len);
    rouge_score sc[4];
    rouge_score_pair(plain, s, a_len, b, b_len, sc);
    rouge_score_pair(stem, s, a_len, b, b_len, sc);
    char buf[4096];
    rouge_tokens_string(stem, s, n, buf, sizeof buf);
    free(s);
    return 0;
}
