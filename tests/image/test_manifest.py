"""The shipped image's build-manifest.json (`make image`: static service, UEFI disk, edk2 AmdSevX64
OVMF from Debian's pinned source, all cached after the first run): every target a verifier needs is
there and each value comes from the build's own bytes. SNP measured direct boot for 1, 2 and 4
vCPUs of EPYC-v4, EPYC-Milan and EPYC-Genoa, recomputed here by sealed-measure from the artifacts;
the vTPM target's PCRs recomputed from the UKI; GCE and EC2 SNP carry no value but a reason.
(That sealed-verify accepts a booted disk's quote with such a manifest, and refuses another disk's,
is tests/image/test_disk.py.)"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import ROOT            # noqa: E402
from buildenv import make_var, sha256_file as sha256  # noqa: E402

IMG = os.path.join(ROOT, "build", "image")
MEASURE = os.path.join(ROOT, "build", "sealed-measure")
state = {}


@case
def make_image_builds_the_image_the_disk_and_the_manifest():
    # a machine that differs from image/buildroot.lock (the mirror moved on since the lock) builds
    # with BUILDROOT=host, and the manifest must say so
    pinned = subprocess.run(["make", "-s", "buildroot-check"], cwd=ROOT, capture_output=True, text=True).returncode == 0
    if not pinned:
        print("# this machine differs from image/buildroot.lock: building with BUILDROOT=host")
    p = subprocess.run(["make", "-s", "image"] + ([] if pinned else ["BUILDROOT=host"]), cwd=ROOT,
                       capture_output=True, text=True)
    check(p.returncode == 0, p.stderr[-2000:])
    m = json.load(open(os.path.join(IMG, "build-manifest.json")))
    env = m["build_environment"]
    check(env["lock_sha256"] == sha256(os.path.join(ROOT, "image", "buildroot.lock")), env)
    check(env["toolchain"] == ("host, matching image/buildroot.lock" if pinned else "host (unpinned)"), env["toolchain"])
    check((env["differences_from_lock"] == []) == pinned, env["differences_from_lock"])
    key = subprocess.run(["/usr/bin/python3", "scripts/buildroot.py", "key"], cwd=ROOT, capture_output=True, text=True)
    check(env["root_sha256"].startswith(key.stdout.strip()), "the record names the root that built it")
    gcc = subprocess.run(["/usr/bin/gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    check(env["tools"]["gcc"]["version"] == gcc, env["tools"]["gcc"])
    sums = dict(reversed(ln.split()) for ln in open(os.path.join(IMG, "SHA256SUMS")))
    check(set(sums) == {"initramfs.cpio.gz", "vmlinuz", "sealed-login.efi", "disk.raw", "sealed-login.qcow2",
                        "sealed-login-gcp.tar.gz"}, sums)
    check({k: v["sha256"] for k, v in m["artifacts"].items()} == sums, m["artifacts"])
    for name, h in sums.items():
        check(sha256(os.path.join(IMG, name)) == h, name)
    state["m"] = m
    state["append"] = make_var("IMAGE_APPEND")
    check(m["cmdline"] == state["append"] and m["uefi_disk"]["uki_sections"][".cmdline"] == state["append"],
          (m["cmdline"], state["append"]))
    baked = open(os.path.join(IMG, "stage", "sealed-login.conf")).read()
    check(f"source_commit = {m['source']['git_commit']}\n" in baked,
          "the baked config names the commit the manifest names (pages tell visitors what to rebuild)")


@case
def snp_direct_boot_values_for_every_vcpu_count_and_type_recomputed_from_the_artifacts():
    t = state["m"]["measurements"]["targets"]["kvm-qemu-sev-snp-direct-boot"]
    db = t["direct_boot"]
    check(db["kernel_sha256"] == sha256(os.path.join(IMG, "vmlinuz")))
    check(db["initrd_sha256"] == sha256(os.path.join(IMG, "initramfs.cpio.gz")))
    check(db["append"] == state["append"])
    ovmf = os.path.join(ROOT, "build", "measure", "OVMF.amdsev.fd")
    check(t["firmware"]["sha256"] == sha256(ovmf) and "edk2 Debian source package" in (t["firmware"]["source"] or ""),
          t["firmware"])
    got = {(x["vcpus"], x["vcpu_type"]): x["measurement"] for x in t["measurements"]}
    check(set(got) == {(v, c) for v in (1, 2, 4) for c in ("EPYC-v4", "EPYC-Milan", "EPYC-Genoa")}, sorted(got))
    for (v, c), want in sorted(got.items()):
        p = subprocess.run([MEASURE, "--ovmf", ovmf, "--kernel", os.path.join(IMG, "vmlinuz"),
                            "--initrd", os.path.join(IMG, "initramfs.cpio.gz"), "--append", state["append"],
                            "--vcpus", str(v), "--vcpu-type", c, "--vmm-type", "qemu", "--guest-features", "0x1"],
                           capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.strip() == want, (v, c, p.stdout, p.stderr))
    check(len(set(got.values())) == len(got), "each vCPU count and type gives its own value")


@case
def vtpm_target_pcrs_recomputed_from_the_uki_and_clouds_without_a_value_say_why():
    targets = state["m"]["measurements"]["targets"]
    p = subprocess.run([MEASURE, "pcrs", os.path.join(IMG, "sealed-login.efi")], capture_output=True, text=True)
    check(p.returncode == 0, p.stderr)
    pred = {ln.split()[0][3:-7]: ln.split()[1] for ln in p.stdout.splitlines() if ln.startswith("pcr")}
    check(targets["uefi-disk-vtpm"]["pcrs"]["sha256"] == pred, (targets["uefi-disk-vtpm"]["pcrs"], pred))
    check(sorted(pred) == ["11", "4", "9"], pred)
    for cloud in ("gce-sev-snp", "ec2-sev-snp"):
        check(targets[cloud]["measurement"] is None and "firmware" in targets[cloud]["reason"], targets[cloud])


done()
