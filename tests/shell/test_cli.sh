#!/usr/bin/env bash
# CLI behaviour: one-line errors with non-zero exits and no output left behind; generate's
# resume and input-order merge; TP = 1, 2, 4 give identical greedy and beam text on the
# generation fixtures; the README's library example compiles and runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

$T5G init --preset tiny --seed 1 -o "$tmp/tiny.h5" > /dev/null
cat > "$tmp/batch.json" <<'J'
{"input_ids": [[2, 10, 20, 30], [2, 11, 21, 0]], "attention_mask": [[1,1,1,1],[1,1,1,0]],
 "decoder_input_ids": [[2, 5, 6], [2, 8, 0]], "decoder_attention_mask": [[1,1,1],[1,1,0]]}
J
echo "== flags: getopt_long rules, repeats are errors, --version"
v=$(cat VERSION)
$T5G --version | grep -qx "t5g $v\( (git [0-9a-f]\{7,\}\(-dirty\)\?)\)\?" || fail "t5g --version: $($T5G --version)"
[ "$($T5G version)" = "$($T5G --version)" ] || fail "t5g version differs from t5g --version"
for c in info init convert forward generate eval plan calibrate report; do
    $T5G $c --help | grep -q -- "--opt=VALUE.*each option at most once" || fail "$c --help does not state the flag rules"
done
[ "$($T5G info --preset=tiny --json)" = "$($T5G info --json --preset tiny)" ] || fail "--preset=tiny differs from --preset tiny"
expect_error "option --preset is given twice" $T5G info --preset tiny --preset tiny
expect_error "option -m|--model is given twice (as -m and --model)" $T5G forward -m a.h5 --model=b.h5 -i x -o y
expect_error "option --compute-type is given twice" $T5G forward --compute-type f32 --compute-type=bf16 -m a.h5 -i x -o y
expect_error "option --json takes no value" $T5G info --preset tiny --json=1
expect_error "unknown option '--beam'" $T5G generate --beam 4
expect_error "unexpected argument '--preset'" $T5G info -- --preset tiny
expect_error "option -o|--out|--output is given twice" $T5G convert --hf x -o a.h5 --output b.h5

echo "== forward: bad input"
fwd_error() {  # fwd_error NAME PATTERN JSON: forward of the batch JSON fails, leaves no output
    printf '%s\n' "$3" > "$tmp/$1.json"
    expect_error "$2" $T5G forward -m "$tmp/tiny.h5" -i "$tmp/$1.json" -o "$tmp/o$1"
    [ ! -e "$tmp/o$1" ] || fail "output left after an error"
}
fwd_error b1 "outside the vocabulary" '{"input_ids": [[2, 600]], "decoder_input_ids": [[2]]}'
fwd_error b2 "attention_mask" '{"input_ids": [[2, 6]], "attention_mask": [[1, 1, 1]], "decoder_input_ids": [[2]]}'
fwd_error b3 "decoder_attention_mask" '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]], "decoder_attention_mask": [[1], [1]]}'
fwd_error b4 "not valid JSON" 'not json'
head -c 10000 "$tmp/tiny.h5" > "$tmp/trunc.h5"
expect_error "trunc.h5" $T5G forward -m "$tmp/trunc.h5" -i "$tmp/batch.json" -o "$tmp/o5"
echo "plain text" > "$tmp/text.h5"
expect_error "text.h5" $T5G info -m "$tmp/text.h5"
fwd_error b5 'gives both "input_ids" and "encoder_token_ids"' '{"input_ids": [[2, 6]], "encoder_token_ids": [[2, 6]], "decoder_input_ids": [[2]]}'
fwd_error b6 'gives both "decoder_attention_mask" and "decoder_padding_mask"' '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]], "decoder_padding_mask": [[1]], "decoder_attention_mask": [[1]]}'
fwd_error b7 '"atention_mask", which is not an input' '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]], "atention_mask": [[1, 1]]}'
$T5G forward --help | grep -q "encoder_token_ids" || fail "forward --help does not list the KerasHub keys"
expect_error "unknown option" $T5G forward --bogus
expect_error "unknown preset" $T5G info --preset t5gemma-99b
echo "== forward under TP: invalid layouts fail on every rank, nothing hangs"
expect_error "does not divide" timeout 60 mpirun -np 3 $T5G forward -m "$tmp/tiny.h5" -i "$tmp/batch.json" -o "$tmp/o6"
expect_error "does not divide" timeout 60 mpirun -np 4 $T5G forward --tp 3 -m "$tmp/tiny.h5" -i "$tmp/batch.json" -o "$tmp/o7"
$T5G forward -m "$tmp/tiny.h5" -i "$tmp/batch.json" -o "$tmp/f1" > "$tmp/f1.txt"
timeout 120 mpirun -np 2 $T5G forward -m "$tmp/tiny.h5" -i "$tmp/batch.json" -o "$tmp/f2" > "$tmp/f2.txt"
cmp -s "$tmp/f1.txt" "$tmp/f2.txt" || fail "TP=2 argmax differs from TP=1"
cmp -s "$tmp/f1/logits.npy" "$tmp/f2/logits.npy" || echo "note: TP=2 logits.npy not bit-identical to TP=1 (all-reduce order)"
keras_batch "$tmp/batch.json" > "$tmp/kbatch.json"
$T5G forward -m "$tmp/tiny.h5" -i "$tmp/kbatch.json" -o "$tmp/fk" > "$tmp/fk.txt"
cmp -s "$tmp/f1.txt" "$tmp/fk.txt" && cmp -s "$tmp/f1/logits.npy" "$tmp/fk/logits.npy" || fail "KerasHub input names give another output"
[ "$(head -c 6 "$tmp/f1/logits.npy" | od -An -c | tr -d ' ')" = "223NUMPY" ] || fail "logits.npy has no .npy magic"

