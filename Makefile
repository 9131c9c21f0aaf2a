# sealed-login build. Every src/<name>/main.c becomes build/sealed-<name>; the other .c files
# under src/<name>/ form build/lib<name>.a, linked with build/libcommon.a (src/common/).
# Unit tests tests/unit/<name>/**/test_*.c (mirroring src/<name>/) link the same libraries. Extra rules: mk/*.mk.

BUILD   ?= build
CC      ?= cc
PKGS    := libevent libevent_openssl libcurl jansson libssl libcrypto libqrencode
OPT     ?= -O2
# How long `make fuzz` / `make fuzz-<name>` runs each libFuzzer target (mk/fuzz.mk); defined only here.
FUZZ_SECONDS ?= 60
CFLAGS  += $(OPT) -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
           -fstack-protector-strong -D_FORTIFY_SOURCE=2 -ffile-prefix-map=$(CURDIR)=. -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CFLAGS  += $(EXTRA_CFLAGS)
DEPFLAGS = -MMD -MP

PROGS   := $(patsubst src/%/main.c,%,$(wildcard src/*/main.c))
ALLBINS := $(PROGS:%=$(BUILD)/sealed-%)

.PHONY: all deps run test unit clean lint bench faults
all: $(ALLBINS) unit-bins

# ---- libraries ---------------------------------------------------------------------------
define lib_template
$(1)_SRC := $$(filter-out src/$(1)/main.c,$$(shell find src/$(1) -name '*.c' 2>/dev/null | LC_ALL=C sort))
$(1)_OBJ := $$($(1)_SRC:%.c=$(BUILD)/%.o)
$(BUILD)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^ $(BUILD)/empty.o
endef
LIBDIRS := common $(PROGS)
$(foreach d,$(LIBDIRS),$(eval $(call lib_template,$(d))))

$(BUILD)/empty.o:
	@mkdir -p $(@D)
	printf 'typedef int sealed_empty_unit;\n' | $(CC) -x c -c -o $@ -

$(BUILD)/libcommon.a $(PROGS:%=$(BUILD)/lib%.a): $(BUILD)/empty.o

$(BUILD)/sealed-%: $(BUILD)/src/%/main.o $(BUILD)/lib%.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The source commit the tools print with --version ("+dirty" with uncommitted changes). Linked
# into the offline tools only: the image records its own commit in its measured config.
$(BUILD)/gen/version.c: FORCE
	@mkdir -p $(@D)
	@c=$$(git rev-parse HEAD 2>/dev/null || echo unknown); git diff --quiet HEAD 2>/dev/null || c="$$c+dirty"; \
	 printf 'const char sealed_source_commit[] = "%s";\n' "$$c" | cmp -s - $@ || \
	 printf 'const char sealed_source_commit[] = "%s";\n' "$$c" > $@
$(BUILD)/sealed-verify: $(BUILD)/gen/version.o

# Objects depend on the compiler command line, so changing flags rebuilds them.
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# ---- unit tests --------------------------------------------------------------------------
UNIT_SRC  := $(shell find tests/unit -name 'test_*.c' | LC_ALL=C sort)
UNIT_BINS := $(UNIT_SRC:%.c=$(BUILD)/%)
unit-bins: $(UNIT_BINS)
.PHONY: unit-bins
.SECONDEXPANSION:
$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/test.h $(BUILD)/lib$$(firstword $$(subst /, ,$$*)).a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/unit -o $@ $< $(BUILD)/lib$(firstword $(subst /, ,$*)).a $(BUILD)/libcommon.a $(LDLIBS)

# ---- user commands -----------------------------------------------------------------------
deps:
	scripts/deps.sh

run: deps
	$(MAKE) all
	scripts/run-local.sh

test: deps
	$(MAKE) all
	$(MAKE) faults
	-@$(MAKE) -s --no-print-directory lock-check
	tests/run.sh

# The fault-injection build of the service (src/login/fault.h), for whole-binary failure tests.
faults:
	$(MAKE) BUILD=build/faults EXTRA_CFLAGS=-DSEALED_FAULTS build/faults/sealed-login

lint:
	scripts/lint.sh

bench: deps
	$(MAKE) all
	bench/run.sh

clean:
	rm -rf $(BUILD)

# make print-VAR: a variable's value, for scripts and tests (e.g. print-IMAGE_APPEND)
print-%:
	@echo '$($*)'

-include mk/*.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
