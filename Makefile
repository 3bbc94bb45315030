# T5Gemma inference + evaluation suite.  `make help` lists the targets.
#
# Layout: src/core (errors, files, JSON) -> src/backend (op table: cpu/BLIS, cuda/cuBLAS)
#         -> src/model (config, weights, encoder/decoder) -> src/parallel (MPI groups, shard plan)
#         -> src/generate (caches, search) ; eval/ (scorers, harness) ; src/cli (subcommands)
# Every .c under src/ and eval/ (except src/cli/main.c and src/backend/cuda) goes into
# build/libt5g.a; every tests/unit/test_*.c becomes its own CUnit program build/tests/test_*.

CC      := mpicc
CXX     := g++
NVCC    ?= nvcc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g -march=x86-64-v3 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation
CFLAGS  += -std=gnu11 -ffp-contract=off -fopenmp -Isrc -I. $(shell pkg-config --cflags hdf5-openmpi libcjson)
CXXFLAGS:= $(OPT) -g -Wall -fPIC $(shell pkg-config --cflags sentencepiece)
LDLIBS  := $(shell pkg-config --libs hdf5-openmpi libcjson) -lblis -lutf8proc -lsentencepiece -lstdc++ -lgomp -lmvec -lm
TEST_LDLIBS := -lcunit

CUDA    ?= 0
ifeq ($(CUDA),1)
CFLAGS  += -DT5G_CUDA=1 -I/usr/local/cuda/include
CUDA_ARCH ?= sm_90
CU_SRC  := $(shell find src/backend/cuda -name '*.cu' 2>/dev/null)
CU_OBJ  := $(CU_SRC:%.cu=build/obj/%.o)
LDLIBS  += -L/usr/local/cuda/lib64 -lcublas -lcudart -lnccl
endif

# the revision only when this tree is a git checkout (a tarball unpacked inside another repository
# must not report that repository's revision); the version always comes from the VERSION file
GIT_REV := $(or $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null)),unknown)
T5G_VERSION := $(shell cat VERSION 2>/dev/null || echo unknown)
LIB_SRC := $(shell find src eval -name '*.c' ! -path 'src/cli/main.c' ! -path 'src/backend/cuda/*' | sort)
LIB_CXX := $(shell find src -name '*.cc' | sort)
LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o) $(LIB_CXX:%.cc=build/obj/%.o) $(CU_OBJ)
TESTS   := $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c))
BENCHES := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/bench_*.c))

.PHONY: all deps test bench bench-peers run clean help format
all: build/t5g $(TESTS) $(BENCHES) build/tests/libfailmalloc.so

help:
	@echo "make deps     install the Debian packages that are missing (root)"
	@echo "make          build build/t5g, build/libt5g.a and the test programs"
	@echo "make test     run every test (unit, MPI, SLURM) on the current build"
	@echo "make bench    run the benchmarks (ratios measured in the same run)"
	@echo "make bench-peers  t5g vs transformers and CTranslate2 (PEERS_ARGS='--reps 5'; needs PyPI torch etc.)"
	@echo "make run      the main job: demo evaluation on the bundled model and samples"
	@echo "make CUDA=1   also build the CUDA backend"
	@echo "make install PREFIX=/usr/local [DESTDIR=...]   t5g, libt5g.so/.a, headers, t5g.pc (make uninstall)"
	@echo "make format   clang-format (.clang-format) over src/, eval/, bench/"

deps:
	bash tools/install_deps.sh

build/libt5g.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/t5g: build/obj/src/cli/main.o build/libt5g.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# header dependencies under build/tests/deps (tests/run_all.sh runs every build/tests/test_*)
build/tests/%: tests/unit/%.c build/libt5g.a tests/unit/testutil.h
	@mkdir -p $(@D) build/tests/deps
	$(CC) $(CFLAGS) -MMD -MP -MF build/tests/deps/$*.d -Itests/unit -o $@ $< build/libt5g.a $(LDLIBS) $(TEST_LDLIBS)
