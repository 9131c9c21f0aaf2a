# The sealed image's kernel (docs/image.md, "The kernel"):
#   make kernel             builds it (scripts/build-kernel.sh; minutes once, then cached in
#                           ~/.cache/sealed-login/kernel-build/<input hash>/) and prints where it is
#   make kernel-repro       builds it again in a fresh directory and fails unless the bzImage is
#                           byte-identical to the cached one
#   IMAGE_KERNEL=debian     make image / image-glibc with Debian's stock kernel and its modules
#                           (image/kernel.lock, image/modules.txt) instead of ours
IMAGE_KERNEL ?= sealed
KERNEL_JOBS  ?= 2
.PHONY: kernel kernel-repro
kernel:
	@scripts/build-kernel.sh --jobs $(KERNEL_JOBS)
kernel-repro: kernel
	@scripts/build-kernel.sh --jobs $(KERNEL_JOBS) --rebuild
