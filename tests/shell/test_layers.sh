#!/usr/bin/env bash
# The folder layers of src/ and eval/ (docs/architecture.md): no file includes a header of a
# higher layer, so no include cycle between folders can come back.  tools/check_layers.py over
# the tree must pass, and over a small tree with an upward include, a same-layer include and
# a folder without a layer it must fail naming each of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v python3 > /dev/null || { echo "SKIP: no python3"; exit 77; }
python3 tools/check_layers.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/core" "$tmp/src/backend/cuda" "$tmp/src/model" "$tmp/src/plan" "$tmp/src/generate" "$tmp/src/newdir" "$tmp/eval"
printf '#include "core/err.h"\n' > "$tmp/src/model/ok.h"                  # down: fine
printf '#include "../core/err.h"\n#include "ok.h"\n' > "$tmp/src/model/ok2.c"  # relative and local: fine
printf '#include "model/ok.h"\n' > "$tmp/src/backend/cuda/up.cu"           # up
printf '#include "plan/p.h"\n' > "$tmp/src/generate/side.c"                # same layer, other folder
printf '#include "generate/g.h"\n' > "$tmp/eval/ok.c"                      # eval above generate: fine
printf '#include "core/err.h"\n' > "$tmp/src/newdir/x.c"                   # no layer
touch "$tmp/src/core/err.h" "$tmp/src/plan/p.h" "$tmp/src/generate/g.h"
rc=0
out=$(python3 tools/check_layers.py "$tmp") || rc=$?
echo "$out"
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, expected 1"; exit 1; }
grep -q '^src/backend/cuda/up.cu:1: backend includes model/ok.h' <<< "$out" || { echo "FAIL: upward include not named"; exit 1; }
grep -q '^src/generate/side.c:1: generate includes plan/p.h' <<< "$out" || { echo "FAIL: same-layer include not named"; exit 1; }
grep -q "^src/newdir/x.c: folder 'newdir' has no layer" <<< "$out" || { echo "FAIL: unlayered folder not named"; exit 1; }
grep -q '3 upward or unknown includes' <<< "$out" || { echo "FAIL: expected exactly 3 findings"; exit 1; }
echo "ok: layers"
