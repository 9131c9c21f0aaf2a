#!/bin/bash
# build-wasm-deps.sh: builds OpenSSL (libcrypto only) and jansson for WebAssembly with Debian's
# emscripten, from the same pinned Debian source packages as the static service
# (image/musl-deps.lock), for the browser verifier (make verify-html, mk/web.mk).
# Owns ~/.cache/sealed-login/wasm/ only; prints the install prefix. A prefix is keyed by the two
# lock lines, this script and emcc's version: rebuilt only when one of them changes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK=$ROOT/image/musl-deps.lock
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/wasm
JOBS=${JOBS:-2}
die() { echo "build-wasm-deps: $*" >&2; exit 1; }
for t in emcc clang-14 llvm-ar-14 llvm-ranlib-14; do
    command -v $t >/dev/null || die "$t missing (scripts/packages/verify.txt: emscripten)"
done
# Debian's emscripten runs its JS tools with node; a Node.js not from Debian needs Debian's modules
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
locked=$(awk '$1 == "openssl" || $1 == "jansson"' "$LOCK")
[ "$(echo "$locked" | wc -l)" = 2 ] || die "$LOCK must pin openssl and jansson"
key=$( (echo "$locked"; cat "$0"; emcc --version | sed -n 1p) | sha256sum | cut -c1-16)
PREFIX=$CACHE/prefix-$key
mkdir -p "$CACHE/src"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$PREFIX/.done" ]; then echo "$PREFIX"; exit 0; fi

# sources: download the pinned versions, check the .dsc against the lock
echo "$locked" | while read -r pkg ver sha; do
    dsc=$CACHE/src/${pkg}_${ver#*:}.dsc
    [ -f "$dsc" ] || (cd "$CACHE/src" && apt-get source -q --download-only "$pkg=$ver" >/dev/null 2>&1) ||
        die "apt-get source $pkg=$ver failed (needs a deb-src entry for bookworm)"
    echo "$sha  $dsc" | sha256sum -c --quiet - || die "$dsc does not match $LOCK"
done

WORK=$CACHE/work-$key
rm -rf "$WORK" "$PREFIX"
mkdir -p "$WORK" "$PREFIX"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
unpack() { dpkg-source -q -x "$CACHE/src/${1}_${2#*:}.dsc" "$WORK/$1" >>"$WORK/build.log" 2>&1; }
ver() { echo "$locked" | awk -v p="$1" '$1 == p {print $2}'; }
log=$WORK/build.log

echo "build-wasm-deps: openssl (libcrypto)" >&2
unpack openssl "$(ver openssl)"
# A 32-bit generic C target without assembly, threads, sockets, DSOs or engines, and without the
# algorithms and formats a verifier of ES256 JWS, RSA-PSS/ECDSA X.509 chains and TPM quotes never
# uses (fewer objects: a shorter cold build, a smaller page). Randomness (not needed to verify;
# OpenSSL seeds lazily) comes from emscripten's /dev/urandom, i.e. crypto.getRandomValues. Objects
# are compiled by emscripten's clang with exactly the flags emcc passes it (`emcc --cflags`): the
# same object files, without emcc's per-file start-up cost. A fixed --prefix keeps the build free
# of this cache's path; only libcrypto is built (the verifier uses no TLS).
emflags=$(emcc --cflags)
(cd "$WORK/openssl" && CC=clang-14 AR=llvm-ar-14 RANLIB=llvm-ranlib-14 CFLAGS="$emflags -O2" \
    ./Configure linux-generic32 no-asm no-threads no-shared no-dso no-engine no-sock no-dgram no-afalgeng \
    no-async no-secure-memory no-ui-console no-tests no-legacy no-aria no-bf no-blake2 no-camellia no-cast \
    no-chacha no-poly1305 no-cmp no-cms no-comp no-ct no-des no-dh no-dsa no-ec2m no-gost no-idea no-md4 \
    no-mdc2 no-ocb no-ocsp no-rc2 no-rc4 no-rc5 no-rmd160 no-scrypt no-seed no-siphash no-siv no-sm2 no-sm3 \
    no-sm4 no-srp no-srtp no-ts no-whirlpool no-rfc3779 no-psk --with-rand-seed=devrandom \
    --prefix=/usr/local/sealed-wasm --libdir=lib --openssldir=/etc/ssl &&
    make -j"$JOBS" build_generated && make -j"$JOBS" libcrypto.a &&
    mkdir -p "$PREFIX/lib" "$PREFIX/include" && cp libcrypto.a "$PREFIX/lib/" &&
    cp -a include/openssl "$PREFIX/include/") >>"$log" 2>&1 || die "openssl failed: $log"

echo "build-wasm-deps: jansson" >&2
unpack jansson "$(ver jansson)"
(cd "$WORK/jansson" && autoreconf -fi && emconfigure ./configure --prefix="$PREFIX" --disable-shared \
    --enable-static CFLAGS="-O2" && emmake make -j"$JOBS" && emmake make install) >>"$log" 2>&1 ||
    die "jansson failed: $log"

mv "$log" "$PREFIX/build.log"
rm -rf "$WORK"
touch "$PREFIX/.done"
echo "$PREFIX"
