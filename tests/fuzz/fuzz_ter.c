/* sacreBLEU TER (Tercom tokenizer, shifts, beam edit distance) on hypothesis '\n' reference;
 * the first input byte picks the options. */
#include "fuzz_util.h"
#include "eval/ter.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    ter_opts o;
    ter_opts_default(&o);
    o.normalized = d[0] & 1;
    o.no_punct = (d[0] >> 1) & 1;
    o.asian_support = (d[0] >> 2) & 1;
    o.case_sensitive = (d[0] >> 3) & 1;
    char *s = fz_str(d + 1, n - 1);
    size_t a_len, b_len;
    const char *b;
    fz_split(s, n - 1, &a_len, &b, &b_len);
    char *tok = NULL;
    size_t tok_len = 0;
    if (!ter_tokenize(s, a_len, &o, &tok, &tok_len)) free(tok);
    char *hyp = fz_str((const uint8_t *)s, a_len), *ref = fz_str((const uint8_t *)b, b_len);
    const char *refs[1] = {ref};
    ter_score sc;
    ter_sentence(hyp, refs, 1, &o, &sc);
    free(hyp); free(ref); free(s);
    return 0;
}
