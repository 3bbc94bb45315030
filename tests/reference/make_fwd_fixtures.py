#!/usr/bin/env python3
"""Forward-pass reference fixtures for the C T5Gemma engine (issue 2, "Proof of exactness").

For each case this builds a tiny random T5Gemma with the real Hugging Face classes, saves it with
save_pretrained, reloads it from disk in float32 with attn_implementation="eager", runs one padded
batch with both attention masks passed explicitly and writes

    tests/fixtures/fwd/<case>/hf/            config.json + model.safetensors (or sharded + index)
    tests/fixtures/fwd/<case>/batch.json     input_ids, attention_mask, decoder_input_ids, decoder_attention_mask
    tests/fixtures/fwd/<case>/encoder_out.f32  [B, Le, He]  little-endian float32, row-major
    tests/fixtures/fwd/<case>/decoder_out.f32  [B, Ld, Hd]  (after the decoder's final norm)
    tests/fixtures/fwd/<case>/logits.f32       [B, Ld, V]   (after the final soft-cap)
    tests/fixtures/fwd/<case>/meta.json

Self-checks (the script stops on failure): the mask rules written in tests/reference/README.md give
bit-for-bit the same outputs as HF's own masks; logits = softcap(dec_out @ E_dec^T); a float64 rerun
agrees; each case really exercises what it claims (window, soft-cap, padding).

Run:  /opt/refvenv/bin/python tests/reference/make_fwd_fixtures.py   (from the repo root; ~1 min)
Deterministic: fixed seeds, one thread; rerunning rewrites identical bytes.
"""
import copy
import os
import shutil
import sys

import torch
import transformers
from transformers import T5GemmaConfig, T5GemmaForConditionalGeneration
from transformers.models.t5gemma import modeling_t5gemma

from hf_fixtures import (BOS, EOS, PAD, ROOT, Float64Softmax, f32_vs_f64, init_random, make_batch,
                         output_meta, selected, setup_torch, softcap, valid_max_diff, versions, widen_windows, write_forward,
                         write_json)

FWD_DIR = os.path.join(ROOT, "tests", "fixtures", "fwd")


# ----------------------------------------------------------------------------------------------
# Model construction


def stack_cfg(vocab, hidden, inter, layers, nh, nkv, hd, qpas, window=4096, layer_types=None,
              theta=10000.0, eps=1e-6, attn_cap=50.0, final_cap=30.0):
    """One T5GemmaModuleConfig as a dict (HF field names)."""
    cfg = dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
               num_attention_heads=nh, num_key_value_heads=nkv, head_dim=hd, query_pre_attn_scalar=qpas,
               sliding_window=window, rope_parameters={"rope_type": "default", "rope_theta": theta},
               rms_norm_eps=eps, attn_logit_softcapping=attn_cap, final_logit_softcapping=final_cap,
               hidden_activation="gelu_pytorch_tanh", pad_token_id=PAD, eos_token_id=EOS, bos_token_id=BOS)
    if layer_types is not None:
        cfg["layer_types"] = list(layer_types)
    return cfg


def build_config(enc, dec, tie=True, eos=EOS):
    return T5GemmaConfig(encoder=enc, decoder=dec, vocab_size=enc["vocab_size"], tie_word_embeddings=tie,
                         pad_token_id=PAD, eos_token_id=eos, bos_token_id=BOS)


def init_weights(model, seed, emb_std=0.5, qk_gain=2.5, norm_std=0.2, emb_rows=None):
    """Random weights (hf_fixtures.init_random); the LM head is tied, or copied from the decoder embedding.
    emb_rows = {row: factor} scales decoder embedding rows (eos bias)."""
    init_random(model, seed, skip=lambda name: name.startswith("lm_head."),
                is_norm=lambda name, p: name.endswith("norm.weight"), emb_std=emb_std, qk_gain=qk_gain,
                norm_std=norm_std)
    with torch.no_grad():
        dec_emb = model.model.decoder.embed_tokens.weight
        for row, factor in (emb_rows or {}).items():
            dec_emb[row] *= factor
        if model.lm_head.out_proj.weight.data_ptr() != dec_emb.data_ptr():
            model.lm_head.out_proj.weight.copy_(dec_emb)  # explicit lm_head equal to the decoder embedding