echo "== convert: bad input"
mkdir -p "$tmp/hf"
expect_error "config.json" $T5G convert --hf "$tmp/hf" -o "$tmp/c.h5"
cp tests/fixtures/fwd/mha/hf/config.json "$tmp/hf/"
printf '\xff\xff\xff\xff\xff\xff\x00\x00{}' > "$tmp/hf/model.safetensors"
expect_error "model.safetensors" $T5G convert --hf "$tmp/hf" -o "$tmp/c.h5"
[ -z "$(ls "$tmp" | grep '^c.h5')" ] || fail "convert left an output behind"
echo '{"model_type": "t5gemma", "encoder": {"hidden_size": "x"}}' > "$tmp/hf/config.json"
expect_error "hidden_size" $T5G convert --hf "$tmp/hf" -o "$tmp/c.h5"

echo "== checkpoint content sha256: stored at convert, layout-independent, verified on request; progress lines"
$T5G convert --hf tests/fixtures/fwd/mha/hf -o "$tmp/h1.h5" 2> "$tmp/conv.err" > /dev/null
grep -q "^converting tests/fixtures/fwd/mha/hf: .* in .* s (.*/s)$" "$tmp/conv.err" || { cat "$tmp/conv.err"; fail "convert printed no progress line"; }
$T5G convert --hf tests/fixtures/fwd/mha/hf -o "$tmp/h2.h5" --no-checksum -q 2> "$tmp/conv2.err" > /dev/null
[ ! -s "$tmp/conv2.err" ] || fail "convert -q printed: $(cat "$tmp/conv2.err")"
h1=$($T5G model sha256 -m "$tmp/h1.h5" | cut -d' ' -f1)
h2=$($T5G model sha256 -m "$tmp/h2.h5" | cut -d' ' -f1)
[[ $h1 =~ ^[0-9a-f]{64}$ ]] && [ "$h1" = "$h2" ] || fail "content sha256 depends on the checksums: $h1 vs $h2"
h5dump -a content_sha256 "$tmp/h1.h5" | grep -q "\"$h1\"" || fail "model sha256 is not the stored attribute"
$T5G model verify -m "$tmp/h2.h5" 2> "$tmp/ver.err" | grep -q "^ok: .* $h1 matches" || fail "verify of a fresh checkpoint"
grep -q "^hashing " "$tmp/ver.err" || fail "verify printed no progress line"
# finite, no checksum to catch it
tamper_weight tests/fixtures/fwd/mha/hf/model.safetensors "$tmp/h2.h5" "$tmp/tampered.h5" "x + 0.5"
[ "$($T5G model sha256 -m "$tmp/tampered.h5" | cut -d' ' -f1)" = "$h1" ] || fail "model sha256 should print the stored hash"
expect_error "something changed after it was written" $T5G model verify -m "$tmp/tampered.h5" -q
expect_error "needs sha256 or verify" $T5G model
expect_error "cannot open checkpoint" $T5G model verify -m "$tmp/none.h5"

