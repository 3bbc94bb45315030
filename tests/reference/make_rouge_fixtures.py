#!/usr/bin/env python3
"""make_rouge_fixtures.py - fixtures for tests/unit/test_porter.c and tests/unit/test_rouge.c,
made with the REAL rouge-score 0.1.2 and NLTK.

Writes tests/fixtures/rouge/:
  porter_words.tsv        "word<TAB>nltk stem" for ~30k words: every [a-z]+ word of
                          /usr/share/dict/* (if present) and of the Python standard library's
                          sources, words built from roots x Porter suffixes, random letter
                          strings (vowel/y heavy), digit mixes, NLTK's irregular forms.
                          Stems from nltk.stem.porter.PorterStemmer() (NLTK_EXTENSIONS).
  parity.targets.jsonl    one JSON string per line (random + adversarial examples:
  parity.predictions.jsonl  Unicode, punctuation, numbers, empty strings, multi-sentence
                          summaries with "\\n", very long texts, tokens that stem, LCS ties)
  parity.expected.tsv     per example: repr() of P R F for every type in TYPES, first with
                          use_stemmer=False, then True (column names in the '#' header)
  parity.targets.txt      the first TEXT_SUBSET examples in the CLI's plain-text format
  parity.predictions.txt    (\\n escape for newline, \\\\ for backslash)
  bootstrap.tsv           BootstrapAggregator alone: 600 rows of 2 types x (P,R,F) (random
                          fractions, 0s and 1s) and, per case "seed n_samples ci n_rows",
                          low/mid/high after numpy.random.seed(seed) (numpy percentile edges:
                          ci 0 and 1, n_samples 1, 1000, and three cases found by search in
                          which numpy's two-sided lerp differs from a plain a + (b-a)*g)
  cli_cases.json          [{"args": [...], "expected": file}] - `t5g score rouge` runs and the
  cli_*.txt / cli_*.json    exact output Python gives for them (means as T5's rouge_mean:
                          `+=` then / count; bootstrap = numpy.random.seed(S) then
                          scoring.BootstrapAggregator(ci, n).aggregate())

Optional benchmark input (not committed):
  --bench DIR   writes DIR/targets.jsonl, DIR/predictions.jsonl: 11,490 synthetic CNN/DM-sized
                pairs (~55 target / ~60 prediction words, sentences split by "\\n"), times
                rouge-score on them (rouge1,rouge2,rougeL,rougeLsum, use_stemmer=True) and
                writes DIR/expected.txt (the CLI text output) and DIR/python_seconds.txt.

Run:  /opt/refvenv/bin/python tests/reference/make_rouge_fixtures.py [--bench DIR]
"""
import glob
import json
import os
import random
import re
import sys
import sysconfig
import time

import numpy as np
from nltk.stem import porter
from rouge_score import rouge_scorer, scoring

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "rouge"))
SEED = 20240612
TYPES = ["rouge1", "rouge2", "rouge9", "rougeL", "rougeLsum"]
N_EXAMPLES = 3000
TEXT_SUBSET = 400
N_PORTER = 30000

ROOTS = """run walk talk jump cat dog house city nation relate general condition valence hesitate
digit conform radical different vile analog vietnam predicate operate feudal decide hope call
formal sensitive sense triple form electric good revive allow infer airline gyroscope adjust
defend irritate replace depend adopt homolog commune activate angular effect bowdler probate
rate cease control roll agree feed plaster bleed motor sing conflate trouble size hop tan fall
hiss fizz fail file happy sky enjoy spy fly try die lie tie news inning outing canning proceed
exceed succeed geology archaeology easy owe ow sing king thing report market govern president
state police people year week month percent company minister country world family child woman
man school student teacher win lose score play game team season club final match goal player
fight attack kill injure arrest charge court judge trial prison officer victim hospital doctor
treat drug cure disease cancer patient study research science scientist discover find show say
tell ask answer write read speak hear listen watch look see move live love leave stay travel
visit build create produce sell buy pay cost price money bank economy business industry energy
power oil gas water food farm land sea river mountain weather storm rain flood fire destroy
damage cause effect reason result increase decrease rise drop grow develop change improve
""".split()

SUFFIXES = """s es ed ing ly er est ness ful fully ation ational tional ization izer ize ise
ism ist ity iti aliti iviti biliti ible able ably abli bli alli entli eli ousli ator alism
iveness fulness ousness icate ative alize iciti ical al ance ence ement ment ent ion ou ous
ive ate at bl iz ies ied eed y ying ings logy logi ology ies sses ss e ee ll ally ically
ations ingly edly ers ments ional ionally ic ics""".split()

