#!/usr/bin/env python3
"""T5Gemma 2 reference fixtures for the C engine (issue 16).

For each case this builds a tiny random T5Gemma 2 (text stack + a tiny SigLIP vision tower, since
T5Gemma2ForConditionalGeneration always has one) with the real Hugging Face classes, saves it with
save_pretrained, reloads it from disk in float32 with attn_implementation="eager" and writes

    tests/fixtures/t5g2/<case>/hf/              config.json + model.safetensors (vision weights included)
    tests/fixtures/t5g2/<case>/batch.json       input_ids, attention_mask, decoder_input_ids, decoder_attention_mask
    tests/fixtures/t5g2/<case>/encoder_out.f32  [B, Le, H]  little-endian float32, row-major
    tests/fixtures/t5g2/<case>/decoder_out.f32  [B, Ld, H]  (after the decoder's final norm)
    tests/fixtures/t5g2/<case>/logits.f32       [B, Ld, V]  (after the final soft-cap, if any)
    tests/fixtures/t5g2/<case>/gen.json         unpadded requests, greedy and beam sequences of HF generate
    tests/fixtures/t5g2/<case>/meta.json
    tests/fixtures/t5g2/basic/hf_text_model/    the same weights with the encoder text tensors under
                                                model.encoder.text_model. (a spelling transformers also loads)

Cases: basic (GQA, even window -> asymmetric encoder window, eoi token in the input), window (odd windows,
MQA, qpas != hd, thetas, attn_logit_softcapping set but ignored by HF, final soft-cap, holes / left padding),
tp (MHA with kv heads split under TP=2, uneven vocab split), linear (linear RoPE scaling: factor 8 on full
layers, 2 on sliding layers).

Self-checks (the script stops on failure): the mask rules of docs/model.md ("T5Gemma 2") written out
here reproduce HF's own outputs bit for bit (encoder window q-(W+1)//2 < k <= q+W//2, merged decoder
mask = [self causal/sliding | encoder padding]); attn_logit_softcapping has no effect in HF; logits = softcap(dec_out @ E^T) with the one shared
embedding; a float64 rerun agrees to < 2e-5; windows shorter than the sequence change the logits;
the eoi token really uses eoi_embedding; the linear RoPE factors matter; greedy and beam sequences are the same for the float64 model
(float32 rounding cannot flip a decision).

Run:  python3 tests/reference/make_t5g2_fixtures.py   (from the repo root; ~30 s)
Deterministic: fixed seeds, one thread; rerunning rewrites identical bytes.
"""
import copy
import os
import shutil
import sys

import torch
from transformers import GenerationConfig, T5Gemma2Config, T5Gemma2ForConditionalGeneration
from transformers.models.t5gemma2 import modeling_t5gemma2 as mt

from hf_fixtures import (BOS, EOS, PAD, ROOT, Float64Softmax, f32_vs_f64, init_random, make_batch,
                         output_meta, selected, setup_torch, softcap, valid_max_diff, versions, widen_windows, write_forward,
                         write_json)

OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "t5g2")


def text_cfg(vocab, hidden, inter, layer_types, nh, nkv, hd, qpas, window, theta_g=1e6, theta_l=1e4,
             attn_cap=None, final_cap=None, eps=1e-6, factor_g=None, factor_l=None):
    rope = {"full_attention": {"rope_type": "default", "rope_theta": theta_g},
            "sliding_attention": {"rope_type": "default", "rope_theta": theta_l}}
    for kind, f in (("full_attention", factor_g), ("sliding_attention", factor_l)):
        if f is not None:
            rope[kind] = {"rope_type": "linear", "rope_theta": rope[kind]["rope_theta"], "factor": f}
    return dict(vocab_size=vocab, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=len(layer_types),
                layer_types=list(layer_types), num_attention_heads=nh, num_key_value_heads=nkv, head_dim=hd,
                query_pre_attn_scalar=qpas, sliding_window=window, rms_norm_eps=eps,
                rope_parameters=rope,
                attn_logit_softcapping=attn_cap, final_logit_softcapping=final_cap,
                hidden_activation="gelu_pytorch_tanh", pad_token_id=PAD, eos_token_id=EOS, bos_token_id=BOS)


VISION = dict(model_type="siglip_vision_model", hidden_size=8, intermediate_size=16, num_hidden_layers=1,
              num_attention_heads=2, image_size=8, patch_size=4)


