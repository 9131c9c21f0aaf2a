#!/bin/bash
# build-initramfs.sh: builds the sealed image's initramfs (a deterministic newc cpio, gzip -n -9)
# and puts the kernel next to it; prints the sha256 of both. Same inputs, same bytes. Owns
# build/image/ (or --out) and ~/.cache/sealed-login/kernel/; touches nothing else.
#
#   scripts/build-initramfs.sh [--config FILE] [--out DIR] [--init BIN] [--login BIN] [--kernel KIND]
#                              [--test-ca PEM]
#   scripts/build-initramfs.sh --print-kernel-lock     (lock lines for linux-image-amd64's candidate)
#
# --kernel (default: $IMAGE_KERNEL, else sealed):
#   sealed  our own kernel, scripts/build-kernel.sh (image/kernel-source.lock + image/kernel.config):
#           everything built in, no modules; the module list is empty.
#   debian  Debian's stock kernel named in image/kernel.lock and the modules in image/modules.txt
#           with their modules.dep dependencies.
# --test-ca (test builds only; a release build never passes it): PEM certificates put at
#   /etc/ssl/test-ca.pem, for a baked config whose acme_ca_file / cloud_ca_file / paypal_ca_file
#   names a stand-in on the host (Pebble in tests/image/test_reboot.py). The system CA bundle is
#   unchanged.
# Inputs: build/sealed-init (/init), build/sealed-login (/bin/sealed-login) and the shared
# libraries ldd lists for it plus the dynamic loader, the CA bundle (made from the locked ca-certificates: scripts/buildroot.py ca-bundle), the baked
# config (default image/sealed-login.conf) and the kernel. SOURCE_DATE_EPOCH (default: the last
# commit's time) is every entry's mtime.
# Outputs in DIR (default build/image): initramfs.cpio.gz, vmlinuz, SHA256SUMS, initramfs.list
# (the archive's entries), kernel.txt (kind, package, version, .deb sha256, kernel release; for
# the sealed kernel also the config's and bzImage's sha256) and, for the sealed kernel,
# kernel.config (the full .config it was built with).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=image/sealed-login.conf
OUT=build/image
INIT=build/sealed-init
LOGIN=build/sealed-login
KERNEL=${IMAGE_KERNEL:-sealed}
TEST_CA=
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/kernel

die() { echo "build-initramfs: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --config) CONFIG=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --init) INIT=$2; shift 2 ;;
        --login) LOGIN=$2; shift 2 ;;
        --kernel) KERNEL=$2; shift 2 ;;
        --test-ca) TEST_CA=$2; shift 2 ;;
        --print-kernel-lock)
            pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
            ver=$(apt-cache show "$pkg" | awk '/^Version:/ {print $2; exit}')
            sha=$(apt-cache show "$pkg=$ver" | awk '/^SHA256:/ {print $2; exit}')
            printf 'package=%s\nversion=%s\nsha256=%s\n' "$pkg" "$ver" "$sha"
            exit 0 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done
case "$KERNEL" in sealed|debian) ;; *) die "--kernel must be sealed or debian, not '$KERNEL'" ;; esac
# the CA bundle: made from the ca-certificates package image/buildroot.lock pins, never this
# machine's /etc/ssl/certs/ca-certificates.crt (which may carry local CAs, e.g. an egress proxy's)
CA_BUNDLE=$(/usr/bin/python3 scripts/buildroot.py ca-bundle) || die "cannot make the CA bundle (scripts/buildroot.py ca-bundle)"
[ -z "$TEST_CA" ] || grep -q -- '-----BEGIN CERTIFICATE-----' "$TEST_CA" 2>/dev/null ||
    die "--test-ca $TEST_CA: not a PEM certificate file"
for f in "$INIT" "$LOGIN" "$CONFIG" image/kernel.lock image/modules.txt "$CA_BUNDLE"; do
    [ -f "$f" ] || die "missing input $f"
done
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

