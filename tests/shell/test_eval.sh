#!/usr/bin/env bash
# t5g eval end to end on the bundled demo shards: every task writes its results; a run
# killed midway (the whole job, or one rank) resumes to the same scores as an uninterrupted
# run; TP=2 and DP=2 give the same scores as one rank; bad input fails cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
same_scores() {  # same primary value and metrics in two results.json
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ok = a["primary"] == b["primary"] and a["metrics"] == b["metrics"] and a["samples"] == b["samples"]
print("primary", a["primary"]["value"], b["primary"]["value"], "samples", a["samples"], b["samples"])
sys.exit(0 if ok else 1)
PY
}

# the model: the bundled demo model if present, else a random tiny model with the demo tokenizer
MODEL=models/demo/t5gemma-demo.h5
SPM=models/demo/tokenizer.model   # the demo model's own tokenizer, as a file
if [ ! -f "$MODEL" ]; then
    [ -f "$SPM" ] || SPM=tests/fixtures/tokenizer/bpe.model
    tiny_spm_model 5 "$tmp/model.h5" "$SPM"
    MODEL=$tmp/model.h5
fi
BASE=(-m "$MODEL" --data datasets/demo --max-new-tokens 8 -q)
COMMON=("${BASE[@]}" --beams 1 --batch-size 4)   # a flag may be given once: runs that set another use BASE

echo "== every task writes results"
for task in wmt14-en-fr cnn-dailymail squad-v2; do
    $T5G eval --task $task "${COMMON[@]}" --limit 24 --out "$tmp/$task" > "$tmp/$task.log"
    for f in results.json samples.jsonl summary.md lm_eval.json; do [ -s "$tmp/$task/$f" ] || fail "$task: no $f"; done
    n=$(wc -l < "$tmp/$task/samples.jsonl")
    [ "$n" -eq 24 ] || fail "$task: $n samples, expected 24"
    grep -Eq '"reportable":[[:space:]]*false' "$tmp/$task/results.json" || fail "$task: --limit run not marked unreportable"
    cat "$tmp/$task.log"
done

echo "== the bundled demo model stores its content sha256: results.json records it, nothing re-hashed"
if [ "$MODEL" = models/demo/t5gemma-demo.h5 ]; then
    stored=$(h5dump -a content_sha256 "$MODEL" | sed -n 's/.*(0): "\([0-9a-f]\{64\}\)".*/\1/p')
    [[ $stored =~ ^[0-9a-f]{64}$ ]] || fail "$MODEL has no content_sha256 attribute"
    $T5G eval --task wmt14-en-fr "${COMMON[@]}" --limit 2 --out "$tmp/hash" > /dev/null 2> "$tmp/hash.err"
    ! grep -q "no stored content sha256" "$tmp/hash.err" || fail "eval re-hashed the demo model: $(cat "$tmp/hash.err")"
    rec=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['model']['sha256'])" "$tmp/hash/results.json")
    [ "$rec" = "$stored" ] || fail "results.json model sha256 $rec is not the stored $stored"
    $T5G model verify -m "$MODEL" -q > /dev/null || fail "the stored content sha256 of $MODEL does not verify"
else
    echo "skipped: no bundled demo model"
fi

echo "== --tokenizer (as generate): the model's own tokenizer as a file gives the same scores; bad ones fail cleanly"
$T5G eval --task wmt14-en-fr "${COMMON[@]}" --limit 24 --tokenizer "$SPM" --out "$tmp/tok" > /dev/null
same_scores "$tmp/wmt14-en-fr/results.json" "$tmp/tok/results.json" || fail "--tokenizer with the same model changed the scores"
rec=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tokenizer_sha256'])" "$tmp/tok/run.json")
[ "$rec" = "$(sha256sum "$SPM" | cut -d' ' -f1)" ] || fail "run.json tokenizer_sha256 $rec is not the --tokenizer file's"
expect_error "nonexistent.model" $T5G eval --task wmt14-en-fr "${COMMON[@]}" --limit 2 --tokenizer "$tmp/nonexistent.model" --out "$tmp/badtok"
[ ! -e "$tmp/badtok" ] || fail "a missing --tokenizer left a run folder"
echo "not a model" > "$tmp/junk.model"
expect_error "SentencePiece" $T5G eval --task wmt14-en-fr "${COMMON[@]}" --limit 2 --tokenizer "$tmp/junk.model" --out "$tmp/badtok"
[ ! -e "$tmp/badtok" ] || fail "a bad --tokenizer left a run folder"

