#!/usr/bin/env bash
# Streamed generate input (src/io/jsonl_stream.c, src/cli/gen_stream.c) on inputs many chunks
# long (T5G_GEN_CHUNK_LINES makes chunks of a few lines): DP 1, DP 2, DP 3 and TP 2 write the
# same bytes as one run over a single chunk; a kill mid-run resumed with another DP size is
# identical; duplicate ids far apart and bad lines in another group's chunk are reported with
# their line numbers (blank lines counted) before anything is written; a results file out of
# input order is an error, not a silently reordered output.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODEL=models/demo/t5gemma-demo.h5
wait_lines() {  # wait_lines N GLOB : until the files matching GLOB hold N lines (or 60 s)
    for _ in $(seq 1 1200); do
        # shellcheck disable=SC2086
        [ "$(cat $2 2>/dev/null | wc -l)" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# 56 prompts from the demo model's world, blank lines here and there, string and number ids
# (1 and "1" are different ids)
cat datasets/demo/wmt14-en-fr/shard-0000[0-3]-of-00016.jsonl | head -n 150 | python3 -c '
import json, sys
for i, l in enumerate(sys.stdin):
    src = json.loads(l)["src"]
    if i % 17 == 5: print("")
    if i % 29 == 3: print("   ")
    print(json.dumps({"id": i if i % 3 == 0 else str(i), "text": src}))
' > "$tmp/in.jsonl"
n=$(grep -c '[^[:space:]]' "$tmp/in.jsonl")
G=(-m "$MODEL" -i "$tmp/in.jsonl" --max-new-tokens 6 -q)

echo "== one chunk vs chunks of 7, 5 and 1 lines, DP 1 / 2 / 3, TP 2"
T5G_GEN_CHUNK_LINES=100000 $T5G generate "${G[@]}" -o "$tmp/ref.jsonl"
[ "$(wc -l < "$tmp/ref.jsonl")" -eq "$n" ] || fail "reference has $(wc -l < "$tmp/ref.jsonl") lines, want $n"
diff <(python3 -c 'import json,sys; [print(json.dumps(json.loads(l)["id"])) for l in open(sys.argv[1]) if l.strip()]' "$tmp/in.jsonl") \
     <(python3 -c 'import json,sys; [print(json.dumps(json.loads(l)["id"])) for l in open(sys.argv[1])]' "$tmp/ref.jsonl") > /dev/null ||
    fail "reference ids are not the input ids in input order"
check() {  # check NAME CHUNK NP [generate flags] : same bytes as the reference
    local name=$1 chunk=$2 np=$3; shift 3
    T5G_GEN_CHUNK_LINES=$chunk timeout 300 mpirun -np "$np" --bind-to none $T5G generate "${G[@]}" -o "$tmp/$name.jsonl" "$@"
    cmp -s "$tmp/ref.jsonl" "$tmp/$name.jsonl" || fail "$name differs from the one-chunk run"
    [ -z "$(ls "$tmp" | grep "$name.jsonl.part")" ] || fail "$name: parts left after the merge"
    echo "ok: $name"
}
check dp1_c7 7 1
check dp2_c7 7 2 --tp 1
check dp3_c5 5 3 --tp 1
check tp2_c7 7 2 --tp 2
check dp2_c1 1 2 --tp 1 --batch-size 3
check dp1_default 0 1   # the size rule's own chunks (64 lines here)

echo "== kill -9 mid-run (DP 2), torn tail, resume with DP 1 and then DP 3"
# a longer input for the kill (the 56 prompts finish in well under a second on a quiet machine):
# the same prompts 20 times under new ids, and its one-chunk reference
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in range(20):
    for x in rows: print(json.dumps({"id": "r%d-%s" % (r, x["id"]), "text": x["text"]}))
' "$tmp/in.jsonl" > "$tmp/big.jsonl"
K=(-m "$MODEL" -i "$tmp/big.jsonl" --max-new-tokens 6 -q)
T5G_GEN_CHUNK_LINES=100000 $T5G generate "${K[@]}" -o "$tmp/bigref.jsonl"
export T5G_GEN_CHUNK_LINES=7
killed=0
for try in 1 2 3; do   # a kill that lands after the merge (a very fast machine) is tried again
    rm -f "$tmp/k.jsonl" "$tmp"/k.jsonl.*
    mpirun -np 2 --bind-to none $T5G generate "${K[@]}" -o "$tmp/k.jsonl" --tp 1 --batch-size 1 & pid=$!
    wait_lines 20 "$tmp/k.jsonl.part*" || [ -e "$tmp/k.jsonl" ] || fail "no progress before the kill"
    ranks=$(pgrep -P $pid || true)   # the ranks are mpirun's children: kill them too (by id)
    # shellcheck disable=SC2086
    kill -9 $ranks $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    sleep 0.5
    [ -e "$tmp/k.jsonl" ] || { killed=1; break; }
    echo "note: try $try finished before the kill; again"
done
[ $killed -eq 1 ] || skip "cannot kill the run mid-way (3 tries)"
printf '{"id":"torn","text":"half a li' >> "$tmp/k.jsonl.part1"
timeout 300 $T5G generate "${K[@]}" -o "$tmp/k.jsonl" --resume 2> "$tmp/k.err" || { cat "$tmp/k.err"; fail "resume failed"; }
grep -q "torn last line" "$tmp/k.err" || fail "the torn tail was not reported"
cmp -s "$tmp/bigref.jsonl" "$tmp/k.jsonl" || fail "kill + resume (DP 2 -> DP 1) differs from the reference"
echo "ok: DP 2 killed, resumed with DP 1: identical"
head -n 40 "$tmp/ref.jsonl" > "$tmp/h.jsonl"; cp "$tmp/ref.jsonl.run.json" "$tmp/h.jsonl.run.json"
sed -n '41,60p' "$tmp/ref.jsonl" > "$tmp/h.jsonl.part4"   # a part of a DP size that is gone
timeout 300 mpirun -np 3 --bind-to none $T5G generate "${G[@]}" -o "$tmp/h.jsonl" --tp 1 --resume
cmp -s "$tmp/ref.jsonl" "$tmp/h.jsonl" || fail "resume with DP 3 over OUT + a stale-DP part differs"
echo "ok: resumed with DP 3 over OUT and another DP size's part: identical"

echo "== a results file out of input order is an error (never a reordered output)"
{ sed -n '30,40p' "$tmp/ref.jsonl"; sed -n '1,5p' "$tmp/ref.jsonl"; } > "$tmp/o.jsonl"; cp "$tmp/ref.jsonl.run.json" "$tmp/o.jsonl.run.json"
expect_error "out of input order" $T5G generate "${G[@]}" -o "$tmp/o.jsonl" --resume
cmp -s "$tmp/o.jsonl" <({ sed -n '30,40p' "$tmp/ref.jsonl"; sed -n '1,5p' "$tmp/ref.jsonl"; }) || fail "the refused file was changed"

echo "== whole input checked before anything is written, line numbers count blank lines"
cp "$tmp/in.jsonl" "$tmp/dup.jsonl"
echo '{"id": "40", "text": "again"}' >> "$tmp/dup.jsonl"
last=$(wc -l < "$tmp/dup.jsonl")
first=$(grep -n '"id": "40"' "$tmp/dup.jsonl" | head -n 1 | cut -d: -f1)
expect_error "dup.jsonl:$last: id \"40\" already used at $tmp/dup.jsonl:$first" \
    mpirun -np 2 --bind-to none $T5G generate -m "$MODEL" -i "$tmp/dup.jsonl" -o "$tmp/dup.out" --tp 1 -q
[ -z "$(ls "$tmp" | grep 'dup.out')" ] || fail "files written for an input with a duplicate id"
# a bad line in a chunk owned by DP group 1 (chunk 3 of 7 lines: lines 22-28 of the non-blank ones)
python3 - "$tmp/in.jsonl" "$tmp/bad.jsonl" <<'P'
import sys
lines = open(sys.argv[1]).read().split("\n")
k = [i for i, l in enumerate(lines) if l.strip()][24]
lines[k] = lines[k].replace('"text"', '"txet"')
open(sys.argv[2], "w").write("\n".join(lines))
P
badline=$(grep -n txet "$tmp/bad.jsonl" | cut -d: -f1)
expect_error "bad.jsonl:$badline: a line needs" mpirun -np 2 --bind-to none $T5G generate -m "$MODEL" -i "$tmp/bad.jsonl" -o "$tmp/bad.out" --tp 1 -q
[ -z "$(ls "$tmp" | grep 'bad.out')" ] || fail "files written for an input with a bad line"
mpirun -np 2 --bind-to none $T5G generate -m "$MODEL" -i "$tmp/bad.jsonl" -o "$tmp/skip.out" --tp 1 -q --max-new-tokens 6 \
    --on-error skip 2> "$tmp/skip.err"
grep -q "skipping: .*bad.jsonl:$badline:" "$tmp/skip.err" || { cat "$tmp/skip.err"; fail "no warning naming line $badline"; }
cmp -s "$tmp/skip.out" <(sed '25d' "$tmp/ref.jsonl") || fail "--on-error skip output is not the reference without that line"
echo "ok: bad line skipped with a warning, the rest identical"

echo "== many ids: 5000 lines, ids checked through the spill files; of 20 repeats the first is named"
python3 -c '
rep = {4000 - j * 100: j for j in range(20)}   # line 4000 - 100 j repeats line j id
for i in range(5000): print("{\"id\": \"x%d\", \"input_ids\": [2, %d, 1]}" % (rep.get(i, i), 5 + i % 50))
' > "$tmp/many.jsonl"
expect_error "many.jsonl:2101: id \"x19\" already used at $tmp/many.jsonl:20 " \
    $T5G generate -m "$MODEL" -i "$tmp/many.jsonl" -o "$tmp/many.out" -q --max-new-tokens 1
unset T5G_GEN_CHUNK_LINES
echo "all stream tests passed"
