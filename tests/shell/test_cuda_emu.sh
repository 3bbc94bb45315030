#!/usr/bin/env bash
# The CUDA backend's kernels without a GPU and without the CUDA toolkit: src/backend/cuda/k*.cuh run
# on the host under tests/gpu/cuda_emu.h, op by op against the CPU backend and as the whole model
# against the HF fixtures (what `make test-gpu-emu` runs).  tests/shell/test_cuda_build.sh compiles
# the real thing where nvcc is installed.
source "$(dirname "$0")/lib.sh"

make -s build/tests/gpu/test_cuda_emu build/tests/gpu/test_cuda_model_emu > "$tmp/emu-build.log" 2>&1 ||
    { cat "$tmp/emu-build.log"; fail "the emulated CUDA tests do not build"; }
# the two programs side by side: each is one thread, and the suite runs one test at a time
build/tests/gpu/test_cuda_model_emu f32 > "$tmp/model.log" 2>&1 &
model=$!
build/tests/gpu/test_cuda_emu > "$tmp/emu.log" 2>&1 || {
    kill $model 2> /dev/null
    tail -40 "$tmp/emu.log"
    fail "test_cuda_emu"
}
tail -2 "$tmp/emu.log"
grep -q '^[1-9][0-9]* checks, 0 failed' "$tmp/emu.log" || fail "test_cuda_emu printed no check count"
wait $model || { tail -40 "$tmp/model.log"; fail "test_cuda_model_emu"; }
tail -1 "$tmp/model.log"
grep -q '^[1-9][0-9]* checks, 0 failed' "$tmp/model.log" || fail "test_cuda_model_emu printed no check count"

