/* emu_backend.h - the CUDA backend's kernels as a backend on the host (tests/gpu/cuda_emu.h runs
 * them): host memory, the kernels' launchers with a null stream.  Include after cuda_emu.h and
 * the kernel headers (C++17).  Used by test_cuda_emu.cc (op by op) and test_cuda_model_emu.cc
 * (the whole model). */
#ifndef T5G_EMU_BACKEND_H
#define T5G_EMU_BACKEND_H
#include <vector>

/* The emulated backend: host memory, the kernels' launchers with a null stream.  gemm and
 * float32 linear stay the CPU's (cuBLAS is not emulated); the bf16 linear runs the split and
 * combine kernels around a host stand-in for cublasGemmEx (bf16 x bf16 products, float32
 * sums), so what is checked is the three-plane scheme, not cuBLAS. */
static int emu_path; /* t5g_cuda_set_attention_path of the emulated backend */

static void *emu_alloc(void *, size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}
static void emu_release(void *, void *p) { free(p); }
static void emu_copy(void *, void *dst, const void *src, size_t bytes, t5g_copy_kind) { memmove(dst, src, bytes); }
static void emu_zero(void *, void *p, size_t bytes) { memset(p, 0, bytes); }
static int emu_sync(void *) { return 0; }
static void emu_rmsnorm(void *, const float *x, const float *w, float *y, int rows, int n, float eps) {
    t5gk_rmsnorm(NULL, x, w, y, rows, n, eps);
}
static void emu_embed(void *, const t5g_wmat *E, int v0, const int32_t *ids, int T, float scale, float *out) {
    t5gk_embed(NULL, E, v0, ids, T, scale, out);
}
static void emu_rope_scaled(void *, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta,
                            float factor) {
    std::vector<float> inv(hd / 2 + 1);
    t5gk_inv_freq(inv.data(), hd, theta, factor);
    t5gk_rope(NULL, x, T, ld, nheads, hd, Tq, pos0, inv.data());
}
static void emu_rope(void *ctx, float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta) {
    emu_rope_scaled(ctx, x, T, ld, nheads, hd, Tq, pos0, theta, 1.0f);
}
static void emu_attention_batch(void *, const t5g_attn_args *a, int rows, int64_t sq, int64_t so, int64_t skv,
                                int64_t svalid, const int32_t *kv_rows) {
    if (a->Tq <= 0 || a->nh <= 0 || a->hd <= 0 || rows <= 0) return;
    std::vector<int> tab;
    int L = 0;
    if (a->rel_table) {
        L = t5gk_rel_L(a->rel_buckets, a->rel_max_distance);
        tab.resize(2 * (size_t)L + 1);
        t5gk_rel_table(tab.data(), L, a->rel_bidirectional, a->rel_buckets, a->rel_max_distance);
    }
    int per = t5gk_rows_per_launch(emu_path, a);
    std::vector<float> part(t5gk_decode_scratch(a, rows < per ? rows : per) + 1);
    std::vector<int32_t> map(kv_rows ? kv_rows : (const int32_t *)NULL, kv_rows ? kv_rows + rows : (const int32_t *)NULL);
    const long long st[5] = {sq, skv, skv, so, svalid};
    t5gk_attention(NULL, a, rows, st, kv_rows ? map.data() : NULL, a->rel_table ? tab.data() : NULL, L, emu_path,
                   part.data());
}
static void emu_attention(void *ctx, const t5g_attn_args *a) { emu_attention_batch(ctx, a, 1, 0, 0, 0, 0, NULL); }
static void emu_gelu_mul(void *, const float *g, const float *u, float *o, size_t n) { t5gk_gelu_mul(NULL, g, u, o, n); }
static void emu_softcap(void *, float *x, size_t n, float cap) { t5gk_softcap(NULL, x, n, cap); }
static void emu_add(void *, float *y, const float *x, size_t n) { t5gk_add(NULL, y, x, n); }

/* cublasGemmEx(T, N, N, 3M, K, W bf16 [N, ldw], A bf16 [3M, K]) -> P [3M, N] float32 */
static void emu_gemm_ex_bf16(int N, int M3, int K, const uint16_t *W, int ldw, const uint16_t *A, float *P) {
    for (int m = 0; m < M3; m++)
        for (int n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++)
                acc += t5gk_bf16_to_f32(W[(size_t)n * ldw + k]) * t5gk_bf16_to_f32(A[(size_t)m * K + k]);
            P[(size_t)m * N + n] = acc;
        }
}
static void emu_linear(void *ctx, const float *x, int M, int ldx, const t5g_wmat *W, float *y, int ldy) {
    if (W->dtype != T5G_DT_BF16 || M <= 0 || W->rows <= 0 || W->cols <= 0) {
        t5g_backend_cpu()->linear(t5g_backend_cpu()->ctx, x, M, ldx, W, y, ldy);
        return;
    }
    int N = W->rows, K = W->cols;
    std::vector<uint16_t> planes(3 * (size_t)M * K);
    std::vector<float> P(3 * (size_t)M * N);
    t5gk_split3(NULL, x, M, K, ldx, planes.data());
    emu_gemm_ex_bf16(N, 3 * M, K, (const uint16_t *)W->data, W->ld, planes.data(), P.data());
    t5gk_combine3(NULL, P.data(), M, N, N, y, ldy);
}

/* the emulated backend: the CPU backend's table with every op that has a CUDA kernel replaced */
static t5g_backend t5g_emu_backend(void) {
    t5g_backend be = *t5g_backend_cpu(); /* gemm and f32 linear stay the CPU's: cuBLAS is not emulated */
    be.name = "cuda-emu";
    be.ctx = NULL;
    be.alloc = emu_alloc; be.release = emu_release; be.copy = emu_copy; be.zero = emu_zero; be.sync = emu_sync;
    be.allreduce_sum = NULL; be.rmsnorm = emu_rmsnorm; be.embed = emu_embed; be.rope = emu_rope;
    be.rope_scaled = emu_rope_scaled; be.linear = emu_linear;
    be.attention = emu_attention; be.attention_batch = emu_attention_batch;
    be.gelu_mul = emu_gelu_mul; be.softcap = emu_softcap; be.add = emu_add;
    return be;
}
#endif
