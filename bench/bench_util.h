/* bench_util.h - what the benchmark programs share: medians of repeated timings, reproducible
 * random matrices, and the generation settings of a greedy or beam run. */
#ifndef T5G_BENCH_UTIL_H
#define T5G_BENCH_UTIL_H
#include "generate/generate.h"
#include <stdint.h>
#include <stdlib.h>

static inline int bench_cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (v is sorted in place). */
static inline double median(double *v, int n) {
    qsort(v, n, sizeof *v, bench_cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* n floats in [-0.05, 0.05) from an LCG seeded with seed (malloc'd). */
static inline float *rnd(size_t n, unsigned seed) {
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; p && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = ((seed >> 9) * (1.0f / 8388608.0f) - 0.5f) * 0.1f;
    }
    return p;
}

/* Encoder ids 3 + (i * mul) % span for i in [0, n), the span capped at vocab - 3 so that a small
 * preset's vocabulary holds them (with the t5gemma presets' 256000 they are unchanged). */
static inline void bench_ids(int32_t *ids, size_t n, long mul, int span, int vocab) {
    int s = vocab - 3 < span ? vocab - 3 : span;
    for (size_t i = 0; i < n; i++) ids[i] = 3 + (int32_t)((long)i * mul % s);
}

/* Greedy (beams 1) or beam search of new_tokens tokens over batches of batch requests. */
static inline void bench_gen_opts(t5g_gen_opts *o, int batch, int beams, int new_tokens) {
    t5g_gen_defaults(o);
    o->max_new_tokens = new_tokens;
    o->batch_size = batch;
    if (beams > 1) {
        o->search = "beam";
        o->num_beams = beams;
    }
}
#endif