def save_and_reload(model, hf_dir, dtype="float32", max_shard_size=None):
    """save_pretrained (optionally bf16 / sharded), then reload from disk as float32 eager."""
    if os.path.isdir(hf_dir):
        shutil.rmtree(hf_dir)
    to_save = model if dtype == "float32" else copy.deepcopy(model).to(torch.bfloat16)
    kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
    to_save.save_pretrained(hf_dir, **kwargs)
    gen_cfg = os.path.join(hf_dir, "generation_config.json")
    if os.path.exists(gen_cfg):
        os.remove(gen_cfg)  # not part of the fixture format; generation settings live in gen.json
    ref = T5GemmaForConditionalGeneration.from_pretrained(hf_dir, dtype=torch.float32,
                                                          attn_implementation="eager")
    ref.eval()
    assert ref.config._attn_implementation == "eager"
    assert ref.dtype == torch.float32
    return ref


# ----------------------------------------------------------------------------------------------
# Batches


def enc_mask_row(kind, length, n_valid=None, holes=()):
    """1 = token, 0 = pad. kinds: right (n_valid tokens then pads), left (pads then tokens), holes."""
    if kind == "right":
        return [1] * n_valid + [0] * (length - n_valid)
    if kind == "left":
        return [0] * (length - n_valid) + [1] * n_valid
    if kind == "holes":
        row = [1] * n_valid + [0] * (length - n_valid)
        for h in holes:
            row[h] = 0
        return row
    raise ValueError(kind)


def batch_tensors(batch):
    return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


# ----------------------------------------------------------------------------------------------
# Masks written out from the documented rules (README "Mask rules"), used to check HF's masks.


def additive(allowed, dtype):
    """bool [B,1,Q,K] -> 0 / finfo.min, as HF's eager_mask does."""
    return torch.where(allowed, torch.zeros((), dtype=dtype), torch.finfo(dtype).min)


def documented_masks(t, enc_cfg, dec_cfg, dtype):
    am, dm = t["attention_mask"].bool(), t["decoder_attention_mask"].bool()
    le, ld = am.shape[1], dm.shape[1]
    i_e, j_e = torch.arange(le)[:, None], torch.arange(le)[None, :]
    i_d, j_d = torch.arange(ld)[:, None], torch.arange(ld)[None, :]
    pad_e, pad_d = am[:, None, None, :], dm[:, None, None, :]
    w_e, w_d = enc_cfg.sliding_window, dec_cfg.sliding_window
    enc = {"full_attention": additive(pad_e.expand(-1, 1, le, le), dtype),
           "sliding_attention": additive(((i_e - j_e).abs() <= w_e) & pad_e, dtype)}
    causal = j_d <= i_d
    dec = {"full_attention": additive(causal & pad_d, dtype),
           "sliding_attention": additive(causal & (j_d > i_d - w_d) & pad_d, dtype)}
    cross = {"full_attention": additive(pad_e.expand(-1, 1, ld, le), dtype)}
    return enc, dec, cross


def run_with_masks(model, t, enc_mask, dec_mask, cross_mask):
    m = model.model
    enc_out = m.encoder(input_ids=t["input_ids"], attention_mask=enc_mask).last_hidden_state
    dec_out = m.decoder(input_ids=t["decoder_input_ids"], attention_mask=dec_mask, encoder_hidden_states=enc_out,
                        encoder_attention_mask=cross_mask, use_cache=False).last_hidden_state
    return enc_out, dec_out


# ----------------------------------------------------------------------------------------------
# Reference run and self-checks


