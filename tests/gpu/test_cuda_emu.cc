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

#include "emu_backend.h"

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
    t5g_backend be = t5g_emu_backend();
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
