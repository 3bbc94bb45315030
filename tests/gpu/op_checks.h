/* op_checks.h - every op of a device backend against the CPU backend, on random inputs.
 * Shared by tests/gpu/test_cuda_ops.c (the real GPU) and tests/gpu/test_cuda_emu.cc (the
 * same kernels emulated on the host); C that also compiles as C++.
 *
 * Error measures (printed for every case):
 *  - element-wise ops: max_i |got - ref| / max(|ref|, 1)      tolerance 1e-5
 *  - gemm, f32 linear, attention:  max_i |got - ref| / max_i |ref|   tolerance 1e-4
 *    (float32 sums in another order; attention outputs are averages of v, |ref| ~ 1)
 *  - bf16 linear vs the CPU's bf16 linear (float32 activations): same measure, tolerance
 *    t5g_dut.bf16_tol (rounding the activations to bf16 gives ~1.3e-3)
 *  - argmax, top-k, bf16 rounding: exact (ids and values bit for bit). */
#ifndef T5G_OP_CHECKS_H
#define T5G_OP_CHECKS_H
#ifdef __cplusplus
extern "C" {
#endif
#include "backend/backend.h"
#include "backend/cuda/cuda_ops.h"
#include "core/err.h"
#include "io/ckpt.h"
#include "parallel/vocab.h"
#ifdef __cplusplus
}
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const t5g_backend *be;   /* backend under test: every pointer is its memory */
    int has_gemm;            /* 0: gemm and f32 linear are not under test (the emulator has no cuBLAS) */
    int has_errors;          /* 1: check the sticky-error model (sync returns an op's failure) */
    int big;                 /* 1: GPU-sized cases; 0: small cases for the emulator */
    double bf16_tol;         /* bf16 linear vs the CPU's */
    /* the cuda_ops.h functions (ctx = be->ctx) */
    int (*argmax)(void *ctx, const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out);
    int (*topk)(void *ctx, const float *x, int rows, int n, int ld, int v0, int k, const float *lse, const float *add,
                t5g_cuda_cand *out);
    int (*to_bf16)(void *ctx, const float *src, uint16_t *dst, size_t n);
    void (*set_attention_path)(void *ctx, int path);
} t5g_dut;

static int chk_failures, chk_cases;
static uint64_t chk_rng = 0x9E3779B97F4A7C15ull;

static float chk_uniform(float lo, float hi) { /* xorshift64* */
    chk_rng ^= chk_rng >> 12; chk_rng ^= chk_rng << 25; chk_rng ^= chk_rng >> 27;
    uint64_t r = chk_rng * 2685821657736338717ull;
    return lo + (hi - lo) * (float)((r >> 40) * (1.0 / 16777216.0));
}
static float *chk_rand(size_t n, float lo, float hi) {
    float *x = (float *)malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) x[i] = chk_uniform(lo, hi);
    return x;
}
static void *chk_up(const t5g_dut *d, const void *h, size_t bytes) {
    void *p = d->be->alloc(d->be->ctx, bytes ? bytes : 4);
    if (!p) { fprintf(stderr, "device alloc of %zu bytes failed\n", bytes); exit(1); }
    d->be->copy(d->be->ctx, p, h, bytes, T5G_COPY_H2D);
    return p;
}
static void *chk_down(const t5g_dut *d, const void *p, size_t bytes) {
    void *h = malloc(bytes ? bytes : 4);
    if (d->be->sync(d->be->ctx)) {
        printf("FAIL sync before a download: %s\n", t5g_last_error());
        chk_failures++;
    }
    d->be->copy(d->be->ctx, h, p, bytes, T5G_COPY_D2H);
    return h;
}

/* mode 0: element-wise relative (floor 1); mode 1: relative to max |ref| */
static void chk_report(const char *what, const float *got, const float *ref, size_t n, int mode, double tol) {
    double err = 0, scale = 1e-30;
    if (mode == 1) for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / (mode == 1 ? scale : fmax(fabs(ref[i]), 1.0));
        if (!(e <= err)) err = e; /* NaN propagates */
    }
    int ok = err <= tol;
    chk_cases++;
    if (!ok) chk_failures++;
    printf("%s %-64s err %.3g (tol %.0e)\n", ok ? "ok  " : "FAIL", what, err, tol);
}
static void chk_exact(const char *what, int ok) {
    chk_cases++;
    if (!ok) chk_failures++;
    printf("%s %-64s %s\n", ok ? "ok  " : "FAIL", what, ok ? "exact" : "MISMATCH");
}

