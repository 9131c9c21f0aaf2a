# ACME client extras: the Pebble test driver (build/tests/acme/acme-driver), built by `make all`.
# It links liblogin.a; while src/login/tls.c does not exist yet it adds tests/acme/tls_fallback.c.
ACME_DRIVER     := $(BUILD)/tests/acme/acme-driver
ACME_DRIVER_SRC := tests/acme/acme_driver.c $(if $(wildcard src/login/tls.c),,tests/acme/tls_fallback.c)

all: $(ACME_DRIVER)

$(ACME_DRIVER): $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ACME_DRIVER_SRC) $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)
