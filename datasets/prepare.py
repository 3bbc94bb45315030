#!/usr/bin/env python3
"""Convert the official raw evaluation sets into the suite's JSONL shards (datasets/README.md).

  prepare.py wmt14-en-fr   --src SRC --ref REF [--ref REF2 ...] [--format auto|sgm|text]
                           [--variant full|filtered|other] [--extract sacrebleu|tfds] --out DIR
  prepare.py cnn-dailymail --input test.csv|test.jsonl [--format auto|csv|jsonl] --out DIR
  prepare.py squad-v2      --input dev-v2.0.json --out DIR
  common: [--num-shards N (16)] [--force]

Output: DIR/<task>/shard-XXXXX-of-YYYYY.jsonl + DIR/<task>/manifest.json (+ DIR/squad-v2/dev.json).
A sample goes to shard FNV-1a-64(id as UTF-8) % YYYYY, so the layout depends only on the ids and
the shard count chosen here, never on how many ranks read it later.

Python 3 standard library only: it runs on cluster login nodes as they are.
Everything is read and checked before anything is written; the output is built in a temporary
directory next to DIR/<task> and renamed into place, so a failure leaves no partial output.
"""
import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import sys

FORMAT_VERSION = 1
CREATED_BY = "datasets/prepare.py (format %d)" % FORMAT_VERSION
TASKS = ("wmt14-en-fr", "cnn-dailymail", "squad-v2")
FNV_OFFSET, FNV_PRIME, MASK64 = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


class InputError(Exception):
    """A problem with the user's input: reported as one clear line, exit status 1."""


def fnv1a64(text):
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def shard_of(sample_id, num_shards):
    return fnv1a64(sample_id) % num_shards


def shard_name(k, n):
    return "shard-%05d-of-%05d.jsonl" % (k, n)