static void chk_elementwise(const t5g_dut *d) {
    const t5g_backend *cpu = t5g_backend_cpu(), *be = d->be;
    size_t n = d->big ? 3000017 : 5003;
    char name[128];
    float *a = chk_rand(n, -6, 6), *b = chk_rand(n, -2, 2), *r = (float *)malloc(sizeof(float) * n);
    float *da = (float *)chk_up(d, a, sizeof(float) * n), *db = (float *)chk_up(d, b, sizeof(float) * n);
    float *dr = (float *)be->alloc(be->ctx, sizeof(float) * n);

    memcpy(r, a, sizeof(float) * n);
    cpu->add(cpu->ctx, r, b, n);
    be->copy(be->ctx, dr, da, sizeof(float) * n, T5G_COPY_D2D);
    be->add(be->ctx, dr, db, n);
    float *g = (float *)chk_down(d, dr, sizeof(float) * n);
    snprintf(name, sizeof name, "add n=%zu (after a D2D copy)", n);
    chk_report(name, g, r, n, 0, 1e-5);
    free(g);

    float *big = chk_rand(n, -120, 120);
    memcpy(r, big, sizeof(float) * n);
    cpu->softcap(cpu->ctx, r, n, 30.0f);
    be->copy(be->ctx, dr, big, sizeof(float) * n, T5G_COPY_H2D);
    be->softcap(be->ctx, dr, n, 30.0f);
    g = (float *)chk_down(d, dr, sizeof(float) * n);
    snprintf(name, sizeof name, "softcap cap=30 n=%zu", n);
    chk_report(name, g, r, n, 0, 1e-5);
    free(g); free(big);

    cpu->gelu_mul(cpu->ctx, a, b, r, n);
    be->gelu_mul(be->ctx, da, db, dr, n);
    g = (float *)chk_down(d, dr, sizeof(float) * n);
    snprintf(name, sizeof name, "gelu_mul gate in [-6,6] n=%zu", n);
    chk_report(name, g, r, n, 0, 1e-5);
    free(g);

    be->gelu_mul(be->ctx, da, db, da, n); /* in place on the gate, as forward.c does */
    g = (float *)chk_down(d, da, sizeof(float) * n);
    chk_report("gelu_mul in place", g, r, n, 0, 1e-5);
    free(g);

    be->zero(be->ctx, dr, sizeof(float) * n);
    g = (float *)chk_down(d, dr, sizeof(float) * n);
    memset(r, 0, sizeof(float) * n);
    chk_report("zero", g, r, n, 0, 0);
    free(g);

    be->release(be->ctx, da); be->release(be->ctx, db); be->release(be->ctx, dr);
    free(a); free(b); free(r);
}

/* embedding rows of each weight dtype, row stride ld > H, ids partly outside the slice */
static void chk_embed(const t5g_dut *d, t5g_dtype dt) {
    const int Vl = 53, H = d->big ? 2304 : 67, ld = H + 3, v0 = 100, T = 41;
    static const size_t esz[3] = {4, 2, 1};
    float *E = chk_rand((size_t)Vl * ld, -1, 1), *rs = chk_rand(Vl, 0.001f, 0.02f);
    unsigned char *raw = (unsigned char *)malloc(esz[dt] * Vl * ld);
    for (size_t i = 0; i < (size_t)Vl * ld; i++) {
        if (dt == T5G_DT_F32) ((float *)raw)[i] = E[i];
        else if (dt == T5G_DT_BF16) ((uint16_t *)raw)[i] = t5g_f32_to_bf16(E[i]);
        else ((int8_t *)raw)[i] = (int8_t)lrintf(E[i] * 127.0f);
    }
    int32_t ids[41];
    for (int t = 0; t < T; t++) ids[t] = v0 - 5 + (int)chk_uniform(0, (float)Vl + 10); /* some outside the slice */
    ids[0] = v0; ids[1] = v0 + Vl - 1; ids[2] = v0 + Vl; ids[3] = v0 - 1;
    float *r = (float *)malloc(sizeof(float) * T * H);
    t5g_wmat W = {raw, dt, Vl, H, ld, dt == T5G_DT_INT8 ? rs : NULL};
    t5g_backend_cpu()->embed(t5g_backend_cpu()->ctx, &W, v0, ids, T, 48.0f, r);
    W.data = chk_up(d, raw, esz[dt] * Vl * ld);
    if (dt == T5G_DT_INT8) W.scale = (float *)chk_up(d, rs, sizeof(float) * Vl);
    float *dr = (float *)d->be->alloc(d->be->ctx, sizeof(float) * T * H);
    int32_t *dids = (int32_t *)chk_up(d, ids, sizeof ids);
    d->be->embed(d->be->ctx, &W, v0, dids, T, 48.0f, dr);
    float *g = (float *)chk_down(d, dr, sizeof(float) * T * H);
    static const char *dn[3] = {"f32", "bf16", "int8"};
    char name[128];
    snprintf(name, sizeof name, "embed %s Vl=%d H=%d ld=%d T=%d v0=%d (ids outside -> 0)", dn[dt], Vl, H, ld, T, v0);
    chk_report(name, g, r, (size_t)T * H, 0, 1e-5);
    free(g); free(E); free(rs); free(raw); free(r);
    d->be->release(d->be->ctx, W.data); d->be->release(d->be->ctx, dr); d->be->release(d->be->ctx, dids);
    if (W.scale) d->be->release(d->be->ctx, W.scale);
}

