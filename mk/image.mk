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

# libFuzzer (clang, ASan + UBSan) on sealed-init's parsers with property checks;
# tests/init/test_fuzz_init.sh runs it ~15 s in `make test`, `make fuzz-init [FUZZ_SECONDS=60]` longer.
INIT_FUZZ_SRC := src/init/init_cmdline.c src/init/init_modlist.c
.PHONY: fuzz-init fuzz-init-bins
fuzz-init-bins: $(BUILD)/fuzz/init_parse
$(BUILD)/fuzz/init_parse: tests/init/fuzz/fuzz_init_parse.c $(INIT_FUZZ_SRC) src/init/init.h
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(INIT_FUZZ_SRC)
fuzz-init: fuzz-init-bins
	mkdir -p $(BUILD)/fuzz/corpus_init_parse
	$(BUILD)/fuzz/init_parse -max_total_time=$${FUZZ_SECONDS:-60} -max_len=4096 \
	    $(BUILD)/fuzz/corpus_init_parse tests/init/fuzz/corpus/init_parse
