#!/usr/bin/env python3
"""make_bleu_squad_fixtures.py - parity fixtures for eval/bleu.c, eval/squad.c, eval/unicode.c.

Expected values come from the real reference implementations run here:
  * sacreBLEU 2.6.0 (API for thousands of cases, the `sacrebleu` CLI for the CLI cases),
  * tests/reference/squad_v2_official.py (the official SQuAD v2.0 algorithm) as a program,
  * CPython 3.11 str methods and the `regex` module (Unicode tables).
Run with the reference interpreter (CPython 3.11 matters: its sum() is plain float addition):

  /opt/refvenv/bin/python tests/reference/make_bleu_squad_fixtures.py          # fixtures
  /opt/refvenv/bin/python tests/reference/make_bleu_squad_fixtures.py --tables # C tables for eval/unicode.c
  /opt/refvenv/bin/python tests/reference/make_bleu_squad_fixtures.py --speed DIR  # big timing inputs

Writes (all deterministic, seeded):
  tests/fixtures/bleu/unicode_ref.txt   per-code-point truth: whitespace, isalnum, lower(),
                                        Case_Ignorable / Cased (as CPython's final-sigma rule
                                        sees them), regex \\p{P} \\p{S} \\p{N}
  tests/fixtures/bleu/pool.jsonl        segment texts (one JSON string per line)
  tests/fixtures/bleu/preprocess.jsonl  BLEU._preprocess_segment for pool entries
  tests/fixtures/bleu/sentence.jsonl    BLEU.sentence_score cases (options, raw score repr, stats, text line)
  tests/fixtures/bleu/corpus.jsonl      BLEU.corpus_score cases (+ precisions, bp, JSON output)
  tests/fixtures/bleu/cli/*             files + cases.json: stdout of the sacrebleu CLI
  tests/fixtures/squad/pairs.jsonl      normalize_answer / compute_exact / compute_f1 cases
  tests/fixtures/squad/*.json + cases.json: stdout / out-file / exit status of the official script
"""
import ctypes
import json
import os
import random
import subprocess
import sys
import unicodedata

import regex
import sacrebleu
from sacrebleu.metrics import BLEU
import logging

