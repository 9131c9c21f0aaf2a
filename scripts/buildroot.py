#!/usr/bin/env python3
"""buildroot.py: the image's build environment, pinned (image/buildroot.lock) and checked.

The lock lists every package of the build environment (the packages in image/buildroot.packages
closed over Depends and Pre-Depends) as name, architecture, version and the sha256 of its .deb,
plus the sha256 of the CA bundle the image copies and the edk2 source the OVMF is built from.

  scripts/buildroot.py update            write image/buildroot.lock from apt's candidates (the mirror)
  scripts/buildroot.py check [--admindir DIR] [--ca-bundle FILE] [--exact]
                                         exit 1 naming every package whose installed version (in the
                                         dpkg database at DIR, default the host's) differs from the lock;
                                         --exact: also every installed package the lock does not list
  scripts/buildroot.py outdated          list locked packages the mirror (bookworm-security,
                                         bookworm-updates) has updated since; information only
  scripts/buildroot.py record [--admindir DIR] [--ca-bundle FILE] [--mode lock|host|root]
                                         the manifest's build_environment as JSON
  scripts/buildroot.py key [--admindir DIR]
                                         a cache key for what the root holds (16 hex digits)
  scripts/buildroot.py download DIR      fetch every locked .deb into DIR, each checked against the lock
  scripts/buildroot.py ca-bundle         the image's CA bundle, made from the locked ca-certificates
                                         .deb (never the machine's); prints its cached path
  scripts/buildroot.py nix-inputs        nix/debs.json (the flake's fixed-output .deb fetches) from the locks
  scripts/buildroot.py sync [--debs DIR] install the locked versions newer than the host's (never a
                                         downgrade), from the mirror or from the .deb files in DIR

Owns image/buildroot.lock only. scripts/buildroot-root.sh makes a root of exactly these packages
(mmdebstrap from a local repository, no network) and runs make image BUILDROOT=root inside it;
BUILDROOT=lock builds on the host and refuses a host that differs (docs/image.md).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "image", "buildroot.packages")
LOCK = os.path.join(ROOT, "image", "buildroot.lock")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
OVMF_SCRIPT = os.path.join(ROOT, "scripts", "ovmf-amdsev.sh")
# the tools whose versions the manifest records: command, how to ask, which line
TOOLS = [("gcc", ["gcc", "--version"]), ("binutils", ["ld", "--version"]),
         ("musl-gcc", ["musl-gcc", "--version"]), ("gzip", ["gzip", "--version"]),
         ("make", ["make", "--version"]), ("python3", ["python3", "--version"]),
         ("perl", ["perl", "-e", "print qq{perl $^V\\n}"]), ("nasm", ["nasm", "-v"]),
         ("iasl", ["iasl", "-v"])]


def die(msg):
    sys.stderr.write(f"buildroot: {msg}\n")
    sys.exit(2)


def run(cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    if check and p.returncode != 0:
        die(f"{' '.join(cmd)} failed: {p.stderr.strip()[:300]}")
    return p.stdout


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def installed(admindir=None):
    """{name: (arch, version, depends-field, essential)} of the packages dpkg has installed."""
    cmd = ["dpkg-query", "-W", "-f=${Package}\t${Architecture}\t${Version}\t${db:Status-Abbrev}\t${Pre-Depends}, ${Depends}\t${Provides}\t${Essential}\n"]
    if admindir:
        cmd.insert(1, f"--admindir={admindir}")
    pkgs, provides = {}, {}
    for line in run(cmd).splitlines():
        name, arch, ver, status, deps, prov, ess = line.split("\t")
        if not status.startswith("ii"):
            continue
        pkgs[name] = (arch, ver, deps, ess == "yes")
        for p in prov.split(","):
            p = p.strip().split(" ")[0]
            if p:
                provides.setdefault(p, []).append(name)
    return pkgs, provides


def seeds():
    words = []
    for line in open(SEEDS):
        words += line.split("#", 1)[0].split()
    return words


def closure(pkgs, provides):
    """The seeds and the installed Essential:yes packages (what mmdebstrap puts in every root, so
    that the lock lists every package of the build root) closed over Pre-Depends and Depends among
    installed packages (an alternative 'a | b' takes whichever is installed; a virtual package its
    installed providers)."""
    todo, seen = list(seeds()) + sorted(n for n, p in pkgs.items() if p[3]), set()
    while todo:
        name = todo.pop().split(":")[0]
        if name in seen:
            continue
        if name not in pkgs:
            if name in provides:
                todo += provides[name]
                continue
            die(f"{name} is not installed on the host (make deps)")
        seen.add(name)
        for dep in pkgs[name][2].split(","):
            alts = [a.strip().split(" ")[0].split(":")[0] for a in dep.split("|") if a.strip()]
            for a in alts:
                if a in pkgs or a in provides:
                    todo.append(a)
                    break
    return sorted(seen)


def spec(name, arch, ver=None):
    s = name if arch == "all" else f"{name}:{arch}"
    return f"{s}={ver}" if ver else s


def apt_sha256s(items):
    """{(name, arch, version): sha256 of the .deb} for [(name, arch, version)], in one apt-cache call."""
    out = run(["apt-cache", "show"] + [spec(*i) for i in items], check=False)
    shas = {}
    for rec in out.split("\n\n"):
        f = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", rec, re.M))
        if "Package" in f and "SHA256" in f:
            shas[(f["Package"], f.get("Architecture"), f["Version"])] = f["SHA256"]
    return shas


def candidates(items):
    """{name: candidate version} for [(name, arch)], in one apt-cache call; with each
    candidate's origin (the suite that serves it)."""
    out = run(["apt-cache", "policy"] + [spec(n, a) for n, a in items], check=False)
    cands = {}
    for block in re.split(r"^(?=\S)", out, flags=re.M):
        m = re.match(r"^(\S+?)(?::\w+)?:\n\s+Installed: \S+\n\s+Candidate: (\S+)", block)
        if not m or m.group(2) == "(none)":
            continue
        o = re.search(r"^ (?:\*\*\*| {3}) " + re.escape(m.group(2)) + r" \d+\n\s+\d+ \S+ (\S+)", block, re.M)
        cands[m.group(1)] = (m.group(2), o.group(1) if o else "the mirror")
    return cands


