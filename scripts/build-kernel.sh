#!/bin/bash
# build-kernel.sh: builds the sealed image's kernel (a bzImage, x86_64, EFI stub, no modules) from
# the Debian kernel source pinned in image/kernel-source.lock, with the patches in image/kernel-patches/
# applied in name order and the config fragment image/kernel.config merged onto `make tinyconfig`.
# Same inputs, same bytes, from any directory.
# Owns ~/.cache/sealed-login/kernel-src/ (the pinned .deb), ~/.cache/sealed-login/kernel-build/
# (one finished build per input hash) and its own work directory; touches nothing else.
#
#   scripts/build-kernel.sh [--work DIR] [--rebuild] [--jobs N]   prints the build's cache directory
#   scripts/build-kernel.sh --key                                  prints the input hash only
#   scripts/build-kernel.sh --print-lock                           lock lines for the current candidate
#
# The cache directory holds bzImage, config (the full .config), System.map and build.txt (inputs,
# sha256s, build time). A build with the same inputs (lock, patches, fragment, this script, compiler
# and binutils versions) is a cache hit and takes no time; --rebuild builds again in a fresh work
# directory and fails unless the new bzImage is byte-identical to the cached one (the
# reproducibility check tests/image/test_kernel.py runs). --work DIR: where the source is unpacked
# and built (default: a new directory under $TMPDIR; it is removed afterwards either way).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}
LOCK=image/kernel-source.lock
FRAGMENT=image/kernel.config
PATCHES=image/kernel-patches
JOBS=2
WORK=""
REBUILD=0

die() { echo "build-kernel: $*" >&2; exit 1; }
say() { echo "build-kernel: $*" >&2; }

lock() { sed -n "s/^$1=//p" "$LOCK"; }
KEY_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --work) WORK=$2; shift 2 ;;
        --rebuild) REBUILD=1; shift ;;
        --jobs) JOBS=$2; shift 2 ;;
        --key) KEY_ONLY=1; shift ;;
        --print-lock)
            pkg=$(lock package)
            ver=$(apt-cache show "$pkg" | awk '/^Version:/ {print $2; exit}')
            sha=$(apt-cache show "$pkg=$ver" | awk '/^SHA256:/ {print $2; exit}')
            printf 'package=%s\nversion=%s\nsha256=%s\n' "$pkg" "$ver" "$sha"
            exit 0 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done
for f in "$LOCK" "$FRAGMENT"; do [ -f "$f" ] || die "missing input $f"; done
PKG=$(lock package) VER=$(lock version) SHA=$(lock sha256)
[ -n "$PKG" ] && [ -n "$VER" ] && [ -n "$SHA" ] || die "$LOCK needs package, version, sha256"

