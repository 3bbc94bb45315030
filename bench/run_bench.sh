#!/usr/bin/env bash
# make bench: every benchmark, each comparison measured in the same run (the machine is noisy:
# compare ratios, not absolute numbers).  Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PRESET=${PRESET:-t5gemma-s-s}
echo "== engine (issue 2 and 4 goals) on $PRESET"
build/bench/bench_engine --preset "$PRESET" "$@"
echo
echo "== tensor parallelism: TP=2 x 1 thread vs TP=1 x 2 threads (same run)"
mpirun -np 1 --bind-to none build/t5g calibrate --threads 2 -o build/calibration-tp1.json > /dev/null
mpirun -np 2 --bind-to none build/t5g calibrate --threads 1 -o build/calibration-tp2.json > /dev/null
r1=$(mpirun -np 1 --bind-to none -x BLIS_NUM_THREADS=2 build/bench/bench_tp --preset "$PRESET" | grep RESULT)
r2=$(mpirun -np 2 --bind-to none -x BLIS_NUM_THREADS=1 build/bench/bench_tp --preset "$PRESET" | grep RESULT)
printf '%s\n%s\n' "$r1" "$r2"
val() { sed -n "s/.*phase=$2 .*$3=\([0-9.]*\).*/\1/p" <<< "$1"; }
e1=$(val "$r1" encoder tokens_per_s); e2=$(val "$r2" encoder tokens_per_s)
d1=$(val "$r1" decode tokens_per_s); d2=$(val "$r2" decode tokens_per_s)
awk -v e1="$e1" -v e2="$e2" -v d1="$d1" -v d2="$d2" 'BEGIN {
    printf "encoder: TP=2x1 / TP=1x2 throughput = %.2f;  decoder steps: %.2f\n", e2 / e1, d2 / d1 }'
echo
echo "== planner prediction for the same layouts (machine numbers measured just now: build/calibration-tp*.json)"
for tp in 1 2; do
    build/t5g plan --preset "$PRESET" --nodes 1 --ranks-per-node $tp --tp $tp --batch 4 --src-len 256 --beams 1 \
        --calibration build/calibration-tp$tp.json | grep predicted | sed "s/^/TP=$tp: /"
done
