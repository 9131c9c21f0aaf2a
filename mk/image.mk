# sealed image (docs/image.md):
#   build/sealed-init      PID 1 of the initramfs, linked statically (no loader, no libraries:
#                          the generic rule would link libevent, curl and OpenSSL into it)
#   make image             build/image/{initramfs.cpio.gz,vmlinuz,SHA256SUMS} from Debian's kernel
#                          package and build/sealed-{init,login}; IMAGE_CONFIG picks the baked
#                          config (default image/sealed-login.conf)
IMAGE_DIR    := $(BUILD)/image
IMAGE_CONFIG ?= image/sealed-login.conf

$(BUILD)/sealed-init: $(BUILD)/src/init/main.o $(BUILD)/libinit.a
	$(CC) $(LDFLAGS) -static -o $@ $^

.PHONY: image
image: $(BUILD)/sealed-init $(BUILD)/sealed-login
	scripts/build-initramfs.sh --config $(IMAGE_CONFIG) --out $(IMAGE_DIR)
