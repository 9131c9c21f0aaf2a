"""The pinned build root (scripts/buildroot-root.sh), the source archive (scripts/image-sources.sh),
the Containerfile (built with podman: PID 1 identical to the host's) and the flake's inputs
(docs/image.md, "The build environment").

Cost: warm (the root cached under ~/.cache/sealed-login/buildroot/<key>) about a minute, mostly the
source archive's copy and the offline fetch; cold, the root adds about 4-5 minutes (mmdebstrap of
181 packages on 2 cores) and the .deb download about 20 s. The root is keyed by the lock's packages
and scripts/buildroot-root.sh, so one build serves every run until the lock changes."""
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
from buildenv import LOCK, SYSTEM_PATH, locked, sha256_file as sha256   # noqa: E402

OUT = os.path.join(os.environ.get("SEALED_TEST_OUT", "/tmp"), "pinned-root")
ENV = dict(os.environ, PATH=SYSTEM_PATH, LC_ALL="C")
state = {}


def sh(*cmd, timeout=900, env=None):
    return subprocess.run(list(cmd), capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env or ENV)


@case
def the_root_holds_exactly_the_locked_packages():
    p = sh("scripts/buildroot-root.sh", "path", timeout=1800)
    check(p.returncode == 0, p.stderr[-2000:])
    root = p.stdout.strip()
    state["root"] = root
    q = sh("dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f=${Package} ${Architecture} ${Version} ${db:Status-Abbrev}\n")
    have = {}
    for line in q.stdout.splitlines():
        name, arch, ver, status = line.split(" ", 3)
        if status.startswith("ii"):
            have[name] = (arch, ver)
    want = {n: (a, v) for n, (a, v, _s) in locked().items()}
    check(have == want, {"extra": sorted(set(have) - set(want)), "missing": sorted(set(want) - set(have)),
                         "other version": sorted(n for n in have if n in want and have[n] != want[n])})
    # the CA bundle the image copies is the lock's, made by the pinned ca-certificates
    ca = [l.split()[1] for l in open(LOCK) if l.startswith("ca-bundle ")][0]
    check(sha256(f"{root}/etc/ssl/certs/ca-certificates.crt") == ca, "the root's CA bundle is the locked one")
    p = sh("scripts/buildroot.py", "check", "--exact", "--admindir", f"{root}/var/lib/dpkg",
           "--ca-bundle", f"{root}/etc/ssl/certs/ca-certificates.crt")
    check(p.returncode == 0, p.stderr)


@case
def a_root_with_a_package_the_lock_does_not_list_is_refused_naming_it():
    d = os.path.join(OUT, "shim-extra")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(state["root"], "var/lib/dpkg"), d, ignore=shutil.ignore_patterns("info"))
    os.makedirs(os.path.join(d, "info"), exist_ok=True)
    with open(os.path.join(d, "status"), "a") as f:
        f.write("Package: shimtool\nStatus: install ok installed\nPriority: optional\nSection: misc\n"
                "Maintainer: nobody\nArchitecture: amd64\nVersion: 1.0-1\nDescription: a shim\n\n")
    p = sh("scripts/buildroot.py", "check", "--exact", "--admindir", d, "--no-ca-check")
    check(p.returncode == 1 and "shimtool: the lock has not locked, " in p.stderr and "has 1.0-1 (amd64)" in p.stderr, p.stderr)
    check(p.stderr.count("the lock has") == 1, p.stderr)


@case
def inside_the_root_there_is_no_network_and_the_repository_is_read_only():
    p = sh("scripts/buildroot-root.sh", "run", "--", "/bin/sh", "-c",
           "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; touch Makefile 2>/dev/null && echo WRITABLE; "
           "mkdir -p build && touch build/.probe && echo build-ok; command -v git || echo no-git; "
           "scripts/buildroot.py record --mode root")
    check(p.returncode == 0, p.stderr)
    lines = p.stdout.splitlines()
    check(lines[0] == "lo" and "WRITABLE" not in lines and "build-ok" in lines and "no-git" in lines, lines[:5])
    rec = json.loads(p.stdout[p.stdout.index("{"):])
    check(rec["toolchain"] == "pinned root" and rec["differences_from_lock"] == [], rec["toolchain"])
    # the record's root hash is the root's package set, as read from outside
    q = sh("scripts/buildroot.py", "record", "--mode", "host", "--admindir", f"{state['root']}/var/lib/dpkg",
           "--ca-bundle", f"{state['root']}/etc/ssl/certs/ca-certificates.crt")
    check(json.loads(q.stdout)["root_sha256"] == rec["root_sha256"], q.stderr)
    check(rec["lock_sha256"] == sha256(LOCK))
    # outside the root, the root mode is refused
    p = sh("scripts/buildroot.py", "record", "--mode", "root")
    check(p.returncode != 0, "record --mode root outside the root")