static void chk_rmsnorm_case(const t5g_dut *d, int rows, int n, int inplace) {
    size_t N = (size_t)rows * n;
    float *x = chk_rand(N, -3, 3), *w = chk_rand(n, -0.5f, 0.5f), *r = (float *)malloc(sizeof(float) * N);
    t5g_backend_cpu()->rmsnorm(t5g_backend_cpu()->ctx, x, w, r, rows, n, 1e-6f);
    float *dx = (float *)chk_up(d, x, sizeof(float) * N), *dw = (float *)chk_up(d, w, sizeof(float) * n);
    float *dy = inplace ? dx : (float *)d->be->alloc(d->be->ctx, sizeof(float) * N);
    d->be->rmsnorm(d->be->ctx, dx, dw, dy, rows, n, 1e-6f);
    float *g = (float *)chk_down(d, dy, sizeof(float) * N);
    char name[128];
    snprintf(name, sizeof name, "rmsnorm rows=%d n=%d%s", rows, n, inplace ? " in place" : "");
    chk_report(name, g, r, N, 0, 1e-5);
    free(g); free(x); free(w); free(r);
    if (!inplace) d->be->release(d->be->ctx, dy);
    d->be->release(d->be->ctx, dx); d->be->release(d->be->ctx, dw);
}

static void chk_rope_case(const t5g_dut *d, int Tq, int rowsb, int nheads, int hd, int pad, int pos0, float theta,
                          float factor) {
    int T = Tq * rowsb, ld = nheads * hd + pad;
    size_t N = (size_t)T * ld;
    float *x = chk_rand(N, -2, 2), *r = (float *)malloc(sizeof(float) * N);
    memcpy(r, x, sizeof(float) * N);
    const t5g_backend *cpu = t5g_backend_cpu();
    if (factor) cpu->rope_scaled(cpu->ctx, r, T, ld, nheads, hd, Tq, pos0, theta, factor);
    else cpu->rope(cpu->ctx, r, T, ld, nheads, hd, Tq, pos0, theta);
    float *dx = (float *)chk_up(d, x, sizeof(float) * N);
    if (factor) d->be->rope_scaled(d->be->ctx, dx, T, ld, nheads, hd, Tq, pos0, theta, factor);
    else d->be->rope(d->be->ctx, dx, T, ld, nheads, hd, Tq, pos0, theta);
    float *g = (float *)chk_down(d, dx, sizeof(float) * N);
    char name[128];
    snprintf(name, sizeof name, "rope%s T=%d (rows of %d) heads=%d hd=%d ld=%d pos0=%d theta=%g", factor ? "_scaled" : "",
             T, Tq, nheads, hd, ld, pos0, theta);
    if (factor) snprintf(name + strlen(name), sizeof name - strlen(name), " factor=%g", factor);
    chk_report(name, g, r, N, 0, 1e-5);
    free(g); free(x); free(r);
    d->be->release(d->be->ctx, dx);
}

static void chk_gemm_case(const t5g_dut *d, int tb, int M, int N, int K, float alpha, float beta, int pad) {
    int lda = K + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)M * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = chk_rand(na, -1, 1), *B = chk_rand(nb, -1, 1), *C = chk_rand(nc, -1, 1);
    float *dA = (float *)chk_up(d, A, sizeof(float) * na), *dB = (float *)chk_up(d, B, sizeof(float) * nb);
    float *dC = (float *)chk_up(d, C, sizeof(float) * nc);
    t5g_backend_cpu()->gemm(t5g_backend_cpu()->ctx, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    d->be->gemm(d->be->ctx, tb, M, N, K, alpha, dA, lda, dB, ldb, beta, dC, ldc);
    float *g = (float *)chk_down(d, dC, sizeof(float) * nc);
    char name[128];
    snprintf(name, sizeof name, "gemm tb=%d M=%d N=%d K=%d alpha=%g beta=%g ld+%d", tb, M, N, K, alpha, beta, pad);
    chk_report(name, g, C, nc, 1, 1e-4);
    free(g); free(A); free(B); free(C);
    d->be->release(d->be->ctx, dA); d->be->release(d->be->ctx, dB); d->be->release(d->be->ctx, dC);
}

/* one attention call: same arguments on both backends */
typedef struct { int Tq, past, nh, nkv_local, group, head0, kv0, hd, mask, window, softcap, rel, valid, path; } chk_attn_case;

