# sealed-verify extras: the test evidence generator (tests/verify/testgen.c), and libFuzzer targets
# (fuzz/fuzz_*.c, clang -fsanitize=fuzzer,address,undefined). `make fuzz` runs each target for
# FUZZ_SECONDS (default 60, set in the Makefile); tests/verify/test_fuzz.sh runs each for about 20 s in `make test`.

all: $(BUILD)/tests/verify/testgen

$(BUILD)/tests/verify/testgen: tests/verify/testgen.c $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcommon.a $(LDLIBS)

FUZZ_CC      ?= clang
FUZZ_FLAGS    = -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                $(shell pkg-config --cflags jansson libssl libcrypto 2>/dev/null)
FUZZ_LIBS     = $(shell pkg-config --libs jansson libssl libcrypto libcurl 2>/dev/null)
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
# the fuzzed code is compiled with the fuzzer's instrumentation, not taken from libcommon/libverify
FUZZ_SRC      = $(addprefix src/common/,codec.c jose.c binding.c snp_report.c amd_roots.c gcp_vtpm_roots.c gce_instance_ext.c \
                                 tpm_ak_root.c trust.c tpm_eventlog.c tpm2_struct.c file.c dynbuf.c id_token.c sd_jwt.c oid4vci.c) \
                $(filter-out src/verify/main.c,$(wildcard src/verify/*.c))

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_SRC) $(wildcard src/common/*.h src/verify/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRC) $(FUZZ_LIBS)

fuzz: fuzz-bins
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -print_final_stats=1 \
	        $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t || exit 1; \
	done
.PHONY: fuzz fuzz-bins
