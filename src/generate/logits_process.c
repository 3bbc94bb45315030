/* logits_process.c - see logits_process.h.  Semantics read in transformers 5.25
 * generation/logits_process.py:
 *   RepetitionPenaltyLogitsProcessor: every distinct id of the decoder ids so far (start token
 *     included): score < 0 ? score * p : score / p;
 *   NoRepeatNGramLogitsProcessor(n): with cur_len ids, when cur_len + 1 >= n, every id that
 *     followed an earlier occurrence of the last n - 1 ids is banned (-inf);
 *   MinNewTokensLengthLogitsProcessor: while fewer than min_new_tokens ids were generated (the
 *     start token is the prompt), every eos id is banned.
 * Order (GenerationMixin._get_logits_processor): repetition penalty, no-repeat n-gram, min new
 * tokens. */
#include "generate/logits_process.h"
#include "core/err.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int t5g_process_validate(const t5g_gen_opts *o) {
    T5G_CHECK(o->min_new_tokens >= 0 && o->min_new_tokens <= o->max_new_tokens,
              "--min-new-tokens must be between 0 and --max-new-tokens (%d)", o->max_new_tokens);
    T5G_CHECK(isfinite(o->repetition_penalty) && o->repetition_penalty > 0,
              "--repetition-penalty must be a finite number > 0 (1 = off)");
    T5G_CHECK(o->no_repeat_ngram_size >= 0 && o->no_repeat_ngram_size <= 1024,
              "--no-repeat-ngram-size must be 0..1024");
    return 0;
}

int t5g_processing_on(const t5g_gen_opts *o) {
    return o->repetition_penalty != 1.0f || o->no_repeat_ngram_size > 0 || o->min_new_tokens > 0;
}

/* Set a processed value: raw mode stores v; log-probability mode stores x with x - lse == v
 * (nudged by ulps when lse + v rounds: the top-k computes x - lse again). */
static void store(float *x, float v, float lse) {
    if (isnan(lse) || isinf(v)) {
        *x = v;
        return;
    }
    float y = lse + v;
    for (int i = 0; i < 4 && y - lse != v; i++) y = nextafterf(y, y - lse < v ? INFINITY : -INFINITY);
    *x = y;
}

static float value(float x, float lse) {
    return isnan(lse) ? x : x - lse;
}

static int cmp_id(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void repetition(float p, float *x, int nv, int v0, const int32_t *ids, int n, float lse, int32_t *uniq) {
    memcpy(uniq, ids, sizeof(int32_t) * n);
    qsort(uniq, n, sizeof(int32_t), cmp_id);
    for (int i = 0; i < n; i++) {
        if (i > 0 && uniq[i] == uniq[i - 1]) continue; /* each id once, as HF's gather/scatter */
        int c = uniq[i] - v0;
        if (c < 0 || c >= nv) continue; /* another rank's slice */
        float s = value(x[c], lse);
        store(&x[c], s < 0 ? s * p : s / p, lse);
    }
}

static void no_repeat_ngram(int ng, float *x, int nv, int v0, const int32_t *ids, int n) {
    if (n + 1 < ng) return;
    const int32_t *tail = ids + n - (ng - 1); /* the last n - 1 ids */
    for (int s = 0; s + ng <= n; s++) {       /* every complete earlier n-gram */
        if (memcmp(ids + s, tail, sizeof(int32_t) * (ng - 1))) continue;
        int c = ids[s + ng - 1] - v0;
        if (c >= 0 && c < nv) x[c] = -INFINITY;
    }
}

void t5g_process_row(const t5g_gen_opts *o, const int *eos, int n_eos, float *x, int nv, int v0, const int32_t *ids,
                     int n, int prompt, float lse, int32_t *scratch) {
    if (o->repetition_penalty != 1.0f) repetition(o->repetition_penalty, x, nv, v0, ids, n, lse, scratch);
    if (o->no_repeat_ngram_size > 0) no_repeat_ngram(o->no_repeat_ngram_size, x, nv, v0, ids, n);
    if (o->min_new_tokens > 0 && n - prompt < o->min_new_tokens)
        for (int i = 0; i < n_eos; i++) {
            int c = eos[i] - v0;
            if (c >= 0 && c < nv) x[c] = -INFINITY;
        }
}
