#!/usr/bin/env bash
# datasets/prepare.py on the bundled samples (datasets/README.md):
#  - with --num-shards 4 and 7 every sample lands in exactly one shard, the one FNV-1a-64(id) % N
#    says (hash recomputed here in bash, checked against published FNV test vectors), shard lines
#    are in original order and `index` points back at the sample's position in the raw file,
#    counts match the manifest; CSV and JSONL inputs give the same shards; output is deterministic;
#  - the committed datasets/demo/ is exactly what prepare.py makes from datasets/samples/;
#  - malformed inputs (SGM, plain text, CSV, JSONL, SQuAD JSON, duplicate ids, bad UTF-8) fail with a
#    clear error and non-zero exit, leave nothing behind, and leave earlier output untouched.
# Needs bash, python3 (standard library) and coreutils.  Run from anywhere; exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=datasets/samples
WMT_SRC=$S/wmt14/newstest2014-fren-src.en.sgm
WMT_REF=$S/wmt14/newstest2014-fren-ref.fr.sgm
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
prep() { $PY datasets/prepare.py "$@"; }

# FNV-1a 64 over the UTF-8 bytes of $1 as 16 hex digits (bash arithmetic wraps modulo 2^64).
fnv_hex() {
    local h=$((0xcbf29ce484222325)) b
    for b in $(printf '%s' "$1" | od -An -v -tu1); do h=$(((h ^ b) * 0x100000001b3)); done
    printf '%016x' "$h"
}
# Shard of id $1 among $2 shards: the hash as an unsigned number modulo $2.
fnv_shard() {
    local h=$((0x$(fnv_hex "$1"))) r
    r=$((((h >> 1) & 0x7fffffffffffffff) % $2))
    echo $(((2 * r + (h & 1)) % $2))
}

# --- 0. the bash hash against the published FNV-1a 64 test vectors
for pair in ":cbf29ce484222325" "a:af63dc4c8601ec8c" "foobar:85944171f73967e8"; do
    s=${pair%%:*} want=${pair#*:}
    got=$(fnv_hex "$s")
    [ "$got" = "$want" ] || bad "fnv1a64('$s') = $got, want $want"
done
[ "$(fnv_shard a 7)" = "$($PY -c 'print(0xaf63dc4c8601ec8c % 7)')" ] || bad "unsigned modulo of a negative hash"
ok "bash FNV-1a 64 matches the published vectors"

# --- 1. ids of the raw files in file order, read independently of prepare.py
awk 'match($0, /<doc [^>]*docid="[^"]*"/) { d = substr($0, RSTART, RLENGTH); sub(/.*docid="/, "", d); sub(/"$/, "", d) }
     /^<seg id="/ { s = $0; sub(/^<seg id="/, "", s); sub(/".*/, "", s); print d ":" s }' "$WMT_SRC" > "$T/ids.wmt"
$PY -c 'import csv,sys; csv.field_size_limit(1<<30); [print(r["id"]) for r in csv.DictReader(open(sys.argv[1], newline=""))]' \
    "$S/cnn_dailymail/test.csv" > "$T/ids.cnn"
$PY -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1]) if l.strip()]' \
    "$S/cnn_dailymail/test.jsonl" > "$T/ids.cnnj"
$PY -c 'import json,sys; [print(q["id"]) for a in json.load(open(sys.argv[1]))["data"] for p in a["paragraphs"] for q in p["qas"]]' \
    "$S/squad_v2/dev-v2.0.json" > "$T/ids.squad"
cmp -s "$T/ids.cnn" "$T/ids.cnnj" || bad "test.csv and test.jsonl samples differ in ids"
for f in wmt cnn squad; do
    n=$(wc -l < "$T/ids.$f")
    { [ "$n" -ge 100 ] && [ "$n" -le 300 ]; } || bad "sample $f has $n items (want 100-300)"
done
ok "raw sample ids: wmt $(wc -l < "$T/ids.wmt"), cnn $(wc -l < "$T/ids.cnn"), squad $(wc -l < "$T/ids.squad")"

