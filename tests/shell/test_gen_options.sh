#!/usr/bin/env bash
# The generation flags through the CLI (src/cli/gen_options.c): `generate` and `eval` list the
# same generation flags; the older length-penalty spellings are aliases; --target-prefix (flag and
# per-line "target_prefix"), --stop-strings and --eos-token-ids reach the output as documented,
# identically at TP = 1 and 2; eval accepts them and records them; bad values are one clear
# error.  Exactness against HF is tested in test_generate / test_options (stopping.json).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SPM=tests/fixtures/tokenizer/bpe.model
tiny_spm_model 3 "$tmp/m.h5" "$SPM"
for i in 1 2 3 4 5 6; do echo "{\"id\": $i, \"prompt\": \"request number $i with some words\"}"; done > "$tmp/in.jsonl"
G=(generate -m "$tmp/m.h5" -q --max-new-tokens 12)   # -i per run: a flag may be given once

echo "== generate and eval list the same generation flags"
flags() { $T5G "$1" --help | sed -n '/--batch-size/,$p' | awk '{print $1}'; }
[ "$(flags generate | grep -vE -- '--(resume|on-error|max-input-tokens|truncate|no-bos|add-eos|tokenizer|device)|-q' )" = \
  "$(flags eval | grep -vE -- '--(max-input-tokens|no-answer|device)|-q')" ] || fail "the generation flags differ"
n=$(flags eval | grep -c -- '--')
[ "$n" -ge 24 ] || fail "eval lists $n flags"

echo "== --search NAME is the older flags' run: the same outputs and run record"
for pair in "--search beam --beams 3|--beams 3" "--search sample --seed 5|--sample --seed 5" "--search greedy|--beams 1"; do
    $T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/s1.jsonl" ${pair%|*}
    $T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/s2.jsonl" ${pair#*|}
    cmp -s "$tmp/s1.jsonl" "$tmp/s2.jsonl" || fail "$pair: the outputs differ"
    cmp -s "$tmp/s1.jsonl.run.json" "$tmp/s2.jsonl.run.json" || fail "$pair: the run records differ"
done
grep -q '"search":[[:space:]]*"greedy"' "$tmp/s1.jsonl.run.json" || fail "the run record names no greedy search"
$T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/s1.jsonl" --beams 1 --resume   # a --search run resumes with the older flag
cmp -s "$tmp/s1.jsonl" "$tmp/s2.jsonl" || fail "the resumed run changed its output"
$T5G generate --help | grep -q -- "--search .*greedy|beam|sample" || fail "--help does not list the strategies"

echo "== --gnmt-penalty is --length-penalty-form gnmt; two forms at once is an error"
$T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/a.jsonl" --beams 3 --length-penalty 0.6 --gnmt-penalty
$T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/b.jsonl" --beams 3 --length-penalty 0.6 --length-penalty-form gnmt
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "--gnmt-penalty differs from --length-penalty-form gnmt"
if $T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/c.jsonl" --hf-penalty --length-penalty-form gnmt 2> "$tmp/err"; then fail "two forms accepted"; fi
grep -q "t5g: error: give the length-penalty form once" "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"

echo "== --target-prefix, per-line target_prefix, --stop-strings, --eos-token-ids"
$T5G "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/plain.jsonl"
sed '2s/}$/, "target_prefix": [44, 45]}/' "$tmp/in.jsonl" > "$tmp/in2.jsonl"
$T5G "${G[@]}" -i "$tmp/in2.jsonl" -o "$tmp/pre.jsonl" --target-prefix "the answer" --scores --token-scores
for np in 1 2; do
    mpirun -np $np --bind-to none $T5G "${G[@]}" -i "$tmp/in2.jsonl" -o "$tmp/all$np.jsonl" --target-prefix "the answer" \
        --stop-strings '["==", "CC", "\n"]' --eos-token-ids 1,107,44 --beams 2
done
python3 - "$tmp/all1.jsonl" "$tmp/all2.jsonl" <<'PY' || fail "TP=2 differs from TP=1 with the new options"
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
assert len(a) == len(b) == 6
for x, y in zip(a, b):  # the same ids and text; scores to rounding (the TP all-reduce sums in another order)
    assert abs(x.pop("score") - y.pop("score")) < 1e-4 and x == y, (x, y)
PY
# the prefix's ids from SentencePiece's own command line tools (the sentencepiece package)
want=$(printf 'the answer\n' | spm_encode --model="$SPM" --output_format=id)
python3 - "$tmp" "$want" <<'PY'
import json, subprocess, sys
tmp, want = sys.argv[1], [int(t) for t in sys.argv[2].split()]
model = "tests/fixtures/tokenizer/bpe.model"
decode = lambda ids: subprocess.run(["spm_decode", f"--model={model}", "--input_format=id"], input=" ".join(map(str, ids)) + "\n",
                                    capture_output=True, text=True, check=True).stdout[:-1]  # the line's own newline