static void chk_attention_case(const t5g_dut *d, const chk_attn_case *c) {
    int Tk = c->past + c->Tq, qw = c->nh * c->hd + 3, kw = c->nkv_local * c->hd + 1, buckets = 32;
    size_t nq = (size_t)c->Tq * qw, nk = (size_t)Tk * kw;
    float *q = chk_rand(nq, -2, 2), *k = chk_rand(nk, -2, 2), *v = chk_rand(nk, -1, 1);
    float *rel = chk_rand((size_t)buckets * c->nh, -1, 1), *out = (float *)calloc(nq, sizeof(float));
    float *scratch = (float *)malloc(sizeof(float) * ((size_t)c->nh * c->Tq * Tk + 1));
    unsigned char *valid = (unsigned char *)malloc((size_t)Tk + 1);
    for (int j = 0; j < Tk; j++) {
        if (c->valid == 0) valid[j] = 1;
        else if (c->valid == 1) valid[j] = j >= 3 && chk_uniform(0, 1) > 0.2f; /* left padding + holes */
        else valid[j] = 0;                                                     /* every row fully masked */
    }
    t5g_attn_args a;
    memset(&a, 0, sizeof a);
    a.Tq = c->Tq; a.Tk = Tk; a.nh = c->nh; a.nkv = c->nkv_local; a.hd = c->hd; a.group = c->group;
    a.head0 = c->head0; a.kv0 = c->kv0; a.q_pos0 = c->past; a.mask = (t5g_mask_kind)c->mask; a.window = c->window;
    a.scale = 1.0f / sqrtf((float)c->hd); a.softcap = c->softcap ? 50.0f / 8 : 0.0f;
    a.ldq = qw; a.ldk = kw; a.ldv = kw; a.ldo = qw;
    a.rel_buckets = buckets; a.rel_max_distance = 20; a.rel_bidirectional = c->mask <= T5G_MASK_BIDIR_WINDOW_STRICT;
    t5g_attn_args h = a;
    h.q = q; h.k = k; h.v = v; h.out = out; h.key_valid = c->valid ? valid : NULL; h.rel_table = c->rel ? rel : NULL;
    h.scratch = scratch;
    t5g_backend_cpu()->attention(t5g_backend_cpu()->ctx, &h);
    a.q = (const float *)chk_up(d, q, sizeof(float) * nq);
    a.k = (const float *)chk_up(d, k, sizeof(float) * nk);
    a.v = (const float *)chk_up(d, v, sizeof(float) * nk);
    a.out = (float *)d->be->alloc(d->be->ctx, sizeof(float) * nq);
    d->be->zero(d->be->ctx, a.out, sizeof(float) * nq);
    a.key_valid = c->valid ? (const unsigned char *)chk_up(d, valid, (size_t)Tk) : NULL;
    a.rel_table = c->rel ? (const float *)chk_up(d, rel, sizeof(float) * buckets * c->nh) : NULL;
    d->set_attention_path(d->be->ctx, c->path);
    d->be->attention(d->be->ctx, &a);
    d->set_attention_path(d->be->ctx, 0);
    float *g = (float *)chk_down(d, a.out, sizeof(float) * nq);
    static const char *mk[] = {"bidir", "bidir-win", "bidir-win-strict", "causal", "causal-win"};
    static const char *pk[] = {"auto", "prefill", "decode"};
    static const char *vk[] = {"all-valid", "pad+holes", "none-valid"};
    char name[160];
    snprintf(name, sizeof name, "attn %s W=%d Tq=%d past=%d h0=%d g=%d hd=%d%s%s %s [%s]", mk[c->mask], c->window, c->Tq,
             c->past, c->head0, c->group, c->hd, c->softcap ? " cap" : "", c->rel ? " rel" : "", vk[c->valid], pk[c->path]);
    chk_report(name, g, out, nq, 1, 1e-4);
    free(g); free(q); free(k); free(v); free(rel); free(out); free(scratch); free(valid);
    d->be->release(d->be->ctx, (void *)a.q); d->be->release(d->be->ctx, (void *)a.k); d->be->release(d->be->ctx, (void *)a.v); d->be->release(d->be->ctx, a.out);
    if (a.key_valid) d->be->release(d->be->ctx, (void *)a.key_valid);
    if (a.rel_table) d->be->release(d->be->ctx, (void *)a.rel_table);
}

