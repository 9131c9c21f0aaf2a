#!/bin/bash
# Boot test for the UKI predictions (PCR 4, 9, 11): a unified kernel image made of Debian bookworm's
# systemd-stub (systemd-boot-efi), Debian's own kernel (linux-image-amd64, fetched with
# `apt-get download` and cached in $SEALED_KERNEL_CACHE, default /var/tmp/sealed-kernel) and an
# initramfs whose /init (tests/measure/uki/pcr_init.c) prints the PCRs and the event log, booted from
# an ESP by Debian's OVMF under QEMU (TCG) with swtpm. What the TPM holds must equal
# `sealed-measure pcrs` for the UKI alone, and the firmware log must replay to it. About 30 s.
set -u
cd "${SEALED_ROOT:-$(dirname "$0")/../..}"
ROOT=$PWD
BIN=$ROOT/build/sealed-measure
OUT=${SEALED_TEST_OUT:-/tmp}/measure-boot-uki
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${SEALED_KERNEL_CACHE:-/var/tmp/sealed-kernel}
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
n=0 failed=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && echo "  $2"; }

for need in qemu-system-x86_64 swtpm swtpm_setup objcopy dpkg-deb gcc; do
    command -v $need >/dev/null || { not_ok "$need installed (scripts/packages/measure.txt)"; exit 1; }
done
[ -f "$STUB" ] && [ -f "$CODE" ] || { not_ok "systemd-boot-efi and ovmf installed"; exit 1; }

