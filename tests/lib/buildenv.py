"""What the image tests share about the build environment: the system PATH the image build runs
with, the packages image/buildroot.lock pins, and a file's sha256."""
import hashlib
import os

from service import ROOT

LOCK = os.path.join(ROOT, "image", "buildroot.lock")
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def locked():
    """{package: (architecture, version, deb sha256)} from the lock's `deb` lines."""
    out = {}
    for line in open(LOCK):
        f = line.split("#", 1)[0].split()
        if f and f[0] == "deb":
            out[f[1]] = (f[2], f[3], f[4])
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
