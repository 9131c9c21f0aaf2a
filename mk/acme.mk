# ACME client extras: the Pebble test driver (build/tests/acme/acme-driver, built by `make all`,
# linking liblogin.a) and the parser fuzz target.
ACME_DRIVER     := $(BUILD)/tests/acme/acme-driver
ACME_DRIVER_SRC := tests/acme/acme_driver.c

all: $(ACME_DRIVER)

$(ACME_DRIVER): $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)

# libFuzzer target for the ACME parsers (clang, ASan + UBSan): make fuzz-acme [FUZZ_SECONDS=60]
ACME_FUZZ_SRC := tests/acme/fuzz/fuzz_acme_parse.c src/login/acme/acme_parse.c src/login/acme/acme_problem.c \
                 src/login/acme/acme_log.c src/login/log.c src/common/codec.c
.PHONY: fuzz-acme fuzz-acme-bins
fuzz-acme-bins: $(BUILD)/fuzz/acme_parse
$(BUILD)/fuzz/acme_parse: $(ACME_FUZZ_SRC)
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags jansson libcrypto) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $^ \
	    $(shell pkg-config --libs jansson libcrypto)
fuzz-acme: fuzz-acme-bins
	mkdir -p $(BUILD)/fuzz/corpus_acme_parse
	$(BUILD)/fuzz/acme_parse -max_total_time=$(FUZZ_SECONDS) -max_len=8000 $(BUILD)/fuzz/corpus_acme_parse \
	    tests/acme/fuzz/corpus/acme_parse
