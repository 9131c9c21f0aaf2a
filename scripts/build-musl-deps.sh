#!/bin/bash
# build-musl-deps.sh: builds static musl versions of OpenSSL, libcurl, libevent, jansson and
# libqrencode from the Debian source packages pinned in image/musl-deps.lock, for the static sealed-login
# (make sealed-login-static). Owns ~/.cache/sealed-login/musl/ only; prints the install prefix.
# A prefix is keyed by the lock, the build steps and the toolchain: rebuilt only when one changes.
# --fetch-only only fetches the sources; SEALED_SOURCE_ARCHIVE=DIR copies them from DIR/musl-src/ (no mirror).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK=$ROOT/image/musl-deps.lock
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/musl
JOBS=${JOBS:-2}
# the key: the lock, the build steps (this script from the marker below on: the cache handling and
# the fetching above it do not change the bytes), the compiler, linker, musl and kernel headers
key=$( { cat "$LOCK"; sed -n '/^# ---- build steps/,$p' "$0"; gcc --version | head -1; ld --version | head -1; dpkg-query -W -f='${Version} ' musl-dev linux-libc-dev; } | sha256sum | cut -c1-16)
PREFIX=$CACHE/prefix-$key
die() { echo "build-musl-deps: $*" >&2; exit 1; }
command -v musl-gcc >/dev/null || die "musl-gcc missing (scripts/packages/image.txt: musl-tools)"
mkdir -p "$CACHE/src"
FETCH_ONLY=0; [ "${1:-}" = --fetch-only ] && FETCH_ONLY=1
# --fetch-only with every .dsc in place and matching: nothing to do, and no need to wait for a
# build that holds the cache's lock
if [ "$FETCH_ONLY" = 1 ] && grep -v '^#' "$LOCK" | while read -r pkg ver sha; do
        echo "$sha  $CACHE/src/${pkg}_${ver#*:}.dsc"; done | sha256sum -c --quiet - >/dev/null 2>&1; then
    echo "$CACHE/src"; exit 0
fi
# a finished prefix is never changed again: no need to wait for another build's lock
if [ "$FETCH_ONLY" = 0 ] && [ -f "$PREFIX/.done" ]; then echo "$PREFIX"; exit 0; fi
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$PREFIX/.done" ] && [ "$FETCH_ONLY" = 0 ]; then echo "$PREFIX"; exit 0; fi

