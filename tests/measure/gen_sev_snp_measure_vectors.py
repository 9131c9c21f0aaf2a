#!/usr/bin/env python3
"""Generates tests/measure/sev_snp_measure_vectors.json by running virtee/sev-snp-measure's own CLI.

Owns: the case matrix (every VMM type, 1/2/4 vCPUs, every vCPU type upstream knows, SNP, SEV-ES,
SEV, with and without measured direct boot) and the exact upstream command line of each case.
Never imports or ships upstream code: it runs upstream's sev-snp-measure.py in a subprocess from a
checkout of the pinned commit, and records what that prints.

    git --git-dir=MIRROR archive 8f2b337e38bc83f87cd30f3253cdfe8e3e12cc3a | tar -x -C DIR
    python3 tests/measure/gen_sev_snp_measure_vectors.py --upstream DIR [--out FILE]
or, the same in one step:
    python3 tests/measure/gen_sev_snp_measure_vectors.py --git-dir MIRROR [--commit SHA]

Upstream needs only the Python standard library for these modes (its `cryptography` import is in
id_block.py, which the measurement CLI does not load). Each command runs with cwd = DIR, so the
firmware paths in the recorded command lines are upstream's own tests/fixtures files; the test
uses the identical files from ../shared/testdata (sha256 recorded in the output and checked).
tests/measure/test_snp_measure_upstream.py runs every case through build/sealed-measure.
"""
import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

COMMIT = "8f2b337e38bc83f87cd30f3253cdfe8e3e12cc3a"
AMD = "tests/fixtures/ovmf_AmdSev_suffix.bin"
X64 = "tests/fixtures/ovmf_OvmfX64_suffix.bin"
# upstream sevsnpmeasure/vcpu_types.py CPU_SIGS at COMMIT, in its order
VCPU_TYPES = ["EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-Rome",
              "EPYC-Rome-v1", "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Milan", "EPYC-Milan-v1",
              "EPYC-Milan-v2", "EPYC-Genoa", "EPYC-Genoa-v1", "EPYC-Turin"]
VMMS = ["QEMU", "ec2", "gce"]
APPEND = "console=ttyS0 loglevel=7"
# Boot inputs: upstream's tests use /dev/null; "files" uses non-empty files so that the kernel,
# initrd and command-line hashes differ from each other.
BOOTS = {
    "nokernel": {},
    "devnull": {"kernel": "/dev/null", "initrd": "/dev/null", "append": APPEND},
    "files": {"kernel": X64, "initrd": AMD, "append": "root=/dev/vda1 ro quiet"},
    "kernel-only": {"kernel": X64},
}


def cases():
    out = []

    def add(name, **a):
        out.append({"name": name, "args": a})

    for vmm in VMMS:
        types = VCPU_TYPES if vmm == "QEMU" else [None] + VCPU_TYPES
        for vcpus in (1, 2, 4):
            for t in types:
                for boot in ("nokernel", "devnull"):
                    tag = t or "notype"
                    add(f"snp-{vmm}-{tag}-{vcpus}cpu-{boot}", mode="snp", vmm_type=vmm, vcpus=vcpus,
                        vcpu_type=t, ovmf=AMD, guest_features="0x1", **BOOTS[boot])
            t = "EPYC-v4" if vmm == "QEMU" else None
            tag = t or "notype"
            for boot in ("devnull", "files", "kernel-only"):
                add(f"snp-{vmm}-{tag}-{vcpus}cpu-{boot}-f21", mode="snp", vmm_type=vmm, vcpus=vcpus,
                    vcpu_type=t, ovmf=AMD, guest_features="0x21", **BOOTS[boot])
            add(f"snp-{vmm}-{tag}-{vcpus}cpu-files", mode="snp", vmm_type=vmm, vcpus=vcpus,
                vcpu_type=t, ovmf=AMD, guest_features="0x1", **BOOTS["files"])
            add(f"snp-{vmm}-{tag}-{vcpus}cpu-ovmfx64", mode="snp", vmm_type=vmm, vcpus=vcpus,
                vcpu_type=t, ovmf=X64, guest_features="0x1")
            add(f"snp-{vmm}-{tag}-{vcpus}cpu-ovmfx64-f21", mode="snp", vmm_type=vmm, vcpus=vcpus,
                vcpu_type=t, ovmf=X64, guest_features="0x21")
            add(f"snp-{vmm}-{tag}-{vcpus}cpu-ovmf-hash", mode="snp", vmm_type=vmm, vcpus=vcpus,
                vcpu_type=t, ovmf=AMD, guest_features="0x1", snp_ovmf_hash=None, **BOOTS["devnull"])
            for boot in ("nokernel", "devnull", "files"):
                add(f"seves-{vmm}-{tag}-{vcpus}cpu-{boot}", mode="seves", vmm_type=vmm, vcpus=vcpus,
                    vcpu_type=t, ovmf=AMD, **BOOTS[boot])
            add(f"seves-{vmm}-{tag}-{vcpus}cpu-ovmfx64", mode="seves", vmm_type=vmm, vcpus=vcpus,
                vcpu_type=t, ovmf=X64)
        add(f"snp-{vmm}-ovmfx64-kernel-fails", mode="snp", vmm_type=vmm, vcpus=1,
            vcpu_type="EPYC-v4" if vmm == "QEMU" else None, ovmf=X64, **BOOTS["devnull"])
        add(f"seves-{vmm}-ovmfx64-kernel-fails", mode="seves", vmm_type=vmm, vcpus=1,
            vcpu_type="EPYC-v4" if vmm == "QEMU" else None, ovmf=X64, **BOOTS["devnull"])
    # 8f2b337 lets a signature of zero through (it used to fall back to --vcpu-type or fail)
    for vcpus in (1, 4):
        add(f"snp-QEMU-sig0-{vcpus}cpu", mode="snp", vmm_type="QEMU", vcpus=vcpus, vcpu_sig="0x0",
            ovmf=AMD, guest_features="0x1", **BOOTS["devnull"])
    add("snp-QEMU-sig-a10f11-2cpu", mode="snp", vmm_type="QEMU", vcpus=2, vcpu_sig="0xa10f11",
        ovmf=AMD, guest_features="0x1", **BOOTS["devnull"])
    for boot in ("nokernel", "devnull", "files", "kernel-only"):
        add(f"sev-{boot}", mode="sev", ovmf=AMD, **BOOTS[boot])
    add("sev-ovmfx64", mode="sev", ovmf=X64)
    add("sev-ovmfx64-kernel-fails", mode="sev", ovmf=X64, **BOOTS["devnull"])
    return out