def build_config(enc, dec, eoi, image):
    return T5Gemma2Config(encoder=dict(text_config=enc, vision_config=VISION, mm_tokens_per_image=4,
                                       boi_token_index=eoi - 1, eoi_token_index=eoi),
                          decoder=dec, image_token_index=image)


def init_weights(model, seed, emb_std=0.5, qk_gain=2.0, norm_std=0.2, eos_boost=1.0):
    """Random weights in sorted-name order (depends only on the seed); q/k/norm gains as in the v1 fixtures.
    A small emb_std keeps the tied head from just repeating the input token; eos_boost scales the eos row
    of the shared embedding so some sequences stop early."""
    init_random(model, seed,
                skip=lambda name: name.startswith("lm_head.") or ".vision_tower." in name or "multi_modal" in name,
                is_norm=lambda name, p: p.ndim == 1 and name.endswith("weight"), emb_std=emb_std, qk_gain=qk_gain,
                norm_std=norm_std)
    with torch.no_grad():
        model.model.encoder.text_model.embed_tokens.weight[EOS] *= eos_boost


def save_and_reload(model, hf_dir):
    if os.path.isdir(hf_dir):
        shutil.rmtree(hf_dir)
    model.save_pretrained(hf_dir)
    os.remove(os.path.join(hf_dir, "generation_config.json"))  # settings live in gen.json
    ref = T5Gemma2ForConditionalGeneration.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager")
    ref.eval()
    assert ref.config._attn_implementation == "eager" and ref.dtype == torch.float32
    return ref


def additive(allowed):
    return torch.where(allowed, torch.zeros(()), torch.finfo(torch.float32).min)