class ScoreProbe:
    """Records max |q.k * scale| before the soft-cap by wrapping HF's eager attention function."""

    def __init__(self):
        self.max_score, self.calls = 0.0, 0
        self.orig = modeling_t5gemma.eager_attention_forward

    def __enter__(self):
        def wrapped(module, query, key, value, attention_mask, scaling=None, **kw):
            k = modeling_t5gemma.repeat_kv(key, module.num_key_value_groups)
            s = torch.matmul(query, k.transpose(2, 3)) * scaling
            if attention_mask is not None:
                s = s.masked_fill(attention_mask < -1e30, 0.0)
            self.max_score = max(self.max_score, float(s.abs().max()))
            self.calls += 1
            return self.orig(module, query, key, value, attention_mask, scaling=scaling, **kw)
        modeling_t5gemma.eager_attention_forward = wrapped
        return self

    def __exit__(self, *exc):
        modeling_t5gemma.eager_attention_forward = self.orig


def reference_outputs(model, t):
    """The reference: T5GemmaModel for both sequence outputs, the LM model for logits."""
    with torch.no_grad():
        base = model.model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                           decoder_input_ids=t["decoder_input_ids"],
                           decoder_attention_mask=t["decoder_attention_mask"], use_cache=False)
        lm = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                   decoder_input_ids=t["decoder_input_ids"], decoder_attention_mask=t["decoder_attention_mask"],
                   use_cache=False)
    return base.encoder_last_hidden_state, base.last_hidden_state, lm.logits


def check_case(model, t, enc_out, dec_out, logits):
    """Assertions that make the fixture trustworthy; returns numbers for meta.json."""
    enc_cfg, dec_cfg = model.config.encoder, model.config.decoder
    am, dm = t["attention_mask"], t["decoder_attention_mask"]
    notes = {}
    with torch.no_grad():
        # 1. Documented mask rules reproduce HF's own masks exactly.
        e, d = run_with_masks(model, t, *documented_masks(t, enc_cfg, dec_cfg, torch.float32))
        assert torch.equal(e, enc_out), "encoder mask rule differs from HF"
        assert torch.equal(d, dec_out), "decoder/cross mask rule differs from HF"
        # 2. Logits = softcap(dec_out @ E_dec^T), tied head = decoder embedding.
        head = model.lm_head.out_proj.weight
        assert torch.equal(head, model.model.decoder.embed_tokens.weight)
        mine = softcap(dec_out @ head.T, dec_cfg.final_logit_softcapping)
        assert float((mine - logits).abs().max()) < 1e-5
        # 3. float64 rerun: how far HF's own float32 result is from exact arithmetic.
        with Float64Softmax(modeling_t5gemma):
            outs64 = reference_outputs(copy.deepcopy(model).double(), t)
        notes["hf_f32_vs_f64_max_abs"] = f32_vs_f64(t, (enc_out, dec_out, logits), outs64)
        # 4. Sliding windows shorter than the sequence must change the result (else the case proves nothing).
        for name, cfg, length in (("encoder", enc_cfg, am.shape[1]), ("decoder", dec_cfg, dm.shape[1])):
            if "sliding_attention" in cfg.layer_types and cfg.sliding_window < length:
                wide = copy.deepcopy(model)
                widen_windows(getattr(wide.model, name))
                _, _, lw = reference_outputs(wide, t)
                notes[f"{name}_window_effect_on_logits"] = valid_max_diff(lw, logits, dm)
                assert notes[f"{name}_window_effect_on_logits"] > 1e-2, notes
        # 5. Encoder window rule: strict |i-j| < W would give a different answer (inclusive is what HF does).
        if "sliding_attention" in enc_cfg.layer_types and enc_cfg.sliding_window < am.shape[1]:
            enc_m, dec_m, cross_m = documented_masks(t, enc_cfg, dec_cfg, torch.float32)
            le, w = am.shape[1], enc_cfg.sliding_window
            strict = ((torch.arange(le)[:, None] - torch.arange(le)[None, :]).abs() < w) & am.bool()[:, None, None, :]
            enc_m = dict(enc_m, sliding_attention=additive(strict, torch.float32))
            _, ds = run_with_masks(model, t, enc_m, dec_m, cross_m)
            ls = softcap(ds @ head.T, dec_cfg.final_logit_softcapping)
            notes["logits_diff_if_encoder_window_were_strict"] = valid_max_diff(ls, logits, dm)
            assert notes["logits_diff_if_encoder_window_were_strict"] > 1e-3
    return notes