# Prints "id<TAB>index" for every line of a shard file.
shard_ids() { $PY -c 'import json,sys; [print("%s\t%d" % (r["id"], r["index"])) for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))]' "$1"; }
manifest_get() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# check_layout DIR N IDSFILE: every id once, in the right shard, in order, index = position in the raw file.
check_layout() {
    local dir=$1 n=$2 ids=$3 k f want got total=0 errs=0 last id idx
    [ "$(ls "$dir" | grep -c '^shard-')" = "$n" ] || { bad "$dir: expected $n shard files"; return; }
    mapfile -t order < "$ids"
    : > "$T/seen"
    for ((k = 0; k < n; k++)); do
        f=$(printf '%s/shard-%05d-of-%05d.jsonl' "$dir" "$k" "$n")
        [ -f "$f" ] || { bad "missing $f"; errs=$((errs + 1)); continue; }
        last=-1
        while IFS=$'\t' read -r id idx; do
            total=$((total + 1))
            echo "$id" >> "$T/seen"
            got=$(fnv_shard "$id" "$n")
            [ "$got" = "$k" ] || { bad "$f: id $id belongs in shard $got"; errs=$((errs + 1)); }
            [ "$idx" -gt "$last" ] || { bad "$f: index $idx after $last (not in original order)"; errs=$((errs + 1)); }
            [ "${order[$idx]:-}" = "$id" ] || { bad "$f: index $idx is ${order[$idx]:-nothing} in the raw file, not $id"; errs=$((errs + 1)); }
            last=$idx
        done < <(shard_ids "$f")
    done
    want=$(wc -l < "$ids")
    [ "$total" = "$want" ] || { bad "$dir: $total shard lines for $want samples"; errs=$((errs + 1)); }
    [ "$(sort "$T/seen" | uniq -d | wc -l)" = 0 ] || { bad "$dir: an id is in two shards"; errs=$((errs + 1)); }
    cmp -s <(sort "$T/seen") <(sort "$ids") || { bad "$dir: shard ids differ from the raw ids"; errs=$((errs + 1)); }
    [ "$(manifest_get "$dir/manifest.json" num_samples)" = "$want" ] || { bad "$dir: manifest num_samples"; errs=$((errs + 1)); }
    [ "$(manifest_get "$dir/manifest.json" num_shards)" = "$n" ] || { bad "$dir: manifest num_shards"; errs=$((errs + 1)); }
    [ "$errs" = 0 ] && ok "$dir: $total samples in $n shards, FNV-1a % $n, original order, counts match"
}

# --- 2. prepare the samples with 4 and 7 shards
for n in 4 7; do
    o=$T/n$n
    prep wmt14-en-fr --src "$WMT_SRC" --ref "$WMT_REF" --variant full --num-shards $n --out "$o" > /dev/null &&
        prep cnn-dailymail --input $S/cnn_dailymail/test.csv --num-shards $n --out "$o" > /dev/null &&
        prep cnn-dailymail --input $S/cnn_dailymail/test.jsonl --num-shards $n --out "$o.jsonl" > /dev/null &&
        prep squad-v2 --input $S/squad_v2/dev-v2.0.json --num-shards $n --out "$o" > /dev/null ||
        { bad "prepare.py failed on the samples with --num-shards $n"; continue; }
    check_layout "$o/wmt14-en-fr" $n "$T/ids.wmt"
    check_layout "$o/cnn-dailymail" $n "$T/ids.cnn"
    check_layout "$o/squad-v2" $n "$T/ids.squad"
    diff -q <(cat "$o"/cnn-dailymail/shard-*) <(cat "$o.jsonl"/cnn-dailymail/shard-*) > /dev/null &&
        ok "n=$n: CSV and JSONL inputs give identical shards" || bad "n=$n: CSV and JSONL shards differ"
    cmp -s "$o/squad-v2/dev.json" $S/squad_v2/dev-v2.0.json && ok "n=$n: squad-v2/dev.json is the original file" ||
        bad "n=$n: squad-v2/dev.json differs from the input"
done
# The same sample gets the same fields whatever the shard count.
diff -q <(cat "$T"/n4/squad-v2/shard-* | sort) <(cat "$T"/n7/squad-v2/shard-* | sort) > /dev/null &&
    ok "4 and 7 shards hold the same records" || bad "records differ between 4 and 7 shards"
# Spot-check content: entities kept as in the SGM (sacreBLEU extraction), highlights joined by newlines.
grep -q '&amp;' "$T"/n4/wmt14-en-fr/shard-* && grep -q '«' "$T"/n4/wmt14-en-fr/shard-* &&
    ok "wmt shards keep &amp; and «»" || bad "wmt shards lost entities or guillemets"
$PY -c 'import json,sys,glob
rows=[json.loads(l) for f in glob.glob(sys.argv[1]+"/shard-*") for l in open(f)]
assert all(r["highlights"].count("\n") == 2 for r in rows), "highlights not joined by newlines"
' "$T/n4/cnn-dailymail" && ok "cnn highlights keep their newlines" || bad "cnn highlights"

# --- 3. deterministic output
prep squad-v2 --input $S/squad_v2/dev-v2.0.json --num-shards 7 --out "$T/again" > /dev/null
diff -r "$T/n7/squad-v2" "$T/again/squad-v2" > /dev/null && ok "rerun gives identical bytes" || bad "rerun differs"

