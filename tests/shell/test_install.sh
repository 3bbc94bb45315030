#!/usr/bin/env bash
# `make install PREFIX=... [DESTDIR=...]` and `make uninstall`: installs t5g, libt5g.so and
# libt5g.a, the public headers and t5g.pc into a temporary prefix; docs/example.c is built
# OUTSIDE the source tree against the installed copy with `pkg-config --cflags --libs t5g`
# (shared) and `--static` (static) and run on the bundled demo model; the binaries must not use
# build/ at all; DESTDIR stages the same files with the final prefix in t5g.pc; uninstall
# removes every file.  Under tests/sanitize/run.sh (T5G_SANITIZE=1) the same SAN_FLAGS go to
# make (so t5g.pc's Libs.private carries them) and to the shared link line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$PWD
command -v pkg-config > /dev/null || skip "pkg-config not installed"
SAN=()
EXTRA_LD=()
if [ "${T5G_SANITIZE:-0}" = 1 ]; then
    [ -n "${T5G_SAN_FLAGS:-}" ] || fail "T5G_SANITIZE=1 without T5G_SAN_FLAGS (tests/sanitize/run.sh exports both)"
    SAN=(SAN_FLAGS="$T5G_SAN_FLAGS" OPT=-O1)
    read -r -a EXTRA_LD <<< "$T5G_SAN_FLAGS"   # a sanitized libt5g.so needs the runtime loaded first
fi
P=$tmp/prefix
make -s -j2 install PREFIX="$P" "${SAN[@]}" > "$tmp/make.log" 2>&1 || { tail -20 "$tmp/make.log"; fail "make install"; }
(cd "$P" && find . \( -type f -o -type l \) | sort) > "$tmp/files"
cat "$tmp/files"
for f in ./bin/t5g ./lib/libt5g.a ./lib/libt5g.so ./lib/libt5g.so.0 ./lib/pkgconfig/t5g.pc ./include/t5g/t5g.h; do
    grep -qx "$f" "$tmp/files" || fail "$f not installed"
done
"$P/bin/t5g" --version | grep -q "^t5g $(cat VERSION)" || fail "installed t5g --version"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
[ "$(pkg-config --modversion t5g)" = "$(cat VERSION)" ] || fail "pkg-config --modversion t5g"
pkg-config --cflags t5g | grep -q -- "-I$P/include/t5g" || fail "t5g.pc Cflags"
pkg-config --libs --static t5g | grep -q -- "-lblis" || fail "t5g.pc Libs.private lacks BLIS"
nm -D "$P/lib/libt5g.so" > "$tmp/syms"; grep -q " T t5g_backbone$" "$tmp/syms" || fail "libt5g.so does not export t5g_backbone"

# build in a folder of its own, from a copy of the example: no -I into the source tree
mkdir "$tmp/app"
cp docs/example.c "$tmp/app/"
cd "$tmp/app"
# shellcheck disable=SC2046
mpicc -o example_shared example.c $(pkg-config --cflags --libs t5g) "${EXTRA_LD[@]}"
# static: the same flags with --static, -lt5g pinned to the archive (both lib files are installed)
# shellcheck disable=SC2046
mpicc -o example_static example.c $(pkg-config --cflags --libs --static t5g | sed 's/-lt5g\b/-l:libt5g.a/')
LD_LIBRARY_PATH=$P/lib ldd example_shared > "$tmp/ldd.shared"
ldd example_static > "$tmp/ldd.static"
grep -q "libt5g.so.0 => $P/lib/libt5g.so.0" "$tmp/ldd.shared" || fail "example_shared does not use the installed libt5g.so"
if grep -q libt5g "$tmp/ldd.static"; then fail "example_static links libt5g dynamically"; fi
cd "$ROOT"
[ -f models/demo/t5gemma-demo.h5 ] || skip "models/demo/t5gemma-demo.h5 missing"
LD_LIBRARY_PATH=$P/lib "$tmp/app/example_shared" > "$tmp/shared.out" || fail "shared example failed"
"$tmp/app/example_static" > "$tmp/static.out" || fail "static example failed"
grep -q "^logits position 1: argmax " "$tmp/shared.out" || fail "shared example printed no logits: $(cat "$tmp/shared.out")"
cmp -s "$tmp/shared.out" "$tmp/static.out" || fail "shared and static examples differ"
echo "ok: example (shared and static) against the installed copy: $(cat "$tmp/shared.out")"

# DESTDIR: the same files under the staging folder, t5g.pc naming the final prefix
make -s install PREFIX=/opt/t5g DESTDIR="$tmp/stage" "${SAN[@]}" > "$tmp/make2.log" 2>&1 || { tail -20 "$tmp/make2.log"; fail "make install DESTDIR"; }
diff <(cd "$tmp/stage/opt/t5g" && find . \( -type f -o -type l \) | sort) "$tmp/files" || fail "DESTDIR installs other files"
grep -qx "prefix=/opt/t5g" "$tmp/stage/opt/t5g/lib/pkgconfig/t5g.pc" || fail "DESTDIR: t5g.pc prefix"
make -s uninstall PREFIX=/opt/t5g DESTDIR="$tmp/stage" > /dev/null
[ -z "$(find "$tmp/stage" \( -type f -o -type l \))" ] || fail "uninstall with DESTDIR left files"

# uninstall removes every file install wrote (and nothing else)
touch "$P/lib/other.txt"
make -s uninstall PREFIX="$P" "${SAN[@]}" > /dev/null
left=$(cd "$P" && find . \( -type f -o -type l \) | sort)
[ "$left" = "./lib/other.txt" ] || fail "after uninstall: $left"
[ ! -d "$P/include/t5g" ] || fail "uninstall left include/t5g"
echo "test_install: all checks passed"