WORD_RE = re.compile(r"[a-z]+")


def stdlib_words(limit=60000):
    """Lower-case ASCII words from /usr/share/dict and the Python standard library sources."""
    words = set()
    for path in sorted(glob.glob("/usr/share/dict/*")):
        try:
            with open(path, encoding="utf-8", errors="ignore") as f:
                words.update(w for w in WORD_RE.findall(f.read().lower()))
        except (OSError, IsADirectoryError):
            pass
    lib = sysconfig.get_paths()["stdlib"]
    for path in sorted(glob.glob(os.path.join(lib, "**", "*.py"), recursive=True)):
        if len(words) >= limit:
            break
        try:
            with open(path, encoding="utf-8", errors="ignore") as f:
                words.update(WORD_RE.findall(f.read().lower()))
        except OSError:
            pass
    return sorted(words)


def porter_word_list(rng):
    nat = stdlib_words()
    rng.shuffle(nat)
    words = set(nat[:16000])
    for _ in range(9000):
        w = rng.choice(ROOTS)
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            w += rng.choice(SUFFIXES)
        words.add(w)
    letters = "aeiouyyybcdfghlmnprstvwxzklss"
    for _ in range(5000):
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(1, 14))))
    for _ in range(600):
        words.add("".join(rng.choice("0123456789aeiosyl") for _ in range(rng.randint(1, 9))))
    words.update(["sky", "skies", "dying", "lying", "tying", "news", "innings", "inning",
                  "outings", "outing", "cannings", "canning", "howe", "proceed", "exceed",
                  "succeed", "y", "yy", "yyy", "yyyy", "yyyyyyyyyyyyyyyyyyyy", "ied", "eed",
                  "ing", "ies", "sses", "a", "is", "as", "us", "ss", "1990s", "1,000",
                  "hopefully", "geology", "archaeology", "enjoy", "owed", "dies", "died",
                  "spied", "happy", "running", "agreed", "controlling", "relational",
                  "generalization", "sensibility", "easily", "feed", "bled", "sing", "fizzed",
                  "failing", "filing", "conflated", "troubled", "sized", "hopping", "tanned",
                  "falling", "hissing", "radicallli", "formalli", "conditionalli"])
    words = sorted(w for w in words if "," not in w)
    rng.shuffle(words)
    return sorted(words[:N_PORTER])


# ---------- ROUGE examples ----------

UNI = ["Café", "naïve", "İstanbul", "\u212a", "\u212aelvin", "ǅemal", "straße", "ﬁne", "Ⅻ",
       "ＡＢＣ", "١٢٣", "ΣΟΦΙΑ", "όσος", "東京", "😀", "e\u0301", "\u00a0", "\u200b", "\u2028",
       "\u0085", "\r", "\t", "\x00", "\x1f", "\ufeff", "Ǆ", "ǈ", "Å", "Ω", "\u0130", "i\u0307",
       "ｋ", "\u2126", "ß", "Ⓐ", "𝐀", "№", "½", "²", "™"]
PUNCT = ["$1,000.", "K-9", "e.g.", "don't", "U.S.A.", "snake_case", "a--b", "...", "\\n",
         "\\", "3.14", "1,000.50", "3.5%", "(", ")", "“quoted”", "—", "-", "'", "\"", "#tag",
         "@user", "a/b", "<b>", "&amp;", "x=1", "2014.", "10:30", "+44", "100%"]


def english_vocab(words):
    vocab = [w for w in words if w.isalpha() and 2 <= len(w) <= 12]
    random.Random(SEED + 2).shuffle(vocab)
    return vocab[:3000] + ["the", "a", "of", "to", "and", "in", "is", "was", "he", "she", "it",
                           "dies", "died", "running", "runs", "ran", "cats", "cat", "geology"]


def sentence(rng, vocab, n):
    ws = [rng.choice(vocab) for _ in range(n)]
    if rng.random() < 0.3:
        ws[rng.randrange(n)] = rng.choice(PUNCT)
    if rng.random() < 0.5:
        ws[0] = ws[0].capitalize()
    if rng.random() < 0.1:
        ws = [w.upper() for w in ws]
    return " ".join(ws) + rng.choice([" .", ".", "!", "?", "", " ,", ";"])


