# mk/scalapack.mk - the optional 2-D encoder layout on ScaLAPACK (src/model/scalapack_layout.c,
# docs/planner.md "ScaLAPACK"); included by the Makefile.
#   SCALAPACK=auto (default)  built in when Debian's libscalapack-openmpi-dev is installed
#   SCALAPACK=1               required (an error when it is missing)
#   SCALAPACK=0               left out: --encoder-layout 2d then fails with one clear error
# Only scalapack_layout.o and scalapack_hooks.o are compiled differently; the library is added to
# the link line only when it is built in, so the default build works with or without the package.
SCALAPACK ?= auto
SCALAPACK_OBJ := $(foreach d,obj pic,build/$(d)/src/model/scalapack_layout.o build/$(d)/src/parallel/scalapack_hooks.o)
SCALAPACK_SO := $(shell $(CC) -print-file-name=libscalapack-openmpi.so 2>/dev/null)
SCALAPACK_FOUND := $(if $(filter /%,$(SCALAPACK_SO)),1,0)
ifeq ($(SCALAPACK),auto)
override SCALAPACK := $(SCALAPACK_FOUND)
endif
ifeq ($(SCALAPACK),1)
ifeq ($(SCALAPACK_FOUND),0)
$(error SCALAPACK=1 but libscalapack-openmpi.so is not installed: make deps, or build with SCALAPACK=0)
endif
$(SCALAPACK_OBJ): CFLAGS += -DT5G_SCALAPACK=1
LDLIBS += -lscalapack-openmpi
endif
# rebuild the object when SCALAPACK= changes (the stamp holds the last value)
build/scalapack-mode: FORCE
	@mkdir -p build; echo '$(SCALAPACK)' | cmp -s - $@ || echo '$(SCALAPACK)' > $@
$(SCALAPACK_OBJ): build/scalapack-mode
