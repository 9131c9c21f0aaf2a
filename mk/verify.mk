# sealed-verify extras: the test evidence generator (tests/verify/testgen.c). Its fuzz targets are
# fuzz/verify/ (mk/fuzz.mk).

all: $(BUILD)/tests/verify/testgen

$(BUILD)/tests/verify/testgen: tests/verify/testgen.c $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcommon.a $(LDLIBS)