logging.getLogger('sacrebleu').setLevel(logging.ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
FIX = os.path.join(ROOT, 'tests', 'fixtures')
SQUAD_REF = os.path.join(HERE, 'squad_v2_official.py')
SACREBLEU = os.path.join(os.path.dirname(sys.executable), 'sacrebleu')
assert sacrebleu.__version__ == '2.6.0', sacrebleu.__version__
assert sys.version_info[:2] == (3, 11), 'run with CPython 3.11 (plain float sum())'

N_GROUPS = 1000          # hypothesis + 4 references each
N_PREPROCESS = 1000      # pool entries with tokenizer expectations
N_SENTENCE = 2000
N_CORPUS = 220
N_PAIRS = 3000
N_SQUAD_Q = 2500


def ranges(cps):
    out = []
    for c in cps:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


# ---------------------------------------------------------------- Unicode truth

def all_cps():
    return (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def sigma_class(c):
    """CPython lower() final-sigma view of c: 'i' case-ignorable, 'c' cased, '-' neither.
    Probed through str.lower() itself: 'AxΣ' ends in ς iff x is ignorable or cased;
    'AΣx' keeps ς iff x is ignorable or not cased."""
    x = chr(c)
    a = ('A' + x + '\u03a3').lower()[-1] == '\u03c2'
    b = ('A\u03a3' + x).lower()[1] == '\u03c2'
    if a and b:
        return 'i'
    return 'c' if a else '-'


def write_unicode_ref(path):
    rp, rs, rn = regex.compile(r'\p{P}'), regex.compile(r'\p{S}'), regex.compile(r'\p{N}')
    cls = {k: [] for k in ('space', 'alnum', 'ign', 'cased', 'rxP', 'rxS', 'rxN')}
    lines = []
    for c in all_cps():
        ch = chr(c)
        if ch.isspace():
            cls['space'].append(c)
        if ch.isalnum():
            cls['alnum'].append(c)
        if c != 0x3A3:
            k = sigma_class(c)
            if k == 'i':
                cls['ign'].append(c)
            elif k == 'c':
                cls['cased'].append(c)
        if rp.match(ch):
            cls['rxP'].append(c)
        elif rs.match(ch):
            cls['rxS'].append(c)
        elif rn.match(ch):
            cls['rxN'].append(c)
        low = ch.lower()
        if low != ch:
            lines.append('lower %X %s' % (c, ','.join('%X' % ord(x) for x in low)))
    with open(path, 'w') as f:
        f.write('# CPython %s (Unicode %s), regex %s; ranges are inclusive hex\n' % (
            sys.version.split()[0], unicodedata.unidata_version, regex.__version__))
        for k, v in cls.items():
            for a, b in ranges(v):
                f.write('%s %X %X\n' % (k, a, b))
        f.write('\n'.join(lines) + '\n')


def print_c_tables():
    """Version-difference tables for eval/unicode.c (utf8proc 2.8 via ctypes vs CPython/regex)."""
    u = ctypes.CDLL('libutf8proc.so.2')
    u.utf8proc_category.restype = ctypes.c_int
    cats = ['Cn', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps',
            'Pe', 'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Cs', 'Co']
    new15 = [c for c in all_cps() if unicodedata.category(chr(c)) == 'Cn'
             and cats[u.utf8proc_category(c)] != 'Cn']
    extra = {'P': [], 'S': [], 'N': []}
    for c in all_cps():
        uc = cats[u.utf8proc_category(c)][0]
        for k in 'PSN':
            if regex.match(r'\p{%s}' % k, chr(c)) and uc != k:
                extra[k].append(c)

    def emit(name, rs):
        body = ', '.join('{0x%X, 0x%X}' % (a, b) for a, b in rs)
        print('static const uint32_t %s[][2] = {%s};' % (name, body))
    emit('k_new_in_15', ranges(new15))
    for k in 'PSN':
        emit('k_rx17_extra_' + k, ranges(extra[k]))


# ---------------------------------------------------------------- text generator

EN = ('the a an cat dog sat on mat of and to in is was he she it they we you I this that with for as '
      'by at from not but or be have has had do does did will would can could should may might must '
      'house car tree river city man woman child people time year day way thing world life hand part '
      'Paris London Monday January government minister president report said says told asked '
      'price market company bank share cost percent million billion').split()
FR = ("le la les un une des du de l'été café où été déjà Ça garçon naïve cœur Noël élève français "
      "être à côté aujourd'hui qu'il s'est c'était parce lorsqu'on Québec Montréal").split()
NUMS = ['1,000.50', '3.5%', '$1,000', '1-2', '3.5-4', '2014.', '5,', ',5', '1,,2', 'a..', 'e.g.',
        'U.S.', 'No.1', 'x-1', 'a-b', '1990s', '10:30', '+33', '½', '²', '٣', '४२', '１２３', '3.14',
        '-5', '5-', '0.5', '.5', '5.', '1.2.3', '12,345,678', '7–9', '2-3-4', '9mm', '€5', '5€']
PUNCT = list('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') + ['...', '--', '?!', "''", '``', ' .', ' ,']
UPUNCT = list('«»‹›“”„‘’‚—–‐‑‒…·•¡¿‰′″§¶†‡、。「」『』【】，．！？：；‧․‥⁇⸮؟،।॥۔༄៖᠂꓾〜～＿﹏')
SYMS = list('€£¥¢©®™°±×÷→←↔∞≠≤≥√∑∫♥★☆✓✔♪☺^`~|+<=>ˆ˜¨¯´¸˚᎐⅀㍿') + \
    ['😀', '🎉', '👍🏽', '🇫🇷', '🀄']
HTML = ['&amp;', '&quot;', '&lt;', '&gt;', '&apos;', '&amp;lt;', '&amp;amp;', '&#39;', '&nbsp;',
        '&AMP;', '&', '&&quot;', 'R&D', 'AT&T', '&lt;tag&gt;', '&quot;quoted&quot;', '<skipped>',
        '<skip', 'skipped>', '<b>', '</seg>']
CASE = ['İstanbul', 'ΣΟΦΟΣ', 'ΌΣΟΣ.', 'ΑΣ', 'Σ', 'aΣ', 'ΣA', 'Σ\u0301Σ', '\u212a', 'ß', 'ẞ', 'ﬁ',
        'Ǆ', 'ǅ', 'ǈ', 'Ⅻ', 'ⓐⒶ', '🄰', 'ª', 'º', 'Ꭰ', 'Ａ', 'ǰ', 'ŉ', 'İ', 'I\u0307', 'ΑΣ\u0345',
        'ΑΣ\u00ad', 'ΑΣ\'', 'ΑΣ.Α', 'ΑΣ:Α', 'ΟΔΟΣ', 'ΑΣ\u1e9e', 'Dž', 'THE', 'The', 'tHe', 'AN', 'A']
SCRIPTS = ['e\u0301', 'a\u0308', '\u0301', 'नमस्ते', 'ﾊﾟ', '한국어', 'ภาษาไทย', 'العربية', 'עברית',
           '中文字符', '日本語です', 'Ελληνικά', 'русский', 'Ⅳ', '①', '𝟘𝟙', '\U0001e030', '\u0cf3',
           '\U0001cc00', '\u2e60', '\U00010d40', '\u20c1', '\U0001fae8', '\U0001f6dc', '\u0ece',
           '\U00011f00', '\U0001e4d0']
INVIS = ['\u200b', '\ufeff', '\u200d', '\u200c', '\u00ad', '\u0096', '\u2060', '\u180e', '\x7f']
WS = [' ', '  ', '\t', '\u00a0', '\u2009', '\u3000', '\u2028', '\u2029', '\x0b', '\x0c', '\x1c',
      '\x1d', '\x1e', '\x1f', '\x85', '\u1680', '\u202f', '\u205f', '\r', '\u2007', '\u200a']

BUCKETS = [(EN, 40), (FR, 10), (NUMS, 8), (PUNCT, 10), (UPUNCT, 6), (SYMS, 4), (HTML, 4),
           (CASE, 4), (SCRIPTS, 4), (INVIS, 1)]


def rand_token(rng):
    pool = rng.choices([b[0] for b in BUCKETS], weights=[b[1] for b in BUCKETS])[0]
    t = rng.choice(pool)
    r = rng.random()
    if r < 0.08:
        t = t.upper()
    elif r < 0.16:
        t = t.capitalize()
    return t


def join_tokens(rng, toks, api):
    out = []
    for i, t in enumerate(toks):
        if i:
            r = rng.random()
            if r < 0.78:
                out.append(' ')
            elif r < 0.9:
                pass  # glued: "word," "(x" "2014."
            else:
                sep = rng.choice(WS)
                if sep == '\r' and not api:
                    sep = ' '
                out.append(sep)
        out.append(t)
    s = ''.join(out)
    r = rng.random()
    if r < 0.1:
        s = s + rng.choice(WS[:12])
    elif r < 0.15:
        s = rng.choice(WS[:5]) + s
    if api and rng.random() < 0.03:
        k = rng.randrange(len(s) + 1)
        s = s[:k] + rng.choice(['\n', '-\n', '<skipped>\n']) + s[k:]
    return s


def rand_segment(rng, api, n=None):
    if n is None:
        n = rng.choice([0, 1, 2, 3] + [rng.randint(4, 40)] * 12)
    return join_tokens(rng, [rand_token(rng) for _ in range(n)], api)


def perturb(rng, seg, api):
    """A reference-like variant of seg: drops, swaps, substitutions, case and spacing changes."""
    toks = seg.split()
    out = []
    for t in toks:
        r = rng.random()
        if r < 0.12:
            continue
        if r < 0.22:
            out.append(rand_token(rng))
        elif r < 0.28:
            out.append(t.lower())
        else:
            out.append(t)
        if rng.random() < 0.05:
            out.append(rand_token(rng))
    for _ in range(len(out) // 8):
        i = rng.randrange(len(out))
        j = min(len(out) - 1, i + 1)
        out[i], out[j] = out[j], out[i]
    return join_tokens(rng, out, api)


def make_groups(rng):
    """Each group: hypothesis + 4 references (pool indices). Groups from 'api' may hold
    newlines; the CLI fixtures use their own files."""
    pool, groups = [], []
    for g in range(N_GROUPS):
        n = None
        if g in (7, 333, 777):
            n = rng.randint(1000, 1600)  # very long lines
        hyp = rand_segment(rng, True, n)
        refs = []
        for _ in range(4):
            r = rng.random()
            if r < 0.05:
                refs.append('')
            elif r < 0.1:
                refs.append(hyp)
            elif r < 0.17:
                refs.append(rand_segment(rng, True))
            else:
                refs.append(perturb(rng, hyp, True))
        base = len(pool)
        pool.extend([hyp] + refs)
        groups.append((base, [base + 1 + k for k in range(4)]))
    return pool, groups


# ---------------------------------------------------------------- BLEU expectations

def rand_opts(rng):
    sm = rng.choice(['exp', 'floor', 'add-k', 'none'])
    sv = None
    if sm in ('floor', 'add-k') and rng.random() < 0.5:
        sv = rng.choice([0.5, 0.01, 2.0, 0.0, 1.0, 0.25, 3.0, 0.001])
    return {'tok': rng.choice(['13a', '13a', 'intl', 'none']), 'smooth': sm, 'sv': sv,
            'lc': int(rng.random() < 0.3), 'eff': int(rng.random() < 0.5),
            'width': rng.choice([0, 1, 2, 2, 3, 4, 6, 17]), 'short': int(rng.random() < 0.2)}


def metric(o):
    return BLEU(tokenize=o['tok'], smooth_method=o['smooth'], smooth_value=o['sv'],
                lowercase=bool(o['lc']), effective_order=bool(o['eff']), force=True)


def score_record(m, s, o, full):
    rec = {'score': repr(s.score), 'counts': [repr(float(x)) for x in s.counts],
           'totals': [repr(float(x)) for x in s.totals], 'sys_len': s.sys_len,
           'ref_len': s.ref_len,
           'text': s.format(o['width'], False, m.get_signature().format(bool(o['short'])))}
    if full:
        rec['prec'] = [repr(p) for p in s.precisions]
        rec['bp'] = repr(s.bp)
        rec['json'] = s.format(o['width'], False, m.get_signature().format(False), True)
        rec['score_only'] = s.format(o['width'], True, m.get_signature().format(False))
    return rec


def write_jsonl(path, rows):
    with open(path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(',', ':')) + '\n')


def make_bleu(rng, out):
    pool, groups = make_groups(rng)
    write_jsonl(os.path.join(out, 'pool.jsonl'), pool)
    prep = []
    for i in rng.sample(range(len(pool)), N_PREPROCESS):
        for tok, lc in (('13a', 0), ('intl', 0), ('none', 1), (rng.choice(['13a', 'intl']), 1)):
            m = BLEU(tokenize=tok, lowercase=bool(lc))
            prep.append({'i': i, 'tok': tok, 'lc': lc, 'out': m._preprocess_segment(pool[i])})
    write_jsonl(os.path.join(out, 'preprocess.jsonl'), prep)
    sent = []
    for _ in range(N_SENTENCE):
        h, refs = rng.choice(groups)
        refs = refs[:rng.randint(1, 4)]
        o = rand_opts(rng)
        m = metric(o)
        s = m.sentence_score(pool[h], [pool[r] for r in refs])
        sent.append(dict(hyp=h, refs=refs, **o, **score_record(m, s, o, False)))
    write_jsonl(os.path.join(out, 'sentence.jsonl'), sent)
    corp = []
    for c in range(N_CORPUS):
        n = rng.choice([1, 2, 3, 5, 8, 13, 30, 60]) if c % 50 else 500
        nst = rng.randint(1, 4)
        gs = [rng.choice(groups) for _ in range(n)]
        hyps = [g[0] for g in gs]
        streams = [[g[1][k] for g in gs] for k in range(nst)]
        if nst > 1 and rng.random() < 0.2:  # None references: nrefs:var
            for k in range(1, nst):
                for i in range(n):
                    if rng.random() < 0.3:
                        streams[k][i] = None
        o = rand_opts(rng)
        m = metric(o)
        s = m.corpus_score([pool[i] for i in hyps],
                           [[None if i is None else pool[i] for i in st] for st in streams])
        corp.append(dict(hyps=hyps, refs=streams, **o, **score_record(m, s, o, True)))
    write_jsonl(os.path.join(out, 'corpus.jsonl'), corp)
    print('bleu: %d pool, %d preprocess, %d sentence, %d corpus cases' % (
        len(pool), len(prep), len(sent), len(corp)))


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8')


def make_bleu_cli(rng, out):
    d = os.path.join(out, 'cli')
    os.makedirs(d, exist_ok=True)
    files = {}
    n = 40
    hyp = [rand_segment(rng, False) for _ in range(n)]
    hyp[3], hyp[10] = '', '   '
    refs = [[perturb(rng, h, False) for h in hyp] for _ in range(3)]
    files['hyp.txt'] = '\n'.join(hyp) + '\n'
    for k in range(3):
        files['ref%d.txt' % k] = '\n'.join(refs[k]) + '\n'
    # line-ending oddities: CRLF, no final newline, trailing Unicode spaces, BOM, U+2028 inside
    files['hyp_crlf.txt'] = '\r\n'.join(hyp) + '\r\n'
    files['hyp_nofinal.txt'] = '\n'.join(hyp)
    files['hyp_trail.txt'] = '\n'.join(h + rng.choice(['\u3000', '\t', '\u00a0', '\x85', '\u2029'])
                                       for h in hyp) + '\n'
    files['ref_bom.txt'] = '\ufeff' + files['ref0.txt']
    files['hyp_u2028.txt'] = '\n'.join(h.replace(' ', '\u2028', 1) for h in hyp) + '\n'
    files['short.txt'] = '\n'.join(hyp[:-1]) + '\n'  # one line fewer: error
    files['empty.txt'] = ''
    period = ['%s .' % rand_segment(rng, False, 6) for _ in range(120)]  # tokenized-period warning
    files['hyp_period.txt'] = '\n'.join(period) + '\n'
    files['ref_period.txt'] = '\n'.join(perturb(rng, p, False) for p in period) + '\n'
    for name, text in files.items():
        with open(os.path.join(d, name), 'w', encoding='utf-8', newline='') as f:
            f.write(text)
    with open(os.path.join(d, 'bad_utf8.txt'), 'wb') as f:
        f.write('\n'.join(hyp[:5]).encode() + b'\nok then \xc3\x28 broken\n' +
                '\n'.join(hyp[6:]).encode() + b'\n')
    argsets = [
        [], ['-f', 'text'], ['-f', 'text', '-w', '3'], ['-w', '0'], ['-w', '6', '-f', 'text', '-sh'],
        ['-b'], ['-b', '-w', '4'], ['-lc'], ['-tok', 'intl'], ['-tok', 'none', '-f', 'text'],
        ['-s', 'floor'], ['-s', 'floor', '-sv', '0.5', '-f', 'text'], ['-s', 'add-k'],
        ['-s', 'add-k', '-sv', '2', '-lc', '-tok', 'intl'], ['-s', 'none', '-f', 'text'],
        ['--tokenize', 'intl', '--smooth-method', 'floor', '--smooth-value', '0.01', '--lowercase',
         '--format', 'text', '--width', '2'],
        ['-sl'], ['-sl', '-w', '3', '-sh'], ['-sl', '-b'], ['-sl', '-tok', 'intl', '-s', 'add-k'],
        ['--force', '-f', 'text'],
    ]
    cases = []
    for refset in (['ref0.txt'], ['ref0.txt', 'ref1.txt'], ['ref0.txt', 'ref1.txt', 'ref2.txt']):
        for a in argsets:
            cases.append(refset + ['-i', 'hyp.txt'] + a)
    for h in ('hyp_crlf.txt', 'hyp_nofinal.txt', 'hyp_trail.txt', 'hyp_u2028.txt'):
        cases.append(['ref0.txt', 'ref1.txt', '-i', h, '-f', 'text'])
        cases.append(['ref0.txt', '-i', h, '-sl', '-tok', 'intl'])
    cases.append(['ref_bom.txt', '-i', 'hyp.txt', '-f', 'text'])
    cases.append(['ref_period.txt', '-i', 'hyp_period.txt'])
    cases.append(['ref_period.txt', '-i', 'hyp_period.txt', '--force', '-f', 'text'])
    # errors: sacreBLEU exits 1 (length mismatch, empty input) or dies (bad UTF-8)
    cases.append(['ref0.txt', '-i', 'short.txt'])
    cases.append(['ref0.txt', 'short.txt', '-i', 'hyp.txt'])
    cases.append(['empty.txt', '-i', 'empty.txt'])
    cases.append(['ref0.txt', '-i', 'bad_utf8.txt'])
    rows = []
    for c in cases:
        rc, so = run([SACREBLEU] + c, d)
        rows.append({'args': c, 'rc': rc, 'stdout': so if rc == 0 else ''})
    # --effective-order exists only in t5g (sacreBLEU has it in the API): expected output is
    # the API score formatted the way the CLI formats a single system
    def read(name):
        with open(os.path.join(d, name), encoding='utf-8', newline='\n') as f:
            return [line.rstrip() for line in f]
    for refset, tok, fmt in ((['ref0.txt'], '13a', 'json'), (['ref0.txt', 'ref1.txt'], 'intl', 'text')):
        m = BLEU(tokenize=tok, effective_order=True)
        s = m.corpus_score(read('hyp.txt'), [read(r) for r in refset])
        text = s.format(1, False, m.get_signature().format(False), fmt == 'json')
        rows.append({'args': refset + ['-i', 'hyp.txt', '--effective-order', '-tok', tok, '-f', fmt],
                     'rc': 0, 'stdout': text + '\n'})
    with open(os.path.join(d, 'cases.json'), 'w') as f:
        json.dump(rows, f, ensure_ascii=False, indent=0)
    print('bleu cli: %d cases (%d errors)' % (len(rows), sum(r['rc'] != 0 for r in rows)))


# ---------------------------------------------------------------- SQuAD

sys.path.insert(0, HERE)
import squad_v2_official as sq  # noqa: E402

ANSWERS = ['Denver Broncos', 'the Broncos!', '“Broncos”', 'state-of-the-art', 'a.m.', '1,000',
           'The The', 'an', 'a', 'the', 'An apple', 'THE END', 'İstanbul', 'ΣΟΦΟΣ', 'Émile Zola',
           'naïve café', 'theé á An', 'the_c', 'a\u0301', "l'été", '’s', '«quote»', '—dash—',
           'a\tb\u00a0c', '\u3000the\u2028cat', '', ' ', '.', '!!!', '_', '__the__', 'a-b-c', 'ﬁ',
           'ẞ', '\u212a', 'x²', '٣', '١٢ the', '数字', 'the ١٢', 'A the AN', 'a_the', 'the\u0301',
           'ﬁnal the', 'the\u200bcat', 'the\ufeff', 'Ⅻ the', 'an\u00b2', 'the²', 'ＴＨＥ', 'a’b',
           'Σ the ς', 'New York City', 'New York', '1 2 3', '3 2 1', 'cat cat', 'the the cat cat',
           '\U0001e030the', 'the\U0001e030', 'a\u0ece', 'the\u0345']


def rand_answer(rng):
    if rng.random() < 0.35:
        return rng.choice(ANSWERS)
    toks = [rand_token(rng) for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6, 10]))]
    if rng.random() < 0.3:
        toks.insert(rng.randrange(len(toks) + 1), rng.choice(['the', 'a', 'an', 'The', 'AN']))
    return join_tokens(rng, toks, True)