static void chk_attention(const t5g_dut *d) {
    /* 4 local heads of a TP slice, two layouts: global q heads 4..7 on kv heads 2..3 (group 2),
     * and q heads 2..5 on kv heads 0..1 (group 4: the slice starts inside a kv group) */
    int hds[2] = {d->big ? 64 : 16, d->big ? 256 : 36};
    int shapes[4][2] = {{1, 0}, {1, d->big ? 700 : 70}, {d->big ? 77 : 37, 0}, {d->big ? 40 : 9, d->big ? 300 : 41}};
    for (int hi = 0; hi < 2; hi++)
        for (int s = 0; s < 4; s++)
            for (int mask = 0; mask < 5; mask++)
                for (int path = 0; path < 3; path++) {
                    chk_attn_case c;
                    int lay = (s + mask) % 2;
                    c.Tq = shapes[s][0]; c.past = shapes[s][1]; c.nh = 4; c.nkv_local = 2; c.group = lay ? 4 : 2;
                    c.head0 = lay ? 2 : 4; c.kv0 = lay ? 0 : 2; c.hd = hds[hi]; c.mask = mask;
                    c.window = d->big ? 33 : 5; c.path = path;
                    c.softcap = (s + mask) % 2; c.rel = (s + mask + hi) % 3 == 0; c.valid = (mask + s + hi) % 2;
                    chk_attention_case(d, &c);
                }
    /* rows with no visible key: uniform weights over all keys */
    chk_attn_case e = {d->big ? 50 : 20, 3, 4, 1, 4, 0, 0, 40, T5G_MASK_CAUSAL, 0, 1, 1, 2, 0};
    for (int path = 0; path < 3; path++) { e.path = path; chk_attention_case(d, &e); }
    e.valid = 0; e.mask = T5G_MASK_BIDIR_WINDOW_STRICT; e.window = 0; /* strict window 0: nothing visible */
    for (int path = 0; path < 3; path++) { e.path = path; chk_attention_case(d, &e); }
    /* odd head width, MQA, long cache (several decode chunks and prefill tiles) */
    chk_attn_case f = {1, d->big ? 5000 : 300, 8, 1, 8, 0, 0, 34, T5G_MASK_CAUSAL, 0, 1, 0, 1, 0};
    chk_attention_case(d, &f);
    f.Tq = d->big ? 129 : 33; f.mask = T5G_MASK_CAUSAL_WINDOW; f.window = d->big ? 1000 : 40;
    chk_attention_case(d, &f);
    f.path = 2; chk_attention_case(d, &f);
}

/* The op table's attention_batch: `rows` sequences laid out like forward.c's (q/out
 * [rows][Tq][qw], K/V cache [kv rows][Tcap][kw], key_valid [kv rows][Tcap]) against one CPU
 * attention call per sequence.  shared: sequences r pair up on K/V row r / 2 through kv_rows
 * (beams on one encoder row, as cross-attention). */
static void chk_attention_rows(const t5g_dut *d, int rows, int Tq, int past, int mask, int rel, int path, int shared) {
    int Tk = past + Tq, Tcap = Tk + 5, hd = d->big ? 128 : 24, nh = 4, nkv = 2, qw = nh * hd, kw = nkv * hd, buckets = 16;
    int kvn = shared ? (rows + 1) / 2 : rows;
    size_t nq = (size_t)rows * Tq * qw, nk = (size_t)kvn * Tcap * kw;
    float *q = chk_rand(nq, -2, 2), *k = chk_rand(nk, -2, 2), *v = chk_rand(nk, -1, 1);
    float *rt = chk_rand((size_t)buckets * nh, -1, 1), *out = (float *)calloc(nq, sizeof(float));
    float *scratch = (float *)malloc(sizeof(float) * ((size_t)nh * Tq * Tk + 1));
    unsigned char *valid = (unsigned char *)malloc((size_t)kvn * Tcap);
    int32_t *kv_rows = (int32_t *)malloc(sizeof(int32_t) * rows);
    for (int r = 0; r < kvn; r++) /* row r: r pad positions on the left, then some holes */
        for (int j = 0; j < Tcap; j++) valid[(size_t)r * Tcap + j] = j >= r && chk_uniform(0, 1) > 0.1f;
    for (int r = 0; r < rows; r++) kv_rows[r] = shared ? r / 2 : r;
    t5g_attn_args a;
    memset(&a, 0, sizeof a);
    a.Tq = Tq; a.Tk = Tk; a.nh = nh; a.nkv = nkv; a.hd = hd; a.group = 2; a.q_pos0 = past;
    a.mask = (t5g_mask_kind)mask; a.window = d->big ? 50 : 7; a.scale = 0.125f; a.softcap = 50.0f;
    a.ldq = a.ldo = qw; a.ldk = a.ldv = kw;
    a.rel_buckets = buckets; a.rel_max_distance = 24; a.rel_bidirectional = mask <= T5G_MASK_BIDIR_WINDOW_STRICT;
    for (int r = 0; r < rows; r++) {
        t5g_attn_args h = a;
        int kr = kv_rows[r];
        h.q = q + (size_t)r * Tq * qw; h.out = out + (size_t)r * Tq * qw;
        h.k = k + (size_t)kr * Tcap * kw; h.v = v + (size_t)kr * Tcap * kw;
        h.key_valid = valid + (size_t)kr * Tcap; h.rel_table = rel ? rt : NULL; h.scratch = scratch;
        t5g_backend_cpu()->attention(t5g_backend_cpu()->ctx, &h);
    }
    a.q = (const float *)chk_up(d, q, sizeof(float) * nq);
    a.k = (const float *)chk_up(d, k, sizeof(float) * nk);
    a.v = (const float *)chk_up(d, v, sizeof(float) * nk);
    a.out = (float *)d->be->alloc(d->be->ctx, sizeof(float) * nq);
    a.key_valid = (const unsigned char *)chk_up(d, valid, (size_t)kvn * Tcap);
    a.rel_table = rel ? (const float *)chk_up(d, rt, sizeof(float) * buckets * nh) : NULL;
    d->set_attention_path(d->be->ctx, path);
    d->be->attention_batch(d->be->ctx, &a, rows, (int64_t)Tq * qw, (int64_t)Tq * qw, (int64_t)Tcap * kw, Tcap,
                           shared ? kv_rows : NULL);
    d->set_attention_path(d->be->ctx, 0);
    for (int r = 0; r < rows; r++) kv_rows[r] = -1; /* host memory: the backend must not read it later */
    float *g = (float *)chk_down(d, a.out, sizeof(float) * nq);
    char name[160];
    snprintf(name, sizeof name, "attention_batch rows=%d Tq=%d past=%d mask=%d%s%s path=%d", rows, Tq, past, mask,
             rel ? " rel" : "", shared ? " kv_rows" : "", path);
    chk_report(name, g, out, nq, 1, 1e-4);
    free(g); free(q); free(k); free(v); free(rt); free(out); free(scratch); free(valid); free(kv_rows);
    d->be->release(d->be->ctx, (void *)a.q); d->be->release(d->be->ctx, (void *)a.k); d->be->release(d->be->ctx, (void *)a.v); d->be->release(d->be->ctx, a.out);
    d->be->release(d->be->ctx, (void *)a.key_valid);
    if (a.rel_table) d->be->release(d->be->ctx, (void *)a.rel_table);
}

