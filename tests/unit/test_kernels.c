/* test_kernels.c - the CPU decode kernels against float64 references: the thread pool
 * (every chunk exactly once, nested and tiny jobs, team resizes), the dot-product-tile
 * float32 linear (AVX-512 and AVX2 paths, odd shapes, M = 1..128, K blocks), and the batched
 * decode attention (self and cross, kv row maps, masks, windows, soft-cap) against the
 * per-sequence attention op. */
#include "testutil.h"
#include "backend/backend.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/pool.h"
#include <math.h>
#include <stdatomic.h>
#include <string.h>

static unsigned rng = 12345u;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

/* ---- pool ---- */
static _Atomic int hits[100003];
static void count_chunk(void *ctx, int64_t c0, int64_t c1) {
    (void)ctx;
    for (int64_t i = c0; i < c1; i++) atomic_fetch_add(&hits[i], 1);
}
static void nested_chunk(void *ctx, int64_t c0, int64_t c1) {
    for (int64_t i = c0; i < c1; i++) t5g_pool_for(3, 1, count_chunk, ctx);  /* runs inline */
}

static void test_pool_each_chunk_once(void) {
    int teams[] = {1, 2, 3, 8, 2};
    for (size_t t = 0; t < sizeof teams / sizeof *teams; t++) {
        t5g_pool_set_threads(teams[t]);
        CU_ASSERT_EQUAL(t5g_pool_threads(), teams[t]);
        int64_t sizes[] = {1, 2, 7, 1000, 100003};
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int64_t grain = 1; grain <= 64; grain *= 8) {
                for (int rep = 0; rep < 20; rep++) {
                    memset(hits, 0, sizeof hits);
                    t5g_pool_for(sizes[s], grain, count_chunk, NULL);
                    int bad = 0;
                    for (int64_t i = 0; i < sizes[s]; i++) bad += atomic_load(&hits[i]) != 1;
                    for (int64_t i = sizes[s]; i < sizes[s] + 2 && i < 100003; i++) bad += atomic_load(&hits[i]) != 0;
                    CU_ASSERT_EQUAL(bad, 0);
                }
            }
        memset(hits, 0, sizeof hits);
        t5g_pool_for(50, 1, nested_chunk, NULL);
        CU_ASSERT_EQUAL(atomic_load(&hits[0]), 50);
        CU_ASSERT_EQUAL(atomic_load(&hits[2]), 50);
        CU_ASSERT_EQUAL(atomic_load(&hits[3]), 0);
    }
}

/* ---- float32 linear ---- */
static double check_linear(int M, int N, int K, int ld_pad) {
    int ldx = K + ld_pad, ldw = K + 2 * ld_pad, ldy = N + ld_pad;
    float *x = malloc(sizeof(float) * (size_t)M * ldx), *w = malloc(sizeof(float) * (size_t)N * ldw);
    float *y = malloc(sizeof(float) * (size_t)M * ldy);
    for (size_t i = 0; i < (size_t)M * ldx; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)N * ldw; i++) w[i] = frand();
    for (size_t i = 0; i < (size_t)M * ldy; i++) y[i] = 12345.0f;  /* padding must stay untouched */
    t5g_wmat W = {w, T5G_DT_F32, N, K, ldw, NULL};
    t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, M, ldx, &W, y, ldy);
    double worst = 0;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                ref += (double)x[(size_t)m * ldx + k] * w[(size_t)n * ldw + k];
                mag += fabs((double)x[(size_t)m * ldx + k] * w[(size_t)n * ldw + k]);
            }
            double e = fabs(y[(size_t)m * ldy + n] - ref) / (mag + 1e-30);
            if (e > worst) worst = e;
        }
        for (int n = N; n < ldy; n++)
            if (y[(size_t)m * ldy + n] != 12345.0f) worst = 1;
    }
    free(x); free(w); free(y);
    return worst;
}

static void test_linear_f32_shapes(void) {
    int Ms[] = {1, 2, 3, 5, 6, 7, 13, 16, 31, 64, 65, 100, 128, 129};
    int NK[][2] = {{1, 1}, {3, 5}, {4, 16}, {37, 19}, {130, 67}, {257, 512}, {64, 1000}, {9, 4099}};
    for (int isa = 1; isa >= 0; isa--) {
        t5g_cpu_linear_isa(isa);
        for (int threads = 1; threads <= 2; threads++) {
            t5g_pool_set_threads(threads);
            for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
                for (size_t b = 0; b < sizeof NK / sizeof *NK; b++) {
                    double e = check_linear(Ms[a], NK[b][0], NK[b][1], (int)((a + b) % 3));
                    /* relative to sum |x_k w_k|: float32 accumulation over K terms */
                    if (e > 2e-6) printf("\nM %d N %d K %d isa %d threads %d: rel err %.3g\n", Ms[a], NK[b][0], NK[b][1], isa, threads, e);
                    CU_ASSERT(e <= 2e-6);
                }
        }
    }
    t5g_cpu_linear_isa(1);
}

/* a large-K product goes through several K blocks (M·K above the L2 block size) */
static void test_linear_f32_kblocks(void) {
    t5g_pool_set_threads(2);
    CU_ASSERT(check_linear(128, 40, 3000, 1) <= 4e-6);
    CU_ASSERT(check_linear(100, 8, 7001, 0) <= 4e-6);
}

