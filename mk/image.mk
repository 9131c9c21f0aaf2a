# sealed image (docs/image.md):
#   build/sealed-init      PID 1 of the initramfs, linked statically (no loader, no libraries:
#                          the generic rule would link libevent, curl and OpenSSL into it)
#   make image             build/image/{initramfs.cpio.gz,vmlinuz,SHA256SUMS,build-manifest.json}:
#                          our kernel (mk/kernel.mk; IMAGE_KERNEL=debian for Debian's pinned one),
#                          build/sealed-init and the static musl service (sealed-login-static
#                          below); then the UEFI disk (scripts/build-disk.sh): sealed-login.efi
#                          (UKI), disk.raw, sealed-login.qcow2 (OCI), sealed-login-gcp.tar.gz (GCE).
#   make image-glibc       the same in build/image-glibc/ with build/sealed-login and its shared
#                          libraries (no musl toolchain needed).
#   IMAGE_CONFIG: the baked config; IMAGE_APPEND: the kernel command line the manifest's
#   measurements assume; IMAGE_OVMF: the AmdSevX64 OVMF the SNP measurements are computed with
#   (make image builds it; make image-glibc uses it when the file exists).
IMAGE_CONFIG ?= image/sealed-login.conf
IMAGE_APPEND ?= console=ttyS0 quiet panic=-1 sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 sealed.dns=10.0.2.3
IMAGE_OVMF   ?= $(BUILD)/measure/OVMF.amdsev.fd

$(BUILD)/sealed-init: $(BUILD)/src/init/main.o $(BUILD)/libinit.a
	$(CC) $(LDFLAGS) -static -o $@ $^
# no build path in the debug info, hence none in the build id that stripping keeps
$(BUILD)/src/init/%.o: CFLAGS += -ffile-prefix-map=$(CURDIR)=.

# image_build(service binary, output dir)
define image_build
	scripts/build-initramfs.sh --config $(IMAGE_CONFIG) --login $(1) --out $(2) --kernel $(IMAGE_KERNEL)
	scripts/build-disk.sh --dir $(2) --append "$(IMAGE_APPEND)"
	scripts/image-manifest.sh --dir $(2) --append "$(IMAGE_APPEND)" $(if $(wildcard $(IMAGE_OVMF)),--ovmf $(IMAGE_OVMF))
endef

# Static service (musl): OpenSSL, libcurl, libevent and jansson built from the Debian sources pinned
# in image/musl-deps.lock (scripts/build-musl-deps.sh: minutes once, then cached), then the service
# compiled again with musl-gcc into build/musl/.
MUSL_BUILD := $(BUILD)/musl
MUSL_PKGS  := libevent libevent_openssl libcurl jansson libssl libcrypto
.PHONY: image image-glibc sealed-login-static
sealed-login-static:
	@prefix=$$(scripts/build-musl-deps.sh) && mkdir -p $(MUSL_BUILD)/kinc && \
	ln -sfn /usr/include/linux $(MUSL_BUILD)/kinc/linux && \
	ln -sfn /usr/include/x86_64-linux-gnu/asm $(MUSL_BUILD)/kinc/asm && \
	ln -sfn /usr/include/asm-generic $(MUSL_BUILD)/kinc/asm-generic && \
	export PKG_CONFIG_PATH=$$prefix/lib/pkgconfig PKG_CONFIG_LIBDIR=$$prefix/lib/pkgconfig && \
	$(MAKE) BUILD=$(MUSL_BUILD) CC=musl-gcc \
	    EXTRA_CFLAGS="-idirafter $(CURDIR)/$(MUSL_BUILD)/kinc -ffile-prefix-map=$(CURDIR)=." \
	    LDFLAGS=-static LDLIBS="$$(pkg-config --static --libs $(MUSL_PKGS)) -lpthread" $(MUSL_BUILD)/sealed-login

# The SNP targets need edk2's AmdSevX64 OVMF: built from Debian's pinned edk2 source (cached);
# IMAGE_OVMF= (empty) builds the image without them, IMAGE_OVMF=FILE uses another build.
$(BUILD)/measure/OVMF.amdsev.fd: scripts/ovmf-amdsev.sh
	scripts/ovmf-amdsev.sh $(BUILD)/measure
image: sealed-login-static $(BUILD)/sealed-init $(BUILD)/sealed-measure $(IMAGE_OVMF)
	$(call image_build,$(MUSL_BUILD)/sealed-login,$(BUILD)/image)
image-glibc: $(BUILD)/sealed-init $(BUILD)/sealed-login $(BUILD)/sealed-measure
	$(call image_build,$(BUILD)/sealed-login,$(BUILD)/image-glibc)

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
	$(BUILD)/fuzz/init_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    $(BUILD)/fuzz/corpus_init_parse tests/init/fuzz/corpus/init_parse
