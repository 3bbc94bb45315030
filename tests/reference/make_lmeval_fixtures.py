#!/usr/bin/env python3
"""make_lmeval_fixtures.py - fixtures for tests/unit/test_lmeval.c (`t5g report DIR --lm-eval FILE`).

Writes tests/fixtures/lmeval/<task>/ for wmt14-en-fr, cnn-dailymail and squad-v2: a t5g run
folder (results.json + samples.jsonl as `t5g eval` writes them) with synthetic predictions,
every number computed here by the reference libraries - sacreBLEU 2.6.0 (corpus and sentence
BLEU), rouge-score 0.1.2 (T5 sentence split, no stemming, F x 100), the official SQuAD v2
computation (tests/reference/squad_v2_official.py) - and expected.json: the standard errors
lm-eval 0.4.x itself computes for those samples:
  bleu      lm_eval.api.metrics.bootstrap_stderr(metrics.bleu, items, iters=100)
            (lm-eval caps bleu at min(bootstrap_iters, 100); single process: DISABLE_MULTIPROC)
  others    lm_eval.api.metrics.mean_stderr(per-sample values)

With --t5g BUILD/t5g it also exports each folder with `t5g report DIR --lm-eval F`, loads F
with json and renders it with lm-eval's own lm_eval.utils.make_table (what `lm_eval` prints
after a run), asserting that the stderr numbers read back equal expected.json; the rendered
tables are written to make_table.md (evidence that lm-eval tooling reads the export).

Run:  python3 tests/reference/make_lmeval_fixtures.py [--t5g build/t5g]   (CPython 3.11)
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

os.environ["DISABLE_MULTIPROC"] = "1"
import sacrebleu  # noqa: E402
from lm_eval.api import metrics as lm_metrics  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import squad_v2_official as squad  # noqa: E402

OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "lmeval"))
FR = ("le la les un une de du des chat chien maison rouge grand petit mange dort dans sur avec "
      "et est sont il elle nous vous Paris ville train arrive demain hier , . ! ?").split()
EN = ("the a police said on monday storm city people rescued flooded river minister report "
      "government hospital two three , . who what").split()


def words(rng, vocab, lo, hi):
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(lo, hi)))


def perturb(rng, text, vocab):
    toks = text.split()
    out = [t if rng.random() < 0.7 else rng.choice(vocab) for t in toks if rng.random() > 0.1]
    return " ".join(out + [rng.choice(vocab) for _ in range(rng.randint(0, 2))])


def base_results(task, n, metrics, primary):
    return {
        "task": task, "reportable": False, "not_reportable_because": "%d samples; synthetic fixture" % n,
        "limit": None, "primary": primary, "metrics": metrics,
        "model": {"path": "models/demo/t5gemma-demo.h5", "sha256": "ab" * 32, "bytes": 1234},
        "decoding": {"search": "beam", "num_beams": 4, "length_penalty": 0.6, "max_new_tokens": 128, "batch_size": 8},
        "layout": {"ranks": 2, "tp": 2, "dp": 1, "threads_per_rank": 1},
        "versions": {"t5g": "fixture", "mpi": "Open MPI v4.1.4", "blis": "0.9.0", "hdf5": "1.10.8"},
        "time": {"start": "2026-12-06T01:00:00Z", "end": "2026-12-06T01:02:03Z", "wall_seconds": 123.5},
        "samples": n,
    }


def wmt(rng, n=40):
    samples, hyps, refs = [], [], []
    for i in range(n):
        ref = words(rng, FR, 3, 25)
        hyp = perturb(rng, ref, FR) if i % 7 else ""
        hyps.append(hyp)
        refs.append(ref)
        sb = sacrebleu.sentence_bleu(hyp, [ref]).score
        samples.append({"id": "wmt-%d" % i, "prompt": "translate English to French: x", "prediction": hyp,
                        "references": [ref], "sentence_bleu": sb})
    score = sacrebleu.corpus_bleu(hyps, [refs]).score
    res = base_results("wmt14-en-fr", n, {"bleu": {"score": score}}, {"name": "BLEU", "value": score, "model_card": 28.5})
    items = [([s["references"][0]], s["prediction"]) for s in samples]
    se = lm_metrics.bootstrap_stderr(lm_metrics.bleu, items, iters=min(100000, 100))
    return res, samples, {"bleu": {"value": score, "stderr": se}}


def t5_split(s):
    return s.replace(" . ", " .\n")


def cnn(rng, n=30):
    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=False)
    samples, per = [], {k: [] for k in ["rouge1", "rouge2", "rougeL", "rougeLsum"]}
    for i in range(n):
        hl = "\n".join(words(rng, EN, 4, 12) + " ." for _ in range(rng.randint(1, 3)))
        pred = " ".join(perturb(rng, line, EN) + " ." for line in hl.split("\n"))
        s = sc.score(t5_split(hl), t5_split(pred))
        for k in per:
            per[k].append(s[k].fmeasure)
        samples.append({"id": "cnn-%d" % i, "prompt": "summarize: x", "prediction": pred, "references": hl,
                        "rouge2_f": s["rouge2"].fmeasure * 100})
    metrics, expect = {}, {}
    for k, fs in per.items():
        mean = sum(fs) / len(fs)
        metrics[k] = {"precision": 0.0, "recall": 0.0, "fmeasure": mean * 100}
        expect[k] = {"value": mean * 100, "stderr": lm_metrics.mean_stderr([f * 100 for f in fs])}
    res = base_results("cnn-dailymail", n, metrics, {"name": "ROUGE-2", "value": metrics["rouge2"]["fmeasure"], "model_card": 18.2})
    return res, samples, expect


def squad2(rng, n=50):
    samples, em, f1, has = [], [], [], []
    for i in range(n):
        answers = [words(rng, EN, 1, 3) for _ in range(rng.randint(1, 2))] if rng.random() < 0.6 else []
        r = rng.random()
        pred = answers[0] if answers and r < 0.4 else "" if r < 0.7 else words(rng, EN, 1, 3)
        golds = [a for a in answers if squad.normalize_answer(a)] or [""]
        e = max(squad.compute_exact(a, pred) for a in golds)
        f = max(squad.compute_f1(a, pred) for a in golds)
        em.append(e)
        f1.append(f)
        has.append(bool(answers))
        samples.append({"id": "sq-%d" % i, "prompt": "question: x context: y", "prediction": pred,
                        "references": answers, "exact": 100 * e, "f1": 100 * f})
    official, expect = {}, {}
    groups = [("", list(range(n))), ("HasAns_", [i for i in range(n) if has[i]]), ("NoAns_", [i for i in range(n) if not has[i]])]
    for prefix, idx in groups:
        if not idx:
            continue
        official[prefix + "exact"] = 100.0 * sum(em[i] for i in idx) / len(idx)
        official[prefix + "f1"] = 100.0 * sum(f1[i] for i in idx) / len(idx)
        official[prefix + "total"] = len(idx)
        for key, vals in (("exact", em), ("f1", f1)):
            xs = [100 * vals[i] for i in idx]
            se = lm_metrics.mean_stderr(xs) if len(xs) > 1 else "N/A"
            expect[prefix + key] = {"value": official[prefix + key], "stderr": se}
    res = base_results("squad-v2", n, {"official": official}, {"name": "F1", "value": official["f1"], "model_card": 85.3})
    return res, samples, expect


def write_run(name, res, samples):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    with open(os.path.join(d, "samples.jsonl"), "w") as f:
        for s in samples:
            f.write(json.dumps(s) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--t5g", help="t5g binary: also export and render with lm_eval.utils.make_table")
    opts = ap.parse_args()
    rng = random.Random(1515)
    expected, tables = {}, []
    for name, fn in (("wmt14-en-fr", wmt), ("cnn-dailymail", cnn), ("squad-v2", squad2)):
        res, samples, exp = fn(rng)
        write_run(name, res, samples)
        expected[name] = exp
        if opts.t5g:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "lm_eval.json")
                subprocess.run([opts.t5g, "report", os.path.join(OUT, name), "--lm-eval", out], check=True,
                               stdout=subprocess.DEVNULL)
                with open(out) as f:
                    doc = json.load(f)
            from lm_eval.utils import make_table
            tables.append(make_table(doc))
            got = doc["results"][name]
            for metric, e in exp.items():
                assert got[metric + ",none"] == e["value"], (name, metric)
                assert got[metric + "_stderr,none"] == e["stderr"], (name, metric, got[metric + "_stderr,none"], e["stderr"])
        print(name, {k: v["stderr"] for k, v in exp.items()})
    r0 = random.Random(0)
    expected["python_random"] = {"seed0": [r0.random() for _ in range(5)], "seed7_choices_10_of_1000":
                                 random.Random(7).choices(range(1000), k=10)}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    if tables:
        with open(os.path.join(OUT, "make_table.md"), "w") as f:
            f.write("<!-- lm_eval.utils.make_table() of `t5g report DIR --lm-eval F` for each fixture run "
                    "(written by make_lmeval_fixtures.py --t5g) -->\n\n" + "\n".join(tables))


if __name__ == "__main__":
    main()
