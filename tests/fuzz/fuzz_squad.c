/* SQuAD v2 official computation: dataset JSON '\n' predictions JSON; normalize / EM / F1. */
#include "fuzz_util.h"
#include "eval/squad.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    fz_pair p;
    fz_pair_make(&p, d, n);
    squad2_opts o;
    squad2_opts_default(&o);
    squad2_result r;
    memset(&r, 0, sizeof r);
    if (!squad2_evaluate(p.all, p.a_len, p.b, p.b_len, NULL, 0, &o, &r)) free(squad2_format(&r, 0));
    squad2_result_free(&r);
    free(squad_normalize_answer(p.all, n));
    squad_compute_exact(p.a_str, p.b_str);
    double f1 = squad_compute_f1(p.a_str, p.b_str);
    if (!(f1 == -1 || (f1 >= 0 && f1 <= 1))) abort();  /* -1: error recorded (e.g. invalid UTF-8) */
    fz_pair_free(&p);
    return 0;
}