def read_text(path):
    """File contents as str; clear errors for missing files and invalid UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError("cannot read %s: %s" % (path, e.strerror or e))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise InputError("%s: invalid UTF-8 at byte %d (line %d); the file must be UTF-8" % (path, e.start, line))
    return text[1:] if text.startswith("\ufeff") else text


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# WMT14 newstest2014: SGM (sacreBLEU / TFDS extraction) or line-aligned plain text

SET_OPEN = re.compile(r'<(srcset|refset|tstset)\b[^>]*>\s*$')
SET_CLOSE = re.compile(r'</(srcset|refset|tstset)>\s*$')
DOC_OPEN = re.compile(r'<doc\b([^>]*)>\s*$')
ATTR = re.compile(r'(\w+)="([^"]*)"')
SEG = re.compile(r'<seg id="?(\d+)"?>(.*)</seg>\s*$')
IGNORED = re.compile(r'</?(p|hl)>\s*$')   # paragraph / headline markers of older WMT sets


def extract_seg(raw, how):
    """Segment text as sacreBLEU (strip, collapse whitespace runs) or TFDS (verbatim) extract it.
    Entities stay as they are in both (sacreBLEU's 13a tokenizer unescapes four of them later)."""
    return re.sub(r"\s+", " ", raw.strip()) if how == "sacrebleu" else raw


def parse_sgm(path, how):
    """[(docid, segid, text, origlang)] of one SGM file, checking its structure line by line."""
    lines = read_text(path).split("\n")
    out, doc, opened, closed = [], None, False, False
    for n, line in enumerate(lines, 1):
        s = line.strip()
        where = "%s:%d" % (path, n)
        if not s:
            continue
        if closed:
            raise InputError("%s: text after the closing set tag" % where)
        if not opened:
            if not SET_OPEN.match(s):
                raise InputError("%s: not an SGM test set (expected <srcset ...> or <refset ...> on the first "
                                 "line; use --format text for plain text)" % where)
            opened = True
        elif SET_CLOSE.match(s):
            if doc is not None:
                raise InputError("%s: <doc docid=\"%s\"> is not closed" % (where, doc["docid"]))
            closed = True
        elif DOC_OPEN.match(s):
            if doc is not None:
                raise InputError("%s: <doc> inside <doc docid=\"%s\"> (missing </doc>)" % (where, doc["docid"]))
            attrs = dict(ATTR.findall(DOC_OPEN.match(s).group(1)))
            if not attrs.get("docid"):
                raise InputError("%s: <doc> without a docid attribute" % where)
            doc = {"docid": attrs["docid"], "origlang": attrs.get("origlang", "")}
        elif s == "</doc>":
            if doc is None:
                raise InputError("%s: </doc> without an open <doc>" % where)
            doc = None
        elif s.startswith("<seg"):
            m = SEG.match(s) if line.startswith("<seg") else None
            if not m:
                raise InputError("%s: malformed segment (expected <seg id=\"N\">text</seg> on one line)" % where)
            if doc is None:
                raise InputError("%s: <seg> outside a <doc>" % where)
            raw = SEG.match(line.rstrip("\r")).group(2) if how == "tfds" else m.group(2)
            out.append((doc["docid"], m.group(1), extract_seg(raw, how), doc["origlang"]))
        elif not IGNORED.match(s):
            raise InputError("%s: unexpected line in an SGM file: %.60s" % (where, s))
    if not opened:
        raise InputError("%s: empty file" % path)
    if not closed:
        raise InputError("%s: missing the closing </srcset> or </refset> tag (truncated file?)" % path)
    return out


def read_plain(path):
    text = read_text(path)
    if text.endswith("\n"):
        text = text[:-1]
    lines = [l[:-1] if l.endswith("\r") else l for l in text.split("\n")] if text else []
    for n, l in enumerate(lines, 1):
        if l.lstrip().startswith("<seg"):
            raise InputError("%s:%d: looks like SGM (<seg ...>); use --format sgm or an .sgm file name" % (path, n))
    return lines


def wmt_format(args, path):
    if args.format != "auto":
        return args.format
    return "sgm" if path.lower().endswith(".sgm") else "text"


def load_wmt(args):
    """Samples {id, src, refs[, docid, origlang]} in file order; ids docid:segid (SGM) or line-N."""
    if not args.src or not args.ref:
        raise InputError("wmt14-en-fr needs --src and at least one --ref")
    if args.format not in ("auto", "sgm", "text"):
        raise InputError("--format for wmt14-en-fr is auto, sgm or text")
    fmt = wmt_format(args, args.src)
    if any(wmt_format(args, p) != fmt for p in args.ref):
        raise InputError("--src and --ref must both be SGM or both plain text")
    if fmt == "text":
        src = read_plain(args.src)
        refs = [read_plain(p) for p in args.ref]
        for p, r in zip(args.ref, refs):
            if len(r) != len(src):
                raise InputError("line counts differ: %s has %d lines, %s has %d (files must be line-aligned)"
                                 % (args.src, len(src), p, len(r)))
        return [{"id": "line-%d" % (i + 1), "src": s, "refs": [r[i] for r in refs]} for i, s in enumerate(src)]
    src = parse_sgm(args.src, args.extract)
    refs = [parse_sgm(p, args.extract) for p in args.ref]
    for p, r in zip(args.ref, refs):
        if len(r) != len(src):
            raise InputError("segment counts differ: %s has %d segments, %s has %d" % (args.src, len(src), p, len(r)))
        for (d1, s1, _, _), (d2, s2, _, _) in zip(src, r):
            if (d1, s1) != (d2, s2):
                raise InputError("%s and %s are not aligned: source doc %s seg %s meets reference doc %s seg %s"
                                 % (args.src, p, d1, s1, d2, s2))
    samples = []
    for i, (docid, segid, text, origlang) in enumerate(src):
        samples.append({"id": "%s:%s" % (docid, segid), "src": text, "refs": [r[i][2] for r in refs],
                        "docid": docid, "origlang": origlang})
    return samples


# ----------------------------------------------------------------------------------------------
# CNN/DailyMail 3.0.0: CSV or JSONL with id, article, highlights

CNN_FIELDS = ("id", "article", "highlights")


def cnn_record(rec, where):
    if not isinstance(rec, dict):
        raise InputError("%s: expected an object with %s" % (where, ", ".join(CNN_FIELDS)))
    missing = [k for k in CNN_FIELDS if k not in rec]
    if missing:
        raise InputError("%s: missing field(s) %s" % (where, ", ".join(missing)))
    hl = rec["highlights"]
    if isinstance(hl, list) and all(isinstance(h, str) for h in hl):
        hl = "\n".join(hl)          # a list of highlight sentences: joined as 3.0.0 does
    for k, v in (("id", rec["id"]), ("article", rec["article"]), ("highlights", hl)):
        if not isinstance(v, str):
            raise InputError("%s: field %s must be a string" % (where, k))
    if not rec["id"].strip():
        raise InputError("%s: empty id" % where)
    return {"id": rec["id"], "article": rec["article"], "highlights": hl}


def load_cnn_csv(path):
    csv.field_size_limit(1 << 30)
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)   # newlines inside quoted fields
    if reader.fieldnames is None:
        raise InputError("%s: empty CSV file" % path)
    missing = [k for k in CNN_FIELDS if k not in reader.fieldnames]
    if missing:
        raise InputError("%s: CSV header lacks column(s) %s (has: %s)"
                         % (path, ", ".join(missing), ", ".join(reader.fieldnames)))
    out = []
    try:
        for row in reader:
            where = "%s:%d" % (path, reader.line_num)
            if None in row or any(row[k] is None for k in CNN_FIELDS):
                raise InputError("%s: wrong number of fields" % where)
            out.append(cnn_record(row, where))
    except csv.Error as e:
        raise InputError("%s:%d: malformed CSV: %s" % (path, reader.line_num, e))
    return out