def documented_masks(t, cfg):
    """docs/model.md rules: encoder sliding q-(W+1)//2 < k <= q+W//2; decoder self causal (sliding:
    q-W < k <= q); cross keys = encoder padding only, concatenated after the self keys."""
    am, dm = t["attention_mask"].bool(), t["decoder_attention_mask"].bool()
    le, ld = am.shape[1], dm.shape[1]
    qe, ke = torch.arange(le)[:, None], torch.arange(le)[None, :]
    qd, kd = torch.arange(ld)[:, None], torch.arange(ld)[None, :]
    pe, pd = am[:, None, None, :], dm[:, None, None, :]
    we, wd = cfg.encoder.text_config.sliding_window, cfg.decoder.sliding_window
    enc = {"full_attention": additive(pe.expand(-1, 1, le, le)),
           "sliding_attention": additive((ke > qe - (we + 1) // 2) & (ke <= qe + we // 2) & pe)}
    cross = additive(pe.expand(-1, 1, ld, le))
    causal = kd <= qd
    dec = {"full_attention": additive(causal & pd), "sliding_attention": additive(causal & (kd > qd - wd) & pd)}
    merged = {k: torch.cat([v, cross], dim=-1) for k, v in dec.items()}
    return enc, merged


def run_with_masks(model, t, enc_mask, merged):
    m = model.model
    enc_out = m.encoder.text_model(input_ids=t["input_ids"], attention_mask=enc_mask).last_hidden_state
    # the merged mask dict is used as given when attention_mask is a dict (the encoder mask is then unused)
    dec_out = m.decoder(input_ids=t["decoder_input_ids"], attention_mask={k: v[..., :t["decoder_input_ids"].shape[1]]
                                                                        for k, v in merged.items()},
                        encoder_hidden_states=enc_out,
                        encoder_attention_mask={"full_attention": merged["full_attention"][..., t["decoder_input_ids"].shape[1]:]},
                        use_cache=False).last_hidden_state
    return enc_out, dec_out


def reference_outputs(model, t):
    with torch.no_grad():
        out = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                    decoder_input_ids=t["decoder_input_ids"], decoder_attention_mask=t["decoder_attention_mask"],
                    use_cache=False, output_hidden_states=False)
        base = model.model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                           decoder_input_ids=t["decoder_input_ids"],
                           decoder_attention_mask=t["decoder_attention_mask"], use_cache=False)
    return base.encoder_last_hidden_state, base.last_hidden_state, out.logits


def check_forward(model, t, enc_out, dec_out, logits, case):
    cfg = model.config
    am, dm = t["attention_mask"], t["decoder_attention_mask"]
    notes = {}
    with torch.no_grad():
        e, d = run_with_masks(model, t, *documented_masks(t, cfg))
        assert torch.equal(e, enc_out), "encoder mask rule differs from HF"
        assert torch.equal(d, dec_out), "merged decoder mask rule differs from HF"
        emb = model.model.encoder.text_model.embed_tokens.weight
        assert model.lm_head.out_proj.weight.data_ptr() == emb.data_ptr(), "LM head not tied to the shared embedding"
        assert model.model.decoder.embed_tokens.weight.data_ptr() == emb.data_ptr(), "decoder embedding not shared"
        mine = softcap(dec_out @ emb.T, cfg.decoder.final_logit_softcapping)
        assert float((mine - logits).abs().max()) < 1e-5
        with Float64Softmax(mt):
            outs64 = reference_outputs(copy.deepcopy(model).double(), t)
        notes["hf_f32_vs_f64_max_abs"] = f32_vs_f64(t, (enc_out, dec_out, logits), outs64)
        for name, tc, length in (("encoder", cfg.encoder.text_config, am.shape[1]),
                                 ("decoder", cfg.decoder, dm.shape[1])):
            if "sliding_attention" in tc.layer_types and tc.sliding_window < length:
                wide = copy.deepcopy(model)
                widen_windows(wide.model.encoder.text_model if name == "encoder" else wide.model.decoder)
                _, _, lw = reference_outputs(wide, t)
                notes[f"{name}_window_effect_on_logits"] = valid_max_diff(lw, logits, dm)
                assert notes[f"{name}_window_effect_on_logits"] > 1e-2, notes
        if cfg.decoder.attn_logit_softcapping is not None:  # read by HF but never applied (docs/model.md)
            nocap = copy.deepcopy(model)
            nocap.config.decoder.attn_logit_softcapping = None
            nocap.config.encoder.text_config.attn_logit_softcapping = None
            for stack in (nocap.model.encoder.text_model, nocap.model.decoder):
                for layer in stack.layers:
                    layer.self_attn.attn_logit_softcapping = None
            _, _, ln = reference_outputs(nocap, t)
            assert torch.equal(ln, logits), "attn_logit_softcapping changed HF's result"
            notes["attn_logit_softcapping_has_no_effect_in_hf"] = True
        if case.get("rope_check"):  # the linear factors must matter
            plain = copy.deepcopy(model)
            for stack in (plain.model.encoder.text_model, plain.model.decoder):
                for kind in ("full_attention", "sliding_attention"):
                    setattr(stack.rotary_emb, kind + "_inv_freq", getattr(stack.rotary_emb, kind + "_inv_freq") *
                            stack.config.rope_parameters[kind].get("factor", 1.0))
            _, _, lp = reference_outputs(plain, t)
            notes["linear_rope_effect_on_logits"] = valid_max_diff(lp, logits, dm)
            assert notes["linear_rope_effect_on_logits"] > 1e-2, notes
        eoi = cfg.eoi_token_index
        if (t["input_ids"] == eoi).any():  # the eoi row must matter
            plain = copy.deepcopy(model)
            plain.model.encoder.text_model.embed_tokens.eoi_token_index = -1
            _, _, lp = reference_outputs(plain, t)
            notes["eoi_embedding_effect_on_logits"] = valid_max_diff(lp, logits, dm)
            assert notes["eoi_embedding_effect_on_logits"] > 1e-2, notes
    return notes


def gen_config(n, **kw):
    return GenerationConfig(max_new_tokens=n, eos_token_id=[EOS], pad_token_id=PAD, decoder_start_token_id=BOS,
                            bos_token_id=BOS, do_sample=False, use_cache=True, **kw)


def generate(model, t, cfg):
    with torch.no_grad():
        return model.generate(input_ids=t["input_ids"], attention_mask=t["attention_mask"], generation_config=cfg,
                              return_dict_in_generate=True, output_scores=True)


def strip(row, pad_after_eos):
    """Generated ids after the decoder start, up to and including the first eos."""
    out = []
    for tok in row[1:]:
        out.append(int(tok))
        if tok == EOS:
            break
    return out


def generation(model, t, n):
    g = generate(model, t, gen_config(n))
    b = generate(model, t, gen_config(n, num_beams=4, length_penalty=1.0, early_stopping=False))
    with Float64Softmax(mt):  # padded encoder rows can be fully masked: keep them finite in float64
        g64 = generate(copy.deepcopy(model).double(), t, gen_config(n))
        b64 = generate(copy.deepcopy(model).double(), t, gen_config(n, num_beams=4, length_penalty=1.0,
                                                                     early_stopping=False))
    assert torch.equal(g.sequences, g64.sequences), "greedy decision is not robust to float32 rounding"
    assert torch.equal(b.sequences, b64.sequences), "beam decision is not robust to float32 rounding"
    greedy = [strip(r.tolist(), True) for r in g.sequences]
    beam = [strip(r.tolist(), True) for r in b.sequences]
    return dict(max_new_tokens=n, eos_token_id=[EOS], pad_token_id=PAD, decoder_start_token_id=BOS,
                greedy=greedy, beam=dict(num_beams=4, length_penalty=1.0, early_stopping=False, sequences=beam,
                                         sequences_scores=[float(x) for x in b.sequences_scores]),
                stopped_early={"greedy": [EOS in r for r in greedy], "beam": [EOS in r for r in beam]})


def write_text_model_copy(cdir):
    """hf_text_model/: the same checkpoint with the encoder's text tensors under model.encoder.text_model.
    (the in-memory module path; transformers' t5gemma2_encoder key mapping loads both spellings)."""
    from safetensors.torch import load_file, save_file
    src, dst = os.path.join(cdir, "hf"), os.path.join(cdir, "hf_text_model")
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "config.json"), dst)
    sd = load_file(os.path.join(src, "model.safetensors"))
    out = {}
    for k, v in sd.items():
        if k.startswith("model.encoder.") and not k.startswith(("model.encoder.vision_tower.",
                                                                 "model.encoder.multi_modal_projector.")):
            k = "model.encoder.text_model." + k[len("model.encoder."):]
        out[k] = v
    save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    ref = T5Gemma2ForConditionalGeneration.from_pretrained(dst, dtype=torch.float32, attn_implementation="eager")
    orig = T5Gemma2ForConditionalGeneration.from_pretrained(src, dtype=torch.float32, attn_implementation="eager")
    for (n1, p1), (n2, p2) in zip(sorted(ref.state_dict().items()), sorted(orig.state_dict().items())):
        assert n1 == n2 and torch.equal(p1, p2), n1  # transformers reads both spellings to the same model


