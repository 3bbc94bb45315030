#!/usr/bin/env python3
"""make_chrf_ter_fixtures.py - parity fixtures for eval/chrf.c and eval/ter.c (sacreBLEU 2.6.0).

Expected values come from the real sacreBLEU 2.6.0 run here: its API (CHRF, TER,
TercomTokenizer, lib_ter.translation_edit_rate) for thousands of cases built from the BLEU
test corpora (tests/fixtures/bleu/pool.jsonl + corpus.jsonl, made by
make_bleu_squad_fixtures.py) and from hand-made edge cases, and the `sacrebleu` program for
the command-line cases (files in tests/fixtures/bleu/cli, stdin included).
Run with CPython 3.11 and `pip install sacrebleu==2.6.0`:

  python3 tests/reference/make_chrf_ter_fixtures.py [chrf] [ter] [tok] [cli]   (default: all)

Writes (deterministic, seeded), in tests/fixtures/bleu/:
  chrf.jsonl      CHRF sentence_score / corpus_score: options, texts (pool index or inline
                  string; null = None reference; or "corpus": line of corpus.jsonl),
                  repr(score), summed statistics, text line (long and short signature), JSON
  ter.jsonl       TER likewise (repr(score), num_edits, repr(ref_length)); its last ~300 rows
                  are random repeated-word cases (retok_cases) with tokens that --normalized
                  splits again on sacreBLEU's second tokenization of the references
  ter_tok.jsonl   TercomTokenizer outputs and translation_edit_rate of token lists
  cli/chrf_ter_cases.json  stdout / exit status of `sacrebleu -m chrf|ter ...` (key "stdin":
                  the file piped in instead of -i; "dash_i": t5g is also given `-i -`)
"""
import json
import logging
import os
import random
import subprocess
import sys

import sacrebleu
from sacrebleu.metrics import CHRF, TER
from sacrebleu.metrics.lib_ter import translation_edit_rate
from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer

logging.getLogger('sacrebleu').setLevel(logging.ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
BDIR = os.path.join(ROOT, 'tests', 'fixtures', 'bleu')
SACREBLEU = os.path.join(os.path.dirname(sys.executable), 'sacrebleu')
assert sacrebleu.__version__ == '2.6.0', sacrebleu.__version__
assert sys.version_info[:2] == (3, 11), 'run with CPython 3.11'

N_SENTENCE = 1200   # per metric
N_TOK = 1500
MAX_TER_WORDS = 150      # TER sentence cases: hypotheses up to this many words
MAX_TER_SEGMENTS = 100   # TER corpus cases: corpora up to this many segments

# Hand-made edge cases: (hypotheses, reference streams)
CJK = '我们今天去北京。他说：“你好！”　東京は晴れです、ありがとう。カタカナ・ひらがなテスト（括弧）'
EDGE = [
    ([''], [['']]),
    ([''], [['a reference']]),
    (['a hypothesis'], [['']]),
    (['   '], [['  \t ']]),
    (['a b', '', 'c'], [['a b', 'x', ''], ['a c', None, 'c d']]),
    (['hello, world!'], [['hello world'], ['Hello, World!'], ['(hello) world.']]),
    (['(hi) "quoted" it\'s end.'], [['( hi ) " quoted " it \' s end .']]),
    (['…well—yes «non» ¿qué? 「カギ」 “curly” ‘single’ ١٢٣!'], [['...well - yes « non » ¿ qué ? 「 カギ 」 " curly " \' single \' ١٢٣ !']]),
    (['x. y, z! .. ,, !? a'], [['x y z a']]),
    (['İstanbul ΣΟΦΟΣ ẞ ǅ'], [['istanbul σοφος ß ǆ']]),
    (['naïve café a\u0301 e\u0301'], [['naive cafe á é']]),
    ([CJK], [['我们 今天 去 北京 。 他说 ： “ 你好 ！ ” 東京 は 晴れ です 、 ありがとう 。']]),
    (['中文分词测试，没有空格。'], [['中文 分词 测试 ， 没有 空格 。']]),
    (['&quot;a&quot; &amp; b &lt;c&gt; it\'s John\'s 3.5 1,000 x.y 5-6 a-b'],
     [['"a" & b <c> it is John \'s 3.5 1,000 x . y 5 - 6 a-b']]),
    (['e f g h a b c d i j k'], [['a b c d e f g h i j k']]),
    (['k j i h g f e d c b a'], [['a b c d e f g h i j k']]),
    (['one'], [[' '.join('w%d' % i for i in range(200))]]),
    ([' '.join('w%d' % i for i in range(200))], [['w5 w7']]),
    (['the cat sat on the mat the cat'], [['the mat sat on the cat'], ['on the mat the cat sat']]),
    (['a\u00a0b\u2009c\u3000d\u2028e\x1cf'], [['a b c d e f']]),
    (['emoji 👍🏽 test 🇩🇪'], [['emoji 👍 test 🇩🇪']]),
]


def long_shift_cases(rng):
    """Long segments where shifts, the 50-position limit and the 1000-candidate cap matter."""
    cases = []
    vocab = ['w%d' % i for i in range(40)]
    for n in (30, 60, 90, 140):
        ref = [rng.choice(vocab) for _ in range(n)]
        hyp = list(ref)
        for _ in range(4):  # move blocks far away
            a = rng.randrange(n - 8)
            block = hyp[a:a + rng.randint(2, 8)]
            del hyp[a:a + len(block)]
            b = rng.randrange(len(hyp))
            hyp[b:b] = block
        for _ in range(n // 10):
            hyp[rng.randrange(n)] = rng.choice(vocab)
        cases.append(([' '.join(hyp)], [[' '.join(ref)]]))
    ref = ' '.join('x%d' % (i % 7) for i in range(120))
    cases.append(([' '.join(reversed(ref.split()))], [[ref]]))
    return cases


RETOK_VOCAB = ['the', 'a', 'cat', 'sat', 'on', 'mat', 'The', '.', ',', 'a..1', 'x.,y', '3.5', "it's",
               "John's's", '(x)', '1-2', '1--2', '&amp;amp;', '&quot;', 'N.Y.', '!', '1,000', '東京。', 'ẞ']


def retok_cases(rng):
    """Repeated words and tokens that --normalized splits further on a second pass: sacreBLEU
    tokenizes references twice (Metric._cache_references, then TER._extract_reference_info)."""
    cases = [(['a..1 b'], [['a..1 b'], ['x y']]), (['a . .1'], [['a..1']]), (["it's's"], [["it's's"]])]
    for k in range(300):
        few = rng.sample(RETOK_VOCAB, rng.randint(3, 10))
        ref = [rng.choice(few) for _ in range(rng.randint(1, 30))]
        hyp = list(ref)
        for _ in range(rng.randint(0, 3)):  # block moves and substitutions
            if len(hyp) > 2:
                a = rng.randrange(len(hyp) - 1)
                block = hyp[a:a + rng.randint(1, 6)]
                del hyp[a:a + len(block)]
                b = rng.randrange(len(hyp) + 1)
                hyp[b:b] = block
            if hyp and rng.random() < 0.5:
                hyp[rng.randrange(len(hyp))] = rng.choice(RETOK_VOCAB)
        refs = [[' '.join(ref)]] + ([[' '.join(rng.sample(ref, len(ref)))]] if k % 2 else [])
        if k % 10 == 9:  # a three-segment corpus
            cases.append(([' '.join(hyp), ' '.join(ref), ''], [r + [' '.join(hyp), 'a..1'] for r in refs]))
        else:
            cases.append(([' '.join(hyp)], refs))
    return cases


def load_jsonl(name):
    with open(os.path.join(BDIR, name), encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def text(pool, x):
    return x if isinstance(x, str) or x is None else pool[x]


def rand_chrf_opts(rng):
    return {'nc': rng.choice([6, 6, 6, 1, 2, 4, 8]), 'nw': rng.choice([0, 0, 2, 2, 1, 3]),
            'beta': rng.choice([2, 2, 2, 0, 1, 3]), 'lc': rng.random() < 0.3,
            'ws': rng.random() < 0.2, 'eps': rng.random() < 0.15, 'width': rng.choice([1, 2, 4, 17])}


def rand_ter_opts(rng):
    return {'norm': rng.random() < 0.5, 'nopunct': rng.random() < 0.3, 'asian': rng.random() < 0.3,
            'case': rng.random() < 0.3, 'width': rng.choice([1, 2, 4, 17])}


def chrf_metric(o):
    return CHRF(char_order=o['nc'], word_order=o['nw'], beta=o['beta'], lowercase=o['lc'],
                whitespace=o['ws'], eps_smoothing=o['eps'])


def ter_metric(o):
    return TER(normalized=o['norm'], no_punct=o['nopunct'], asian_support=o['asian'],
               case_sensitive=o['case'])


def record(kind, m, o, hyps, streams, pool, sentence):
    """One case: texts, options, the score and its printed forms."""
    h = [text(pool, x) for x in hyps]
    rs = [[text(pool, x) for x in st] for st in streams]
    if sentence:
        s = m.sentence_score(h[0], [st[0] for st in rs])
        stats = m._extract_corpus_statistics([h[0]], [[st[0]] for st in rs])
    else:
        s = m.corpus_score(h, rs)
        stats = m._extract_corpus_statistics(h, rs)
    sig = m.get_signature()
    row = dict(o, hyps=hyps, refs=streams, sentence=sentence, score=repr(s.score),
               text=s.format(o['width'], False, sig.format(False)),
               short=s.format(o['width'], False, sig.format(True)))
    if not sentence:  # the CLI prints JSON only for whole corpora
        row['json'] = s.format(o['width'], False, sig.format(False), True)
    tot = [sum(col) for col in zip(*stats)]
    if kind == 'chrf':
        row['stats'] = [int(v) for v in tot]
        assert s.name == 'chrF%d' % o['beta'] + '+' * o['nw']
    else:
        row['edits'] = s.num_edits
        row['ref_length'] = repr(s.ref_length)
    return row


def make_metric(kind, rng, pool, corpus):
    rand_opts, metric = (rand_chrf_opts, chrf_metric) if kind == 'chrf' else (rand_ter_opts, ter_metric)
    rows = []
    while len(rows) < N_SENTENCE:  # one segment of a corpus case with its references
        c = rng.choice(corpus)
        i = rng.randrange(len(c['hyps']))
        if kind == 'ter' and len(text(pool, c['hyps'][i]).split()) > MAX_TER_WORDS:
            continue  # lib_ter.py in Python needs minutes for the longest segments
        streams = [[st[i]] for st in c['refs'] if st[i] is not None]
        o = rand_opts(rng)
        rows.append(record(kind, metric(o), o, [c['hyps'][i]], streams, pool, True))
    for k, c in enumerate(corpus):  # whole corpus cases, named by their line in corpus.jsonl
        if kind == 'ter' and len(c['hyps']) > MAX_TER_SEGMENTS:
            continue
        o = rand_opts(rng)
        row = record(kind, metric(o), o, c['hyps'], c['refs'], pool, False)
        del row['hyps'], row['refs']
        rows.append(dict(row, corpus=k))
    for hyps, streams in EDGE + long_shift_cases(random.Random(5)):
        for _ in range(3):
            o = rand_opts(rng)
            rows.append(record(kind, metric(o), o, hyps, streams, pool, False))
            if len(hyps) == 1:
                rows.append(record(kind, metric(o), o, hyps, streams, pool, True))
    if kind == 'ter':  # own generators: the rows above stay as they were
        opt_rng = random.Random(18)
        for hyps, streams in retok_cases(random.Random(6)):
            o = rand_ter_opts(opt_rng)
            rows.append(record(kind, metric(o), o, hyps, streams, pool, len(hyps) == 1))
    with open(os.path.join(BDIR, kind + '.jsonl'), 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print('%s: %d cases' % (kind, len(rows)))


def make_ter_tok(rng, pool):
    rows = []
    texts = rng.sample(pool, N_TOK) + [h for hs, _ in EDGE for h in hs] + [CJK, CJK.lower() + ' x.y,z']
    for t in texts:
        o = rand_ter_opts(rng)
        tok = TercomTokenizer(normalized=o['norm'], no_punct=o['nopunct'], asian_support=o['asian'],
                              case_sensitive=o['case'])
        rows.append({'in': t, 'norm': o['norm'], 'nopunct': o['nopunct'], 'asian': o['asian'],
                     'case': o['case'], 'out': tok(t.rstrip())})
    for hyps, streams in long_shift_cases(random.Random(5)) + [(['a b c d'], [['c d a b']])]:
        h, r = hyps[0].split(), streams[0][0].split()
        e, n = translation_edit_rate(h, r)
        rows.append({'hyp': hyps[0], 'ref': streams[0][0], 'edits': e, 'ref_words': n})
    with open(os.path.join(BDIR, 'ter_tok.jsonl'), 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print('ter_tok: %d cases' % len(rows))


def make_cli():
    d = os.path.join(BDIR, 'cli')
    with open(os.path.join(d, 'hyp_cr.txt'), 'w', encoding='utf-8', newline='') as f:
        f.write('first line\rsecond\r\nthird  \n')
    with open(os.path.join(d, 'ref3.txt'), 'w', encoding='utf-8', newline='') as f:
        f.write('first line\nsecond one\nthird\n')
    with open(os.path.join(d, 'ref_one.txt'), 'w', encoding='utf-8', newline='') as f:
        f.write('just one\n')
    with open(os.path.join(d, 'hyp.txt'), encoding='utf-8', newline='') as f:
        notab = f.read().replace('\t', ' ')  # a tab on stdin would mean several systems
    with open(os.path.join(d, 'hyp_stdin.txt'), 'w', encoding='utf-8', newline='') as f:
        f.write(notab)
    chrf_sets = [[], ['-f', 'text'], ['-cw', '2'], ['-cw', '2', '-f', 'text', '-w', '4', '-sh'],
                 ['--chrf-lowercase', '--chrf-whitespace', '-f', 'text'], ['--chrf-beta', '1', '-cc', '4'],
                 ['--chrf-eps-smoothing', '-cw', '2'], ['-b', '-w', '3'], ['-sl', '-cw', '2'],
                 ['-sl', '-b'], ['-sl', '-sh', '-w', '2']]
    ter_sets = [[], ['-f', 'text'], ['--ter-normalized'], ['--ter-normalized', '--ter-asian-support', '-f', 'text'],
                ['--ter-no-punct', '--ter-case-sensitive', '-w', '4', '-sh', '-f', 'text'],
                ['--ter-normalized', '--ter-no-punct', '--ter-asian-support'], ['-b'], ['-sl'],
                ['-sl', '--ter-normalized', '-w', '3']]
    cases = []
    for m, sets in (('chrf', chrf_sets), ('ter', ter_sets)):
        for refset in (['ref0.txt'], ['ref0.txt', 'ref1.txt', 'ref2.txt']):
            for a in sets:
                cases.append({'args': refset + ['-i', 'hyp.txt', '-m', m] + a})
        for h in ('hyp_crlf.txt', 'hyp_nofinal.txt', 'hyp_trail.txt', 'hyp_u2028.txt'):
            cases.append({'args': ['ref0.txt', 'ref1.txt', '-i', h, '-m', m, '-f', 'text']})
        cases.append({'args': ['ref_bom.txt', '-i', 'hyp.txt', '-m', m]})
        # stdin (no -i): universal newlines; one empty line when stdin is empty
        cases.append({'args': ['ref3.txt', '-m', m, '-f', 'text'], 'stdin': 'hyp_cr.txt'})
        cases.append({'args': ['ref_one.txt', '-m', m], 'stdin': 'empty.txt'})
        cases.append({'args': ['ref_period.txt', '-m', m, '-f', 'text'], 'stdin': 'hyp_period.txt'})
        cases.append({'args': ['ref0.txt', 'ref1.txt', '-m', m], 'stdin': 'hyp_stdin.txt'})
        cases.append({'args': ['ref0.txt', '-m', m, '-sl'], 'stdin': 'hyp_stdin.txt', 'dash_i': True})
        cases.append({'args': ['ref0.txt', '-i', 'short.txt', '-m', m]})
        cases.append({'args': ['empty.txt', '-i', 'empty.txt', '-m', m]})
        cases.append({'args': ['ref0.txt', '-i', 'bad_utf8.txt', '-m', m]})
    # BLEU from stdin too
    cases.append({'args': ['ref_period.txt', '-f', 'text'], 'stdin': 'hyp_period.txt'})
    cases.append({'args': ['ref3.txt', '-f', 'text'], 'stdin': 'hyp_cr.txt'})
    cases.append({'args': ['ref0.txt', 'ref2.txt', '-f', 'text'], 'stdin': 'hyp_stdin.txt', 'dash_i': True})
    cases.append({'args': ['ref_one.txt'], 'stdin': 'empty.txt'})
    for c in cases:
        stdin = open(os.path.join(d, c['stdin']), 'rb') if 'stdin' in c else subprocess.DEVNULL
        p = subprocess.run([SACREBLEU] + c['args'], cwd=d, stdin=stdin, capture_output=True,
                           env=dict(os.environ, NO_COLOR='1'))
        c['rc'] = p.returncode
        c['stdout'] = p.stdout.decode() if p.returncode == 0 else ''
    with open(os.path.join(d, 'chrf_ter_cases.json'), 'w', encoding='utf-8') as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)
    print('cli: %d cases (%d errors)' % (len(cases), sum(c['rc'] != 0 for c in cases)))


def main():
    parts = sys.argv[1:] or ['chrf', 'ter', 'tok', 'cli']  # or name some of them
    pool = load_jsonl('pool.jsonl')
    corpus = load_jsonl('corpus.jsonl')
    if 'chrf' in parts:
        make_metric('chrf', random.Random(15), pool, corpus)
    if 'ter' in parts:
        make_metric('ter', random.Random(16), pool, corpus)
    if 'tok' in parts:
        make_ter_tok(random.Random(17), pool)
    if 'cli' in parts:
        make_cli()


if __name__ == '__main__':
    main()
