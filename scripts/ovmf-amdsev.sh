#!/bin/bash
# Builds edk2's AmdSevX64 OVMF — the firmware variant with the SEV hashes table and the SNP
# kernel-hashes page that QEMU's measured direct boot needs — from Debian's pinned edk2 source
# package (Debian's binary `ovmf` ships only the standard build).
#   scripts/ovmf-amdsev.sh [DEST-DIR]      (default build/measure)
# Output: DEST-DIR/OVMF.amdsev.fd and DEST-DIR/OVMF.amdsev.fd.inputs (what went in). The edk2 tree
# is unpacked and built in $OVMF_WORKDIR (default /var/tmp/sealed-ovmf), outside the repository:
# the project Makefile reads every *.d file under build/, and edk2's tree has some. The build is
# deterministic for a given path (two clean builds give the same bytes) but edk2 embeds the build
# path in the image, so the default path is part of the recipe. Needs a deb-src entry for the suite that carries
# EDK2_VERSION and the packages in scripts/packages/measure.txt (nasm, iasl, uuid-dev, dpkg-dev).
#
# The default is trixie's edk2: bookworm's 2022.11 AmdSevX64 has no SNP_KERNEL_HASHES metadata
# section (its hashes table sits in SNP_SEC_MEM), so SNP measured direct boot is impossible with it
# (sealed-measure refuses it); SEV and SEV-ES direct boot work with either.
#
# The AmdSev firmware volume embeds a GRUB binary for the encrypted-disk boot flow; measured direct
# boot (QEMU -kernel) never runs it, and building GRUB would pull in another source tree, so the
# build uses an empty placeholder, as edk2's own AmdSev instructions allow. Its bytes are part of
# the measurement: anyone reproducing must do the same (this script does).
#
# The result is cached in ~/.cache/sealed-login/ovmf-amdsev/<key>/ (key: this script, the edk2
# version, the work directory and the compiler), so `make image` pays the ~6 minutes once per machine.
set -euo pipefail
EDK2_VERSION=${EDK2_VERSION:-2025.02-8+deb13u1}
EDK2_DIR=edk2-${EDK2_VERSION%%-*}
OUT=${1:-build/measure}
WORK=${OVMF_WORKDIR:-/var/tmp/sealed-ovmf}
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
key=$( { cat "$0"; echo "$EDK2_VERSION $WORK"; gcc --version | head -1; } | sha256sum | cut -c1-16)
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/ovmf-amdsev/$key
if [ -f "$CACHE/OVMF.amdsev.fd.inputs" ]; then
    cp "$CACHE/OVMF.amdsev.fd" "$CACHE/OVMF.amdsev.fd.inputs" "$OUT/"
    exit 0
fi
echo "ovmf-amdsev: building edk2 $EDK2_VERSION AmdSevX64 in $WORK (about 6 minutes, once; cached in $CACHE)" >&2
cd "$WORK"
if [ ! -d "$EDK2_DIR" ] && ! apt-cache showsrc edk2 2>/dev/null | grep -qx "Version: $EDK2_VERSION"; then
    cat >&2 <<MSG
ovmf-amdsev: apt knows no source package edk2 $EDK2_VERSION. Add a deb-src entry, e.g.
  /etc/apt/sources.list.d/debian-src-trixie.sources:
    Types: deb-src
    URIs: http://deb.debian.org/debian
    Suites: trixie
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
then run apt-get update (source entries bring in no binary packages).
MSG
    exit 1
fi
if [ ! -d "$EDK2_DIR" ]; then
    # apt checks each file against the signed Sources index. Some mirrors miss the .dsc; then
    # unpack the two tarballs apt did fetch and apply Debian's patch series ourselves.
    if ! apt-get source "edk2=$EDK2_VERSION" >"edk2-source-$EDK2_VERSION.log" 2>&1; then
        up=${EDK2_VERSION%%-*}
        [ -f "edk2_$up.orig.tar.xz" ] && [ -f "edk2_$EDK2_VERSION.debian.tar.xz" ] || {
            echo "ovmf-amdsev: cannot fetch edk2 $EDK2_VERSION (see edk2-source-$EDK2_VERSION.log)" >&2; exit 1; }
        tar xf "edk2_$up.orig.tar.xz"
        tar xf "edk2_$EDK2_VERSION.debian.tar.xz" -C "$EDK2_DIR"
        (cd "$EDK2_DIR" && sed 's/#.*//' debian/patches/series | while read -r patch _; do
            [ -n "$patch" ] && patch -p1 -s <"debian/patches/$patch"; done)
    fi
fi
cd "$EDK2_DIR"
export SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -SDate -l debian/changelog | date -f - +%s)
# BaseTools' tests and wrappers run "python" unless PYTHON_COMMAND names another (Debian's rules do
# the same): the image build runs with the system PATH only, where Debian has no "python"
export PYTHON_COMMAND=python3
make -C BaseTools -j2 >"$WORK/edk2-basetools.log" 2>&1
: >OvmfPkg/AmdSev/Grub/grub.efi
set --       # edksetup.sh reads the positional arguments
set +eu      # and is not written for -e/-u
# shellcheck disable=SC1091
. ./edksetup.sh >/dev/null
set -eu
build -a X64 -t GCC5 -b RELEASE -n 2 -p OvmfPkg/AmdSev/AmdSevX64.dsc >"$WORK/edk2-amdsev-build.log" 2>&1
cp Build/AmdSev/RELEASE_GCC5/FV/OVMF.fd "$OUT/OVMF.amdsev.fd"
rm -rf Build
{
    echo "edk2 Debian source package: $EDK2_VERSION"
    echo "platform: OvmfPkg/AmdSev/AmdSevX64.dsc, RELEASE, GCC5 ($(gcc --version | head -1))"
    echo "grub.efi: empty placeholder"
    echo "built in: $WORK/$EDK2_DIR (the path ends up in the image: keep it to reproduce the bytes)"
    echo "sha256: $(sha256sum "$OUT/OVMF.amdsev.fd" | cut -d' ' -f1)"
} >"$OUT/OVMF.amdsev.fd.inputs"
mkdir -p "$CACHE"
cp "$OUT/OVMF.amdsev.fd" "$CACHE/OVMF.amdsev.fd.tmp" && mv "$CACHE/OVMF.amdsev.fd.tmp" "$CACHE/OVMF.amdsev.fd"
cp "$OUT/OVMF.amdsev.fd.inputs" "$CACHE/"
cat "$OUT/OVMF.amdsev.fd.inputs" >&2
