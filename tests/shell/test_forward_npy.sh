#!/usr/bin/env bash
# `t5g forward` outputs opened by NumPy: on HF forward fixtures (tests/fixtures/fwd, dumps of the
# real transformers T5Gemma) numpy.load reads encoder_out/decoder_out/logits.npy as float32
# ('<f4', C order) with shapes [B, Le, He], [B, Ld, Hd], [B, Ld, V] and values within 1e-4 of
# HF on the valid positions; --f32 writes the same bytes raw; the KerasHub input names give
# byte-identical outputs.  Needs python3 with numpy (python3-numpy): exits 77 without it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
python3 -c 'import numpy' 2> /dev/null || skip "python3 cannot import numpy (apt-get install python3-numpy)"

for name in mha padding; do
    case=tests/fixtures/fwd/$name
    $T5G convert --hf "$case/hf" -o "$tmp/$name.h5" -q > /dev/null
    $T5G forward -m "$tmp/$name.h5" -i "$case/batch.json" -o "$tmp/$name.hf" --f32 > "$tmp/$name.hf.txt"
    keras_batch "$case/batch.json" > "$tmp/$name.keras.json"
    $T5G forward -m "$tmp/$name.h5" -i "$tmp/$name.keras.json" -o "$tmp/$name.keras" > "$tmp/$name.keras.txt"
    for f in encoder_out decoder_out logits; do
        cmp -s "$tmp/$name.hf/$f.npy" "$tmp/$name.keras/$f.npy" || fail "$name: $f.npy differs between HF and KerasHub names"
    done
    cmp -s "$tmp/$name.hf.txt" "$tmp/$name.keras.txt" || fail "$name: argmax differs between HF and KerasHub names"
    python3 - "$case" "$tmp/$name.hf" "$tmp/$name.hf.txt" <<'PY' || fail "$name: numpy check"
import json, sys
import numpy as np
case, out, txt = sys.argv[1:]
m = json.load(open(f"{case}/meta.json"))
b = json.load(open(f"{case}/batch.json"))
B, Le, Ld, He, Hd, V = m["B"], m["Le"], m["Ld"], m["He"], m["Hd"], m["V"]
want_shape = {"encoder_out": (B, Le, He), "decoder_out": (B, Ld, Hd), "logits": (B, Ld, V)}
emask = np.array(b.get("attention_mask", np.ones((B, Le))), bool)
dmask = np.array(b.get("decoder_attention_mask", np.ones((B, Ld))), bool)
for f, shape in want_shape.items():
    with open(f"{out}/{f}.npy", "rb") as fh:
        major, minor = np.lib.format.read_magic(fh)
        assert (major, minor) == (1, 0), (f, major, minor)
    a = np.load(f"{out}/{f}.npy")
    assert a.shape == shape, (f, a.shape, shape)
    assert a.dtype == np.dtype("<f4"), (f, a.dtype)
    assert a.flags["C_CONTIGUOUS"]
    raw = np.fromfile(f"{out}/{f}.f32", dtype="<f4").reshape(shape)
    assert np.array_equal(a, raw), f"{f}: .npy and --f32 differ"
    ref = np.fromfile(f"{case}/{f}.f32", dtype="<f4").reshape(shape)
    valid = emask if f == "encoder_out" else dmask
    d = float(np.abs(a - ref)[valid].max())
    assert d <= 1e-4, f"{f}: max |npy - HF| = {d}"
    print(f"ok: {f}.npy shape {a.shape} <f4, max |npy - HF| = {d:.2e} on valid positions")
lg = np.load(f"{out}/logits.npy")
printed = [list(map(int, l.split(":")[1].split())) for l in open(txt)]
assert printed == lg.argmax(-1).tolist(), "printed argmax is not logits.npy's argmax"
meta = json.load(open(f"{out}/meta.json"))
assert (meta["B"], meta["Le"], meta["Ld"], meta["He"], meta["Hd"], meta["V"]) == (B, Le, Ld, He, Hd, V), meta
PY
    echo "ok: $name"
done
echo "test_forward_npy: all checks passed"