def perturb_answer(rng, a):
    r = rng.random()
    if r < 0.25:
        return a
    if r < 0.35:
        return a.upper() if rng.random() < 0.5 else a.lower()
    if r < 0.45:
        return rng.choice(['The ', 'a ', '', '(', '"']) + a + rng.choice(['.', '!', '', ')', ' the'])
    if r < 0.55:
        return ''
    if r < 0.8:
        return perturb(rng, a, True)
    return rand_answer(rng)


def make_pairs(rng, out):
    rows = []
    for _ in range(N_PAIRS):
        g = rand_answer(rng)
        p = perturb_answer(rng, g)
        if rng.random() < 0.1:
            g, p = p, g
        rows.append([g, p, sq.normalize_answer(g), sq.normalize_answer(p), sq.compute_exact(g, p),
                     repr(float(sq.compute_f1(g, p)))])
    write_jsonl(os.path.join(out, 'pairs.jsonl'), rows)


NA_VALUES = [0.1, 0.3, 0.5, 0.5, 0.7, 0.9, 0.25, 1.0, 0.0, 0.999, 1e-05, 0.123456789, 0.6]


def make_dataset(rng, nq, has_frac, qid_prefix):
    data, preds, na = [], {}, {}
    q = 0
    while q < nq:
        paras = []
        for _ in range(rng.randint(1, 4)):
            qas = []
            for _ in range(rng.randint(1, 8)):
                if q == nq:
                    break
                qid = '%s%05d' % (qid_prefix, q)
                q += 1
                if rng.random() < has_frac:
                    golds = [rand_answer(rng) for _ in range(rng.choice([1, 1, 2, 3, 5]))]
                    if rng.random() < 0.3:
                        golds.append(golds[0])
                    answers = [{'text': g, 'answer_start': 0} for g in golds]
                    pred = perturb_answer(rng, rng.choice(golds))
                else:
                    answers = []
                    r = rng.random()
                    pred = '' if r < 0.6 else rng.choice(['the', '.', 'a', ' ']) if r < 0.7 else rand_answer(rng)
                qas.append({'question': 'q?', 'id': qid, 'answers': answers,
                            'is_impossible': not answers})
                preds[qid] = pred
                na[qid] = rng.choice(NA_VALUES) if rng.random() < 0.7 else round(rng.random(), 3)
            paras.append({'context': 'ctx', 'qas': qas})
        data.append({'title': 'T%d' % len(data), 'paragraphs': paras})
    return {'version': 'v2.0', 'data': data}, preds, na


