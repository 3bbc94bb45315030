#!/usr/bin/env python3
"""make_rouge_cli_fixtures.py - fixtures for tests/unit/test_rouge_compat.c: the REAL
rouge-score 0.1.2 command line (`python -m rouge_score.rouge`, run as __main__ through runpy)
on small inputs, and the CSVs it writes.

rouge-score's aggregate CSV comes from BootstrapAggregator, which draws from numpy's global
RNG and is never seeded by rouge-score: two plain runs give different low/mid/high.  So each
run here first calls numpy.random.seed(S) and then runs the unmodified module; `t5g score
rouge ... --seed=S` must then give the same CSV byte for byte.  (Checked below as well: an
unseeded run keeps the header, the row names and their order, and differs only in numbers.)

Writes tests/fixtures/rouge_cli/:
  in/*.targets, in/*.decodes   the inputs (shards for the glob cases, \\r\\n, a missing final
                               delimiter, '|||'-delimited multi-sentence records, Unicode;
                               split.*: CNN/DM-like paragraphs for --split_summaries)
  cases.json                   [{"name", "seed", "args": [...], "expected": "<name>.csv"}];
                               in args "{D}" is the fixture folder, "{OUT}" the output file
  <name>.csv                   what rouge-score wrote

--split_summaries=true makes rouge-score call nltk.sent_tokenize: NLTK (3.10) then loads the
English punkt_tab tables this repository ships (eval/punkt_english/), through NLTK_DATA set
to a private copy, so both sides use the same Punkt parameters.

Run:  python3 tests/reference/make_rouge_cli_fixtures.py   (rouge-score 0.1.2, numpy, absl, nltk)
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "rouge_cli"))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_punkt_fixtures  # noqa: E402  (its paragraph generator)
RUNNER = ("import sys, numpy, runpy; numpy.random.seed(int(sys.argv.pop(1))); "
          "runpy.run_module('rouge_score.rouge', run_name='__main__', alter_sys=True)")
WORDS = ("the a of to in police said on monday government minister officials report people "
         "running runs ran quickly city cities nation national relate related relating 2014 "
         "500 u.s. don't it's caf\u00e9 na\u00efve \u00fcber KELVIN \u212a Stra\u00dfe "
         "storm storms flooded flooding rescue rescued hospital patients doctors").split()


def sentence(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14))) + rng.choice(["", ".", "!", " ?"])


def summary(rng, nsent):
    return "\n".join(sentence(rng) for _ in range(nsent))


def write(name, text):
    with open(os.path.join(OUT, "in", name), "w", encoding="utf-8", newline="") as f:
        f.write(text)


def make_inputs():
    rng = random.Random(20261206)
    os.makedirs(os.path.join(OUT, "in"), exist_ok=True)
    # one pair, 60 lines (two lines equal, one empty on each side)
    t = [sentence(rng) for _ in range(60)]
    p = [sentence(rng) for _ in range(60)]
    p[3] = t[3]
    t[10] = ""
    p[11] = ""
    write("single.targets", "\n".join(t) + "\n")
    write("single.decodes", "\n".join(p) + "\n")
    # three shards: glob + sorted pairing; CRLF in one, no final newline in another
    for k, (sep, final) in enumerate([("\n", "\n"), ("\r\n", "\r\n"), ("\n", "")]):
        n = 15 + 5 * k
        write("shard%d.targets" % k, sep.join(sentence(rng) for _ in range(n)) + final)
        write("shard%d.decodes" % k, sep.join(sentence(rng) for _ in range(n)) + final)
    # multi-sentence records separated by '|||' (rougeLsum uses the newlines inside)
    write("multi.targets", "|||".join(summary(rng, rng.randint(1, 4)) for _ in range(30)) + "|||")
    write("multi.decodes", "|||".join(summary(rng, rng.randint(1, 4)) for _ in range(30)) + "|||")
    # one record; and empty files
    write("one.targets", "police rescued forty people from the flooded city\n")
    write("one.decodes", "the police said forty people were rescued\n")
    write("empty.targets", "")
    write("empty.decodes", "")
    # --split_summaries: one paragraph a line (CNN/DM highlights and article leads with the
    # newlines made spaces, and generated paragraphs), and '|||' records that keep newlines
    arts = []
    with open(os.path.join(ROOT, "datasets", "samples", "cnn_dailymail", "test.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            arts.append((r["highlights"], r["article"]))
    prng = random.Random(606)
    t = [h.replace("\n", " ") for h, _ in arts] + [make_punkt_fixtures.paragraph(prng).replace("\n", " ") for _ in range(60)]
    p = [" ".join(a.split(". ")[:3]) for _, a in arts] + [make_punkt_fixtures.paragraph(prng).replace("\n", " ")
                                                          for _ in range(60)]
    write("split.targets", "\n".join(t) + "\n")
    write("split.decodes", "\n".join(p) + "\n")
    write("splitml.targets", "|||".join(make_punkt_fixtures.paragraph(prng) for _ in range(50)) + "|||")
    write("splitml.decodes", "|||".join(make_punkt_fixtures.paragraph(prng) for _ in range(50)) + "|||")


CASES = [
    ("default", 0, ["--target_filepattern={D}/in/single.targets", "--prediction_filepattern={D}/in/single.decodes",
                    "--output_filename={OUT}"]),
    ("glob_stem_lsum", 7, ["--target_filepattern={D}/in/shard*.targets", "--prediction_filepattern={D}/in/shard?.decodes",
                           "--output_filename={OUT}", "--use_stemmer=true", "--rouge_types=rouge1,rougeLsum,rouge2"]),
    ("noaggregate_delim", 0, ["--target_filepattern", "{D}/in/multi.targets", "--prediction_filepattern",
                              "{D}/in/multi.decodes", "--output_filename", "{OUT}", "--noaggregate", "--use_stemmer",
                              "--delimiter=|||", "--rouge_types=rougeLsum,rougeL,rouge3"]),
    ("aggregate_delim", 12345, ["-target_filepattern={D}/in/multi.targets", "-prediction_filepattern={D}/in/multi.decodes",
                                "-output_filename={OUT}", "--nouse_stemmer", "--split_summaries=false",
                                "--delimiter=|||", "--rouge_types=rougeLsum,rouge1,rougeL"]),
    ("noaggregate_glob", 0, ["--target_filepattern={D}/in/shard[0-2].targets", "--prediction_filepattern={D}/in/shard*.decodes",
                             "--output_filename={OUT}", "--aggregate=False", "--use_stemmer=T"]),
    ("one_record", 3, ["--target_filepattern={D}/in/one.targets", "--prediction_filepattern={D}/in/one.decodes",
                       "--output_filename={OUT}", "--rouge_types=rouge1,rouge2,rouge9,rougeL,rougeLsum"]),
    ("empty", 0, ["--target_filepattern={D}/in/empty.targets", "--prediction_filepattern={D}/in/empty.decodes",
                  "--output_filename={OUT}"]),
    ("split_summaries", 5, ["--target_filepattern={D}/in/split.targets", "--prediction_filepattern={D}/in/split.decodes",
                            "--output_filename={OUT}", "--split_summaries=true", "--rouge_types=rougeLsum,rouge1,rougeL"]),
    ("split_noaggregate", 0, ["--target_filepattern={D}/in/split.targets", "--prediction_filepattern={D}/in/split.decodes",
                              "--output_filename={OUT}", "--split_summaries", "--noaggregate", "--use_stemmer",
                              "--rouge_types=rougeLsum"]),
    ("split_multiline", 0, ["--target_filepattern={D}/in/splitml.targets", "--prediction_filepattern={D}/in/splitml.decodes",
                            "--output_filename={OUT}", "--split_summaries", "--noaggregate", "--delimiter=|||",
                            "--rouge_types=rougeLsum,rouge2"]),
]


def run_cli(seed, args, out):
    argv = [a.replace("{D}", OUT).replace("{OUT}", out) for a in args]
    if seed is None:
        cmd = [sys.executable, "-m", "rouge_score.rouge"] + argv
    else:
        cmd = [sys.executable, "-c", RUNNER, str(seed)] + argv
    subprocess.run(cmd, check=True, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, NLTK_DATA=NLTK_DATA))
    with open(out, encoding="utf-8") as f:
        return f.read()


NLTK_DATA = ""


def main():
    global NLTK_DATA
    NLTK_DATA = tempfile.mkdtemp()
    shutil.copytree(make_punkt_fixtures.TABLES, os.path.join(NLTK_DATA, "tokenizers", "punkt_tab", "english"),
                    ignore=shutil.ignore_patterns("LICENSE*", "README*"))
    make_inputs()
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, seed, args in CASES:
            out = os.path.join(tmp, name + ".csv")
            text = run_cli(seed, args, out)
            with open(os.path.join(OUT, name + ".csv"), "w", encoding="utf-8") as f:
                f.write(text)
            manifest.append({"name": name, "seed": seed, "args": args, "expected": name + ".csv"})
            if "--noaggregate" not in args and "--aggregate=False" not in args and text.count("\n") > 1:
                # unseeded: same header and row names, only numbers may differ
                plain = run_cli(None, args, out)
                assert [r.split(",")[0] for r in plain.splitlines()] == [r.split(",")[0] for r in text.splitlines()]
            print("%-20s %d rows" % (name, text.count("\n")))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    shutil.rmtree(NLTK_DATA)


if __name__ == "__main__":
    main()
