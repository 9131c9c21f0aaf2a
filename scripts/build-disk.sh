#!/bin/bash
# build-disk.sh: turns an image built by build-initramfs.sh (vmlinuz + initramfs.cpio.gz) into a
# bootable UEFI disk: one unified kernel image (UKI: Debian's pinned systemd-stub with the kernel,
# the initramfs, the kernel command line and an os-release in PE sections) as the ESP's only file,
# \EFI\BOOT\BOOTX64.EFI, on a GPT disk. Same inputs, same bytes: fixed GUIDs and volume id, every
# timestamp SOURCE_DATE_EPOCH. Owns DIR's disk artifacts and ~/.cache/sealed-login/stub/.
#
#   scripts/build-disk.sh --dir DIR --append CMDLINE
#   scripts/build-disk.sh --print-stub-lock       (lock lines for systemd-boot-efi's candidate)
#
# Outputs in DIR, each added to DIR/SHA256SUMS:
#   sealed-login.efi          the UKI (what the firmware measures into PCR 4; sealed-measure pcrs)
#   disk.raw                  1 GiB GPT disk (sparse), ESP at 1 MiB
#   sealed-login.qcow2        disk.raw as qcow2 (OCI custom image import, QEMU)
#   sealed-login-gcp.tar.gz   disk.raw in an oldgnu sparse tar, gzip -n (GCE image import)
#   disk.txt                  the stub package, version, .deb sha256 and the command line
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${SEALED_CACHE:-$HOME/.cache/sealed-login}/stub
DIR="" APPEND="" APPEND_SET=0

# Fixed identities: a rebuild must give the same bytes, and nothing here is secret or per-machine.
DISK_GUID=5E41ED10-6D1A-4E5B-8C1D-000000000001
ESP_GUID=5E41ED10-6D1A-4E5B-8C1D-000000000002
ESP_VOLID=5E41ED10
DISK_MIB=1024        # GCE imports only whole-GB raw disks
ESP_LBA=2048         # the ESP starts at 1 MiB (512-byte sectors)
ESP_MIB=256          # FAT32 (UEFI spec) needs >= 65525 clusters: 256 MiB of 512-byte clusters

die() { echo "build-disk: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dir) DIR=$2; shift 2 ;;
        --append) APPEND=$2; APPEND_SET=1; shift 2 ;;
        --print-stub-lock)
            ver=$(apt-cache policy systemd-boot-efi | awk '/Candidate:/ {print $2}')
            sha=$(apt-cache show "systemd-boot-efi=$ver" | awk '/^SHA256:/ {print $2; exit}')
            printf 'package=systemd-boot-efi\nversion=%s\nsha256=%s\n' "$ver" "$sha"
            exit 0 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
done
[ -n "$DIR" ] && [ -f "$DIR/vmlinuz" ] && [ -f "$DIR/initramfs.cpio.gz" ] && [ -f "$DIR/SHA256SUMS" ] ||
    die "--dir must hold build-initramfs.sh's output (vmlinuz, initramfs.cpio.gz, SHA256SUMS)"
[ "$APPEND_SET" = 1 ] || die "--append is required: the command line is measured, so it is never implied"
case "$APPEND" in *$'\n'*) die "--append must be one line" ;; esac
for t in objcopy objdump mkfs.fat mmd mcopy sgdisk qemu-img; do
    command -v $t >/dev/null || die "$t not installed (make deps: scripts/packages/disk.txt)"
done
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(sed -n 's/^source_date_epoch=//p' "$DIR/kernel.txt" 2>/dev/null)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH TZ=UTC

# ---- the stub: pinned .deb, downloaded once, checked, unpacked --------------------------------------
. scripts/lib/pinned-deb.sh
SDIR=$(pinned_deb image/stub.lock "$CACHE" build-disk) || exit 1
lock() { sed -n "s/^$1=//p" image/stub.lock; }
SPKG=$(lock package) SVER=$(lock version) SSHA=$(lock sha256)
STUB=$SDIR/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$STUB" ] || die "$STUB missing from $SPKG"

