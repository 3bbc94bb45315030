#!/usr/bin/env bash
# plan_accuracy.sh - the planner's predictions against measured runs (issue 17).
#   one node: TP 1, 2, 4 (ranks on this machine, 1 BLIS thread each)
#   simulated 2-node cluster (tests/shell/netns_cluster.sh; links tbf-limited to 10 Gbit/s):
#   TP 2 across the nodes (1 rank per node) at each SIMULATED inter-node latency (T5G_SIM_LATENCY_US)
# Measured: build/bench/bench_tp (random weights of PRESET, float32): encoder tokens/s (batch 4 x 256
# tokens) and decoder tokens/s (4 rows, 16 steps over a 64-token source).  Predicted: t5g plan
# --machine with the machine file that `t5g calibrate` wrote for that cluster (one node, or the
# 2-node cluster at that latency) just before the measured run.  This machine is shared and its
# load changes within seconds, so each row repeats "calibrate, predict, measure" REPS times
# (default 3) and prints the medians of the predictions and of the measurements; each
# calibration is itself the median of 3 rounds.  The simulated nodes share this machine's cores
# and memory bandwidth, so their machine file gives each node its share (see share below).
# Needs root for the namespaces (without it only the one-node rows are printed).  ~5 min.
# usage: bash bench/plan_accuracy.sh        (env: PRESET, REPS, LATENCIES="0 20 100", NPS="1 2 4")
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${PRESET:-t5gemma-s-s}
REPS=${REPS:-3}
LATENCIES=${LATENCIES-0 20 100}
NPS=${NPS-1 2 4}   # NPS="" skips the one-node rows
T5G=build/t5g
BENCH=build/bench/bench_tp
[ -x "$T5G" ] && [ -x "$BENCH" ] || { echo "plan_accuracy: build first (make -j2 all)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1 BLIS_NUM_THREADS=1
work=$(mktemp -d /tmp/t5g-planacc.XXXXXX)
source tests/shell/netns_cluster.sh
trap 'netns_down; rm -rf "$work"' EXIT

ENC=(--batch 4 --src-len 256 --tgt-len 18)  # bench_tp's encoder shape
DEC=(--batch 4 --src-len 64 --tgt-len 18)   # its decoder: steps 2..17, ~9 cached keys on average

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# bench LAUNCH...: one bench_tp run -> "enc_tok_s dec_tok_s"
bench() {
    local out
    out=$("$@" "$BENCH" --preset "$PRESET" --batch 4 --len 256 --dec-batch 4 --steps 16)
    echo "$(sed -n 's/.*phase=encoder .*tokens_per_s=\([0-9.]*\).*/\1/p' <<< "$out")" \
         "$(sed -n 's/.*phase=decode .*tokens_per_s=\([0-9.]*\).*/\1/p' <<< "$out")"
}
# predict MACHINE NODES RPN TP -> "enc_tok_s dec_tok_s" (per TP group, as bench_tp measures)
predict() {
    local common=(--preset "$PRESET" --dtype f32 --machine "$1" --threads 1 --nodes "$2" --ranks-per-node "$3" --tp "$4")
    local e d
    e=$("$T5G" plan "${common[@]}" "${ENC[@]}" | sed -n 's/^predicted  encoder \([0-9.e+]*\) tokens.*/\1/p')
    d=$("$T5G" plan "${common[@]}" "${DEC[@]}" | sed -n 's/^predicted  \([0-9.e+]*\) generated tokens.*/\1/p')
    echo "$e $d"
}
# col N: column N of each line on stdin, median
col() { awk -v n="$1" '{ print $n }' | median; }
rows=()
# share FILE K: the simulated nodes are K namespaces on this one machine, so each has 1/K of its
# cores, GEMM rate and bandwidth while they all run (calibrate measured the whole machine from
# one namespace while the others slept); the per-core and network numbers stay as measured
share() {
    python3 - "$1" "$2" <<'PY'
import json, sys
path, k = sys.argv[1], int(sys.argv[2])
m = json.load(open(path))
m["cores"] = max(1, m["cores"] // k)
for key in ("gemm_gflops_node", "mem_bw_gbs"):
    m[key] = m[key] / k
m["comment"] = "simulated node: 1/%d of this machine (bench/plan_accuracy.sh)" % k
json.dump(m, open(path, "w"), indent=1)
PY
}
# row LABEL CALIBRATE_LAUNCH BENCH_LAUNCH NODES RPN TP [K]: REPS x (calibrate, predict, measure),
# medians; K: simulated nodes sharing this machine (see share)
row() {
    local label=$1 cal=$2 run=$3 nodes=$4 rpn=$5 tp=$6 k=${7:-1} r preds="" meas=""
    for r in $(seq "$REPS"); do
        $cal "$T5G" calibrate --threads 1 -o "$work/m.json" > "$work/cal.txt" 2> /dev/null
        [ "$k" -eq 1 ] || share "$work/m.json" "$k"
        preds+="$(predict "$work/m.json" "$nodes" "$rpn" "$tp")"$'\n'
        meas+="$(bench $run)"$'\n'
    done
    local p m
    p="$(grep . <<< "$preds" | col 1) $(grep . <<< "$preds" | col 2)"
    m="$(grep . <<< "$meas" | col 1) $(grep . <<< "$meas" | col 2)"
    rows+=("$(awk -v l="$label" -v p="$p" -v m="$m" 'BEGIN { split(p, P, " "); split(m, M, " ");
        printf "%-46s %9.0f %9.0f %+6.0f%%   %8.1f %8.1f %+6.0f%%", l, P[1], M[1], 100 * (P[1] / M[1] - 1),
               P[2], M[2], 100 * (P[2] / M[2] - 1) }')")
    echo "${rows[-1]}"
    sed 's/^/      last calibration: /' "$work/cal.txt"
}
header() {
    echo "layout                                         encoder tok/s          error   decoder tok/s      error"
    echo "                                               predicted  measured           predicted measured"
}
host_mpirun() { mpirun -np "$1" --bind-to none; }
cal_node() { mpirun -np 2 --bind-to none "$@"; }

echo "== one node (calibration: t5g calibrate on 2 ranks of this machine)"
header
for np in $NPS; do
    row "1 node x $np rank(s), TP $np" cal_node "mpirun -np $np --bind-to none" 1 "$np" "$np"
done

if [ "$(id -u)" -ne 0 ] || ! command -v ip > /dev/null || ! command -v unshare > /dev/null; then
    echo "(simulated nodes skipped: they need root, ip and unshare)"
    exit 0
fi
netns_up 2 "$work"
netns_rate 10gbit
cal_sim() { netns_run 2 "$@"; }
sim_tp2() { netns_run 1 "$@"; }
for lat in $LATENCIES; do
    echo "== simulated 2-node cluster, 10 Gbit/s links, SIMULATED inter-node latency $lat us (calibration: 2 nodes x 2 ranks)"
    header
    export T5G_SIM_LATENCY_US=$lat
    row "2 nodes x 1 rank, TP 2 across, +$lat us (sim)" cal_sim sim_tp2 2 1 2 2
done
unset T5G_SIM_LATENCY_US
echo
echo "== summary: medians of $REPS x (calibrate, predict, measure); machine shared with other work"
header
printf '%s\n' "${rows[@]}"
echo
echo "communication per token at TP 2 (from t5g plan; the same counts the comm layer performs):"
"$T5G" plan --preset "$PRESET" --dtype f32 --nodes 1 --ranks-per-node 2 --tp 2 "${DEC[@]}" | grep '^all-reduces'
