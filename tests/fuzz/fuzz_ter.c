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
    fz_pair p;
    fz_pair_make(&p, d + 1, n - 1);
    char *tok = NULL;
    size_t tok_len = 0;
    if (!ter_tokenize(p.all, p.a_len, &o, &tok, &tok_len)) free(tok);
    const char *refs[1] = {p.b_str};
    ter_score sc;
    ter_sentence(p.a_str, refs, 1, &o, &sc);
    fz_pair_free(&p);
    return 0;
}
