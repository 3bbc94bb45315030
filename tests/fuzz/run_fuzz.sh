#!/usr/bin/env bash
# Runs every libFuzzer harness built in build/fuzz for SECONDS each (default 60), its corpus seeded
# from the test fixtures, and prints executions and coverage per harness.  A finding (crash, leak,
# sanitizer report, timeout) fails the run; its reproducer is kept in build/fuzz/findings/.
# Usage: make fuzz FUZZ_SECONDS=N   (or: bash tests/fuzz/run_fuzz.sh N after make fuzz-build)
set -uo pipefail
cd "$(dirname "$0")/../.."
S=${1:-60}
B=${FUZZ_DIR:-build/fuzz}  # FUZZ_DIR: a copy of the binaries, so that a rebuild cannot race a long run
mkdir -p "$B/findings" "$B/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

seed() {  # seed HARNESS: corpus folder with seeds from the fixtures
    local c=$B/corpus/$1
    mkdir -p "$c"
    # inputs of past findings (tests/fuzz/regress/HARNESS/): replayed first, kept in the corpus
    [ -d "tests/fuzz/regress/$1" ] && cp tests/fuzz/regress/"$1"/* "$c/"
    case $1 in
    fuzz_safetensors)
        for f in tests/fixtures/fwd/*/hf/model*.safetensors; do head -c 8192 "$f" > "$c/$(basename "$(dirname "$(dirname "$f")")")-head"; done
        python3 - "$c" <<'PY'
import json, struct, sys
def st(tensors, path):
    h, data = {}, b""
    for name, dt, shape, raw in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h["__metadata__"] = {"format": "pt"}
    hb = json.dumps(h).encode()
    open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
st([("a", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), ("b", "BF16", [3], b"\x80\x3f" * 3)], sys.argv[1] + "/small")
st([("x.weight", "F16", [1], b"\x00\x3c")], sys.argv[1] + "/f16")
PY
        ;;
    fuzz_jsonl)
        head -n 3 datasets/demo/squad-v2/shard-00000-of-*.jsonl > "$c/squad"
        printf '%s\n' '{"id": 1, "input_ids": [2, 5, 7]}' '{"id": "b", "text": "hello"}' > "$c/gen"
        printf '%s\n' '{"id": 1, "input_ids": [2, 1e999]}' '{"id": 1, "text": "a\u0000b"} x' > "$c/bad" ;;
    fuzz_batch_json)
        echo '{"input_ids": [[2, 10, 20, 30], [2, 11, 21, 0]], "attention_mask": [[1,1,1,1],[1,1,1,0]], "decoder_input_ids": [[2, 5, 6], [2, 8, 0]], "decoder_attention_mask": [[1,1,1],[1,1,0]]}' > "$c/batch" ;;
    fuzz_bleu)
        head -c 4000 tests/fixtures/bleu/sentence.jsonl > "$c/sentence"
        printf 'The cat sat on the mat.\nThe cat is on the mat.\n' > "$c/pair"
        head -c 2000 tests/fixtures/bleu/unicode_ref.txt > "$c/unicode" ;;
    fuzz_rouge)
        paste -d '\n' <(head -n 3 tests/fixtures/rouge/parity.targets.txt) <(head -n 3 tests/fixtures/rouge/parity.predictions.txt) | head -c 4000 > "$c/parity"
        printf 'c b . c d c .\nd a a c .\n' > "$c/lsum" ;;
    fuzz_squad)
        python3 - "$c" tests/fixtures/squad/main_data.json tests/fixtures/squad/main_pred.json <<'PY'
import json, sys
d = json.load(open(sys.argv[2])); p = json.load(open(sys.argv[3]))
d["data"] = d["data"][:1]
for a in d["data"]:
    a["paragraphs"] = a["paragraphs"][:1]
ids = {q["id"] for a in d["data"] for para in a["paragraphs"] for q in para["qas"]}
open(sys.argv[1] + "/main", "w").write(json.dumps(d) + "\n" + json.dumps({k: v for k, v in p.items() if k in ids}))
PY
        ;;
    fuzz_pyjson)
        for f in tests/fixtures/squad/*.json; do head -c 4000 "$f" > "$c/$(basename "$f")"; done ;;
    fuzz_chrf|fuzz_ter)  # first byte: option bits; then hypothesis '\n' reference
        printf '\x01The cat sat on the mat.\nThe cat is on the (mat).\n' > "$c/pair"
        printf '\x07Das Haus ist gro\xc3\x9f, 3.5 km!\nDas HAUS war gro\xc3\x9f - 3,5km.\n' > "$c/de"
        printf '\x05\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x80\x82 it&apos;s\nJohn'"'"'s \xe6\x97\xa5\xe6\x9c\xac\n' > "$c/cjk" ;;
    fuzz_unicode)
        head -c 4000 tests/fixtures/bleu/unicode_ref.txt > "$c/unicode"
        printf 'ΣΑΣ İstanbul ǅ ß\u00a0x\t\n' > "$c/cases" ;;
    esac
}

fail=0
printf '%-18s %12s %8s %8s %s\n' harness executions cov ft result
for bin in "$B"/fuzz_*; do
    [ -x "$bin" ] || continue
    h=$(basename "$bin")
    seed "$h"
    log=$B/logs/$h.log
    "$bin" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$B/findings/$h-" "$B/corpus/$h" > "$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' <<< "$last" | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' <<< "$last" | grep -o '[0-9]*')
    res=ok
    if [ $rc -ne 0 ]; then res="FINDING (see $log)"; fail=1; fi
    printf '%-18s %12s %8s %8s %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$res"
done
exit $fail
