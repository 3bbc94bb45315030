/* test_kernels.c - the CPU decode kernels against float64 references: the thread pool
 * (every chunk exactly once, nested and tiny jobs, team resizes), the dot-product-tile
 * float32 linear (AVX-512 and AVX2 paths, odd shapes, M = 1..128, K blocks), the many-row GEMM
 * (gemm_f32.c and its BLIS fallback: odd shapes up to M = 700, beta, strides), and the batched
 * decode attention (self and cross, kv row maps, masks, windows, soft-cap) against the
 * per-sequence attention op, and prefill attention against float64. */
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

/* ---- many-row float32 GEMM (gemm_f32.c; BLIS where disabled) ---- */

/* C = A·op(B) + beta·C against float64, relative to Σ|a·b| (+|beta·c|); padding of C untouched.
 * Returns the worst error (1 for a touched pad or a NaN read from C with beta = 0). */
static double check_gemm(int serial, int tb, int M, int N, int K, float beta, int pad) {
    int lda = K + pad, ldb = (tb ? K : N) + 2 * pad, ldc = N + pad;
    size_t nb = tb ? (size_t)N * ldb : (size_t)K * ldb;
    float *A = malloc(sizeof(float) * ((size_t)M * lda + 1)), *B = malloc(sizeof(float) * (nb + 1));
    float *C = malloc(sizeof(float) * (size_t)M * ldc), *C0 = malloc(sizeof(float) * (size_t)M * ldc);
    for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < (size_t)M * ldc; i++) C0[i] = C[i] = (int)(i % ldc) >= N ? 12345.0f : beta == 0.0f ? NAN : frand();
    if (serial) t5g_cpu_sgemm_serial(tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    else t5g_cpu_sgemm(tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    double worst = 0;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double c0 = beta == 0.0f ? 0.0 : (double)beta * C0[(size_t)m * ldc + n], ref = c0, mag = fabs(c0);
            for (int k = 0; k < K; k++) {
                double p = (double)A[(size_t)m * lda + k] * (tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
                ref += p;
                mag += fabs(p);
            }
            double e = fabs(C[(size_t)m * ldc + n] - ref) / (mag + 1e-30);
            if (!(e <= worst)) worst = e != e ? 1 : e;
        }
        for (int n = N; n < ldc; n++)
            if (C[(size_t)m * ldc + n] != 12345.0f) worst = 1;
    }
    free(A); free(B); free(C); free(C0);
    return worst;
}

static void test_gemm_f32_shapes(void) {
    /* edges of the 14 x 32 tile, of the 16-wide packing, of the 512 K and N blocks */
    int fixed[][3] = {{1, 1, 1}, {14, 32, 16}, {15, 33, 17}, {13, 31, 15}, {28, 64, 512}, {29, 65, 513},
                      {257, 40, 64}, {300, 513, 130}, {700, 45, 333}, {512, 64, 512}, {2, 1100, 7}, {41, 9, 1100}};
    for (int isa = 1; isa >= 0; isa--) {
        t5g_cpu_linear_isa(isa);
        rng = 777u;
        for (int c = 0; c < 12 + 40; c++) {
            int M, N, K;
            if (c < 12) {
                M = fixed[c][0]; N = fixed[c][1]; K = fixed[c][2];
            } else {  /* random odd shapes, M up to 700, at most ~6M multiply-adds */
                M = 1 + (int)((frand() + 0.5f) * 699.0f);
                N = 1 + (int)((frand() + 0.5f) * 299.0f);
                K = 1 + (int)((frand() + 0.5f) * 1099.0f);
                while ((double)M * N * K > 6e6) K = K / 2 + 1;
            }
            float betas[] = {0.0f, 1.0f, 0.5f};
            for (int v = 0; v < 6; v++) {
                int tb = v & 1, serial = (v >> 1) == 1, threads = 1 + (c + v) % 2;
                t5g_pool_set_threads(threads);
                double e = check_gemm(serial, tb, M, N, K, betas[(c + v) % 3], (c + v) % 3);
                if (e > 2e-6)
                    printf("\ngemm M %d N %d K %d tb %d beta %g serial %d threads %d isa %d: rel err %.3g\n", M, N, K, tb,
                           betas[(c + v) % 3], serial, threads, isa, e);
                CU_ASSERT(e <= 2e-6);
            }
        }
    }
    t5g_cpu_linear_isa(1);
}

/* A row's result depends on K alone: the same bits for any M, row position or thread count
 * (TP = 1 and 2 and any --threads give the same encoder output). */
