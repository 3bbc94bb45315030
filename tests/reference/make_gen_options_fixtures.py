#!/usr/bin/env python3
"""Fixtures for the generation options people reach for in HF `generate`: min_new_tokens,
repetition_penalty, no_repeat_ngram_size (alone and combined), greedy and beam search, on the
models and inputs of tests/fixtures/gen/<case>/ (made by make_gen_fixtures.py).

Writes tests/fixtures/gen/<case>/options.json: {"versions", "runs": [{"name", "num_beams",
"max_new_tokens", "min_new_tokens", "repetition_penalty", "no_repeat_ngram_size", "sequences",
"sequences_scores" (beam only)}]}.  Every run must change at least one sequence of at least one case against the same
run without the option (else it would test nothing): the script checks that and fails otherwise.

Also tests/fixtures/gen/<case>/stopping.json: stopping and forced-prefix options, greedy and beam,
each row generated alone (batch 1, its padded row and mask) by HF `generate`:
  eos_token_id    a list replacing the model's (one id; three ids, so beam keeps 4 x beams candidates)
  stop_strings    HF StopStringCriteria with tests/fixtures/tokenizer/bpe.model as the tokenizer
                  (wrapped as a tokenizers-backed tokenizer that encodes like SentencePiece, decoder
                  Replace + ByteFallback + Fuse as Gemma's); strings picked from the unstopped outputs:
                  one across a token boundary, one inside a longer token (the token overhangs both ends)
  target_prefix   decoder_input_ids = [start] + prefix (per row, lengths 0..3), alone and with
                  stop strings, min_new_tokens and no_repeat_ngram_size
{"versions", "tokenizer", "runs": [{"name", "num_beams", "max_new_tokens", "eos_token_id" (null: the
model's), "stop_strings" (null: none), "prefixes" (per row, null: none), "min_new_tokens",
"no_repeat_ngram_size", "rows": [{"ids" (HF sequences[1:] cut at the end: prefix + generated),
"score" (beam), "text" (HF decode of ids without a final stop id, skip_special_tokens)}]}]}.
Every stopping run must change some row against the same run without it.

usage: python3 tests/reference/make_gen_options_fixtures.py   (torch, transformers)
"""
import json
import os
import sys

import torch
import transformers
from transformers import GenerationConfig, T5GemmaForConditionalGeneration

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_stopping  # noqa: E402  (stopping.json)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "tests", "fixtures", "gen")
PAD, BOS = 0, 2

RUNS = [  # name, beams, min_new_tokens, repetition_penalty, no_repeat_ngram_size
    ("greedy min_new_tokens", 1, 6, 1.0, 0),
    ("greedy repetition_penalty", 1, 0, 1.8, 0),
    ("greedy repetition_penalty<1", 1, 0, 0.7, 0),
    ("greedy no_repeat_ngram 2", 1, 0, 1.0, 2),
    ("greedy no_repeat_ngram 3", 1, 0, 1.0, 3),
    ("greedy all three", 1, 4, 1.3, 2),
    ("beam min_new_tokens", 4, 6, 1.0, 0),
    ("beam repetition_penalty", 4, 0, 1.8, 0),
    ("beam no_repeat_ngram 2", 4, 0, 1.0, 2),
    ("beam all three", 4, 4, 1.3, 2),
]


def config(eos, n, beams, mnt, rp, nr):
    return GenerationConfig(max_new_tokens=n, min_length=0, min_new_tokens=mnt or None, do_sample=False,
                            num_beams=beams, length_penalty=1.0, early_stopping=False, repetition_penalty=rp,
                            no_repeat_ngram_size=nr, encoder_no_repeat_ngram_size=0, temperature=1.0, top_k=0,
                            top_p=1.0, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=list(eos),
                            decoder_start_token_id=BOS, use_cache=True, num_return_sequences=1,
                            return_dict_in_generate=True, output_scores=True)


def generate(model, ids, mask, cfg):
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=cfg)
    seqs = out.sequences.tolist()
    scores = out.sequences_scores.tolist() if cfg.num_beams > 1 else None
    return seqs, scores


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.utils.logging.set_verbosity_error()
    changed = set()
    for case in sorted(os.listdir(GEN)):
        d = os.path.join(GEN, case)
        if not os.path.exists(os.path.join(d, "gen.json")):
            continue
        g = json.load(open(os.path.join(d, "gen.json")))
        model = T5GemmaForConditionalGeneration.from_pretrained(os.path.join(d, "hf"), dtype=torch.float32,
                                                                attn_implementation="eager").eval()
        ids, mask = torch.tensor(g["input_ids"]), torch.tensor(g["attention_mask"])
        eos, n = g["eos_token_id"], g["max_new_tokens"]
        runs = []
        for name, beams, mnt0, rp0, nr in RUNS:
            base, _ = generate(model, ids, mask, config(eos, n, beams, 0, 1.0, 0))
            # a larger minimum / stronger penalty until the option changes some sequence
            for step in range(8):
                mnt = min(mnt0 + 3 * step, n - 1) if mnt0 else 0
                rp = rp0 if rp0 == 1.0 else (rp0 ** (1 + step) if rp0 > 1 else rp0 ** (1 + step))
                seqs, scores = generate(model, ids, mask, config(eos, n, beams, mnt, rp, nr))
                if seqs != base:
                    break
            if seqs != base:
                changed.add(name)
            run = {"name": name, "num_beams": beams, "max_new_tokens": n, "min_new_tokens": mnt,
                   "repetition_penalty": rp, "no_repeat_ngram_size": nr, "sequences": seqs}
            if scores is not None:
                run["sequences_scores"] = scores
            runs.append(run)
        with open(os.path.join(d, "options.json"), "w") as f:
            json.dump({"versions": {"torch": torch.__version__, "transformers": transformers.__version__},
                       "runs": runs}, f)
        print(f"{case}: {len(runs)} runs")
        gen_stopping.write_case(model, g, d, changed)
    idle = [r[0] for r in RUNS if r[0] not in changed] + [n for n in gen_stopping.NAMES if n not in changed]
    if idle:
        sys.exit(f"these runs change no sequence in any case (they would test nothing): {idle}")


if __name__ == "__main__":
    main()
