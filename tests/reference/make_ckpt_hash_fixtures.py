#!/usr/bin/env python3
"""make_ckpt_hash_fixtures.py - the checkpoint content sha256 computed independently of t5g's C
code: h5py + hashlib, following the definition in docs/checkpoint.md "Content hash" only.

For each case, `build/t5g convert` imports a committed HF fixture (float32, bfloat16, int8 storage)
into a temporary file; this script reads the file back with h5py and computes the hash from the
datasets and root attributes.  It must equal the attribute content_sha256 that t5g stored (checked
here: a mismatch stops the script), and it is written to
tests/fixtures/ckpt_hash/cases.json = [{"name", "hf", "args", "content_sha256"}]; the shell test
tests/shell/test_ckpt_hash_ref.sh converts the same inputs and compares `t5g model sha256` with it.

Run from the repository root after `make`:  python3 tests/reference/make_ckpt_hash_fixtures.py
(needs numpy and h5py; CI does not).
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "ckpt_hash")
CASES = [
    ("mha_f32", "tests/fixtures/fwd/mha/hf", []),
    ("bf16", "tests/fixtures/fwd/bf16/hf", []),
    ("mha_int8", "tests/fixtures/fwd/mha/hf", ["--dtype", "int8"]),
    ("gqa_nochecksum", "tests/fixtures/fwd/gqa/hf", ["--no-checksum"]),
    ("mha_tokenizer", "tests/fixtures/fwd/mha/hf", []),  # + TOKENIZER: a uint8 dataset and integer attributes
]
# the tokenizer case's HF folder = the mha one plus these two files (the shell test builds the same)
TOKENIZER = {"tokenizer.model": "tests/fixtures/tokenizer/bpe.model",
             "tokenizer_config.json": '{"add_bos_token": true, "add_eos_token": false}'}


def tag_of(ds):
    """stored dtype tag as docs/checkpoint.md defines it, and the little-endian numpy dtype"""
    dt = ds.attrs.get("dtype")
    dt = dt.decode() if isinstance(dt, bytes) else dt
    k = ds.dtype
    if k == np.dtype("<f4"):
        return "float32", "<f4"
    if k == np.dtype("<u2") and dt == "bfloat16":
        return "bfloat16", "<u2"
    if k == np.dtype("i1") and dt == "int8":
        return "int8", "i1"
    if k == np.dtype("u1"):
        return "uint8", "u1"
    raise SystemExit(f"{ds.name}: type {k} / dtype attribute {dt!r} is outside the definition")


def content_sha256(path):
    h = hashlib.sha256(b"t5g-content-sha256/1\n")
    with h5py.File(path, "r") as f:
        for name in sorted(f.attrs.keys(), key=lambda s: s.encode()):
            if name in ("content_sha256", "producer"):
                continue
            v = f.attrs[name]
            if isinstance(v, (bytes, str)):
                kind, text = b"s", v if isinstance(v, bytes) else v.encode()
            elif isinstance(v, (np.integer, int)):
                kind, text = b"i", str(int(v)).encode()
            else:
                raise SystemExit(f"root attribute {name}: {type(v)}")
            h.update(name.encode() + b"\0" + kind + b"\0" + text + b"\n")
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for name in sorted(names, key=lambda s: s.encode()):
            ds = f[name]
            tag, le = tag_of(ds)
            data = np.ascontiguousarray(ds[()].astype(le, copy=False)).tobytes()
            dims = ",".join(str(d) for d in ds.shape)
            h.update(name.encode() + b"\0" + tag.encode() + b"\0" + dims.encode() + b"\n")
            h.update(hashlib.sha256(data).digest())
        stored = f.attrs.get("content_sha256")
        stored = stored.decode() if isinstance(stored, bytes) else stored
    return h.hexdigest(), stored


def main():
    os.makedirs(OUT, exist_ok=True)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, hf, args in CASES:
            path = os.path.join(tmp, name + ".h5")
            if name == "mha_tokenizer":
                d = os.path.join(tmp, "hf_tok")
                os.makedirs(d)
                for f in os.listdir(os.path.join(ROOT, hf)):
                    os.symlink(os.path.join(ROOT, hf, f), os.path.join(d, f))
                os.symlink(os.path.join(ROOT, TOKENIZER["tokenizer.model"]), os.path.join(d, "tokenizer.model"))
                with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
                    f.write(TOKENIZER["tokenizer_config.json"])
                hf = d
            subprocess.run([os.path.join(ROOT, "build", "t5g"), "convert", "--hf", hf, "-o", path, "-q", *args],
                           check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            mine, stored = content_sha256(path)
            assert mine == stored, f"{name}: h5py computes {mine}, t5g stored {stored}"
            entry = {"name": name, "hf": os.path.relpath(hf, ROOT) if name != "mha_tokenizer" else CASES[0][1],
                     "args": args, "content_sha256": mine}
            if name == "mha_tokenizer":
                entry["add_files"] = TOKENIZER
            out.append(entry)
            print(f"{name}: {mine} (= the stored attribute)")
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
