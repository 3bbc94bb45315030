#!/usr/bin/env python3
"""compare_ter_random.py - randomized TER parity: `t5g score ter` vs the `sacrebleu` program.

Random sentence pairs over a small vocabulary (repeated words, block moves, tokens that
--normalized splits differently on a second pass such as "a..1") stress the shift search,
the beam edit distance and the reference tokenization.  For each option set both programs
score the same files sentence by sentence (-sl -w 16) and every output line is compared
byte for byte.  Nothing is committed: this is a check to run by hand (CPython 3.11,
`pip install sacrebleu==2.6.0`, `make` first):

  python3 tests/reference/compare_ter_random.py [N_PER_OPTION_SET] [SEED]
  (T5G=path/to/t5g to test another binary than build/t5g)

Prints the exact-match count and the first mismatches; exit status 1 on any mismatch.
"""
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
T5G = os.environ.get('T5G', os.path.join(ROOT, 'build', 't5g'))
SACREBLEU = os.path.join(os.path.dirname(sys.executable), 'sacrebleu')

VOCAB = ['the', 'a', 'cat', 'dog', 'sat', 'on', 'mat', 'The', 'CAT', '.', ',', 'a..1', '3.5', "it's",
         "John's", '(x)', '1-2', '&amp;', '&quot;hi&quot;', 'N.Y.', 'e.g.', '!', '?', 'x,y', '1,000',
         '東京', '北京。', 'は', '、', '—', '«', '»', 'naïve', 'İ', 'ẞ']
OPTION_SETS = [[], ['--ter-normalized'], ['--ter-case-sensitive'], ['--ter-no-punct'],
               ['--ter-normalized', '--ter-case-sensitive'], ['--ter-normalized', '--ter-no-punct'],
               ['--ter-normalized', '--ter-asian-support'],
               ['--ter-normalized', '--ter-no-punct', '--ter-asian-support', '--ter-case-sensitive']]


def sentence(rng, n):
    few = rng.sample(VOCAB, rng.randint(3, 12))  # few distinct words: many repeats
    return [rng.choice(few) for _ in range(n)]


def perturb(rng, words):
    out = list(words)
    for _ in range(rng.randint(0, 4)):  # block moves
        if len(out) < 3:
            break
        a = rng.randrange(len(out) - 1)
        block = out[a:a + rng.randint(1, min(12, len(out) - a))]
        del out[a:a + len(block)]
        b = rng.randrange(len(out) + 1)
        out[b:b] = block
    for _ in range(rng.randint(0, 3)):  # substitutions, insertions, deletions
        k = rng.random()
        if out and k < 0.4:
            out[rng.randrange(len(out))] = rng.choice(VOCAB)
        elif k < 0.7:
            out.insert(rng.randrange(len(out) + 1), rng.choice(VOCAB))
        elif out:
            del out[rng.randrange(len(out))]
    return out


def make_pairs(rng, n):
    hyps, refs0, refs1 = [], [], []
    for _ in range(n):
        ref = sentence(rng, rng.randint(1, 45))
        hyp = perturb(rng, ref) if rng.random() < 0.85 else sentence(rng, rng.randint(1, 45))
        hyps.append(' '.join(hyp))
        refs0.append(' '.join(ref))
        refs1.append(' '.join(perturb(rng, ref)))
    return hyps, refs0, refs1


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, env=dict(os.environ, NO_COLOR='1'))
    if p.returncode:
        sys.exit('%s failed: %s' % (cmd[0], p.stderr.decode()[-500:]))
    return p.stdout.decode().splitlines()


def main():
    per_set = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    total = same = 0
    shown = 0
    with tempfile.TemporaryDirectory() as d:
        for opts in OPTION_SETS:
            hyps, refs0, refs1 = make_pairs(rng, per_set)
            for name, lines in (('hyp', hyps), ('r0', refs0), ('r1', refs1)):
                with open(os.path.join(d, name), 'w', encoding='utf-8') as f:
                    f.write('\n'.join(lines) + '\n')
            for refs in (['r0'], ['r0', 'r1']):
                args = refs + ['-i', 'hyp', '-m', 'ter', '-sl', '-w', '16', '-f', 'text'] + opts
                want = run([SACREBLEU] + args, d)
                got = run([T5G, 'score', 'ter'] + [a for a in args if a not in ('-m', 'ter')], d)
                assert len(want) == len(got) == per_set, (len(want), len(got))
                for i, (w, g) in enumerate(zip(want, got)):
                    total += 1
                    if w == g:
                        same += 1
                    elif shown < 5:
                        shown += 1
                        print('MISMATCH %s refs=%d line %d\n  hyp: %s\n  sacrebleu: %s\n  t5g:       %s'
                              % (' '.join(opts), len(refs), i + 1, hyps[i], w, g))
    print('TER random parity: %d / %d sentence scores identical (%d option sets x 1 and 2 references)'
          % (same, total, len(OPTION_SETS)))
    return 0 if same == total else 1


if __name__ == '__main__':
    sys.exit(main())