echo "== generate: resume, input order, bad lines"
tiny_spm_model 0 "$tmp/tok.h5"
for i in $(seq 1 12); do echo "{\"id\": \"r$i\", \"text\": \"request number $i with some words\"}"; done > "$tmp/in.jsonl"
$T5G generate -m "$tmp/tok.h5" -i "$tmp/in.jsonl" -o "$tmp/all.jsonl" --max-new-tokens 6 --batch-size 5 -q
[ "$(wc -l < "$tmp/all.jsonl")" -eq 12 ] || fail "generate wrote $(wc -l < "$tmp/all.jsonl") lines"
diff <(grep -o '"id":"r[0-9]*"' "$tmp/all.jsonl") <(grep -o '"id": "r[0-9]*"' "$tmp/in.jsonl" | tr -d ' ') > /dev/null || fail "output not in input order"
head -n 5 "$tmp/all.jsonl" > "$tmp/part.jsonl"
cp "$tmp/all.jsonl.run.json" "$tmp/part.jsonl.run.json"   # the record of the run it belongs to
$T5G generate -m "$tmp/tok.h5" -i "$tmp/in.jsonl" -o "$tmp/part.jsonl" --max-new-tokens 6 --batch-size 5 --resume -q
cmp -s "$tmp/all.jsonl" "$tmp/part.jsonl" || fail "resumed output differs from a full run"
# the run record takes the checkpoint's stored content hash (nothing re-hashed)
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['model_sha256'])" "$tmp/all.jsonl.run.json" > "$tmp/fp.sha"
[ "$(cat "$tmp/fp.sha")" = "$($T5G model sha256 -m "$tmp/tok.h5" | cut -d' ' -f1)" ] || fail "generate's run record does not use the stored content sha256"
$T5G generate --model="$tmp/tok.h5" -i"$tmp/in.jsonl" --out="$tmp/eq.jsonl" --max-new-tokens=6 --batch-size=5 -q
cmp -s "$tmp/all.jsonl" "$tmp/eq.jsonl" || fail "--opt=VALUE forms give another output than --opt VALUE"
expect_error "option --max-new-tokens is given twice" $T5G generate -m "$tmp/tok.h5" -i "$tmp/in.jsonl" -o "$tmp/x.jsonl" --max-new-tokens 6 --max-new-tokens=7
printf '%s\n' '{"id": 1, "text": "fine"}' '{"id": 2, "text": ""}' '{broken' '{"id": 4, "input_ids": [2, 99999]}' > "$tmp/bad.jsonl"
expect_error "bad.jsonl:2" $T5G generate -m "$tmp/tok.h5" -i "$tmp/bad.jsonl" -o "$tmp/bad.out" -q
set +e; $T5G generate -m "$tmp/tok.h5" -i "$tmp/bad.jsonl" -o "$tmp/skip.out" -q --on-error skip 2> "$tmp/skip.err"; rc=$?; set -e
[ $rc -eq 0 ] && [ "$(wc -l < "$tmp/skip.out")" -eq 1 ] || fail "--on-error skip: rc=$rc"
[ "$(grep -c warning "$tmp/skip.err")" -eq 3 ] || fail "--on-error skip should warn 3 times"
printf '{"id": 1, "text": "%s"}\n' "$(printf 'word %.0s' $(seq 1 50))" > "$tmp/long.jsonl"
expect_error "max-input-tokens" $T5G generate -m "$tmp/tok.h5" -i "$tmp/long.jsonl" -o "$tmp/long.out" --max-input-tokens 10 -q
$T5G generate -m "$tmp/tok.h5" -i "$tmp/long.jsonl" -o "$tmp/long.out" --max-input-tokens 10 --truncate -q 2> "$tmp/long.err"
grep -q "truncated" "$tmp/long.err" || fail "--truncate did not warn"

