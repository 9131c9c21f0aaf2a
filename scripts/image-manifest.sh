#!/bin/bash
# image-manifest.sh: writes DIR/build-manifest.json for an image built by build-initramfs.sh: every
# artifact's sha256 and size, the kernel package, the baked config's sha256, the kernel command line
# the measurement assumes, and the expected measurements from scripts/measure-manifest.sh
# (sealed-measure), which `sealed-verify --manifest` reads: SNP measured direct boot when an
# AmdSevX64 OVMF is given, the vTPM's PCRs for the disk image's UKI when build-disk.sh made one.
# Owns only DIR/build-manifest.json.
#   scripts/image-manifest.sh --dir build/image --append "CMDLINE" [--ovmf OVMF.amdsev.fd]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="" append="" ovmf="" efi=""
while [ $# -gt 0 ]; do
    case $1 in
        --dir) dir=$2 ;; --append) append=$2 ;; --ovmf) ovmf=$2 ;;
        *) echo "image-manifest: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$dir" ] && [ -f "$dir/SHA256SUMS" ] && [ -f "$dir/kernel.txt" ] ||
    { echo "image-manifest: --dir must hold build-initramfs.sh's output" >&2; exit 2; }
meas="$dir/measurements.json"
rm -f "$meas"
[ -f "$dir/sealed-login.efi" ] && efi=$dir/sealed-login.efi
if [ -n "$ovmf" ] || [ -n "$efi" ]; then
    margs=()
    [ -n "$ovmf" ] && margs+=(--ovmf "$ovmf" --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" --append "$append")
    [ -n "$efi" ] && margs+=(--efi "$efi")
    scripts/measure-manifest.sh "${margs[@]}" >"$meas"
fi
# the same commit build-initramfs.sh baked into the config (SOURCE_COMMIT overrides both)
if [ -n "${SOURCE_COMMIT:-}" ]; then
    commit=$SOURCE_COMMIT
else
    commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
fi
# what built it (scripts/buildroot.py): BUILDROOT=lock (make image's default, which checked the
# machine first) requires the machine to match image/buildroot.lock; called directly (tests, by
# hand) it records what it finds, differences included, as BUILDROOT=host does
buildenv=$(mktemp)
trap 'rm -f "$buildenv"' EXIT
scripts/buildroot.py record --mode "${BUILDROOT:-host}" >"$buildenv"
python3 - "$dir" "$append" "$commit" "$meas" "$buildenv" <<'EOF'
import hashlib, json, os, sys
d, append, commit, meas, buildenv = sys.argv[1:]
kernel = dict(l.strip().split("=", 1) for l in open(os.path.join(d, "kernel.txt")) if "=" in l)
arts = {}
for line in open(os.path.join(d, "SHA256SUMS")):
    sha, name = line.split()
    arts[name] = {"sha256": sha, "size": os.path.getsize(os.path.join(d, name))}
conf = open(os.path.join(d, "stage", "sealed-login.conf"), "rb").read()
m = {
    "format": "sealed-login build manifest 1",
    "source": {"git_commit": commit, "source_date_epoch": int(kernel.pop("source_date_epoch"))},
    "artifacts": arts,
    # kernel.txt as written by build-initramfs.sh: kind, package, version, deb_sha256, release and,
    # for our own kernel, fragment_sha256, config_sha256, bzimage_sha256 and patches (NAME:SHA256,...)
    "kernel": kernel,
    "baked_config_sha256": hashlib.sha256(conf).hexdigest(),
    "cmdline": append,
    "build_environment": json.load(open(buildenv)),
}
disk_txt = os.path.join(d, "disk.txt")
if os.path.exists(disk_txt):
    disk = dict(l.rstrip("\n").split("=", 1) for l in open(disk_txt) if "=" in l)
    m["uefi_disk"] = {
        "layout": "GPT, one ESP (FAT32) holding only \\EFI\\BOOT\\BOOTX64.EFI = sealed-login.efi, a UKI",
        "stub": {"package": disk["stub_package"], "version": disk["stub_version"], "deb_sha256": disk["stub_deb_sha256"]},
        "uki_sections": {".linux": "vmlinuz", ".initrd": "initramfs.cpio.gz", ".cmdline": disk["cmdline"],
                         ".osrel": "ID=sealed-login"},
    }
if os.path.exists(meas):
    m["measurements"] = json.load(open(meas))
    os.unlink(meas)
else:
    m["measurements"] = None
    m["measurements_reason"] = "no AmdSevX64 OVMF given (make ovmf-amdsev, then make image)"
with open(os.path.join(d, "build-manifest.json"), "w") as f:
    json.dump(m, f, indent=2)
    f.write("\n")
EOF
echo "$dir/build-manifest.json"
