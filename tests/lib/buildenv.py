"""What the image tests share about the build environment: the system PATH the image build runs
with, the packages image/buildroot.lock pins, a file's sha256, and the release image's kernel
command line (mk/image.mk's IMAGE_APPEND: the one every test boots, so that none hard-codes it)."""
import functools
import hashlib
import os
import subprocess

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


@functools.lru_cache(maxsize=None)
def make_var(name):
    """A make variable's value as `make print-NAME` gives it (the Makefile's defaults)."""
    p = subprocess.run(["make", "-s", "--no-print-directory", f"print-{name}"], cwd=ROOT,
                       capture_output=True, text=True, env=dict(os.environ, MAKEFLAGS=""))
    if p.returncode:
        raise RuntimeError(f"make print-{name} failed: {p.stderr[-500:]}")
    return p.stdout.strip()


def image_append():
    """The release image's kernel command line (IMAGE_APPEND in mk/image.mk)."""
    return make_var("IMAGE_APPEND")