/* linear: y = x·Wᵀ with W [N, K] of dtype dt (row stride K + 5), x and y with padded rows,
 * against the CPU backend's linear of the same weights */
static void chk_linear_case(const t5g_dut *d, t5g_dtype dt, int M, int N, int K) {
    int ldx = K + 2, ldw = K + 5, ldy = N + 1;
    size_t nx = (size_t)M * ldx, nw = (size_t)N * ldw, ny = (size_t)M * ldy;
    float *x = chk_rand(nx, -1, 1), *w = chk_rand(nw, -1, 1), *ref = (float *)calloc(ny, sizeof(float));
    x[0] = 1e-30f; x[1] = -37.3f; /* planes of a tiny and a large activation */
    uint16_t *w16 = (uint16_t *)malloc(sizeof(uint16_t) * nw);
    for (size_t i = 0; i < nw; i++) w16[i] = t5g_f32_to_bf16(w[i]);
    t5g_wmat W = {dt == T5G_DT_BF16 ? (void *)w16 : (void *)w, dt, N, K, ldw, NULL};
    t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, M, ldx, &W, ref, ldy);
    float *dx = (float *)chk_up(d, x, sizeof(float) * nx), *dy = (float *)d->be->alloc(d->be->ctx, sizeof(float) * ny);
    d->be->zero(d->be->ctx, dy, sizeof(float) * ny);
    W.data = dt == T5G_DT_BF16 ? chk_up(d, w16, sizeof(uint16_t) * nw) : chk_up(d, w, sizeof(float) * nw);
    d->be->linear(d->be->ctx, dx, M, ldx, &W, dy, ldy);
    float *g = (float *)chk_down(d, dy, sizeof(float) * ny);
    char name[160];
    snprintf(name, sizeof name, "linear %s M=%d N=%d K=%d (ld +2/+5/+1)", dt == T5G_DT_BF16 ? "bf16" : "f32", M, N, K);
    chk_report(name, g, ref, ny, 1, dt == T5G_DT_BF16 ? d->bf16_tol : 1e-4);
    free(g); free(x); free(w); free(w16); free(ref);
    d->be->release(d->be->ctx, dx); d->be->release(d->be->ctx, dy); d->be->release(d->be->ctx, W.data);
}

/* The error model (backend.h): a failing op (int8 weights) is reported by the next sync with
 * its message, the ops in between do nothing, and the state is clean after the sync. */
static void chk_sticky_error(const t5g_dut *d) {
    const t5g_backend *be = d->be;
    float one[4] = {1, 1, 1, 1}, got[4];
    int8_t q[4] = {1, 2, 3, 4};
    float *dx = (float *)chk_up(d, one, sizeof one), *dy = (float *)chk_up(d, one, sizeof one);
    float *ds = (float *)chk_up(d, one, sizeof one);
    void *dq = chk_up(d, q, sizeof q);
    t5g_wmat W = {dq, T5G_DT_INT8, 1, 4, 4, ds};
    be->linear(be->ctx, dx, 1, 4, &W, dy, 1);
    be->add(be->ctx, dx, dx, 4); /* after the failure: must not run */
    int rc = be->sync(be->ctx);
    int msg = rc != 0 && strstr(t5g_last_error(), "int8 weights are CPU-only") != NULL;
    chk_exact("int8 linear -> sync() = -1 with \"int8 weights are CPU-only\"", msg);
    be->copy(be->ctx, got, dx, sizeof got, T5G_COPY_D2H);
    chk_exact("ops after the failure did nothing", got[0] == 1.0f && got[3] == 1.0f);
    be->add(be->ctx, dx, dx, 4);
    rc = be->sync(be->ctx);
    be->copy(be->ctx, got, dx, sizeof got, T5G_COPY_D2H);
    chk_exact("after sync() the state is clear (add runs, sync = 0)", rc == 0 && got[0] == 2.0f && got[3] == 2.0f);
    be->release(be->ctx, dx); be->release(be->ctx, dy); be->release(be->ctx, ds); be->release(be->ctx, dq);
}

