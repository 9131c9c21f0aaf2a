#!/bin/bash
# image-sources.sh: every input of make image that comes from Debian, fetched into the caches the
# build reads, or copied into one source archive. Owns the archive directory it is given; fills
# (never empties) the caches under ~/.cache/sealed-login and the edk2 tarballs in /var/tmp/sealed-ovmf.
#
#   scripts/image-sources.sh fetch        fill the caches (before make runs in the pinned root,
#                                         which has no apt and no network)
#   scripts/image-sources.sh archive DIR  DIR/{debs,pinned,musl-src,edk2}/ and DIR/SHA256SUMS:
#       debs/      every .deb of image/buildroot.lock
#       pinned/    the .debs of image/kernel-source.lock, kernel.lock, stub.lock
#       musl-src/  the .dsc and tarballs of image/musl-deps.lock's source packages
#       edk2/      the edk2 source package of the lock's "source edk2" line (.dsc when the mirror
#                  still has it, and its tarballs)
#
# With SEALED_SOURCE_ARCHIVE=DIR set, every fetcher (scripts/buildroot.py download,
# scripts/lib/pinned-deb.sh, build-kernel.sh, build-musl-deps.sh, ovmf-amdsev.sh) copies from DIR
# instead of asking the mirror, and checks each file against its lock as before.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}
OVMF_WORK=${OVMF_WORKDIR:-/var/tmp/sealed-ovmf}
die() { echo "image-sources: $*" >&2; exit 1; }
. scripts/lib/pinned-deb.sh
lockval() { sed -n "s/^$2=//p" "$1"; }
EDK2_VER=$(awk '$1 == "source" && $2 == "edk2" {print $3}' image/buildroot.lock)

fetch() {
    scripts/buildroot.py download "$CACHE/buildroot/debs" >&2
    pinned_deb image/kernel.lock "$CACHE/kernel" image-sources >/dev/null
    pinned_deb image/stub.lock "$CACHE/stub" image-sources >/dev/null
    pinned_deb image/kernel-source.lock "$CACHE/kernel-src" image-sources --no-unpack >/dev/null
    scripts/build-musl-deps.sh --fetch-only >/dev/null
    # edk2: the tarballs ovmf-amdsev.sh unpacks when apt cannot (no deb-src, no network)
    local up=${EDK2_VER%%-*}
    if [ ! -f "$OVMF_WORK/edk2_$up.orig.tar.xz" ] || [ ! -f "$OVMF_WORK/edk2_$EDK2_VER.debian.tar.xz" ]; then
        mkdir -p "$OVMF_WORK"
        if [ -n "${SEALED_SOURCE_ARCHIVE:-}" ]; then
            cp "$SEALED_SOURCE_ARCHIVE/edk2/"*.tar.* "$OVMF_WORK/"
        else
            (cd "$OVMF_WORK" && apt-get source -q --download-only "edk2=$EDK2_VER" >/dev/null 2>&1) ||
                die "apt-get source edk2=$EDK2_VER failed (a deb-src entry for trixie: make deps)"
        fi
    fi
}

archive() {
    local out=$1 up=${EDK2_VER%%-*} f
    fetch
    rm -rf "$out"
    mkdir -p "$out/debs" "$out/pinned" "$out/musl-src" "$out/edk2"
    # the locked .debs only (the download cache may hold others from older locks)
    (cd "$CACHE/buildroot/debs" && sha256sum -- *.deb) >"$out/.debs.sha256"
    awk '$1 == "deb" {print $5}' image/buildroot.lock | while read -r sha; do
        f=$(awk -v s="$sha" '$1 == s {print $2; exit}' "$out/.debs.sha256")
        cp "$CACHE/buildroot/debs/$f" "$out/debs/"
    done
    rm "$out/.debs.sha256"
    cp "$CACHE/kernel/$(lockval image/kernel.lock package)_$(lockval image/kernel.lock version)/"*.deb \
       "$CACHE/stub/$(lockval image/stub.lock package)_$(lockval image/stub.lock version)/"*.deb \
       "$CACHE/kernel-src/$(lockval image/kernel-source.lock package)_$(lockval image/kernel-source.lock version)/"*.deb \
       "$out/pinned/"
    grep -v '^#' image/musl-deps.lock | while read -r pkg ver _sha; do
        dsc=$CACHE/musl/src/${pkg}_${ver#*:}.dsc
        cp "$dsc" "$out/musl-src/"
        # the files the .dsc names (its Files: section)
        sed -n '/^Files:/,/^[A-Z]/p' "$dsc" | awk '/^ / && NF == 3 {print $3}' | while read -r f; do
            if [ -f "$CACHE/musl/src/$f" ]; then
                cp "$CACHE/musl/src/$f" "$out/musl-src/"
            elif [ "$pkg" = qrencode ] && [[ "$f" == *.debian.tar.* ]]; then
                # the mirror answers 404 for it; build-musl-deps.sh unpacks qrencode's upstream
                # tarball alone (checked against the .dsc), so the build does not need it
                echo "image-sources: $f is not on the mirror and not used by the build: not in the archive" >&2
            else
                echo "image-sources: $CACHE/musl/src/$f is missing (scripts/build-musl-deps.sh --fetch-only)" >&2; exit 1
            fi
        done || exit 1
    done
    cp "$OVMF_WORK/edk2_$up.orig.tar.xz" "$OVMF_WORK/edk2_$EDK2_VER.debian.tar.xz" "$out/edk2/"
    # the .dsc (the lock pins its sha256): kept next to the tarballs, else fetched once
    local dsc=edk2_$EDK2_VER.dsc dsc_sha url
    dsc_sha=$(awk '$1 == "source" && $2 == "edk2" {print $4}' image/buildroot.lock)
    if [ ! -f "$OVMF_WORK/$dsc" ]; then
        url=$(apt-get source -q --print-uris "edk2=$EDK2_VER" 2>/dev/null | awk -F"'" '/\.dsc/ {print $2; exit}')
        [ -n "$url" ] && curl -fsS -o "$OVMF_WORK/$dsc.tmp" "$url" && mv "$OVMF_WORK/$dsc.tmp" "$OVMF_WORK/$dsc" ||
            echo "image-sources: WARNING: no $dsc (the mirror dropped it?); the archive has the tarballs only" >&2
    fi
    if [ -f "$OVMF_WORK/$dsc" ]; then
        echo "$dsc_sha  $OVMF_WORK/$dsc" | sha256sum -c --quiet - || die "$OVMF_WORK/$dsc does not match the lock"
        cp "$OVMF_WORK/$dsc" "$out/edk2/"
    fi
    cp image/buildroot.lock image/musl-deps.lock image/kernel-source.lock image/kernel.lock image/stub.lock "$out/"
    (cd "$out" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum >SHA256SUMS)
    echo "image-sources: $out: $(wc -l <"$out/SHA256SUMS") files, $(du -sh "$out" | cut -f1)" >&2
}

case "${1:-}" in
    fetch) fetch ;;
    archive) [ $# = 2 ] || die "archive DIR"; archive "$2" ;;
    *) sed -n '2,/^set -e/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
