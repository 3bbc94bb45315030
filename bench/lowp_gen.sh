#!/usr/bin/env bash
# bench/lowp_gen.sh - batch-32 greedy (32 rows x 64 source ids, 32 new tokens, --threads T) of
# t5g with the weights in f32, bf16, int8 (and bf16-act where the CPU has AVX512-BF16) against CTranslate2 int8, on the t5gemma-s-s-shaped
# random model of bench/peers.py (its zeroed-eos trick: every row makes exactly 32 tokens).
# Repetitions interleaved; each t5g figure is bench_gen's second (warm) run, CT2's a warm run.
# Also: rows of bf16 / int8 greedy ids identical to f32's.
# Needs the PyPI packages of bench/peers.py (torch, transformers, ctranslate2) to build the model.
# usage: bash bench/lowp_gen.sh [WORK=build/peers] [REPS=3] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORK:-build/peers}
REPS=${REPS:-3}
T=${THREADS:-2}
mkdir -p "$W"
[ -f "$W/model.h5" ] && [ -d "$W/ct2-int8" ] || python3 bench/peers.py --child --system build --work "$W" > /dev/null
python3 -c "import sys; sys.path.insert(0, 'bench'); import peers; peers.make_ids('$W')" > /dev/null
for dt in int8 bf16; do
    [ -f "$W/model_$dt.h5" ] || build/t5g convert --hf "$W/hf" --dtype "$dt" -o "$W/model_$dt.h5" > /dev/null
done
ids=$W/ids-32x64.txt
DTS="f32 bf16 int8"
grep -qw avx512_bf16 /proc/cpuinfo && DTS="$DTS bf16-act"  # bf16 weights, activations rounded to bf16
for rep in $(seq 1 "$REPS"); do
    for dt in $DTS; do
        m=$W/model.h5
        [ "$dt" = f32 ] || m=$W/model_${dt%-act}.h5
        s=$(build/bench/bench_gen -m "$m" --compute-type "$dt" --ids "$ids" --batch 32 --beams 1 --new 32 --threads "$T" --reps 2 \
            --out "$W/lowp-$dt.out" | awk '/^rep /{s=$4} END{print s}')
        echo "rep $rep t5g-$dt $(awk -v s="$s" 'BEGIN{printf "%.3f s %.1f tokens/s", s, 1024 / s}')"
    done
    python3 bench/peers.py --child --system ct2-int8 --workload b32g --ids "$ids" --work "$W" --hf "$W/hf" --threads "$T" |
        tail -1 | python3 -c "import json, sys; s = json.load(sys.stdin)['seconds']; print(f'rep $rep ct2-int8 {s:.3f} s {1024 / s:.1f} tokens/s')"
done
for dt in ${DTS#f32 }; do
    echo "$dt greedy rows identical to f32: $(paste -d'|' "$W/lowp-f32.out" "$W/lowp-$dt.out" | awk -F'|' '$1 == $2' | wc -l) of $(wc -l < "$W/lowp-f32.out")"
done
