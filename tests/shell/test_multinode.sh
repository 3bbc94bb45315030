#!/usr/bin/env bash
# test_multinode.sh - t5g across simulated nodes (tests/shell/netns_cluster.sh: one network
# namespace per node, veths on a private bridge, Open MPI's TCP transport between nodes, no sshd).
# Links limited by `tc qdisc tbf` (1 Gbit/s, then 10 Gbit/s); the kernel has no netem, so latency
# is t5g's simulation switch T5G_SIM_LATENCY_US (src/parallel/comm.c, docs/planner.md).
# Checks, against one rank:
#   - generate: TP 2 inside each node x DP 2 across nodes; TP 2 across nodes; TP 4 across 2
#     nodes with a simulated 100 us inter-node latency: identical output files
#   - eval (squad-v2): TP inside x DP across, TP across: identical scores and predictions
#   - traffic really crossed the veths (their byte counters), the bandwidth limit is installed,
#     t5g reports how many nodes a TP group spans and labels the latency as simulated
# Needs root (namespaces); skipped (77) otherwise.  About a minute.  The namespaces are removed
# on every exit (trap), also after a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=models/demo/t5gemma-demo.h5

[ "$(id -u)" -eq 0 ] || skip "test_multinode needs root (network namespaces)"
for t in ip tc unshare; do command -v $t >/dev/null || skip "test_multinode needs '$t' (bash tools/install_deps.sh)"; done
[ -x "$T5G" ] || fail "$T5G missing: run make"
[ -f "$MODEL" ] || fail "$MODEL missing (the bundled demo model)"

source tests/shell/netns_cluster.sh
NODES=2
trap 'netns_down; rm -rf "$tmp"' EXIT
netns_up $NODES "$tmp"
P=$NETNS_P
# set_rate RATE SHOWN: token-bucket limit on every node's link, checked with tc
set_rate() {
    netns_rate "$1" || fail "tc tbf $1 failed"
    for i in $(seq 0 $((NODES - 1))); do
        ip netns exec "${P}n$i" tc qdisc show dev eth0 | grep -q "tbf.*rate $2" || fail "tbf $1 not installed on node $i"
    done
}
tx_bytes() { netns_tx_bytes "$1"; }
cluster_run() { netns_run "$@"; }
export BLIS_NUM_THREADS=1

# ---------------------------------------------------------------------------------------------
printf '{"id": "q%d", "text": "%s"}\n' \
    1 "translate English to French: The house is small." 2 "summarize: The council met on Tuesday to discuss the budget." \
    3 "question: Who met? context: The council met on Tuesday." 4 "translate English to French: I like green apples." \
    5 "summarize: Rain is expected across the north tomorrow, with snow on the hills." 6 "translate English to French: Where is the station?" \
    7 "question: When? context: The meeting is at noon." 8 "translate English to French: Thank you very much." > "$tmp/in.jsonl"
GEN=(generate -m "$MODEL" -i "$tmp/in.jsonl" --max-new-tokens 12 --batch-size 3 -q)
EVAL=(eval --task squad-v2 -m "$MODEL" --data datasets/demo --beams 1 --max-new-tokens 8 --batch-size 4 --limit 24 -q)
same_eval() {  # same scores and per-sample predictions in two eval folders
    cmp "$1/samples.jsonl" "$2/samples.jsonl" || return 1
    python3 - "$1/results.json" "$2/results.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if (a["primary"], a["metrics"], a["samples"]) == (b["primary"], b["metrics"], b["samples"]) else 1)
PY
}
# gen_across RANKS_PER_NODE TP LATENCY_US SPANS NAME: generate on the cluster writes the one-rank
# output and reports the simulated latency and how many nodes a TP group spans
gen_across() {
    T5G_SIM_LATENCY_US=$3 cluster_run "$1" "$T5G" "${GEN[@]}" --tp "$2" -o "$tmp/gen_$5.jsonl" 2> "$tmp/$5.err" ||
        { cat "$tmp/$5.err"; fail "generate $5 failed"; }
    cmp "$tmp/gen_1.jsonl" "$tmp/gen_$5.jsonl" || fail "$5: output differs from one rank"
    grep -q "SIMULATED inter-node latency $3.0 us.*spans $4 node" "$tmp/$5.err" ||
        { cat "$tmp/$5.err"; fail "$5: simulated latency not reported, or the TP group's nodes miscounted"; }
}

echo "== one rank (reference)"
"$T5G" "${GEN[@]}" -o "$tmp/gen_1.jsonl"
"$T5G" "${EVAL[@]}" --out "$tmp/eval_1" > /dev/null
[ -s "$tmp/gen_1.jsonl" ] && [ -s "$tmp/eval_1/results.json" ] || fail "one-rank runs wrote nothing"

t0=$SECONDS
echo "== links limited to 1 Gbit/s"
set_rate 1gbit 1Gbit
tx0=$(tx_bytes 1)
echo "-- generate: TP 2 inside each node x DP 2 across nodes"
gen_across 2 2 20 1 tpin
echo "-- generate: TP 2 across the nodes (one rank per node)"
cluster_run 1 "$T5G" "${GEN[@]}" --tp 2 -o "$tmp/gen_tpx.jsonl"
cmp "$tmp/gen_1.jsonl" "$tmp/gen_tpx.jsonl" || fail "TP across nodes: output differs from one rank"
tx1=$(tx_bytes 1)
[ $((tx1 - tx0)) -gt 100000 ] || fail "only $((tx1 - tx0)) bytes left node 1: the ranks did not talk over the veths"
echo "   node 1 sent $((tx1 - tx0)) bytes over its link"
echo "-- eval: TP 2 inside x DP 2 across, and TP 2 across"
cluster_run 2 "$T5G" "${EVAL[@]}" --tp 2 --out "$tmp/eval_tpin" > /dev/null
cluster_run 1 "$T5G" "${EVAL[@]}" --tp 2 --out "$tmp/eval_tpx" > /dev/null
same_eval "$tmp/eval_1" "$tmp/eval_tpin" || fail "eval TP inside x DP across: scores differ from one rank"
same_eval "$tmp/eval_1" "$tmp/eval_tpx" || fail "eval TP across: scores differ from one rank"
grep -Eq '"dp":[[:space:]]*2' "$tmp/eval_tpin/results.json" || fail "eval layout (DP 2) not recorded"

echo "== links limited to 10 Gbit/s, simulated 100 us inter-node latency"
set_rate 10gbit 10Gbit
echo "-- generate: TP 4 across 2 nodes"
gen_across 2 4 100 2 tp4
echo "-- a bad latency value is refused with one clear line"
if T5G_SIM_LATENCY_US=fast cluster_run 1 "$T5G" "${GEN[@]}" --tp 2 -o "$tmp/bad.jsonl" > "$tmp/bad.err" 2>&1; then
    fail "T5G_SIM_LATENCY_US=fast accepted"
fi
grep -q "t5g: error: T5G_SIM_LATENCY_US must be" "$tmp/bad.err" || { cat "$tmp/bad.err"; fail "no clear error for a bad T5G_SIM_LATENCY_US"; }
[ ! -e "$tmp/bad.jsonl" ] || fail "a refused run left an output file"
echo "cluster runs: $((SECONDS - t0)) s"
echo "PASS test_multinode"
