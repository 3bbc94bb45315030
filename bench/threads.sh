#!/usr/bin/env bash
# bench/threads.sh - thread scaling of batched generation, and its behaviour next to a busy process:
#   1. batch-32 greedy with --threads 1 and --threads 2, interleaved (goal: 2 threads >= 1.6x);
#   2. the same with a busy loop pinned on core 0 (goal: 2 threads not slower than 1).
# Uses build/bench/bench_gen on a model file (default: the one `make bench-peers` converts;
# MODEL=... and IDS=... to choose).  Prints each run and the medians of the per-round ratios.
# usage: bash bench/threads.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ROUNDS=${1:-3}
MODEL=${MODEL:-build/peers/model.h5}
IDS=${IDS:-build/peers/ids-32x64.txt}
NEW=${NEW:-16}
[ -f "$MODEL" ] && [ -f "$IDS" ] || { echo "t5g: error: $MODEL or $IDS missing: run 'make bench-peers' first (it writes both), or set MODEL and IDS" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "t5g: error: needs at least 2 cores" >&2; exit 2; }

run() {  # run THREADS -> tokens/s of the timed repetition
    build/bench/bench_gen -m "$MODEL" --ids "$IDS" --batch 32 --new "$NEW" --threads "$1" --reps 2 |
        awk '/^rep 1/ {printf "%.1f\n", $6 / $4}'
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

measure() {  # measure LABEL: ROUNDS interleaved rounds of threads 1 and 2
    local label=$1 r t1 t2 ratios=()
    for r in $(seq "$ROUNDS"); do
        t1=$(run 1)
        t2=$(run 2)
        echo "  $label round $r: --threads 1 $t1 tok/s, --threads 2 $t2 tok/s"
        ratios+=("$(awk -v a="$t2" -v b="$t1" 'BEGIN {printf "%.3f", a / b}')")
    done
    printf '%s\n' "${ratios[@]}" | median | awk -v l="$label" '{printf "%s: --threads 2 / --threads 1 = %.2f (median of the rounds)\n", l, $1}'
    printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "  range %.2f-%.2f\n", lo, hi}'
}

echo "== batch 32 greedy, $NEW new tokens, $MODEL"
measure "quiet"
taskset -c 0 sh -c 'while :; do :; done' &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT
measure "busy loop on core 0"
