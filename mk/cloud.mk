# cloud (issue 4): the test driver that runs login/cloud alone against tests/cloud/fake_cloud.py.
CLOUD_DRIVER := $(BUILD)/tests/cloud/cloud_driver
all: $(CLOUD_DRIVER)
$(CLOUD_DRIVER): tests/cloud/cloud_driver.c $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)

# libFuzzer (clang) on the cloud wire parsers; tests/cloud/test_fuzz_cloud.sh runs it ~20 s in
# `make test`, `make fuzz-cloud [FUZZ_SECONDS=300]` longer.
CLOUD_FUZZ_SRC := src/login/cloud/oci_metadata.c src/login/cloud/oci_federation.c src/login/cloud/oci_vault.c \
                  src/login/cloud/oci_notify.c src/login/cloud/gcp.c src/common/oci_sign.c src/common/dynbuf.c src/common/codec.c
.PHONY: fuzz-cloud fuzz-cloud-bins
fuzz-cloud-bins: $(BUILD)/fuzz/cloud_wire
$(BUILD)/fuzz/cloud_wire: tests/cloud/fuzz/fuzz_cloud_wire.c $(CLOUD_FUZZ_SRC) $(wildcard src/login/cloud/*.h)
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(CLOUD_FUZZ_SRC) $(shell pkg-config --cflags --libs jansson libcrypto)
fuzz-cloud: fuzz-cloud-bins
	mkdir -p $(BUILD)/fuzz/corpus_cloud_wire
	$(BUILD)/fuzz/cloud_wire -max_total_time=$${FUZZ_SECONDS:-300} -max_len=8192 \
	    $(BUILD)/fuzz/corpus_cloud_wire tests/cloud/fuzz/corpus

# Allocation-failure sweep (tests/cloud/test_alloc_sweep.sh): the cloud wire code and oci_sign
# compiled with ASan/UBSan, our allocations wrapped so each can fail in turn.
CLOUD_SWEEP_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
$(BUILD)/tests/cloud/alloc_sweep: tests/cloud/alloc_sweep.c $(CLOUD_FUZZ_SRC) $(wildcard src/login/cloud/*.h)
	@mkdir -p $(@D)
	$(CC) -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-builtin -o $@ $< $(CLOUD_FUZZ_SRC) $(CLOUD_SWEEP_WRAP) $(shell pkg-config --cflags --libs jansson libcrypto)

# sealed-oci-request --instance-principal reuses login/cloud's OCI wire code: link liblogin.a too
# (before libcommon.a, which it needs). An explicit rule overrides the Makefile's pattern rule.
$(BUILD)/sealed-oci-request: $(BUILD)/src/oci-request/main.o $(BUILD)/liboci-request.a $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
