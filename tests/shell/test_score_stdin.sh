#!/usr/bin/env bash
# `t5g score bleu|chrf|ter` through the real binary: the hypothesis from stdin (no -i, or -i -)
# gives the line sacrebleu printed for the same stdin (tests/fixtures/bleu/cli/chrf_ter_cases.json,
# written by tests/reference/make_chrf_ter_fixtures.py), the same output as -i FILE, and bad
# input gives one error line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CASES=$PWD/tests/fixtures/bleu/cli/chrf_ter_cases.json
cd tests/fixtures/bleu/cli

for m in bleu chrf ter; do
    # universal newlines on stdin: "first line\rsecond\r\nthird  \n" is three segments
    line=$("$T5G" score $m ref3.txt -f text < hyp_cr.txt)
    grep -qF "\"stdout\": \"$line\\n\"" "$CASES" || fail "$m from stdin: '$line' is not what sacrebleu printed"
    echo "ok: $m stdin = sacrebleu: $line"
    "$T5G" score $m ref0.txt ref1.txt -f text < hyp_stdin.txt > "$tmp/a"
    "$T5G" score $m ref0.txt ref1.txt -f text -i - < hyp_stdin.txt > "$tmp/b"
    "$T5G" score $m ref0.txt ref1.txt -f text -i hyp_stdin.txt < /dev/null > "$tmp/c"
    cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tmp/c" || fail "$m: stdin, -i - and -i FILE differ"
    echo "ok: $m stdin = -i - = -i FILE"
    set +e
    "$T5G" score $m ref0.txt < hyp.txt > "$tmp/out" 2> "$tmp/err"
    rc=$?
    set -e
    [ $rc -ne 0 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "contains a tab" "$tmp/err" ||
        fail "$m: a tab on stdin must be one error line (rc $rc): $(cat "$tmp/err")"
    echo "ok: $(cat "$tmp/err")"
done
echo "test_score_stdin: all passed"
