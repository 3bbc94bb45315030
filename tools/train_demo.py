#!/usr/bin/env python3
"""Train the bundled demo model: a tiny T5Gemma on the synthetic tasks of tools/demo_tasks.py (issue 7).

  /opt/refvenv/bin/python tools/train_demo.py train   # tokenizer + model -> models/demo/ (CPU, ~15 min)
  /opt/refvenv/bin/python tools/train_demo.py eval    # HF greedy decoding on datasets/demo -> scores

`train` (deterministic for a given seed, step count and thread count):
  1. writes a corpus from the generators (seed+1) and trains a SentencePiece BPE model with Debian's
     spm_train (byte fallback, identity normalization, no dummy prefix, extra whitespace kept,
     split digits, pad=0 eos=1 bos=2 unk=3) -> models/demo/tokenizer.model;
  2. trains T5GemmaForConditionalGeneration (HF transformers, float32, CPU) on a stream of fresh
     examples (seed+2), one task per batch.  Prompts use the templates of docs/evaluation.md:
       "translate English to French: " + en            -> fr
       "summarize: " + article                          -> highlights ("\\n" between lines)
       "question: " + q + " context: " + c              -> first answer, or "unanswerable"
     (25 % of the QA prompts are T5 punctuation-padded, so either prompt form works).
     Encoder ids = <bos> + text ids (HF Gemma add_bos default), labels = text ids + <eos>,
     decoder start = <bos> (HF _shift_right);
  3. save_pretrained (float32 safetensors) + tokenizer.model + tokenizer_config.json -> models/demo/hf/,
     and the loss curve -> models/demo/train_log.json.
`eval`: greedy HF generate (max 128 new tokens) over the prepared shards datasets/demo/<task>/, then
  sacreBLEU (13a and intl), rouge-score (rouge1/2/L/Lsum, Porter stemmer, mean F), SQuAD v2 EM/F1 (official
  formulas; "unanswerable" -> "") -> models/demo/hf_eval.json and hf_predictions.jsonl.
"""
import argparse
import collections
import glob
import json
import math
import os
import random
import re
import shutil
import string
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import demo_tasks  # noqa: E402

PAD, EOS, BOS, UNK = 0, 1, 2, 3
TASKS = ("wmt14-en-fr", "cnn-dailymail", "squad-v2")
TASK_WEIGHTS = {"wmt14-en-fr": 0.3, "cnn-dailymail": 0.3, "squad-v2": 0.4}
BATCH = {"wmt14-en-fr": 48, "cnn-dailymail": 16, "squad-v2": 24}   # about equal tokens per step
PUNCT_PAD_P = 0.25
COPY_BATCH, COPY_P0 = 32, 0.6   # warm-up copy task: share of steps at step 0, falling to 0 at --copy-steps


def model_config_dict(vocab):
    """One stack; encoder and decoder are identical (hidden 128, 3 layers, GQA 4/2, head_dim 32)."""
    return dict(vocab_size=vocab, hidden_size=128, intermediate_size=512, num_hidden_layers=3,
                num_attention_heads=4, num_key_value_heads=2, head_dim=32, query_pre_attn_scalar=32,
                sliding_window=64, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                rms_norm_eps=1e-6, attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                hidden_activation="gelu_pytorch_tanh", pad_token_id=PAD, eos_token_id=EOS, bos_token_id=BOS)


# ----------------------------------------------------------------------------------------------
# Prompts (docs/evaluation.md)


