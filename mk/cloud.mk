# cloud (issue 4): the test driver that runs login/cloud alone against tests/fakes/fake_cloud.py.
CLOUD_DRIVER := $(BUILD)/tests/cloud/cloud_driver
all: $(CLOUD_DRIVER)
$(CLOUD_DRIVER): tests/cloud/cloud_driver.c $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)

# Allocation-failure sweep (tests/cloud/test_alloc_sweep.sh): the cloud wire code and oci_sign
# compiled with ASan/UBSan, our allocations wrapped so each can fail in turn.
CLOUD_SWEEP_SRC := $(addprefix src/common/,oci_metadata.c oci_federation.c oci_vault.c oci_notify.c gcp.c cloud_wire.c \
                     oci_sign.c dynbuf.c codec.c)
CLOUD_SWEEP_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
$(BUILD)/tests/cloud/alloc_sweep: tests/cloud/alloc_sweep.c $(CLOUD_SWEEP_SRC) $(wildcard src/common/*.h)
	@mkdir -p $(@D)
	$(CC) -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-builtin -o $@ $< $(CLOUD_SWEEP_SRC) $(CLOUD_SWEEP_WRAP) $(shell pkg-config --cflags --libs jansson libcrypto)

# sealed-oci-request --instance-principal reuses the OCI wire code, which lives in src/common/ (the
# pure parsers): the Makefile's pattern rule links it with libcommon.a alone, not the service.