def mutate(rng, text, vocab):
    sents = text.split("\n")
    out = []
    for s in sents:
        ws = s.split(" ")
        r = rng.random()
        if r < 0.15:
            continue
        for _ in range(rng.randint(0, 4)):
            op = rng.random()
            if op < 0.3 and ws:
                del ws[rng.randrange(len(ws))]
            elif op < 0.6:
                ws.insert(rng.randint(0, len(ws)), rng.choice(vocab))
            elif op < 0.8 and ws:
                ws[rng.randrange(len(ws))] = rng.choice(vocab)
            elif ws:
                i = rng.randrange(len(ws))
                ws[i] = ws[i] + rng.choice(["s", "ed", "ing", "ly", "ness", ""])
        out.append(" ".join(ws))
    if rng.random() < 0.4:
        rng.shuffle(out)
    if rng.random() < 0.3:
        out.append(sentence(rng, vocab, rng.randint(2, 12)))
    return rng.choice(["\n", "\n", " ", "\n\n", " \n"]).join(out)


def summary(rng, vocab, k):
    return "\n".join(sentence(rng, vocab, rng.randint(1, 18)) for _ in range(k))


def gen_examples(rng, vocab):
    ex = []
    # LCS tie stress: tiny vocabulary, several sentences
    for _ in range(700):
        def tiny():
            return "\n".join(" ".join(rng.choice("abcde") for _ in range(rng.randint(0, 10)))
                             for _ in range(rng.randint(1, 4)))
        ex.append((tiny(), tiny()))
    # English-like summaries and mutated predictions
    for _ in range(1500):
        t = summary(rng, vocab, rng.randint(1, 5))
        ex.append((t, mutate(rng, t, vocab) if rng.random() < 0.85 else summary(rng, vocab, 3)))
    # Unicode and punctuation soup
    pool = UNI + PUNCT + vocab[:200]
    for _ in range(600):
        def soup():
            n = rng.randint(0, 25)
            return "".join(rng.choice(pool) + rng.choice([" ", "", "\n", " ", "-"]) for _ in range(n))
        t = soup()
        ex.append((t, soup() if rng.random() < 0.5 else mutate(rng, t, pool)))
    # empties, whitespace-only, identical, repeats
    odd = ["", " ", "\n", "\n\n", ".", "\r\n", "\t \u3000", "...\n!!!", "a", "A\nB", "the"]
    for a in odd:
        for b in odd[:6]:
            ex.append((a, b))
    for _ in range(40):
        t = summary(rng, vocab, rng.randint(1, 4))
        ex.append((t, t))
    ex.append(("the the the the", "the the cat"))
    ex.append(("the " * 300, "the " * 200 + "cat"))
    # very long texts
    for k in range(8):
        t = summary(rng, vocab, rng.randint(60, 120)) if k % 2 else " ".join(rng.choice(vocab[:300]) for _ in range(1500))
        ex.append((t, mutate(rng, t, vocab)))
    # the spec's hand-checked cases
    ex += [("testing one two", "testing"), ("The cats are running quickly.", "the cat runs quick"),
           ("a b c\nd e f", "d e f\na b c"), ("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"),
           ("Café au lait", "cafe au lait"), ("It cost $1,000.", "it cost 1000"),
           ("the the cat", "the the the the"), ("hello", "hello"), ("w1 w2 w3", ""),
           ("He dies; she died.", "he died, she dies"), ("x y z\nx y", "y x\nz y x"),
           ("First sentence.\nSecond Sentence.", "Second sentence.\nFirst Sentence.")]
    rng.shuffle(ex)
    return ex[:N_EXAMPLES]


def score_all(examples, types, stem):
    sc = rouge_scorer.RougeScorer(types, use_stemmer=stem)
    return [sc.score(t, p) for t, p in examples]


def means(scores, types):
    """T5 rouge_mean style: `+=` from 0.0 in example order, then / count."""
    out = {}
    for k in types:
        acc = [0.0, 0.0, 0.0]
        for s in scores:
            acc[0] += s[k].precision
            acc[1] += s[k].recall
            acc[2] += s[k].fmeasure
        out[k] = [a / len(scores) for a in acc]
    return out


def bootstrap(scores, seed, n, ci):
    np.random.seed(seed)
    agg = scoring.BootstrapAggregator(confidence_interval=ci, n_samples=n)
    for s in scores:
        agg.add_scores(s)
    return agg.aggregate()


