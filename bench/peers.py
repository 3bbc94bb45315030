#!/usr/bin/env python3
"""make bench-peers: t5g against Hugging Face transformers (eager, float32) and CTranslate2
(float32 and int8) on one T5Gemma model with the t5gemma-s-s shape, the same token ids and the
same thread count, in interleaved repetitions.  Not run by CI (needs torch, transformers,
ctranslate2 from PyPI: `pip install torch transformers ctranslate2 tokenizers safetensors`).

The model: random float32 weights (seeded), the eos rows 1 and 107 of the tied embedding set to
zero, so that no system ever picks eos and every row generates exactly --new tokens (t5g has no
--min-new-tokens yet: this is the "zeroed-eos trick").  Note: CTranslate2's T5Gemma converter
drops T5Gemma's attention and final-logit soft-caps, so its outputs are a different function of
the same weights; the "rows agree" column counts rows identical to HF's.

Each (system, workload, repetition) runs in its own process that loads the model, runs one
warm-up and one timed run (loading is not timed for anyone); repetitions go round-robin over
the systems so all see the same machine.  Printed: tokens/s median [min-max], ratios t5g/CT2 and
t5g/HF (median of the per-repetition ratios [range]), peak RSS, rows identical to HF.

usage: python3 bench/peers.py [--work build/peers] [--reps 3] [--threads 2] [--only b32g,b32b,b1g,enc]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EOS = [1, 107]
V, H, I, L, NH, HD = 256000, 512, 1024, 8, 8, 64   # the t5gemma-s-s preset
WORKLOADS = {  # name: (batch, beams, new tokens, source length, what is counted)
    "b32g": (32, 1, 32, 64, "new"),
    "b32b": (32, 4, 32, 64, "new"),
    "b1g": (1, 1, 32, 64, "new"),
    "enc": (8, 1, 1, 512, "source"),   # encoder 8 x 512 (+ one decoder step): source tokens/s
}
LABEL = {"b32g": "batch 32 greedy", "b32b": "batch 32 beam 4", "b1g": "batch 1 greedy",
         "enc": "encoder 8 x 512"}


def build_model(work):
    hf = os.path.join(work, "hf")
    if os.path.exists(os.path.join(hf, "model.safetensors")):
        return hf
    import torch
    from transformers import T5GemmaConfig, T5GemmaForConditionalGeneration
    from tokenizers import Tokenizer, models
    def stack():
        return dict(vocab_size=V, hidden_size=H, intermediate_size=I, num_hidden_layers=L, num_attention_heads=NH,
                    num_key_value_heads=NH, head_dim=HD, query_pre_attn_scalar=HD, sliding_window=4096,
                    rms_norm_eps=1e-6, attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                    hidden_activation="gelu_pytorch_tanh", pad_token_id=0, eos_token_id=EOS, bos_token_id=2)
    cfg = T5GemmaConfig(encoder=stack(), decoder=stack(), vocab_size=V, tie_word_embeddings=True, pad_token_id=0,
                        eos_token_id=EOS, bos_token_id=2)
    torch.manual_seed(1234)
    model = T5GemmaForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if name.startswith("lm_head."):
                continue
            std = 0.2 if name.endswith("norm.weight") else 0.5 if "embed_tokens" in name else 1.0 / p.shape[1] ** 0.5
            p.copy_(torch.randn(p.shape, dtype=torch.float32) * std)
        for row in EOS:
            model.model.decoder.embed_tokens.weight[row].zero_()
        if model.lm_head.out_proj.weight.data_ptr() != model.model.decoder.embed_tokens.weight.data_ptr():
            model.lm_head.out_proj.weight.copy_(model.model.decoder.embed_tokens.weight)
    model.generation_config.decoder_start_token_id = 2
    model.generation_config.eos_token_id = EOS
    model.generation_config.pad_token_id = 0
    os.makedirs(hf, exist_ok=True)
    model.save_pretrained(hf)
    # a word-level tokenizer whose token i is "<i>": CTranslate2 takes tokens as strings
    vocab = {f"<{i}>": i for i in range(V)}
    names = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>"}
    for i, n in names.items():
        del vocab[f"<{i}>"]
        vocab[n] = i
    Tokenizer(models.WordLevel(vocab, unk_token="<unk>")).save(os.path.join(hf, "tokenizer.json"))
    with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<bos>", "eos_token": "<eos>",
                   "unk_token": "<unk>", "pad_token": "<pad>", "add_bos_token": False, "add_eos_token": False}, f)
    return hf


def convert(work, hf):
    h5 = os.path.join(work, "model.h5")
    if not os.path.exists(h5):
        subprocess.run([os.path.join(ROOT, "build", "t5g"), "convert", "--hf", hf, "-o", h5], check=True)
    for q in ("float32", "int8"):
        out = os.path.join(work, "ct2-" + q)
        if not os.path.exists(os.path.join(out, "model.bin")):
            subprocess.run(["ct2-transformers-converter", "--model", hf, "--output_dir", out, "--quantization", q,
                            "--force"], check=True, stdout=subprocess.DEVNULL)
    return h5


def make_ids(work):
    """32 rows of 64 ids and 8 rows of 512 ids (deterministic, no special tokens)."""
    out = {}
    for name, (B, _, _, S, _) in WORKLOADS.items():
        path = os.path.join(work, f"ids-{B}x{S}.txt")
        x = 12345
        with open(path, "w") as f:
            for b in range(B):
                row = []
                for _ in range(S):
                    x = (x * 1103515245 + 12345) % 2 ** 31
                    row.append(4 + x % 30000)
                f.write(" ".join(map(str, row)) + "\n")
        out[name] = path
    return out


# ---- one measurement in a child process: prints a JSON line ----

def child(args):
    if args.system == "build":  # torch is imported only in children: the parent stays small, so the
        convert(args.work, build_model(args.work))  # peak RSS a child inherits across exec is its own
        import ctranslate2, torch, transformers
        print(f"versions: torch {torch.__version__}, transformers {transformers.__version__}, "
              f"ctranslate2 {ctranslate2.__version__}")
        return
    B, K, N, S, _ = WORKLOADS[args.workload]
    rows = [list(map(int, l.split())) for l in open(args.ids)][:B]
    import resource
    if args.system == "hf":
        import torch
        from transformers import T5GemmaForConditionalGeneration
        torch.set_num_threads(args.threads)
        model = T5GemmaForConditionalGeneration.from_pretrained(args.hf, dtype=torch.float32,
                                                                attn_implementation="eager").eval()
        ids = torch.tensor(rows)
        def run():
            with torch.no_grad():
                out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=N,
                                     num_beams=K, do_sample=False, early_stopping=False, length_penalty=1.0)
            return [r[1:].tolist() for r in out]
    elif args.system.startswith("ct2"):
        import ctranslate2
        tr = ctranslate2.Translator(os.path.join(args.work, "ct2-" + args.system[4:]), device="cpu",
                                    inter_threads=1, intra_threads=args.threads)
        vocab = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>"}
        tok = [[vocab.get(i, f"<{i}>") for i in r] for r in rows]
        special = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
        def inv(t):
            return special[t] if t in special else int(t[1:-1])
        def run():
            res = tr.translate_batch(tok, beam_size=K, max_decoding_length=N, max_batch_size=B, length_penalty=1.0,
                                     return_scores=False)
            return [[inv(t) for t in r.hypotheses[0]] for r in res]
    else:
        out = os.path.join(args.work, f"t5g-{args.workload}.out")
        p = subprocess.run([os.path.join(ROOT, "build", "bench", "bench_gen"), "-m", os.path.join(args.work, "model.h5"),
                            "--ids", args.ids, "--batch", str(B), "--beams", str(K), "--new", str(N), "--threads",
                            str(args.threads), "--reps", "2", "--out", out], capture_output=True, text=True)
        if p.returncode:
            sys.exit("bench_gen failed: " + p.stderr)
        secs = [float(l.split()[3]) for l in p.stdout.splitlines() if l.startswith("rep ")]
        rss = [int(l.split()[1]) for l in p.stdout.splitlines() if l.startswith("maxrss_kb")][0]
        outs = [list(map(int, l.split())) for l in open(out)]
        print(json.dumps({"seconds": secs[-1], "rss_kb": rss, "outputs": outs}))
        return
    run()  # warm-up
    t0 = time.perf_counter()
    outs = run()
    t = time.perf_counter() - t0
    print(json.dumps({"seconds": t, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "outputs": outs}))


def measure(system, workload, ids, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--system", system, "--workload", workload, "--ids", ids,
           "--work", args.work, "--hf", os.path.join(args.work, "hf"), "--threads", str(args.threads)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{system} {workload} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def fmt(v):
    return f"{statistics.median(v):8.1f} [{min(v):.1f}-{max(v):.1f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "peers"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="b32g,b32b,b1g,enc")
    ap.add_argument("--systems", default="t5g,ct2-float32,ct2-int8,hf")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--system"), ap.add_argument("--workload"), ap.add_argument("--ids"), ap.add_argument("--hf")
    args = ap.parse_args()
    if args.child:
        return child(args)
    os.makedirs(args.work, exist_ok=True)
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--system", "build", "--work", args.work],
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit("building the model failed:\n" + p.stderr[-3000:])
    versions = p.stdout.strip().splitlines()[-1]
    ids = make_ids(args.work)
    systems = args.systems.split(",")
    print(f"model: t5gemma-s-s shape, random float32, eos rows zeroed (every row makes the full length); "
          f"threads {args.threads}; {args.reps} interleaved repetitions")
    print("note: CTranslate2's T5Gemma converter drops the attention / final-logit soft-caps")
    print(versions)
    for w in args.only.split(","):
        B, K, N, S, unit = WORKLOADS[w]
        tps = {s: [] for s in systems}
        rss, outs = {}, {}
        for rep in range(args.reps):
            for s in systems:
                r = measure(s, w, ids[w], args)
                count = B * N if unit == "new" else B * S
                tps[s].append(count / r["seconds"])
                rss[s] = max(rss.get(s, 0), r["rss_kb"])
                outs[s] = r["outputs"]
        print(f"\n== {LABEL[w]} ({'new' if unit == 'new' else 'source'} tokens/s; source {S} tokens, {N} new)")
        for s in systems:
            agree = ""
            if "hf" in outs and s != "hf":
                same = sum(1 for a, b in zip(outs[s], outs["hf"]) if a == b)
                agree = f"rows identical to HF {same}/{len(outs['hf'])}"
            print(f"  {s:12s} {fmt(tps[s])} tok/s   peak RSS {rss[s] / 1024:7.0f} MB   {agree}")
        if "t5g" in tps:
            for peer in [s for s in systems if s != "t5g"]:
                ratios = [a / b for a, b in zip(tps["t5g"], tps[peer])]
                print(f"  t5g / {peer:12s} {statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")


if __name__ == "__main__":
    main()