def edk2_version():
    m = re.search(r"^EDK2_VERSION=\$\{EDK2_VERSION:-([^}]+)\}", open(OVMF_SCRIPT).read(), re.M)
    return m.group(1) if m else die(f"no EDK2_VERSION in {OVMF_SCRIPT}")


def edk2_dsc_sha256(ver):
    out = run(["apt-cache", "showsrc", "edk2"], check=False)
    m = re.search(r"^ ([0-9a-f]{64}) \d+ edk2_" + re.escape(ver) + r"\.dsc$", out, re.M)
    return m.group(1) if m else None


def read_lock():
    if not os.path.exists(LOCK):
        die(f"{LOCK} is missing (make lock-update)")
    pkgs, extra = {}, {}
    for line in open(LOCK):
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if f[0] == "deb" and len(f) == 5:
            pkgs[f[1]] = (f[2], f[3], f[4])
        elif f[0] in ("ca-bundle", "source") :
            extra[f[0] if f[0] == "ca-bundle" else f"source {f[1]}"] = f[1:]
        else:
            die(f"{LOCK}: cannot read line: {line.strip()}")
    return pkgs, extra


def cmd_update(args):
    pkgs, provides = installed()
    lines = []
    names = closure(pkgs, provides)
    cands = candidates([(n, pkgs[n][0]) for n in names])
    shas = apt_sha256s([(n, pkgs[n][0], cands[n][0]) for n in names if n in cands])
    for name in names:
        arch = pkgs[name][0]
        ver = cands.get(name, (None,))[0] or die(f"apt has no candidate for {name}")
        sha = shas.get((name, arch, ver)) or die(f"apt-cache show {name}={ver} gives no SHA256")
        if ver != pkgs[name][1]:
            sys.stderr.write(f"buildroot: {name}: locking {ver}, the host has {pkgs[name][1]} (apt-get install {name}={ver})\n")
        lines.append(f"deb {name} {arch} {ver} {sha}")
    ev = edk2_version()
    # the CA bundle is the one the pinned ca-certificates makes in a root of the locked packages,
    # not this machine's (which may hold local CAs: /usr/local/share/ca-certificates)
    with open(LOCK + ".new", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(LOCK + ".new", LOCK)
    ca = sha256_file(ca_bundle_path(check=False))
    dsc = edk2_dsc_sha256(ev) or die(f"apt-cache showsrc edk2={ev} gives no .dsc sha256 (deb-src for trixie: make deps)")
    with open(LOCK, "w") as f:
        f.write("# The image's build environment (scripts/buildroot.py; regenerate with make lock-update):\n"
                "#   deb NAME ARCH VERSION SHA256-OF-THE-.deb   every package of the build root: image/buildroot.packages'\n"
                "#                                              seeds and the Essential:yes set, closed over Depends and Pre-Depends\n"
                "#   ca-bundle SHA256                           /etc/ssl/certs/ca-certificates.crt, copied into the image\n"
                "#   source edk2 VERSION SHA256-OF-THE-.dsc     the edk2 source of the AmdSevX64 OVMF\n"
                "# Changing a line changes what builds the image: make image refuses a build environment\n"
                "# that differs (BUILDROOT=host builds anyway and marks the manifest unpinned).\n")
        f.write("\n".join(lines) + "\n")
        f.write(f"ca-bundle {ca}\n")
        f.write(f"source edk2 {ev} {dsc}\n")
    print(f"{LOCK}: {len(lines)} packages")


def differences(admindir, ca_bundle, exact=False):
    locked, extra = read_lock()
    pkgs, _ = installed(admindir)
    diffs = []
    if exact:   # a root made from the lock holds nothing else
        diffs += [(name, "not locked", f"{pkgs[name][1]} ({pkgs[name][0]})") for name in sorted(set(pkgs) - set(locked))]
    for name, (arch, ver, _sha) in sorted(locked.items()):
        have = pkgs.get(name)
        if have is None:
            diffs.append((name, ver, "not installed"))
        elif have[1] != ver or have[0] != arch:
            diffs.append((name, f"{ver} ({arch})" if have[0] != arch else ver,
                          f"{have[1]} ({have[0]})" if have[0] != arch else have[1]))
    want_ca = extra.get("ca-bundle", [None])[0]
    have_ca = sha256_file(ca_bundle) if ca_bundle and os.path.exists(ca_bundle) else "missing"
    if want_ca != have_ca and ca_bundle is not None:
        diffs.append(("CA bundle " + ca_bundle, f"sha256 {want_ca}", f"sha256 {have_ca}"))
    # the tools themselves: each must be a file of a locked package (not, say, a python3 from
    # pyenv earlier on PATH); make image runs with PATH=/usr/sbin:/usr/bin:/sbin:/bin
    if not admindir:
        for name, cmd in TOOLS:
            path = shutil.which(cmd[0])
            owner = tool_owner(path) if path else None
            if path and owner not in locked:
                diffs.append((f"{cmd[0]} on PATH", "a file of a locked package",
                              f"{path}" + (f" (from {owner})" if owner else " (from no package)")))
    ev = extra.get("source edk2")
    if ev and ev[1] != edk2_version():
        diffs.append(("edk2 source (scripts/ovmf-amdsev.sh)", ev[1], edk2_version()))
    return diffs


def tool_owner(path):
    """The package that installed PATH (symlinks resolved, /bin -> /usr/bin merged), or None."""
    real = os.path.realpath(path)
    for cand in dict.fromkeys([path, real, real.replace("/usr/bin/", "/bin/"), real.replace("/bin/", "/usr/bin/", 1)]):
        p = subprocess.run(["dpkg-query", "-S", cand], capture_output=True, text=True)
        if p.returncode == 0 and ":" in p.stdout:
            return p.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def ca_bundle_path(check=True):
    """The CA bundle the image carries: the certificates of the locked ca-certificates package,
    concatenated as update-ca-certificates does on a fresh install (the mozilla/*.crt files in C
    sort order, each ending in a newline): the same bytes as a root of the locked packages holds,
    and never this machine's bundle, which may hold local CAs (/usr/local/share/ca-certificates,
    e.g. an egress proxy's). Cached under ~/.cache/sealed-login/ca-bundle/; returns the path."""
    locked, extra = read_lock()
    if "ca-certificates" not in locked:
        die("ca-certificates is not in image/buildroot.lock")
    arch, ver, sha = locked["ca-certificates"]
    cache = os.path.join(os.environ.get("SEALED_CACHE") or os.path.expanduser("~/.cache/sealed-login"),
                         "ca-bundle", f"ca-certificates_{ver}")
    out = os.path.join(cache, "ca-certificates.crt")
    if not os.path.exists(out):
        os.makedirs(cache, exist_ok=True)
        debs = [os.path.join(cache, f) for f in os.listdir(cache) if f.endswith(".deb")]
        archive = os.environ.get("SEALED_SOURCE_ARCHIVE")
        if not debs and archive:
            for d in (archive, os.path.join(archive, "debs")):
                if os.path.isdir(d):
                    debs = [os.path.join(d, f) for f in os.listdir(d)
                            if f.startswith("ca-certificates_") and f.endswith(".deb") and sha256_file(os.path.join(d, f)) == sha]
                    if debs:
                        break
        if not debs:
            p = subprocess.run(["apt-get", "download", "-q", f"ca-certificates={ver}"], cwd=cache, capture_output=True, text=True)
            if p.returncode != 0:
                die(f"apt-get download ca-certificates={ver} failed: {p.stderr.strip()[:200]}")
            debs = [os.path.join(cache, f) for f in os.listdir(cache) if f.endswith(".deb")]
        deb = next((d for d in debs if sha256_file(d) == sha), None) or die(f"no ca-certificates {ver} .deb with the locked sha256")
        tree = os.path.join(cache, "root")
        shutil.rmtree(tree, ignore_errors=True)
        run(["dpkg-deb", "-x", deb, tree])
        base = os.path.join(tree, "usr", "share", "ca-certificates")
        certs = []
        for dirpath, _dirs, files in os.walk(base):
            certs += [os.path.relpath(os.path.join(dirpath, f), base) for f in files if f.endswith(".crt")]
        data = b""
        for rel in sorted(certs, key=lambda r: r.encode()):
            b = open(os.path.join(base, rel), "rb").read()
            data += b if b.endswith(b"\n") or not b else b + b"\n"
        with open(out + ".new", "wb") as f:
            f.write(data)
        os.replace(out + ".new", out)
        shutil.rmtree(tree, ignore_errors=True)
    want = extra.get("ca-bundle", [None])[0]
    if check and want and sha256_file(out) != want:
        die(f"the CA bundle made from ca-certificates {ver} ({sha256_file(out)}) is not the lock's ({want})")
    return out


def cmd_ca_bundle(args):
    print(ca_bundle_path())
    return 0


def cmd_check(args):
    admindir = opt(args, "--admindir") or os.environ.get("BUILDROOT_ADMINDIR")
    # the image's CA bundle is made from the locked package (ca-bundle), never copied from the
    # machine: this machine's bundle is compared only when asked (--ca-bundle, e.g. a root's)
    ca = None if "--no-ca-check" in args else opt(args, "--ca-bundle")
    diffs = differences(admindir, ca, exact="--exact" in args)
    where = f"the build root at {admindir}" if admindir else "this machine"
    if not diffs:
        print(f"buildroot: {where} matches image/buildroot.lock")
        return 0
    for name, want, have in diffs:
        sys.stderr.write(f"buildroot: {name}: the lock has {want}, {where} has {have}\n")
    sys.stderr.write(f"buildroot: {len(diffs)} difference(s) from image/buildroot.lock: install the locked versions, "
                     "or make lock-update, or BUILDROOT=host (the manifest then says 'host (unpinned)')\n")
    return 1


def cmd_outdated(args):
    locked, _ = read_lock()
    n = 0
    cands = candidates([(name, arch) for name, (arch, _v, _s) in locked.items()])
    for name, (arch, ver, _sha) in sorted(locked.items()):
        cand, origin = cands.get(name, (None, None))
        if cand and cand != ver and subprocess.run(["dpkg", "--compare-versions", cand, "gt", ver]).returncode == 0:
            print(f"lock-check: {name} {ver} is locked; {origin} has {cand}")
            n += 1
    print(f"lock-check: {n} of {len(locked)} locked packages have newer versions in the mirror"
          + (" (make lock-update takes them; the image's measurements change)" if n else ""))
    # the other pins: Debian source packages of the static service, the kernel source, the stub
    newer = lambda a, b: subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0
    for line in open(os.path.join(ROOT, "image", "musl-deps.lock")):
        f = line.split("#", 1)[0].split()
        if len(f) != 3:
            continue
        vers = re.findall(r"^Version: (\S+)$", run(["apt-cache", "showsrc", f[0]], check=False), re.M)
        same_suite = [v for v in vers if v.split("deb")[-1][:2] == f[1].split("deb")[-1][:2] and newer(v, f[1])]
        if same_suite:
            print(f"lock-check: image/musl-deps.lock pins source {f[0]} {f[1]}; the mirror's Sources index lists {max(same_suite, key=vkey)} (apt-get source tells whether it can be fetched)")
    for name in ("kernel-source.lock", "kernel.lock", "stub.lock"):
        kv = dict(l.strip().split("=", 1) for l in open(os.path.join(ROOT, "image", name)) if "=" in l and not l.startswith("#"))
        cand = candidates([(kv["package"], "amd64")]).get(kv["package"], (None, None))
        if cand[0] and newer(cand[0], kv["version"]):
            print(f"lock-check: image/{name} pins {kv['package']} {kv['version']}; {cand[1]} has {cand[0]}")
    return 0


def vkey(v):
    """A sort key for Debian versions (through dpkg's own comparison)."""
    class K:
        def __init__(self, v): self.v = v
        def __lt__(self, o): return subprocess.run(["dpkg", "--compare-versions", self.v, "lt", o.v]).returncode == 0
    return K(v)


def root_key(admindir=None):
    locked, _ = read_lock()
    pkgs, _ = installed(admindir)
    text = "".join(f"{n} {pkgs[n][0]} {pkgs[n][1]}\n" if n in pkgs else f"{n} - -\n" for n in sorted(locked))
    return hashlib.sha256(text.encode()).hexdigest()


def tool_versions():
    out = {}
    for name, cmd in TOOLS:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
            text = (p.stdout + p.stderr).strip().splitlines()
            line = next((l for l in text if l.strip()), "")
            if name == "iasl":
                line = next((l.strip(" *") for l in text if "version" in l.lower()), line)
            out[name] = {"version": line.strip(), "path": shutil.which(cmd[0])}
        except FileNotFoundError:
            out[name] = None
    pkgs, _ = installed()
    out["musl"] = pkgs["musl"][1] if "musl" in pkgs else None
    return out


def cmd_record(args):
    admindir = opt(args, "--admindir") or os.environ.get("BUILDROOT_ADMINDIR")
    mode = opt(args, "--mode") or "lock"
    inroot = mode == "root"
    # inside the root its own bundle must be the lock's (the one the image carries, ca-bundle);
    # on the host the machine's bundle does not enter the image and is not compared
    diffs = differences(admindir, opt(args, "--ca-bundle") or (CA_BUNDLE if inroot else None), exact=inroot)
    if mode in ("lock", "root") and diffs:
        die("the build environment differs from image/buildroot.lock (scripts/buildroot.py check)")
    if inroot and os.environ.get("SEALED_IN_ROOT") != "1":
        die("--mode root: not inside the pinned root (scripts/buildroot-root.sh run)")
    rec = {
        "toolchain": "pinned root" if inroot else
                     "host, matching image/buildroot.lock" if not diffs else "host (unpinned)",
        "lock_sha256": sha256_file(LOCK),
        "root_sha256": root_key(admindir),
        "differences_from_lock": [{"item": n, "locked": w, "used": h} for n, w, h in diffs],
        "tools": tool_versions(),
        "note": "built in a root made from exactly the lock's packages (scripts/buildroot-root.sh), "
                "without network" if inroot else
                "built on the host, not in a root made from the lock's packages (docs/image.md)",
    }
    json.dump(rec, sys.stdout, indent=2)
    print()
    return 0


def cmd_key(args):
    print(root_key(opt(args, "--admindir"))[:16])
    return 0


def cmd_download(args):
    """Every locked .deb into DIR, checked against the lock: copied from $SEALED_SOURCE_ARCHIVE/debs
    when that is set (a release's source archive: no mirror needed), else fetched with one
    apt-get download for all the missing ones."""
    if len(args) != 1:
        die("download DIR")
    dest = args[0]
    os.makedirs(dest, exist_ok=True)
    locked, _ = read_lock()
    archive = os.environ.get("SEALED_SOURCE_ARCHIVE")

    def have(name, sha):
        return any(sha256_file(os.path.join(dest, f)) == sha for f in os.listdir(dest)
                   if f.startswith(f"{name}_") and f.endswith(".deb"))
    missing = [(n, a, v, s) for n, (a, v, s) in sorted(locked.items()) if not have(n, s)]
    if missing and archive:
        src = os.path.join(archive, "debs")
        for name, arch, ver, sha in missing:
            f = [x for x in os.listdir(src) if x.startswith(f"{name}_") and x.endswith(".deb")
                 and sha256_file(os.path.join(src, x)) == sha] if os.path.isdir(src) else []
            if not f:
                die(f"{name} {ver}: no .deb with the locked sha256 in {src}")
            shutil.copyfile(os.path.join(src, f[0]), os.path.join(dest, f[0]))
    elif missing:
        specs = [f"{n}={v}" if a == "all" else f"{n}:{a}={v}" for n, a, v, _ in missing]
        p = subprocess.run(["apt-get", "download", "-q"] + specs, cwd=dest, capture_output=True, text=True)
        if p.returncode != 0:
            die(f"apt-get download failed (a locked version gone from the mirror? use a release's source archive, "
                f"SEALED_SOURCE_ARCHIVE=DIR): {p.stderr.strip()[:400]}")
    for name, arch, ver, sha in missing:
        if not have(name, sha):
            die(f"{name} {ver}: the .deb in {dest} does not match the lock's sha256")
    print(f"{dest}: {len(locked)} locked .deb files, each matching image/buildroot.lock")
    return 0


NIX_INPUTS = os.path.join(ROOT, "nix", "debs.json")


def cmd_nix_inputs(args):
    """nix/debs.json for flake.nix: every locked .deb (and the .debs of image/kernel-source.lock,
    kernel.lock, stub.lock) with its URL in Debian's pool and the lock's sha256, so that the flake's
    fixed-output fetches are the lock, generated from it (tests/image/test_flake.py compares)."""
    locked, extra = read_lock()
    specs = [(n, a, v, s) for n, (a, v, s) in sorted(locked.items())]
    for name in ("kernel-source.lock", "kernel.lock", "stub.lock"):
        kv = dict(l.strip().split("=", 1) for l in open(os.path.join(ROOT, "image", name)) if "=" in l and not l.startswith("#"))
        specs.append((kv["package"], "amd64", kv["version"], kv["sha256"]))
    out = run(["apt-get", "download", "--print-uris"] + [spec(n, a, v) for n, a, v, _ in specs], check=False)
    urls = {}
    for line in out.splitlines():
        m = re.match(r"^'(\S+)' \S+ \d+ SHA256:([0-9a-f]{64})$", line)
        if m:
            urls[m.group(2)] = m.group(1).replace("%7e", "~").replace("%3a", ":")
    debs = []
    for name, arch, ver, sha in specs:
        if sha not in urls:
            die(f"apt knows no URL for {name} {ver} with the locked sha256 (superseded? the source archive has it)")
        debs.append({"name": name, "arch": arch, "version": ver, "sha256": sha, "url": urls[sha],
                     "root": name in locked})
    os.makedirs(os.path.dirname(NIX_INPUTS), exist_ok=True)
    with open(NIX_INPUTS, "w") as f:
        json.dump({"generated_by": "scripts/buildroot.py nix-inputs from image/buildroot.lock and image/{kernel-source,kernel,stub}.lock; do not edit",
                   "lock_sha256": sha256_file(LOCK), "edk2": extra.get("source edk2"), "debs": debs}, f, indent=1)
        f.write("\n")
    print(f"{NIX_INPUTS}: {len(debs)} .deb inputs")
    return 0


def cmd_sync(args):
    """Install the locked versions that are newer than the host's (never a downgrade), from the
    mirror or, with --debs DIR, from a source archive's .deb files."""
    debs = opt(args, "--debs")
    locked, _ = read_lock()
    pkgs, _ = installed()
    want = []
    for name, (arch, ver, sha) in sorted(locked.items()):
        have = pkgs.get(name, (None, None))[1]
        if have == ver:
            continue
        if have and subprocess.run(["dpkg", "--compare-versions", ver, "lt", have]).returncode == 0:
            sys.stderr.write(f"buildroot: {name}: the host has {have}, newer than the locked {ver}: not downgrading\n")
            continue
        want.append((name, arch, ver, sha))
    if not want:
        print("buildroot: nothing to install")
        return 0
    if debs:
        files = []
        for name, arch, ver, sha in want:
            f = [os.path.join(debs, f) for f in os.listdir(debs) if f.startswith(f"{name}_") and f.endswith(".deb")]
            f = [x for x in f if sha256_file(x) == sha]
            if not f:
                die(f"{name} {ver}: no .deb with the locked sha256 in {debs}")
            files.append(f[0])
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + files
    else:
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + [spec(n, a, v) for n, a, v, _ in want]
    print(f"buildroot: installing the locked versions of {len(want)} package(s): " + " ".join(w[0] for w in want))
    p = subprocess.run(cmd, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"buildroot: apt-get failed (the mirror may have dropped a locked version; "
                         f"a release's source archive has them): {p.stderr.strip()[-400:]}\n")
        return 1
    return 0


def opt(args, name):
    if name in args:
        i = args.index(name)
        if i + 1 >= len(args):
            die(f"{name} needs a value")
        return args[i + 1]
    return None


def main():
    cmds = {"update": cmd_update, "check": cmd_check, "outdated": cmd_outdated, "record": cmd_record,
            "key": cmd_key, "ca-bundle": cmd_ca_bundle, "download": cmd_download, "sync": cmd_sync,
            "nix-inputs": cmd_nix_inputs}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
