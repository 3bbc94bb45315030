#!/usr/bin/env bash
# Large-input generation benchmark (not run by CI): peak RSS and prompts/s of `t5g generate`
# on N synthetic prompts with the bundled demo model and 2 new tokens.
#   bench/stream_gen.sh [N ...]          default: 10000 1000000
# Env: RUNS (repeats per size, default 3; the median is reported), NP (MPI ranks, default 2:
#      two DP groups, the fastest layout of this tiny model on 2 cores), THREADS (BLIS threads
#      per rank, default 1), T5G (binary), EXTRA (more generate flags),
#      WORK (scratch folder, default /tmp/t5g-stream-bench).
# The prompts are the demo WMT sources (datasets/demo/wmt14-en-fr) cycled with unique ids, so
# the model sees inputs from its own world.  The machine is shared: the script prints `uptime`
# before each size; compare numbers only from quiet runs of the same binary.  Besides wall-clock
# prompts/s it prints the CPU time (user + sys of all ranks) per prompt and what that gives on
# 2 otherwise idle cores (prompts / (cpu / 2)): on a busy machine wall time mostly measures the
# other jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T5G=${T5G:-build/t5g}
RUNS=${RUNS:-3}
NP=${NP:-2}
THREADS=${THREADS:-1}
WORK=${WORK:-/tmp/t5g-stream-bench}
EXTRA=${EXTRA:-}
MODEL=models/demo/t5gemma-demo.h5
mkdir -p "$WORK"
[ -x /usr/bin/time ] || { echo "bench/stream_gen.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 1000000)

# make_prompts N FILE: N lines {"id":"p<i>","text":<a demo source>}
make_prompts() {
    cat datasets/demo/wmt14-en-fr/shard-*.jsonl |
        python3 -c '
import json, sys
src = [json.loads(l)["src"] for l in sys.stdin if l.strip()]
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(json.dumps({"id": "p%d" % i, "text": src[i % len(src)]}, ensure_ascii=False) + "\n")
' "$1" > "$2"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for n in "${sizes[@]}"; do
    in="$WORK/in-$n.jsonl"
    [ -s "$in" ] && [ "$(wc -l < "$in")" -eq "$n" ] || make_prompts "$n" "$in"
    echo "== $n prompts ($(du -h "$in" | cut -f1)), np=$NP threads=$THREADS; $(uptime)"
    : > "$WORK/rss-$n"; : > "$WORK/rate-$n"; : > "$WORK/cpu-$n"
    for r in $(seq 1 "$RUNS"); do
        out="$WORK/out-$n.jsonl"
        rm -f "$out" "$out".part* "$out.run.json"
        # shellcheck disable=SC2086
        /usr/bin/time -v -o "$WORK/time-$n" mpirun -np "$NP" --bind-to none "$T5G" generate -m "$MODEL" -i "$in" -o "$out" \
            --tp 1 --threads "$THREADS" --max-new-tokens 2 -q $EXTRA
        [ "$(wc -l < "$out")" -eq "$n" ] || { echo "run $r: $out has $(wc -l < "$out") lines, want $n" >&2; exit 1; }
        # mpirun's own peak is not the rank's: with NP=1 the rank is the largest child; time -v
        # reports the largest of the process and its waited-for children
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time-$n")
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time-$n" |
               awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}')
        cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$WORK/time-$n")
        rate=$(awk -v n="$n" -v w="$wall" 'BEGIN {printf "%.0f", n / w}')
        idle=$(awk -v n="$n" -v c="$cpu" 'BEGIN {printf "%.0f", n / (c / 2)}')
        echo "run $r: peak RSS $rss kB, wall $wall s, $rate prompts/s; cpu $cpu s ($idle prompts/s on 2 idle cores)"
        echo "$rss" >> "$WORK/rss-$n"; echo "$rate" >> "$WORK/rate-$n"; echo "$idle" >> "$WORK/cpu-$n"
    done
    echo "RESULT n=$n np=$NP threads=$THREADS runs=$RUNS median_peak_rss_kb=$(median < "$WORK/rss-$n")" \
         "median_prompts_per_s=$(median < "$WORK/rate-$n") median_cpu_bound_prompts_per_s=$(median < "$WORK/cpu-$n") load: $(uptime | sed 's/.*load/load/')"
done
