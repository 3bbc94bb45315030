#!/usr/bin/env bash
# Allocation-failure injection: each command runs once normally under build/tests/libfailmalloc.so
# (tests/support/failmalloc.c), which counts the C allocations made inside main(), then again
# with T5G_FAIL_ALLOC_AT=N for N in 1..C (every N up to $ALL, then $SPREAD more spread evenly
# over the rest; T5G_ALLOC_FULL=1 tries every N).  Commands: `t5g score bleu|chrf|ter|rouge|squad2`
# (every allocation counted), `t5g generate` and `t5g eval` on a tiny model (only t5g's own, see below),
# `t5g report` (table, markdown, chart, lm-eval export), `t5g init` and `t5g convert` (t5g's own).
# T5G_ALLOC_ONLY=regex runs only the sweeps whose names match; T5G_ALLOC_EXTRA=1 adds `eval` of
# squad-v2 and cnn-dailymail (minutes each: not in make test).
# Each run with the Nth allocation failing must either
#   - exit 0 with stdout and output files identical to the normal run's (a fallback took over), or
#   - exit non-zero (below 124: no crash, no signal, no timeout) with exactly one "t5g: error:"
#     line on stderr that mentions memory ("out of memory ...", or "cannot open F: Cannot allocate
#     memory" when fopen's own allocation failed), nothing on stdout, and its output folder as it
#     was before (no output file, no temporary file).
# Allocations before main() (the loader, the constructors of MPI, HDF5, libstdc++) are not
# counted, so never failed: their failures are not ours to handle.  With thread pools the order
# of the counted calls can vary a little between runs, so N may hit a neighbouring call: every
# call must be handled anyway.  Prints, per command, the count of N tried, clean errors and
# successes; fails if any run breaks the rule.  Not run under ASan (tests/sanitize/run.sh).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
SHIM=$PWD/build/tests/libfailmalloc.so
ALL=${T5G_ALLOC_ALL:-150}
SPREAD=${T5G_ALLOC_SPREAD:-50}
[ -f "$SHIM" ] || skip "no $SHIM (make all builds it)"
# ASan replaces malloc itself and must come first among the libraries: a preloaded malloc cannot
# be put in front of it (tests/sanitize/run.sh leaves this test out)
ldd "$T5G" | grep -q libasan && skip "$T5G is a sanitizer build: the malloc shim cannot preload in front of ASan"
S=$PWD/tests/fixtures/squad
R=$PWD/tests/fixtures/rouge_cli/in
B=$PWD/tests/fixtures/bleu/cli
W=$tmp/w
mkdir -p "$W" "$tmp/ref"
bad=0
total=0

# the N to try for C counted allocations
points() {
    local c=$1 k
    if [ "${T5G_ALLOC_FULL:-0}" = 1 ] || [ "$c" -le $((ALL + SPREAD)) ]; then
        seq 1 "$c"
        return
    fi
    seq 1 "$ALL"
    for ((k = 1; k <= SPREAD; k++)); do echo $((ALL + k * (c - ALL) / SPREAD)); done
}

# run N CMD...: CMD in the folder $W (where its output files go), stdin from $IN, the Nth
# allocation failing (N = 0: none, and the count goes to $tmp/count); sets rc
run() {
    local n=$1
    shift
    rc=0
    (cd "$W" && timeout -k 2 10 env LD_PRELOAD="$SHIM" T5G_FAIL_ALLOC_OWN="$OWN" T5G_FAIL_ALLOC_AT="$n" T5G_ALLOC_COUNT_FILE="$tmp/count" "$@") \
        < "$IN" > "$tmp/out" 2> "$tmp/err" || rc=$?
}

# same REF OUT: the same bytes; for checkpoints (.h5, whose HDF5 headers hold creation times) the
# same content sha256 (t5g model sha256: config, tokenizer and every tensor)
same() {
    case $1 in
        *.h5) [ -f "$2" ] && [ "$("$T5G" model sha256 -m "$1" | cut -d' ' -f1)" = "$("$T5G" model sha256 -m "$2" | cut -d' ' -f1)" ] ;;
        *) cmp -s "$1" "$2" ;;
    esac
}