# ----------------------------------------------------------------------------------------------
# Cases

def cases():
    """Each case: configs, weight scaling, batch layout, storage. Padding appears in most."""
    out = []
    s = stack_cfg(256, 32, 48, 2, 4, 4, 8, 8)
    out.append(dict(
        name="mha", description="MHA (nh=nkv=4), qpas=head_dim=8, hidden=nh*hd=32, right padding in both stacks",
        enc=s, dec=dict(s), seed=101,
        enc_masks=[enc_mask_row("right", 9, 9), enc_mask_row("right", 9, 6), enc_mask_row("right", 9, 3)],
        dec_lens=[7, 5, 2], ld=7))

    out.append(dict(
        name="gqa", description="GQA encoder (nh=4,nkv=2), MQA decoder (nh=4,nkv=1); head_dim 16, qpas 24/12 != "
                                "head_dim, nh*hd 64 != hidden 48; padding",
        enc=stack_cfg(256, 48, 64, 2, 4, 2, 16, 24), dec=stack_cfg(256, 48, 56, 2, 4, 1, 16, 12), seed=202,
        enc_masks=[enc_mask_row("right", 10, 10), enc_mask_row("right", 10, 7)], dec_lens=[8, 6], ld=8))

    out.append(dict(
        name="window", description="sliding_window 3 (encoder) / 4 (decoder) with Le=14, Ld=12; 3 layers each; "
                                   "encoder layer_types default [s,f,s], decoder [f,s,s]; padding",
        enc=stack_cfg(256, 32, 48, 3, 2, 1, 16, 16, window=3),
        dec=stack_cfg(256, 32, 48, 3, 2, 2, 16, 16, window=4,
                      layer_types=["full_attention", "sliding_attention", "sliding_attention"]),
        seed=303, enc_masks=[enc_mask_row("right", 14, 14), enc_mask_row("right", 14, 11)],
        dec_lens=[12, 10], ld=12))

    out.append(dict(
        name="padding", description="heavy padding: encoder rows right-padded, left-padded and with holes; "
                                    "decoder rows of length 9,1,4,6 (pads at the end); GQA nh=4,nkv=2; window 5",
        enc=stack_cfg(256, 32, 48, 2, 4, 2, 8, 8, window=5), dec=stack_cfg(256, 32, 48, 2, 4, 2, 8, 8, window=5),
        seed=404,
        enc_masks=[enc_mask_row("right", 12, 12), enc_mask_row("right", 12, 4), enc_mask_row("left", 12, 7),
                   enc_mask_row("holes", 12, 10, holes=(3, 4))],
        dec_lens=[9, 1, 4, 6], ld=9))

    out.append(dict(
        name="unbalanced", description="encoder H=48,I=64,3 layers,nh=4,nkv=2,hd=12,qpas=16,theta=1e4,eps=1e-6; "
                                       "decoder H=32,I=48,2 layers,nh=2,nkv=1,hd=24,qpas=32,theta=2e4,eps=1e-5; "
                                       "cross k/v take 48 inputs; padding",
        enc=stack_cfg(256, 48, 64, 3, 4, 2, 12, 16),
        dec=stack_cfg(256, 32, 48, 2, 2, 1, 24, 32, theta=20000.0, eps=1e-5),
        seed=505, enc_masks=[enc_mask_row("right", 11, 11), enc_mask_row("right", 11, 8)], dec_lens=[9, 5], ld=9))

    nocap = dict(attn_cap=None, final_cap=None)
    out.append(dict(
        name="nosoftcap", description="attn_logit_softcapping and final_logit_softcapping null in both stacks; "
                                      "hidden 40, nh=4, nkv=2, hd=10; padding",
        enc=stack_cfg(256, 40, 56, 2, 4, 2, 10, 10, **nocap), dec=stack_cfg(256, 40, 56, 2, 4, 2, 10, 10, **nocap),
        seed=606, qk_gain=1.5,
        enc_masks=[enc_mask_row("right", 8, 8), enc_mask_row("right", 8, 5)], dec_lens=[6, 3], ld=6))

    out.append(dict(
        name="bf16", description="weights stored as bfloat16 (save_pretrained in bf16); reference computed in "
                                 "float32 from the upcast bf16 weights; nh=4,nkv=1; window 6; padding",
        enc=stack_cfg(256, 32, 64, 2, 4, 1, 8, 8, window=6), dec=stack_cfg(256, 32, 64, 2, 4, 1, 8, 8, window=6),
        seed=707, dtype="bfloat16",
        enc_masks=[enc_mask_row("right", 10, 10), enc_mask_row("right", 10, 7)], dec_lens=[8, 5], ld=8))

    out.append(dict(
        name="sharded", description="sharded safetensors (max_shard_size 64KB, model.safetensors.index.json); "
                                    "tie_word_embeddings=false with an explicit lm_head.out_proj.weight equal to "
                                    "the decoder embedding; V=512; padding",
        enc=stack_cfg(512, 32, 48, 2, 4, 2, 12, 12), dec=stack_cfg(512, 32, 48, 2, 4, 2, 12, 12),
        seed=808, tie=False, max_shard_size="64KB",
        enc_masks=[enc_mask_row("right", 8, 8), enc_mask_row("right", 8, 6)], dec_lens=[7, 4], ld=7))
    return out


