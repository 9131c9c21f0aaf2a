#!/bin/bash
# Builds edk2's AmdSevX64 OVMF — the firmware variant with the SEV hashes table and the SNP
# kernel-hashes page that QEMU's measured direct boot needs — from Debian's pinned edk2 source
# package (Debian's binary `ovmf` ships only the standard build). Output: $OUT/OVMF.amdsev.fd and
# $OUT/OVMF.amdsev.fd.inputs (what went in). Needs a deb-src entry for bookworm and the packages
# in scripts/packages/measure.txt (nasm, iasl, uuid-dev, python3-distutils, dpkg-dev).
#
# The AmdSev firmware volume embeds a GRUB binary for the encrypted-disk boot flow; measured direct
# boot (QEMU -kernel) never runs it, and building GRUB would pull in another source tree, so the
# build uses an empty placeholder, as edk2's own AmdSev instructions allow. Its bytes are part of
# the measurement: anyone reproducing must do the same (this script does).
set -euo pipefail
EDK2_VERSION=2022.11-6+deb12u2
OUT=${1:-build/measure}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"
if [ ! -d edk2-2022.11 ]; then
    apt-get source "edk2=$EDK2_VERSION" >edk2-source.log 2>&1
fi
cd edk2-2022.11
export SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -SDate -l debian/changelog | date -f - +%s)
make -C BaseTools -j2 >"$OUT/edk2-basetools.log" 2>&1
: >OvmfPkg/AmdSev/Grub/grub.efi
set --       # edksetup.sh reads the positional arguments
set +eu      # and is not written for -e/-u
# shellcheck disable=SC1091
. ./edksetup.sh >/dev/null
set -eu
build -a X64 -t GCC5 -b RELEASE -n 2 -p OvmfPkg/AmdSev/AmdSevX64.dsc >"$OUT/edk2-amdsev-build.log" 2>&1
cp Build/AmdSev/RELEASE_GCC5/FV/OVMF.fd "$OUT/OVMF.amdsev.fd"
{
    echo "edk2 Debian source package: $EDK2_VERSION"
    echo "platform: OvmfPkg/AmdSev/AmdSevX64.dsc, RELEASE, GCC5 ($(gcc --version | head -1))"
    echo "grub.efi: empty placeholder"
    echo "sha256: $(sha256sum "$OUT/OVMF.amdsev.fd" | cut -d' ' -f1)"
} >"$OUT/OVMF.amdsev.fd.inputs"
cat "$OUT/OVMF.amdsev.fd.inputs"
