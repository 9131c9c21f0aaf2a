"""Whole-binary tests: sealed-measure equals virtee/sev-snp-measure on every VMM type (QEMU, EC2,
GCE), 1/2/4 vCPUs, every vCPU type upstream knows, SNP, SEV-ES and SEV.

Expected values: tests/measure/sev_snp_measure_vectors.json, printed by upstream's own CLI at the
commit recorded in it (tests/measure/gen_sev_snp_measure_vectors.py says how; each case keeps its
exact upstream command line). Never our own output.

When a mirror of upstream's repository is present (SEV_SNP_MEASURE_GIT, default
/work/.mirror/virtee+sev-snp-measure/repo), one more case replays every recorded command line with
upstream's code at the pinned commit, in this process, and requires the same output: the committed
vectors are then re-derived from upstream, not trusted. It also prints whether the mirror's newest
commit still gives the same values (a note, not a failure: upstream moving is news, not a bug here).
"""
import contextlib
import hashlib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done  # noqa: E402

ROOT = os.environ.get("SEALED_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "sealed-measure")
DATA = os.path.join(ROOT, "..", "shared", "testdata", "snp-measure-sev-snp-measure", "fixtures")
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sev_snp_measure_vectors.json")
MIRROR = os.environ.get("SEV_SNP_MEASURE_GIT", "/work/.mirror/virtee+sev-snp-measure/repo")

with open(VECTORS) as _f:
    DOC = json.load(_f)


def local(path):
    """Upstream's tests/fixtures/X is the shared testdata's fixtures/X (same sha256, checked)."""
    if path.startswith("tests/fixtures/"):
        return os.path.join(DATA, os.path.basename(path))
    return path


def our_argv(a):
    v = [BIN, "--mode", a["mode"], "--ovmf", local(a["ovmf"])]
    if a.get("vcpus"):
        v += ["--vcpus", str(a["vcpus"])]
    if a.get("vcpu_type"):
        v += ["--vcpu-type", a["vcpu_type"]]
    if a.get("vcpu_sig"):
        v += ["--vcpu-sig", a["vcpu_sig"]]
    if a.get("vmm_type"):
        v += ["--vmm-type", a["vmm_type"]]
    for k in ("kernel", "initrd", "append"):
        if k in a:
            v += ["--" + k, local(a[k])]
    if a.get("guest_features"):
        v += ["--guest-features", a["guest_features"]]
    if a.get("snp_ovmf_hash"):
        v += ["--ovmf-hash", a["snp_ovmf_hash"]]
    return v


def check_case(c):
    p = subprocess.run(our_argv(c["args"]), capture_output=True, text=True, timeout=60)
    where = f"{c['name']} (upstream: {c['upstream_command']})"
    if "expected" in c:
        check(p.returncode == 0, f"{where}: exit {p.returncode}: {p.stderr}")
        check(p.stdout == c["expected"] + "\n", f"{where}: got {p.stdout.strip()}, want {c['expected']}")
    else:
        check(p.returncode == c["expected_exit"] and p.stdout == "", f"{where}: exit {p.returncode}")
        check(c["expected_error"] in p.stderr, f"{where}: stderr {p.stderr!r}")


def group(pred):
    return [c for c in DOC["cases"] if pred(c)]


@case
def vectors_file_is_whole():
    check(len(DOC["commit"]) == 40 and DOC["source"].endswith("virtee/sev-snp-measure"))
    for name, digest in DOC["fixtures_sha256"].items():
        with open(os.path.join(DATA, name), "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == digest, f"fixture {name} differs from upstream's")
    names = [c["name"] for c in DOC["cases"]]
    check(len(names) == len(set(names)), "duplicate case names")
    # every VMM type with 1, 2 and 4 vCPUs, in SNP and SEV-ES
    for vmm in ("QEMU", "ec2", "gce"):
        for mode in ("snp", "seves"):
            got = {c["args"]["vcpus"] for c in group(lambda c: c["args"].get("vmm_type") == vmm
                                                     and c["args"]["mode"] == mode and "expected" in c)}
            check(got == {1, 2, 4}, f"{mode}/{vmm}: vCPU counts {got}")


def make_group_case(label, pred):
    def fn():
        cs = group(pred)
        check(cs, f"no cases for {label}")
        for c in cs:
            check_case(c)
    fn.__name__ = label
    return fn


for _mode in ("snp", "seves"):
    for _vmm in ("QEMU", "ec2", "gce"):
        for _n in (1, 2, 4):
            case(make_group_case(f"{_mode}_{_vmm}_{_n}vcpu_equals_upstream",
                                 lambda c, m=_mode, v=_vmm, n=_n: c["args"]["mode"] == m and
                                 c["args"].get("vmm_type") == v and c["args"].get("vcpus") == n))
        case(make_group_case(f"{_mode}_{_vmm}_refusals_equal_upstream",
                             lambda c, m=_mode, v=_vmm: c["args"]["mode"] == m and
                             c["args"].get("vmm_type") == v and "expected" not in c))
case(make_group_case("sev_equals_upstream", lambda c: c["args"]["mode"] == "sev"))


@case
def ec2_and_gce_ignore_the_vcpu_type():
    """Upstream puts a fixed RDX on EC2 and GCE, so every vCPU type gives the untyped digest."""
    for vmm in ("ec2", "gce"):
        for n in (1, 2, 4):
            for boot in ("nokernel", "devnull"):
                vals = {c["expected"] for c in group(lambda c: c["name"].startswith(f"snp-{vmm}-")
                                                     and c["name"].endswith(f"-{n}cpu-{boot}"))}
                check(len(vals) == 1, f"{vmm} {n} {boot}: {len(vals)} values")


@case
def ec2_vectors_are_the_2026_ones():
    """Upstream 4a02bf0 (2026-04-28) set EC2's RDX to 0x600: its own test_guest.py values."""
    bsp_vmsa = []
    for feats, want in (("0x21", "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b7"
                                 "1052498ab52b2f1aa415db338033946ef93aa8278c0d67fb"),
                        ("0x1", "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab9"
                                "85443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056")):
        a = {"mode": "snp", "vmm_type": "ec2", "vcpus": 1, "vcpu_type": "EPYC-v4", "ovmf": "tests/fixtures/ovmf_AmdSev_suffix.bin",
             "kernel": "/dev/null", "initrd": "/dev/null", "append": "", "guest_features": feats}
        p = subprocess.run(our_argv(a) + ["--json"], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stderr)
        j = json.loads(p.stdout)
        check(j["measurement"] == want, f"ec2 {feats}: {j['measurement']}")
        bsp_vmsa.append(j["vmsa"]["bsp_sha384"])
    check(bsp_vmsa[0] != bsp_vmsa[1], "guest features must reach the VMSA")


# Only what the CLI runs and the fixtures its command lines name: never upstream's own test_*.py,
# which tests/run.sh would otherwise find and run.
UPSTREAM_PATHS = ["sev-snp-measure.py", "sevsnpmeasure", "tests/fixtures"]


def upstream_checkout(commit, dest):
    """git archive of commit's UPSTREAM_PATHS from the mirror into dest; False when there is no
    mirror or no such commit."""
    if not os.path.isdir(MIRROR):
        return False
    p = subprocess.run(["git", "--git-dir", MIRROR, "archive", commit] + UPSTREAM_PATHS,
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
        t.extractall(dest, filter="data")
    return True


def run_upstream(checkout, cases):
    """Runs each recorded upstream command line through upstream's cli.main() in this process, with
    cwd = checkout; returns {name: (rc, stdout, stderr)}."""
    saved_path, saved_argv, saved_cwd = list(sys.path), list(sys.argv), os.getcwd()
    for m in [m for m in sys.modules if m == "sevsnpmeasure" or m.startswith("sevsnpmeasure.")]:
        del sys.modules[m]
    sys.path.insert(0, checkout)
    results = {}
    try:
        from sevsnpmeasure import cli
        os.chdir(checkout)
        for c in cases:
            argv = shlex.split(c["upstream_command"])[1:]     # drop "python3"
            sys.argv = argv
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    rc = cli.main()
                except SystemExit as e:
                    rc = e.code
            results[c["name"]] = (rc, out.getvalue(), err.getvalue())
    finally:
        os.chdir(saved_cwd)
        sys.path[:], sys.argv[:] = saved_path, saved_argv
    return results


def compare(results, cases):
    bad = []
    for c in cases:
        rc, out, err = results[c["name"]]
        if "expected" in c:
            if rc != 0 or out.strip() != c["expected"]:
                bad.append(c["name"])
        elif rc != c["expected_exit"] or c["expected_error"] not in err:
            bad.append(c["name"])
    return bad


@case
def vectors_rederived_from_upstream_when_mirror_present():
    with tempfile.TemporaryDirectory(prefix="sev-snp-measure-") as pinned:
        if not upstream_checkout(DOC["commit"], pinned):
            print(f"# skipped: no mirror of sev-snp-measure with {DOC['commit']} at {MIRROR}")
            return
        bad = compare(run_upstream(pinned, DOC["cases"]), DOC["cases"])
    check(not bad, f"upstream {DOC['commit'][:12]} disagrees with the committed vectors: {bad[:10]}")
    head = subprocess.run(["git", "--git-dir", MIRROR, "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if head and head != DOC["commit"]:
        with tempfile.TemporaryDirectory(prefix="sev-snp-measure-") as newest:
            moved = (compare(run_upstream(newest, DOC["cases"]), DOC["cases"])
                     if upstream_checkout(head, newest) else ["?"])
        print(f"# note: the mirror's newest commit {head[:12]} differs from the pinned one; "
              f"{len(moved)} case(s) give other values there: {moved[:10]}")


if __name__ == "__main__":
    if not os.path.exists(BIN):
        print(f"not ok 1 - {BIN} not built")
        sys.exit(1)
    done()
