#!/usr/bin/env python3
"""Primitive-level reference values for the C unit tests (issue 2, "Unit tests for every primitive").

Writes
  tests/fixtures/prims/prims.json    RMSNorm, RoPE, tanh-GELU, soft-cap, masked softmax, eager attention
                                     (GQA / window / soft-cap) and the embedding scale, each computed by the
                                     transformers T5Gemma code itself (T5GemmaRMSNorm, T5GemmaRotaryEmbedding
                                     + apply_rotary_pos_emb, ACT2FN["gelu_pytorch_tanh"], eager_attention_forward)
  tests/fixtures/prims/relbias.json  T5 relative-position buckets from transformers' T5Attention
                                     ._relative_position_bucket for rel = j - i in [-300, 300], checked
                                     against a numpy version of the T5 bucket formula (docs/model.md, Options) (asserted equal)

All numbers are float32 values written as JSON doubles (exact: every float32 is a double). Shapes are
nested lists, row-major. Run:  /opt/refvenv/bin/python tests/reference/make_prim_fixtures.py
"""
import math
import os
import sys

import numpy as np
import torch
from transformers.activations import ACT2FN
from transformers.models.t5.modeling_t5 import T5Attention
from transformers.models.t5gemma import modeling_t5gemma as hf
from transformers.models.t5gemma.configuration_t5gemma import T5GemmaModuleConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fwd_fixtures as fwd  # noqa: E402  (setup, versions, json writer)

PRIM_DIR = os.path.join(fwd.ROOT, "tests", "fixtures", "prims")


def L(t):
    """float32 tensor -> nested lists of Python floats (exact)."""
    return t.detach().to(torch.float32).tolist()


def rmsnorm_cases(gen):
    out = []
    for hidden, eps, scale in ((8, 1e-6, 1.0), (32, 1e-6, 1e3), (16, 1e-5, 1e-3)):
        x = torch.randn(3, hidden, generator=gen) * scale
        if eps == 1e-5:
            x[2] = 0.0  # an all-zero row: the result is exactly 0 (eps keeps the root finite)
        norm = hf.T5GemmaRMSNorm(hidden, eps=eps)
        with torch.no_grad():
            norm.weight.copy_(torch.randn(hidden, generator=gen) * 0.5)
            y = norm(x)
        out.append({"eps": eps, "x": L(x), "w": L(norm.weight), "y": L(y)})
    return out


def rope_cases(gen):
    """cos/sin from T5GemmaRotaryEmbedding (float32 angles pos*inv_freq), rotation by apply_rotary_pos_emb."""
    out = []
    positions = [0, 1, 2, 7, 100, 1000, 4095, 8191, 30000]
    for head_dim, theta in ((8, 10000.0), (16, 20000.0), (64, 10000.0)):
        cfg = T5GemmaModuleConfig(hidden_size=64, num_attention_heads=4, head_dim=head_dim,
                                  rope_parameters={"rope_type": "default", "rope_theta": theta})
        rot = hf.T5GemmaRotaryEmbedding(cfg)
        pos = torch.tensor([positions])
        x = torch.randn(1, 1, len(positions), head_dim, generator=gen)
        cos, sin = rot(x, pos)
        y, _ = hf.apply_rotary_pos_emb(x, x, cos, sin)
        out.append({"head_dim": head_dim, "theta": theta, "positions": positions, "inv_freq": L(rot.inv_freq),
                    "cos": L(cos[0]), "sin": L(sin[0]), "x": L(x[0, 0]), "y": L(y[0, 0])})
    return out


def gelu_case():
    x = torch.cat([torch.linspace(-10, 10, 201), torch.tensor([-20.0, -5.5, -1e-4, 0.0, 1e-4, 3.0, 20.0])])
    y = ACT2FN["gelu_pytorch_tanh"](x)
    assert torch.equal(y, torch.nn.functional.gelu(x, approximate="tanh"))
    return {"x": L(x), "y": L(y)}


def softcap_cases(gen):
    out = []
    for cap in (50.0, 30.0):
        x = torch.cat([torch.randn(40, generator=gen) * cap, torch.tensor([0.0, 1e-3, -1e-3, 5 * cap, -5 * cap])])
        out.append({"cap": cap, "x": L(x), "y": L(torch.tanh(x / cap) * cap)})  # HF order: /cap, tanh, *cap
    return out


def softmax_case(gen):
    """Float32 softmax over scores + additive mask (0 allowed, finfo.min masked) as HF's eager path."""
    scores = torch.randn(5, 9, generator=gen) * 20
    allowed = torch.rand(5, 9, generator=gen) > 0.4
    allowed[0] = True
    allowed[3] = False  # fully masked row: HF gives the uniform distribution over all keys
    allowed[4, :] = False
    allowed[4, 2] = True
    mask = fwd.additive(allowed, torch.float32)
    y = torch.softmax(scores + mask, dim=-1, dtype=torch.float32)
    return {"scores": L(scores), "allowed": allowed.int().tolist(), "y": L(y)}


class _Attn(torch.nn.Module):
    """The attributes eager_attention_forward reads from its module."""

    def __init__(self, groups):
        super().__init__()
        self.num_key_value_groups = groups
        self.eval()


