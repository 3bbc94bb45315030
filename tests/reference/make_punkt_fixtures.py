#!/usr/bin/env python3
"""make_punkt_fixtures.py - nltk.sent_tokenize outputs for eval/punkt.c.

NLTK loads its English punkt_tab model from a private data folder made from the tables the
repository ships (eval/punkt_english/, the English tables of NLTK's punkt_tab package), so
the C splitter and NLTK use the same parameters.  Texts: every article and highlight of the
bundled CNN/DM samples and demo shards, and random paragraphs built to hit Punkt's rules
(abbreviations, initials, numbers and ordinals, quotes and brackets after the period,
ellipses, "--", "?!", lower-case sentence starts, line breaks, non-ASCII letters).
Run with CPython 3.11 and `pip install nltk` (3.10.x):

  python3 tests/reference/make_punkt_fixtures.py

Writes tests/fixtures/punkt/sent_tokenize.jsonl: {"text": ..., "sents": nltk.sent_tokenize(text)}.
"""
import glob
import json
import os
import random
import shutil
import tempfile

import nltk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
TABLES = os.path.join(ROOT, 'eval', 'punkt_english')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'punkt', 'sent_tokenize.jsonl')
N_RANDOM = 600

WORDS = ['the', 'minister', 'said', 'police', 'report', 'market', 'shares', 'fell', 'rose', 'on', 'in', 'at',
         'company', 'officials', 'he', 'she', 'it', 'was', 'is', 'a', 'new', 'plan', 'for', 'city', 'council',
         'Smith', 'London', 'Paris', 'Monday', 'Tuesday', 'Washington', 'Apple', 'CNN', 'U.S.', 'U.K.', 'Inc.',
         'Corp.', 'Ltd.', 'Co.', 'Mr.', 'Mrs.', 'Dr.', 'Prof.', 'St.', 'Jan.', 'Feb.', 'Sept.', 'No.', 'vs.',
         'e.g.', 'i.e.', 'etc.', 'a.m.', 'p.m.', 'Calif.', 'N.Y.', 'Gen.', 'Sen.', 'Rep.', 'Jr.', 'Ph.D.',
         'café', 'naïve', 'Zürich', 'Ørsted', 'São', 'Ελλάδα', 'İstanbul', '3.5', '1,000', '$2.4', '10%',
         '5th', '21st', '1990s', 'well-known', 'year-old', 'co-founder', 'x.y', 'J.', 'K.', 'A.', 'S.']
STARTERS = ['The', 'He', 'She', 'It', 'But', 'However', 'In', 'This', 'They', 'There', 'Meanwhile', 'Police',
            'Officials', 'A', 'i', 'and', 'according', 'Most', 'When', 'If', 'Yet', '"The', "'It", '(The', '“We',
            '«Il', 'Smith', 'Apple', 'Mr.', '2', '10', 'I', 'Sales', 'Among', 'iPhone', 'eBay']
ENDS = ['.', '.', '.', '.', '?', '!', '...', '?!', '."', ".'", '.)', '.”', '!"', '.’', '.»', ' .', '. . .',
        '..', '.--', '.]', '.}', ';', ',', '']


def sentence(rng):
    words = [rng.choice(STARTERS)] + [rng.choice(WORDS) for _ in range(rng.randint(0, 14))]
    if rng.random() < 0.2:
        words.insert(rng.randrange(1, len(words) + 1), rng.choice(['J. S. Bach', 'George W. Bush', 'U. N.',
                                                                   'No. 5', '3. 4', 'St. Louis', 'A. B. C.']))
    if rng.random() < 0.1:
        words.insert(rng.randrange(1, len(words) + 1), rng.choice(['"quoted."', "('aside.')", '[sic.]', '--']))
    return ' '.join(words) + rng.choice(ENDS)


def paragraph(rng):
    seps = [' ', ' ', ' ', '  ', '\n', '\n\n', ' \n ', '\t', '\u00a0', '']
    text = ''
    for _ in range(rng.randint(1, 8)):
        text += sentence(rng) + rng.choice(seps)
    if rng.random() < 0.2:
        text = rng.choice([' ', '\n', '  ']) + text
    return text


def corpus_texts():
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'datasets', 'samples', 'cnn_dailymail', '*.jsonl'))):
        with open(path, encoding='utf-8') as f:
            for line in f:
                r = json.loads(line)
                texts += [r['article'], r['highlights']]
    for path in sorted(glob.glob(os.path.join(ROOT, 'datasets', 'demo', 'cnn-dailymail', 'shard-*.jsonl'))):
        with open(path, encoding='utf-8') as f:
            for line in f:
                r = json.loads(line)
                texts += [v for v in r.values() if isinstance(v, str) and len(v) > 20]
                texts += [v for v in r.get('references', []) if isinstance(v, str)]
    return texts


EDGE = ['', ' ', '.', '...', 'Hello', 'Hello.', 'Hello. ', 'a. b', 'Mr. Smith went home. He slept.',
        'J. S. Bach was born in 1685. He died in 1750.', 'It cost $5.5 million. That was a lot.',
        'He said "Stop." Then he left.', '(He left.) She stayed.', 'Wait... What?! No!!! Yes.',
        'The U.S. economy grew. The U.K. economy did not.', 'i.e. this. e.g. that.', 'No. 5 won. No. 6 lost.',
        'He came 2nd. The 3rd came later.', 'End.\n\nNew paragraph. Another one.', 'Line one.\nline two.',
        '“Curly.” Next.', '«Guillemet.» Next.', 'Dots. . . and more. . . Done.', 'A--B. C--D.',
        'word.[1] Next.', 'word.) Next', 'Ends with space.   ', 'x.y.z. is a name. Yes.']


def main():
    with tempfile.TemporaryDirectory() as d:
        dst = os.path.join(d, 'tokenizers', 'punkt_tab', 'english')
        shutil.copytree(TABLES, dst, ignore=shutil.ignore_patterns('LICENSE*', 'README*'))
        nltk.data.path[:] = [d]
        rng = random.Random(7)
        texts = EDGE + corpus_texts() + [paragraph(rng) for _ in range(N_RANDOM)]
        rows = [{'text': t, 'sents': nltk.sent_tokenize(t)} for t in texts]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print('%d texts, %d sentences (nltk %s)' % (len(rows), sum(len(r['sents']) for r in rows), nltk.__version__))


if __name__ == '__main__':
    main()