# Debian's kernel, once.
mkdir -p "$CACHE"
kernel=$(ls "$CACHE"/x/boot/vmlinuz-* 2>/dev/null | head -1)
if [ -z "$kernel" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    (cd "$CACHE" && apt-get download "$pkg" >"$CACHE/download.log" 2>&1 && dpkg-deb -x "$CACHE"/linux-image-*.deb "$CACHE/x")
    kernel=$(ls "$CACHE"/x/boot/vmlinuz-* 2>/dev/null | head -1)
fi
[ -n "$kernel" ] && ok "Debian kernel at hand ($(basename "$kernel"))" || { not_ok "fetch Debian's kernel" "see $CACHE/download.log"; exit 1; }

# initramfs: one static /init, as a newc cpio.
gcc -static -O2 -o "$OUT/init" tests/measure/uki/pcr_init.c || { not_ok "build the test init"; exit 1; }
python3 - "$OUT/init" "$OUT/initrd.cpio" <<'PY'
import sys
def rec(ino, mode, name, data):
    h = "070701" + "".join("%08x" % v for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
    r = h.encode() + name.encode() + b"\0"
    return r + b"\0" * (-len(r) % 4) + data + b"\0" * (-len(data) % 4)
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(rec(1, 0o100755, "init", data) + rec(0, 0, "TRAILER!!!", b""))
PY
printf 'console=ttyS0 panic=-1 quiet' >"$OUT/cmdline"
printf 'ID=sealed-test\n' >"$OUT/osrel"
objcopy --add-section .osrel="$OUT/osrel" --change-section-vma .osrel=0x20000 \
    --add-section .cmdline="$OUT/cmdline" --change-section-vma .cmdline=0x30000 \
    --add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
    --add-section .initrd="$OUT/initrd.cpio" --change-section-vma .initrd=0x3000000 "$STUB" "$OUT/uki.efi" &&
    ok "UKI built (systemd-stub + Debian kernel + test initramfs)" || { not_ok "UKI built"; exit 1; }

d=$OUT/boot
mkdir -p "$d/esp/EFI/BOOT" "$d/tpm"
cp "$OUT/uki.efi" "$d/esp/EFI/BOOT/BOOTX64.EFI"
cp "$VARS" "$d/vars.fd"
swtpm_setup --tpm2 --tpmstate "$d/tpm" --pcr-banks sha256 --overwrite >"$d/swtpm_setup.log" 2>&1
swtpm socket --tpm2 --tpmstate dir="$d/tpm" --ctrl type=unixio,path="$d/swtpm.sock" --terminate --daemon --pid file="$d/swtpm.pid"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$d/swtpm.sock" ] && break; sleep 0.2; done
timeout 300 qemu-system-x86_64 -machine q35 -m 512 -display none -no-reboot -nodefaults -net none \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$CODE" -drive if=pflash,format=raw,unit=1,file="$d/vars.fd" \
    -drive file=fat:rw:"$d/esp",format=raw,if=virtio \
    -chardev socket,id=chrtpm,path="$d/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0 \
    -serial file:"$d/serial.log" -monitor none >"$d/qemu.log" 2>&1
[ -f "$d/swtpm.pid" ] && kill "$(cat "$d/swtpm.pid")" 2>/dev/null
tpm() { grep -a -o "SEALED-PCR$1=[0-9A-Fa-f]*" "$d/serial.log" | head -1 | cut -d= -f2 | tr A-F a-f; }
[ -n "$(tpm 4)" ] && ok "the kernel booted and printed the TPM's PCRs" || { not_ok "the kernel booted and printed the TPM's PCRs" "see $d/serial.log"; exit 1; }

"$BIN" pcrs "$OUT/uki.efi" >"$OUT/pcrs.txt"
pred() { awk -v k="pcr$1-sha256" '$1 == k {print $2}' "$OUT/pcrs.txt"; }
for p in 4 9 11; do
    if [ "$(tpm $p)" = "$(pred $p)" ] && [ -n "$(pred $p)" ]; then
        ok "PCR $p from the TPM equals the prediction"
    else
        not_ok "PCR $p from the TPM equals the prediction" "TPM '$(tpm $p)' predicted '$(pred $p)'"
    fi
done
zero=0000000000000000000000000000000000000000000000000000000000000000
[ "$(tpm 12)$(tpm 13)" = "$zero$zero" ] && ok "PCR 12 and 13 untouched (no credentials, sysexts or overrides)" ||
    not_ok "PCR 12 and 13 untouched" "12='$(tpm 12)' 13='$(tpm 13)'"

grep -a -o 'SEALED-LOG=[0-9a-f]*' "$d/serial.log" | head -1 | cut -d= -f2 |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$d/eventlog.bin"
if "$BIN" pcrs --log "$d/eventlog.bin" "$OUT/uki.efi" >"$d/pcrs-log.txt" 2>&1; then
    ok "the kernel's copy of the firmware log holds the predicted PCR 4, 9, 11"
else
    not_ok "the kernel's copy of the firmware log holds the predicted PCR 4, 9, 11" "$(cat "$d/pcrs-log.txt")"
fi
replayed=$("$BIN" eventlog --json "$d/eventlog.bin" | python3 -c 'import json,sys; p=json.load(sys.stdin)["pcrs"]["sha256"]; print(" ".join(p.get(str(i), "") for i in range(8)))' 2>/dev/null)
fromtpm=$(for i in 0 1 2 3 4 5 6 7; do printf '%s ' "$(tpm $i)"; done)
[ "$replayed " = "$fromtpm" ] && ok "the log replays to the TPM's PCR 0-7 (firmware PCRs recorded, not predicted)" ||
    not_ok "the log replays to the TPM's PCR 0-7" "replayed '$replayed' TPM '$fromtpm'"

# Keep what this platform's firmware measured, with its provenance, for the manifest
# (scripts/measure-manifest.sh --recorded-pcrs): recorded from a boot, never computed.
python3 - "$OUT/recorded-firmware-pcrs.json" "$(dpkg-query -W -f='${Version}' ovmf 2>/dev/null)" \
    "$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null)" "$(dpkg-query -W -f='${Version}' swtpm 2>/dev/null)" \
    $(for i in 0 1 2 3 4 5 6 7; do tpm $i; done) <<'PY'
import json, sys, time
out, ovmf, qemu, swtpm, *vals = sys.argv[1:]
json.dump({"platform": f"QEMU q35 (TCG, 512 MiB, -nodefaults, virtio disk) {qemu}; Debian OVMF {ovmf} OVMF_CODE_4M.fd with a fresh OVMF_VARS_4M.fd; swtpm {swtpm} tpm-crb",
           "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "how": "read from the TPM (sysfs pcr-sha256) by the booted kernel; the firmware's event log replays to them",
           "sha256": {str(i): v for i, v in enumerate(vals)}}, open(out, "w"), indent=2)
PY
[ -s "$OUT/recorded-firmware-pcrs.json" ] && ok "firmware PCRs recorded in $(basename "$OUT")/recorded-firmware-pcrs.json" ||
    not_ok "firmware PCRs recorded"
[ "$failed" -eq 0 ]