TMP=$(mktemp -d "$DIR/.disk.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---- the UKI --------------------------------------------------------------------------------------
# os-release without a version or commit: the same sources give the same PCR 11 on any checkout.
printf 'NAME="sealed-login"\nID=sealed-login\nPRETTY_NAME="sealed-login sealed VM"\nHOME_URL="https://github.com/sealed-login"\n' >"$TMP/osrel"
printf '%s' "$APPEND" >"$TMP/cmdline"
# Sections go after the stub's last one, page-aligned, in systemd's order; the kernel goes last.
end=0
while read -r size vma; do
    [ $((0x$vma + 0x$size)) -gt "$end" ] && end=$((0x$vma + 0x$size))
done < <(objdump -h "$STUB" | awk '$1 ~ /^[0-9]+$/ { print $3, $4 }')
args=() vma=$end
for s in osrel:"$TMP/osrel" cmdline:"$TMP/cmdline" initrd:"$DIR/initramfs.cpio.gz" linux:"$DIR/vmlinuz"; do
    name=${s%%:*} file=${s#*:}
    vma=$(( (vma + 0xfff) & ~0xfff ))
    args+=(--add-section ".$name=$file" --change-section-vma ".$name=$(printf '0x%x' $vma)")
    vma=$(( vma + $(stat -c %s "$file") ))
done
objcopy "${args[@]}" "$STUB" "$TMP/uki.efi"
# objcopy stamps the time of the run into the PE header (part of the measured Authenticode digest):
# put back 0, the stub's own stamp, so the UKI depends only on its inputs.
python3 scripts/pe-timestamp.py "$TMP/uki.efi" 0

# ---- the ESP and the GPT disk -----------------------------------------------------------------------
truncate -s $((ESP_MIB << 20)) "$TMP/esp.img"
mkfs.fat --invariant -F 32 -S 512 -s 1 -h $ESP_LBA -i "$ESP_VOLID" -n SEALED "$TMP/esp.img" >/dev/null
touch -d "@$SOURCE_DATE_EPOCH" "$TMP/uki.efi"
MTOOLS_SKIP_CHECK=1 mmd -i "$TMP/esp.img" ::/EFI ::/EFI/BOOT
MTOOLS_SKIP_CHECK=1 mcopy -m -i "$TMP/esp.img" "$TMP/uki.efi" ::/EFI/BOOT/BOOTX64.EFI
truncate -s $((DISK_MIB << 20)) "$TMP/disk.raw"
sgdisk --disk-guid="$DISK_GUID" --new=1:$ESP_LBA:+${ESP_MIB}M --typecode=1:EF00 --change-name=1:ESP \
    --partition-guid=1:"$ESP_GUID" "$TMP/disk.raw" >/dev/null
dd if="$TMP/esp.img" of="$TMP/disk.raw" bs=1M seek=$((ESP_LBA * 512 >> 20)) conv=notrunc,sparse status=none
qemu-img convert -q -f raw -O qcow2 -m 1 "$TMP/disk.raw" "$TMP/sealed-login.qcow2"
tar --format=oldgnu --sparse --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode=0644 -C "$TMP" -cf - disk.raw | gzip -n -9 >"$TMP/sealed-login-gcp.tar.gz"

mv "$TMP/uki.efi" "$DIR/sealed-login.efi"
mv "$TMP/disk.raw" "$TMP/sealed-login.qcow2" "$TMP/sealed-login-gcp.tar.gz" "$DIR/"
printf 'stub_package=%s\nstub_version=%s\nstub_deb_sha256=%s\ncmdline=%s\n' "$SPKG" "$SVER" "$SSHA" "$APPEND" >"$DIR/disk.txt"
names="sealed-login.efi disk.raw sealed-login.qcow2 sealed-login-gcp.tar.gz"
(cd "$DIR" && grep -v -E " ($(echo $names | tr ' ' '|'))\$" SHA256SUMS >SHA256SUMS.new || true
 sha256sum $names >>SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS && grep -E " ($(echo $names | tr ' ' '|'))\$" SHA256SUMS)
