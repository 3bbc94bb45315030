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
    char *s = fz_str(d + 1, n - 1);
    size_t a_len, b_len;
    const char *b;
    fz_split(s, n - 1, &a_len, &b, &b_len);
    char *hyp = fz_str((const uint8_t *)s, a_len), *ref = fz_str((const uint8_t *)b, b_len);
    const char *refs[1] = {ref};
    chrf_score sc;
    chrf_sentence(hyp, refs, 1, &o, &sc);
    const char *hyps[1] = {hyp};
    const char *const *streams[1] = {refs};
    chrf_corpus(hyps, NULL, 1, streams, NULL, 1, &o, &sc);
    free(hyp); free(ref); free(s);
    return 0;
}