@case
def sealed_init_built_in_the_root_equals_the_host_build():
    for where, build in (("root", "build/pr-root"), ("host", "build/pr-host")):
        shutil.rmtree(os.path.join(ROOT, build), ignore_errors=True)
        if where == "root":
            p = sh("make", "--no-print-directory", "buildroot-run", f"BUILD={build}", f"ROOT_TARGETS={build}/sealed-init")
        else:
            p = sh("make", "--no-print-directory", "BUILDROOT=host", f"BUILD={build}", f"{build}/sealed-init")
        check(p.returncode == 0, where + ": " + p.stderr[-1500:])
    a, b = (sha256(os.path.join(ROOT, d, "sealed-init")) for d in ("build/pr-root", "build/pr-host"))
    print(f"# sealed-init root {a} host {b}")
    check(a == b, "sealed-init differs between the root and the host")


@case
def the_source_archive_holds_every_pinned_input_and_fetches_with_no_network():
    arch = os.path.join(OUT, "archive")
    p = sh("scripts/image-sources.sh", "archive", arch)
    check(p.returncode == 0, p.stderr[-1500:])
    sums = {}
    for line in open(os.path.join(arch, "SHA256SUMS")):
        sha, name = line.split(None, 1)
        sums[name.strip()] = sha
    p = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=arch, capture_output=True, text=True)
    check(p.returncode == 0, p.stdout + p.stderr)
    shas = set(sums.values())
    for name, (_a, ver, sha) in locked().items():
        check(sha in shas and any(n.startswith(f"debs/{name}_") for n in sums), f"{name} {ver} is not in the archive")
    check(len([n for n in sums if n.startswith("debs/")]) == len(locked()), "only the locked .debs")
    for lock in ("kernel-source.lock", "kernel.lock", "stub.lock"):
        sha = re.search(r"^sha256=(\S+)$", open(os.path.join(ROOT, "image", lock)).read(), re.M).group(1)
        check(sha in shas, f"{lock}'s .deb")
    for line in open(os.path.join(ROOT, "image", "musl-deps.lock")):
        f = line.split("#", 1)[0].split()
        if len(f) == 3:
            check(f[2] in shas, f"{f[0]} {f[1]}'s .dsc")
    check(any(n.startswith("edk2/edk2_") and n.endswith(".orig.tar.xz") for n in sums), "edk2's source")
    # a fetch from the archive alone, into empty caches, with no network at all
    cache, ovmf = os.path.join(OUT, "offline-cache"), os.path.join(OUT, "offline-ovmf")
    for d in (cache, ovmf):
        shutil.rmtree(d, ignore_errors=True)
    p = sh("unshare", "-n", "scripts/image-sources.sh", "fetch",
           env=dict(ENV, SEALED_CACHE=cache, OVMF_WORKDIR=ovmf, SEALED_SOURCE_ARCHIVE=arch))
    check(p.returncode == 0, p.stderr[-1500:])
    check(len(os.listdir(os.path.join(cache, "buildroot", "debs"))) == len(locked()))
    # an archive that lacks a locked .deb is refused, naming it
    victim = sorted(n for n in sums if n.startswith("debs/gzip_"))[0]
    os.rename(os.path.join(arch, victim), os.path.join(OUT, "gzip.deb"))
    shutil.rmtree(cache, ignore_errors=True)
    p = sh("unshare", "-n", "scripts/buildroot.py", "download", os.path.join(cache, "d"),
           env=dict(ENV, SEALED_SOURCE_ARCHIVE=arch))
    check(p.returncode != 0 and "gzip" in p.stderr and "no .deb with the locked sha256" in p.stderr, p.stderr)
    shutil.rmtree(arch, ignore_errors=True)