static void chk_select(const t5g_dut *d) {
    const int rows = 3, n = d->big ? 256000 : 9000, v0 = 1000;
    float *x = chk_rand((size_t)rows * n, -20, 20), lse[3] = {3.5f, -1.25f, 0.0f}, add[3] = {-0.5f, 2.0f, 0.0f};
    for (int r = 0; r < rows; r++) { /* ties: the best value at several ids; the lowest must win */
        float *xr = x + (size_t)r * n;
        xr[n - 7] = xr[n / 2] = xr[n / 3 + r] = 21.0f;
        for (int i = 0; i < 40; i++) xr[(size_t)i * 97 % n] = 19.5f;
    }
    float *dx = (float *)chk_up(d, x, sizeof(float) * rows * n), *dl = (float *)chk_up(d, lse, sizeof lse);
    float *da = (float *)chk_up(d, add, sizeof add);
    int ids[3];
    float vals[3];
    t5g_vocab_argmax(NULL, x, rows, n, v0, ids, vals);
    t5g_cuda_cand *dc = (t5g_cuda_cand *)d->be->alloc(d->be->ctx, sizeof(t5g_cuda_cand) * rows * 256);
    int rc = d->argmax(d->be->ctx, dx, rows, n, n, v0, dc);
    t5g_cuda_cand *g = (t5g_cuda_cand *)chk_down(d, dc, sizeof(t5g_cuda_cand) * rows);
    int ok = rc == 0;
    for (int r = 0; r < rows; r++) ok = ok && g[r].id == ids[r] && g[r].value == vals[r];
    char name[128];
    snprintf(name, sizeof name, "argmax rows=%d n=%d (ties -> lowest id)", rows, n);
    chk_exact(name, ok);
    free(g);
    /* {k, row length}: the emulator runs a k-pass block per chunk, so it gets shorter rows for
     * large k (still two rounds: 2100 > one chunk of 2048) */
    int ks[5][2] = {{1, n}, {5, n}, {50, n}, {200, d->big ? n : 2100}, {256, d->big ? n : 2100}};
    for (int i = 0; i < 5; i++)
        for (int trans = 0; trans < 2; trans++) {
            int k = ks[i][0], nn = ks[i][1];
            t5g_cand *ref = (t5g_cand *)malloc(sizeof(t5g_cand) * rows * k);
            int rr = nn < n ? 1 : rows; /* a shortened row is checked alone (the CPU wants ld = n) */
            t5g_vocab_topk(NULL, x, rr, nn, v0, k, trans ? lse : NULL, trans ? add : NULL, ref);
            rc = d->topk(d->be->ctx, dx, rr, nn, n, v0, k, trans ? dl : NULL, trans ? da : NULL, dc);
            g = (t5g_cuda_cand *)chk_down(d, dc, sizeof(t5g_cuda_cand) * rr * k);
            ok = rc == 0;
            for (int e = 0; e < rr * k; e++) ok = ok && g[e].id == ref[e].id && g[e].value == ref[e].value;
            snprintf(name, sizeof name, "topk rows=%d n=%d k=%d%s", rr, nn, k, trans ? " (x - lse) + add" : "");
            chk_exact(name, ok);
            free(g); free(ref);
        }
    /* k larger than the row: padded with {-inf, INT32_MAX} like the CPU */
    t5g_cand ref[3 * 16];
    t5g_vocab_topk(NULL, x, rows, 10, v0, 16, NULL, NULL, ref);
    float *dsmall = (float *)chk_up(d, x, sizeof(float) * rows * 10);
    rc = d->topk(d->be->ctx, dsmall, rows, 10, 10, v0, 16, NULL, NULL, dc);
    g = (t5g_cuda_cand *)chk_down(d, dc, sizeof(t5g_cuda_cand) * rows * 16);
    ok = rc == 0;
    for (int e = 0; e < rows * 16; e++) ok = ok && g[e].id == ref[e].id && g[e].value == ref[e].value;
    chk_exact("topk n=10 k=16 (padding)", ok);
    free(g);
    d->be->release(d->be->ctx, dsmall); d->be->release(d->be->ctx, dx); d->be->release(d->be->ctx, dl); d->be->release(d->be->ctx, da); d->be->release(d->be->ctx, dc);
    free(x);
}

