# sealed image (docs/image.md):
#   build/sealed-init      PID 1 of the initramfs, linked statically with musl (no loader, no
#                          libraries: the generic rule would link libevent, curl and OpenSSL into it)
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
# One image per release: the command line holds nothing of a deployment. The kernel's own DHCP
# client (ip=dhcp; image/kernel-patches/ teaches it GCE's /32 leases) configures the network on
# every cloud and under QEMU; the VM's fixed address is the cloud's (OCI: the VNIC's private IP,
# GCP: the reserved internal address). Debian's stock kernel (IMAGE_KERNEL=debian) has no in-kernel
# DHCP, so that variant keeps a static address for QEMU's user network (sealed.ip=, docs/image.md).
IMAGE_CONFIG ?= image/sealed-login.conf
IMAGE_APPEND ?= console=ttyS0 quiet panic=-1 $(if $(filter debian,$(IMAGE_KERNEL)),sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 sealed.dns=10.0.2.3,ip=dhcp)
IMAGE_OVMF   ?= $(BUILD)/measure/OVMF.amdsev.fd

# PID 1 is linked with musl (musl-tools), not glibc: a static glibc warns about NSS and pulls in
# ten times the code. Compiled here from its sources, apart from build/libinit.a (which the unit
# tests link with glibc); no build path in the debug info, hence none in the build id that
# stripping keeps. musl has no kernel headers: the build machine's (linux-libc-dev, locked in
# image/buildroot.lock) are found after musl's own.
INIT_SRC    := $(sort $(wildcard src/init/*.c))
INIT_CFLAGS := -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
               -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Isrc -ffile-prefix-map=$(CURDIR)=. \
               -idirafter $(BUILD)/init-kinc
$(BUILD)/sealed-init: $(INIT_SRC) src/init/init.h
	@mkdir -p $(BUILD)/init-kinc && ln -sfn /usr/include/linux $(BUILD)/init-kinc/linux && \
	 ln -sfn /usr/include/x86_64-linux-gnu/asm $(BUILD)/init-kinc/asm && \
	 ln -sfn /usr/include/asm-generic $(BUILD)/init-kinc/asm-generic
	musl-gcc $(INIT_CFLAGS) -static -o $@ $(INIT_SRC)

# The build environment (image/buildroot.lock, scripts/buildroot.py): make image refuses a machine
# whose packages differ from the lock (make buildroot-sync installs the locked versions);
# BUILDROOT=host builds anyway and the manifest says "host (unpinned)" with every difference.
BUILDROOT ?= lock
# only the system's tools build the image (a python3 or gcc earlier on PATH is not in the lock)
IMAGE_PATH := /usr/sbin:/usr/bin:/sbin:/bin
image image-glibc sealed-login-static buildroot-check $(BUILD)/measure/OVMF.amdsev.fd: export PATH := $(IMAGE_PATH)
.PHONY: buildroot-check buildroot-sync lock-update lock-check
buildroot-check:
ifeq ($(BUILDROOT),root)
	@test "$$SEALED_IN_ROOT" = 1 || { echo "buildroot-check: BUILDROOT=root outside the root" >&2; exit 1; }
	@scripts/buildroot.py check --exact
else ifeq ($(BUILDROOT),host)
	@scripts/buildroot.py check >/dev/null 2>&1 || \
	 echo "image: WARNING: BUILDROOT=host: the build environment differs from image/buildroot.lock; the manifest records it as unpinned" >&2
else
	@scripts/buildroot.py check
endif
buildroot-sync:
	scripts/buildroot.py sync
lock-update:
	scripts/buildroot.py update
	scripts/buildroot.py nix-inputs
# information, never a failure: locked packages and sources the mirror has updated since
lock-check:
	@scripts/buildroot.py outdated

# image_build(service binary, output dir)
define image_build
	scripts/build-initramfs.sh --config $(IMAGE_CONFIG) --login $(1) --out $(2) --kernel $(IMAGE_KERNEL)
	scripts/build-disk.sh --dir $(2) --append "$(IMAGE_APPEND)"
	BUILDROOT=$(BUILDROOT) scripts/image-manifest.sh --dir $(2) --append "$(IMAGE_APPEND)" $(if $(wildcard $(IMAGE_OVMF)),--ovmf $(IMAGE_OVMF))
endef

# Static service (musl): OpenSSL, libcurl, libevent and jansson built from the Debian sources pinned
# in image/musl-deps.lock (scripts/build-musl-deps.sh: minutes once, then cached), then the service
# compiled again with musl-gcc into build/musl/.
MUSL_BUILD := $(BUILD)/musl
MUSL_PKGS  := libevent libevent_openssl libcurl jansson libssl libcrypto libqrencode
.PHONY: image image-glibc sealed-login-static
sealed-login-static: buildroot-check
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
$(BUILD)/measure/OVMF.amdsev.fd: scripts/ovmf-amdsev.sh | buildroot-check
	scripts/ovmf-amdsev.sh $(BUILD)/measure
ifeq ($(BUILDROOT)-$(SEALED_IN_ROOT),root-)
# BUILDROOT=root: make image runs inside the pinned root (make buildroot-run below)
image:
	$(MAKE) --no-print-directory buildroot-run ROOT_TARGETS=image
else
image: buildroot-check sealed-login-static $(BUILD)/sealed-init $(BUILD)/sealed-measure $(IMAGE_OVMF)
	$(call image_build,$(MUSL_BUILD)/sealed-login,$(BUILD)/image)
endif
# make buildroot-run ROOT_TARGETS="..." : the pinned sources are fetched here (the root has no apt
# and no network; SEALED_SOURCE_ARCHIVE=DIR takes them from a source archive), then make runs the
# targets inside the root (scripts/buildroot-root.sh: no network, the repository read-only, build/
# and the caches writable), with BUILDROOT=root: the manifest says "pinned root".
ROOT_TARGETS ?= image
.PHONY: buildroot-run source-archive
buildroot-run:
	scripts/image-sources.sh fetch
	scripts/buildroot-root.sh run -- make --no-print-directory BUILDROOT=root BUILD=$(BUILD) \
	    IMAGE_KERNEL=$(IMAGE_KERNEL) $(ROOT_TARGETS)
# every locked .deb and pinned source in one directory with a SHA256SUMS (docs/image.md)
SOURCE_ARCHIVE ?= $(BUILD)/source-archive
source-archive:
	scripts/image-sources.sh archive $(SOURCE_ARCHIVE)
# the build context of Containerfile: the root's tarball and the source archive under build/container
.PHONY: container-context
container-context:
	@mkdir -p $(BUILD)/container
	ln -f $$(scripts/buildroot-root.sh tar) $(BUILD)/container/root.tar 2>/dev/null || \
	    cp $$(scripts/buildroot-root.sh tar) $(BUILD)/container/root.tar
	scripts/image-sources.sh archive $(BUILD)/container/sources
# the test variant: the host's shared libraries, so never a pinned build
image-glibc: BUILDROOT = host
image-glibc: $(BUILD)/sealed-init $(BUILD)/sealed-login $(BUILD)/sealed-measure
	$(call image_build,$(BUILD)/sealed-login,$(BUILD)/image-glibc)