def right(n_valid, length):
    return [1] * n_valid + [0] * (length - n_valid)


def cases():
    out = []
    out.append(dict(
        name="basic", seed=1601, eoi=60, image=61,
        description="GQA nh=4 nkv=2, hd=8, qpas=8, H=32; layers [sliding, full] in both stacks; even window 4 "
                    "(asymmetric encoder window) < Le=10; right padding; eoi token in the input; no soft-caps",
        enc=text_cfg(64, 32, 48, ["sliding_attention", "full_attention"], 4, 2, 8, 8, 4),
        dec=text_cfg(64, 32, 48, ["sliding_attention", "full_attention"], 4, 2, 8, 8, 4),
        enc_masks=[right(10, 10), right(7, 10), right(4, 10)], dec_lens=[8, 5, 2], ld=8,
        special=[(0, 3, 60), (1, 6, 60)], gen_new=8, text_model_copy=True, eos_boost=4.0, emb_std=0.1))
    out.append(dict(
        name="window", seed=1602, eoi=92, image=93,
        description="odd window 5 (encoder) / 3 (decoder) < Le=13, Ld=11; 3 layers [s, s, f] / [s, f, s]; "
                    "MQA nh=2 nkv=1, hd=16, qpas=12 != hd, nh*hd=32 != H=24; rope thetas 5e5 / 2e3; "
                    "attn_logit_softcapping 20 (HF reads it but never applies it: checked), final soft-cap 15; right "
                    "padding, a hole, a left-padded row",
        enc=text_cfg(96, 24, 40, ["sliding_attention", "sliding_attention", "full_attention"], 2, 1, 16, 12, 5,
                     theta_g=5e5, theta_l=2e3, attn_cap=20.0, final_cap=15.0),
        dec=text_cfg(96, 24, 40, ["sliding_attention", "full_attention", "sliding_attention"], 2, 1, 16, 12, 3,
                     theta_g=5e5, theta_l=2e3, attn_cap=20.0, final_cap=15.0),
        enc_masks=[right(13, 13), [1] * 5 + [0] + [1] * 5 + [0, 0], [0, 0, 0] + [1] * 10], dec_lens=[11, 9, 6],
        ld=11, gen_new=10, eos_boost=3.0, emb_std=0.1))
    out.append(dict(
        name="tp", seed=1603, eoi=100, image=101,
        description="MHA nh=nkv=4 (kv heads split under TP=2), hd=8, H=32, I=36, V=105 (uneven vocab split), "
                    "qk gain 2.5; 4 layers [s, s, s, f] window 6 < Le=12; decoder window 2; padding",
        enc=text_cfg(105, 32, 36, ["sliding_attention"] * 3 + ["full_attention"], 4, 4, 8, 8, 6),
        dec=text_cfg(105, 32, 36, ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
                     4, 4, 8, 8, 2),
        enc_masks=[right(12, 12), right(9, 12)], dec_lens=[9, 7], ld=9, gen_new=9, qk_gain=2.5, eos_boost=3.0, emb_std=0.1))
    lin = dict(factor_g=8.0, factor_l=2.0)
    out.append(dict(
        name="linear", seed=1604, eoi=76, image=77,
        description="linear RoPE scaling (Gemma 3 4B style): full layers factor 8, sliding layers factor 2; "
                    "GQA nh=4 nkv=2, hd=8, H=32; layers [s, f, s, f]; window 4 < Le=12; padding",
        enc=text_cfg(80, 32, 40, ["sliding_attention", "full_attention"] * 2, 4, 2, 8, 8, 4, **lin),
        dec=text_cfg(80, 32, 40, ["sliding_attention", "full_attention"] * 2, 4, 2, 8, 8, 4, **lin),
        enc_masks=[right(12, 12), right(8, 12)], dec_lens=[10, 6], ld=10, gen_new=10, eos_boost=3.0, emb_std=0.1,
        rope_check=True))
    return out


