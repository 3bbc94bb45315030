#!/usr/bin/env bash
# Bad input, case by case: every case must give exactly one "t5g: error:" line that matches
# its pattern, a non-zero exit below 124 (no crash, no signal, no timeout), and leave no new
# file behind, within a time bound.  Covers checkpoints, safetensors, config.json, batch
# JSON, JSONL requests, dataset shards, scorer inputs, CLI flags and TP layouts under
# mpirun -np 2 and -np 3.  Prints one line per case and the count; fails if any case fails.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
LIMIT=${T5G_BAD_LIMIT:-90}   # seconds per case (mpirun cases start 2-3 ranks on 2 cores)
W=$tmp
MPI2=(timeout -k 5 "$LIMIT" mpirun -np 2 --bind-to none)
MPI3=(timeout -k 5 "$LIMIT" mpirun -np 3 --bind-to none)
cases=0; failed=0

files_now() { (cd "$W" && find . ! -path './log*' | sort | md5sum); }  # files and folders

# bad PATTERN CMD... : one case
bad() {
    local pat=$1; shift
    cases=$((cases + 1))
    local before t0 rc why=""
    before=$(files_now)
    t0=$SECONDS
    timeout -k 5 "$LIMIT" "$@" > "$W/log/out" 2> "$W/log/err"; rc=$?
    local nerr
    nerr=$(grep -c '^t5g: error' "$W/log/err")
    if [ $rc -eq 0 ]; then why="exit 0"
    elif [ $rc -ge 124 ]; then why="exit $rc (timeout, crash or signal)"
    elif grep -qiE 'segmentation|signal [0-9]|core dumped|sanitizer' "$W/log/err"; then why="crash report"
    elif [ "$nerr" -ne 1 ]; then why="$nerr error lines"
    elif ! grep '^t5g: error' "$W/log/err" | grep -q -- "$pat"; then why="error does not mention '$pat'"
    elif [ "$(files_now)" != "$before" ]; then why="left a file behind"
    fi
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        echo "FAIL $cases: $why: $*"
        sed 's/^/    | /' "$W/log/err" | head -n 8
    else
        echo "ok $cases ($((SECONDS - t0)) s): $(grep '^t5g: error' "$W/log/err" | cut -c1-160)"
    fi
}

mkdir -p "$W/log" "$W/out"
# ---- fixtures (made before any case runs) ----
"$T5G" init --preset tiny --seed 1 -o "$W/tiny.h5" > /dev/null || exit 1
SPM=tests/fixtures/tokenizer/bpe.model
tiny_spm_model 2 "$W/tok.h5" || exit 1
HF=tests/fixtures/fwd/mha/hf
"$T5G" convert --hf $HF -o "$W/nock.h5" --no-checksum > /dev/null || exit 1
cp "$W/tiny.h5" "$W/copy.h5"
echo '{"input_ids": [[2, 10, 20, 30]], "decoder_input_ids": [[2, 5]]}' > "$W/batch.json"
for i in 1 2 3 4; do echo "{\"id\": \"r$i\", \"text\": \"request $i with words\"}"; done > "$W/in.jsonl"

echo "== CLI flags"
bad "unknown command" "$T5G" frobnicate
bad "unknown option" "$T5G" info --bogus
bad "needs a value" "$T5G" info --preset
bad "unknown preset" "$T5G" info --preset nope
bad "exactly one" "$T5G" info
bad "exactly one" "$T5G" info --preset tiny -m "$W/tiny.h5"
bad "needs an integer" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --batch-size abc
bad "needs an integer" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --batch-size 99999999999
bad "needs an integer" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --beams 1.5
bad "batch-size" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --batch-size 2147483647
bad "batch-size" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --batch-size 0
bad "max-new-tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --max-new-tokens 2147483647
bad "max-new-tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --max-new-tokens 0
bad "max-new-tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --max-new-tokens -5
bad "max-tokens-per-batch" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --max-tokens-per-batch -1
bad "threads" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --threads -3
bad "threads" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --threads 100000
bad "tp" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --tp -1
bad "finite number" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --length-penalty nan
bad "finite number" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --length-penalty inf
bad "finite number" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --temperature -inf --sample
bad "needs a finite number" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --top-p 0.5x
bad "temperature" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --sample --temperature 0
bad "top-p" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --sample --top-p 1.5
bad "top-k" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --sample --top-k -1
bad "beams" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --beams 65
bad "cannot be combined" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --sample --beams 2
bad "early-stopping" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --early-stopping maybe
bad "on-error" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --on-error ignore
bad "max-input-tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --max-input-tokens 0
bad "required" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl"
bad "unexpected argument" "$T5G" generate stray -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl"
bad "device" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl" --device tpu
bad "resume needs a regular" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o /dev/null --resume
bad "nodes" "$T5G" plan --preset tiny --nodes 2147483647 --ranks-per-node 2147483647
bad "nodes" "$T5G" plan --preset tiny --nodes 0
bad "ranks-per-node" "$T5G" plan --preset tiny --ranks-per-node -1
bad "batch" "$T5G" plan --preset tiny --batch 2147483647
bad "beams" "$T5G" plan --preset tiny --beams 0
bad "src-len" "$T5G" plan --preset tiny --src-len -4
bad "dtype" "$T5G" plan --preset tiny --dtype f16
bad "dtype" "$T5G" init --preset tiny -o "$W/out/x.h5" --dtype f16
bad "required" "$T5G" init --preset tiny
bad "SentencePiece" "$T5G" init --preset tiny -o "$W/out/x.h5" --tokenizer "$W/batch.json"
bad "no-such" "$T5G" init --preset tiny -o "$W/out/x.h5" --tokenizer "$W/no-such.model"
bad "threads" "$T5G" forward -m "$W/tiny.h5" -i "$W/batch.json" -o "$W/out/f" --threads -3
bad "tp" "$T5G" forward -m "$W/tiny.h5" -i "$W/batch.json" -o "$W/out/f" --tp -1
bad "beams" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --beams 0
bad "batch-size" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --batch-size 2147483647
bad "max-new-tokens" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --max-new-tokens 2147483647
bad "threads" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --threads -3
bad "tp" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --tp -1
bad "finite number" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --length-penalty nan
bad "unknown task" "$T5G" eval --task wmt15 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e"
bad "no-answer" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --no-answer ""
bad "required" "$T5G" eval --task squad-v2 -m "$W/tok.h5"
bad "limit" "$T5G" eval --task squad-v2 -m "$W/tok.h5" --data datasets/demo --out "$W/out/e" --limit -1
bad "none" "$T5G" report "$W/none"