def dump(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, ensure_ascii=False)


def make_squad(rng, out):
    make_pairs(rng, out)
    files = {}
    ds, pr, na = make_dataset(rng, N_SQUAD_Q, 0.5, 'm')
    extra = dict(pr)
    extra['not-in-dataset'] = 'x'
    na_extra = dict(na)
    na_extra['not-in-dataset'] = 0.05
    files.update({'main_data.json': ds, 'main_pred.json': extra, 'main_na.json': na_extra})
    ds2, pr2, na2 = make_dataset(rng, 40, 0.0, 'n')
    files.update({'allno_data.json': ds2, 'allno_pred.json': pr2, 'allno_na.json': na2})
    ds3, pr3, na3 = make_dataset(rng, 40, 1.0, 'h')
    files.update({'allhas_data.json': ds3, 'allhas_pred.json': pr3, 'allhas_na.json': na3})
    ds4, pr4, na4 = make_dataset(rng, 30, 0.5, 'x')
    missing = dict(pr4)
    for k in list(missing)[::7]:
        del missing[k]
    files.update({'miss_data.json': ds4, 'miss_pred.json': missing, 'miss_full_pred.json':
                  {k: missing.get(k, '') for k in pr4}, 'miss_na.json': na4})
    for name, obj in files.items():
        dump(os.path.join(out, name), obj)
    # raw JSON texts: duplicate ids/keys, int / -0 / 1e400 probabilities, escapes
    raw = {
        # d1 twice (the last occurrence's answers count, at the first position); pred d1 twice
        # (the last value counts); NUL and surrogate-pair escapes; golds that normalize to ""
        'dup_data.json': '{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": ['
                         '{"id": "d1", "answers": [{"text": "The \\u00c9cole"}]},'
                         '{"id": "d2", "answers": []},'
                         '{"id": "d1", "answers": [{"text": "caf\\u00e9 \\ud83d\\ude00 the"}]},'
                         '{"id": "d3", "answers": [{"text": "a\\u0000b"}, {"text": "x\\/y"}]},'
                         '{"id": "d4", "answers": [{"text": "the"}, {"text": "."}]},'
                         '{"id": "d5", "answers": [{"text": "tie"}]},'
                         '{"id": "d6", "answers": [{"text": "partial match words here"}]}'
                         ']}]}], "data2": 1}',
        'dup_pred.json': '{"d1": "\\u00e9cole", "d2": "", "d3": "a b", "d1": "caf\\u00e9 \\ud83d\\ude00",'
                         ' "d4": "", "d5": "tie", "d6": "partial words", "zz": 5}',
        # int / -0 / 1e400 (inf) probabilities, a duplicate key, a key not in the dataset
        'dup_na.json': '{"d5": -0, "d1": 0.5, "d2": 0.1, "d3": 1e400, "d4": -0.5, "d1": -1, "d6": 0.75, "zz": 0.75}',
        'int_na.json': '{"d1": 1, "d2": 0, "d3": 3, "d4": 1, "d5": 0, "d6": 2}',
        'bad_json.json': '{"d1": "x",}',
        'bad_root.json': '["d1", "x"]',
        'null_pred.json': '{"d1": null, "d2": "", "d3": "", "d4": "", "d5": "", "d6": ""}',
    }
    for name, text in raw.items():
        with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
            f.write(text)
    with open(os.path.join(out, 'bad_utf8.json'), 'wb') as f:
        f.write(b'{"d1": "caf\xe9", "d2": ""}')
    cases = [
        ['@main_data.json', '@main_pred.json'],
        ['@main_data.json', '@main_pred.json', '--na-prob-file', '@main_na.json'],
        ['@main_data.json', '@main_pred.json', '-n', '@main_na.json', '-t', '0.5'],
        ['@main_data.json', '@main_pred.json', '-n', '@main_na.json', '--na-prob-thresh', '0'],
        ['@main_data.json', '@main_pred.json', '-n', '@main_na.json', '-t', '0.3', '-o', '@out'],
        ['@main_data.json', '@main_pred.json', '-o', '@out'],
        ['@allno_data.json', '@allno_pred.json'],
        ['@allno_data.json', '@allno_pred.json', '-n', '@allno_na.json', '-t', '0.5'],
        ['@allhas_data.json', '@allhas_pred.json'],
        ['@allhas_data.json', '@allhas_pred.json', '-n', '@allhas_na.json'],
        ['@dup_data.json', '@dup_pred.json'],
        ['@dup_data.json', '@dup_pred.json', '-n', '@dup_na.json'],
        ['@dup_data.json', '@dup_pred.json', '-n', '@dup_na.json', '-t', '0.3'],
        ['@dup_data.json', '@dup_pred.json', '-n', '@int_na.json', '-t', '1'],
        ['@dup_data.json', '@dup_pred.json', '-n', '@int_na.json', '-t', 'inf'],
        ['@dup_data.json', '@dup_pred.json', '-n', '@dup_na.json', '--na-prob-thresh=-1e400'],
        ['@miss_data.json', '@miss_full_pred.json'],
        ['@miss_data.json', '@miss_full_pred.json', '-n', '@miss_na.json'],
        # failures of the official script (stdout before the crash, exit status 1)
        ['@miss_data.json', '@miss_pred.json'],
        ['@dup_data.json', '@bad_json.json'],
        ['@dup_data.json', '@bad_root.json'],
        ['@dup_data.json', '@null_pred.json'],
        ['@dup_data.json', '@bad_utf8.json'],
        ['@bad_json.json', '@dup_pred.json'],
    ]
    rows = []
    outp = os.path.join(out, '_out.json')
    for c in cases:
        argv = [os.path.join(out, a[1:]) if a.startswith('@') and a != '@out' else
                (outp if a == '@out' else a) for a in c]
        rc, so = run([sys.executable, SQUAD_REF] + argv, out)
        row = {'args': c, 'rc': rc, 'stdout': so}
        if '@out' in c and rc == 0:
            with open(outp, encoding='utf-8') as f:
                row['out_file'] = f.read()
            os.remove(outp)
        rows.append(row)
    # extension: --missing-as-empty must equal the official run on predictions filled with ""
    for extra_args in ([], ['-n', '@miss_na.json']):
        ref = [r for r in rows if r['args'] == ['@miss_data.json', '@miss_full_pred.json'] + extra_args][0]
        miss_lines = ''.join('Missing prediction for %s\n' % qa['id'] for a in ds4['data']
                             for p in a['paragraphs'] for qa in p['qas'] if qa['id'] not in missing)
        rows.append({'args': ['@miss_data.json', '@miss_pred.json', '--missing-as-empty'] + extra_args,
                     'rc': 0, 'stdout': miss_lines + ref['stdout']})
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(rows, f, ensure_ascii=False, indent=0)
    print('squad: %d pairs, %d CLI cases' % (N_PAIRS, len(rows)))


