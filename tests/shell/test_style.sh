#!/usr/bin/env bash
# The code-shape rules of docs/architecture.md, kept by CI rather than by memory:
#   - the product code (src, eval, bench: .c .h .cc .cu .cuh) is as clang-format (.clang-format) writes it
#   - no function over 80 lines (tools/fnlen.py)
#   - one statement per line (tools/multistmt.py)
# Each check is shown to fail on a deliberately bad file first, so it cannot pass vacuously.
source "$(dirname "$0")/lib.sh"
command -v clang-format > /dev/null || skip "no clang-format (tools/install_deps.sh installs it)"

# a bad file in the tree (so clang-format finds .clang-format) but outside what git tracks
bad=build/style-check
rm -rf "$bad"
mkdir -p "$bad"
printf 'int  f(int x){return x+1;}\n' > "$bad/bad.c"
clang-format --dry-run --Werror "$bad/bad.c" > /dev/null 2>&1 && fail "clang-format accepts a badly formatted file"
files=$(git ls-files 'src/*.[ch]' 'eval/*.[ch]' 'bench/*.[ch]' 'src/*.cc' 'bench/*.cc' 'src/*.cu' 'src/*.cuh' 'bench/*.cu')
[ "$(echo "$files" | wc -l)" -gt 100 ] || fail "found too few product files: $(echo "$files" | wc -l)"
# shellcheck disable=SC2086 # one word per file
if ! clang-format --dry-run --Werror $files > "$tmp/fmt.log" 2>&1; then
    grep -o '^[^:]*:[0-9]*' "$tmp/fmt.log" | sort -u | head -20
    fail "files differ from clang-format's output: run make format"
fi
echo "ok: $(echo "$files" | wc -l) files as clang-format writes them"

# tools/fnlen.py and multistmt.py read what git tracks: a throwaway repository holds the bad file
git init -q "$tmp/repo"
mkdir -p "$tmp/repo/src"
{
    echo 'int long_one(int x) {'
    for i in $(seq 1 90); do echo "    x += $i;"; done
    echo '    return x; int y = 0; y++;'
    echo '}'
} > "$tmp/repo/src/bad.c"
git -C "$tmp/repo" add src/bad.c
(cd "$tmp/repo" && python3 "$OLDPWD/tools/fnlen.py" 5 src) | grep -q '^1 functions over 80 lines' ||
    fail "tools/fnlen.py misses a 92-line function"
(cd "$tmp/repo" && python3 "$OLDPWD/tools/multistmt.py") | grep -q '^1 of ' || fail "tools/multistmt.py misses a line with three statements"

out=$(python3 tools/fnlen.py 20)
echo "$out" | head -1
echo "$out" | grep -q '^0 functions over 80 lines' || { echo "$out"; fail "functions over 80 lines"; }
out=$(python3 tools/multistmt.py -v)
echo "$out" | tail -1
echo "$out" | tail -1 | grep -q '^0 of ' || { echo "$out" | tail -20; fail "lines with two or more statements"; }
echo "ok: style"