static void chk_bf16(const t5g_dut *d) {
    size_t n = d->big ? 1000003 : 4099;
    float *x = chk_rand(n, -1000, 1000);
    x[0] = INFINITY; x[1] = -INFINITY; x[2] = NAN; x[3] = 0.0f; x[4] = -0.0f;
    x[5] = 1.00390625f;  /* exactly halfway between two bf16 values: ties to even */
    x[6] = 1.01171875f;  /* halfway, rounds up to even */
    x[7] = 3.4e38f;      /* rounds to inf */
    float *dx = (float *)chk_up(d, x, sizeof(float) * n);
    uint16_t *dh = (uint16_t *)d->be->alloc(d->be->ctx, sizeof(uint16_t) * n);
    int ok = d->to_bf16(d->be->ctx, dx, dh, n) == 0;
    uint16_t *g = (uint16_t *)chk_down(d, dh, sizeof(uint16_t) * n);
    for (size_t i = 0; i < n; i++) ok = ok && g[i] == t5g_f32_to_bf16(x[i]);
    char name[128];
    snprintf(name, sizeof name, "f32 -> bf16 n=%zu (inf, nan, ties to even)", n);
    chk_exact(name, ok);
    free(g);
    d->be->release(d->be->ctx, dx); d->be->release(d->be->ctx, dh); free(x);
}

/* Runs every check; returns the number of failures. */
static int t5g_run_op_checks(const t5g_dut *d) {
    chk_elementwise(d);
    for (int dt = 0; dt < 3; dt++) chk_embed(d, (t5g_dtype)dt);
    chk_rmsnorm_case(d, 7, d->big ? 3584 : 1000, 0);
    chk_rmsnorm_case(d, d->big ? 4096 : 64, 256, 1); /* per-head qk-norm shape, in place */
    chk_rmsnorm_case(d, 3, 5, 0);
    chk_rope_case(d, 5, 2, 3, 64, 8, 3000, 10000.0f, 0);
    chk_rope_case(d, 1, 4, 8, 256, 0, d->big ? 8191 : 511, 10000.0f, 0);
    chk_rope_case(d, 7, 1, 2, 18, 3, 0, 1e6f, 0);
    chk_rope_case(d, 6, 2, 4, 64, 2, 700, 1e6f, 8.0f); /* T5Gemma 2 linear scaling */
    chk_rope_case(d, 1, 3, 2, 256, 0, d->big ? 30000 : 900, 1e6f, 8.0f);
    if (d->has_gemm) {
        chk_gemm_case(d, 1, 1, 777, 300, 1.0f, 0.0f, 0);
        chk_gemm_case(d, 1, 4, 2304, 2304, 1.0f, 0.0f, 0);
        chk_gemm_case(d, 1, 65, 130, 257, 0.5f, 0.25f, 3);
        chk_gemm_case(d, 0, 33, 70, 129, 1.0f, 1.0f, 2);
        chk_gemm_case(d, 1, d->big ? 512 : 64, d->big ? 9216 : 96, d->big ? 2304 : 80, 1.0f, 0.0f, 0);
        chk_linear_case(d, T5G_DT_F32, 1, 777, 300);
        chk_linear_case(d, T5G_DT_F32, d->big ? 300 : 40, d->big ? 2304 : 90, d->big ? 2304 : 70);
    }
    chk_linear_case(d, T5G_DT_BF16, 1, 777, 300);
    chk_linear_case(d, T5G_DT_BF16, 33, 250, 129);
    chk_linear_case(d, T5G_DT_BF16, d->big ? 512 : 64, d->big ? 2304 : 96, d->big ? 2304 : 80);
    if (d->big) chk_linear_case(d, T5G_DT_BF16, 128, 32000, 2304); /* M = 128 decode shape, wide N */
    chk_attention(d);
    int rows = d->big ? 33 : 5;
    for (int path = 0; path < 3; path++) {
        chk_attention_rows(d, rows, 1, d->big ? 300 : 40, T5G_MASK_CAUSAL_WINDOW, 1, path, 0);
        chk_attention_rows(d, rows, d->big ? 40 : 9, d->big ? 60 : 11, T5G_MASK_CAUSAL, 0, path, 0);
        chk_attention_rows(d, rows, d->big ? 70 : 33, 0, T5G_MASK_BIDIR_WINDOW, 1, path, 0);
        chk_attention_rows(d, rows, 1, d->big ? 200 : 30, T5G_MASK_BIDIR, 0, path, 1); /* cross-attention step */
        chk_attention_rows(d, rows, d->big ? 20 : 6, d->big ? 90 : 17, T5G_MASK_BIDIR, 0, path, 1);
    }
    chk_select(d);
    chk_bf16(d);
    if (d->has_errors) chk_sticky_error(d);
    printf("%d checks, %d failed\n", chk_cases, chk_failures);
    return chk_failures;
}
#endif