rows = lambda n: [json.loads(l) for l in open(f"{tmp}/{n}.jsonl")]
plain, pre, allo = rows("plain"), rows("pre"), rows("all1")
for p, q in zip(pre, plain):
    own = [44, 45] if p["id"] == 2 else want
    assert p["output_ids"][:len(own)] == own, (p, own)
    assert p["prefix_tokens"] == len(own), p
    assert len(p["token_logprobs"]) == len(p["output_ids"]) - len(own), p   # generated tokens only
    assert len(p["output_ids"]) - len(own) <= 12, p                          # max_new counts after the prefix
    assert abs(sum(p["token_logprobs"]) - p["score"]) < 1e-3, p
    assert p["prediction"].startswith(decode(own)), p
    assert "prefix_tokens" not in q and "prediction" in q and "text" not in q, q
stopped = 0
for a in allo:
    ids, n0 = a["output_ids"], a["prefix_tokens"]
    gen = ids[n0:]
    assert 44 not in gen[:-1] and 1 not in gen[:-1] and 107 not in gen[:-1], a    # --eos-token-ids stop there
    if gen and gen[-1] not in (1, 107, 44) and len(gen) < 12:
        stopped += 1
        assert any(s in decode(ids) for s in ("==", "CC", "\n")), a                  # ended by a stop string
print("prefix rows", len(pre), "rows ended by a stop string", stopped)
assert stopped >= 2, "the stop strings ended no row: this check would test nothing"
PY

echo "== eval takes the same flags and records them"
$T5G eval --task squad-v2 -m "$tmp/m.h5" --data datasets/demo --out "$tmp/ev" --limit 3 --beams 1 --max-new-tokens 6 -q \
    --stop-strings '["."]' --eos-token-ids 1,107 --target-prefix "A" > /dev/null
python3 - "$tmp/ev/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["decoding"]
assert d["stop_strings"] == ["."] and d["eos_token_ids"] == [1, 107] and d["target_prefix"] == "A", d
PY

echo "== eval's predictions have generate's keys; samples.jsonl references are always a list"
$T5G eval --task cnn-dailymail -m "$tmp/m.h5" --data datasets/demo --out "$tmp/cnn" --limit 2 --beams 1 --max-new-tokens 4 -q > /dev/null
python3 - "$tmp/cnn" "$tmp/ev" <<'PY'
import glob, json, sys
for d in sys.argv[1:]:
    for p in glob.glob(f"{d}/predictions/*.jsonl"):
        for l in open(p):
            x = json.loads(l)
            assert {"id", "prediction", "output_ids"} <= set(x) and "tokens" not in x and "text" not in x, x
    for l in open(f"{d}/samples.jsonl"):
        x = json.loads(l)
        assert isinstance(x["references"], list) and "prompt" in x and "prediction" in x, x
PY

echo "== bad values: one clear error"
bad() { local pat=$1; shift; if $T5G "$@" 2> "$tmp/err" > /dev/null; then fail "accepted: $*"; fi
        grep -q "t5g: error: .*$pat" "$tmp/err" || fail "error without '$pat': $(cat "$tmp/err")"; }
bad "stop-strings must be a JSON list" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --stop-strings 'er'
bad "stop-strings must be a JSON list" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --stop-strings '[""]'
bad "eos-token-ids" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --eos-token-ids 1,,2
bad "eos-token-ids" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --eos-token-ids 1,2,3,4,5,6,7,8,9
bad "--search: no strategy 'nucleus' (the strategies: greedy, beam, sample)" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" \
    --search nucleus
bad "search greedy uses no beams" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --search greedy --beams 2
bad "with 3 eos ids and 64 beams, 256; use fewer beams or fewer eos ids" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" \
    --beams 64 --eos-token-ids 1,2,3
bad "length-penalty-form must be hf or gnmt" "${G[@]}" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --length-penalty-form t5
sed '3s/}$/, "target_prefix": [99999999]}/' "$tmp/in.jsonl" > "$tmp/bad.jsonl"
bad "in.jsonl:3\|bad.jsonl:3: target_prefix\[0\]" generate -m "$tmp/m.h5" -i "$tmp/bad.jsonl" -o "$tmp/x.jsonl" -q
bad "sample and --beams" eval --task squad-v2 -m "$tmp/m.h5" --data datasets/demo --out "$tmp/ev2" --sample --beams 4
[ ! -e "$tmp/x.jsonl" ] || fail "a failed run left $tmp/x.jsonl"
echo "PASS"
