/* test_cuda_emu.cc - the CUDA backend's kernels, run on the host by tests/gpu/cuda_emu.h,
 * against the CPU backend (tests/gpu/op_checks.h).  Needs no GPU and no CUDA toolkit, so
 * CI runs it: it checks the kernels' logic (indexing, barriers, reductions, masks, online
 * softmax, top-k rounds).  cuBLAS, NCCL and the device libm are not covered: the GEMMs and
 * the device numerics are checked by tests/gpu/test_cuda_ops.c on a real GPU.
 * Build and run: make test-gpu-emu. */
#include "cuda_emu.h"
#include "backend/cuda/kattn.cuh"
#include "backend/cuda/kelem.cuh"
#include "backend/cuda/kselect.cuh"
#include "op_checks.h"
#include <time.h>

/* The emulated backend: host memory, the kernels' launchers with a null stream.  gemm and
 * float32 linear stay the CPU's (cuBLAS is not emulated); the bf16 linear runs the split and
 * combine kernels around a host stand-in for cublasGemmEx (bf16 x bf16 products, float32
 * sums), so what is checked is the three-plane scheme, not cuBLAS. */
static int emu_path;

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

static int emu_argmax(void *, const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out) {
    t5gk_argmax(NULL, x, rows, n, ld, v0, (t5gk_cand *)out);
    return 0;
}
static int emu_topk(void *, const float *x, int rows, int n, int ld, int v0, int k, const float *lse, const float *add,
                    t5g_cuda_cand *out) {
    std::vector<t5gk_cand> ws(2 * t5gk_topk_scratch(rows, n, k) + 1);
    return t5gk_topk(NULL, x, rows, n, ld, v0, lse, add, k, (t5gk_cand *)out, ws.data());
}
static int emu_to_bf16(void *, const float *src, uint16_t *dst, size_t n) {
    t5gk_to_bf16(NULL, src, 1, (int)n, (int)n, dst);
    return 0;
}
static void emu_set_path(void *, int p) { emu_path = p; }

int main(void) {
    t5g_backend be = *t5g_backend_cpu(); /* gemm stays the CPU's: not under test here */
    be.name = "cuda-emu";
    be.ctx = NULL;
    be.alloc = emu_alloc; be.release = emu_release; be.copy = emu_copy; be.zero = emu_zero; be.sync = emu_sync;
    be.allreduce_sum = NULL; be.rmsnorm = emu_rmsnorm; be.embed = emu_embed; be.rope = emu_rope;
    be.rope_scaled = emu_rope_scaled; be.linear = emu_linear;
    be.attention = emu_attention; be.attention_batch = emu_attention_batch;
    be.gelu_mul = emu_gelu_mul; be.softcap = emu_softcap; be.add = emu_add;
    t5g_dut d;
    memset(&d, 0, sizeof d);
    d.be = &be; d.has_gemm = 0; d.has_errors = 0; d.big = 0;
    d.bf16_tol = 1e-6; /* float32 summation order only (~5e-7); two planes instead of three give ~1.7e-6 */
    d.argmax = emu_argmax; d.topk = emu_topk; d.to_bf16 = emu_to_bf16;
    d.set_attention_path = emu_set_path;
    t5g_cpu_setup(1);
    printf("CUDA kernels emulated on the host (gemm and f32 linear are cuBLAS: not covered here)\n");
    clock_t t0 = clock();
    int fails = t5g_run_op_checks(&d);
    printf("%ld kernel launches emulated, %.1f s CPU\n", t5g_emu::launches, (double)(clock() - t0) / CLOCKS_PER_SEC);
    return fails ? 1 : 0;
}
