#!/usr/bin/env bash
# Where nvcc is installed (NVCC, or /usr/local/cuda/bin/nvcc), `make CUDA=1` compiles and links the
# CUDA backend, t5g and the GPU test programs in a scratch copy of the tree (build/ stays the CPU
# build), so a CUDA source that no longer builds fails here, not on the user's cluster.  Then that
# t5g with --device cuda: greedy output identical to the CPU's on a GPU, one clear error without.
# Without nvcc this cannot run: tests/run_all.sh then lists it as not run (no nvcc), neither passed
# nor skipped; run by hand it is a skip.
source "$(dirname "$0")/lib.sh"
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$NVCC" ] || skip "no nvcc (set NVCC=): the CUDA backend's compilation was not checked"
echo "compiling with $("$NVCC" --version | tail -1)"
S=build/cuda-check
mkdir -p "$S"
for d in src eval tests mk; do
    rm -rf "${S:?}/$d"
    cp -a "$d" "$S/$d"
done
cp -a Makefile VERSION t5g.pc.in "$S/"
# the CPU build's objects (with their times) spare recompiling all but what CUDA=1 changes
if [ -d build/obj ]; then
    rm -rf "$S/build/obj"
    mkdir -p "$S/build"
    cp -a build/obj "$S/build/obj"
fi
targets="build/t5g build/tests/gpu/test_cuda_ops build/tests/gpu/test_cuda_model build/tests/gpu/test_cuda_nccl"
make -C "$S" -j2 CUDA=1 NVCC="$NVCC" $targets > "$tmp/cuda-build.log" 2>&1 ||
    { tail -40 "$tmp/cuda-build.log"; fail "make CUDA=1 does not build"; }
grep -q 'backend_cuda.cu' "$tmp/cuda-build.log" || fail "make CUDA=1 did not compile src/backend/cuda/backend_cuda.cu"
ldd "$S/build/t5g" | grep -q libcublas || fail "the CUDA=1 t5g does not link cuBLAS"
echo "make CUDA=1: t5g and the GPU tests built"

# the CUDA build on this machine: with a GPU, greedy ids equal the CPU's; without one, --device
# cuda is one clear error and no output file
printf '{"id":"a","prompt":"the house is small"}\n{"id":"b","prompt":"hello world"}\n' > "$tmp/in.jsonl"
M=models/demo/t5gemma-demo.h5
if nvidia-smi -L > /dev/null 2>&1; then
    "$S/build/t5g" generate -q -m $M -i "$tmp/in.jsonl" -o "$tmp/cpu.jsonl" --max-new-tokens 8 || fail "CPU generate"
    "$S/build/t5g" generate -q -m $M -i "$tmp/in.jsonl" -o "$tmp/gpu.jsonl" --max-new-tokens 8 --device cuda ||
        fail "CUDA generate"
    cmp "$tmp/cpu.jsonl" "$tmp/gpu.jsonl" || fail "greedy output on the GPU differs from the CPU's"
    echo "GPU: greedy output identical to the CPU's"
else
    expect_error 'no usable CUDA device.*--device cpu' \
        "$S/build/t5g" generate -q -m $M -i "$tmp/in.jsonl" -o "$tmp/gpu.jsonl" --device cuda
    [ ! -e "$tmp/gpu.jsonl" ] || fail "a failed --device cuda run left an output file"
    echo "no GPU here: --device cuda is one clear error"
fi
