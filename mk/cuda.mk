# mk/cuda.mk - CUDA backend build rules and GPU test targets (included by the Makefile with
# `-include mk/cuda.mk`).  See docs/cuda.md.
#
#   make test-gpu-emu   the CUDA kernels emulated on the host vs the CPU backend, op by op and as
#                       the whole model on the HF fixtures (no GPU, no CUDA)
#   make test-gpu       build with CUDA=1, run tests/gpu/test_cuda_ops (every op vs the CPU) and
#                       tests/gpu/test_cuda_model (the model vs the HF fixtures and the CPU);
#                       they skip without a GPU (T5G_REQUIRE_GPU=1 turns a skip into a failure);
#                       with 2+ GPUs also the NCCL all-reduce test under mpirun
#   make bench-gpu      build with CUDA=1, run tests/gpu/bench_cuda (BENCH_ARGS=--quick)

.PHONY: test-gpu test-gpu-emu bench-gpu
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all  # included before the Makefile's first target: keep `make` = `make all`
endif

MPI_INCDIRS := $(shell mpicc --showme:incdirs 2>/dev/null)
CUDA_HOME   ?= /usr/local/cuda
CU_HDR      := $(wildcard src/backend/cuda/*.cuh src/backend/cuda/*.h)

ifeq ($(CUDA),1)
# nvcc needs mpi.h (the NCCL bootstrap); the C++ MPI bindings are not wanted.  This rule has a
# shorter stem than the Makefile's build/obj/%.o, so make prefers it for the .cu files.
NVCCFLAGS ?= -O2 -std=c++17 -arch=$(CUDA_ARCH) -Xcompiler -fPIC
NVCCFLAGS += -Isrc $(addprefix -I,$(MPI_INCDIRS)) -DOMPI_SKIP_MPICXX=1
build/obj/src/backend/cuda/%.o: src/backend/cuda/%.cu $(CU_HDR)
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

build/tests/gpu/%.o: tests/gpu/%.cu $(CU_HDR)
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<
build/tests/gpu/bench_cuda: build/tests/gpu/bench_cuda.o build/libt5g.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
build/tests/gpu/test_cuda_ops: tests/gpu/test_cuda_ops.c tests/gpu/op_checks.h build/libt5g.a $(CU_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/gpu -o $@ $< build/libt5g.a $(LDLIBS)
build/tests/gpu/test_cuda_nccl: tests/gpu/test_cuda_nccl.c build/libt5g.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< build/libt5g.a $(LDLIBS)
build/tests/gpu/test_cuda_model: tests/gpu/test_cuda_model.c build/libt5g.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< build/libt5g.a $(LDLIBS)
endif

# Objects whose code depends on T5G_CUDA are rebuilt when CUDA= changes (the stamp holds the
# last value), so a CUDA=1 build after a plain one does not keep the CPU-only stub.
build/cuda-mode: FORCE
	@mkdir -p build; echo '$(CUDA)' | cmp -s - $@ || echo '$(CUDA)' > $@
build/obj/src/backend/cpu/ops_cpu.o build/obj/src/backend/select.o build/obj/src/parallel/comm.o: build/cuda-mode

# the emulator builds: plain g++, no CUDA toolkit needed
EMU_CXX = $(CXX) -std=c++17 -O1 -g -Wall -Wno-unused-parameter -Wno-unused-function -Wno-unknown-pragmas \
	  -DOMPI_SKIP_MPICXX=1 -Isrc -I. -Itests/gpu $(shell pkg-config --cflags hdf5-openmpi libcjson) \
	  $(addprefix -I,$(MPI_INCDIRS))
EMU_DEPS = tests/gpu/cuda_emu.h tests/gpu/emu_backend.h $(CU_HDR) build/libt5g.a
build/tests/gpu/test_cuda_emu: tests/gpu/test_cuda_emu.cc tests/gpu/op_checks.h $(EMU_DEPS)
	@mkdir -p $(@D)
	$(EMU_CXX) -o $@ $< build/libt5g.a $(LDLIBS) $(shell mpicc --showme:link) -pthread
build/tests/gpu/test_cuda_model_emu: tests/gpu/test_cuda_model_emu.cc tests/gpu/test_cuda_model.c $(EMU_DEPS)
	@mkdir -p $(@D)
	$(EMU_CXX) -o $@ $< build/libt5g.a $(LDLIBS) $(shell mpicc --showme:link) -pthread

test-gpu-emu:
	$(MAKE) all build/tests/gpu/test_cuda_emu build/tests/gpu/test_cuda_model_emu
	./build/tests/gpu/test_cuda_emu
	./build/tests/gpu/test_cuda_model_emu f32

test-gpu:
	$(MAKE) CUDA=1 -j2 all build/tests/gpu/test_cuda_ops build/tests/gpu/test_cuda_model build/tests/gpu/test_cuda_nccl
	@rc=0; ./build/tests/gpu/test_cuda_ops || rc=$$?; \
	if [ $$rc -eq 77 ]; then \
	  echo "test-gpu: SKIPPED - no usable CUDA device, nothing was checked on a GPU"; \
	  [ -z "$(T5G_REQUIRE_GPU)" ] || exit 1; exit 0; \
	fi; \
	mrc=0; ./build/tests/gpu/test_cuda_model f32 || mrc=$$?; \
	./build/tests/gpu/test_cuda_model bf16 || mrc=$$?; \
	[ $$rc -eq 0 ] || exit $$rc; [ $$mrc -eq 0 ] || exit $$mrc; \
	n=$$(nvidia-smi -L 2>/dev/null | wc -l); \
	if [ "$$n" -ge 2 ]; then \
	  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np $$n --bind-to none ./build/tests/gpu/test_cuda_nccl; \
	else echo "test-gpu: NCCL all-reduce test skipped ($$n GPU(s); it needs 2+)"; fi

bench-gpu:
	$(MAKE) CUDA=1 -j2 build/tests/gpu/bench_cuda
	./build/tests/gpu/bench_cuda $(BENCH_ARGS)