# ---- the kernel ---------------------------------------------------------------------------------
if [ "$KERNEL" = sealed ]; then
    # our own: built (or found in the cache) by scripts/build-kernel.sh; no modules at all
    KBUILD=$(scripts/build-kernel.sh) || die "scripts/build-kernel.sh failed"
    VMLINUZ=$KBUILD/bzImage
    KREL=$(sed -n 's/^release=//p' "$KBUILD/build.txt")
    KROOT=-
    MODULES_WANTED=-
else
    # Debian's: pinned .deb, downloaded once, checked, unpacked (scripts/lib/pinned-deb.sh), then
    # modules.dep generated once
    . scripts/lib/pinned-deb.sh
    KDIR=$(pinned_deb image/kernel.lock "$CACHE" build-initramfs) ||
        die "the kernel in image/kernel.lock is not at hand (--print-kernel-lock prints new lines)"
    lock() { sed -n "s/^$1=//p" image/kernel.lock; }
    KPKG=$(lock package) KVER=$(lock version) KSHA=$(lock sha256)
    exec 9>"$KDIR.depmod.lock"
    flock 9
    if [ ! -f "$KDIR/.depmod" ]; then
        depmod -b "$KDIR/root" "$(ls "$KDIR/root/lib/modules")"
        touch "$KDIR/.depmod"
    fi
    exec 9>&-
    KROOT=$KDIR/root
    KREL=$(ls "$KROOT/lib/modules")
    [ "$(echo "$KREL" | wc -l)" = 1 ] || die "expected one kernel release in $KROOT/lib/modules"
    VMLINUZ=$KROOT/boot/vmlinuz-$KREL
    MODULES_WANTED=image/modules.txt
fi

