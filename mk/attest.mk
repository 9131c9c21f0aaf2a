# attest: test programs for the evidence providers (tests/attest/), linked like unit tests:
#   build/tests/attest/attest_probe          runs the providers against given devices
#   build/tests/attest/tsm_fuse              configfs-tsm emulator (FUSE 3)
#   build/tests/attest/libsevguest_shim.so   /dev/sev-guest emulator (LD_PRELOAD)
# The emulators share tests/attest/emu/snp_emu.c (test-key report and quote signing).
ATTEST_TOOLS_SRC := $(wildcard tests/attest/*.c)
ATTEST_TOOLS     := $(ATTEST_TOOLS_SRC:%.c=$(BUILD)/%)
ATTEST_EMU_DEPS  := tests/attest/emu/snp_emu.c tests/attest/emu/snp_emu.h
ATTEST_FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
ATTEST_FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
all: $(ATTEST_TOOLS) $(BUILD)/tests/attest/tsm_fuse $(BUILD)/tests/attest/libsevguest_shim.so
$(BUILD)/tests/attest/%: tests/attest/%.c $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)
$(BUILD)/tests/attest/tsm_fuse: tests/attest/emu/tsm_fuse.c $(ATTEST_EMU_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ATTEST_FUSE_CFLAGS) -o $@ tests/attest/emu/tsm_fuse.c tests/attest/emu/snp_emu.c $(ATTEST_FUSE_LIBS) -lcrypto
$(BUILD)/tests/attest/libsevguest_shim.so: tests/attest/emu/sevguest_shim.c $(ATTEST_EMU_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -U_FORTIFY_SOURCE -fPIC -shared -o $@ tests/attest/emu/sevguest_shim.c tests/attest/emu/snp_emu.c -ldl -lcrypto

# libFuzzer target for the tpm2 provider against a hostile TPM (clang, ASan + UBSan):
#   make fuzz-attest [FUZZ_SECONDS=60]
ATTEST_FUZZ_SRC := tests/attest/fuzz/fuzz_tpm2_provider.c src/login/attest/tpm2.c src/login/attest/tpm2_wire.c src/common/tpm2_struct.c \
                   src/common/file.c src/common/dynbuf.c src/common/tpm_ak_root.c src/common/gcp_vtpm_roots.c src/common/gce_instance_ext.c \
                   src/login/attest/attest_util.c src/login/log.c src/common/codec.c
.PHONY: fuzz-attest fuzz-attest-bins
fuzz-attest-bins: $(BUILD)/fuzz/tpm2_provider
$(BUILD)/fuzz/tpm2_provider: $(ATTEST_FUZZ_SRC)
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags jansson libcrypto) \
	    -Wno-deprecated-declarations -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $^ $(shell pkg-config --libs jansson libcrypto) -lpthread
fuzz-attest: fuzz-attest-bins
	mkdir -p $(BUILD)/fuzz/corpus_tpm2_provider
	$(BUILD)/fuzz/tpm2_provider -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=60 -artifact_prefix=$(BUILD)/fuzz/ \
	    $(BUILD)/fuzz/corpus_tpm2_provider tests/attest/fuzz/corpus/tpm2_provider