def report(examples, types, stem, fmt, boot=None):
    """What `t5g score rouge` prints (rouge.h documents the format)."""
    scores = score_all(examples, types, stem)
    mean = means(scores, types)
    agg = bootstrap(scores, *boot) if boot else None
    if fmt == "json":
        d = {"examples": len(examples), "use_stemmer": stem,
             "scores": {k: {"precision": m[0], "recall": m[1], "fmeasure": m[2]} for k, m in mean.items()}}
        if boot:
            d["bootstrap"] = {"n_samples": boot[1], "seed": boot[0], "confidence_interval": boot[2],
                              "scores": {k: {w: dict(getattr(agg[k], w)._asdict()) for w in ("low", "mid", "high")}
                                         for k in types}}
        return json.dumps(d, indent=1) + "\n"
    lines = []
    for k in types:
        rows = [("mean", mean[k])]
        if boot:
            rows += [(w, list(getattr(agg[k], w))) for w in ("low", "mid", "high")]
        for w, (p, r, f) in rows:
            lines.append("%s %s P %r R %r F %r" % (k, w, float(p), float(r), float(f)))
    return "\n".join(lines) + "\n"


def boot_case(rows, seed, n, ci, nrows):
    np.random.seed(seed)
    agg = scoring.BootstrapAggregator(confidence_interval=ci, n_samples=n)
    for r in rows[:nrows]:
        agg.add_scores({"a": scoring.Score(*r[0:3]), "b": scoring.Score(*r[3:6])})
    res = agg.aggregate()
    return [float(v) for k in ("a", "b") for w in ("low", "mid", "high") for v in getattr(res[k], w)]


def other_lerp_differs(rows, seed, n, ci, nrows, vals):
    """Would percentiles computed as a + (b-a)*g everywhere (not numpy's b - (b-a)*(1-g) for
    g >= 0.5) differ?  Used to keep cases that pin down numpy's interpolation branch."""
    np.random.seed(seed)
    alt = []
    for t in range(2):
        m = np.array([r[3 * t:3 * t + 3] for r in rows[:nrows]])
        means = np.array([np.mean(m[np.random.choice(np.arange(nrows), size=nrows), :], axis=0)
                          for _ in range(n)])
        d = (1 - ci) / 2
        for q in 100 * np.array([d, 0.5, 1 - d]) / 100:
            for c in range(3):
                x = np.sort(means[:, c])
                vi = (n - 1) * q
                i = int(np.floor(vi))
                alt.append(float(x[-1]) if vi >= n - 1 else float(x[i] + (x[i + 1] - x[i]) * (vi - i)))
    return alt != vals


def make_bootstrap_fixture(rng):
    def wide():  # spread over magnitudes so the interpolation branch shows in the last bits
        k = rng.random()
        return 0.0 if k < 0.2 else 1.0 if k < 0.3 else rng.random() * 10.0 ** -rng.randint(0, 12)
    rows = [[wide() for _ in range(6)] for _ in range(8)]
    for _ in range(592):
        r = []
        for _ in range(2):
            k = rng.random()
            if k < 0.15:
                r += [0.0, 0.0, 0.0]
            elif k < 0.25:
                r += [1.0, 1.0, 1.0]
            else:
                p, q = rng.randint(0, 40) / rng.randint(40, 80), rng.random()
                r += [p, q, scoring.fmeasure(p, q)]
        rows.append(r)
    cases = [(0, 1000, 0.95, 600), (1, 37, 0.95, 600), (2, 1, 0.95, 600), (3, 200, 1.0, 600),
             (4, 200, 0.0, 600), (5, 64, 0.5, 333), (4294967295, 10, 0.99, 2), (6, 500, 0.8, 1),
             (123456789, 1000, 0.95, 123)]
    seed, found = 1000, 0
    while found < 3:
        if other_lerp_differs(rows, seed, 25, 0.9, 5, boot_case(rows, seed, 25, 0.9, 5)):
            cases.append((seed, 25, 0.9, 5))
            found += 1
        seed += 1
    out = ["#rows %d" % len(rows)] + ["\t".join(repr(v) for v in r) for r in rows]
    for seed, n, ci, nrows in cases:
        out.append("#case %d %d %r %d" % (seed, n, ci, nrows))
        out.append("\t".join(repr(v) for v in boot_case(rows, seed, n, ci, nrows)))
    write(os.path.join(OUT, "bootstrap.tsv"), "\n".join(out) + "\n")


def escape_text(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_jsonl(path, items):
    write(path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items))


