/* test_cuda_model_emu.cc - test_cuda_model.c with the CUDA backend's kernels emulated on the host
 * (tests/gpu/cuda_emu.h, emu_backend.h) in the device's place: the whole model (embedding,
 * norms, RoPE and linear RoPE scaling, attention_batch with the model's own layouts, strides,
 * masks and cross-attention row maps, GeGLU, soft-caps) through the kernels on the HF fixtures,
 * no GPU needed.  gemm and f32 linear are the CPU's (cuBLAS is not emulated).  Only the f32
 * compute type: the model loads only f32 weights on a backend other than the CPU's.
 * Build and run: make test-gpu-emu (runs `test_cuda_model_emu f32`). */
#include "cuda_emu.h"
#include "backend/cuda/kattn.cuh"
#include "backend/cuda/kelem.cuh"
#include "emu_backend.h"
#define T5G_MODEL_CHECK_EMU 1
#include "test_cuda_model.c"
