"""Stopping and forced-prefix fixtures (stopping.json), called by make_gen_options_fixtures.py:
eos_token_id lists, stop_strings and target prefixes (decoder_input_ids), greedy and beam, each
row alone through HF `generate`.  See that script's docstring for the file format."""
import json
import os
from collections import Counter

import torch
import transformers
from transformers import GenerationConfig, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import SpmConverter, import_protobuf
from transformers.generation.stopping_criteria import StopStringCriteria

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPM = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "bpe.model")
PAD, BOS = 0, 2
NAMES = ["greedy eos_token_id one", "beam eos_token_id three", "greedy stop_strings", "beam stop_strings",
         "greedy target_prefix", "beam target_prefix", "greedy prefix+stop+min_new+no_repeat",
         "beam prefix+stop+min_new+no_repeat"]


def tokenizer():
    """bpe.model as a tokenizers-backed HF tokenizer (SentencePiece's own encoding); its control
    pieces are the special tokens, as in the Gemma tokenizers."""
    pb = import_protobuf()
    proto = pb.ModelProto()
    proto.ParseFromString(open(SPM, "rb").read())
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    tk = SpmConverter.build_tokenizer_from_spm_proto(proto, vocab)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>",
                                  unk_token="<unk>")
    assert StopStringCriteria._get_stop_string_matching_mode(tok) == "byte_fallback"
    return tok


def config(eos, n, beams, mnt=0, nr=0, stop=None):
    return GenerationConfig(max_new_tokens=n, min_length=0, min_new_tokens=mnt or None, do_sample=False,
                            num_beams=beams, length_penalty=1.0, early_stopping=False, repetition_penalty=1.0,
                            no_repeat_ngram_size=nr, encoder_no_repeat_ngram_size=0, temperature=1.0, top_k=0,
                            top_p=1.0, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=list(eos),
                            decoder_start_token_id=BOS, use_cache=True, num_return_sequences=1,
                            return_dict_in_generate=True, output_scores=True, stop_strings=stop)


def run_row(model, tok, ids, mask, b, cfg, prefix):
    """One row alone: ids (prefix + generated, cut where HF stopped), score (beam)."""
    dec = torch.tensor([[BOS] + list(prefix)])
    with torch.no_grad():
        out = model.generate(input_ids=ids[b:b + 1], attention_mask=mask[b:b + 1], decoder_input_ids=dec,
                             generation_config=cfg, tokenizer=tok)
    seq = out.sequences[0].tolist()
    P = len(prefix)
    if cfg.num_beams > 1:
        L = int((out.beam_indices[0] >= 0).sum())
        return seq[1:1 + P + L], float(out.sequences_scores[0])
    crit = StopStringCriteria(tok, cfg.stop_strings) if cfg.stop_strings else None
    eos = set(cfg.eos_token_id)
    for t in range(1 + P, len(seq)):  # HF _sample: a row stops after the token that meets a criterion
        hit = seq[t] in eos or t - P == cfg.max_new_tokens
        if crit is not None and not hit:
            hit = bool(crit(torch.tensor([seq[:t + 1]]), None)[0])
        if hit:
            return seq[1:t + 1], None
    return seq[1:], None


def text(tok, ids, eos):
    ids = ids[:-1] if ids and ids[-1] in eos else ids  # the stop id is not text (docs/generation.md)
    return tok.decode(ids, skip_special_tokens=True)


def clean_vocab(tok):
    toks, idx = StopStringCriteria.clean_tokenizer_vocab(tok, stop_string_matching_mode="byte_fallback")
    return dict(zip(idx, toks))


def pick_stop_strings(base, clean, special):
    """From the unstopped greedy rows: a string across a token boundary (last byte of token 2, first
    of token 3) and one inside a longer token (its bytes 1..3: the token overhangs both ends).
    Stop and special ids are left out (they end a row anyway)."""
    across, inside = None, None
    for ids in base:
        ids = [t for t in ids if t not in special]
        for a, c in zip(ids[1:], ids[2:]):
            s = clean[a][-1:] + clean[c][:1]
            if across is None and all(0 < x < 128 for x in s) and len(s) == 2:
                across = s.decode()
        for t in ids[1:]:
            s = clean[t]
            if inside is None and len(s) >= 5 and all(0 < x < 128 for x in s):
                inside = s[1:4].decode()
    return [x for x in (across, inside) if x]


def write_case(model, g, d, changed):
    tok = tokenizer()
    clean = clean_vocab(tok)
    ids, mask = torch.tensor(g["input_ids"]), torch.tensor(g["attention_mask"])
    eos, n, B = g["eos_token_id"], g["max_new_tokens"], len(g["input_ids"])
    none = [[] for _ in range(B)]
    base = [run_row(model, tok, ids, mask, b, config(eos, n, 1), [])[0] for b in range(B)]
    counts = Counter(t for r in base for t in r if t not in eos)
    frequent = counts.most_common(1)[0][0]
    stop = pick_stop_strings(base, clean, set(eos) | set(tok.all_special_ids))
    assert stop, "no stop string could be picked"
    prefixes = [[216, 89], [], [224, 224, 224], [39]][:B] + [[] for _ in range(max(0, B - 4))]
    specs = [  # name, beams, eos, stop, prefixes, min_new, no_repeat
        ("greedy eos_token_id one", 1, [frequent], None, None, 0, 0),
        ("beam eos_token_id three", 4, list(dict.fromkeys(list(eos) + [frequent, 107, 1]))[:3], None, None, 0, 0),
        ("greedy stop_strings", 1, None, stop, None, 0, 0),
        ("beam stop_strings", 4, None, stop, None, 0, 0),
        ("greedy target_prefix", 1, None, None, prefixes, 0, 0),
        ("beam target_prefix", 4, None, None, prefixes, 0, 0),
        ("greedy prefix+stop+min_new+no_repeat", 1, None, stop, prefixes, 3, 2),
        ("beam prefix+stop+min_new+no_repeat", 4, None, stop, prefixes, 3, 2),
    ]
    runs = []
    for name, beams, e, st, pre, mnt, nr in specs:
        e_used = e if e is not None else eos
        pre_rows = pre if pre is not None else none
        plain = [run_row(model, tok, ids, mask, b, config(eos, n, beams, mnt, nr), none[b])[0] for b in range(B)]
        rows = []
        for b in range(B):
            out, score = run_row(model, tok, ids, mask, b, config(e_used, n, beams, mnt, nr, st), pre_rows[b])
            row = {"ids": out, "text": text(tok, out, set(e_used))}
            if score is not None:
                row["score"] = score
            rows.append(row)
        if [r["ids"] for r in rows] != plain:
            changed.add(name)
        runs.append({"name": name, "num_beams": beams, "max_new_tokens": n, "eos_token_id": e, "stop_strings": st,
                     "prefixes": pre, "min_new_tokens": mnt, "no_repeat_ngram_size": nr, "rows": rows})
    with open(os.path.join(d, "stopping.json"), "w") as f:
        json.dump({"versions": {"torch": torch.__version__, "transformers": transformers.__version__},
                   "tokenizer": "tests/fixtures/tokenizer/bpe.model", "runs": runs}, f)
    print(f"  stopping.json: {len(runs)} runs, stop strings {stop!r}, eos {frequent}")