def make_case(case):
    cdir = os.path.join(OUT_DIR, case["name"])
    os.makedirs(cdir, exist_ok=True)
    torch.manual_seed(case["seed"])
    model = T5Gemma2ForConditionalGeneration(build_config(case["enc"], case["dec"], case["eoi"], case["image"]))
    model.eval()
    init_weights(model, case["seed"], emb_std=case.get("emb_std", 0.5), qk_gain=case.get("qk_gain", 2.0),
                 eos_boost=case.get("eos_boost", 1.0))
    ref = save_and_reload(model, os.path.join(cdir, "hf"))
    assert ref.config.eoi_token_index == case["eoi"] and ref.config.image_token_index == case["image"]
    V = case["enc"]["vocab_size"]
    # ids in [3, V-4): never pad/eos/bos; cases put eoi/image at V-4 or above
    batch = make_batch(case["seed"], 3, V - 4, case["enc_masks"], case["dec_lens"], case["ld"], case.get("special", ()))
    t = {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}
    enc_out, dec_out, logits = reference_outputs(ref, t)
    notes = check_forward(ref, t, enc_out, dec_out, logits, case)
    gen = generation(ref, t, case["gen_new"])
    gen["requests"] = [[tok for tok, m in zip(r, mk) if m] for r, mk in zip(batch["input_ids"], batch["attention_mask"])]
    # the C engine pads requests on the right; left-padded / holed rows are fed unpadded: check HF agrees
    right_pad = {"input_ids": torch.tensor([r + [PAD] * (len(batch["input_ids"][0]) - len(r)) for r in gen["requests"]]),
                 "attention_mask": torch.tensor([[1] * len(r) + [0] * (len(batch["input_ids"][0]) - len(r))
                                                 for r in gen["requests"]])}
    g2 = generation(ref, right_pad, case["gen_new"])
    gen["same_when_right_padded"] = g2["greedy"] == gen["greedy"] and g2["beam"]["sequences"] == gen["beam"]["sequences"]
    if not gen["same_when_right_padded"]:  # position ids differ for holes: keep the right-padded reference
        gen["greedy"], gen["beam"] = g2["greedy"], g2["beam"]
    if case.get("text_model_copy"):
        write_text_model_copy(cdir)
    write_forward(cdir, batch, enc_out, dec_out, logits)
    write_json(os.path.join(cdir, "gen.json"), gen)
    meta = dict(H=case["enc"]["hidden_size"], V=V, description=case["description"], seed=case["seed"],
                **output_meta(batch, t, enc_out, dec_out, logits), **versions(), **notes)
    write_json(os.path.join(cdir, "meta.json"), meta)
    return meta, gen


def main(argv):
    setup_torch()
    for case in selected(cases(), argv):
        meta, gen = make_case(case)
        print("%-7s B=%d Le=%d Ld=%d V=%d max|logit|=%.2f f32-vs-f64 logits=%.1e greedy eos=%s beam eos=%s" % (
            case["name"], meta["B"], meta["Le"], meta["Ld"], meta["V"], meta["max_abs_logit"],
            meta["hf_f32_vs_f64_max_abs"]["logits"], gen["stopped_early"]["greedy"], gen["stopped_early"]["beam"]))


if __name__ == "__main__":
    main(sys.argv)