-include $(wildcard build/tests/deps/*.d)

# LD_PRELOAD shim for tests/shell/test_alloc_fail.sh (fails the Nth allocation): plain cc, no MPI
# and no sanitizer (an ASan build cannot take a preloaded malloc)
build/tests/libfailmalloc.so: tests/support/failmalloc.c
	@mkdir -p $(@D)
	cc -O2 -g -Wall -Wextra -shared -fPIC -o $@ $< -ldl

build/bench/%: bench/%.c build/libt5g.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< build/libt5g.a $(LDLIBS)

# the git revision goes into results.json: rebuild that object whenever it changes
build/obj/src/cli/cmd_eval.o: CFLAGS += -DT5G_GIT_REV='"$(GIT_REV)"'
build/obj/src/cli/cmd_eval.o: build/git-rev
build/obj/src/cli/main.o: CFLAGS += -DT5G_GIT_REV='"$(GIT_REV)"' -DT5G_VERSION='"$(T5G_VERSION)"'
build/obj/src/cli/main.o: build/git-rev
build/git-rev: FORCE
	@mkdir -p build; echo '$(T5G_VERSION) $(GIT_REV)' | cmp -s - $@ || echo '$(T5G_VERSION) $(GIT_REV)' > $@
FORCE:

build/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# eval/punkt_data.c links in NLTK's English Punkt tables with .incbin: rebuild it when they change
PUNKT_TABLES := $(wildcard eval/punkt_english/*.txt eval/punkt_english/*.tab)
build/obj/eval/punkt_data.o build/pic/eval/punkt_data.o build/fuzz/obj/eval/punkt_data.o: $(PUNKT_TABLES)

build/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -MMD -MP -c -o $@ $<

build/obj/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) -O2 -arch=$(CUDA_ARCH) -Isrc -Xcompiler -fPIC -c -o $@ $<

test:
ifeq ($(SANITIZE),1)
	bash tests/sanitize/run.sh
else
	$(MAKE) -j2 all
	bash tests/run_all.sh
endif

bench: all
	bash bench/run_bench.sh

# t5g vs transformers and CTranslate2 (needs torch, transformers, ctranslate2 from PyPI; not in CI)
bench-peers: all
	python3 bench/peers.py $(PEERS_ARGS)

run: all
	bash tools/run_demo.sh

# clang-format 14 (.clang-format) over the product code; tests keep their hand-aligned tables
format:
	clang-format -i $(shell find src eval bench -name '*.[ch]' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh')

clean:
	rm -rf build

-include $(shell find build/obj -name '*.d' 2>/dev/null)

# link flags for programs using build/libt5g.a (README example)
print-ldlibs:
	@echo $(LDLIBS)
-include mk/cuda.mk
include mk/scalapack.mk
include mk/install.mk

# ---- libFuzzer harnesses (tests/fuzz/fuzz_*.c): `make fuzz FUZZ_SECONDS=N` runs each for N s ----
# The library is rebuilt with clang under ASan + UBSan and coverage in build/fuzz (the normal build
# is untouched); tests/fuzz/run_fuzz.sh seeds each corpus from the fixtures and prints executions
# and coverage per harness.  Needs clang and libclang-rt-dev (tools/install_deps.sh).
FUZZ_SECONDS ?= 60
FUZZ_CC    := OMPI_CC=clang mpicc
FUZZ_FLAGS := -O1 -g -march=x86-64-v3 -std=gnu11 -ffp-contract=off -fopenmp=libgomp -Isrc -I. \
              $(shell pkg-config --cflags hdf5-openmpi libcjson) -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ   := $(LIB_SRC:%.c=build/fuzz/obj/%.o) $(LIB_CXX:%.cc=build/obj/%.o)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	bash tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
build/fuzz/libt5g.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h build/fuzz/libt5g.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< build/fuzz/libt5g.a $(LDLIBS)
-include $(shell find build/fuzz/obj -name '*.d' 2>/dev/null)

# ---- `make test SANITIZE=1`: the whole suite under ASan + UBSan, built in build/sanitize/ (a copy
# of the sources, so the normal build/ stays as it is); LeakSanitizer noise from MPI, HDF5 and the
# other system libraries is suppressed by tests/sanitize/lsan.supp (never a project frame).
SAN_FLAGS ?=
CFLAGS  += $(SAN_FLAGS)
LDLIBS  += $(SAN_FLAGS)
.PHONY: test-sanitize
test-sanitize:
	bash tests/sanitize/run.sh
