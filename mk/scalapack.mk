# mk/scalapack.mk - the optional 2-D encoder layout on ScaLAPACK (src/model/scalapack_layout.c,
# docs/planner.md "ScaLAPACK"); included by the Makefile.
#   SCALAPACK=auto (default)  built in when Debian's libscalapack-openmpi-dev is installed
#   SCALAPACK=1               required (an error when it is missing)
#   SCALAPACK=0               left out: --encoder-layout 2d then fails with one clear error
# Only scalapack_layout.o is compiled differently; the library is added to the link line only when
# it is built in, so the default build works with or without the package.
SCALAPACK ?= auto
SCALAPACK_SO := $(shell $(CC) -print-file-name=libscalapack-openmpi.so 2>/dev/null)
SCALAPACK_FOUND := $(if $(filter /%,$(SCALAPACK_SO)),1,0)
ifeq ($(SCALAPACK),auto)
override SCALAPACK := $(SCALAPACK_FOUND)
endif
ifeq ($(SCALAPACK),1)
ifeq ($(SCALAPACK_FOUND),0)
$(error SCALAPACK=1 but libscalapack-openmpi.so is not installed: make deps, or build with SCALAPACK=0)
endif
build/obj/src/model/scalapack_layout.o build/pic/src/model/scalapack_layout.o: CFLAGS += -DT5G_SCALAPACK=1
LDLIBS += -lscalapack-openmpi
endif
# rebuild the object when SCALAPACK= changes (the stamp holds the last value)
build/scalapack-mode: FORCE
	@mkdir -p build; echo '$(SCALAPACK)' | cmp -s - $@ || echo '$(SCALAPACK)' > $@
build/obj/src/model/scalapack_layout.o build/pic/src/model/scalapack_layout.o: build/scalapack-mode
