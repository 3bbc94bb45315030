#!/usr/bin/env python3
"""check_layers.py - fails (exit 1) on an include that goes up the folder layers of src/ and eval/.

A file may include headers of its own folder and of folders on a lower layer only, so no
include cycle between folders can form (docs/architecture.md, "Layers").  Prints each
offending include as FILE:LINE: FOLDER includes HEADER (layer N > M).
Usage: python3 tools/check_layers.py [REPO_ROOT]"""
import os
import re
import sys

# lowest first; folders on the same layer may not include each other
LAYERS = [
    ["core"],
    ["backend"],
    ["parallel", "text"],
    ["io"],
    ["model"],
    ["plan", "generate"],
    ["eval"],
    ["cli"],
]
RANK = {folder: n for n, names in enumerate(LAYERS) for folder in names}
SOURCES = (".c", ".h", ".cc", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """The layer folder of a file (relative to the repository root).  src/t5g.h, the library's
    umbrella header, counts as model: it declares t5g_backbone and includes model and below."""
    parts = path.split("/")
    if parts[0] == "eval":
        return "eval"
    return parts[1] if len(parts) > 2 else "model"


def target_of(header, path, root):
    """The folder a quoted include names: "model/x.h" and "eval/x.h" by prefix, "../core/x.h"
    relative to the file, "x.h" its own folder (or src/x.h)."""
    if "/" not in header:
        here = os.path.join(root, os.path.dirname(path), header)
        if os.path.exists(here):
            return folder_of(path)
        return folder_of("src/" + header) if os.path.exists(os.path.join(root, "src", header)) else None
    if header.startswith("../"):  # relative to the including file
        return folder_of(os.path.normpath(os.path.join(os.path.dirname(path), header)).replace(os.sep, "/"))
    return header.split("/")[0]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    bad = []
    files = 0
    for top in ("src", "eval"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith(SOURCES):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                files += 1
                src = folder_of(path)
                src_rank = RANK.get(src)
                if src_rank is None:
                    bad.append(f"{path}: folder '{src}' has no layer; add it to LAYERS in tools/check_layers.py")
                    continue
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        tgt = target_of(m.group(1), path, root)
                        if tgt == src:
                            continue
                        tgt_rank = RANK.get(tgt)
                        if tgt_rank is None:
                            bad.append(f"{path}:{lineno}: includes \"{m.group(1)}\", outside the layered folders")
                        elif tgt_rank >= src_rank:
                            bad.append(f"{path}:{lineno}: {src} includes {m.group(1)} "
                                       f"(layer {tgt_rank} >= {src_rank}: only lower layers may be included)")
    for line in bad:
        print(line)
    print(f"check_layers: {files} files, {len(bad)} upward or unknown includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
