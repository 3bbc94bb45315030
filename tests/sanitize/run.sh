#!/usr/bin/env bash
# `make test SANITIZE=1`: the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
# The sources are copied to build/sanitize (data folders by link) and built there with the
# sanitizers, so the normal build/ is not touched; then tests/run_all.sh runs in the copy.
# Any sanitizer report fails its test (exit code 86 and the report in the test's log).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
S=build/sanitize
mkdir -p "$S"
for d in src eval tests bench docs tools mk jobs; do rm -rf "${S:?}/$d"; cp -a "$d" "$S/$d"; done
cp -a Makefile VERSION t5g.pc.in "$S/"
for d in models datasets; do ln -sfn "$ROOT/$d" "$S/$d"; done
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
make -C "$S" -j2 all SAN_FLAGS="$SAN" OPT=-O1
# full unwinding (system libraries have no frame pointers) so that suppressions see the library
# frames; MPI components stay loaded at exit so their frames have names
SYM=$(command -v llvm-symbolizer || true)
[ -z "$SYM" ] || export ASAN_SYMBOLIZER_PATH=$SYM
# Leak checking is opt-in (SANITIZE_LEAKS=1): with gcc 12 / glibc 2.36, LeakSanitizer's tracer
# crashes (SIGSEGV) while scanning thread-local storage of the thread pools, and with use_tls=0 it
# reports buffers that only a thread-local pointer holds (per-thread scratch) as leaks.
LEAKS=${SANITIZE_LEAKS:-0}
# slow (full) unwinding on every malloc only when leaks are checked (the suppressions need the
# library frames): it makes the suite 3-5x slower, and the project's own frames have frame pointers
FAST=$((1 - LEAKS))
# Reports go to files as well as failing the process: a test that captures stderr (the CLI error
# checks) or a bad-input case that only counts error lines would otherwise hide them.  Any report
# file fails the run, whatever the tests said.
R=$ROOT/$S/reports
rm -rf "$R"
mkdir -p "$R"
export ASAN_OPTIONS=detect_leaks=$LEAKS:exitcode=86:fast_unwind_on_malloc=$FAST:detect_stack_use_after_return=0:log_path=$R/asan
export LSAN_OPTIONS=suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0:exitcode=86:fast_unwind_on_malloc=0:use_tls=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$R/ubsan
export OMPI_MCA_mca_base_component_disable_dlclose=1
export T5G_SANITIZE=1 T5G_SAN_FLAGS="$SAN"   # test_install.sh builds and links with the same flags
# tests that link build/libt5g.a themselves (the README example) take the link flags from
# `make print-ldlibs`: the sanitizer runtime must be among them
export SAN_FLAGS="$SAN"
# Left out under the sanitizers, to keep CI (.ci/run: the plain suite, this, the fuzzers) near
# 20 minutes on 2 cores; every one of them still runs in the plain `make test`:
#   test_faults       kill -9 mid-write: a killed process reports nothing; the resume code it
#                     reaches is run here by test_resume, test_eval and test_badinput
#   test_slurm        job scripts on a private SLURM cluster: the t5g commands are test_eval's
#   test_multinode    simulated nodes (network namespaces, TCP): the t5g code of tp_np2 / dp2_tp2
#   test_cuda_emu,    the emulated CUDA kernels and the nvcc build: neither is built with the
#   test_cuda_build   sanitizers (g++ / nvcc, not the sanitized library's code)
#   test_style        the source text (formatting, function length), which the copy does not change;
#                     it asks git for the tracked files, and the copy is not a checkout
# and one that cannot run under ASan at all:
#   test_alloc_fail   preloads a malloc that fails the Nth allocation; ASan's own malloc must come
#                     first among the libraries (the test refuses an ASan binary)
# SANITIZE_EXCLUDE= (empty) runs everything.
export T5G_TEST_EXCLUDE=${SANITIZE_EXCLUDE-^(test_faults|test_slurm|test_multinode|test_cuda_emu|test_cuda_build|test_style|test_alloc_fail)$}
cd "$S"
rc=0
bash tests/run_all.sh || rc=$?
if [ -n "$(ls -A "$R")" ]; then
    echo "sanitizer reports ($R):"
    for f in "$R"/*; do echo "== $f"; head -n 40 "$f"; done
    exit 1
fi
echo "sanitizer reports: none"
exit $rc
