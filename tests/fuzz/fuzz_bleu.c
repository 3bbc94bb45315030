/* sacreBLEU tokenizers (13a, intl) and sentence BLEU on hypothesis '\n' reference. */
#include "fuzz_util.h"
#include "eval/bleu.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char *s = fz_str(d, n);
    size_t a_len, b_len;
    const char *b;
    fz_split(s, n, &a_len, &b, &b_len);
    bleu_opts o;
    bleu_opts_default(&o);
    for (int t = 0; t < 3; t++) {
        o.tokenize = t == 0 ? BLEU_TOK_13A : t == 1 ? BLEU_TOK_INTL : BLEU_TOK_NONE;
        char *out = NULL;
        size_t out_len = 0;
        if (!bleu_preprocess(s, a_len, &o, &out, &out_len)) free(out);
    }
    char *hyp = fz_str((const uint8_t *)s, a_len), *ref = fz_str((const uint8_t *)b, b_len);
    const char *refs[1] = {ref};
    bleu_score sc;
    o.tokenize = BLEU_TOK_13A;
    o.effective_order = 1;
    bleu_sentence(hyp, refs, 1, &o, &sc);
    free(hyp); free(ref); free(s);
    return 0;
}
