#!/bin/bash
# build-wasm-deps.sh: builds OpenSSL (libcrypto only) and jansson for WebAssembly with Debian's
# emscripten, from the same pinned Debian source packages as the static service
# (image/musl-deps.lock), for the browser verifier (build/sealed-verify.html, mk/web.mk).
# Owns ~/.cache/sealed-login/wasm/ only; prints the install prefix. Each library is cached under a
# key of its lock line, its build function below and emcc's version, and rebuilt only when one of
# them changes; the printed prefix joins the two.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK=$ROOT/image/musl-deps.lock
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/wasm
JOBS=${JOBS:-2}
die() { echo "build-wasm-deps: $*" >&2; exit 1; }
for t in emcc clang-14 llvm-ar-14 llvm-ranlib-14 dpkg-source autoreconf; do
    command -v $t >/dev/null || die "$t missing (scripts/packages/verify.txt)"
done
# Debian's emscripten runs its JS tools with node: a Node.js not from Debian needs Debian's modules
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
# the toolchain's identity, cheaply (this runs on every make): the Debian package's version
emver=$(dpkg-query -W -f='${Version}' emscripten 2>/dev/null || emcc --version | sed -n 1p)

# OpenSSL: a 32-bit generic C target without assembly, threads, sockets, DSOs or engines, and
# without the algorithms and formats a verifier of ES256 JWS, RSA-PSS/ECDSA X.509 chains and TPM
# quotes never uses (fewer objects: a shorter cold build, a smaller page). Randomness (not needed
# to verify; OpenSSL seeds lazily) comes from emscripten's /dev/urandom (crypto.getRandomValues).
# Objects are compiled by emscripten's clang with exactly the flags emcc passes it (`emcc
# --cflags`): the same object files, without emcc's per-file start-up cost. A fixed --prefix keeps
# the build free of this cache's path; only libcrypto is built (the verifier uses no TLS).
build_openssl() {   # $1 source tree, $2 prefix
    (cd "$1" && CC=clang-14 AR=llvm-ar-14 RANLIB=llvm-ranlib-14 CFLAGS="$(emcc --cflags) -O2" \
        ./Configure linux-generic32 no-asm no-threads no-shared no-dso no-engine no-sock no-dgram no-afalgeng \
        no-async no-secure-memory no-ui-console no-tests no-legacy no-aria no-bf no-blake2 no-camellia no-cast \
        no-chacha no-poly1305 no-cmp no-cms no-comp no-ct no-des no-dh no-dsa no-ec2m no-gost no-idea no-md4 \
        no-mdc2 no-ocb no-ocsp no-rc2 no-rc4 no-rc5 no-rmd160 no-scrypt no-seed no-siphash no-siv no-sm2 no-sm3 \
        no-sm4 no-srp no-srtp no-ts no-whirlpool no-rfc3779 no-psk --with-rand-seed=devrandom \
        --prefix=/usr/local/sealed-wasm --libdir=lib --openssldir=/etc/ssl &&
        make -j"$JOBS" build_generated && make -j"$JOBS" libcrypto.a &&
        mkdir -p "$2/lib" "$2/include" && cp libcrypto.a "$2/lib/" && cp -a include/openssl "$2/include/")
}

# jansson: its own configure under emconfigure, as a cross build (nothing it compiles can run here).
build_jansson() {   # $1 source tree, $2 prefix
    (cd "$1" && autoreconf -fi && emconfigure ./configure --host=wasm32-unknown-emscripten --prefix=/usr/local \
        --disable-shared --enable-static CFLAGS="-O2" && emmake make -j"$JOBS" &&
        emmake make install DESTDIR="$1/dest" &&
        mkdir -p "$2/lib" "$2/include" && cp "$1/dest/usr/local/lib/libjansson.a" "$2/lib/" &&
        cp "$1"/dest/usr/local/include/jansson*.h "$2/include/")
}

mkdir -p "$CACHE/src"
exec 9>"$CACHE/.lock"
flock 9
declare -A KEY
for pkg in openssl jansson; do
    line=$(awk -v p="$pkg" '$1 == p' "$LOCK")
    [ -n "$line" ] || die "$LOCK must pin $pkg"
    KEY[$pkg]=$( (echo "$line"; declare -f "build_$pkg"; echo "$emver") | sha256sum | cut -c1-16)
done
PREFIX=$CACHE/prefix-${KEY[openssl]}-${KEY[jansson]}
if [ -f "$PREFIX/.done" ]; then echo "$PREFIX"; exit 0; fi

for pkg in openssl jansson; do
    out=$CACHE/$pkg-${KEY[$pkg]}
    [ -f "$out/.done" ] && continue
    read -r _ ver sha < <(awk -v p="$pkg" '$1 == p' "$LOCK")
    dsc=$CACHE/src/${pkg}_${ver#*:}.dsc
    [ -f "$dsc" ] || (cd "$CACHE/src" && apt-get source -q --download-only "$pkg=$ver" >/dev/null 2>&1) ||
        die "apt-get source $pkg=$ver failed (needs a deb-src entry for bookworm)"
    echo "$sha  $dsc" | sha256sum -c --quiet - || die "$dsc does not match $LOCK"
    work=$CACHE/work-$pkg-${KEY[$pkg]}
    rm -rf "$work" "$out"
    mkdir -p "$work"
    echo "build-wasm-deps: $pkg" >&2
    dpkg-source -q -x "$dsc" "$work/src" >"$work/build.log" 2>&1 || die "$pkg: cannot unpack: $work/build.log"
    "build_$pkg" "$work/src" "$out" >>"$work/build.log" 2>&1 || die "$pkg failed: $work/build.log"
    mv "$work/build.log" "$out/build.log"
    rm -rf "$work"
    touch "$out/.done"
done
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
for pkg in openssl jansson; do cp -a "$CACHE/$pkg-${KEY[$pkg]}/." "$PREFIX/"; done
rm -f "$PREFIX/build.log"
# the flags emcc gives its clang, for compiling the verifier the same way (mk/web.mk)
emcc --cflags > "$PREFIX/emcc-cflags"
touch "$PREFIX/.done"
echo "$PREFIX"
