#!/usr/bin/env python3
"""Reference: the official SQuAD 2.0 evaluation (`evaluate-v2.0.py`), re-typed for the
parity fixtures of eval/squad.c.

The algorithm is the official one, operation for operation (normalization order, Counter
intersection, max over golds, `sum()` in dict order, strict `>` threshold, the running
best-threshold scan, json.dumps(indent=2) / json.dump output); see docs/evaluation.md
§4, which was checked against a vendored copy (qwang70/bert `evaluate-v2.0.py`) and HF
`evaluate` metrics/squad_v2/compute_score.py.  Only the plotting options are left out
(--out-image-dir); everything printed is the same.  Run with the project's reference
interpreter (/opt/refvenv/bin/python, CPython 3.11: plain left-to-right float sum()).

usage: squad_v2_official.py data.json pred.json [-o eval.json] [-n na_prob.json] [-t 1.0]
"""
import argparse
import collections
import json
import re
import string
import sys

ARTICLES = re.compile(r'\b(a|an|the)\b', re.UNICODE)
PUNCT = set(string.punctuation)


def normalize_answer(s):
    """lower -> drop ASCII punctuation -> articles to ' ' -> collapse whitespace."""
    s = s.lower()
    s = ''.join(ch for ch in s if ch not in PUNCT)
    s = re.sub(ARTICLES, ' ', s)
    return ' '.join(s.split())


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # no-answer on either side: 1 if both are empty, else 0 (an int, as official)
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def qid_has_answer(dataset):
    out = {}
    for article in dataset:
        for para in article['paragraphs']:
            for qa in para['qas']:
                out[qa['id']] = bool(qa['answers'])
    return out


def raw_scores(dataset, preds):
    exact, f1 = {}, {}
    for article in dataset:
        for para in article['paragraphs']:
            for qa in para['qas']:
                qid = qa['id']
                golds = [a['text'] for a in qa['answers'] if normalize_answer(a['text'])]
                if not golds:
                    golds = ['']  # unanswerable: the only right answer is ""
                if qid not in preds:
                    print('Missing prediction for %s' % qid)
                    continue
                pred = preds[qid]
                exact[qid] = max(compute_exact(g, pred) for g in golds)
                f1[qid] = max(compute_f1(g, pred) for g in golds)
    return exact, f1


def apply_threshold(scores, na_probs, has_ans, thresh):
    out = {}
    for qid, s in scores.items():
        out[qid] = float(not has_ans[qid]) if na_probs[qid] > thresh else s
    return out


def eval_dict(exact, f1, qids=None):
    if not qids:
        total = len(exact)
        return collections.OrderedDict([
            ('exact', 100.0 * sum(exact.values()) / total),
            ('f1', 100.0 * sum(f1.values()) / total),
            ('total', total)])
    total = len(qids)
    return collections.OrderedDict([
        ('exact', 100.0 * sum(exact[k] for k in qids) / total),
        ('f1', 100.0 * sum(f1[k] for k in qids) / total),
        ('total', total)])


def merge(main, new, prefix):
    for k in new:
        main['%s_%s' % (prefix, k)] = new[k]


def best_threshold(preds, scores, na_probs, has_ans):
    cur = sum(1 for k in has_ans if not has_ans[k])
    best = cur
    best_t = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if preds[qid] else 0
        cur += diff
        if cur > best:
            best = cur
            best_t = na_probs[qid]
    return 100.0 * best / len(scores), best_t


def main(argv=None):
    ap = argparse.ArgumentParser('Official evaluation script for SQuAD version 2.0.')
    ap.add_argument('data_file')
    ap.add_argument('pred_file')
    ap.add_argument('--out-file', '-o')
    ap.add_argument('--na-prob-file', '-n')
    ap.add_argument('--na-prob-thresh', '-t', type=float, default=1.0)
    ap.add_argument('--verbose', '-v', action='store_true')
    opts = ap.parse_args(argv)
    with open(opts.data_file) as f:
        dataset = json.load(f)['data']
    with open(opts.pred_file) as f:
        preds = json.load(f)
    if opts.na_prob_file:
        with open(opts.na_prob_file) as f:
            na_probs = json.load(f)
    else:
        na_probs = {k: 0.0 for k in preds}
    has_ans = qid_has_answer(dataset)
    has_qids = [k for k, v in has_ans.items() if v]
    no_qids = [k for k, v in has_ans.items() if not v]
    exact_raw, f1_raw = raw_scores(dataset, preds)
    exact_t = apply_threshold(exact_raw, na_probs, has_ans, opts.na_prob_thresh)
    f1_t = apply_threshold(f1_raw, na_probs, has_ans, opts.na_prob_thresh)
    out = eval_dict(exact_t, f1_t)
    if has_qids:
        merge(out, eval_dict(exact_t, f1_t, qids=has_qids), 'HasAns')
    if no_qids:
        merge(out, eval_dict(exact_t, f1_t, qids=no_qids), 'NoAns')
    if opts.na_prob_file:
        be, bet = best_threshold(preds, exact_raw, na_probs, has_ans)
        bf, bft = best_threshold(preds, f1_raw, na_probs, has_ans)
        out['best_exact'] = be
        out['best_exact_thresh'] = bet
        out['best_f1'] = bf
        out['best_f1_thresh'] = bft
    if opts.out_file:
        with open(opts.out_file, 'w') as f:
            json.dump(out, f)
    else:
        print(json.dumps(out, indent=2))
    return out


if __name__ == '__main__':
    main()
