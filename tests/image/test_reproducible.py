"""Reproducibility of the static image across build directories: the tree is copied to another
path, the static service (musl) and sealed-init are built there, and both trees' initramfs builds
(same SOURCE_DATE_EPOCH, same config, same pinned kernel) and UEFI disks (UKI, disk.raw, qcow2,
GCE tarball) must be byte-identical. Runs when the musl
dependencies are already built (build/musl/sealed-login exists); building them takes minutes
(make sealed-login-static)."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import case, check, done   # noqa: E402
from service import OUT, ROOT       # noqa: E402
from buildenv import image_append   # noqa: E402

WORK = os.path.join(OUT, "image-repro")
COPY = os.path.join(WORK, "elsewhere", "tree")
EPOCH = "1700000000"
APPEND = image_append()   # the release image's command line (mk/image.mk)


def make(tree, *targets):
    p = subprocess.run(["make", "-s"] + list(targets), cwd=tree, capture_output=True, text=True)
    check(p.returncode == 0, p.stderr[-1500:])


def image(tree, out):
    p = subprocess.run([os.path.join(tree, "scripts", "build-initramfs.sh"), "--login", "build/musl/sealed-login",
                        "--out", out], cwd=tree, capture_output=True, text=True,
                       env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))
    check(p.returncode == 0, p.stderr[-1500:])
    p = subprocess.run([os.path.join(tree, "scripts", "build-disk.sh"), "--dir", out, "--append", APPEND],
                       cwd=tree, capture_output=True, text=True, env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))
    check(p.returncode == 0, p.stderr[-1500:])
    return open(os.path.join(out, "SHA256SUMS")).read()


@case
def static_image_is_identical_when_built_in_another_directory():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(COPY)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for f in files.decode().split("\0"):
        if f and os.path.isfile(os.path.join(ROOT, f)):
            os.makedirs(os.path.dirname(os.path.join(COPY, f)) or COPY, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, f), os.path.join(COPY, f))
    make(ROOT, "sealed-login-static", "build/sealed-init")
    make(COPY, "sealed-login-static", "build/sealed-init")
    a = image(ROOT, os.path.join(WORK, "here"))
    b = image(COPY, os.path.join(WORK, "there"))
    check(a == b, (a, b))
    print("# " + a.replace("\n", "\n# ").rstrip("# \n"), flush=True)


# The musl dependencies build once (about 4 minutes) and are cached under ~/.cache/sealed-login;
# when they cannot be built here (e.g. a pinned Debian source has left the archive) this test
# fails and says why, rather than passing without having run.
if not os.path.exists(os.path.join(ROOT, "build", "musl", "sealed-login")):
    log = os.path.join(os.environ.get("SEALED_TEST_OUT", "/tmp"), "sealed-login-static.log")
    with open(log, "w") as f:
        r = subprocess.run(["make", "-C", ROOT, "sealed-login-static"], stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print("not ok 1 - static musl service builds (see %s)" % log)
        for line in open(log).read().splitlines()[-15:]:
            print("  " + line)
        sys.exit(1)
try:
    done()
finally:
    shutil.rmtree(COPY, ignore_errors=True)
