#!/usr/bin/env python3
"""mkcpio.py: writes a deterministic "newc" cpio archive (the initramfs format the Linux kernel
unpacks) from a manifest, and lists one. Owns only the archive bytes: entries sorted by path,
uid/gid 0, one fixed mtime, inode numbers by position, nlink 1 (2 for directories), no hard links.
Never reads anything but the manifest and the files it names.

  mkcpio.py --mtime N --out FILE.cpio MANIFEST     write ("-" reads the manifest from stdin)
  mkcpio.py --list FILE.cpio[.gz]                  print "type mode uid gid mtime ino size path"

Manifest lines (paths without a leading "/", fields separated by single spaces, '#' comments):
  dir   PATH MODE
  file  PATH MODE SOURCE
  slink PATH MODE TARGET
  nod   PATH MODE c|b MAJOR MINOR
MODE is octal permission bits. Every parent directory must be listed too.
"""
import gzip
import os
import stat
import sys

MAGIC = b"070701"
TYPES = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "slink": stat.S_IFLNK, "nod": None}


def die(msg):
    sys.stderr.write("mkcpio: " + msg + "\n")
    sys.exit(1)


def pad4(n):
    return (4 - n % 4) % 4


def header(ino, mode, nlink, mtime, size, rmaj, rmin, name):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rmaj, rmin, len(name) + 1, 0]
    h = MAGIC + b"".join(b"%08X" % f for f in fields)
    return h + name + b"\0" + b"\0" * pad4(len(h) + len(name) + 1)


def parse_manifest(text):
    entries = {}
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split(" ")
        kind = f[0]
        want = {"dir": 3, "file": 4, "slink": 4, "nod": 6}.get(kind)
        if want is None or len(f) != want:
            die(f"manifest line {no}: bad entry: {line}")
        path = f[1]
        if path.startswith("/") or path.endswith("/") or "//" in path or \
                any(c in (".", "..") for c in path.split("/")):
            die(f"manifest line {no}: bad path {path!r}")
        if path in entries:
            die(f"manifest line {no}: duplicate path {path}")
        try:
            perm = int(f[2], 8)
        except ValueError:
            die(f"manifest line {no}: bad mode {f[2]!r}")
        if perm & ~0o7777:
            die(f"manifest line {no}: bad mode {f[2]!r}")
        entries[path] = (kind, perm, f[3:])
    for path in entries:
        parent = path.rpartition("/")[0]
        if parent and entries.get(parent, ("",))[0] != "dir":
            die(f"{path}: parent directory {parent} is not in the manifest")
    return entries


def write(entries, mtime, out):
    ino = 0
    with open(out, "wb") as o:
        for path in sorted(entries, key=lambda p: p.encode()):
            kind, perm, rest = entries[path]
            ino += 1
            rmaj = rmin = 0
            data = b""
            nlink = 1
            if kind == "dir":
                mode, nlink = stat.S_IFDIR | perm, 2
            elif kind == "file":
                with open(rest[0], "rb") as f:
                    data = f.read()
                mode = stat.S_IFREG | perm
            elif kind == "slink":
                data, mode = rest[0].encode(), stat.S_IFLNK | perm
            else:
                if rest[0] not in ("c", "b"):
                    die(f"{path}: device type must be c or b")
                mode = (stat.S_IFCHR if rest[0] == "c" else stat.S_IFBLK) | perm
                rmaj, rmin = int(rest[1]), int(rest[2])
            o.write(header(ino, mode, nlink, mtime, len(data), rmaj, rmin, path.encode()))
            o.write(data + b"\0" * pad4(len(data)))
        o.write(header(0, 0, 1, 0, 0, 0, 0, b"TRAILER!!!"))


def listing(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    pos = 0
    while True:
        h = raw[pos:pos + 110]
        if len(h) < 110 or h[:6] != MAGIC:
            die(f"bad header at offset {pos}")
        v = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = v[1], v[6], v[11]
        name = raw[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += pad4(pos)
        if name == "TRAILER!!!":
            return
        kind = {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFLNK: "slink"}.get(stat.S_IFMT(mode), "nod")
        print(f"{kind} {stat.S_IMODE(mode):04o} {v[2]} {v[3]} {v[5]} {v[0]} {size} {name}")
        pos += size
        pos += pad4(pos)


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        listing(argv[2])
        return
    if len(argv) != 6 or argv[1] != "--mtime" or argv[3] != "--out":
        die("usage: mkcpio.py --mtime N --out FILE MANIFEST | --list FILE")
    text = sys.stdin.read() if argv[5] == "-" else open(argv[5]).read()
    write(parse_manifest(text), int(argv[2]), argv[4])


if __name__ == "__main__":
    main(sys.argv)
