# shellcheck shell=bash
# lib.sh - the set-up every shell test shares; sourced first: source "$(dirname "$0")/lib.sh"
#   - runs from the repository root; T5G is the binary (T5G_BIN: a private copy while others rebuild)
#   - python3: one that imports numpy (Debian's /usr/bin/python3 when a pyenv / venv one lacks it)
#   - $tmp: a private temporary folder, removed on exit (T5G_TEST_KEEP=1 or KEEP=1 keep it)
#   - Open MPI may run as root (CI) and oversubscribe the 2 cores
#   - fail MSG: print and exit 1;  skip MSG: exit 77 (run_all.sh: skipped), but with CI=true a
#     test that cannot run is a failure (exit 1), so CI never passes a test that did not run
#   - expect_error PATTERN CMD...: CMD exits non-zero with exactly one "t5g: error:" line, and
#     that line matches PATTERN
#   - tiny_spm_model SEED OUT [SPM]: a random tiny model with a SentencePiece tokenizer's vocabulary
#   - keras_batch BATCH.json: the batch with the KerasHub input names, on stdout
#   - tamper_weight SAFETENSORS H5 OUT PYEXPR: OUT is H5 with the first float of
#     encoder.layers.0.mlp.down_proj.weight (found by its bytes in SAFETENSORS) set to PYEXPR(x)
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
T5G=${T5G_BIN:-$PWD/build/t5g}
tmp=$(mktemp -d)
trap '[ -n "${T5G_TEST_KEEP:-}${KEEP:-}" ] || rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# python3 for the checks: a python3 earlier on PATH (pyenv, a virtualenv) may lack numpy, which
# tools/install_deps.sh installs for Debian's own /usr/bin/python3 (python3-numpy): use that one
if ! command python3 -c 'import numpy' 2> /dev/null && [ -x /usr/bin/python3 ] &&
    /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
    python3() { /usr/bin/python3 "$@"; }
fi

fail() {
    echo "FAIL: $*"
    exit 1
}

skip() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: cannot run ($*), and CI=true allows no skip"
        exit 1
    fi
    printf '\n!!!!!!!! SKIP %s !!!!!!!!\n\n' "$*"
    exit 77
}

expect_error() {
    local pat=$1 rc=0
    shift
    "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
    [ $rc -ne 0 ] || fail "expected failure: $*"
    [ "$(grep -c '^t5g: error' "$tmp/err")" -eq 1 ] || { cat "$tmp/err"; fail "not one error line: $*"; }
    grep '^t5g: error' "$tmp/err" | grep -q -- "$pat" || { cat "$tmp/err"; fail "error does not mention '$pat': $*"; }
    echo "ok: $(grep '^t5g: error' "$tmp/err")"
}

tiny_spm_model() {
    local seed=$1 out=$2 spm=${3:-tests/fixtures/tokenizer/bpe.model} v
    v=$(spm_export_vocab --model="$spm" | wc -l)
    $T5G info --preset tiny --json | sed "s/\"vocab_size\":[[:space:]]*512/\"vocab_size\": $v/g" > "$tmp/cfg.json"
    $T5G init --config "$tmp/cfg.json" --seed "$seed" -o "$out" --tokenizer "$spm" > /dev/null
}

keras_batch() {
    python3 - "$1" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
ren = {"input_ids": "encoder_token_ids", "attention_mask": "encoder_padding_mask",
       "decoder_input_ids": "decoder_token_ids", "decoder_attention_mask": "decoder_padding_mask"}
print(json.dumps({ren[k]: v for k, v in b.items()}))
PY
}

tamper_weight() {
    python3 - "$@" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
off = 8 + n + h["model.encoder.layers.0.mlp.down_proj.weight"]["data_offsets"][0]
f = bytearray(open(sys.argv[2], "rb").read())
i = f.find(b[off:off + 16])
assert i > 0
x = struct.unpack("<f", f[i:i + 4])[0]
f[i:i + 4] = struct.pack("<f", eval(sys.argv[4], {"x": x}))
open(sys.argv[3], "wb").write(f)
PY
}
