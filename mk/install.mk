# ---- `make install PREFIX=/usr/local [DESTDIR=stage]` / `make uninstall` (included by Makefile) ----
# Installs bin/t5g, lib/libt5g.a, lib/libt5g.so (+ .so.0, .so.VERSION; built from PIC objects in
# build/pic), the public headers under include/t5g/ and lib/pkgconfig/t5g.pc:
#   cc app.c $(pkg-config --cflags --libs t5g)            # shared (run with the lib dir in LD_LIBRARY_PATH)
#   cc app.c $(pkg-config --cflags --libs --static t5g)   # static: Libs.private adds BLIS, SentencePiece, ...
# t5g.pc's Libs.private is the link line of build/t5g without the pkg-config packages (so it
# carries CUDA=1's libraries and SAN_FLAGS, which a sanitized libt5g.a needs at link time).
PREFIX  ?= /usr/local
DESTDIR ?=
SOMAJOR := 0
PUBLIC_HEADERS := src/t5g.h src/core/err.h src/model/config.h src/model/hf_import.h src/model/model.h src/model/state.h \
                  src/parallel/comm.h src/backend/backend.h
PIC_OBJ := $(LIB_SRC:%.c=build/pic/%.o) $(LIB_CXX:%.cc=build/obj/%.o) $(CU_OBJ)
PC_REQ_PRIVATE := hdf5-openmpi libcjson
INSTALLED := bin/t5g lib/libt5g.a lib/libt5g.so lib/libt5g.so.$(SOMAJOR) lib/libt5g.so.$(T5G_VERSION) \
             lib/pkgconfig/t5g.pc $(PUBLIC_HEADERS:src/%=include/t5g/%)
.PHONY: install uninstall shared

shared: build/libt5g.so

build/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<
build/pic/src/cli/cmd_eval.o: CFLAGS += -DT5G_GIT_REV='"$(GIT_REV)"'
build/pic/src/cli/cmd_eval.o: build/git-rev

build/libt5g.so: $(PIC_OBJ)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libt5g.so.$(SOMAJOR) -o $@ $^ $(LDLIBS)

build/t5g.pc: t5g.pc.in VERSION Makefile mk/install.mk
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(T5G_VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(PC_REQ_PRIVATE)|' \
	    -e 's|@LIBS_PRIVATE@|$(strip $(filter-out $(shell pkg-config --libs $(PC_REQ_PRIVATE)),$(LDLIBS)))|' $< > $@.tmp
	mv $@.tmp $@
# the prefix is written into t5g.pc: rebuild it whenever PREFIX or the flags change
build/t5g.pc: build/install-vars
build/install-vars: FORCE
	@mkdir -p build; echo '$(PREFIX) $(LDLIBS)' | cmp -s - $@ || echo '$(PREFIX) $(LDLIBS)' > $@

install: build/t5g build/libt5g.a build/libt5g.so build/t5g.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 build/t5g $(DESTDIR)$(PREFIX)/bin/t5g
	install -m 644 build/libt5g.a $(DESTDIR)$(PREFIX)/lib/libt5g.a
	install -m 755 build/libt5g.so $(DESTDIR)$(PREFIX)/lib/libt5g.so.$(T5G_VERSION)
	ln -sfn libt5g.so.$(T5G_VERSION) $(DESTDIR)$(PREFIX)/lib/libt5g.so.$(SOMAJOR)
	ln -sfn libt5g.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libt5g.so
	install -m 644 build/t5g.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/t5g.pc
	for h in $(PUBLIC_HEADERS:src/%=%); do install -D -m 644 src/$$h $(DESTDIR)$(PREFIX)/include/t5g/$$h || exit 1; done

# removes exactly the files install wrote, then the folders it made if they are empty
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	-rmdir $(sort $(dir $(PUBLIC_HEADERS:src/%=$(DESTDIR)$(PREFIX)/include/t5g/%))) 2>/dev/null
	-rmdir $(DESTDIR)$(PREFIX)/include/t5g $(DESTDIR)$(PREFIX)/lib/pkgconfig 2>/dev/null

-include $(shell find build/pic -name '*.d' 2>/dev/null)
