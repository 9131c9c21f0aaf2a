#!/bin/bash
# Boot test for the PCR 4 prediction: real UEFI firmware (Debian's OVMF) under QEMU (TCG) with a
# software TPM (swtpm, tpm-crb) boots tests/measure/efi/pcr_probe.c, an EFI application that reads
# PCR 4 (SHA-256) back from the TPM and prints it. The value must equal `sealed-measure pcrs` for
# that binary: once with only our disk (first boot option succeeds), once with QEMU's default
# DVD-ROM drive first in the boot order (one failed boot attempt before ours). The probe also dumps
# the firmware's TCG2 event log: our shared parser must replay it to the PCRs the TPM holds, and
# `pcrs --log` must find the prediction in it.
set -u
cd "${SEALED_ROOT:-$(dirname "$0")/../..}"
ROOT=$PWD
BIN=$ROOT/build/sealed-measure
OUT=${SEALED_TEST_OUT:-/tmp}/measure-boot
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
n=0 failed=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && echo "  $2"; }

for need in qemu-system-x86_64 swtpm swtpm_setup gcc ld; do
    command -v $need >/dev/null || { not_ok "$need installed (scripts/packages/measure.txt)"; exit 1; }
done
[ -f "$CODE" ] || { not_ok "OVMF installed ($CODE)"; exit 1; }

gcc -c -O2 -ffreestanding -fno-stack-protector -fpic -fno-ident -mno-red-zone -fshort-wchar \
    -o "$OUT/probe.o" tests/measure/efi/pcr_probe.c &&
ld -m i386pep --subsystem 10 -e efi_main -o "$OUT/probe.efi" "$OUT/probe.o" ||
    { not_ok "build the probe EFI application"; exit 1; }
ok "build the probe EFI application"

# boot NAME EXTRA-QEMU-ARGS...: boots the probe, echoes the PCR 4 it read.
boot() {
    local name=$1; shift
    local d=$OUT/$name
    mkdir -p "$d/esp/EFI/BOOT" "$d/tpm"
    cp "$OUT/probe.efi" "$d/esp/EFI/BOOT/BOOTX64.EFI"
    cp "$VARS" "$d/vars.fd"
    swtpm_setup --tpm2 --tpmstate "$d/tpm" --pcr-banks sha256 --overwrite >"$d/swtpm_setup.log" 2>&1
    swtpm socket --tpm2 --tpmstate dir="$d/tpm" --ctrl type=unixio,path="$d/swtpm.sock" \
        --terminate --daemon --pid file="$d/swtpm.pid" --log file="$d/swtpm.log"
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$d/swtpm.sock" ] && break; sleep 0.2; done
    timeout 240 qemu-system-x86_64 -machine q35 -m 256 -display none -no-reboot "$@" \
        -drive if=pflash,format=raw,unit=0,readonly=on,file="$CODE" \
        -drive if=pflash,format=raw,unit=1,file="$d/vars.fd" \
        -drive file=fat:rw:"$d/esp",format=raw,if=virtio \
        -chardev socket,id=chrtpm,path="$d/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
        -device tpm-crb,tpmdev=tpm0 \
        -debugcon file:"$d/debug.log" -global isa-debugcon.iobase=0x402 \
        -serial file:"$d/serial.log" -monitor none >"$d/qemu.log" 2>&1
    echo "qemu exit $?" >>"$d/qemu.log"
    [ -f "$d/swtpm.pid" ] && kill "$(cat "$d/swtpm.pid")" 2>/dev/null
    grep -a -o 'SEALED-PCR4=[0-9a-z-]*' "$d/debug.log" 2>/dev/null | head -1 | cut -d= -f2
}

predicted=$("$BIN" pcrs "$OUT/probe.efi" | awk '/^pcr4-sha256/ {print $2}')
actual=$(boot only-disk -nodefaults -net none)
if [ -n "$actual" ] && [ "$actual" = "$predicted" ]; then
    ok "OVMF+swtpm PCR 4 equals the prediction (first boot option)"
else
    not_ok "OVMF+swtpm PCR 4 equals the prediction (first boot option)" "vTPM '$actual' predicted '$predicted' (logs in $OUT/only-disk)"
fi

# The firmware's own event log, as the probe dumped it.
grep -a -o 'SEALED-LOG=[0-9a-f]*' "$OUT/only-disk/debug.log" | head -1 | cut -d= -f2 |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$OUT/only-disk/eventlog.bin"
if [ -s "$OUT/only-disk/eventlog.bin" ]; then
    ok "probe dumped the firmware event log ($(stat -c %s "$OUT/only-disk/eventlog.bin") bytes)"
else
    not_ok "probe dumped the firmware event log"
fi
replayed=$("$BIN" eventlog --json "$OUT/only-disk/eventlog.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcrs"]["sha256"]["4"])' 2>/dev/null)
if [ -n "$actual" ] && [ "$replayed" = "$actual" ]; then
    ok "the real OVMF log replays to the PCR 4 the TPM holds"
else
    not_ok "the real OVMF log replays to the PCR 4 the TPM holds" "replayed '$replayed' TPM '$actual'"
fi
if "$BIN" pcrs --log "$OUT/only-disk/eventlog.bin" "$OUT/probe.efi" >"$OUT/only-disk/pcrs-log.txt" 2>&1; then
    ok "pcrs --log finds the prediction in the real log"
else
    not_ok "pcrs --log finds the prediction in the real log" "$(cat "$OUT/only-disk/pcrs-log.txt")"
fi
if ! "$BIN" pcrs --failed-boot-attempts 1 --log "$OUT/only-disk/eventlog.bin" "$OUT/probe.efi" >/dev/null 2>&1; then
    ok "pcrs --log exits 1 when the prediction is not what the log holds"
else
    not_ok "pcrs --log exits 1 when the prediction is not what the log holds"
fi

predicted=$("$BIN" pcrs --failed-boot-attempts 1 "$OUT/probe.efi" | awk '/^pcr4-sha256/ {print $2}')
actual=$(boot dvd-first -net none)
if [ -n "$actual" ] && [ "$actual" = "$predicted" ]; then
    ok "OVMF+swtpm PCR 4 equals the prediction after a failed boot option"
else
    not_ok "OVMF+swtpm PCR 4 equals the prediction after a failed boot option" "vTPM '$actual' predicted '$predicted' (logs in $OUT/dvd-first)"
fi
grep -q 'failed to load Boot0001' "$OUT/dvd-first/serial.log" && ok "the DVD boot option was tried and failed first" ||
    not_ok "the DVD boot option was tried and failed first" "see $OUT/dvd-first/serial.log"

[ "$failed" -eq 0 ]