def make_fixtures():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    words = porter_word_list(rng)
    st = porter.PorterStemmer()
    write(os.path.join(OUT, "porter_words.tsv"), "".join("%s\t%s\n" % (w, st.stem(w)) for w in words))

    examples = gen_examples(rng, english_vocab(words))
    write_jsonl(os.path.join(OUT, "parity.targets.jsonl"), [t for t, _ in examples])
    write_jsonl(os.path.join(OUT, "parity.predictions.jsonl"), [p for _, p in examples])
    cols = ["%s:%s-%s" % (m, k, x) for m in ("nostem", "stem") for k in TYPES for x in "PRF"]
    rows = [[] for _ in examples]
    for stem in (False, True):
        for i, s in enumerate(score_all(examples, TYPES, stem)):
            rows[i] += [repr(float(v)) for k in TYPES for v in s[k]]
    write(os.path.join(OUT, "parity.expected.tsv"),
          "#" + "\t".join(cols) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    sub = examples[:TEXT_SUBSET]
    write(os.path.join(OUT, "parity.targets.txt"), "".join(escape_text(t) + "\n" for t, _ in sub))
    write(os.path.join(OUT, "parity.predictions.txt"), "".join(escape_text(p) + "\n" for _, p in sub))

    J = "parity.%s.jsonl"
    cases = [
        ("cli_text_stem.txt", examples, ["rouge1", "rouge2", "rougeL", "rougeLsum"], True, "text", None,
         ["--stem"]),
        ("cli_json_boot.json", examples, ["rouge1", "rouge2", "rougeLsum"], False, "json", (7, 200, 0.95),
         ["--types", "rouge1,rouge2,rougeLsum", "--bootstrap", "200", "--seed", "7", "--format", "json"]),
        ("cli_text_boot.txt", examples, ["rougeLsum", "rouge1", "rouge4"], True, "text",
         (4294967295, 100, 0.9),
         ["--types", "rougeLsum,rouge1,rouge4", "--stem", "--bootstrap", "100", "--seed", "4294967295",
          "--confidence", "0.9"]),
        ("cli_textinput.txt", sub, ["rouge1", "rouge2", "rougeL", "rougeLsum"], False, "text", (0, 50, 0.95),
         ["--bootstrap", "50"]),
    ]
    manifest = []
    for name, exs, types, stem, fmt, boot, args in cases:
        write(os.path.join(OUT, name), report(exs, types, stem, fmt, boot))
        ext = "txt" if exs is sub else "jsonl"
        inputs = ["--targets", "parity.targets." + ext, "--predictions", "parity.predictions." + ext]
        manifest.append({"args": inputs + args, "expected": name})
    write(os.path.join(OUT, "cli_cases.json"), json.dumps(manifest, indent=1) + "\n")
    make_bootstrap_fixture(rng)
    print("wrote", OUT, "(%d porter words, %d ROUGE examples)" % (len(words), len(examples)))


def make_bench(d):
    rng = random.Random(SEED + 1)
    vocab = english_vocab(porter_word_list(random.Random(SEED)))[:2500]
    tgts, preds = [], []
    for _ in range(11490):
        def summ(nw):
            ws = [rng.choice(vocab) for _ in range(nw)]
            cuts = sorted(rng.sample(range(8, nw - 4), 3))
            parts = [ws[a:b] for a, b in zip([0] + cuts, cuts + [nw])]
            return "\n".join(" ".join(p) + " ." for p in parts)
        t = summ(rng.randint(45, 65))
        tw = t.replace("\n", " ").split()
        pw = [w if rng.random() < 0.5 else rng.choice(vocab) for w in tw[:rng.randint(50, 70)]]
        pw += [rng.choice(vocab) for _ in range(max(0, rng.randint(50, 70) - len(pw)))]
        cut = sorted(rng.sample(range(8, len(pw) - 4), 3))
        preds.append("\n".join(" ".join(pw[a:b]) for a, b in zip([0] + cut, cut + [len(pw)])))
        tgts.append(t)
    os.makedirs(d, exist_ok=True)
    write_jsonl(os.path.join(d, "targets.jsonl"), tgts)
    write_jsonl(os.path.join(d, "predictions.jsonl"), preds)
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    t0, c0 = time.perf_counter(), time.process_time()
    scores = score_all(list(zip(tgts, preds)), types, True)
    mean = means(scores, types)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    write(os.path.join(d, "expected.txt"),
          "".join("%s mean P %r R %r F %r\n" % (k, *mean[k]) for k in types))
    write(os.path.join(d, "python_seconds.txt"), "wall %.3f cpu %.3f\n" % (secs, cpu))
    print("rouge-score 0.1.2 (Python): %.3f s wall, %.3f s CPU for %d pairs" % (secs, cpu, len(tgts)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        make_bench(sys.argv[2])
    elif len(sys.argv) == 1:
        make_fixtures()
    else:
        sys.exit(__doc__)
