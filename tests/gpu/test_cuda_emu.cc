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

/* The emulated backend: host memory, the kernels' launchers with a null stream. */
static int emu_path;

static void *emu_alloc(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}
static void emu_release(void *p) { free(p); }
static void emu_copy(void *dst, const void *src, size_t bytes, t5g_copy_kind) { memmove(dst, src, bytes); }
static void emu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void emu_sync(void) {}
static void emu_rmsnorm(const float *x, const float *w, float *y, int rows, int n, float eps) {
    t5gk_rmsnorm(NULL, x, w, y, rows, n, eps);
}
static void emu_embed(const float *E, int v0, int Vl, int H, const int32_t *ids, int T, float scale, float *out) {
    t5gk_embed(NULL, E, v0, Vl, H, ids, T, scale, out);
}
static void emu_rope(float *x, int T, int ld, int nheads, int hd, int Tq, int pos0, float theta) {
    std::vector<float> inv(hd / 2 + 1);
    t5gk_inv_freq(inv.data(), hd, theta);
    t5gk_rope(NULL, x, T, ld, nheads, hd, Tq, pos0, inv.data());
}
static int emu_attention_rows(const t5g_attn_args *a, int rows, int64_t sq, int64_t sk, int64_t sv, int64_t so,
                              int64_t svalid) {
    if (a->Tq <= 0 || a->nh <= 0 || a->hd <= 0 || rows <= 0) return 0;
    std::vector<int> tab;
    int L = 0;
    if (a->rel_table) {
        L = t5gk_rel_L(a->rel_buckets, a->rel_max_distance);
        tab.resize(2 * (size_t)L + 1);
        t5gk_rel_table(tab.data(), L, a->rel_bidirectional, a->rel_buckets, a->rel_max_distance);
    }
    std::vector<float> part(t5gk_decode_scratch(a, rows) + 1);
    const long long st[5] = {sq, sk, sv, so, svalid};
    t5gk_attention(NULL, a, rows, st, a->rel_table ? tab.data() : NULL, L, emu_path, part.data());
    return 0;
}
static void emu_attention(const t5g_attn_args *a) { emu_attention_rows(a, 1, 0, 0, 0, 0, 0); }
static void emu_gelu_mul(const float *g, const float *u, float *o, size_t n) { t5gk_gelu_mul(NULL, g, u, o, n); }
static void emu_softcap(float *x, size_t n, float cap) { t5gk_softcap(NULL, x, n, cap); }
static void emu_add(float *y, const float *x, size_t n) { t5gk_add(NULL, y, x, n); }

static int emu_argmax(const float *x, int rows, int n, int ld, int v0, t5g_cuda_cand *out) {
    t5gk_argmax(NULL, x, rows, n, ld, v0, (t5gk_cand *)out);
    return 0;
}
static int emu_topk(const float *x, int rows, int n, int ld, int v0, int k, const float *lse, const float *add,
                    t5g_cuda_cand *out) {
    std::vector<t5gk_cand> ws(2 * t5gk_topk_scratch(rows, n, k) + 1);
    return t5gk_topk(NULL, x, rows, n, ld, v0, lse, add, k, (t5gk_cand *)out, ws.data());
}
static int emu_to_bf16(const float *src, uint16_t *dst, size_t n) {
    t5gk_to_bf16(NULL, src, 1, (int)n, (int)n, dst);
    return 0;
}
static void emu_set_path(int p) { emu_path = p; }

int main(void) {
    t5g_backend be = *t5g_backend_cpu(); /* gemm stays the CPU's: not under test here */
    be.name = "cuda-emu";
    be.alloc = emu_alloc; be.release = emu_release; be.copy = emu_copy; be.zero = emu_zero; be.sync = emu_sync;
    be.allreduce_sum = NULL; be.rmsnorm = emu_rmsnorm; be.embed = emu_embed; be.rope = emu_rope;
    be.attention = emu_attention; be.gelu_mul = emu_gelu_mul; be.softcap = emu_softcap; be.add = emu_add;
    t5g_dut d;
    memset(&d, 0, sizeof d);
    d.be = &be; d.has_gemm = 0; d.big = 0;
    d.argmax = emu_argmax; d.topk = emu_topk; d.to_bf16 = emu_to_bf16; d.gemm_bf16w = NULL;
    d.set_attention_path = emu_set_path;
    d.attention_rows = emu_attention_rows;
    t5g_cpu_setup(1);
    printf("CUDA kernels emulated on the host (gemm and bf16 gemm are cuBLAS: not covered here)\n");
    clock_t t0 = clock();
    int fails = t5g_run_op_checks(&d);
    printf("%ld kernel launches emulated, %.1f s CPU\n", t5g_emu::launches, (double)(clock() - t0) / CLOCKS_PER_SEC);
    return fails ? 1 : 0;
}