# ---------------------------------------------------------------- timing inputs

def make_speed(d):
    rng = random.Random(99)
    os.makedirs(d, exist_ok=True)
    hyp = [join_tokens(rng, [rng.choice(EN + FR + NUMS[:12] + PUNCT[:14]) for _ in range(rng.randint(5, 60))],
                       False) for _ in range(3003)]
    with open(os.path.join(d, 'wmt_hyp.txt'), 'w') as f:
        f.write('\n'.join(hyp) + '\n')
    with open(os.path.join(d, 'wmt_ref.txt'), 'w') as f:
        f.write('\n'.join(perturb(rng, h, False) for h in hyp) + '\n')
    ds, pr, na = make_dataset(rng, 11873, 0.5, 's')
    ctx = ' '.join(rng.choice(EN) for _ in range(120))  # dev-v2.0.json contexts are ~700 chars
    for a in ds['data']:
        for p in a['paragraphs']:
            p['context'] = ctx
            for qa in p['qas']:
                qa['question'] = 'What is the %s of the %s?' % (rng.choice(EN), rng.choice(EN))
    for name, obj in (('squad_data.json', ds), ('squad_pred.json', pr), ('squad_na.json', na)):
        with open(os.path.join(d, name), 'w') as f:
            json.dump(obj, f)
    print('speed inputs in', d)


def main():
    if '--tables' in sys.argv:
        print_c_tables()
        return
    if '--speed' in sys.argv:
        make_speed(sys.argv[sys.argv.index('--speed') + 1])
        return
    bdir, sdir = os.path.join(FIX, 'bleu'), os.path.join(FIX, 'squad')
    os.makedirs(bdir, exist_ok=True)
    os.makedirs(sdir, exist_ok=True)
    write_unicode_ref(os.path.join(bdir, 'unicode_ref.txt'))
    make_bleu(random.Random(20240605), bdir)
    make_bleu_cli(random.Random(7), bdir)
    make_squad(random.Random(11), sdir)


if __name__ == '__main__':
    main()