# sources: download the pinned versions, check the .dsc against the lock
grep -v '^#' "$LOCK" | while read -r pkg ver sha; do
    dsc=$CACHE/src/${pkg}_${ver#*:}.dsc
    if [ ! -f "$dsc" ] && [ -n "${SEALED_SOURCE_ARCHIVE:-}" ]; then
        cp "$SEALED_SOURCE_ARCHIVE/musl-src/${pkg}_"* "$CACHE/src/" || die "no $pkg source in $SEALED_SOURCE_ARCHIVE/musl-src"
    fi
    [ -f "$dsc" ] || (cd "$CACHE/src" && apt-get source -q --download-only "$pkg=$ver" >/dev/null 2>&1) ||
        [ "$pkg" = qrencode ] || die "apt-get source $pkg=$ver failed (needs a deb-src entry for bookworm)"
    [ -f "$dsc" ] || die "apt-get source $pkg=$ver failed (needs a deb-src entry for bookworm)"
    echo "$sha  $dsc" | sha256sum -c --quiet - || die "$dsc does not match $LOCK"
done
if [ "$FETCH_ONLY" = 1 ]; then echo "$CACHE/src"; exit 0; fi
# qrencode's upstream tarball, checked against the sha256 its pinned .dsc lists (unpack_orig: some
# mirrors lack its 5 KB debian.tar.xz, which holds packaging only, no patch to the library)
unpack_orig() {
    local dsc=$CACHE/src/${1}_${2#*:}.dsc orig
    orig=$(awk '/^Checksums-Sha256:/ {s=1; next} /^[^ ]/ {s=0} s && $3 ~ /orig\.tar/ {print $3}' "$dsc")
    [ -n "$orig" ] && [ -f "$CACHE/src/$orig" ] || die "$1: $orig missing"
    awk -v f="$orig" '/^Checksums-Sha256:/ {s=1; next} /^[^ ]/ {s=0} s && $3 == f {print $1 "  " f}' "$dsc" |
        (cd "$CACHE/src" && sha256sum -c --quiet -) || die "$orig does not match $dsc"
    mkdir -p "$WORK/$1" && tar -xf "$CACHE/src/$orig" -C "$WORK/$1" --strip-components=1
}

# ---- build steps ---- (the cache key covers the script from here on)
WORK=$CACHE/work-$key
rm -rf "$WORK" "$PREFIX"
mkdir -p "$WORK/kinc" "$PREFIX"
# musl has no kernel headers of its own: borrow the build machine's (linux/, asm/, asm-generic/)
ln -s /usr/include/linux "$WORK/kinc/linux"
ln -s /usr/include/x86_64-linux-gnu/asm "$WORK/kinc/asm"
ln -s /usr/include/asm-generic "$WORK/kinc/asm-generic"
export CC=musl-gcc CFLAGS="-O2 -fPIE -idirafter $WORK/kinc" LDFLAGS="-static"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
unpack() { dpkg-source -q -x "$CACHE/src/${1}_${2#*:}.dsc" "$WORK/$1" >>"$WORK/build.log" 2>&1; }
ver() { awk -v p="$1" '$1 == p {print $2}' "$LOCK"; }
log=$WORK/build.log

echo "build-musl-deps: openssl" >&2
unpack openssl "$(ver openssl)"
# libcrypto keeps its configured paths and compiler flags as strings (OpenSSL_version): a fixed
# prefix (installed through DESTDIR) and a relative header path keep them free of this cache's path
(cd "$WORK/openssl" && CFLAGS="-O2 -fPIE -idirafter ../kinc" ./Configure linux-x86_64 no-shared no-async \
    no-tests no-engine no-dso --prefix=/usr/local/sealed-musl --libdir=lib --openssldir=/etc/ssl &&
    make -j"$JOBS" build_libs && make install_dev DESTDIR="$WORK/openssl-dest" &&
    cp -a "$WORK/openssl-dest/usr/local/sealed-musl/." "$PREFIX/" &&
    sed -i "s|^prefix=.*|prefix=$PREFIX|" "$PREFIX"/lib/pkgconfig/{libcrypto,libssl,openssl}.pc) \
    >>"$log" 2>&1 || die "openssl failed: $log"

echo "build-musl-deps: curl" >&2
unpack curl "$(ver curl)"
# Debian's last two patches turn the tree into the GnuTLS and NSS flavours (debian/rules pops them
# for the OpenSSL build): take them back out
(cd "$WORK/curl" && patch -s -R -p1 <debian/patches/99_nss.patch && patch -s -R -p1 <debian/patches/90_gnutls.patch) \
    >>"$log" 2>&1 || die "curl: cannot revert the flavour patches: $log"
(cd "$WORK/curl" && autoreconf -fi && ./configure --prefix="$PREFIX" --disable-shared --enable-static \
    --with-openssl="$PREFIX" --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
    --without-libpsl --without-nghttp2 --without-brotli --without-zstd --without-libidn2 --without-librtmp \
    --without-libssh2 --without-zlib --disable-ldap --disable-ldaps --disable-manual --disable-docs \
    --enable-threaded-resolver --disable-dict --disable-file --disable-ftp --disable-gopher --disable-imap \
    --disable-mqtt --disable-pop3 --disable-rtsp --disable-smb --disable-smtp --disable-telnet --disable-tftp &&
    make -j"$JOBS" -C lib && make -C lib install && make -C include install && make install-pkgconfigDATA) \
    >>"$log" 2>&1 || die "curl failed: $log"

echo "build-musl-deps: libevent" >&2
unpack libevent "$(ver libevent)"
(cd "$WORK/libevent" && autoreconf -fi && ./configure --prefix="$PREFIX" --disable-shared --enable-static \
    --disable-samples --disable-libevent-regress --disable-debug-mode CPPFLAGS="-I$PREFIX/include" \
    LDFLAGS="-static -L$PREFIX/lib" && make -j"$JOBS" && make install) >>"$log" 2>&1 || die "libevent failed: $log"

echo "build-musl-deps: jansson" >&2
unpack jansson "$(ver jansson)"
(cd "$WORK/jansson" && autoreconf -fi && ./configure --prefix="$PREFIX" --disable-shared --enable-static &&
    make -j"$JOBS" && make install) >>"$log" 2>&1 || die "jansson failed: $log"

echo "build-musl-deps: qrencode" >&2
unpack_orig qrencode "$(ver qrencode)"
(cd "$WORK/qrencode" && ./configure --prefix="$PREFIX" --disable-shared --enable-static --without-tools &&
    make -j"$JOBS" && make install) >>"$log" 2>&1 || die "qrencode failed: $log"

mv "$log" "$PREFIX/build.log"
rm -rf "$WORK"
touch "$PREFIX/.done"
echo "$PREFIX"