# --- 4. the committed samples come from tools/demo_tasks.py, the committed demo shards are
#        prepare.py's output on them (default 16 shards)
$PY tools/demo_tasks.py samples "$T/samples" > /dev/null && diff -r "$T/samples" $S > /dev/null &&
    ok "datasets/samples is what tools/demo_tasks.py writes" || bad "datasets/samples differs from tools/demo_tasks.py samples"
D=$T/demo
prep wmt14-en-fr --src "$WMT_SRC" --ref "$WMT_REF" --variant full --out "$D" > /dev/null &&
    prep cnn-dailymail --input $S/cnn_dailymail/test.jsonl --out "$D" > /dev/null &&
    prep squad-v2 --input $S/squad_v2/dev-v2.0.json --out "$D" > /dev/null
diff -r "$D" datasets/demo > "$T/demo.diff" && ok "datasets/demo is up to date" ||
    { bad "datasets/demo differs from a fresh prepare (see datasets/README.md to regenerate)"; head -5 "$T/demo.diff"; }

# --- 5. malformed inputs: clear error, non-zero exit, nothing left behind
B=$T/bad
mkdir -p "$B/in"
# expect_fail NAME REGEX ARGS...: prepare.py must fail with "prepare.py: error: ...REGEX..." and write nothing.
expect_fail() {
    local name=$1 re=$2; shift 2
    rm -rf "$B/out"
    if prep "$@" --out "$B/out" > "$B/stdout" 2> "$B/stderr"; then
        bad "$name: exit status 0"; return
    fi
    if ! grep -Eq "^prepare.py: error: .*$re" "$B/stderr" || [ "$(wc -l < "$B/stderr")" != 1 ]; then
        bad "$name: message '$(head -c 300 "$B/stderr")' does not match '$re'"; return
    fi
    if [ -e "$B/out" ] && [ -n "$(ls -A "$B/out")" ]; then
        bad "$name: left $(ls -A "$B/out")"; return
    fi
    ok "$name: $(cat "$B/stderr")"
}
sed '5s#</seg>##' "$WMT_SRC" > "$B/in/unclosed.sgm"
expect_fail "SGM unclosed seg" "malformed segment" wmt14-en-fr --src "$B/in/unclosed.sgm" --ref "$WMT_REF"
awk '/<\/doc>/ && !d { d = 1; next } 1' "$WMT_REF" > "$B/in/nodocend.sgm"
expect_fail "SGM missing </doc>" "missing </doc>" wmt14-en-fr --src "$WMT_SRC" --ref "$B/in/nodocend.sgm"
head -n 40 "$WMT_REF" > "$B/in/truncated.sgm"
expect_fail "SGM truncated" "missing the closing" wmt14-en-fr --src "$WMT_SRC" --ref "$B/in/truncated.sgm"
sed '7d' "$WMT_REF" > "$B/in/short.sgm"
expect_fail "SGM misaligned" "not aligned|counts differ" wmt14-en-fr --src "$WMT_SRC" --ref "$B/in/short.sgm"
tail -n +2 "$WMT_SRC" > "$B/in/noheader.sgm"
expect_fail "SGM without header" "not an SGM test set" wmt14-en-fr --src "$B/in/noheader.sgm" --ref "$WMT_REF"
sed '4s#<seg id="[0-9]*">#<seg id="1">#' "$WMT_SRC" > "$B/in/dupseg.sgm"
sed '4s#<seg id="[0-9]*">#<seg id="1">#' "$WMT_REF" > "$B/in/dupseg.ref.sgm"
expect_fail "SGM duplicate seg id" "duplicate id" wmt14-en-fr --src "$B/in/dupseg.sgm" --ref "$B/in/dupseg.ref.sgm"
printf 'one\ntwo\nthree\n' > "$B/in/a.en"; printf 'un\ndeux\n' > "$B/in/a.fr"
expect_fail "plain text line counts" "line counts differ" wmt14-en-fr --src "$B/in/a.en" --ref "$B/in/a.fr"
printf 'id,article,summary\nx,"text",y\n' > "$B/in/nocol.csv"
expect_fail "CSV missing column" "lacks column.*highlights" cnn-dailymail --input "$B/in/nocol.csv"
printf 'id,article,highlights\nx,"an article","one .\ntwo ."\nx,"another","three ."\n' > "$B/in/dup.csv"
expect_fail "CSV duplicate id" "duplicate id 'x'" cnn-dailymail --input "$B/in/dup.csv"
printf 'id,article,highlights\nx,"an article,"one .\n' > "$B/in/quote.csv"
expect_fail "CSV unterminated quote" "malformed CSV" cnn-dailymail --input "$B/in/quote.csv"
printf 'id,article,highlights\nx,an article\n' > "$B/in/short.csv"
expect_fail "CSV short row" "wrong number of fields" cnn-dailymail --input "$B/in/short.csv"
{ head -n 3 $S/cnn_dailymail/test.jsonl; echo '{"id": "y", "article": "cut'; } > "$B/in/cut.jsonl"
expect_fail "JSONL invalid JSON" "jsonl:4: invalid JSON" cnn-dailymail --input "$B/in/cut.jsonl"
{ head -n 2 $S/cnn_dailymail/test.jsonl; head -n 1 $S/cnn_dailymail/test.jsonl; } > "$B/in/dup.jsonl"
expect_fail "JSONL duplicate id" "duplicate id" cnn-dailymail --input "$B/in/dup.jsonl"
echo '{"id": "z", "article": "a"}' > "$B/in/nofield.jsonl"
expect_fail "JSONL missing field" "missing field.*highlights" cnn-dailymail --input "$B/in/nofield.jsonl"
head -c 3000 $S/squad_v2/dev-v2.0.json > "$B/in/cut.json"
expect_fail "SQuAD invalid JSON" "invalid JSON" squad-v2 --input "$B/in/cut.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); q=d["data"][1]["paragraphs"][0]["qas"]; q[0]["id"]=d["data"][0]["paragraphs"][0]["qas"][0]["id"]; json.dump(d,open(sys.argv[2],"w"))' \
    $S/squad_v2/dev-v2.0.json "$B/in/dupq.json"