/* ---- batched attention ---- */
static void attn_case(int rows, int Tq, int Tk, int nh, int nkv, int hd, t5g_mask_kind mask, int window, float cap,
                      int use_map, int with_valid) {
    const t5g_backend *be = t5g_backend_cpu();
    int qw = nh * hd, kvw = nkv * hd, kv_rows = rows;
    size_t nq = (size_t)rows * Tq * qw, nk = (size_t)kv_rows * Tk * kvw;
    float *q = malloc(sizeof(float) * nq), *k = malloc(sizeof(float) * nk), *v = malloc(sizeof(float) * nk);
    float *o1 = calloc(nq, sizeof(float)), *o2 = calloc(nq, sizeof(float));
    float *scratch = malloc(sizeof(float) * (size_t)nh * Tq * Tk);
    unsigned char *valid = malloc((size_t)kv_rows * Tk);
    int32_t *map = malloc(sizeof(int32_t) * rows);
    for (size_t i = 0; i < nq; i++) q[i] = 3 * frand();
    for (size_t i = 0; i < nk; i++) { k[i] = 3 * frand(); v[i] = frand(); }
    for (int r = 0; r < kv_rows; r++)
        for (int j = 0; j < Tk; j++)  /* with_valid 2: kv row 0 fully masked */
            valid[r * Tk + j] = !with_valid || ((j + r) % 5 != 1 && !(with_valid == 2 && r == 0));
    for (int r = 0; r < rows; r++) map[r] = use_map ? (r * 7 + 3) % kv_rows : r;
    t5g_attn_args a;
    memset(&a, 0, sizeof a);
    a.Tq = Tq; a.Tk = Tk; a.nh = nh; a.nkv = nkv; a.hd = hd; a.group = nh / nkv;
    a.ldq = qw; a.ldk = kvw; a.ldv = kvw; a.ldo = qw;
    a.q_pos0 = Tk - Tq; a.mask = mask; a.window = window; a.scale = 1.0f / sqrtf((float)hd); a.softcap = cap;
    a.q = q; a.k = k; a.v = v; a.out = o1; a.key_valid = valid;
    a.scratch = scratch;
    be->attention_batch(be->ctx, &a, rows, (int64_t)Tq * qw, (int64_t)Tq * qw, (int64_t)Tk * kvw, Tk, use_map ? map : NULL);
    double worst = 0;
    for (int r = 0; r < rows; r++) {  /* reference: the per-sequence op */
        t5g_attn_args b = a;
        b.q = q + (size_t)r * Tq * qw; b.out = o2 + (size_t)r * Tq * qw;
        b.k = k + (size_t)map[r] * Tk * kvw; b.v = v + (size_t)map[r] * Tk * kvw;
        b.key_valid = valid + (size_t)map[r] * Tk;
        be->attention(be->ctx, &b);
    }
    for (size_t i = 0; i < nq; i++) {
        double e = fabs(o1[i] - o2[i]);
        if (e > worst) worst = e;
    }
    if (worst > 2e-6)
        printf("\nattention rows %d Tq %d Tk %d nh %d nkv %d hd %d mask %d: max |d| %.3g\n", rows, Tq, Tk, nh, nkv, hd, mask, worst);
    CU_ASSERT(worst <= 2e-6);
    free(q); free(k); free(v); free(o1); free(o2); free(scratch); free(valid); free(map);
}

static void test_attention_batch(void) {
    for (int threads = 1; threads <= 2; threads++) {
        t5g_pool_set_threads(threads);
        attn_case(5, 1, 9, 4, 2, 16, T5G_MASK_CAUSAL, 0, 0, 0, 1);
        attn_case(7, 1, 40, 8, 1, 64, T5G_MASK_CAUSAL_WINDOW, 6, 50.0f, 0, 1);
        attn_case(6, 1, 23, 4, 4, 32, T5G_MASK_BIDIR, 0, 50.0f, 1, 1);   /* cross: beams share rows */
        attn_case(3, 1, 300, 2, 2, 256, T5G_MASK_BIDIR, 0, 0, 1, 0);
        attn_case(4, 3, 12, 4, 2, 8, T5G_MASK_CAUSAL, 0, 20.0f, 0, 1);   /* several queries per row */
        attn_case(2, 17, 17, 4, 2, 16, T5G_MASK_BIDIR_WINDOW, 4, 0, 0, 1);
        attn_case(3, 1, 1, 2, 1, 16, T5G_MASK_CAUSAL, 0, 0, 0, 0);
        attn_case(3, 1, 11, 2, 1, 16, T5G_MASK_CAUSAL_WINDOW, 3, 0, 0, 2);  /* a fully masked row */
        attn_case(4, 2, 11, 2, 2, 16, T5G_MASK_CAUSAL, 0, 0, 1, 2);
    }
}

int main(void) {
    static CU_TestInfo pool[] = {{"each chunk exactly once", test_pool_each_chunk_once}, CU_TEST_INFO_NULL};
    static CU_TestInfo lin[] = {{"f32 shapes, both ISAs, 1-2 threads", test_linear_f32_shapes},
                                {"f32 K blocks", test_linear_f32_kblocks},
                                CU_TEST_INFO_NULL};
    static CU_TestInfo att[] = {{"batched = per sequence", test_attention_batch}, CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"pool", NULL, NULL, NULL, NULL, pool},
                                    {"linear", NULL, NULL, NULL, NULL, lin},
                                    {"attention", NULL, NULL, NULL, NULL, att},
                                    CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
