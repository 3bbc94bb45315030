/* sacreBLEU chrF / chrF++ on hypothesis '\n' reference (the first input byte picks the options). */
#include "fuzz_util.h"
#include "eval/chrf.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    chrf_opts o;
    chrf_opts_default(&o);
    o.word_order = (d[0] & 1) ? 2 : 0;
    o.lowercase = (d[0] >> 1) & 1;
    o.whitespace = (d[0] >> 2) & 1;
    o.eps_smoothing = (d[0] >> 3) & 1;
    fz_pair p;
    fz_pair_make(&p, d + 1, n - 1);
    const char *refs[1] = {p.b_str};
    chrf_score sc;
    chrf_sentence(p.a_str, refs, 1, &o, &sc);
    const char *hyps[1] = {p.a_str};
    const char *const *streams[1] = {refs};
    chrf_corpus(hyps, NULL, 1, streams, NULL, 1, &o, &sc);
    fz_pair_free(&p);
    return 0;
}
