# sealed image (docs/image.md):
#   build/sealed-init      PID 1 of the initramfs, linked statically (no loader, no libraries:
#                          the generic rule would link libevent, curl and OpenSSL into it)
#   make image             build/image/{initramfs.cpio.gz,vmlinuz,SHA256SUMS,build-manifest.json}
#                          from Debian's pinned kernel (image/kernel.lock) and build/sealed-{init,login}.
#                          IMAGE_CONFIG: the baked config; IMAGE_APPEND: the kernel command line the
#                          manifest's measurements assume; IMAGE_OVMF: an AmdSevX64 OVMF (make
#                          ovmf-amdsev) to compute them with, used when the file exists.
IMAGE_DIR    := $(BUILD)/image
IMAGE_CONFIG ?= image/sealed-login.conf
IMAGE_APPEND ?= console=ttyS0 quiet panic=-1 sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 sealed.dns=10.0.2.3
IMAGE_OVMF   ?= $(BUILD)/measure/OVMF.amdsev.fd

$(BUILD)/sealed-init: $(BUILD)/src/init/main.o $(BUILD)/libinit.a
	$(CC) $(LDFLAGS) -static -o $@ $^

.PHONY: image
image: $(BUILD)/sealed-init $(BUILD)/sealed-login $(BUILD)/sealed-measure
	scripts/build-initramfs.sh --config $(IMAGE_CONFIG) --out $(IMAGE_DIR)
	scripts/image-manifest.sh --dir $(IMAGE_DIR) --append "$(IMAGE_APPEND)" \
	    $(if $(wildcard $(IMAGE_OVMF)),--ovmf $(IMAGE_OVMF))
