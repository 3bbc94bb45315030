#!/usr/bin/env bash
# plan_accuracy.sh - the planner's predictions against measured runs (issue 17).
#   one node: TP 1, 2, 4 (ranks on this machine, 1 BLIS thread each; 4 ranks on 2 cores oversubscribe)
#   simulated 2-node cluster (tests/shell/netns_cluster.sh; links tbf-limited to 10 Gbit/s):
#   TP 2 across the nodes (1 rank per node) at each SIMULATED inter-node latency (T5G_SIM_LATENCY_US)
# Measured and calibrated by build/bench/bench_plan in ONE launch: each of ROUNDS rounds runs the
# calibration (t5g_calibrate over the launch's ranks, written as a machine file), then one encoder
# pass (batch 4 x 256 tokens) and 16 decoder steps (4 rows over a 64-token source) of PRESET with
# random float32 weights.  The prediction of round r is `t5g plan --machine` with round r's file, so
# prediction and measurement see the same share of this shared machine.  Printed per row: medians
# over the rounds of the predicted and measured tokens/s, the median of the per-round errors
# (predicted / measured - 1) and their range, and the cores the job's ranks got (CPU time / wall).
# The simulated nodes are namespaces on this one machine: the calibration measures every node at
# once, so each node's numbers are its share of the machine, as in the run.  Needs root for the namespaces (else one-node rows only).
# usage: bash bench/plan_accuracy.sh        (env: PRESET, ROUNDS=5, LATENCIES="0 20 100", NPS="1 2 4")
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${PRESET:-t5gemma-s-s}
ROUNDS=${ROUNDS:-5}
LATENCIES=${LATENCIES-0 20 100}
NPS=${NPS-1 2 4}   # NPS="" skips the one-node rows
T5G=$PWD/build/t5g
BENCH=$PWD/build/bench/bench_plan
[ -x "$T5G" ] && [ -x "$BENCH" ] || { echo "plan_accuracy: build first (make -j2 all)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1 BLIS_NUM_THREADS=1
work=$(mktemp -d /tmp/t5g-planacc.XXXXXX)
source tests/shell/netns_cluster.sh
trap 'netns_down; rm -rf "$work"' EXIT

ENC=(--batch 4 --src-len 256 --tgt-len 18)  # bench_plan's encoder shape
DEC=(--batch 4 --src-len 64 --tgt-len 18)   # its decoder: steps 2..17, ~9 cached keys on average

# predict MACHINE NODES RPN TP -> "enc_tok_s dec_tok_s" (per TP group, as bench_plan measures)
predict() {
    local common=(--preset "$PRESET" --dtype f32 --machine "$1" --threads 1 --nodes "$2" --ranks-per-node "$3" --tp "$4")
    local e d
    e=$("$T5G" plan "${common[@]}" "${ENC[@]}" | sed -n 's/^predicted  encoder \([0-9.e+]*\) tokens.*/\1/p')
    d=$("$T5G" plan "${common[@]}" "${DEC[@]}" | sed -n 's/^predicted  \([0-9.e+]*\) generated tokens.*/\1/p')
    echo "$e $d"
}
rows=()
# row LABEL LAUNCH NODES RPN TP: one bench_plan launch of ROUNDS rounds
row() {
    local label=$1 launch=$2 nodes=$3 rpn=$4 tp=$5 r
    $launch "$BENCH" --preset "$PRESET" --rounds "$ROUNDS" --machine-out "$work/m" > "$work/bench.txt"
    : > "$work/pairs.txt"
    for r in $(seq 0 $((ROUNDS - 1))); do
        echo "$(predict "$work/m.$r" "$nodes" "$rpn" "$tp")" \
            "$(sed -n "s/^ROUND r=$r enc_tok_s=\([0-9.]*\) dec_tok_s=\([0-9.]*\) enc_cpu_cores=\([0-9.]*\).*/\1 \2 \3/p" "$work/bench.txt")" \
            >> "$work/pairs.txt"
    done
    rows+=("$(python3 - "$label" "$work/pairs.txt" <<'PY'
import statistics as st, sys
label, rows = sys.argv[1], [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
pe, pd, me, md, cpu = zip(*rows)
ee = [100 * (a / b - 1) for a, b in zip(pe, me)]
ed = [100 * (a / b - 1) for a, b in zip(pd, md)]
print("%-40s %6.0f %6.0f %+5.0f%% [%+4.0f,%+4.0f]  %6.1f %6.1f %+5.0f%% [%+4.0f,%+4.0f]  %4.2f" % (
    label, st.median(pe), st.median(me), st.median(ee), min(ee), max(ee),
    st.median(pd), st.median(md), st.median(ed), min(ed), max(ed), st.median(cpu)))
PY
)")
    echo "${rows[-1]}"
}
header() {
    echo "layout                                   encoder tok/s  error  [range]       decoder tok/s  error  [range]      cores"
    echo "                                          pred.  meas.                         pred.  meas.                      got"
}

echo "== one node ($(nproc) cores)"
header
for np in $NPS; do
    row "1 node x $np rank(s), TP $np" "mpirun -np $np --bind-to none" 1 "$np" "$np"
done

if [ "$(id -u)" -ne 0 ] || ! command -v ip > /dev/null || ! command -v unshare > /dev/null; then
    echo "(simulated nodes skipped: they need root, ip and unshare)"
    exit 0
fi
netns_up 2 "$work"
netns_rate 10gbit
sim_tp2() { netns_run 1 "$@"; }
for lat in $LATENCIES; do
    echo "== simulated 2-node cluster, 10 Gbit/s links, SIMULATED inter-node latency $lat us"
    header
    export T5G_SIM_LATENCY_US=$lat
    row "2 nodes x 1 rank, TP 2 across, +$lat us" sim_tp2 2 1 2
done
unset T5G_SIM_LATENCY_US
echo
echo "== summary: medians over $ROUNDS interleaved rounds (calibrate, encoder pass, decoder steps); load $(cut -d' ' -f1-3 /proc/loadavg)"
header
printf '%s\n' "${rows[@]}"
echo
echo "communication per token at TP 2 (from t5g plan; the same counts the comm layer performs):"
"$T5G" plan --preset "$PRESET" --dtype f32 --nodes 1 --ranks-per-node 2 --tp 2 "${DEC[@]}" | grep '^all-reduces'
