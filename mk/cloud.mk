# cloud (issue 4): the test driver that runs login/cloud alone against tests/cloud/fake_cloud.py.
CLOUD_DRIVER := $(BUILD)/tests/cloud/cloud_driver
all: $(CLOUD_DRIVER)
$(CLOUD_DRIVER): tests/cloud/cloud_driver.c $(BUILD)/liblogin.a $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/liblogin.a $(BUILD)/libcommon.a $(LDLIBS)