@case
def the_flake_fetches_exactly_the_locked_debs():
    inputs = json.load(open(os.path.join(ROOT, "nix", "debs.json")))
    check(inputs["lock_sha256"] == sha256(LOCK), "nix/debs.json is older than the lock: make lock-update")
    root = {d["name"]: (d["arch"], d["version"], d["sha256"]) for d in inputs["debs"] if d["root"]}
    check(root == locked(), "the flake's root .debs differ from image/buildroot.lock")
    for d in inputs["debs"]:
        check(d["url"].startswith("http://deb.debian.org/debian") and d["url"].endswith(".deb"), d["url"])
    others = {d["sha256"] for d in inputs["debs"] if not d["root"]}
    for lock in ("kernel-source.lock", "kernel.lock", "stub.lock"):
        check(re.search(r"^sha256=(\S+)$", open(os.path.join(ROOT, "image", lock)).read(), re.M).group(1) in others, lock)
    flake = open(os.path.join(ROOT, "flake.nix")).read()
    check("builtins.readFile ./nix/debs.json" in flake and "sha256 = d.sha256" in flake, "flake.nix reads the inputs")
    lock = json.load(open(os.path.join(ROOT, "flake.lock")))
    check(re.fullmatch(r"[0-9a-f]{40}", lock["nodes"]["nixpkgs"]["locked"]["rev"]), "nixpkgs is pinned")
    if shutil.which("nix-instantiate"):
        p = sh("nix-instantiate", "--parse", "flake.nix")
        check(p.returncode == 0, p.stderr)
        # Nix itself reads the generated list: as many .debs as the lock, plus the three pinned ones
        p = sh("nix-instantiate", "--eval", "-E", "builtins.length (builtins.filter (d: d.root) "
               "(builtins.fromJSON (builtins.readFile ./nix/debs.json)).debs)")
        check(p.returncode == 0 and p.stdout.strip() == str(len(locked())), p.stdout + p.stderr)
    else:
        print("# nix-instantiate is not installed: flake.nix was not parsed by Nix")


@case
def the_containerfile_builds_from_the_root_tarball_with_every_part_of_the_repository():
    text = open(os.path.join(ROOT, "Containerfile")).read()
    check(re.search(r"^FROM scratch AS build$", text, re.M) and "ADD build/container/root.tar /" in text)
    copied = set(re.findall(r"^COPY (\S+) /work/src/", text, re.M))
    tracked = sh("git", "ls-files").stdout.splitlines()
    top = {t.split("/")[0] for t in tracked if "/" in t and not t.startswith(".")} - {"nix"}
    top |= {"Makefile"}
    check(top <= copied, f"not copied into the container: {sorted(top - copied)}")
    check("--network=none" in text and "BUILDROOT=root" in text)


@case
def a_podman_build_through_the_containerfile_gives_the_same_sealed_init_as_the_host():
    """The Containerfile's RUN, with no network, in the pinned root, builds PID 1 (TARGET=
    build/sealed-init: the whole image in a container takes an hour here) byte-identical to the
    host's build/sealed-init. Debian's podman with runc: its default crun refuses this machine's
    cgroup v1 ("cgroups in hybrid mode not supported")."""
    for tool in ("podman", "runc"):
        check(shutil.which(tool), f"{tool} is not installed (scripts/packages/image.txt)")
    p = sh("make", "--no-print-directory", "container-context", timeout=1800)
    check(p.returncode == 0, p.stderr[-2000:])
    out = os.path.join(OUT, "container-out")
    shutil.rmtree(out, ignore_errors=True)
    iid = os.path.join(OUT, "container.iid")
    commit = sh("git", "rev-parse", "HEAD").stdout.strip()
    try:
        p = sh("podman", "--runtime", "runc", "build", "--network=none", "-f", "Containerfile",
               "--build-arg", f"SOURCE_COMMIT={commit}", "--build-arg", "SOURCE_DATE_EPOCH=1700000000",
               "--build-arg", "TARGET=build/sealed-init", "--iidfile", iid,
               "--output", f"type=local,dest={out}", ".", timeout=1800, env=dict(ENV, TMPDIR="/var/tmp"))
        check(p.returncode == 0, (p.stdout + p.stderr)[-3000:])
        host = os.path.join(ROOT, "build", "sealed-init")
        check(sha256(os.path.join(out, "sealed-init")) == sha256(host),
              ("the container's sealed-init differs from the host's", sha256(os.path.join(out, "sealed-init"))))
        print(f"# container and host: sealed-init {sha256(host)}", flush=True)
    finally:
        # the build stage is a multi-hundred-MB image: none is kept between runs
        if os.path.exists(iid):
            sh("podman", "rmi", "-f", open(iid).read().strip())
        sh("podman", "image", "prune", "-f")


os.makedirs(OUT, exist_ok=True)
done()
