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

