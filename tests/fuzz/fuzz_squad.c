/* SQuAD v2 official computation: dataset JSON '\n' predictions JSON; normalize / EM / F1. */
#include "fuzz_util.h"
#include "eval/squad.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char *s = fz_str(d, n);
    size_t a_len, b_len;
    const char *b;
    fz_split(s, n, &a_len, &b, &b_len);
    squad2_opts o;
    squad2_opts_default(&o);
    squad2_result r;
    memset(&r, 0, sizeof r);
    if (!squad2_evaluate(s, a_len, b, b_len, NULL, 0, &o, &r)) free(squad2_format(&r, 0));
    squad2_result_free(&r);
    free(squad_normalize_answer(s, n));
    char *x = fz_str((const uint8_t *)s, a_len), *y = fz_str((const uint8_t *)b, b_len);
    squad_compute_exact(x, y);
    double f1 = squad_compute_f1(x, y);
    if (!(f1 == -1 || (f1 >= 0 && f1 <= 1))) abort();  /* -1: error recorded (e.g. invalid UTF-8) */
    free(x); free(y); free(s);
    return 0;
}