# ---- staging: stripped binaries, generated files --------------------------------------------------
STAGE=$OUT/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
strip --strip-all -o "$STAGE/init" "$INIT"
strip --strip-all -o "$STAGE/sealed-login" "$LOGIN"
cp "$CONFIG" "$STAGE/sealed-login.conf"
# The commit the image is built from, so that its pages can tell a visitor what to rebuild
# ("+dirty": the tree had uncommitted changes). SOURCE_COMMIT overrides, e.g. for a build from a
# tarball; a config that sets source_commit itself is left alone.
commit=${SOURCE_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
if [ -n "$commit" ] && ! grep -q '^[[:space:]]*source_commit' "$STAGE/sealed-login.conf"; then
    if [ -z "${SOURCE_COMMIT:-}" ] && ! git diff --quiet HEAD 2>/dev/null; then commit="$commit+dirty"; fi
    printf '# added by scripts/build-initramfs.sh\nsource_commit = %s\n' "$commit" >>"$STAGE/sealed-login.conf"
fi

MANIFEST=$STAGE/manifest
{
    echo "file init 0755 $STAGE/init"
    echo "dir bin 0755"
    echo "file bin/sealed-login 0755 $STAGE/sealed-login"
    echo "dir dev 0755"
    echo "nod dev/console 0600 c 5 1"
    for d in etc etc/sealed-init etc/ssl etc/ssl/certs proc run sys tmp; do echo "dir $d 0755"; done
    echo "file etc/sealed-login.conf 0644 $STAGE/sealed-login.conf"
    echo "file etc/ssl/certs/ca-certificates.crt 0644 $CA_BUNDLE"
    [ -z "$TEST_CA" ] || echo "file etc/ssl/test-ca.pem 0644 $TEST_CA"
    echo "file etc/sealed-init/modules 0644 $STAGE/modules"
} >"$MANIFEST"

# shared libraries (ldd's resolved paths, contents of the real file) and the loader; none for a
# static service (make sealed-login-static)
if readelf -l "$LOGIN" | grep -q 'program interpreter'; then
    ldd "$LOGIN" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | LC_ALL=C sort -u >"$STAGE/libs"
    [ -s "$STAGE/libs" ] || die "ldd found no libraries for $LOGIN"
else
    : >"$STAGE/libs"
fi
python3 - "$STAGE/libs" "$STAGE" "$MANIFEST" "$KROOT" "$KREL" "$MODULES_WANTED" <<'EOF'
import os, sys
libs, stage, manifest, kroot, krel, wanted_file = sys.argv[1:]
dirs, lines = set(), []

def add_dirs(path):
    parts = path.split("/")
    for i in range(1, len(parts)):
        dirs.add("/".join(parts[:i]))

for lib in open(libs).read().split():
    rel = lib.lstrip("/")
    add_dirs(rel)
    lines.append(f"file {rel} 0755 {os.path.realpath(lib)}")

# modules: the wanted names plus their modules.dep dependencies, dependencies first ("-": a kernel
# without modules, the list stays empty)
mdir = os.path.join(kroot, "lib/modules", krel)
deps, by_name = {}, {}
for line in (open(os.path.join(mdir, "modules.dep")) if kroot != "-" else []):
    mod, _, rest = line.partition(":")
    deps[mod] = rest.split()
    by_name[os.path.basename(mod)[:-3].replace("-", "_")] = mod
order = []
def visit(mod, stack=()):
    if mod in order:
        return
    if mod in stack:
        sys.exit(f"module dependency cycle at {mod}")
    for d in reversed(deps[mod]):
        visit(d, stack + (mod,))
    order.append(mod)
for word in (open(wanted_file).read().split("\n") if wanted_file != "-" else []):
    name = word.split("#")[0].strip()
    if not name:
        continue
    mod = by_name.get(name.replace("-", "_"))
    if not mod:
        sys.exit(f"module {name} is not in {mdir} (built in? then drop it from {wanted_file})")
    visit(mod)
with open(os.path.join(stage, "modules"), "w") as f:
    for mod in order:
        rel = f"lib/modules/{krel}/{mod}"
        add_dirs(rel)
        src = os.path.join(mdir, mod)
        if not mod.endswith(".ko"):
            sys.exit(f"{mod}: compressed modules are not handled (CONFIG_MODULE_COMPRESS_NONE expected)")
        lines.append(f"file {rel} 0644 {src}")
        f.write("/" + rel + "\n")
with open(manifest, "a") as m:
    for d in sorted(dirs):
        m.write(f"dir {d} 0755\n")
    for l in lines:
        m.write(l + "\n")
EOF

python3 scripts/mkcpio.py --mtime "$SOURCE_DATE_EPOCH" --out "$OUT/initramfs.cpio" "$MANIFEST"
python3 scripts/mkcpio.py --list "$OUT/initramfs.cpio" >"$OUT/initramfs.list"
gzip -n -9 -c "$OUT/initramfs.cpio" >"$OUT/initramfs.cpio.gz"
rm -f "$OUT/initramfs.cpio"
cp "$VMLINUZ" "$OUT/vmlinuz"
if [ "$KERNEL" = sealed ]; then
    cp "$KBUILD/config" "$OUT/kernel.config"
    { echo "kind=sealed"; grep -E '^(package|version|deb_sha256|release|fragment_sha256|config_sha256|bzimage_sha256)=' "$KBUILD/build.txt"
      # the patches applied to the source (image/kernel-patches/), as NAME:SHA256,...
      echo "patches=$(sed -n 's/^patch=//p' "$KBUILD/build.txt" | tr ' ' ':' | paste -sd, -)"
      echo "source_date_epoch=$SOURCE_DATE_EPOCH"; } >"$OUT/kernel.txt"
else
    rm -f "$OUT/kernel.config"
    printf 'kind=debian\npackage=%s\nversion=%s\ndeb_sha256=%s\nrelease=%s\nsource_date_epoch=%s\n' \
        "$KPKG" "$KVER" "$KSHA" "$KREL" "$SOURCE_DATE_EPOCH" >"$OUT/kernel.txt"
fi
(cd "$OUT" && sha256sum initramfs.cpio.gz vmlinuz >SHA256SUMS && cat SHA256SUMS)