def argv_for(a, ovmf_hash):
    v = ["python3", "sev-snp-measure.py", "--mode", a["mode"]]
    if a.get("vcpus"):
        v += ["--vcpus", str(a["vcpus"])]
    if a.get("vcpu_type"):
        v += ["--vcpu-type", a["vcpu_type"]]
    if a.get("vcpu_sig"):
        v += ["--vcpu-sig", a["vcpu_sig"]]
    if a.get("vmm_type"):
        v += ["--vmm-type", a["vmm_type"]]
    v += ["--ovmf", a["ovmf"]]
    for k in ("kernel", "initrd", "append"):
        if k in a:
            v += ["--" + k, a[k]]
    if a.get("guest_features"):
        v += ["--guest-features", a["guest_features"]]
    if "snp_ovmf_hash" in a:
        a["snp_ovmf_hash"] = ovmf_hash
        v += ["--snp-ovmf-hash", ovmf_hash]
    return v


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--upstream", help="a checkout (git archive) of sev-snp-measure at --commit")
    src.add_argument("--git-dir", help="a clone of sev-snp-measure: --commit is archived from it")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "sev_snp_measure_vectors.json"))
    ap.add_argument("--commit", default=COMMIT, help="the upstream commit (recorded)")
    args = ap.parse_args()
    up = args.upstream
    if args.git_dir:
        args.commit = subprocess.run(["git", "--git-dir", args.git_dir, "rev-parse", args.commit + "^{commit}"],
                                     capture_output=True, text=True, check=True).stdout.strip()
        up = tempfile.mkdtemp(prefix="sev-snp-measure-")
        tar = subprocess.run(["git", "--git-dir", args.git_dir, "archive", args.commit],
                             capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", up], input=tar, check=True)

    def sh(v):
        return subprocess.run(v, cwd=up, capture_output=True, text=True, timeout=120)

    p = sh(["python3", "sev-snp-measure.py", "--version"])
    version = p.stdout.strip() or p.stderr.strip()
    p = sh(["python3", "sev-snp-measure.py", "--mode", "snp:ovmf-hash", "--ovmf", AMD])
    if p.returncode != 0:
        sys.exit("upstream snp:ovmf-hash failed: " + p.stderr)
    ovmf_hash = p.stdout.strip()

    vectors = []
    for c in cases():
        argv = argv_for(c["args"], ovmf_hash)
        p = sh(argv)
        v = {"name": c["name"], "args": c["args"], "upstream_command": shlex.join(argv)}
        if p.returncode == 0:
            v["expected"] = p.stdout.strip()
        else:
            v["expected_exit"] = p.returncode
            v["expected_error"] = p.stderr.strip().removeprefix("Error: ")
        vectors.append(v)

    fixtures = {}
    for f in (AMD, X64):
        with open(os.path.join(up, f), "rb") as fh:
            fixtures[os.path.basename(f)] = hashlib.sha256(fh.read()).hexdigest()
    doc = {
        "source": "https://github.com/virtee/sev-snp-measure",
        "commit": args.commit,
        "upstream_version": version,
        "python": sys.version.split()[0],
        "generated_by": f"git --git-dir=MIRROR archive {args.commit} | tar -x -C DIR; "
                        "python3 tests/measure/gen_sev_snp_measure_vectors.py --upstream DIR "
                        "(MIRROR: a clone of the source; each upstream_command ran with cwd DIR)",
        "fixtures_sha256": fixtures,
        "snp_ovmf_hash": {AMD: ovmf_hash},
        "cases": vectors,
    }
    write_doc(doc, args.out)
    if args.git_dir:
        shutil.rmtree(up)
    print(f"{len(vectors)} cases -> {args.out}")


def write_doc(doc, path):
    """Indented header, one case per line (diffs then show exactly which cases changed)."""
    head = {k: v for k, v in doc.items() if k != "cases"}
    text = json.dumps(head, indent=1)[:-2]
    text += ',\n "cases": [\n'
    text += ",\n".join("  " + json.dumps(c, separators=(", ", ": ")) for c in doc["cases"])
    text += "\n ]\n}\n"
    with open(path, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
