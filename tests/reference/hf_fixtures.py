"""What the forward-pass fixture scripts share (make_fwd_fixtures.py for T5Gemma, make_t5g2_fixtures.py
for T5Gemma 2): deterministic torch, random weights in a fixed order, random padded batches, the float64
rerun, the checks on the reference outputs and the files they write.

Everything here is deterministic: the same seed gives the same bytes.
"""
import json
import math
import os

import numpy as np
import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAD, EOS, BOS = 0, 1, 2


def setup_torch():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__}


def selected(cases, argv):
    """The cases named on the command line (argv[1:]), or all of them when none is named."""
    want = set(argv[1:])
    return [case for case in cases if not want or case["name"] in want]


def init_random(model, seed, skip, is_norm, emb_std, qk_gain, norm_std):
    """Random weights in sorted-name order, so the result depends only on the seed; parameters for which
    skip(name) holds are left alone.

    Linear weights ~ N(0, gain^2 / fan_in): activations stay O(1) after each RMSNorm; q/k get a larger
    gain so attention logits are big enough for a soft-cap to bend them. Norm weights (is_norm(name, p))
    ~ N(0, norm_std^2) so the (1 + w) convention matters; embeddings ~ N(0, emb_std^2)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if skip(name):
                continue
            if is_norm(name, p):
                std = norm_std
            elif "embed_tokens" in name:
                std = emb_std
            else:
                gain = qk_gain if (".q_proj." in name or ".k_proj." in name) else 1.0
                std = gain / math.sqrt(p.shape[1])
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * std)


def make_batch(seed, lo, hi, enc_masks, dec_lens, ld, special=()):
    """Random ids in [lo, hi) at valid positions, pad id 0 elsewhere; decoder rows start with bos 2;
    `special` = (row, col, id) overrides in the encoder ids (e.g. an eoi token)."""
    rng = np.random.RandomState(seed)
    enc_ids = [[int(rng.randint(lo, hi)) if v else PAD for v in m] for m in enc_masks]
    for r, c, tok in special:
        enc_ids[r][c] = tok
    dec_ids, dec_masks = [], []
    for n in dec_lens:
        row = [BOS] + [int(rng.randint(lo, hi)) for _ in range(n - 1)]
        dec_ids.append(row + [PAD] * (ld - n))
        dec_masks.append([1] * n + [0] * (ld - n))
    return {"input_ids": enc_ids, "attention_mask": [list(m) for m in enc_masks],
            "decoder_input_ids": dec_ids, "decoder_attention_mask": dec_masks}


class Float64Softmax:
    """HF's eager attention always runs softmax in float32; in a float64 rerun that turns finfo(f64).min
    into -inf and fully-masked (padded) query rows into NaN, which then leak through 0*NaN in the
    cross-attention. This swaps in the same computation with a float64 softmax, in the modeling module
    given (transformers.models.<model>.modeling_<model>)."""

    def __init__(self, modeling):
        self.modeling = modeling

    def __enter__(self):
        mod = self.modeling
        self.orig = mod.eager_attention_forward

        def eager64(module, query, key, value, attention_mask, scaling=None, softcap=None, **kw):
            k = mod.repeat_kv(key, module.num_key_value_groups)
            v = mod.repeat_kv(value, module.num_key_value_groups)
            s = torch.matmul(query, k.transpose(2, 3)) * scaling
            if softcap is not None:
                s = torch.tanh(s / softcap) * softcap
            if attention_mask is not None:
                s = s + attention_mask
            p = torch.softmax(s, dim=-1)
            return torch.matmul(p, v).transpose(1, 2).contiguous(), p
        mod.eager_attention_forward = eager64
        return self

    def __exit__(self, *exc):
        self.modeling.eager_attention_forward = self.orig


def softcap(x, cap):
    return x if cap is None else torch.tanh(x / cap) * cap


def valid_max_diff(a, b, mask):
    """max |a-b| over positions where mask (B, L) is 1."""
    d = (a - b).abs().amax(dim=-1)
    return float(d[mask.bool()].max())


def f32_vs_f64(t, outs, outs64):
    """How far HF's own float32 (encoder_out, decoder_out, logits) are from the float64 rerun, at valid
    positions; asserted below 2e-5."""
    am, dm = t["attention_mask"], t["decoder_attention_mask"]
    diffs = {"encoder_out": valid_max_diff(outs[0].double(), outs64[0], am),
             "decoder_out": valid_max_diff(outs[1].double(), outs64[1], dm),
             "logits": valid_max_diff(outs[2].double(), outs64[2], dm)}
    assert max(diffs.values()) < 2e-5, diffs
    return diffs


def widen_windows(stack):
    """Sliding windows of one stack (encoder or decoder module) made longer than any sequence."""
    stack.config.sliding_window = 10 ** 6
    for layer in stack.layers:
        if layer.self_attn.sliding_window is not None:
            layer.self_attn.sliding_window = 10 ** 6


def write_f32(path, tensor):
    np.ascontiguousarray(tensor.detach().numpy().astype("<f4")).tofile(path)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def write_forward(cdir, batch, enc_out, dec_out, logits):
    """batch.json and the three float32 dumps the C tests compare with."""
    write_json(os.path.join(cdir, "batch.json"), batch)
    write_f32(os.path.join(cdir, "encoder_out.f32"), enc_out)
    write_f32(os.path.join(cdir, "decoder_out.f32"), dec_out)
    write_f32(os.path.join(cdir, "logits.f32"), logits)


def output_meta(batch, t, enc_out, dec_out, logits):
    """The meta.json fields both scripts record about a case's outputs."""
    dm = t["decoder_attention_mask"].bool()
    top2 = logits[dm].topk(2, dim=-1).values
    return dict(B=len(batch["input_ids"]), Le=len(batch["input_ids"][0]), Ld=len(batch["decoder_input_ids"][0]),
                max_abs_logit=float(logits[dm].abs().max()), max_abs_encoder_out=float(enc_out.abs().max()),
                max_abs_decoder_out=float(dec_out.abs().max()),
                min_top1_top2_logit_gap=float((top2[:, 0] - top2[:, 1]).min()),
                compare="valid positions only: encoder rows where attention_mask=1, decoder rows where "
                        "decoder_attention_mask=1")
