"""The image's build environment (image/buildroot.lock, scripts/buildroot.py, docs/image.md):
the lock covers every package the image build uses, a machine that differs from it by one package
is refused with the package and both versions named (a shim dpkg database stands for that
machine), a tool from outside the locked packages is named, and the record the manifest carries
says what was used. (The manifest of a real `make image` is checked in tests/image/test_manifest.py.)"""
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import ROOT            # noqa: E402
from buildenv import LOCK, SYSTEM_PATH, locked, sha256_file   # noqa: E402

TOOL = os.path.join(ROOT, "scripts", "buildroot.py")
OUT = os.path.join(os.environ.get("SEALED_TEST_OUT", "/tmp"), "buildroot")


def tool(*args, env=None, path=SYSTEM_PATH):
    return subprocess.run(["/usr/bin/python3", TOOL] + list(args), capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PATH=path, **(env or {})))


def shim(changes):
    """A copy of this machine's dpkg database with the given {package: version} changes; returns its
    directory (for --admindir / BUILDROOT_ADMINDIR)."""
    d = os.path.join(OUT, "shim-" + "-".join(sorted(changes)))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "info"))
    os.makedirs(os.path.join(d, "updates"))
    text = open("/var/lib/dpkg/status").read()
    for pkg, ver in changes.items():
        text, n = re.subn(r"(^Package: " + re.escape(pkg) + r"\n(?:.+\n)*?Version: )\S+", r"\g<1>" + ver, text, flags=re.M)
        assert n >= 1, pkg
    open(os.path.join(d, "status"), "w").write(text)
    return d


state = {}


@case
def the_lock_pins_every_seed_with_a_version_and_a_deb_hash():
    pkgs = locked()
    seeds = []
    for line in open(os.path.join(ROOT, "image", "buildroot.packages")):
        seeds += line.split("#", 1)[0].split()
    # a seed may be virtual or an alias; the compilers, linkers and libc every build uses must be there
    for name in ("gcc-12", "binutils", "libc6-dev", "musl", "musl-dev", "musl-tools", "linux-libc-dev", "gzip",
                 "make", "python3", "nasm", "acpica-tools", "ca-certificates", "dpkg-dev", "perl", "flex", "bison"):
        check(name in pkgs, f"{name} is not locked")
    check(len([s for s in seeds if s in pkgs]) >= len(seeds) - 2, "seeds missing from the lock")
    for name, (arch, ver, sha) in pkgs.items():
        check(arch in ("amd64", "all") and ver and re.fullmatch(r"[0-9a-f]{64}", sha), (name, arch, ver, sha))
    text = open(LOCK).read()
    check(re.search(r"^ca-bundle [0-9a-f]{64}$", text, re.M), "the CA bundle is pinned")
    check(re.search(r"^source edk2 \S+ [0-9a-f]{64}$", text, re.M), "the edk2 source is pinned")


@case
def a_root_that_differs_by_one_package_is_refused_naming_it_and_both_versions():
    lock_ver = locked()["gzip"][1]
    d = shim({"gzip": "1.12-0shim1"})
    # the packages alone: this machine's CA bundle may hold local CAs (the lock's is the pinned
    # root's; tests/image/test_pinned_root.py checks it)
    p = tool("check", "--admindir", d, "--no-ca-check")
    check(p.returncode == 1, p.stdout + p.stderr)
    check(f"gzip: the lock has {lock_ver}, the build root at {d} has 1.12-0shim1" in p.stderr, p.stderr)
    check(p.stderr.count("the lock has") == 1, "only the changed package is named: " + p.stderr)
    # make image refuses before it builds anything
    p = subprocess.run(["make", "-s", "--no-print-directory", "image", f"BUILDROOT_ADMINDIR={d}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    check(p.returncode != 0 and "gzip: the lock has" in p.stderr, p.stderr[-1500:])
    check("build-initramfs" not in p.stdout + p.stderr and "build-musl-deps" not in p.stdout + p.stderr,
          "nothing was built")
    state["shim"] = d


@case
def a_missing_package_and_a_tool_from_outside_the_lock_are_named():
    d = shim({})
    text = open(os.path.join(d, "status")).read()
    text = re.sub(r"^Package: bison\n(?:.+\n)*?\n", "", text, flags=re.M)
    open(os.path.join(d, "status"), "w").write(text)
    p = tool("check", "--admindir", d)
    check(p.returncode == 1 and "bison: the lock has" in p.stderr and "has not installed" in p.stderr, p.stderr)
    # a python3 earlier on PATH than the system's (pyenv, a venv) is not the locked one
    fake = os.path.join(OUT, "fakebin")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "python3"), "w") as f:
        f.write("#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n")
    os.chmod(os.path.join(fake, "python3"), 0o755)
    p = tool("check", path=fake + ":" + SYSTEM_PATH)
    check(p.returncode == 1 and f"python3 on PATH: the lock has a file of a locked package, this machine has {fake}/python3 (from no package)" in p.stderr,
          p.stderr)


@case
def the_record_says_what_built_it():
    host_matches = tool("check").returncode == 0
    p = tool("record", "--mode", "host")
    check(p.returncode == 0, p.stderr)
    rec = json.loads(p.stdout)
    check(rec["lock_sha256"] == sha256_file(LOCK))
    check(rec["toolchain"] == ("host, matching image/buildroot.lock" if host_matches else "host (unpinned)"), rec["toolchain"])
    check((rec["differences_from_lock"] == []) == host_matches, rec["differences_from_lock"])
    gcc = subprocess.run(["/usr/bin/gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    check(rec["tools"]["gcc"]["version"] == gcc, rec["tools"]["gcc"])
    check(rec["tools"]["musl"] and rec["tools"]["binutils"]["version"].startswith("GNU ld"), rec["tools"])
    # the root's hash is what the root holds: one package changed, another hash
    p2 = tool("record", "--mode", "host", "--admindir", state["shim"])
    rec2 = json.loads(p2.stdout)
    check(rec2["root_sha256"] != rec["root_sha256"] and rec2["toolchain"] == "host (unpinned)")
    check({"item": "gzip", "locked": locked()["gzip"][1], "used": "1.12-0shim1"} in rec2["differences_from_lock"],
          rec2["differences_from_lock"])
    # the pinned mode never records an unpinned build
    p3 = tool("record", "--mode", "lock", "--admindir", state["shim"])
    check(p3.returncode != 0 and "differs" in p3.stderr, p3.stderr)


@case
def lock_check_reports_updates_as_information():
    p = subprocess.run(["make", "-s", "--no-print-directory", "lock-check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, p.stderr)
    check(re.search(r"^lock-check: \d+ of \d+ locked packages have newer versions in the mirror", p.stdout, re.M), p.stdout)
    for line in p.stdout.splitlines():
        check(line.startswith("lock-check: "), line)
    print("# " + "\n# ".join(p.stdout.splitlines()))


os.makedirs(OUT, exist_ok=True)
done()
