/* sacreBLEU tokenizers (13a, intl) and sentence BLEU on hypothesis '\n' reference. */
#include "fuzz_util.h"
#include "eval/bleu.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    fz_pair p;
    fz_pair_make(&p, d, n);
    bleu_opts o;
    bleu_opts_default(&o);
    for (int t = 0; t < 3; t++) {
        o.tokenize = t == 0 ? BLEU_TOK_13A : t == 1 ? BLEU_TOK_INTL : BLEU_TOK_NONE;
        char *out = NULL;
        size_t out_len = 0;
        if (!bleu_preprocess(p.all, p.a_len, &o, &out, &out_len)) free(out);
    }
    const char *refs[1] = {p.b_str};
    bleu_score sc;
    o.tokenize = BLEU_TOK_13A;
    o.effective_order = 1;
    bleu_sentence(p.a_str, refs, 1, &o, &sc);
    fz_pair_free(&p);
    return 0;
}