def load_cnn_jsonl(path):
    out = []
    for n, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise InputError("%s:%d: invalid JSON: %s" % (path, n, e))
        out.append(cnn_record(rec, "%s:%d" % (path, n)))
    return out


def load_cnn(args):
    if not args.input:
        raise InputError("cnn-dailymail needs --input FILE (.csv or .jsonl)")
    fmt = args.format
    if fmt == "auto":
        low = args.input.lower()
        fmt = "csv" if low.endswith(".csv") else "jsonl" if low.endswith((".jsonl", ".json")) else None
        if fmt is None:
            raise InputError("%s: cannot tell CSV from JSONL by the name; pass --format csv or jsonl" % args.input)
    if fmt not in ("csv", "jsonl"):
        raise InputError("--format for cnn-dailymail is auto, csv or jsonl")
    samples = load_cnn_csv(args.input) if fmt == "csv" else load_cnn_jsonl(args.input)
    empty = [s["id"] for s in samples if not s["article"].strip() or not s["highlights"].strip()]
    if empty and not args.skip_empty:
        raise InputError("%s: %d sample(s) with an empty article or highlights (first id %s); the 3.0.0 builder "
                         "drops those: pass --skip-empty to do the same" % (args.input, len(empty), empty[0]))
    drop = set(empty)
    return [s for s in samples if s["id"] not in drop]


# ----------------------------------------------------------------------------------------------
# SQuAD v2.0 dev JSON


def load_squad(args):
    if not args.input:
        raise InputError("squad-v2 needs --input dev-v2.0.json")
    try:
        root = json.loads(read_text(args.input))
    except ValueError as e:
        raise InputError("%s: invalid JSON: %s" % (args.input, e))
    if not isinstance(root, dict) or not isinstance(root.get("data"), list):
        raise InputError("%s: not a SQuAD file (expected an object with a \"data\" list)" % args.input)
    samples = []
    for a, art in enumerate(root["data"]):
        where_a = "%s: data[%d]" % (args.input, a)
        if not isinstance(art, dict) or not isinstance(art.get("paragraphs"), list):
            raise InputError("%s lacks a \"paragraphs\" list" % where_a)
        title = art.get("title", "")
        for p, para in enumerate(art["paragraphs"]):
            where_p = "%s.paragraphs[%d]" % (where_a, p)
            if not isinstance(para, dict) or not isinstance(para.get("context"), str) \
                    or not isinstance(para.get("qas"), list):
                raise InputError("%s needs a \"context\" string and a \"qas\" list" % where_p)
            for q, qa in enumerate(para["qas"]):
                samples.append(squad_question(qa, "%s.qas[%d]" % (where_p, q), title, para["context"]))
    return samples


def squad_question(qa, where, title, context):
    if not isinstance(qa, dict):
        raise InputError("%s: expected an object" % where)
    for key, kind in (("id", str), ("question", str), ("answers", list)):
        if not isinstance(qa.get(key), kind):
            raise InputError("%s: missing or wrong-typed \"%s\"" % (where, key))
    if not isinstance(qa.get("is_impossible"), bool):
        raise InputError("%s (id %s): no boolean \"is_impossible\" (a SQuAD v1.1 file? this task needs "
                         "dev-v2.0.json)" % (where, qa["id"]))
    texts = []
    for ans in qa["answers"]:
        if not isinstance(ans, dict) or not isinstance(ans.get("text"), str):
            raise InputError("%s (id %s): each answer needs a \"text\" string" % (where, qa["id"]))
        texts.append(ans["text"])
    if qa["is_impossible"] and texts:
        raise InputError("%s (id %s): is_impossible is true but answers are given" % (where, qa["id"]))
    if not qa["is_impossible"] and not texts:
        raise InputError("%s (id %s): answerable question without answers" % (where, qa["id"]))
    return {"id": qa["id"], "question": qa["question"], "context": context, "title": title,
            "answers": texts, "is_impossible": qa["is_impossible"]}


# ----------------------------------------------------------------------------------------------
# Writing shards


def check_ids(samples, source):
    seen = {}
    for i, s in enumerate(samples):
        if s["id"] in seen:
            raise InputError("%s: duplicate id %r (samples %d and %d); ids must be unique"
                             % (source, s["id"], seen[s["id"]] + 1, i + 1))
        seen[s["id"]] = i
    if not samples:
        raise InputError("%s: no samples found" % source)