# why the last run broke the rule (nothing when it kept it); removes its output files
verdict() {
    local nerr f
    nerr=$(grep -c '^t5g: error' "$tmp/err")
    if [ $rc -ge 124 ]; then
        echo "exit $rc (crash, signal or timeout)"
    elif [ $rc -eq 0 ]; then
        cmp -s "$tmp/out" "$tmp/ref/stdout" || echo "exit 0 but stdout differs"
        for f in "$tmp/ref"/*; do
            [ "$(basename "$f")" = stdout ] || same "$f" "$W/$(basename "$f")" || echo "exit 0 but $(basename "$f") differs"
        done
    elif [ "$nerr" -ne 1 ]; then
        echo "exit $rc with $nerr error lines"
    elif ! grep '^t5g: error' "$tmp/err" | grep -qi 'memory'; then
        echo "exit $rc, the error does not say out of memory"
    elif [ -n "$(ls -A "$W" | grep -Ev "${KEEP:-^$}")" ]; then
        echo "exit $rc but left $(ls -A "$W" | tr '\n' ' ')"
    elif [ -s "$tmp/out" ]; then
        echo "exit $rc but wrote to stdout"
    elif [ -n "$(ls -A "$W")" ] && ! resumed "$@"; then
        echo "exit $rc, and --resume from what it left does not give the normal run's output"
    fi
    rm -rf "${W:?}"/* "$W"/.[!.]*
}

# after a failed generate or eval: the same command with $RESUME (generate: --resume; eval
# resumes by itself), nothing failing, from the state it left must give the normal run's stdout
# and output files
resumed() {
    # shellcheck disable=SC2086 # RESUME: zero or more words
    (cd "$W" && "$@" $RESUME) < "$IN" > "$tmp/resumed" 2> /dev/null || return 1
    cmp -s "$tmp/resumed" "$tmp/ref/stdout" || return 1
    for f in "$tmp/ref"/*; do
        [ "$(basename "$f")" = stdout ] || same "$f" "$W/$(basename "$f")" || return 1
    done
}

# sweep NAME CMD...: the normal run, then one run per N
sweep() {
    local name=$1 c n why errs=0 oks=0 tried=0 t0=$SECONDS
    shift
    [[ $name =~ ${T5G_ALLOC_ONLY:-.} ]] || return 0
    rm -rf "${tmp:?}/ref" "$W"
    mkdir -p "$tmp/ref" "$W"
    run 0 "$@"
    [ $rc -eq 0 ] || fail "$name: the normal run fails: $(cat "$tmp/err")"
    cp "$tmp/out" "$tmp/ref/stdout"
    ls "$W" | grep -Ev "${KEEP:-^$}" | while read -r f; do mv "$W/$f" "$tmp/ref/"; done
    rm -rf "${W:?}"/*
    c=$(cat "$tmp/count" 2> /dev/null || echo 0)
    # a shim that counts nothing would pass every N vacuously
    [ "$c" -gt 0 ] || fail "$name: the shim counted no allocation (LD_PRELOAD had no effect)"
    for n in $(points "$c"); do
        tried=$((tried + 1))
        run "$n" "$@"
        why=$(verdict "$@")
        if [ -n "$why" ]; then
            bad=$((bad + 1))
            echo "FAIL $name N=$n: $why"
            sed 's/^/    | /' "$tmp/err" | head -n 6
        elif [ $rc -eq 0 ]; then
            oks=$((oks + 1))
        else
            errs=$((errs + 1))
        fi
    done
    total=$((total + tried))
    echo "$name: $c allocations, $tried N tried: $errs clean out-of-memory errors, $oks successes ($((SECONDS - t0)) s)"
}

IN=/dev/null
OWN=0
sweep "bleu" "$T5G" score bleu "$B/ref0.txt" "$B/ref1.txt" -i "$B/hyp_stdin.txt"
IN=$B/hyp_stdin.txt
sweep "bleu stdin text" "$T5G" score bleu "$B/ref0.txt" -f text
IN=/dev/null
P=$PWD/tests/fixtures/bleu_paired
sweep "bleu paired-bs" "$T5G" score bleu "$P/ref0.txt" -i "$P/sys0.txt" "$P/sys1.txt" --paired-bs --paired-bs-n 50
sweep "chrf++" "$T5G" score chrf "$B/ref0.txt" "$B/ref1.txt" -i "$B/hyp_stdin.txt" --word-order 2
sweep "ter" "$T5G" score ter "$B/ref0.txt" "$B/ref1.txt" -i "$B/hyp_stdin.txt" --normalized
sweep "rouge -o" "$T5G" score rouge --targets "$R/shard0.targets" --predictions "$R/shard0.decodes" \
    --stem --bootstrap 5 --per-example pe.csv -o out.txt
sweep "rouge json" "$T5G" score rouge --targets "$R/split.targets" --predictions "$R/split.decodes" --format json
sweep "squad2 -o" "$T5G" score squad2 "$S/miss_data.json" "$S/miss_full_pred.json" -n "$S/miss_na.json" -o out.json
sweep "squad2" "$T5G" score squad2 "$S/allhas_data.json" "$S/allhas_pred.json" -n "$S/allhas_na.json"
# generate starts MPI and HDF5, whose own allocation failures abort: only the allocations made
# from t5g's code are failed (OWN=1).  A failure mid-run may leave OUT.part0 and OUT.run.json
# (the resume state, as a kill does, docs/generation.md), never OUT; --resume then completes it.
OWN=1
KEEP='^out\.jsonl\.(part[0-9]+|run\.json)$'
RESUME=--resume
tiny_spm_model 0 "$tmp/tok.h5"
for i in 1 2 3 4 5; do echo "{\"id\": \"r$i\", \"text\": \"request number $i with some words\"}"; done > "$tmp/in.jsonl"
ALL=${T5G_ALLOC_GEN_ALL:-30} SPREAD=${T5G_ALLOC_GEN_SPREAD:-20} sweep "generate" \
    "$T5G" generate -m "$tmp/tok.h5" -i "$tmp/in.jsonl" -o out.jsonl --max-new-tokens 6 --batch-size 2 -q
# eval (the tiny model) on three demo samples: a failure may leave its --out folder (the resume state); rerunning
# the same command then finishes it with the normal run's scores
KEEP='^r$'
RESUME=
ALL=${T5G_ALLOC_GEN_ALL:-30} SPREAD=${T5G_ALLOC_GEN_SPREAD:-20} sweep "eval" "$T5G" eval --task wmt14-en-fr \
    -m "$tmp/tok.h5" --data "$PWD/datasets/demo" --limit 3 --max-new-tokens 4 --beams 1 --batch-size 2 -q --out r
# the other two tasks only when asked (T5G_ALLOC_EXTRA=1: several minutes each, more with T5G_ALLOC_FULL=1)
if [ "${T5G_ALLOC_EXTRA:-0}" = 1 ]; then
    for task in squad-v2 cnn-dailymail; do
        ALL=${T5G_ALLOC_GEN_ALL:-30} SPREAD=${T5G_ALLOC_GEN_SPREAD:-20} sweep "eval $task" "$T5G" eval --task $task \
            -m "$tmp/tok.h5" --data "$PWD/datasets/demo" --limit 3 --max-new-tokens 4 --beams 1 --batch-size 2 -q --out r
    done
fi
# report: the table, a markdown copy and the chart (gnuplot, a child process that allocates freely)
# over three runs; the lm-eval export of one
KEEP='^$'
OWN=0
IN=/dev/null
F=$PWD/tests/fixtures/report
sweep "report" "$T5G" report "$F/wmt-tp2" "$F/cnn-dp2" "$F/squad-full" --png chart.png --markdown table.md
"$T5G" eval --task wmt14-en-fr -m "$tmp/tok.h5" --data "$PWD/datasets/demo" --limit 3 --max-new-tokens 4 \
    --beams 1 --batch-size 2 -q --out "$tmp/lmrun" > /dev/null || fail "eval for the lm-eval export"
sweep "report lm-eval" "$T5G" report "$tmp/lmrun" --lm-eval lmeval.json
# init and convert write an HDF5 checkpoint (HDF5's own allocations are not failed: OWN=1)
OWN=1
# (init starts MPI: about 0.4 s a run, so fewer N)
ALL=${T5G_ALLOC_GEN_ALL:-20} SPREAD=${T5G_ALLOC_GEN_SPREAD:-10} sweep "init" "$T5G" init --preset tiny --seed 3 -o model.h5
ALL=60 SPREAD=60 sweep "convert" "$T5G" convert --hf "$PWD/tests/fixtures/fwd/gqa/hf" -o model.h5 -q
ALL=60 SPREAD=60 sweep "convert int8" "$T5G" convert --hf "$PWD/tests/fixtures/fwd/gqa/hf" -o model.h5 -q --dtype int8
echo "test_alloc_fail: $total runs, $bad broke the rule"
[ "$bad" -eq 0 ] || fail "$bad runs crashed, hung, printed no single out-of-memory error or left output behind"
echo "test_alloc_fail: all passed"
