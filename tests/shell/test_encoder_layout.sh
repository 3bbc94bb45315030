#!/usr/bin/env bash
# `--encoder-layout` on the command line (docs/planner.md, ScaLAPACK): `t5g forward` under real
# mpirun with the 2-D ScaLAPACK layout (np 2: the automatic 1x2 grid and 2x1 with 4 x 4 blocks; np 4:
# 2x2) writes encoder_out/decoder_out/logits.npy within 1e-5 (relative to each tensor's scale) of the
# 1-D layout, with the same arg-max lines; bad values fail with one error line and no output folder.
# Exits 77 when this build has no ScaLAPACK (make SCALAPACK=0, or the package is missing).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
python3 -c 'import numpy' 2> /dev/null || skip "python3 cannot import numpy (apt-get install python3-numpy)"
case=tests/fixtures/fwd/gqa
$T5G convert --hf "$case/hf" -o "$tmp/m.h5" -q > /dev/null
if ! $T5G forward -m "$tmp/m.h5" -i "$case/batch.json" -o "$tmp/probe" --encoder-layout 2d -q > /dev/null 2> "$tmp/probe.err"; then
    grep -q "needs ScaLAPACK" "$tmp/probe.err" && skip "this build has no ScaLAPACK"
    cat "$tmp/probe.err"
    fail "forward --encoder-layout 2d on one rank"
fi

fwd() {  # fwd NP LAYOUT OUT
    mpirun -np "$1" --bind-to none "$T5G" forward -m "$tmp/m.h5" -i "$case/batch.json" -o "$3" \
        --encoder-layout "$2" -q > "$3.txt"
}
for run in "2 1d" "2 2d" "2 2d:2x1:4" "4 1d" "4 2d"; do
    set -- $run
    fwd "$1" "$2" "$tmp/np$1_$2"
done
for run in "2 2d" "2 2d:2x1:4" "4 2d"; do
    set -- $run
    ref=$tmp/np$1_1d out=$tmp/np$1_$2
    cmp -s "$ref.txt" "$out.txt" || fail "np $1 $2: arg-max lines differ from 1d"
    python3 - "$ref" "$out" <<'PY' || fail "np $1 $2: outputs differ from 1d beyond 1e-5"
import sys
import numpy as np
ref, out = sys.argv[1:]
for f in ("encoder_out", "decoder_out", "logits"):
    a, b = np.load(f"{ref}/{f}.npy"), np.load(f"{out}/{f}.npy")
    err = np.abs(a - b).max() / max(1.0, np.abs(a).max())
    print(f"{out.split('/')[-1]} {f}: max |2d - 1d| scaled {err:.2e}")
    assert a.shape == b.shape and err <= 1e-5
PY
done

# bad values: one error line each, nothing written
expect_error "is not 1d, 2d" $T5G forward -m "$tmp/m.h5" -i "$case/batch.json" -o "$tmp/bad1" --encoder-layout 3d
expect_error "needs a value" $T5G forward -m "$tmp/m.h5" -i "$case/batch.json" -o "$tmp/bad2" --encoder-layout
expect_error "float32" $T5G forward -m "$tmp/m.h5" -i "$case/batch.json" -o "$tmp/bad3" --encoder-layout 2d \
    --compute-type bf16
expect_error "the grid has 3 ranks but the TP group has 2" mpirun -np 2 --bind-to none "$T5G" forward -m "$tmp/m.h5" \
    -i "$case/batch.json" -o "$tmp/bad4" --encoder-layout 2d:3x1
for d in bad1 bad2 bad3 bad4; do [ ! -e "$tmp/$d" ] || fail "$d: an output folder was left"; done
echo "test_encoder_layout: ok"