echo "== generate: TP = 1, 2, 4 give identical greedy and beam text on the generation fixtures"
tp_compared=0
for case in tests/fixtures/gen/*/; do
    name=$(basename "$case")
    $T5G convert --hf "$case/hf" -o "$tmp/$name.h5" > /dev/null
    python3 - "$case/gen.json" > "$tmp/$name.in.jsonl" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
for i, (ids, m) in enumerate(zip(g["input_ids"], g["attention_mask"])):
    print(json.dumps({"id": i, "input_ids": [t for t, k in zip(ids, m) if k]}))
PY
    for mode in "" "--beams 4"; do
        $T5G generate -m "$tmp/$name.h5" -i "$tmp/$name.in.jsonl" -o "$tmp/$name.t1.jsonl" --max-new-tokens 10 $mode -q
        for np in 2 4; do
            set +e
            timeout 120 mpirun -np $np $T5G generate -m "$tmp/$name.h5" -i "$tmp/$name.in.jsonl" -o "$tmp/$name.t$np.jsonl" --max-new-tokens 10 $mode -q 2> "$tmp/tp.err"
            rc=$?; set -e
            if [ $rc -ne 0 ]; then grep -q "does not divide" "$tmp/tp.err" && { echo "skip $name TP=$np: $(cat "$tmp/tp.err")"; continue; }; cat "$tmp/tp.err"; fail "$name TP=$np failed"; fi
            diff <(sed 's/"score":[^}]*//' "$tmp/$name.t1.jsonl") <(sed 's/"score":[^}]*//' "$tmp/$name.t$np.jsonl") > /dev/null || fail "$name $mode: TP=$np output differs"
            echo "ok: $name ${mode:-greedy} TP=$np identical"
            tp_compared=$((tp_compared + 1))
        done
    done
done
[ "$tp_compared" -gt 0 ] || fail "no generation fixture splits at TP = 2 or 4: nothing was compared"

