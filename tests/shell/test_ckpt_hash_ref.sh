#!/usr/bin/env bash
# The checkpoint content sha256 against an independent implementation: for each case of
# tests/fixtures/ckpt_hash/cases.json (written by tests/reference/make_ckpt_hash_fixtures.py, which
# computes the hash with h5py + hashlib from docs/checkpoint.md's definition), `t5g convert` of the
# same input stores that hash, `t5g model sha256` prints it and `t5g model verify` recomputes it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
n=0
while IFS='|' read -r name hf args want tokcfg tokmodel; do
    if [ -n "$tokmodel" ]; then   # the HF folder plus a tokenizer
        mkdir "$tmp/hf_$name"
        cp "$hf"/* "$tmp/hf_$name/"
        cp "$tokmodel" "$tmp/hf_$name/tokenizer.model"
        printf '%s' "$tokcfg" > "$tmp/hf_$name/tokenizer_config.json"
        hf=$tmp/hf_$name
    fi
    # shellcheck disable=SC2086
    $T5G convert --hf "$hf" -o "$tmp/$name.h5" -q $args > /dev/null
    got=$($T5G model sha256 -m "$tmp/$name.h5" | cut -d' ' -f1)
    [ "$got" = "$want" ] || fail "$name: t5g stores $got, the h5py reference computes $want"
    $T5G model verify -m "$tmp/$name.h5" -q | grep -q "^ok: .* $want matches" || fail "$name: verify"
    echo "ok: $name $got"
    n=$((n + 1))
done < <(python3 -c '
import json
for c in json.load(open("tests/fixtures/ckpt_hash/cases.json")):
    a = c.get("add_files", {})
    print("|".join([c["name"], c["hf"], " ".join(c["args"]), c["content_sha256"],
                     a.get("tokenizer_config.json", ""), a.get("tokenizer.model", "")]))')
[ "$n" -ge 5 ] || fail "only $n cases read from the fixture"
echo "test_ckpt_hash_ref: $n cases = the independent reference"
