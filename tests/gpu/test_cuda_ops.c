/* test_cuda_ops.c - every op of the CUDA backend against the CPU backend on random inputs
 * (tests/gpu/op_checks.h: tolerances and error measures), plus argmax / top-k / bf16 and
 * the sticky-error model of backend.h.
 * Exits 77 with "SKIPPED: no usable CUDA device" when there is no GPU (CI, this build host).
 * Build and run: make test-gpu (builds with CUDA=1). */
#include "backend/backend.h"
#include "backend/cuda/cuda_ops.h"
#include "core/err.h"
#include "op_checks.h"
#include <stdio.h>

int main(void) {
    if (t5g_cuda_device_count() <= 0) {
        printf("SKIPPED: %s\n", t5g_last_error()); /* "no usable CUDA device (why); ..." */
        return 77;
    }
    const t5g_backend *be = t5g_backend_cuda(0);
    if (!be) {
        fprintf(stderr, "t5g: error: %s\n", t5g_last_error());
        return 1;
    }
    t5g_cpu_setup(0);
    printf("CUDA backend on %s\n", t5g_cuda_device_name(be->ctx));
    t5g_dut d;
    memset(&d, 0, sizeof d);
    d.be = be; d.has_gemm = 1; d.has_errors = 1; d.big = 1;
    d.bf16_tol = 1e-4; /* as the f32 gemm (cuBLAS accumulation order); activations rounded to bf16 give ~1.3e-3 */
    d.argmax = t5g_cuda_argmax; d.topk = t5g_cuda_topk; d.to_bf16 = t5g_cuda_to_bf16;
    d.set_attention_path = t5g_cuda_set_attention_path;
    return t5g_run_op_checks(&d) ? 1 : 0;
}
