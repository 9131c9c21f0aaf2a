#!/bin/bash
# scripts/measure-manifest.sh: the manifest's measurement entries come from sealed-measure and match
# sev-snp-measure's published values for the same inputs; clouds without a usable SNP value say so.
set -u
cd "${SEALED_ROOT:-$(dirname "$0")/../..}"
FIX=../shared/testdata/snp-measure-sev-snp-measure/fixtures
OUT=${SEALED_TEST_OUT:-/tmp}/measure-manifest
mkdir -p "$OUT"
n=0 failed=0
check() { n=$((n + 1)); if [ "$2" = "$3" ]; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1"; echo "  got '$2' want '$3'"; fi; }

scripts/measure-manifest.sh --ovmf $FIX/ovmf_AmdSev_suffix.bin --ovmf-source "test fixture" \
    --kernel /dev/null --initrd /dev/null --append "" --vcpus "1 4" --vcpu-types "EPYC-v4 EPYC-Milan" \
    --efi fuzz/measure/pe_hash.corpus/minimal_pe32plus.efi >"$OUT/m.json" 2>"$OUT/err"
check "manifest script succeeds" "$?" "0"
q() { python3 -c "import json,sys; j=json.load(open('$OUT/m.json'))['targets']; print($1)"; }
# sev-snp-measure test_snp_ovmf_hash_gen_feature_snp_only and test_snp_with_multiple_vcpus_feature_snp_only
check "1 vCPU EPYC-v4 value" "$(q "[m['measurement'] for m in j['kvm-qemu-sev-snp-direct-boot']['measurements'] if m['vcpus']==1 and m['vcpu_type']=='EPYC-v4'][0]")" \
    "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5"
check "4 vCPU EPYC-v4 value" "$(q "[m['measurement'] for m in j['kvm-qemu-sev-snp-direct-boot']['measurements'] if m['vcpus']==4 and m['vcpu_type']=='EPYC-v4'][0]")" \
    "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"
check "one entry per vCPU count and type" "$(q "len(j['kvm-qemu-sev-snp-direct-boot']['measurements'])")" "4"
check "firmware recorded" "$(q "j['kvm-qemu-sev-snp-direct-boot']['firmware']['snp_ovmf_hash'][:16], j['kvm-qemu-sev-snp-direct-boot']['firmware']['source']")" "086e2e9149ebf45a test fixture"
check "vTPM target has PCR 4" "$(q "sorted(j['uefi-disk-vtpm']['pcrs']['sha256'])")" "['4']"
check "GCE and EC2 SNP carry no invented value" "$(q "[j[c]['measurement'] for c in ('gce-sev-snp','ec2-sev-snp')]")" "[None, None]"
printf '{"platform": "test", "sha256": {"0": "%064d"}}' 0 >"$OUT/rec.json"
scripts/measure-manifest.sh --ovmf $FIX/ovmf_AmdSev_suffix.bin --vcpus 1 --vcpu-types EPYC \
    --efi fuzz/measure/pe_hash.corpus/minimal_pe32plus.efi --recorded-pcrs "$OUT/rec.json" >"$OUT/m2.json"
check "recorded firmware PCRs kept apart from the predicted ones" \
    "$(python3 -c "import json; t=json.load(open('$OUT/m2.json'))['targets']['uefi-disk-vtpm']; print(sorted(t['pcrs']['sha256']), t['recorded_firmware_pcrs']['platform'])")" "['4'] test"
scripts/measure-manifest.sh --ovmf $FIX/ovmf_OvmfX64_suffix.bin --kernel /dev/null >/dev/null 2>"$OUT/err2"
check "a firmware without kernel hashes fails the manifest" "$? $(grep -c SNP_KERNEL_HASHES "$OUT/err2")" "1 1"
[ "$failed" -eq 0 ]