# ---- the input hash: everything that can change the bytes ---------------------------------------
command -v gcc >/dev/null && command -v ld >/dev/null || die "gcc and binutils are needed"
toolchain="$(gcc --version | head -1); $(ld --version | head -1)"
patch_files=$(LC_ALL=C ls "$PATCHES"/*.patch 2>/dev/null || true)
command -v patch >/dev/null || [ -z "$patch_files" ] || die "patch is needed (image/buildroot.packages has it)"
# shellcheck disable=SC2086  # one file name per word: the patches' names have no spaces
# the lock's values only: its comments may change without a rebuild
KEY=$( { grep -v '^#' "$LOCK"; cat "$FRAGMENT" "$ROOT/scripts/build-kernel.sh" $patch_files; echo "$toolchain"; } |
       sha256sum | cut -c1-16)
if [ "$KEY_ONLY" = 1 ]; then echo "$KEY"; exit 0; fi
OUTDIR=$CACHE/kernel-build/$KEY
mkdir -p "$CACHE/kernel-build"
exec 9>"$OUTDIR.lock"
flock 9   # concurrent builds (worktrees, test runs) share the cache: one builds, the others wait
if [ -f "$OUTDIR/bzImage" ]; then
    if [ "$REBUILD" = 0 ]; then
        echo "$OUTDIR"
        exit 0
    fi
    exec 9>&-   # --rebuild only reads the cached build: image builds need not wait for it
fi

# ---- the pinned source ---------------------------------------------------------------------------
SRCDIR=$CACHE/kernel-src/${PKG}_$VER
mkdir -p "$SRCDIR"
deb=$(ls "$SRCDIR"/*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ] && [ -n "${SEALED_SOURCE_ARCHIVE:-}" ]; then
    cp "$SEALED_SOURCE_ARCHIVE/pinned/${PKG}_"*.deb "$SRCDIR/" || die "no $PKG .deb in $SEALED_SOURCE_ARCHIVE/pinned"
    deb=$(ls "$SRCDIR"/*.deb | head -1)
fi
if [ -z "$deb" ]; then
    say "downloading $PKG=$VER into $SRCDIR"
    (cd "$SRCDIR" && apt-get download -q "$PKG=$VER" >/dev/null 2>&1) ||
        die "apt-get download $PKG=$VER failed (superseded? update $LOCK: --print-lock)"
    deb=$(ls "$SRCDIR"/*.deb | head -1)
fi
echo "$SHA  $deb" | sha256sum -c --quiet - || die "$deb does not match $LOCK's sha256"

# ---- a clean environment: only what this script sets reaches kbuild -------------------------------
unset ARCH SRCARCH CROSS_COMPILE CC LD KCFLAGS KCPPFLAGS KAFLAGS KBUILD_OUTPUT O LOCALVERSION \
    KBUILD_EXTRA_SYMBOLS KCONFIG_CONFIG INSTALL_PATH MAKEFLAGS MFLAGS MAKELEVEL
export LC_ALL=C TZ=UTC
umask 022
# The build's own date: the Debian changelog entry of the pinned version (not the commit's time, so
# that a new commit of this project does not rebuild the kernel). It is the "#1 SMP ... DATE" in
# the kernel's version string and SOURCE_DATE_EPOCH for anything kbuild stamps.
changelog=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/doc/$PKG/changelog.Debian.gz" | zcat | sed -n '1,/^ -- /p')
head -1 <<<"$changelog" | grep -qF "($VER)" || die "the .deb's changelog does not start with $VER"
date_line=$(grep -m1 '^ -- ' <<<"$changelog" | sed 's/.*>  //')
SOURCE_DATE_EPOCH=$(date -d "$date_line" +%s) || die "cannot read the changelog date '$date_line'"
export SOURCE_DATE_EPOCH
export KBUILD_BUILD_TIMESTAMP
KBUILD_BUILD_TIMESTAMP=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %e %H:%M:%S UTC %Y')
export KBUILD_BUILD_USER=sealed-login KBUILD_BUILD_HOST=sealed-login KBUILD_BUILD_VERSION=1

# ---- unpack, configure, check the configuration, build --------------------------------------------
own_work=0
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealed-kernel.XXXXXX")
    own_work=1
else
    [ ! -e "$WORK" ] || [ -z "$(ls -A "$WORK")" ] || die "--work $WORK exists and is not empty"
    mkdir -p "$WORK"
fi
WORK=$(cd "$WORK" && pwd)
cleanup() { [ "$own_work" = 1 ] && rm -rf "$WORK"; [ "$own_work" = 1 ] || rm -rf "$WORK"/src; }
trap cleanup EXIT
# no git repository above the source: scripts/setlocalversion would add "+" to the release
export GIT_CEILING_DIRECTORIES=$WORK
start=$(date +%s)
say "unpacking $PKG $VER into $WORK/src"
mkdir -p "$WORK/src"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$PKG.tar.xz" | xz -dc | tar -x -C "$WORK/src" --strip-components=1
K=$WORK/src
for p in $patch_files; do
    say "applying $p"
    patch -d "$K" -p1 --batch --forward --no-backup-if-mismatch --quiet <"$p" ||
        die "$p does not apply to $PKG $VER"
done
kmake() { nice -n 10 make -C "$K" -s "$@"; }
kmake tinyconfig >/dev/null
(cd "$K" && scripts/kconfig/merge_config.sh -m .config "$ROOT/$FRAGMENT" >"$WORK/merge.log" 2>&1) ||
    die "merge_config.sh failed: $(tail -5 "$WORK/merge.log")"
kmake olddefconfig 2>&1 | grep -v 'warning: override: .* changes choice state' >&2 || true
# every line of the fragment must hold in the result (a missing dependency drops an option silently)
bad=""
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*) k=${line%%=*}; v=${line#*=}
            got=$(sed -n "s/^$k=//p" "$K/.config")
            [ "$got" = "$v" ] || bad="$bad $k=$v(got:${got:-unset})" ;;
        "# CONFIG_"*" is not set") k=${line#\# }; k=${k%% *}
            ! grep -q "^$k=" "$K/.config" || bad="$bad $k(set)" ;;
    esac
done <"$FRAGMENT"
[ -z "$bad" ] || die "$FRAGMENT does not hold after olddefconfig:$bad"
say "building $PKG $VER with -j$JOBS (about 4-10 minutes on 2 cores)"
kmake -j"$JOBS" bzImage >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "kernel build failed"; }
grep -q '^CONFIG_MODULES=y' "$K/.config" && die "CONFIG_MODULES is set"
secs=$(( $(date +%s) - start ))

# ---- into the cache (or compare with it) ----------------------------------------------------------
new=$WORK/out
mkdir -p "$new"
cp "$K/arch/x86/boot/bzImage" "$new/bzImage"
cp "$K/.config" "$new/config"
cp "$K/System.map" "$new/System.map"
release=$(make -C "$K" -s kernelrelease)
{
    echo "package=$PKG"
    echo "version=$VER"
    echo "deb_sha256=$SHA"
    echo "release=$release"
    echo "fragment_sha256=$(sha256sum "$FRAGMENT" | cut -d' ' -f1)"
    for p in $patch_files; do echo "patch=$(basename "$p") $(sha256sum "$p" | cut -d' ' -f1)"; done
    echo "config_sha256=$(sha256sum "$new/config" | cut -d' ' -f1)"
    echo "bzimage_sha256=$(sha256sum "$new/bzImage" | cut -d' ' -f1)"
    echo "build_timestamp=$KBUILD_BUILD_TIMESTAMP"
    echo "toolchain=$toolchain"
    echo "input_key=$KEY"
    echo "build_seconds=$secs"
    echo "build_jobs=$JOBS"
} >"$new/build.txt"
if [ "$REBUILD" = 1 ] && [ -f "$OUTDIR/bzImage" ]; then
    for f in bzImage config System.map; do
        cmp -s "$new/$f" "$OUTDIR/$f" || die "$f differs from the cached build $OUTDIR (not reproducible)"
    done
    say "rebuilt in $WORK in ${secs}s: identical to $OUTDIR"
    echo "$OUTDIR"
    exit 0
fi
rm -rf "$OUTDIR.tmp"
mv "$new" "$OUTDIR.tmp"
rm -rf "$OUTDIR"
mv "$OUTDIR.tmp" "$OUTDIR"
say "built in ${secs}s: $OUTDIR"
echo "$OUTDIR"