def build(tmp, task, samples, num_shards, sources, options, squad_json):
    """Write every file of DIR/<task> into tmp; returns nothing, raises on I/O errors."""
    buckets = [[] for _ in range(num_shards)]
    for index, s in enumerate(samples):
        rec = {"id": s["id"], "index": index}
        rec.update((k, v) for k, v in s.items() if k != "id")
        buckets[shard_of(s["id"], num_shards)].append(rec)   # appended in file order = sorted by index
    shards = []
    for k, recs in enumerate(buckets):
        name = shard_name(k, num_shards)
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
        shards.append({"file": name, "num_samples": len(recs), "sha256": hashlib.sha256(data).hexdigest()})
    if squad_json:
        shutil.copyfile(squad_json, os.path.join(tmp, "dev.json"))
    manifest = {"format": "t5g-jsonl-shards", "format_version": FORMAT_VERSION, "task": task,
                "num_shards": num_shards, "num_samples": len(samples),
                "shard_of": "fnv1a64(utf8(id)) % num_shards", "options": options,
                "sources": sources, "shards": shards, "created_by": CREATED_BY}
    if squad_json:
        manifest["dev_json"] = "dev.json"
    with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


def publish(out_root, task, write, force):
    """Run write(tmp) in a temporary directory, then rename it to out_root/task."""
    final = os.path.join(out_root, task)
    if os.path.exists(final) and not force:
        raise InputError("%s already exists; pass --force to replace it" % final)
    os.makedirs(out_root, exist_ok=True)
    tmp = os.path.join(out_root, ".%s.tmp-%d" % (task, os.getpid()))
    old = os.path.join(out_root, ".%s.old-%d" % (task, os.getpid()))
    try:
        os.mkdir(tmp)
        write(tmp)
        if os.path.exists(final):
            os.rename(final, old)
        try:
            os.rename(tmp, final)
        except OSError:
            if os.path.exists(old):
                os.rename(old, final)   # put the previous output back
            raise
    finally:
        for d in (tmp, old):
            if os.path.isdir(d):
                shutil.rmtree(d, ignore_errors=True)
    return final


def source_entry(role, path):
    return {"role": role, "path": path, "name": os.path.basename(path), "bytes": os.path.getsize(path),
            "sha256": sha256_of(path)}


def prepare(args):
    if args.num_shards < 1 or args.num_shards > 99999:
        raise InputError("--num-shards must be between 1 and 99999")
    if args.task == "wmt14-en-fr":
        samples = load_wmt(args)
        fmt = wmt_format(args, args.src)
        sources = [source_entry("src", args.src)] + [source_entry("ref", p) for p in args.ref]
        options = {"format": fmt, "variant": args.variant}
        if fmt == "sgm":
            options["extract"] = args.extract
        squad_json = None
    elif args.task == "cnn-dailymail":
        samples = load_cnn(args)
        sources, options, squad_json = [source_entry("input", args.input)], {"skip_empty": args.skip_empty}, None
    else:
        samples = load_squad(args)
        sources, options, squad_json = [source_entry("input", args.input)], {}, args.input
    check_ids(samples, args.input or args.src)
    final = publish(args.out, args.task, lambda tmp: build(
        tmp, args.task, samples, args.num_shards, sources, options, squad_json), args.force)
    print("%s: %d samples in %d shards -> %s" % (args.task, len(samples), args.num_shards, final))


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="prepare.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=TASKS)
    ap.add_argument("--out", required=True, help="output root; the task's shards go to OUT/<task>/")
    ap.add_argument("--num-shards", type=int, default=16, help="fixed shard count (default 16)")
    ap.add_argument("--force", action="store_true", help="replace an existing OUT/<task>")
    ap.add_argument("--src", help="wmt14-en-fr: English source (.sgm or plain text)")
    ap.add_argument("--ref", action="append", default=[], help="wmt14-en-fr: French reference (repeatable)")
    ap.add_argument("--variant", choices=("full", "filtered", "other"), default="other",
                    help="wmt14-en-fr: which newstest2014 release the files are (recorded in the manifest)")
    ap.add_argument("--extract", choices=("sacrebleu", "tfds"), default="sacrebleu",
                    help="wmt14-en-fr SGM: sacrebleu strips and collapses whitespace, tfds keeps seg text verbatim")
    ap.add_argument("--input", help="cnn-dailymail: .csv/.jsonl; squad-v2: dev-v2.0.json")
    ap.add_argument("--format", default="auto", help="wmt14-en-fr: auto|sgm|text; cnn-dailymail: auto|csv|jsonl")
    ap.add_argument("--skip-empty", action="store_true", help="cnn-dailymail: drop samples with empty fields")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        prepare(args)
    except InputError as e:
        sys.stderr.write("prepare.py: error: %s\n" % e)
        return 1
    except OSError as e:
        sys.stderr.write("prepare.py: error: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
