# ACME client extras: the Pebble test driver (build/tests/acme/acme-driver, built by `make all`,
# linking liblogin.a). Its fuzz targets are fuzz/login/acme/ (mk/fuzz.mk).
ACME_DRIVER     := $(BUILD)/tests/acme/acme-driver
ACME_DRIVER_SRC := tests/acme/acme_driver.c

all: $(ACME_DRIVER)

$(ACME_DRIVER): $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)

