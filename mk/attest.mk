# attest: test driver for the evidence providers (tests/attest/*.c -> build/tests/attest/NAME),
# linked like a unit test. The suites in tests/attest/ run it against swtpm and the emulators.
ATTEST_TOOLS_SRC := $(wildcard tests/attest/*.c)
ATTEST_TOOLS     := $(ATTEST_TOOLS_SRC:%.c=$(BUILD)/%)
all: $(ATTEST_TOOLS)
$(BUILD)/tests/attest/%: tests/attest/%.c $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS) $(ATTEST_EXTRA_LIBS_$*)
