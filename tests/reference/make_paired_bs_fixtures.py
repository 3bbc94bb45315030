#!/usr/bin/env python3
"""make_paired_bs_fixtures.py - fixtures for tests/unit/test_bleu_paired.c: the REAL sacreBLEU
2.6.0 command line with --paired-bs (paired bootstrap resampling, numpy default_rng seeded from
SACREBLEU_SEED, default 12345) on small synthetic systems.

Writes tests/fixtures/bleu_paired/: ref*.txt, sys*.txt and cases.json
[{"args": [...], "seed": null|S, "stdout": "..."}]; sacreBLEU runs in that folder with
relative file names, so the system names in its JSON are the file names.

Run:  python3 tests/reference/make_paired_bs_fixtures.py   (pip install sacrebleu==2.6.0; numpy 2.x)
"""
import json
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "bleu_paired"))
W = ("le la les un une chat chien maison rouge grand petit mange dort dans sur avec et est "
     "Paris , . ! ? « » 2014 l'été café naïve").split()


def main():
    rng = random.Random(4242)
    os.makedirs(OUT, exist_ok=True)
    n = 240
    refs = [[" ".join(rng.choice(W) for _ in range(rng.randint(1, 30))) for _ in range(n)] for _ in range(2)]
    for k, r in enumerate(refs):
        with open(os.path.join(OUT, "ref%d.txt" % k), "w") as f:
            f.write("\n".join(r) + "\n")

    def system(keep):
        out = []
        for i in range(n):
            toks = refs[0][i].split()
            out.append(" ".join(t if rng.random() < keep else rng.choice(W) for t in toks if rng.random() > 0.05)
                       if rng.random() > 0.02 else "")
        return out
    for k, keep in enumerate([0.7, 0.72, 0.5, 0.7]):
        with open(os.path.join(OUT, "sys%d.txt" % k), "w") as f:
            f.write("\n".join(system(keep)) + "\n")
    short = [" ".join(refs[0][i].split()[:3]) for i in range(12)]
    with open(os.path.join(OUT, "ref_short.txt"), "w") as f:
        f.write("\n".join(refs[0][:12]) + "\n")
    with open(os.path.join(OUT, "sys_short.txt"), "w") as f:
        f.write("\n".join(short) + "\n")
    cases = [
        (["ref0.txt", "-i", "sys0.txt", "sys1.txt", "sys2.txt", "--paired-bs"], None),
        (["ref0.txt", "ref1.txt", "-i", "sys0.txt", "sys3.txt", "sys0.txt", "-pbs", "-pbsn", "500"], None),
        (["ref0.txt", "-i", "sys1.txt", "sys2.txt", "--paired-bs", "-tok", "intl", "-lc"], "7"),
        (["ref0.txt", "-i", "sys2.txt", "sys0.txt", "--paired-bs", "-s", "floor", "-sv", "0.2", "-pbsn", "77"], "99"),
        (["ref_short.txt", "-i", "sys_short.txt", "ref_short.txt", "--paired-bs", "-s", "none"], None),
    ]
    manifest = []
    for args, seed in cases:
        env = dict(os.environ)
        if seed:
            env["SACREBLEU_SEED"] = seed
        else:
            env.pop("SACREBLEU_SEED", None)
        res = subprocess.run(["sacrebleu"] + args, cwd=OUT, env=env, check=True, capture_output=True, text=True)
        manifest.append({"args": args, "seed": seed, "stdout": res.stdout})
        print(" ".join(args), "->", len(res.stdout), "bytes")
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
