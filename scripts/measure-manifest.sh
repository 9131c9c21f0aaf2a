#!/bin/bash
# Prints the "measurements" part of build-manifest.json: the values a verifier should expect, with
# the inputs that produced them, computed by build/sealed-measure from the build's own files.
#   scripts/measure-manifest.sh [--ovmf OVMF.amdsev.fd] [--ovmf-source TEXT] [--kernel F --initrd F
#       --append S] [--efi EFI-BINARY] [--guest-features HEX] [--vcpus "1 2 4"]
#       [--vcpu-types "EPYC-v4 EPYC-Milan EPYC-Genoa"] [--recorded-pcrs FILE]
# At least one of --ovmf (the SNP target) and --efi (the vTPM target) is needed; a target whose
# input is missing says so in its entry instead of carrying a value.
# Targets: KVM/QEMU SEV-SNP measured direct boot (one value per vCPU count and type), UEFI disk
# boot with a vTPM (PCR 4 from the EFI binary), and the clouds whose firmware loads our image from
# disk (GCE, EC2 SNP), for which no SNP value can cover our bytes: they say so instead.
set -euo pipefail
BIN=${SEALED_MEASURE:-build/sealed-measure}
ovmf="" source="" kernel="" initrd="" append="" efi="" features=0x1 recorded=""
vcpus="1 2 4" types="EPYC-v4 EPYC-Milan EPYC-Genoa"
while [ $# -gt 0 ]; do
    case $1 in
        --ovmf) ovmf=$2 ;; --ovmf-source) source=$2 ;; --kernel) kernel=$2 ;; --initrd) initrd=$2 ;;
        --append) append=$2 ;; --efi) efi=$2 ;; --guest-features) features=$2 ;;
        --vcpus) vcpus=$2 ;; --vcpu-types) types=$2 ;; --recorded-pcrs) recorded=$2 ;;
        *) echo "measure-manifest: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$ovmf" ] || [ -n "$efi" ] || { echo "measure-manifest: give --ovmf (SNP) and/or --efi (vTPM)" >&2; exit 2; }
if [ -n "$ovmf" ] && [ -z "$source" ] && [ -f "$ovmf.inputs" ]; then source=$(tr '\n' ';' <"$ovmf.inputs"); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kargs=()
[ -n "$kernel" ] && kargs+=(--kernel "$kernel")
[ -n "$initrd" ] && kargs+=(--initrd "$initrd")
[ -n "$kernel" ] && kargs+=(--append "$append")
i=0
if [ -n "$ovmf" ]; then
    for t in $types; do
        for v in $vcpus; do
            "$BIN" --mode snp --ovmf "$ovmf" --vcpus "$v" --vcpu-type "$t" --vmm-type qemu \
                --guest-features "$features" "${kargs[@]}" --json >"$tmp/snp-$i.json"
            i=$((i + 1))
        done
    done
fi
if [ -n "$efi" ]; then "$BIN" pcrs --json "$efi" >"$tmp/pcrs.json"; fi
python3 - "$tmp" "$ovmf" "$source" "$recorded" <<'PY'
import glob, json, os, sys
tmp, ovmf, source, recorded = sys.argv[1:5]
runs = [json.load(open(f)) for f in sorted(glob.glob(f"{tmp}/snp-*.json"), key=lambda p: int(p.rsplit("-", 1)[1][:-5]))]
first = runs[0] if runs else None
snp = {
    "description": "KVM/QEMU SEV-SNP guest, OVMF AmdSevX64, measured direct boot (-kernel/-initrd/-append, kernel-hashes=on)",
    "measurement": None,
    "reason": "not computed: this build was given no AmdSevX64 OVMF (make ovmf-amdsev, then make image)",
} if first is None else {
    "description": "KVM/QEMU SEV-SNP guest, OVMF AmdSevX64, measured direct boot (-kernel/-initrd/-append, kernel-hashes=on)",
    "firmware": {"file": os.path.basename(ovmf), "sha256": first["ovmf"]["sha256"],
                 "snp_ovmf_hash": first["ovmf"]["snp_ovmf_hash"], "source": source or None},
    "direct_boot": None if first["direct_boot"] is None else {
        k: first["direct_boot"][k] for k in ("kernel_sha256", "initrd_sha256", "append", "cmdline_sha256")},
    "vmm_type": first["vmm_type"], "guest_features": first["guest_features"],
    "measurements": [{"vcpus": r["vcpus"], "vcpu_type": r["vcpu_type"], "vcpu_sig": r["vcpu_sig"],
                      "measurement": r["measurement"]} for r in runs],
}
targets = {"kvm-qemu-sev-snp-direct-boot": snp}
pcrs = f"{tmp}/pcrs.json"
if os.path.exists(pcrs):
    p = json.load(open(pcrs))
    targets["uefi-disk-vtpm"] = {
        "description": "UEFI firmware loads our UKI from the disk image's ESP; the vTPM's PCR 4 (the firmware: the UKI and the kernel the stub loads), 9 (the kernel: its load options and initrd) and 11 (systemd-stub: the UKI's sections)",
        "efi_applications": [{"file": os.path.basename(a["file"]), "authenticode_sha256": a["authenticode_sha256"]}
                             for a in p["efi_applications"]],
        "pcrs": p["pcrs"], "events": p["events"], "not_predicted": p["not_predicted"]}
if recorded:
    # Firmware-owned PCRs as one platform measured them: evidence of what that platform does, kept
    # apart from the predicted "pcrs" (another firmware build gives other values).
    targets.setdefault("uefi-disk-vtpm", {})["recorded_firmware_pcrs"] = json.load(open(recorded))
for cloud, name in (("gce-sev-snp", "GCE"), ("ec2-sev-snp", "EC2")):
    targets[cloud] = {
        "measurement": None,
        "reason": f"On {name} SEV-SNP the cloud's firmware loads our image from disk after launch: the SNP "
                  "measurement covers only that firmware, not our bytes. Our image is proven through the "
                  "vTPM (PCR 4, uefi-disk-vtpm) where the platform offers one."}
print(json.dumps({"tool": "sealed-measure", "targets": targets}, indent=2))
PY
