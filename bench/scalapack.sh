#!/usr/bin/env bash
# scalapack.sh - the encoder pass in the 1-D TP layout vs the 2-D ScaLAPACK layout (--encoder-layout
# 2d; issue 17, docs/planner.md "ScaLAPACK"), timed interleaved in one process by
# build/bench/bench_scalapack (random float32 weights with PRESET's widths, LAYERS encoder layers,
# batch x LEN tokens, the automatic grid: 1x2 for 2 ranks, 2x2 for 4):
#   one node:             NPS ranks (default 2 and 4; 4 oversubscribes a 2-core machine)
#   2 simulated nodes:    tests/shell/netns_cluster.sh, links tbf-limited to 10 Gbit/s; 1 rank per node
#                         (TP 2 across) and 2 ranks per node (TP 4 across, 2x2 grid), at each
#                         SIMULATED inter-node latency (T5G_SIM_LATENCY_US: the 1-D all-reduces and,
#                         in the 2-D layout, every cross-node ScaLAPACK message pay it)
# Each cell: REPS interleaved pairs; medians (and ranges) of the pass times and of the per-pair
# ratio 2-D / 1-D (< 1: 2-D faster).  Needs root for the simulated nodes (without it: one node only).
# usage: bash bench/scalapack.sh   (env: BATCHES="32 256 1024", LATENCIES="0 20 100", NPS="2 4",
#                                    REPS=3, LEN=16, PRESET=t5gemma-s-s, LAYERS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES=${BATCHES-32 256 1024}
LATENCIES=${LATENCIES-0 20 100}
NPS=${NPS-2 4}
REPS=${REPS:-3}
LEN=${LEN:-16}
PRESET=${PRESET:-t5gemma-s-s}
LAYERS=${LAYERS:-2}
BENCH=build/bench/bench_scalapack
[ -x "$BENCH" ] || { echo "scalapack.sh: build first (make -j2 all)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1 BLIS_NUM_THREADS=1
ARGS=(--preset "$PRESET" --layers "$LAYERS" --len "$LEN" --reps "$REPS")
rows=()

# cell LABEL LAUNCH...: one bench_scalapack run per batch size -> one table row each
cell() {
    local label=$1 b out
    shift
    for b in $BATCHES; do
        out=$("$@" nice "$BENCH" "${ARGS[@]}" --batch "$b")
        grep -E '^(RESULT|RATIO)' <<< "$out" | sed "s/^/[$label] /" >&2
        rows+=("$(awk -v label="$label" '
            /^RESULT layout=1d/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); one[kv[1]] = kv[2] } }
            /^RESULT layout=2d/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); two[kv[1]] = kv[2] } }
            /^RATIO/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] } }
            END { printf "| %s | %s | %s | %d | %s (%s-%s) | %s (%s-%s) | **%s** (%s-%s) | %s |\n", label, two["tp"], two["grid"],
                  two["batch"] * two["len"], one["median_s"], one["min_s"], one["max_s"], two["median_s"], two["min_s"],
                  two["max_s"], r["median"], r["min"], r["max"], r["max_abs_diff"] }' <<< "$out")")
    done
}

for np in $NPS; do
    cell "1 node, $np ranks" mpirun -np "$np" --bind-to none
done

if [ "$(id -u)" -eq 0 ] && command -v ip > /dev/null && command -v tc > /dev/null && command -v unshare > /dev/null; then
    work=$(mktemp -d /tmp/t5g-scalapack.XXXXXX)
    source tests/shell/netns_cluster.sh
    trap 'netns_down; rm -rf "$work"' EXIT
    netns_up 2 "$work"
    netns_rate 10gbit
    for lat in $LATENCIES; do
        for rpn in 1 2; do
            T5G_SIM_LATENCY_US=$lat cell "2 sim. nodes x $rpn, +$lat us SIMULATED" netns_run "$rpn"
        done
    done
else
    echo "scalapack.sh: not root or no ip/tc/unshare: the simulated nodes are left out" >&2
fi

echo "encoder pass, $PRESET widths, $LAYERS layers, float32, $LEN tokens per sequence, 1 thread per rank;"
echo "seconds: median (min-max) of $REPS interleaved pairs; ratio = 2-D / 1-D per pair (< 1: 2-D faster)"
echo
echo "| layout | TP | grid | tokens | 1-D s | 2-D s | 2-D / 1-D | max abs diff |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