def make_case(case):
    cdir = os.path.join(FWD_DIR, case["name"])
    os.makedirs(cdir, exist_ok=True)
    torch.manual_seed(case["seed"])
    model = T5GemmaForConditionalGeneration(build_config(case["enc"], case["dec"], tie=case.get("tie", True)))
    model.eval()
    init_weights(model, case["seed"], qk_gain=case.get("qk_gain", 2.5))
    ref = save_and_reload(model, os.path.join(cdir, "hf"), case.get("dtype", "float32"),
                          case.get("max_shard_size"))
    if case.get("dtype") == "bfloat16":
        assert all(p.dtype == torch.float32 for p in ref.parameters())
    if not case.get("tie", True):
        assert ref.lm_head.out_proj.weight.data_ptr() != ref.model.decoder.embed_tokens.weight.data_ptr()

    enc_cfg = ref.config.encoder
    batch = make_batch(case["seed"], 1, enc_cfg.vocab_size, case["enc_masks"], case["dec_lens"], case["ld"])
    t = batch_tensors(batch)
    with ScoreProbe() as probe:
        enc_out, dec_out, logits = reference_outputs(ref, t)
    assert probe.calls > 0, "score probe did not see the eager attention calls"
    notes = check_case(ref, t, enc_out, dec_out, logits)

    write_forward(cdir, batch, enc_out, dec_out, logits)
    meta = dict(He=enc_cfg.hidden_size, Hd=ref.config.decoder.hidden_size, V=enc_cfg.vocab_size,
                description=case["description"], max_abs_attn_score_before_softcap=probe.max_score,
                weights_dtype=case.get("dtype", "float32"), seed=case["seed"],
                encoder_window_rule="abs(i-j) <= W (inclusive), as transformers %s does" % transformers.__version__,
                **output_meta(batch, t, enc_out, dec_out, logits), **notes, **versions())
    write_json(os.path.join(cdir, "meta.json"), meta)
    return meta


def main(argv):
    setup_torch()
    for case in selected(cases(), argv):
        meta = make_case(case)
        print("%-10s B=%d Le=%d Ld=%d He=%d Hd=%d V=%d max|logit|=%.2f max|score|=%.1f f32-vs-f64 logits=%.1e" % (
            case["name"], meta["B"], meta["Le"], meta["Ld"], meta["He"], meta["Hd"], meta["V"],
            meta["max_abs_logit"], meta["max_abs_attn_score_before_softcap"],
            meta["hf_f32_vs_f64_max_abs"]["logits"]))


if __name__ == "__main__":
    main(sys.argv)