echo "== HDF5 checkpoints"
bad "no-such.h5" "$T5G" info -m "$W/no-such.h5"
echo "plain text" > "$W/text.h5"
bad "text.h5" "$T5G" info -m "$W/text.h5"
: > "$W/empty.h5"
bad "empty.h5" "$T5G" info -m "$W/empty.h5"
head -c 10000 "$W/tiny.h5" > "$W/trunc.h5"
bad "trunc.h5" "$T5G" forward -m "$W/trunc.h5" -i "$W/batch.json" -o "$W/out/f"
head -c 200000 "$W/tiny.h5" > "$W/half.h5"
bad "half.h5" "$T5G" forward -m "$W/half.h5" -i "$W/batch.json" -o "$W/out/f"
mkdir -p "$W/dir.h5"
bad "dir.h5" "$T5G" info -m "$W/dir.h5"
bad "no-such.h5" "$T5G" generate -m "$W/no-such.h5" -i "$W/in.jsonl" -o "$W/out/g.jsonl"
bad "no-such.h5" "$T5G" eval --task squad-v2 -m "$W/no-such.h5" --data datasets/demo --out "$W/out/e"
bad "no-such.h5" "$T5G" plan -m "$W/no-such.h5"
# a weight turned into Inf in a file without checksums: refused at load, not NaN logits
tamper_weight "$HF/model.safetensors" "$W/nock.h5" "$W/inf.h5" 'float("inf")'
bad "non-finite" "$T5G" forward -m "$W/inf.h5" -i "$W/batch.json" -o "$W/out/f"
bad "non-finite" "$T5G" generate -m "$W/inf.h5" -i "$W/batch.json" -o "$W/out/g.jsonl"
# a flipped byte in a file with checksums
python3 - "$W/tiny.h5" "$W/flip.h5" <<'PY'
import sys
f = bytearray(open(sys.argv[1], "rb").read())
f[len(f) // 2] ^= 0xFF
open(sys.argv[2], "wb").write(f)
PY
bad "flip.h5" "$T5G" forward -m "$W/flip.h5" -i "$W/batch.json" -o "$W/out/f"

echo "== full disk (a 1 MB tmpfs; needs root)"
mkdir -p "$W/full"
if mount -t tmpfs -o size=1m tmpfs "$W/full" 2> /dev/null; then
    bad "disk full" "$T5G" init --preset tiny -o "$W/full/i.h5"
    for k in 450 500 700; do
        rm -f "$W/full"/*; head -c $((k * 1024)) /dev/zero > "$W/full/fill"
        bad "disk full" "$T5G" convert --hf tests/fixtures/fwd/window/hf -o "$W/full/c.h5"
        bad "disk full" "$T5G" init --preset tiny -o "$W/full/i.h5"
    done
    [ -z "$(ls "$W/full" | grep -v '^fill$')" ] || { echo "FAIL: files left on the full disk: $(ls "$W/full")"; failed=$((failed + 1)); }
    umount "$W/full"
elif [ "${CI:-}" = true ]; then
    echo "FAIL: cannot mount a tmpfs, so the full-disk cases cannot run, and CI=true allows no skip"
    failed=$((failed + 1))
else
    echo "(no tmpfs mount: not root; the full-disk cases are not run)"
fi

echo "== config.json and safetensors (convert)"
hfcase() {  # hfcase NAME: a copy of the fixture's HF folder in $W/hf-NAME
    rm -rf "$W/hf-$1"; cp -r $HF "$W/hf-$1"; echo "$W/hf-$1"
}
convbad() {  # convbad PATTERN DIR: convert of DIR fails as `bad` requires
    bad "$1" "$T5G" convert --hf "$2" -o "$W/out/c.h5"
}
D=$(hfcase noconfig); rm "$D/config.json"
convbad "config.json" "$D"
D=$(hfcase badjson); echo '{"model_type": "t5gemma", ' > "$D/config.json"
convbad "config.json" "$D"
D=$(hfcase notobj); echo '[1, 2]' > "$D/config.json"
convbad "config" "$D"
cfgedit() {  # cfgedit DIR PYTHON-EXPR-ON-c : edit config.json
    python3 - "$1/config.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
e = c.get("encoder", c); d = c.get("decoder", c)
exec(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
PY
}
cfgbad() {  # cfgbad NAME PATTERN PYTHON: the fixture with config.json edited by PYTHON
    local d
    d=$(hfcase "$1")
    cfgedit "$d" "$3"
    convbad "$2" "$d"
}
cfgbad mtype "model_type" 'c["model_type"] = "llama"'
cfgbad hstr "hidden_size" 'e["hidden_size"] = "x"'
cfgbad hneg "hidden_size" 'e["hidden_size"] = -16'
cfgbad hfloat "hidden_size" 'e["hidden_size"] = 16.5'
cfgbad heads0 "num_attention_heads" 'e["num_attention_heads"] = 0'
cfgbad kvheads "num_key_value_heads" 'e["num_key_value_heads"] = 3'
cfgbad vocab0 "vocab_size" 'e["vocab_size"] = 0'
cfgbad layersneg "num_hidden_layers" 'd["num_hidden_layers"] = -1'
cfgbad eps "rms_norm_eps" 'e["rms_norm_eps"] = "tiny"'
cfgbad rope "rope_scaling" 'e["rope_scaling"] = {"type": "linear", "factor": 2}'
cfgbad capneg "softcapping" 'd["final_logit_softcapping"] = -30.0'
cfgbad attncapneg "softcapping" 'e["attn_logit_softcapping"] = -50.0'
D=$(hfcase nost); rm "$D/model.safetensors"
convbad "safetensors" "$D"
stedit() {  # stedit DIR PYTHON: edit the raw bytes b (bytearray), header h (dict), n (header length)
    python3 - "$1/model.safetensors" "$2" <<'PY'
import json, struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
def put(h, data=None):
    global b
    hb = json.dumps(h).encode()
    b = bytearray(struct.pack("<Q", len(hb)) + hb + (data if data is not None else b[8 + n:]))
exec(sys.argv[2])
open(p, "wb").write(b)
PY
}
stbad() {  # stbad NAME PATTERN PYTHON: the fixture with model.safetensors edited by PYTHON
    local d
    d=$(hfcase "$1")
    stedit "$d" "$3"
    convbad "$2" "$d"
}
K=model.encoder.layers.0.mlp.down_proj.weight
stbad sthuge "header length" 'b[:8] = struct.pack("<Q", 1 << 48)'
stbad sttiny "model.safetensors" 'b = b[:5]'
stbad stjson "model.safetensors" 'b[8:12] = b"@@@@"'
stbad stnotobj "model.safetensors" 'put([1, 2])'
stbad stempty "lacks tensor" 'put({}, b"")'
stbad stdtype "$K" 'h["'$K'"]["dtype"] = "Q4"; put(h)'
stbad sti64 "$K" 'h["'$K'"]["dtype"] = "I64"; put(h)'
stbad stoff "$K" 'h["'$K'"]["data_offsets"][1] += 10**9; put(h)'
stbad stoffneg "$K" 'h["'$K'"]["data_offsets"] = [-4, 0]; put(h)'
stbad stoffrev "$K" 'o = h["'$K'"]["data_offsets"]; h["'$K'"]["data_offsets"] = [o[1], o[0]]; put(h)'
stbad stshape "$K" 'h["'$K'"]["shape"] = [3, 3]; put(h)'
stbad stshapeneg "$K" 'h["'$K'"]["shape"] = [-1, 16]; put(h)'
stbad stshapestr "$K" 'h["'$K'"]["shape"] = "big"; put(h)'
stbad stoverlap "overlap" 'ks = [k for k in h if k != "__metadata__"]; h[ks[1]]["data_offsets"] = list(h[ks[0]]["data_offsets"]); put(h)'
stbad stmissing "lacks tensor" 'del h["'$K'"]; put(h)'
stbad stextra "score.bias" 'h["score.bias"] = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}; put(h)'
stbad stnan "non-finite" 'o = 8 + n + h["'$K'"]["data_offsets"][0]; b[o:o + 4] = struct.pack("<f", float("nan"))'
stbad stinf "non-finite" 'o = 8 + n + h["'$K'"]["data_offsets"][0]; b[o:o + 4] = struct.pack("<f", float("-inf"))'
stbad sttrunc "model.safetensors" 'b = b[:len(b) - 100]'
D=$(hfcase idx); mv "$D/model.safetensors" "$D/model-00001-of-00001.safetensors"; echo '{"weight_map": {"x": "nope.safetensors"}}' > "$D/model.safetensors.index.json"
convbad "nope.safetensors" "$D"
D=$(hfcase idxbad); mv "$D/model.safetensors" "$D/model-00001-of-00001.safetensors"; echo '{"weight_map": ' > "$D/model.safetensors.index.json"
convbad "index" "$D"
D=$(hfcase tokcfg); echo '{"add_bos_token": tru' > "$D/tokenizer_config.json"
convbad "tokenizer_config.json" "$D"
D=$(hfcase gencfg); echo '{"eos_token_id": [1, 100000]}' > "$D/generation_config.json"
convbad "eos_token_id" "$D"
bad "required\|needs" "$T5G" convert --hf "$D"
bad "dtype" "$T5G" convert --hf $HF -o "$W/out/c.h5" --dtype f16
bad "no-such-dir" "$T5G" convert --hf "$W/no-such-dir" -o "$W/out/c.h5"
bad "cannot create" "$T5G" convert --hf $HF -o "$W/no-such-dir/c.h5"

echo "== batch JSON (forward)"
fwd() {  # fwd PATTERN JSON
    printf '%s\n' "$2" > "$W/b.json"
    bad "$1" "$T5G" forward -m "$W/tiny.h5" -i "$W/b.json" -o "$W/out/f"
}
fwd "not valid JSON" 'not json'
fwd "not valid JSON" '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]]} trailing'
fwd "not valid JSON" '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]]}{}'
fwd "not valid JSON" ''
fwd "input_ids" '{"decoder_input_ids": [[2]]}'
fwd "decoder_input_ids" '{"input_ids": [[2, 6]]}'
fwd "input_ids" '{"input_ids": [], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[]], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[2, 6], [2]], "decoder_input_ids": [[2], [2]]}'
fwd "input_ids" '{"input_ids": [[2, "6"]], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[2, 6.5]], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[2, 1e999]], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[2, -1e999]], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": [[2, 3e9]], "decoder_input_ids": [[2]]}'
fwd "vocabulary" '{"input_ids": [[2, 600]], "decoder_input_ids": [[2]]}'
fwd "vocabulary" '{"input_ids": [[2, -1]], "decoder_input_ids": [[2]]}'
fwd "vocabulary" '{"input_ids": [[2, 6]], "decoder_input_ids": [[2, 99999]]}'
fwd "input_ids" '{"input_ids": [2, 6], "decoder_input_ids": [[2]]}'
fwd "input_ids" '{"input_ids": {"a": 1}, "decoder_input_ids": [[2]]}'
fwd "attention_mask" '{"input_ids": [[2, 6]], "attention_mask": [[1, 1, 1]], "decoder_input_ids": [[2]]}'
fwd "attention_mask" '{"input_ids": [[2, 6]], "attention_mask": [[1, 2]], "decoder_input_ids": [[2]]}'
fwd "attention_mask" '{"input_ids": [[2, 6]], "attention_mask": [[1, -1]], "decoder_input_ids": [[2]]}'
fwd "decoder_attention_mask" '{"input_ids": [[2, 6]], "decoder_input_ids": [[2]], "decoder_attention_mask": [[1], [1]]}'
fwd "decoder_input_ids" '{"input_ids": [[2, 6], [2, 7]], "decoder_input_ids": [[2]]}'
bad "no-such.json" "$T5G" forward -m "$W/tiny.h5" -i "$W/no-such.json" -o "$W/out/f"

echo "== JSONL requests (generate)"
gen() {  # gen PATTERN LINES... : generate over these lines
    printf '%s\n' "${@:2}" > "$W/g.jsonl"
    bad "$1" "$T5G" generate -m "$W/tok.h5" -i "$W/g.jsonl" -o "$W/out/g.out" -q
}
gen "g.jsonl:1" '{broken'
gen "g.jsonl:2" '{"id": 1, "text": "fine"}' '{"id": 2, "text": "x"} garbage'
gen "g.jsonl:1" '{"id": 1, "text": "x"}{"id": 2, "text": "y"}'
gen "g.jsonl:1" $'{"id": 1, "text": "caf\xe9"}'
gen "u0000" '{"id": 1, "text": "a\u0000b"}'
gen "g.jsonl:1" '[1, 2]'
gen "g.jsonl:1" '"text"'
gen "g.jsonl:1" '{"text": "no id"}'
gen "integer" '{"id": 2.5, "text": "x"}'
gen "integer" '{"id": 1e300, "text": "x"}'
gen "g.jsonl:1" '{"id": {"a": 1}, "text": "x"}'
gen "g.jsonl:1" '{"id": null, "text": "x"}'
gen "g.jsonl:1" '{"id": true, "text": "x"}'
gen "already used at" '{"id": "a", "text": "x"}' '{"id": "b", "text": "y"}' '{"id": "a", "text": "z"}'
gen "already used at" '{"id": 7, "text": "x"}' '{"id": 7, "input_ids": [2, 5]}'
gen "empty \"text\"" '{"id": 1, "text": ""}'
gen "g.jsonl:1" '{"id": 1, "text": 5}'
gen "g.jsonl:1" '{"id": 1}'
gen "empty \"input_ids\"" '{"id": 1, "input_ids": []}'
gen "input_ids\[1\]" '{"id": 1, "input_ids": [2, 1e999]}'
gen "input_ids\[1\]" '{"id": 1, "input_ids": [2, 2.5]}'
gen "input_ids\[1\]" '{"id": 1, "input_ids": [2, -3]}'
gen "input_ids\[1\]" '{"id": 1, "input_ids": [2, 100000]}'
gen "input_ids\[0\]" '{"id": 1, "input_ids": ["2"]}'
gen "input_ids\[0\]" '{"id": 1, "input_ids": [null]}'
gen "g.jsonl:1" '{"id": 1, "input_ids": "2 3"}'
gen "has no input lines" ''
gen "has no input lines" '   '
python3 -c 'import json; print(json.dumps({"id": 1, "input_ids": [3] * 1100000}))' > "$W/huge.jsonl"
bad "limit" "$T5G" generate -m "$W/tok.h5" -i "$W/huge.jsonl" -o "$W/out/g.out" -q
printf '{"id": 1, "text": "%s"}\n' "$(printf 'word %.0s' $(seq 1 50))" > "$W/long.jsonl"
bad "max-input-tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/long.jsonl" -o "$W/out/g.out" --max-input-tokens 10 -q
bad "tokenizer" "$T5G" generate -m "$W/tiny.h5" -i "$W/in.jsonl" -o "$W/out/g.out" -q
bad "SentencePiece\|tokenizer" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.out" --tokenizer "$W/batch.json" -q
bad "no-such.jsonl" "$T5G" generate -m "$W/tok.h5" -i "$W/no-such.jsonl" -o "$W/out/g.out" -q
bad "no-such-dir" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/no-such-dir/g.out" -q
# resume: the recorded run decides
"$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/run.jsonl" --max-new-tokens 3 -q || exit 1
bad "max_new_tokens" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/run.jsonl" --max-new-tokens 4 -q --resume
bad "search" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/run.jsonl" --max-new-tokens 3 --beams 2 -q --resume
bad "seed" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/run.jsonl" --max-new-tokens 3 --seed 9 -q --resume
bad "model_sha256" "$T5G" generate -m "$W/copy.h5" --tokenizer $SPM -i "$W/in.jsonl" -o "$W/run.jsonl" --max-new-tokens 3 -q --resume
cp "$W/in.jsonl" "$W/in2.jsonl"; echo '{"id": "r9", "text": "one more"}' >> "$W/in2.jsonl"
bad "input_sha256" "$T5G" generate -m "$W/tok.h5" -i "$W/in2.jsonl" -o "$W/run.jsonl" --max-new-tokens 3 -q --resume
bad "tokenizer_sha256" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/run.jsonl" --tokenizer tests/fixtures/tokenizer/unigram.model --max-new-tokens 3 -q --resume
cp "$W/run.jsonl" "$W/norec.jsonl"
bad "cannot tell" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/norec.jsonl" --max-new-tokens 3 -q --resume
cp "$W/run.jsonl.run.json" "$W/dmg.jsonl.run.json"; { head -n 1 "$W/run.jsonl"; echo '{torn'; tail -n 1 "$W/run.jsonl"; } > "$W/dmg.jsonl.part0"
bad "damaged" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/dmg.jsonl" --max-new-tokens 3 -q --resume
echo '[]' > "$W/bad.jsonl.run.json"; cp "$W/run.jsonl" "$W/bad.jsonl"
bad "not a run fingerprint" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/bad.jsonl" --max-new-tokens 3 -q --resume

echo "== dataset shards (eval)"
E=(-m "$W/tok.h5" --beams 1 --max-new-tokens 2 --batch-size 4 -q)
E_NOBEAMS=(-m "$W/tok.h5" --max-new-tokens 2 --batch-size 4 -q)   # a flag is given once: these runs change it
E_NOMNT=(-m "$W/tok.h5" --beams 1 --batch-size 4 -q)
mkdata() {  # mkdata NAME TASK NSHARDS: an empty prepared folder $W/d-NAME/TASK with a manifest
    mkdir -p "$W/d-$1/$2"
    printf '{"format": "t5g-jsonl-shards", "format_version": 1, "task": "%s", "num_shards": %d, "num_samples": 2}\n' "$2" "$3" > "$W/d-$1/$2/manifest.json"
    echo "$W/d-$1"
}
sq() { printf '{"id": "%s", "index": %s, "question": "q?", "context": "c.", "answers": %s}\n' "$1" "$2" "$3"; }
shard() { echo "$1/$2/shard-$(printf %05d "$3")-of-$(printf %05d "$4").jsonl"; }
ev() {  # ev PATTERN DATA TASK [extra...]
    local pat=$1 data=$2 task=$3; shift 3
    bad "$pat" "$T5G" eval --task "$task" "${E[@]}" --data "$data" --out "$W/out/e-$cases" "$@"
}
ev "prepare.py" "$W/no-data" squad-v2
D=$(mkdata nomani squad-v2 1); rm "$D/squad-v2/manifest.json"
ev "prepare.py" "$D" squad-v2
D=$(mkdata manibad squad-v2 1); echo '{' > "$D/squad-v2/manifest.json"
ev "manifest" "$D" squad-v2
D=$(mkdata maniwrong squad-v2 1); sed -i 's/"squad-v2"/"wmt14-en-fr"/' "$D/squad-v2/manifest.json"
ev "manifest" "$D" squad-v2
D=$(mkdata mani0 squad-v2 0)
ev "num_shards" "$D" squad-v2
D=$(mkdata noshard squad-v2 2); sq a 0 '[]' > "$(shard "$D" squad-v2 0 2)"
ev "shard-00001-of-00002" "$D" squad-v2
D=$(mkdata badline squad-v2 1); { sq a 0 '[]'; echo '{"id": "b", "index": 1, "question": '; } > "$(shard "$D" squad-v2 0 1)"
ev "not valid JSON" "$D" squad-v2
D=$(mkdata trailing squad-v2 1); { sq a 0 '[]'; echo "$(sq b 1 '[]') x"; } > "$(shard "$D" squad-v2 0 1)"
ev "not valid JSON" "$D" squad-v2
D=$(mkdata noindex squad-v2 1); echo '{"id": "a", "question": "q?", "context": "c.", "answers": []}' > "$(shard "$D" squad-v2 0 1)"
ev "index" "$D" squad-v2
D=$(mkdata fracindex squad-v2 1); sq a 2.5 '[]' > "$(shard "$D" squad-v2 0 1)"
ev "index" "$D" squad-v2
D=$(mkdata negindex squad-v2 1); sq a -1 '[]' > "$(shard "$D" squad-v2 0 1)"
ev "index" "$D" squad-v2
D=$(mkdata noid squad-v2 1); echo '{"index": 0, "question": "q?", "context": "c.", "answers": []}' > "$(shard "$D" squad-v2 0 1)"
ev "id" "$D" squad-v2
D=$(mkdata fracid squad-v2 1); echo '{"id": 2.5, "index": 0, "question": "q?", "context": "c.", "answers": []}' > "$(shard "$D" squad-v2 0 1)"
ev "integer" "$D" squad-v2
D=$(mkdata dupid squad-v2 2); sq a 0 '[]' > "$(shard "$D" squad-v2 0 2)"; sq a 1 '["x"]' > "$(shard "$D" squad-v2 1 2)"
ev "already used at" "$D" squad-v2
D=$(mkdata dupid1 squad-v2 1); { sq a 0 '[]'; sq b 1 '[]'; sq a 2 '[]'; } > "$(shard "$D" squad-v2 0 1)"
ev "already used at" "$D" squad-v2
D=$(mkdata ansnum squad-v2 1); sq a 0 '[42]' > "$(shard "$D" squad-v2 0 1)"
ev "answers" "$D" squad-v2
D=$(mkdata ansstr squad-v2 1); sq a 0 '"x"' > "$(shard "$D" squad-v2 0 1)"
ev "answers" "$D" squad-v2
D=$(mkdata noq squad-v2 1); echo '{"id": "a", "index": 0, "context": "c.", "answers": []}' > "$(shard "$D" squad-v2 0 1)"
ev "question" "$D" squad-v2
D=$(mkdata nul squad-v2 1); echo '{"id": "a", "index": 0, "question": "q\u0000?", "context": "c.", "answers": []}' > "$(shard "$D" squad-v2 0 1)"
ev "u0000" "$D" squad-v2
D=$(mkdata wmtrefs wmt14-en-fr 1); echo '{"id": "a", "index": 0, "src": "hello", "refs": "bonjour"}' > "$(shard "$D" wmt14-en-fr 0 1)"
ev "refs" "$D" wmt14-en-fr
D=$(mkdata wmtrefs0 wmt14-en-fr 1); echo '{"id": "a", "index": 0, "src": "hello", "refs": []}' > "$(shard "$D" wmt14-en-fr 0 1)"
ev "refs" "$D" wmt14-en-fr
D=$(mkdata wmtsrc wmt14-en-fr 1); echo '{"id": "a", "index": 0, "src": 5, "refs": ["x"]}' > "$(shard "$D" wmt14-en-fr 0 1)"
ev "src" "$D" wmt14-en-fr
D=$(mkdata cnnhl cnn-dailymail 1); echo '{"id": "a", "index": 0, "article": "text"}' > "$(shard "$D" cnn-dailymail 0 1)"
ev "highlights" "$D" cnn-dailymail
D=$(mkdata cnnart cnn-dailymail 1); echo '{"id": "a", "index": 0, "article": ["t"], "highlights": "h"}' > "$(shard "$D" cnn-dailymail 0 1)"
ev "article" "$D" cnn-dailymail
D=$(mkdata shasum squad-v2 1); sq a 0 '[]' > "$(shard "$D" squad-v2 0 1)"
sed -i 's/"num_samples": 2}/"num_samples": 1, "shards": [{"file": "shard-00000-of-00001.jsonl", "num_samples": 1, "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}]}/' "$D/squad-v2/manifest.json"
ev "changed since its manifest" "$D" squad-v2
# a finished run decides what may resume into its folder
D=$(mkdata good squad-v2 2); { sq a 0 '[]'; sq b 1 '["c"]'; } > "$(shard "$D" squad-v2 0 2)"; sq c 2 '[]' > "$(shard "$D" squad-v2 1 2)"
"$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run" > /dev/null || exit 1
# reportable only for the official full set: 3 samples without --limit are not, and say why
grep -q '"reportable":[[:space:]]*false' "$W/run/results.json" && grep -q 'the official squad-v2 set has 11873' "$W/run/results.json" \
    || { echo "FAIL: a 3-sample set without --limit was reportable or gave no reason"; failed=$((failed + 1)); }
grep -q 'not comparable' "$W/run/summary.md" || { echo "FAIL: summary.md compares a 3-sample set with the model card"; failed=$((failed + 1)); }
bad "search" "$T5G" eval --task squad-v2 "${E_NOBEAMS[@]}" --data "$D" --out "$W/run" --beams 2
bad "max_new_tokens" "$T5G" eval --task squad-v2 "${E_NOMNT[@]}" --data "$D" --out "$W/run" --max-new-tokens 3
bad "limit" "$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run" --limit 2
bad "length_penalty" "$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run" --length-penalty 1.0
bad "gnmt_penalty" "$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run" --hf-penalty
bad "max_input_tokens" "$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run" --max-input-tokens 100
tiny_spm_model 3 "$W/tok3.h5"
bad "model_sha256" "$T5G" eval --task squad-v2 -m "$W/tok3.h5" --beams 1 --max-new-tokens 2 --batch-size 4 -q --data "$D" --out "$W/run"
cp -r "$D" "$W/d-good2"; sq d 3 '[]' >> "$(shard "$W/d-good2" squad-v2 1 2)"
bad "data_sha256" "$T5G" eval --task squad-v2 "${E[@]}" --data "$W/d-good2" --out "$W/run"
cp -r "$W/run" "$W/run-norec"; rm "$W/run-norec/run.json"
bad "cannot tell" "$T5G" eval --task squad-v2 "${E[@]}" --data "$D" --out "$W/run-norec"
bad "prepare.py" "$T5G" eval --task wmt14-en-fr "${E[@]}" --data "$D" --out "$W/run"

echo "== scorer inputs"
printf 'a b c\n' > "$W/h1"; printf 'a b c\nd e\n' > "$W/r2"; printf 'a b\n' > "$W/r1"
bad "has 1 lines" "$T5G" score bleu "$W/r2" -i "$W/h1"
bad "no-such" "$T5G" score bleu "$W/no-such" -i "$W/h1"
bad "no-such" "$T5G" score bleu "$W/r1" -i "$W/no-such"
bad "tokenize" "$T5G" score bleu "$W/r1" -i "$W/h1" -tok klingon
bad "smooth" "$T5G" score bleu "$W/r1" -i "$W/h1" -s wobbly
bad "width\|-w" "$T5G" score bleu "$W/r1" -i "$W/h1" -w -2
bad "format" "$T5G" score bleu "$W/r1" -i "$W/h1" -f xml
printf 'a b\xff\n' > "$W/hbad"
bad "UTF-8" "$T5G" score bleu "$W/r1" -i "$W/hbad"
bad "examples" "$T5G" score rouge --targets "$W/r2" --predictions "$W/h1"
bad "types\|rouge" "$T5G" score rouge --targets "$W/r1" --predictions "$W/h1" --types rouge0
bad "types\|rouge" "$T5G" score rouge --targets "$W/r1" --predictions "$W/h1" --types bleu
bad "bootstrap" "$T5G" score rouge --targets "$W/r1" --predictions "$W/h1" --bootstrap -1
bad "confidence" "$T5G" score rouge --targets "$W/r1" --predictions "$W/h1" --bootstrap 10 --confidence 2
bad "no-such" "$T5G" score rouge --targets "$W/no-such" --predictions "$W/h1"
printf '{"id": 1, "prediction": "x"}\n{broken\n' > "$W/pj.jsonl"; printf '{"id": 1, "target": "x"}\n{"id": 2, "target": "y"}\n' > "$W/tj.jsonl"
bad "pj.jsonl\|JSON" "$T5G" score rouge --targets "$W/tj.jsonl" --predictions "$W/pj.jsonl" --input-format jsonl
echo '{"version": "v2.0", "data": []' > "$W/sqd.json"; echo '{}' > "$W/sqp.json"
bad "invalid JSON\|JSON" "$T5G" score squad2 "$W/sqd.json" "$W/sqp.json"
echo '{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "?", "answers": []}]}]}]}' > "$W/sqd2.json"
bad "q1\|missing\|prediction" "$T5G" score squad2 "$W/sqd2.json" "$W/sqp.json"
echo '{"q1": 5}' > "$W/sqp2.json"
bad "q1\|string" "$T5G" score squad2 "$W/sqd2.json" "$W/sqp2.json"
echo '{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "?", "answers": [{"text": 5, "answer_start": 0}]}]}]}]}' > "$W/sqd3.json"
echo '{"q1": "x"}' > "$W/sqp5.json"
bad "q1.*text" "$T5G" score squad2 "$W/sqd3.json" "$W/sqp5.json"   # a non-string answer is not "unanswerable"
echo '[1]' > "$W/sqp3.json"
bad "object\|JSON\|pred" "$T5G" score squad2 "$W/sqd2.json" "$W/sqp3.json"
bad "no-such" "$T5G" score squad2 "$W/no-such.json" "$W/sqp.json"
echo '{"q1": ""}' > "$W/sqp4.json"
bad "na-prob\|thresh" "$T5G" score squad2 "$W/sqd2.json" "$W/sqp4.json" -t nan
bad "unknown\|score" "$T5G" score meteor

echo "== TP layouts under mpirun"
bad "does not divide" "${MPI3[@]}" "$T5G" forward -m "$W/tiny.h5" -i "$W/batch.json" -o "$W/out/f"
bad "does not divide" "${MPI2[@]}" "$T5G" forward -m "$W/tiny.h5" -i "$W/batch.json" -o "$W/out/f" --tp 3
bad "does not divide" "${MPI3[@]}" "$T5G" forward -m "$W/tiny.h5" -i "$W/batch.json" -o "$W/out/f" --tp 2
bad "does not divide" "${MPI3[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.out" -q
bad "does not divide" "${MPI3[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.out" --tp 2 -q
bad "does not divide" "${MPI3[@]}" "$T5G" eval --task squad-v2 "${E[@]}" --data "$W/d-good" --out "$W/out/e3"
bad "does not divide" "${MPI2[@]}" "$T5G" eval --task squad-v2 "${E[@]}" --data "$W/d-good" --out "$W/out/e2" --tp 4
printf '%s\n' '{"id": 1, "text": "a"}' '{"id": 2, "text": "b"}' '{"id": 1, "text": "c"}' > "$W/dup.jsonl"
bad "already used at" "${MPI2[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/dup.jsonl" -o "$W/out/g.out" --tp 1 -q
bad "already used at" "${MPI3[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/dup.jsonl" -o "$W/out/g.out" --tp 1 -q
printf '%s\n' '{"id": 1, "text": "a"}' '{"id": 2, "text": "b"}' '{"id": 3, "input_ids": [2, 1e999]}' > "$W/bad3.jsonl"
bad "input_ids" "${MPI3[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/bad3.jsonl" -o "$W/out/g.out" --tp 1 -q
bad "input_ids" "${MPI2[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/bad3.jsonl" -o "$W/out/g.out" --tp 2 -q
bad "search" "${MPI2[@]}" "$T5G" eval --task squad-v2 "${E_NOBEAMS[@]}" --data "$W/d-good" --out "$W/run" --tp 1 --beams 2
bad "already used at" "${MPI2[@]}" "$T5G" eval --task squad-v2 "${E[@]}" --data "$W/d-dupid" --out "$W/out/e4" --tp 1
bad "non-finite" "${MPI2[@]}" "$T5G" forward -m "$W/inf.h5" -i "$W/batch.json" -o "$W/out/f"
bad "threads" "${MPI2[@]}" "$T5G" generate -m "$W/tok.h5" -i "$W/in.jsonl" -o "$W/out/g.out" --threads -1 -q
bad "no-such.h5" "${MPI3[@]}" "$T5G" generate -m "$W/no-such.h5" -i "$W/in.jsonl" -o "$W/out/g.out" --tp 1 -q

echo
echo "test_badinput: $cases cases, $failed failed"
[ "$failed" -eq 0 ] && [ "$cases" -ge 150 ]