def attention_cases(gen):
    """HF eager attention: q [nh, Lq, hd], k/v [nkv, Lk, hd] (one batch row), allowed [Lq, Lk],
    scaling = qpas^-0.5, softcap or null; output [Lq, nh*hd] (heads concatenated head-major)."""
    out = []
    specs = [  # name, nh, nkv, lq, lk, hd, qpas, softcap, rule
        ("encoder_gqa_window_pad", 4, 2, 7, 7, 8, 12, 50.0, "enc_window"),
        ("decoder_mqa_causal_window", 4, 1, 6, 6, 8, 8, 50.0, "dec_window"),
        ("cross_pad_nocap", 2, 2, 3, 5, 16, 16, None, "cross"),
    ]
    for name, nh, nkv, lq, lk, hd, qpas, cap, rule in specs:
        q = torch.randn(1, nh, lq, hd, generator=gen) * 2
        k = torch.randn(1, nkv, lk, hd, generator=gen) * 2
        v = torch.randn(1, nkv, lk, hd, generator=gen)
        i, j = torch.arange(lq)[:, None], torch.arange(lk)[None, :]
        pad = torch.ones(lk, dtype=torch.bool)
        pad[-1] = rule == "dec_window"  # the last key is padding in the encoder and cross cases
        if rule == "enc_window":
            window, allowed = 2, ((i - j).abs() <= 2) & pad
        elif rule == "dec_window":
            window, allowed = 3, (j <= i) & (j > i - 3)
        else:
            window, allowed = None, pad[None, :].expand(lq, lk)
        scaling = qpas ** -0.5
        o, _ = hf.eager_attention_forward(_Attn(nh // nkv), q, k, v, fwd.additive(allowed, torch.float32)[None, None],
                                          scaling=scaling, softcap=cap)
        out.append({"name": name, "nh": nh, "nkv": nkv, "head_dim": hd, "query_pre_attn_scalar": qpas,
                    "scaling": scaling, "softcap": cap, "sliding_window": window, "q": L(q[0]), "k": L(k[0]),
                    "v": L(v[0]), "allowed": allowed.int().tolist(), "out": L(o[0].reshape(lq, nh * hd))})
    return out


def embed_scale_cases():
    """HF multiplies embeddings by torch.tensor(H ** 0.5, dtype=float32)."""
    return [{"H": h, "scale": float(torch.tensor(h ** 0.5, dtype=torch.float32))}
            for h in (32, 40, 48, 512, 768, 1152, 2304, 3584)]


# ----------------------------------------------------------------------------------------------
# Relative-position buckets


def bucket_numpy(rel, bidirectional, num_buckets, max_distance):
    """The T5 bucket formula (docs/model.md, Options), float32 log like torch: n halves when bidirectional (rel > 0 gets +n);
    d = |rel| (bidirectional) or max(-rel, 0) (causal); exact below n/2, log-spaced above, capped at n-1."""
    rel = np.asarray(rel, dtype=np.int64)
    n = num_buckets
    ret = np.zeros_like(rel)
    if bidirectional:
        n //= 2
        ret += (rel > 0) * n
        d = np.abs(rel)
    else:
        d = np.maximum(-rel, 0)
    max_exact = n // 2
    with np.errstate(divide="ignore", invalid="ignore"):  # d = 0 gives log 0; that lane is not used
        ratio = np.log(d.astype(np.float32) / np.float32(max_exact))
        large = max_exact + (ratio / np.float32(math.log(max_distance / max_exact))
                             * np.float32(n - max_exact)).astype(np.int64)
    large = np.minimum(large, n - 1)
    return ret + np.where(d < max_exact, d, large)


def relbias_cases():
    rel = torch.arange(-300, 301)
    out = []
    for bidirectional in (True, False):
        for num_buckets in (32, 16):
            for max_distance in (128, 20):
                hf_b = T5Attention._relative_position_bucket(rel, bidirectional=bidirectional,
                                                             num_buckets=num_buckets, max_distance=max_distance)
                np_b = bucket_numpy(rel.numpy(), bidirectional, num_buckets, max_distance)
                assert np.array_equal(hf_b.numpy(), np_b), (bidirectional, num_buckets, max_distance)
                out.append({"bidirectional": bidirectional, "num_buckets": num_buckets,
                            "max_distance": max_distance, "rel": rel.tolist(), "bucket": hf_b.tolist()})
    return out


def main():
    fwd.setup_torch()
    os.makedirs(PRIM_DIR, exist_ok=True)
    gen = torch.Generator().manual_seed(20240601)
    prims = {"meta": dict(fwd.versions(), description="primitive reference values from the transformers "
                          "T5Gemma code; see tests/reference/make_prim_fixtures.py"),
             "rmsnorm": rmsnorm_cases(gen), "rope": rope_cases(gen), "gelu_tanh": gelu_case(),
             "softcap": softcap_cases(gen), "softmax_masked": softmax_case(gen),
             "attention": attention_cases(gen), "embed_scale": embed_scale_cases()}
    fwd.write_json(os.path.join(PRIM_DIR, "prims.json"), prims)
    rel = {"meta": dict(fwd.versions(), description="transformers T5Attention._relative_position_bucket(j - i); "
                        "equal to the spec section 15 formula (numpy, float32 log) for every entry"),
           "cases": relbias_cases()}
    fwd.write_json(os.path.join(PRIM_DIR, "relbias.json"), rel)
    print("prims.json: %d rmsnorm, %d rope, %d attention cases; relbias.json: %d cases x %d offsets" % (
        len(prims["rmsnorm"]), len(prims["rope"]), len(prims["attention"]), len(rel["cases"]),
        len(rel["cases"][0]["rel"])))


if __name__ == "__main__":
    main()
