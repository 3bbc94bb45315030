#!/usr/bin/env python3
"""make_tokenizer_fixtures.py - SentencePiece fixtures for tests/unit/test_tokenizer.c.

Writes tests/fixtures/tokenizer/:
  train_corpus.txt            generated English + French-ish text with digits (training input)
  test_corpus.txt             lines the C test encodes: Unicode, digits, whitespace runs, tabs,
                              emoji, CJK (byte fallback), empty lines, user-defined symbols
  {bpe,unigram}.model         trained by Debian's spm_train with Gemma-like settings
  {bpe,unigram}.ids           expected ids, one line per test line (spm_encode --output_format=id)
  {bpe,unigram}.bos_eos.ids   the same with spm_encode --extra_options=bos:eos

Every expected-ids file is produced twice, by the spm_encode CLI (C++ libsentencepiece 0.1.97)
and by the Python sentencepiece package; the script stops if they differ anywhere.

Gemma-like training settings: BPE/unigram, byte fallback, identity normalization, no extra
whitespace removal, no dummy prefix, digits split, whitespace-only pieces allowed, and the
Gemma special-id layout <pad>=0 <eos>=1 <bos>=2 <unk>=3 <mask>=4 ... <start_of_turn>=106
<end_of_turn>=107 (ids 5..105 are filled with <unused0>..<unused100> placeholders so that the
two turn markers land on the ids of the released vocabulary, spec t5gemma.md section 8).

Run (needs spm_train/spm_encode on PATH and the reference venv):
  /opt/refvenv/bin/python tests/reference/make_tokenizer_fixtures.py
"""
import os
import random
import subprocess
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "tokenizer"))
VOCAB = 1000
SEED = 20240611

USER_SYMBOLS = ["<mask>"] + ["<unused%d>" % i for i in range(101)] + \
    ["<start_of_turn>", "<end_of_turn>"]

EN_WORDS = """the a of to and in is was for on that with as by at from it this be are have
has had not but or which one all were we when your can said there use an each she do how
their if will up other about out many then them these so some her would make like him into
time look two more write go see number no way could people my than first water been call who
oil its now find long down day did get come made may part model river train city market
small large old new good great little right big high different following under last
language text token engine weather morning evening report table window garden kitchen
station letter answer question paper price number result system value order""".split()

FR_WORDS = """le la les un une des de du et est sont pour avec dans sur par pas plus mais
très été être avoir fait faire comme aussi bien où quand même après avant déjà encore
toujours jamais rien tout tous toute père mère frère sœur enfant école maison forêt
château fenêtre cœur français île hôpital théâtre élève été hiver printemps automne
garçon leçon façon reçu ça là voilà déçu naïf noël première deuxième troisième ville
marché rivière soleil matin soir journée café crème pâté gâteau fenêtre lumière""".split()

CODE_LINES = ["def f(x):", "    return x + 1", "    if x > 0:", "        x = x - 1",
              "for i in range(10):", "\tprint(i)", "\t\tcontinue", "x = [1, 2, 3]"]


def sentence(rng, words):
    n = rng.randint(4, 16)
    ws = [rng.choice(words) for _ in range(n)]
    if rng.random() < 0.5:
        ws.insert(rng.randrange(len(ws)), number(rng))
    s = " ".join(ws)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?", ";", ":"])


def number(rng):
    k = rng.randrange(7)
    if k == 0:
        return str(rng.randint(0, 99))
    if k == 1:
        return str(rng.randint(1900, 2030))
    if k == 2:
        return "%d,%02d €" % (rng.randint(1, 999), rng.randint(0, 99))
    if k == 3:
        return "$%d.%02d" % (rng.randint(1, 999), rng.randint(0, 99))
    if k == 4:
        return "%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59))
    if k == 5:
        return "%d%%" % rng.randint(0, 100)
    return "%d-%d-%d" % (rng.randint(1, 28), rng.randint(1, 12), rng.randint(1990, 2030))


def train_corpus(rng, n_lines=6000):
    lines = []
    for _ in range(n_lines):
        r = rng.random()
        if r < 0.45:
            lines.append(sentence(rng, EN_WORDS))
        elif r < 0.85:
            lines.append(sentence(rng, FR_WORDS))
        elif r < 0.95:
            lines.append(sentence(rng, EN_WORDS) + "  " + sentence(rng, FR_WORDS))
        else:
            lines.append(rng.choice(CODE_LINES))
    return lines