echo "== generate: HF generate options through the CLI (min/repetition/no-repeat, n-best, token log-probs), TP = 1 and 2 vs HF"
for case in tests/fixtures/gen/*/; do
    name=$(basename "$case")
    for run in "greedy all three" "beam all three"; do
        flags=$(python3 - "$case/options.json" "$run" <<'PY'
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["runs"] if r["name"] == sys.argv[2]][0]
f = f"--max-new-tokens {r['max_new_tokens']} --min-new-tokens {r['min_new_tokens']} --repetition-penalty {r['repetition_penalty']!r} --no-repeat-ngram-size {r['no_repeat_ngram_size']} --token-scores"
if r["num_beams"] > 1:
    f += f" --beams {r['num_beams']} --num-return-sequences 2"
print(f)
PY
)
        for np in 1 2; do
            rm -f "$tmp/$name.opt$np.jsonl"
            timeout 120 mpirun -np $np $T5G generate -m "$tmp/$name.h5" -i "$tmp/$name.in.jsonl" -o "$tmp/$name.opt$np.jsonl" $flags -q \
                || fail "$name '$run' TP=$np failed"
            python3 - "$case/options.json" "$run" "$tmp/$name.opt$np.jsonl" <<'PY' || fail "$name '$run' TP=$np differs from HF"
import json, math, sys
r = [r for r in json.load(open(sys.argv[1]))["runs"] if r["name"] == sys.argv[2]][0]
eos = {1, 107}
out = sorted((json.loads(l) for l in open(sys.argv[3])), key=lambda o: o["id"])
assert len(out) == len(r["sequences"]), "row count"
for o, ref in zip(out, r["sequences"]):
    want = []
    for t in ref[1:]:
        want.append(t)
        if t in eos:
            break
    assert o["output_ids"] == want, (o["id"], o["output_ids"], want)
    assert len(o["token_logprobs"]) == len(o["output_ids"]), "one log-probability per output token"
    assert all(math.isfinite(x) and x <= 1e-6 for x in o["token_logprobs"]), "log-probabilities are <= 0"
    if r["num_beams"] > 1:
        h = o["hypotheses"]
        assert len(h) == 2 and h[0]["output_ids"] == o["output_ids"] and h[0]["score"] >= h[1]["score"], "n-best"
PY
        done
        cmp <(python3 -c "import json,sys; [print(json.dumps(json.loads(l)['output_ids'])) for l in open(sys.argv[1])]" "$tmp/$name.opt1.jsonl") \
            <(python3 -c "import json,sys; [print(json.dumps(json.loads(l)['output_ids'])) for l in open(sys.argv[1])]" "$tmp/$name.opt2.jsonl") \
            || fail "$name '$run': TP=2 ids differ from TP=1"
        echo "ok: $name '$run' = HF at TP=1 and 2"
    done
done
expect_error "num-return-sequences" $T5G generate -m "$tmp/basic.h5" -i "$tmp/basic.in.jsonl" -o "$tmp/x.jsonl" --num-return-sequences 2 -q
expect_error "repetition-penalty" $T5G generate -m "$tmp/basic.h5" -i "$tmp/basic.in.jsonl" -o "$tmp/x.jsonl" --repetition-penalty 0 -q
expect_error "min-new-tokens" $T5G generate -m "$tmp/basic.h5" -i "$tmp/basic.in.jsonl" -o "$tmp/x.jsonl" --max-new-tokens 4 --min-new-tokens 5 -q

echo "== plan: layout errors"
expect_error "does not fit" $T5G plan --preset t5gemma_27b --nodes 1 --ranks-per-node 2 --mem-per-rank 8G
expect_error "does not divide" $T5G plan --preset t5gemma_27b --nodes 1 --ranks-per-node 8 --tp 3
# the weights as they sit in memory: bf16 (the default without a checkpoint) fits 64G per rank at TP 2, f32 at TP 4
[ "$($T5G plan --preset t5gemma_27b --nodes 4 --ranks-per-node 8 --mem-per-rank 64G --print-tp)" = 2 ] || fail "--print-tp"
[ "$($T5G plan --preset t5gemma_27b --nodes 4 --ranks-per-node 8 --mem-per-rank 64G --compute-type f32 --print-tp)" = 4 ] || fail "--print-tp f32"
[ "$($T5G plan --preset t5gemma_27b --nodes 4 --ranks-per-node 8 --mem-per-rank 64G --compute-type bf16-act --print-tp)" = 2 ] || fail "--print-tp bf16-act"
expect_error "bfloat16 is ambiguous" $T5G plan --preset t5gemma_27b --nodes 1 --ranks-per-node 1 --compute-type bfloat16
# bf16-act: generate runs, or one clear error on a CPU without AVX512-BF16
if grep -qw avx512_bf16 /proc/cpuinfo; then
    $T5G generate -m "$tmp/basic.h5" -i "$tmp/basic.in.jsonl" -o "$tmp/bfa.jsonl" --compute-type bf16-act -q || fail "generate bf16-act"
    [ "$(wc -l < "$tmp/bfa.jsonl")" = "$(wc -l < "$tmp/basic.in.jsonl")" ] || fail "generate bf16-act: rows"
else
    expect_error "needs AVX512-BF16" $T5G generate -m "$tmp/basic.h5" -i "$tmp/basic.in.jsonl" -o "$tmp/bfa.jsonl" --compute-type bf16-act -q
fi

echo "== the README's library example"
mpicc -fopenmp -Isrc docs/example.c build/libt5g.a $(make -s print-ldlibs) -o "$tmp/example"
if [ -f models/demo/t5gemma-demo.h5 ]; then "$tmp/example" || fail "README example failed"; fi
echo "test_cli: all checks passed"
