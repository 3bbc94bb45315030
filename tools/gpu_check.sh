#!/usr/bin/env bash
# tools/gpu_check.sh - the one prepared run of the CUDA path on a machine with NVIDIA GPUs
# (docs/cuda.md "Checking on a GPU").  Run from the repository root:
#
#   bash tools/gpu_check.sh            # logs in $OUT/gpu-logs when $OUT is set, else build/gpu-logs
#
# Steps, each with its own time limit inside a total budget (GPU_CHECK_BUDGET, default 480 s):
#   0. preflight: nvidia-smi, nvcc, mpicc, and the libraries the build links (one line each)
#   1. make CUDA=1 all + the GPU test programs (CUDA_ARCH from nvidia-smi's compute capability;
#      GPU_CHECK_SKIP_BUILD=1 uses an existing CUDA=1 build/ instead)
#   2. tests/gpu/test_cuda_ops   every op vs the CPU backend (T5G_REQUIRE_GPU: a skip fails)
#   3. tests/gpu/test_cuda_model the model vs the HF fixtures and the CPU backend, f32 and bf16
#      in separate runs (BLOCKED lines: the model refuses that compute type on cuda)
#   4. tests/gpu/test_cuda_nccl  NCCL all-reduce under mpirun, when 2+ GPUs are visible
#   5. tests/gpu/bench_cuda      HBM bandwidth, decode / prefill products, attention, selection,
#                                the model's decode step vs roofline and tokens/s at batch 1/32/128
#      (--quick when less than 150 s of the budget is left)
# Then summary.txt: pass/fail per step and the benchmark lines the issue asks for.  Exit status:
# 0 when every step that ran passed, 1 otherwise (a step cut by its time limit counts as failed).
set -u
cd "$(dirname "$0")/.." || exit 1
LOG=${OUT:+$OUT/gpu-logs}
LOG=${LOG:-build/gpu-logs}
mkdir -p "$LOG"
BUDGET=${GPU_CHECK_BUDGET:-480}
START=$(date +%s)
FAILED=0
SUMMARY="$LOG/summary.txt"
: > "$SUMMARY"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 T5G_REQUIRE_GPU=1

note() { echo "$*" | tee -a "$SUMMARY"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

# step NAME LIMIT_SECONDS COMMAND...: runs with min(LIMIT, budget left), log in $LOG/NAME.log
step() {
    local name=$1 limit=$2
    shift 2
    local rest
    rest=$(left)
    [ "$limit" -gt "$rest" ] && limit=$rest
    if [ "$limit" -lt 10 ]; then
        note "SKIP  $name: the time budget is spent"
        FAILED=1
        return 1
    fi
    local t0 rc=0
    t0=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" > "$LOG/$name.log" 2>&1 || rc=$?
    local dt=$(($(date +%s) - t0))
    if [ $rc -eq 0 ]; then
        note "PASS  $name (${dt} s)"
    else
        [ $rc -eq 124 ] && note "FAIL  $name: cut at its ${limit} s limit" || note "FAIL  $name: exit $rc (${dt} s)"
        tail -n 15 "$LOG/$name.log" | sed 's/^/      /' | tee -a "$SUMMARY"
        FAILED=1
    fi
    return $rc
}

# ---- 0. preflight ----
{
    echo "date: $(date -u +%FT%TZ)   git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"
    nvidia-smi --query-gpu=index,name,compute_cap,memory.total,driver_version --format=csv,noheader 2>&1
    /usr/local/cuda/bin/nvcc --version 2>&1 | tail -n 2
    nproc
} > "$LOG/preflight.log" 2>&1
cat "$LOG/preflight.log" | tee -a "$SUMMARY"
NGPU=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [ "$NGPU" -lt 1 ]; then
    note "FAIL  preflight: nvidia-smi sees no GPU; nothing to check here"
    exit 1
fi
missing=""
command -v mpicc > /dev/null || missing="$missing mpicc"
[ -x /usr/local/cuda/bin/nvcc ] || missing="$missing nvcc"
printf '#include <blis.h>\n#include <hdf5.h>\n#include <cJSON.h>\n#include <utf8proc.h>\n' |
    mpicc -fsyntax-only -I/usr/include/hdf5/openmpi -I/usr/include/cjson -x c - > /dev/null 2>&1 ||
    missing="$missing headers(blis.h/hdf5.h/cJSON.h/utf8proc.h)"
[ -e /usr/include/sentencepiece_processor.h ] || missing="$missing sentencepiece_processor.h"

if [ -n "$missing" ] && [ -z "${GPU_CHECK_SKIP_BUILD:-}" ]; then
    note "FAIL  preflight: missing for the build:$missing (tools/install_deps.sh installs them)"
    exit 1
fi
CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
export CUDA_ARCH=sm_${CAP:-90}
JOBS=$(nproc)

# ---- 1. build ----
if [ -z "${GPU_CHECK_SKIP_BUILD:-}" ]; then
    step build 240 make CUDA=1 CUDA_ARCH="$CUDA_ARCH" -j"$JOBS" all build/tests/gpu/test_cuda_ops \
        build/tests/gpu/test_cuda_model build/tests/gpu/test_cuda_nccl build/tests/gpu/bench_cuda || {
        note "the build failed: nothing ran on the GPU"
        exit 1
    }
fi
for p in build/tests/gpu/test_cuda_ops build/tests/gpu/test_cuda_model build/tests/gpu/bench_cuda; do
    [ -x "$p" ] || { note "FAIL  $p is missing"; exit 1; }
done
if ldd build/tests/gpu/test_cuda_ops | grep -q 'not found'; then
    note "FAIL  preflight: libraries not found: $(ldd build/tests/gpu/test_cuda_ops | grep 'not found' | tr -s ' \t' ' ')"
    exit 1
fi

# ---- 2-4. tests ----
step test_cuda_ops 150 ./build/tests/gpu/test_cuda_ops
step test_cuda_model_f32 90 ./build/tests/gpu/test_cuda_model f32
step test_cuda_model_bf16 90 ./build/tests/gpu/test_cuda_model bf16
grep -h '^BLOCKED' "$LOG"/test_cuda_model_*.log 2> /dev/null | sed 's/^/      /' | tee -a "$SUMMARY"
if [ "$NGPU" -ge 2 ]; then
    step test_cuda_nccl 90 mpirun -np "$NGPU" --bind-to none ./build/tests/gpu/test_cuda_nccl
else
    note "SKIP  test_cuda_nccl: $NGPU GPU (the NCCL all-reduce needs 2+); communicator teardown unverified"
fi

# ---- 5. benchmark ----
BARGS=""
[ "$(left)" -lt 150 ] && BARGS=--quick
step bench_cuda 200 ./build/tests/gpu/bench_cuda $BARGS
if [ -s "$LOG/bench_cuda.log" ]; then
    note ""
    note "benchmark lines (full output: $LOG/bench_cuda.log):"
    grep -E '^bench_cuda on|^HBM bandwidth|^decode step linears|^prefill products|^M=|^decode batch|^model |^generate batch' \
        "$LOG/bench_cuda.log" | tee -a "$SUMMARY"
fi
note ""
note "total $(($(date +%s) - START)) s of the ${BUDGET} s budget; logs in $LOG"
[ $FAILED -eq 0 ] && note "gpu_check: PASS" || note "gpu_check: FAIL"
exit $FAILED
