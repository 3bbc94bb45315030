#!/usr/bin/env python3
"""make_squad_pr_fixtures.py - fixtures for tests/unit/test_squad_pr.c: the OFFICIAL SQuAD v2.0
evaluation script run with --na-prob-file and --out-image-dir (precision-recall analysis).

The official script (evaluate-v2.0.py from https://rajpurkar.github.io/SQuAD-explorer/) is not
in this repository; pass its path.  It needs numpy and matplotlib (pip install matplotlib).
We used the copy vendored in github.com/qwang70/bert (sha256 recorded in cases.json).

Writes tests/fixtures/squad_pr/:
  <case>.data.json, <case>.pred.json, <case>.na.json   inputs (synthetic, seeded)
  <case>.stdout                                        what the script printed (json.dumps indent=2)
  <case>.out.json                                      with -o: what it wrote there
  cases.json   [{"name", "args": [...], "stdout", "out", "images": [files it wrote]}]; in args
               "{D}" is the fixture folder, "{IMG}" the image folder, "{OUT}" the -o file

Run:  python3 tests/reference/make_squad_pr_fixtures.py --official /path/to/evaluate-v2.0.py
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "squad_pr"))
WORDS = "the a an paris france river seine 1889 eiffel tower iron gustave engineer city of in".split()


def answer(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def make_case(rng, n, p_has, prob_kind):
    """n questions; p_has = share with answers; prob_kind: 'float', 'ties', 'int'."""
    qas, preds, na = [], {}, {}
    for i in range(n):
        qid = "q%03d" % i
        has = rng.random() < p_has
        golds = [{"text": answer(rng), "answer_start": 0} for _ in range(rng.randint(1, 3))] if has else []
        qas.append({"id": qid, "question": "?", "answers": golds})
        r = rng.random()
        if has and r < 0.4:
            preds[qid] = golds[0]["text"]
        elif r < 0.7:
            preds[qid] = ""
        else:
            preds[qid] = answer(rng)
        if prob_kind == "int":
            na[qid] = rng.choice([0, 1])
        elif prob_kind == "ties":
            na[qid] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        else:
            na[qid] = round(rng.random(), rng.choice([2, 6, 17]))
    # na-prob keys in another order than the dataset (the sort is stable on this order)
    keys = list(na)
    rng.shuffle(keys)
    data = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]}
    return data, preds, {k: na[k] for k in keys}


CASES = [  # name, n, share with answers, probability kind, extra args
    ("mixed", 60, 0.5, "float", []),
    ("ties", 80, 0.6, "ties", ["-t", "0.5"]),
    ("ints", 30, 0.5, "int", []),
    ("all_has", 25, 1.0, "float", []),
    ("no_has", 20, 0.0, "float", []),
    ("outfile", 40, 0.4, "ties", ["-o", "{OUT}"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", required=True, help="path of the official evaluate-v2.0.py")
    opts = ap.parse_args()
    with open(opts.official, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(15)
    manifest = {"official_sha256": sha, "cases": []}
    for name, n, p_has, kind, extra in CASES:
        data, preds, na = make_case(rng, n, p_has, kind)
        for suffix, obj in (("data", data), ("pred", preds), ("na", na)):
            with open(os.path.join(OUT, "%s.%s.json" % (name, suffix)), "w") as f:
                json.dump(obj, f)
        args = ["{D}/%s.data.json" % name, "{D}/%s.pred.json" % name, "-n", "{D}/%s.na.json" % name,
                "-p", "{IMG}"] + extra
        with tempfile.TemporaryDirectory() as tmp:
            img, out = os.path.join(tmp, "img"), os.path.join(tmp, "out.json")
            argv = [a.replace("{D}", OUT).replace("{IMG}", img).replace("{OUT}", out) for a in args]
            res = subprocess.run([sys.executable, opts.official] + argv, check=True, capture_output=True, text=True)
            images = sorted(os.listdir(img))
            entry = {"name": name, "args": args, "stdout": name + ".stdout", "images": images}
            with open(os.path.join(OUT, name + ".stdout"), "w") as f:
                f.write(res.stdout)
            if os.path.exists(out):
                with open(out) as src, open(os.path.join(OUT, name + ".out.json"), "w") as dst:
                    dst.write(src.read())
                entry["out"] = name + ".out.json"
        manifest["cases"].append(entry)
        print(name, images)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