# Hand-written edge cases.  One line each (spm_encode is line based: no '\n' or '\r' inside).
EDGE_LINES = [
    "Hello world.",
    "",
    " leading space",
    "trailing space ",
    "   three leading spaces and    four inside",
    "\ttab at start\tand\tinside\t",
    "\t\t\t",
    "     ",
    "",
    "Digits 0123456789 and 3.14159, 1e-9, 2024-06-11, 12 345,67 €",
    "Français : élève, garçon, cœur, île, Noël, déjà-vu, ÇA VA ?",
    "Deutsch: Größe, Straße, Übermaß; Ελληνικά: καλημέρα; Русский: привет",
    "CJK 東京 北京 日本語のテキスト 한국어 文字",
    "Emoji 🙂😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
    "Arabic مرحبا and Hebrew שלום (right-to-left)",
    "Combining e\u0301 vs \u00e9, NBSP[\u00a0], ZWSP[\u200b], BOM[\ufeff], U+FFFD[\ufffd]",
    "Astral \U0010ffff \U0001d54f \U0001f9ea",
    "<start_of_turn>user\tWhat is 2+2?<end_of_turn><start_of_turn>model 4<end_of_turn>",
    "Fill the <mask> here <mask><mask>",
    "Literal control text <bos> <eos> <pad> <unk> is plain text",
    "    return x + 1",
    "def f(x):  # comment\twith\ttabs   ",
    "a" * 300,
    "‼ “quotes” ‘single’ — dash – en … ellipsis «guillemets»",
    "~!@#$%^&*()_+`-=[]{}|\\;':\",./<>?",
    " ",
    "x",
]


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            assert "\n" not in line and "\r" not in line, repr(line)
            f.write(line + "\n")


def train(kind, corpus):
    args = [
        "spm_train", "--input=" + corpus, "--model_prefix=" + os.path.join(OUT, kind),
        "--model_type=" + kind, "--vocab_size=%d" % VOCAB,
        "--byte_fallback=true", "--normalization_rule_name=identity",
        "--remove_extra_whitespaces=false", "--add_dummy_prefix=false",
        "--split_digits=true", "--allow_whitespace_only_pieces=true",
        "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3",
        "--pad_piece=<pad>", "--eos_piece=<eos>", "--bos_piece=<bos>", "--unk_piece=<unk>",
        "--user_defined_symbols=" + ",".join(USER_SYMBOLS),
        "--num_threads=1", "--minloglevel=2",
    ]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.remove(os.path.join(OUT, kind + ".vocab"))  # not needed; keeps the fixtures small


def cli_ids(model, corpus, extra):
    cmd = ["spm_encode", "--model=" + model, "--output_format=id", "--input=" + corpus]
    if extra:
        cmd.append("--extra_options=" + extra)
    out = subprocess.run(cmd, check=True, capture_output=True).stdout.decode("utf-8")
    lines = out.split("\n")
    assert lines[-1] == "", "spm_encode output must end with a newline"
    return [[int(t) for t in line.split()] for line in lines[:-1]]


def check_model(sp, kind):
    want = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 4: "<mask>",
            106: "<start_of_turn>", 107: "<end_of_turn>"}
    for i, piece in want.items():
        assert sp.id_to_piece(i) == piece, (kind, i, sp.id_to_piece(i))
    assert (sp.pad_id(), sp.eos_id(), sp.bos_id(), sp.unk_id()) == (0, 1, 2, 3)
    assert sp.get_piece_size() == VOCAB


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    train_path = os.path.join(OUT, "train_corpus.txt")
    write_lines(train_path, train_corpus(rng))
    test_lines = EDGE_LINES + train_corpus(random.Random(SEED + 1), 40)
    test_path = os.path.join(OUT, "test_corpus.txt")
    write_lines(test_path, test_lines)

    for kind in ("bpe", "unigram"):
        train(kind, train_path)
        model = os.path.join(OUT, kind + ".model")
        sp = spm.SentencePieceProcessor(model_file=model)
        check_model(sp, kind)
        for extra, suffix in (("", ".ids"), ("bos:eos", ".bos_eos.ids")):
            ref = cli_ids(model, test_path, extra)
            bos_eos = bool(extra)
            py = [sp.encode(t, add_bos=bos_eos, add_eos=bos_eos) for t in test_lines]
            assert len(ref) == len(test_lines), (kind, len(ref), len(test_lines))
            for n, (a, b) in enumerate(zip(ref, py)):
                if a != b:
                    sys.exit("%s line %d: spm_encode %s != python %s" % (kind, n + 1, a, b))
            write_lines(os.path.join(OUT, kind + suffix), [" ".join(map(str, v)) for v in ref])
        # Sanity: the edge cases really exercise byte fallback and the user-defined symbols.
        flat = [i for v in cli_ids(model, test_path, "") for i in v]
        assert any(sp.is_byte(i) for i in flat), kind
        assert 106 in flat and 107 in flat and 4 in flat, kind
        for t in test_lines:
            assert sp.decode(sp.encode(t)) == t, (kind, t)
        print("%s: %d lines, %d ids, spm_encode == python" % (kind, len(test_lines), len(flat)))


if __name__ == "__main__":
    main()