# kill_midway OUT N job|rank CMD...: run CMD (an eval of N samples writing to OUT) in the background
# and, once OUT holds a prediction, SIGKILL the job (job) or one of its ranks (rank).  The demo
# model evaluates 80 samples in well under a second, so the kill can land after the last
# prediction: such a run interrupted nothing (N predictions, or results.json) and is tried again,
# up to 5 times; then the test fails (as it does when a run with a killed rank writes results.json).
kill_midway() {
    local out=$1 n=$2 mode=$3 pid victim c _try
    shift 3
    for _try in 1 2 3 4 5; do
        rm -rf "$out"
        "$@" > /dev/null 2>&1 &
        pid=$!
        for _ in $(seq 1 18000); do # up to 3 min: sanitizer build, busy machine
            c=$(cat "$out"/predictions/* 2> /dev/null | wc -l || true)
            [ "${c:-0}" -ge 1 ] && break
            kill -0 $pid 2> /dev/null || break
            sleep 0.01
        done
        victim=$pid
        [ "$mode" = job ] || victim=$(pgrep -f "t5g eval --task .*$out" | grep -v "^$pid$" | tail -n 1 || true)
        [ -n "$victim" ] && kill -9 "$victim" 2> /dev/null
        wait $pid 2> /dev/null || true
        c=$(cat "$out"/predictions/* 2> /dev/null | wc -l || true)
        [ -e "$out/results.json" ] || [ "${c:-0}" -ge "$n" ] || return 0
        echo "(the run finished before the kill landed; again)"
    done
    fail "$out: 5 runs finished before a kill landed, or a run with a killed $mode still wrote results.json"
}

echo "== kill the whole job midway, rerun: same scores as an uninterrupted run"
$T5G eval --task cnn-dailymail "${COMMON[@]}" --limit 80 --out "$tmp/full" > /dev/null
kill_midway "$tmp/killed" 80 job $T5G eval --task cnn-dailymail "${BASE[@]}" --beams 1 --limit 80 --batch-size 1 --out "$tmp/killed"
done_before=$(cat "$tmp"/killed/predictions/* 2>/dev/null | wc -l || true)
[ "$done_before" -gt 0 ] || fail "no prediction on disk before the kill (a kill before any output tests nothing)"
echo "killed with $done_before predictions on disk"
[ "$done_before" -lt 80 ] || fail "the run finished before it could be killed"
$T5G eval --task cnn-dailymail "${COMMON[@]}" --limit 80 --out "$tmp/killed" > /dev/null
same_scores "$tmp/full/results.json" "$tmp/killed/results.json" || fail "resumed scores differ"

echo "== kill one rank of a 2-rank job, rerun"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
kill_midway "$tmp/rank" 80 rank mpirun -np 2 --bind-to none $T5G eval --task cnn-dailymail "${BASE[@]}" --beams 1 --limit 80 \
    --batch-size 1 --out "$tmp/rank"
mpirun -np 2 --bind-to none $T5G eval --task cnn-dailymail "${COMMON[@]}" --limit 80 --out "$tmp/rank" > /dev/null
same_scores "$tmp/full/results.json" "$tmp/rank/results.json" || fail "scores after a dead rank differ"

echo "== TP=2 and DP=2 give the same scores as one rank"
$T5G eval --task squad-v2 "${COMMON[@]}" --limit 48 --out "$tmp/tp1" > /dev/null
mpirun -np 2 --bind-to none $T5G eval --task squad-v2 "${COMMON[@]}" --limit 48 --tp 2 --out "$tmp/tp2" > /dev/null
mpirun -np 2 --bind-to none $T5G eval --task squad-v2 "${COMMON[@]}" --limit 48 --tp 1 --out "$tmp/dp2" > /dev/null
same_scores "$tmp/tp1/results.json" "$tmp/tp2/results.json" || fail "TP=2 scores differ"
same_scores "$tmp/tp1/results.json" "$tmp/dp2/results.json" || fail "DP=2 scores differ"
grep -Eq '"dp":[[:space:]]*2' "$tmp/dp2/results.json" || fail "layout not recorded"

echo "== bad input"
set +e
out=$($T5G eval --task wmt15 "${COMMON[@]}" --out "$tmp/bad1" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "unknown task" <<< "$out" || fail "unknown task: rc=$rc $out"
out=$($T5G eval --task squad-v2 -m "$MODEL" --data "$tmp/nodata" --out "$tmp/bad2" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "prepare.py" <<< "$out" || fail "missing data: rc=$rc $out"
[ ! -e "$tmp/bad2/results.json" ] || fail "missing data left results.json"
out=$($T5G eval --task squad-v2 -m "$tmp/none.h5" --data datasets/demo --out "$tmp/bad3" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "none.h5" <<< "$out" || fail "missing model: rc=$rc $out"
out=$($T5G eval --task squad-v2 "${BASE[@]}" --beams 0 --out "$tmp/bad4" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "beams must be >= 1" <<< "$out" || fail "--beams 0: rc=$rc $out"
# a corrupt shard: clear error, and the earlier results of that run folder stay untouched
cp -r datasets/demo "$tmp/data"
cp -r "$tmp/tp1" "$tmp/again"
before=$(sha256sum "$tmp/again/results.json")
shard=$(ls "$tmp"/data/squad-v2/shard-*.jsonl | head -n 1)
echo '{"id": "broken", "index": 0, "question": ' >> "$shard"
python3 - "$tmp/data/squad-v2/manifest.json" "$shard" <<'PY'  # as if prepare.py had written it: only the JSON is bad
import hashlib, json, os, sys
m = json.load(open(sys.argv[1]))
for s in m["shards"]:
    if s["file"] == os.path.basename(sys.argv[2]):
        s["sha256"] = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
rm -f "$tmp"/again/predictions/*  # force the run to read the shards again
out=$($T5G eval --task squad-v2 -m "$MODEL" --data "$tmp/data" --beams 1 --max-new-tokens 8 --batch-size 4 -q --limit 48 --out "$tmp/again" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "not valid JSON" <<< "$out" || fail "corrupt shard: rc=$rc $out"
[ "$(sha256sum "$tmp/again/results.json")" = "$before" ] || fail "a failed run changed earlier results"
echo "ok: $(grep 'error' <<< "$out" | head -n 1)"
set -e
echo "test_eval: all checks passed"