expect_fail "SQuAD duplicate id" "duplicate id" squad-v2 --input "$B/in/dupq.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); [q.pop("is_impossible") for a in d["data"] for p in a["paragraphs"] for q in p["qas"]]; json.dump(d,open(sys.argv[2],"w"))' \
    $S/squad_v2/dev-v2.0.json "$B/in/v1.json"
expect_fail "SQuAD v1.1 file" "is_impossible" squad-v2 --input "$B/in/v1.json"
printf '{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "c"}]}]}' > "$B/in/noqas.json"
expect_fail "SQuAD missing qas" "qas" squad-v2 --input "$B/in/noqas.json"
printf 'id,article,highlights\nx,caf\xe9,y\n' > "$B/in/latin1.csv"
expect_fail "invalid UTF-8" "invalid UTF-8" cnn-dailymail --input "$B/in/latin1.csv"
expect_fail "missing file" "cannot read" squad-v2 --input "$B/in/nope.json"
expect_fail "zero shards" "num-shards" squad-v2 --input $S/squad_v2/dev-v2.0.json --num-shards 0

# --- 6. a failed run leaves earlier output alone; an existing output needs --force
K=$T/keep
prep squad-v2 --input $S/squad_v2/dev-v2.0.json --num-shards 4 --out "$K" > /dev/null
cp -r "$K" "$T/keep.before"
if prep squad-v2 --input "$B/in/cut.json" --num-shards 4 --out "$K" --force 2> /dev/null; then
    bad "--force with bad input succeeded"
fi
diff -r "$K" "$T/keep.before" > /dev/null && [ "$(ls -A "$K")" = "squad-v2" ] &&
    ok "failed --force run left the earlier output untouched" || bad "earlier output changed or temp files left"
if prep squad-v2 --input $S/squad_v2/dev-v2.0.json --out "$K" 2> "$B/stderr"; then
    bad "overwrote an existing output without --force"
else
    grep -q -- "--force" "$B/stderr" && ok "existing output needs --force" || bad "unclear message: $(cat "$B/stderr")"
fi
prep squad-v2 --input $S/squad_v2/dev-v2.0.json --num-shards 7 --out "$K" --force > /dev/null &&
    [ "$(manifest_get "$K/squad-v2/manifest.json" num_shards)" = 7 ] && [ "$(ls -A "$K")" = "squad-v2" ] &&
    ok "--force replaces the output" || bad "--force did not replace the output cleanly"

# --- 7. non-ASCII ids hash their UTF-8 bytes
printf '%s\n' '{"id": "é-1", "article": "a", "highlights": "h ."}' '{"id": "日本-2", "article": "b", "highlights": "h ."}' \
    '{"id": "plain-3", "article": "c", "highlights": "h ."}' '{"id": "Ωmega", "article": "d", "highlights": "h ."}' > "$B/in/utf8.jsonl"
$PY -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1], encoding="utf-8")]' "$B/in/utf8.jsonl" > "$T/ids.utf8"
prep cnn-dailymail --input "$B/in/utf8.jsonl" --num-shards 5 --out "$T/utf8" > /dev/null &&
    check_layout "$T/utf8/cnn-dailymail" 5 "$T/ids.utf8"

echo
if [ "$fails" -ne 0 ]; then echo "test_datasets: $fails failure(s)"; exit 1; fi
echo "test_datasets: all checks passed"
