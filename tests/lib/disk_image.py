"""The UEFI disk of the image tests (tests/image/test_disk.py, test_reboot.py): a test initramfs
built from a baked config (scripts/build-initramfs.sh), the UKI disk around it (scripts/
build-disk.sh), its build manifest, and a boot of that disk under Debian's OVMF with swtpm (QEMU
TCG). Owns nothing but the directories it is given. Test code only.

    img = build_image(conf_path, out_dir)             # initramfs + disk.raw, qcow2, tar.gz
    g = boot_disk(work, img, Swtpm(dir), port, "serial.log", manufacture=True)
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "attest"))
from service import ROOT  # noqa: E402
from qemu import SerialGuest, ovmf_vtpm_argv  # noqa: E402
from swtpm_lib import start_for_qemu  # noqa: E402
from buildenv import image_append  # noqa: E402

APPEND = image_append()   # the release image's command line (mk/image.mk)
EPOCH = "1700000000"
BOOT_TIMEOUT = 300       # seconds from QEMU start to the service's ready line (TCG, OVMF)
NEEDS = ("qemu-system-x86_64", "qemu-img", "swtpm", "sgdisk", "mdir", "objcopy")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, **kw)


def build_disk(image_dir, append=APPEND):
    p = run(["scripts/build-disk.sh", "--dir", image_dir, "--append", append],
            env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))
    if p.returncode:
        raise RuntimeError("build-disk failed: " + p.stderr[-2000:])
    return p


def manifest(image_dir, append=APPEND):
    p = run(["scripts/image-manifest.sh", "--dir", image_dir, "--append", append])
    if p.returncode:
        raise RuntimeError("image-manifest failed: " + p.stderr[-2000:])
    return os.path.join(image_dir, "build-manifest.json")


def build_initramfs(conf, out, extra=()):
    """scripts/build-initramfs.sh --config conf --out out [extra...] (fixed SOURCE_DATE_EPOCH)."""
    p = run(["scripts/build-initramfs.sh", "--config", conf, "--out", out] + list(extra),
            env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH))
    if p.returncode:
        raise RuntimeError("build-initramfs failed: " + p.stderr[-2000:])
    return p


def boot_disk(work, image_dir, tpm, port, log_name, disk_first=True, manufacture=False, forwards=(),
              monitor=None, name="disk"):
    """Starts swtpm on tpm's state directory (manufactured first when asked; otherwise the TPM of
    the previous boot, its NV and seeds kept) and QEMU booting image_dir's qcow2 (snapshot=on: the
    disk is never written) under OVMF with a fresh variable store; 127.0.0.1:port reaches the
    guest's 8443, forwards more (host, guest) pairs. Returns the started SerialGuest (tpm.proc is
    the swtpm, which ends with QEMU)."""
    if manufacture:
        tpm.manufacture()
    sock = os.path.join(work, "swtpm.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    start_for_qemu(tpm, sock)
    # bootindex=0: the disk is the first boot option (as on a cloud); without it OVMF tries the
    # NIC's PXE first and PCR 4 also records that attempt's return
    argv = ovmf_vtpm_argv(work, sock, [
        "-drive", f"file={os.path.join(image_dir, 'sealed-login.qcow2')},format=qcow2,if=none,id=d,snapshot=on",
        "-device", "virtio-blk-pci,drive=d" + (",bootindex=0" if disk_first else "")], port,
        forwards=forwards, monitor=monitor)
    return SerialGuest(argv, os.path.join(work, log_name), name=name, monitor=monitor).start()