def pad_punctuation(text):
    """T5 `_pad_punctuation`: spaces around every punctuation character, whitespace collapsed."""
    text = re.sub(r"([^_\s\w])", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


def prompt(task, sample, t5_pad=False):
    if task == "wmt14-en-fr":
        return "translate English to French: " + sample["src"]
    if task == "cnn-dailymail":
        return "summarize: " + sample["article"]
    q, c = sample["question"], sample["context"]
    if t5_pad:
        q, c = pad_punctuation(q), pad_punctuation(c)
    return "question: " + q + " context: " + c


def copy_example(rng):
    """Warm-up task "copy: " + text -> text, on one or two sentences of the tasks' own texts (English,
    French, highlights).  It teaches the model to fetch names and numbers from its input, which the
    three tasks need and which the multi-task mixture alone learns far too slowly on a small budget."""
    p, t = example(rng.choice(TASKS), rng)
    text = p.split(": ", 1)[1] if rng.random() < 0.5 else t
    sents = [x for x in re.split(r"(?<=[.!?]) |\n", text) if x.strip()]
    k = rng.randrange(len(sents))
    text = " ".join(sents[k:k + rng.randint(1, 2)])
    return "copy: " + text, text


def example(task, rng):
    """(prompt, target) drawn from the task's generator."""
    if task == "copy":
        return copy_example(rng)
    if task == "wmt14-en-fr":
        en, fr = demo_tasks.translation_pair(rng)
        return prompt(task, {"src": en}), fr
    if task == "cnn-dailymail":
        article, highlights = demo_tasks.cnn_example(rng)
        return prompt(task, {"article": article}), highlights
    q, c, target = demo_tasks.squad_example(rng)
    return prompt(task, {"question": q, "context": c}, rng.random() < PUNCT_PAD_P), target


# ----------------------------------------------------------------------------------------------
# Tokenizer


def train_tokenizer(out_dir, seed, vocab, n_per_task=6000):
    rng = random.Random(seed)
    # spm_train records the corpus and prefix paths in the model: run it inside a work directory with
    # relative names, so tokenizer.model is byte-identical wherever and whenever it is trained.
    tmp = os.path.join(out_dir, ".spm-work")
    os.makedirs(tmp, exist_ok=True)
    try:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            for task in TASKS:
                for _ in range(n_per_task):
                    p, t = example(task, rng)
                    f.write(p + "\n" + t + "\n")
        cmd = ["spm_train", "--input=corpus.txt", "--model_prefix=spm",
               "--model_type=bpe", "--vocab_size=%d" % vocab, "--byte_fallback=true",
               "--normalization_rule_name=identity", "--add_dummy_prefix=false",
               "--remove_extra_whitespaces=false", "--split_digits=true", "--character_coverage=1.0",
               "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3", "--pad_piece=<pad>", "--eos_piece=<eos>",
               "--bos_piece=<bos>", "--unk_piece=<unk>", "--input_sentence_size=1000000",
               "--shuffle_input_sentence=false", "--num_threads=1", "--minloglevel=2"]
        subprocess.run(cmd, check=True, cwd=tmp)
        shutil.copyfile(os.path.join(tmp, "spm.model"), os.path.join(out_dir, "tokenizer.model"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cmd


def load_sp(path):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor()
    sp.Load(path)
    assert (sp.pad_id(), sp.eos_id(), sp.bos_id(), sp.unk_id()) == (PAD, EOS, BOS, UNK)
    return sp


# ----------------------------------------------------------------------------------------------
# Training


def setup_torch(threads):
    import torch
    import transformers
    torch.set_num_threads(threads)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def make_batch(sp, task, rng, max_src=320):
    import torch
    pairs = [example(task, rng) for _ in range(COPY_BATCH if task == "copy" else BATCH[task])]
    enc = [[BOS] + sp.encode(p)[:max_src - 1] for p, _ in pairs]
    lab = [sp.encode(t) + [EOS] for _, t in pairs]
    le, ld = max(map(len, enc)), max(map(len, lab))
    ids = torch.tensor([e + [PAD] * (le - len(e)) for e in enc])
    mask = torch.tensor([[1] * len(e) + [0] * (le - len(e)) for e in enc])
    labels = torch.tensor([l + [-100] * (ld - len(l)) for l in lab])
    return ids, mask, labels


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def build_model(vocab, seed, share_embeddings):
    """Random T5Gemma.  share_embeddings: the encoder uses the decoder's embedding table (= LM head)
    during training, as T5 does; copying names and numbers from input to output is then learnt far
    sooner.  The saved checkpoint still has two tables (equal values), the standard layout."""
    import torch
    from transformers import T5GemmaConfig, T5GemmaForConditionalGeneration
    torch.manual_seed(seed)
    stack = model_config_dict(vocab)
    cfg = T5GemmaConfig(encoder=stack, decoder=dict(stack), vocab_size=vocab, tie_word_embeddings=True,
                        pad_token_id=PAD, eos_token_id=EOS, bos_token_id=BOS, dropout_rate=0.0,
                        attention_dropout=0.0, attn_implementation="eager")
    model = T5GemmaForConditionalGeneration(cfg)
    if share_embeddings:
        model.model.encoder.embed_tokens.weight = model.model.decoder.embed_tokens.weight
    return model


def untie_encoder_embedding(model):
    import torch
    dec = model.model.decoder.embed_tokens.weight
    enc = model.model.encoder.embed_tokens
    if enc.weight.data_ptr() == dec.data_ptr():
        enc.weight = torch.nn.Parameter(dec.detach().clone())


def train(args):
    import torch
    out = os.path.join(ROOT, args.out)
    hf_dir = os.path.join(out, "hf")
    os.makedirs(out, exist_ok=True)
    setup_torch(args.threads)
    t0 = time.time()
    spm_cmd = train_tokenizer(out, args.seed + 1, args.vocab)
    sp = load_sp(os.path.join(out, "tokenizer.model"))
    t_tok = time.time() - t0
    model = build_model(sp.get_piece_size(), args.seed, args.share_embeddings)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    rng = random.Random(args.seed + 2)
    tasks, weights = list(TASK_WEIGHTS), [TASK_WEIGHTS[t] for t in TASK_WEIGHTS]
    window = {t: [] for t in TASKS + ("copy",)}
    curve = []
    model.train()
    t1 = time.time()
    for step in range(args.steps):
        p_copy = COPY_P0 * max(0.0, 1.0 - step / args.copy_steps) if args.copy_steps else 0.0
        task = "copy" if rng.random() < p_copy else rng.choices(tasks, weights)[0]
        ids, mask, labels = make_batch(sp, task, rng)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window[task].append(loss.item())
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            point = {"step": step + 1, "minutes": round((time.time() - t1) / 60, 2),
                     "lr": round(lr_at(step, args.steps, args.lr, args.warmup), 6)}
            point.update({t: round(sum(v) / len(v), 4) for t, v in window.items() if v})
            curve.append(point)
            print(json.dumps(point), flush=True)
            window = {t: [] for t in window}
    t_train = time.time() - t1
    untie_encoder_embedding(model)
    model.eval()
    if os.path.isdir(hf_dir):
        shutil.rmtree(hf_dir)
    model.save_pretrained(hf_dir, safe_serialization=True)
    gen = os.path.join(hf_dir, "generation_config.json")
    with open(gen, "w") as f:   # what HF generate and `t5g convert` read: eos 1, decoder start 2
        json.dump({"bos_token_id": BOS, "decoder_start_token_id": BOS, "eos_token_id": EOS,
                   "pad_token_id": PAD}, f, indent=2)
    shutil.copyfile(os.path.join(out, "tokenizer.model"), os.path.join(hf_dir, "tokenizer.model"))
    with open(os.path.join(hf_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GemmaTokenizer", "add_bos_token": True, "add_eos_token": False,
                   "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
                  f, indent=2)
    import transformers
    log = {"command": " ".join([sys.executable] + sys.argv),
           "seed": args.seed, "steps": args.steps, "lr": args.lr, "warmup": args.warmup, "threads": args.threads,
           "share_embeddings_in_training": args.share_embeddings, "batch": BATCH, "copy_steps": args.copy_steps,
           "copy_p0": COPY_P0, "copy_batch": COPY_BATCH, "task_weights": TASK_WEIGHTS, "punct_pad_p": PUNCT_PAD_P, "params_in_training": n_params,
           "params_saved": sum(p.numel() for p in model.parameters()),
           "vocab": sp.get_piece_size(), "spm_train": spm_cmd,
           "tokenizer_seconds": round(t_tok, 1), "train_seconds": round(t_train, 1),
           "torch": torch.__version__, "transformers": transformers.__version__, "curve": curve}
    with open(os.path.join(out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print("trained %d params in %.1f min (tokenizer %.1f s) -> %s" % (n_params, t_train / 60, t_tok, hf_dir))


# ----------------------------------------------------------------------------------------------
# Evaluation with HF generate and the reference scorers


def load_shards(data_dir, task):
    rows = []
    for path in sorted(glob.glob(os.path.join(data_dir, task, "shard-*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    if not rows:
        raise SystemExit("no shards under %s/%s (run datasets/prepare.py first)" % (data_dir, task))
    return sorted(rows, key=lambda r: r["index"])


def generate(model, sp, prompts, batch, max_new):
    import torch
    outs = []
    for i in range(0, len(prompts), batch):
        enc = [[BOS] + sp.encode(p) for p in prompts[i:i + batch]]
        le = max(map(len, enc))
        ids = torch.tensor([e + [PAD] * (le - len(e)) for e in enc])
        mask = torch.tensor([[1] * len(e) + [0] * (le - len(e)) for e in enc])
        with torch.no_grad():
            seq = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, num_beams=1,
                                 max_new_tokens=max_new, decoder_start_token_id=BOS, eos_token_id=EOS,
                                 pad_token_id=PAD, bos_token_id=BOS)
        for row in seq.tolist():
            toks = []
            for t in row[1:]:
                if t == EOS:
                    break
                toks.append(t)
            outs.append(sp.decode(toks))
    return outs


def squad_normalize(s):
    """Official SQuAD v2 normalize_answer."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def squad_f1(gold, pred):
    g, p = squad_normalize(gold).split(), squad_normalize(pred).split()
    if not g or not p:
        return float(g == p)
    common = collections.Counter(g) & collections.Counter(p)
    same = sum(common.values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


def squad_scores(rows, preds):
    ex, f1, has, noans = [], [], [], []
    for r, p in zip(rows, preds):
        golds = [a for a in r["answers"] if squad_normalize(a)] or [""]
        ex.append(max(float(squad_normalize(g) == squad_normalize(p)) for g in golds))
        f1.append(max(squad_f1(g, p) for g in golds))
        (noans if r["is_impossible"] else has).append(len(ex) - 1)
    mean = lambda v, idx: 100.0 * sum(v[i] for i in idx) / len(idx) if idx else 0.0
    allidx = range(len(rows))
    return {"exact": mean(ex, allidx), "f1": mean(f1, allidx), "total": len(rows),
            "HasAns_exact": mean(ex, has), "HasAns_f1": mean(f1, has), "HasAns_total": len(has),
            "NoAns_exact": mean(ex, noans), "NoAns_f1": mean(f1, noans), "NoAns_total": len(noans)}, ex, f1


def score_task(task, rows, preds):
    """Corpus scores plus a per-sample metric for the predictions file."""
    if task == "wmt14-en-fr":
        import sacrebleu
        refs = [[r["refs"][k] for r in rows] for k in range(len(rows[0]["refs"]))]
        b13 = sacrebleu.metrics.BLEU()
        s13 = b13.corpus_score(preds, refs)
        bintl = sacrebleu.metrics.BLEU(tokenize="intl")
        sintl = bintl.corpus_score(preds, refs)
        per = [sacrebleu.sentence_bleu(p, [r["refs"][0]]).score for p, r in zip(preds, rows)]
        return {"bleu_13a": round(s13.score, 4), "signature_13a": str(b13.get_signature()),
                "bleu_intl": round(sintl.score, 4), "signature_intl": str(bintl.get_signature()),
                "exact_match": 100.0 * sum(p == r["refs"][0] for p, r in zip(preds, rows)) / len(rows)}, per
    if task == "cnn-dailymail":
        from rouge_score import rouge_scorer
        types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
        sc = rouge_scorer.RougeScorer(types, use_stemmer=True)
        all_s = [sc.score(r["highlights"], p) for r, p in zip(rows, preds)]
        out = {t: round(100.0 * sum(s[t].fmeasure for s in all_s) / len(all_s), 4) for t in types}
        out["aggregation"] = "mean F-measure over samples, use_stemmer=True"
        return out, [100.0 * s["rougeLsum"].fmeasure for s in all_s]
    mapped = ["" if p.strip() == demo_tasks.NO_ANSWER else p for p in preds]
    scores, ex, f1 = squad_scores(rows, mapped)
    scores = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}
    return scores, [100.0 * v for v in f1]


def baseline(task, rows):
    """Trivial predictions for 'chance' numbers: copy the source / lead-3 / always no-answer."""
    if task == "wmt14-en-fr":
        return [r["src"] for r in rows]
    if task == "cnn-dailymail":
        return ["\n".join(re.split(r"(?<=\.) ", r["article"])[:3]) for r in rows]
    return [demo_tasks.NO_ANSWER] * len(rows)


def evaluate(args):
    import torch
    from transformers import T5GemmaForConditionalGeneration
    setup_torch(args.threads)
    out = os.path.join(ROOT, args.out)
    sp = load_sp(os.path.join(out, "tokenizer.model"))
    model = T5GemmaForConditionalGeneration.from_pretrained(os.path.join(out, "hf"), dtype=torch.float32,
                                                            attn_implementation="eager")
    model.eval()
    results, pred_lines = {"decoding": {"greedy": True, "max_new_tokens": args.max_new_tokens,
                                        "engine": "HF transformers generate, float32, eager"}}, []
    for task in TASKS:
        rows = load_shards(os.path.join(ROOT, args.data), task)
        variants = [("", False)] + ([("t5_punct_padded", True)] if task == "squad-v2" else [])
        for label, t5_pad in variants:
            t = time.time()
            preds = generate(model, sp, [prompt(task, r, t5_pad) for r in rows], args.batch, args.max_new_tokens)
            scores, per = score_task(task, rows, preds)
            scores["samples"], scores["seconds"] = len(rows), round(time.time() - t, 1)
            scores["baseline"] = score_task(task, rows, baseline(task, rows))[0]
            key = task + ("/" + label if label else "")
            results[key] = scores
            print(key, json.dumps(scores), flush=True)
            if not label:
                for r, p, m in zip(rows, preds, per):
                    pred_lines.append({"task": task, "id": r["id"], "prediction": p, "metric": round(m, 4)})
    with open(os.path.join(out, "hf_eval.json"), "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    with open(os.path.join(out, "hf_predictions.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(l, ensure_ascii=False) + "\n" for l in pred_lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("train", "eval"))
    ap.add_argument("--out", default="models/demo", help="output directory (relative to the repo root)")
    ap.add_argument("--data", default="datasets/demo", help="eval: prepared shards (relative to the repo root)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--vocab", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core box)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--copy-steps", type=int, default=600, help="length of the copy warm-up (0: none)")
    ap.add_argument("--no-share-embeddings", dest="share_embeddings", action="store_false",
                    help="train separate encoder and decoder embedding tables from the start")
    ap.add_argument("--batch", type=int, default=32, help="eval: generate batch size")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    args = ap.parse_args()
    train(args) if args.command == "train" else evaluate(args)


if __name__ == "__main__":
    main()
