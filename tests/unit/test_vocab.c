/* test_vocab.c - the per-step vocabulary statistics (src/parallel/vocab.c) against plain
 * loops: argmax (first maximum), log-sum-exp (double reference), top-k (ties to the lower id,
 * k up to and beyond 256), on rows with ties, -inf and odd lengths (NaN rows: argmax only), with 1 and 2 pool
 * threads.  The vectorised code must choose exactly what the loops choose. */
#include "testutil.h"
#include "backend/cpu/pool.h"
#include "parallel/vocab.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static float urand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (rng >> 8) * (1.0f / 16777216.0f);
}

/* rows of different character: random, coarse values (many ties), a late maximum, -inf/NaN */
static void fill(float *x, int rows, int nv) {
    for (int r = 0; r < rows; r++) {
        float *y = x + (size_t)r * nv;
        for (int i = 0; i < nv; i++) {
            switch (r % 5) {
            case 0: y[i] = 20.0f * urand() - 10.0f; break;
            case 1: y[i] = (float)(int)(8.0f * urand()); break;  /* ties everywhere */
            case 2: y[i] = -1.0f + 0.001f * (float)i; break;         /* maximum at the end */
            case 3: y[i] = urand() < 0.3f ? -INFINITY : 5.0f * urand(); break;
            default: y[i] = urand() < 0.01f ? NAN : 3.0f * urand(); break;
            }
        }
    }
}

static int ref_argmax(const float *x, int nv) {
    int b = 0;
    for (int i = 1; i < nv; i++) if (x[i] > x[b]) b = i;
    return b;
}

static int cmp_desc(const void *a, const void *b) {
    const t5g_cand *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void check_shape(int rows, int nv, int k) {
    float *x = malloc(sizeof(float) * rows * nv);
    fill(x, rows, nv);
    int *ids = malloc(sizeof(int) * rows);
    float *vals = malloc(sizeof(float) * rows), *lse = malloc(sizeof(float) * rows), *add = malloc(sizeof(float) * rows);
    t5g_cand *out = malloc(sizeof(t5g_cand) * rows * k), *ref = malloc(sizeof(t5g_cand) * nv);
    CU_ASSERT_EQUAL_FATAL(t5g_vocab_argmax(NULL, x, rows, nv, 7, ids, vals), 0);
    CU_ASSERT_EQUAL_FATAL(t5g_vocab_logsumexp(NULL, x, rows, nv, lse), 0);
    for (int r = 0; r < rows; r++) add[r] = -0.5f * (float)r;
    float *sub = malloc(sizeof(float) * rows);  /* finite: rows with NaN have a NaN lse */
    for (int r = 0; r < rows; r++) sub[r] = r % 5 == 4 ? 1.25f : lse[r];
    CU_ASSERT_EQUAL_FATAL(t5g_vocab_topk(NULL, x, rows, nv, 7, k, sub, add, out), 0);
    int bad_arg = 0, bad_topk = 0;
    double worst_lse = 0;
    for (int r = 0; r < rows; r++) {
        const float *y = x + (size_t)r * nv;
        int b = ref_argmax(y, nv);
        bad_arg += ids[r] != 7 + b || memcmp(&vals[r], &y[b], sizeof(float));
        if (r % 5 != 4) {  /* rows with NaN have no finite log-sum-exp */
            double m = -INFINITY, s = 0;
            for (int i = 0; i < nv; i++) m = fmax(m, y[i]);
            for (int i = 0; i < nv; i++) s += exp((double)y[i] - m);
            worst_lse = fmax(worst_lse, fabs((m + log(s)) - lse[r]));
        }
        if (r % 5 == 4) continue;  /* NaN logits have no order to compare against */
        /* top-k reference: stable full sort of (value, id) with the same float arithmetic */
        int n = 0;
        for (int i = 0; i < nv; i++) {
            float v = (y[i] - sub[r]) + add[r];
            ref[n].value = v;
            ref[n].id = 7 + i;
            n++;
        }
        qsort(ref, n, sizeof *ref, cmp_desc);
        for (int q = 0; q < k; q++) {
            const t5g_cand *o = &out[(size_t)r * k + q];
            if (q < n && q < nv) bad_topk += o->id != ref[q].id || o->value != ref[q].value;
            else bad_topk += o->id != 0x7fffffff || o->value != -INFINITY;
        }
    }
    CU_ASSERT_EQUAL(bad_arg, 0);
    CU_ASSERT_EQUAL(bad_topk, 0);
    CU_ASSERT(worst_lse < 1e-5);
    if (bad_arg || bad_topk || worst_lse >= 1e-5)
        printf("\n    rows %d nv %d k %d: argmax %d wrong, top-k %d wrong, lse |diff| %.2e", rows, nv, k, bad_arg, bad_topk,
               worst_lse);
    free(x); free(ids); free(vals); free(lse); free(add); free(sub); free(out); free(ref);
}

static void test_statistics(void) {
    const int shapes[][3] = {{1, 1, 1}, {3, 7, 4}, {5, 33, 8}, {10, 1000, 8}, {7, 4099, 50}, {5, 300, 300}, {3, 5000, 700}, {33, 2053, 2}};
    for (int threads = 1; threads <= 2; threads++) {
        t5g_pool_set_threads(threads);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_shape(shapes[i][0], shapes[i][1], shapes[i][2]);
    }
}

int main(void) {
    static CU_TestInfo tests[] = {{"argmax / log-sum-exp / top-k == plain loops", test_statistics}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"vocab", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