static void test_gemm_f32_rows_independent(void) {
    if (!t5g_gemm_f32_native()) {
        printf("\n(no AVX-512 here: BLIS is used, nothing of gemm_f32.c to check)\n");
        return;
    }
    int M = 333, N = 70, K = 600;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < N * K; i++) B[i] = frand();
    t5g_pool_set_threads(2);
    CU_ASSERT_EQUAL(t5g_gemm_f32(1, 1, M, N, K, A, K, B, K, 0.0f, C1, N), 0);
    t5g_pool_set_threads(1);
    int bad = 0;
    for (int m0 = 0; m0 < M; m0 += 37) {  /* 5 rows from row m0, alone */
        int rows = M - m0 < 5 ? M - m0 : 5;
        CU_ASSERT_EQUAL(t5g_gemm_f32(0, 1, rows, N, K, A + (size_t)m0 * K, K, B, K, 0.0f, C2, N), 0);
        bad += memcmp(C2, C1 + (size_t)m0 * N, sizeof(float) * rows * N) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(A); free(B); free(C1); free(C2);
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

/* Prefill attention (several queries per row: packed GEMMs and the vector softmax) against a
 * float64 reference of HF eager: scale, soft-cap, mask, softmax, P·V; a fully masked row gives
 * uniform weights over all keys. */
static double attn_ref_case(int rows, int T, int nh, int hd, t5g_mask_kind mask, int W, float cap, int pad_keys) {
    const t5g_backend *be = t5g_backend_cpu();
    int qw = nh * hd;
    size_t n = (size_t)rows * T * qw;
    float *q = malloc(sizeof(float) * n), *k = malloc(sizeof(float) * n), *v = malloc(sizeof(float) * n);
    float *o = malloc(sizeof(float) * n), *scratch = malloc(sizeof(float) * (size_t)nh * T * T);
    unsigned char *valid = malloc((size_t)rows * T);
    double *p = malloc(sizeof(double) * T);
    for (size_t i = 0; i < n; i++) { q[i] = 4 * frand(); k[i] = 4 * frand(); v[i] = frand(); }
    for (int r = 0; r < rows; r++)  /* row 0: the last pad_keys keys are padding; row 1 (pad_keys < 0): all */
        for (int j = 0; j < T; j++) valid[r * T + j] = !((r == 0 && j >= T - pad_keys) || (r == 1 && pad_keys < 0));
    t5g_attn_args a;
    memset(&a, 0, sizeof a);
    a.Tq = T; a.Tk = T; a.nh = nh; a.nkv = nh; a.hd = hd; a.group = 1;
    a.q = q; a.ldq = qw; a.k = k; a.ldk = qw; a.v = v; a.ldv = qw; a.out = o; a.ldo = qw;
    a.key_valid = valid; a.mask = mask; a.window = W; a.scale = 1.0f / sqrtf((float)hd); a.softcap = cap;
    a.scratch = scratch;
    be->attention_batch(be->ctx, &a, rows, (int64_t)T * qw, (int64_t)T * qw, (int64_t)T * qw, T, NULL);
    double worst = 0;
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < T; i++) {
                const float *qi = q + ((size_t)r * T + i) * qw + h * hd;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < T; j++) {
                    int in = mask == T5G_MASK_CAUSAL ? j <= i : mask == T5G_MASK_BIDIR_WINDOW ? abs(i - j) <= W : 1;
                    p[j] = -INFINITY;
                    if (!in || !valid[r * T + j]) continue;
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += (double)qi[c] * k[((size_t)r * T + j) * qw + h * hd + c];
                    d *= a.scale;
                    if (cap > 0) d = cap * tanh(d / cap);
                    p[j] = d;
                    if (d > mx) mx = d;
                }
                for (int j = 0; j < T; j++) sum += p[j] = mx == -INFINITY ? 1.0 : exp(p[j] - mx);
                for (int c = 0; c < hd; c++) {
                    double ref = 0;
                    for (int j = 0; j < T; j++) ref += p[j] / sum * v[((size_t)r * T + j) * qw + h * hd + c];
                    double e = fabs(o[((size_t)r * T + i) * qw + h * hd + c] - ref);
                    if (!(e <= worst)) worst = e != e ? 1 : e;
                }
            }
    free(q); free(k); free(v); free(o); free(scratch); free(valid); free(p);
    return worst;
}

static void test_attention_prefill_ref(void) {
    for (int isa = 1; isa >= 0; isa--) {
        t5g_cpu_linear_isa(isa);
        for (int threads = 1; threads <= 2; threads++) {
            t5g_pool_set_threads(threads);
            struct { int rows, T, nh, hd; t5g_mask_kind mask; int W; float cap; int pad; } c[] = {
                {2, 37, 3, 16, T5G_MASK_BIDIR, 0, 50.0f, 5}, {3, 64, 2, 64, T5G_MASK_BIDIR, 0, 0, -1},
                {2, 29, 2, 32, T5G_MASK_CAUSAL, 0, 20.0f, 3}, {2, 50, 2, 8, T5G_MASK_BIDIR_WINDOW, 7, 50.0f, 0},
                {1, 130, 1, 64, T5G_MASK_BIDIR, 0, 50.0f, 17}};
            for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
                double e = attn_ref_case(c[i].rows, c[i].T, c[i].nh, c[i].hd, c[i].mask, c[i].W, c[i].cap, c[i].pad);
                if (e > 2e-6) printf("\nprefill attention case %zu isa %d threads %d: max |d| %.3g\n", i, isa, threads, e);
                CU_ASSERT(e <= 2e-6);
            }
        }
    }
    t5g_cpu_linear_isa(1);
}

int main(void) {
    static CU_TestInfo pool[] = {{"each chunk exactly once", test_pool_each_chunk_once}, CU_TEST_INFO_NULL};
    static CU_TestInfo lin[] = {{"f32 shapes, both ISAs, 1-2 threads", test_linear_f32_shapes},
                                {"f32 K blocks", test_linear_f32_kblocks},
                                {"gemm f32 odd shapes vs float64, both paths", test_gemm_f32_shapes},
                                {"gemm f32 rows independent of M and threads", test_gemm_f32_rows_independent},
                                CU_TEST_INFO_NULL};
    static CU_TestInfo att[] = {{"batched = per sequence", test_attention_batch},
                                {"prefill vs float64, both paths", test_attention_prefill_ref},
                                CU_TEST_INFO_NULL};
    static CU_SuiteInfo suites[] = {{"pool", NULL, NULL, NULL, NULL, pool},
                                    {"linear", NULL, NULL, NULL, NULL, lin},
                                    {"attention", NULL, NULL, NULL, NULL, att},
                                    CU_SUITE_INFO_NULL};
    return t5g_test_main(suites);
}
