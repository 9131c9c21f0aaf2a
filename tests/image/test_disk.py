"""The UEFI disk image (scripts/build-disk.sh, docs/image.md): a GPT disk whose only partition is an
ESP holding one file, a UKI made of Debian's pinned systemd-stub, our kernel, initramfs and command
line. Checked like a reviewer would: the GPT and FAT read back by independent readers (our own GPT
parse with CRCs, sgdisk, mtools), the UKI's sections are exactly the image's bytes, the qcow2 (OCI)
and tar.gz (GCE) hold the same disk, a rebuild elsewhere gives the same bytes, bad input fails
clearly. Then the disk boots: Debian's OVMF (no -kernel: the firmware finds \\EFI\\BOOT\\BOOTX64.EFI)
under QEMU (TCG) with swtpm; a whole login through the fake PayPal gives a result whose tpm2 quote
`sealed-verify --manifest` matches against the manifest's uefi-disk-vtpm PCRs (4, 9, 11 predicted by
sealed-measure from the UKI alone), and a manifest for a different command line does not. Booted
again with the NIC's PXE tried first, PCR 4 differs from the exact value, and sealed-verify accepts
it by the event log only because it records exactly the manifest's two applications (UKI, kernel);
manifests listing another kernel, one application more or one fewer are refused."""
import base64
import hashlib
import json
import os
import shutil
import struct
import sys
import tarfile
import time
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "attest"))
from tap import case, check, done                # noqa: E402
from service import OUT, ROOT, Service, jws_from_page  # noqa: E402
from buildenv import sha256_file as sha256  # noqa: E402
from swtpm_lib import Swtpm  # noqa: E402
from disk_image import APPEND, BOOT_TIMEOUT, EPOCH, NEEDS, boot_disk, build_disk, build_initramfs, manifest, run  # noqa: E402

WORK = os.path.join(OUT, "disk")
ESP_TYPE = uuid.UUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
state = {}

for need in NEEDS:
    if not shutil.which(need):
        print(f"not ok 1 - {need} installed (make deps)")
        sys.exit(1)


class DiskService(Service):
    """The fake PayPal on the host; the service inside our disk image, booted by OVMF with a vTPM."""

    def start_service(self):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        conf = os.path.join(WORK, "disk.conf")
        open(conf, "w").write(self.guest_config())
        self.img = os.path.join(WORK, "image")
        build_initramfs(conf, self.img)
        t0 = time.monotonic()
        self.disk_out = build_disk(self.img).stdout
        self.disk_s = time.monotonic() - t0
        self.manifest = manifest(self.img)
        self.guest = None

    def boot(self, disk_first=True):
        if self.guest:
            self.guest.stop()
            self.tpm.stop()
        self.tpm = Swtpm(os.path.join(WORK, "tpm"))
        self.guest = boot_disk(WORK, self.img, self.tpm, self.port,
                               "serial.log" if disk_first else "serial-pxe-first.log", disk_first, manufacture=True)
        self.guest.wait_for(r"^sealed-login: serving https://", BOOT_TIMEOUT)
        self.boot_s = time.monotonic() - self.guest.t0

    def __exit__(self, *a):
        if self.guest:
            self.guest.stop()
            self.tpm.stop()
        self.fake.terminate()
        self.fake.wait(5)
        self.fake_log.close()


def read_gpt(path):
    """(disk GUID, [(type GUID, partition GUID, first LBA, last LBA, name)]) with every CRC checked."""
    with open(path, "rb") as f:
        mbr = f.read(512)
        hdr = f.read(512)
        check(mbr[510:512] == b"\x55\xaa" and mbr[450] == 0xEE, "protective MBR")
        check(hdr[:8] == b"EFI PART", "GPT header signature")
        size = struct.unpack_from("<I", hdr, 12)[0]
        crc = struct.unpack_from("<I", hdr, 16)[0]
        check(zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:size]) == crc, "GPT header CRC")
        entries_lba, n, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
        disk_guid = uuid.UUID(bytes_le=hdr[56:72])
        f.seek(entries_lba * 512)
        table = f.read(n * esize)
        check(zlib.crc32(table) == ecrc, "GPT entries CRC")
    parts = []
    for i in range(n):
        e = table[i * esize:(i + 1) * esize]
        if e[:16] == b"\0" * 16:
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        parts.append((uuid.UUID(bytes_le=e[:16]), uuid.UUID(bytes_le=e[16:32]), first, last,
                      e[56:128].decode("utf-16-le").rstrip("\0")))
    return disk_guid, parts


S = None


@case
def the_disk_build_adds_the_uki_and_three_disk_forms_to_the_sums():
    global S
    S = DiskService(users=["alice"], name="disk").__enter__()       # builds; boots later
    print(f"# build-disk (UKI, ESP, GPT, qcow2, tar.gz): {S.disk_s:.1f} s", flush=True)
    sums = dict(reversed(line.split()) for line in open(os.path.join(S.img, "SHA256SUMS")))
    want = {"initramfs.cpio.gz", "vmlinuz", "sealed-login.efi", "disk.raw", "sealed-login.qcow2", "sealed-login-gcp.tar.gz"}
    check(set(sums) == want, sums)
    for name, h in sums.items():
        check(sha256(os.path.join(S.img, name)) == h, name)
    check(os.path.getsize(os.path.join(S.img, "disk.raw")) == 1 << 30, "GCE imports whole-GB raw disks")
    for name in ("sealed-login.qcow2", "sealed-login-gcp.tar.gz"):
        print(f"# {name}: {os.path.getsize(os.path.join(S.img, name)) / 1e6:.1f} MB", flush=True)


@case
def the_disk_is_a_gpt_with_one_esp_holding_only_the_uki():
    raw = os.path.join(S.img, "disk.raw")
    disk_guid, parts = read_gpt(raw)
    check(len(parts) == 1, parts)
    ptype, pguid, first, last, name = parts[0]
    check(ptype == ESP_TYPE and first == 2048 and name == "ESP", parts)
    check(str(disk_guid).startswith("5e41ed10") and str(pguid).startswith("5e41ed10"), "fixed GUIDs, not random")
    p = run(["sgdisk", "--verify", raw])
    check(p.returncode == 0 and "No problems found" in p.stdout, p.stdout + p.stderr)
    img = f"{raw}@@{first * 512}"
    p = run(["mdir", "-/", "-b", "-i", img, "::/"], env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    check(p.returncode == 0, p.stderr)
    files = sorted(ln for ln in p.stdout.split() if not ln.endswith("/"))
    check(files == ["::/EFI/BOOT/BOOTX64.EFI"], p.stdout)
    out = os.path.join(WORK, "bootx64.efi")
    p = run(["mcopy", "-n", "-i", img, "::/EFI/BOOT/BOOTX64.EFI", out], env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    check(p.returncode == 0 and sha256(out) == sha256(os.path.join(S.img, "sealed-login.efi")), p.stderr)
    esp = os.path.join(WORK, "esp.img")          # fsck.fat takes no offset: check a copy of the partition
    with open(raw, "rb") as f, open(esp, "wb") as o:
        f.seek(first * 512)
        o.write(f.read((last - first + 1) * 512))
    p = run(["fsck.fat", "-n", "-v", esp])
    check(p.returncode == 0 and "32 bit entries" in p.stdout and f"{first} hidden sectors" in p.stdout, p.stdout[-1500:] + p.stderr)
    os.unlink(esp)


@case
def the_uki_sections_are_exactly_the_image_and_its_command_line():
    d = os.path.join(WORK, "sections")
    os.makedirs(d, exist_ok=True)
    efi = os.path.join(S.img, "sealed-login.efi")
    args = []
    for s in ("linux", "initrd", "cmdline", "osrel"):
        args += ["--dump-section", f".{s}={d}/{s}"]
    p = run(["objcopy"] + args + [efi, os.path.join(d, "rest.efi")])
    check(p.returncode == 0, p.stderr)
    check(sha256(f"{d}/linux") == sha256(os.path.join(S.img, "vmlinuz")), ".linux is vmlinuz")
    check(sha256(f"{d}/initrd") == sha256(os.path.join(S.img, "initramfs.cpio.gz")), ".initrd is the initramfs")
    check(open(f"{d}/cmdline").read() == APPEND, open(f"{d}/cmdline").read())
    osrel = open(f"{d}/osrel").read()
    check("ID=sealed-login\n" in osrel and "VERSION" not in osrel, osrel)
    hdr = open(efi, "rb").read(4096)
    pe = struct.unpack_from("<I", hdr, 0x3C)[0]
    check(struct.unpack_from("<I", hdr, pe + 8)[0] == 0, "PE TimeDateStamp is the stub's 0, not the build time")


@case
def the_qcow2_and_the_gce_tarball_hold_the_same_disk():
    raw = os.path.join(S.img, "disk.raw")
    q = os.path.join(S.img, "sealed-login.qcow2")
    info = json.loads(run(["qemu-img", "info", "--output=json", q]).stdout)
    check(info["format"] == "qcow2" and info["virtual-size"] == 1 << 30, info)
    p = run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, q])
    check(p.returncode == 0, p.stdout + p.stderr)
    tgz = os.path.join(S.img, "sealed-login-gcp.tar.gz")
    with open(tgz, "rb") as f:
        check(f.read(10)[4:8] == b"\0\0\0\0", "gzip header without a timestamp (gzip -n)")
    with tarfile.open(tgz, "r:gz") as t:
        members = t.getmembers()
        check([m.name for m in members] == ["disk.raw"], [m.name for m in members])
        m = members[0]
        check(m.size == 1 << 30 and m.uid == 0 and m.gid == 0 and m.mtime == int(EPOCH), (m.size, m.uid, m.mtime))
        check(m.issparse(), "stored sparse (GCE's documented oldgnu format)")
        h = hashlib.sha256()
        f = t.extractfile(m)
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    check(h.hexdigest() == sha256(raw), "the tarball's disk.raw is disk.raw")


@case
def a_rebuild_in_another_directory_gives_the_same_bytes():
    other = os.path.join(WORK, "elsewhere", "image")
    shutil.rmtree(os.path.dirname(other), ignore_errors=True)
    os.makedirs(other)
    for n in ("vmlinuz", "initramfs.cpio.gz", "kernel.txt"):
        shutil.copy(os.path.join(S.img, n), other)
    with open(os.path.join(other, "SHA256SUMS"), "w") as f:
        f.write("".join(ln for ln in open(os.path.join(S.img, "SHA256SUMS")) if ln.split()[1] in ("vmlinuz", "initramfs.cpio.gz")))
    time.sleep(1.1)        # a clock-derived field would now differ
    build_disk(other)
    check(open(os.path.join(other, "SHA256SUMS")).read() == open(os.path.join(S.img, "SHA256SUMS")).read(),
          "same inputs, different directory and time: same disk bytes")


@case
def bad_input_fails_with_a_clear_message():
    p = run(["scripts/build-disk.sh", "--dir", S.img])
    check(p.returncode != 0 and "--append is required" in p.stderr, p.stderr)
    p = run(["scripts/build-disk.sh", "--dir", os.path.join(WORK, "nowhere"), "--append", "x"])
    check(p.returncode != 0 and "build-initramfs.sh's output" in p.stderr, p.stderr)
    p = run(["scripts/build-disk.sh", "--dir", S.img, "--append", "a\nb"])
    check(p.returncode != 0 and "one line" in p.stderr, p.stderr)
    check(sha256(os.path.join(S.img, "sealed-login.efi")) ==
          dict(reversed(ln.split()) for ln in open(os.path.join(S.img, "SHA256SUMS")))["sealed-login.efi"],
          "a refused build leaves the previous output alone")


@case
def ovmf_boots_the_disk_with_a_vtpm_and_a_login_gives_a_result():
    S.boot()
    print(f"# OVMF + UKI from the disk to the service's ready line (TCG): {S.boot_s:.1f} s", flush=True)
    st = S.status()
    check(st["kernel_cmdline"] == APPEND, ("the UKI's .cmdline reached the kernel as is", st.get("kernel_cmdline")))
    home = S.get("/").text
    check(f"make image IMAGE_APPEND='{APPEND}'</pre>" in home, "the page tells a visitor what to rebuild")
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:400]))
    jws = jws_from_page(r.text)
    payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "==="))
    ev = payload["evidence"]
    check([e["type"] for e in ev] == ["tpm2"], ev)
    p = os.path.join(WORK, "result.jws")
    open(p, "w").write(jws)
    state.update(jws=p, pcrs=ev[0]["pcrs"]["sha256"])


@case
def the_quoted_pcrs_are_the_ones_sealed_measure_predicts_from_the_uki():
    p = run([os.path.join(ROOT, "build", "sealed-measure"), "pcrs", os.path.join(S.img, "sealed-login.efi")])
    check(p.returncode == 0, p.stderr)
    pred = dict(ln.split()[:2] for ln in p.stdout.splitlines() if ln.startswith("pcr"))
    for i in (4, 9, 11):
        check(state["pcrs"][str(i)] == pred[f"pcr{i}-sha256"], (i, state["pcrs"][str(i)], pred.get(f"pcr{i}-sha256")))
    check(state["pcrs"]["12"] == "00" * 32 and state["pcrs"]["13"] == "00" * 32, "no credentials, sysexts or overrides")


@case
def sealed_verify_matches_the_result_against_the_build_manifest():
    p = run([os.path.join(ROOT, "build", "sealed-verify"), "result", state["jws"], "--manifest", S.manifest,
             "--client-id", S.client_id, "--allow-unrooted-ak", "--allow-option-roms"], timeout=120)
    check(p.returncode == 0, "\n".join(ln for ln in p.stdout.splitlines() if "✗" in ln or "RESULT" in ln) + p.stderr)
    line = [ln for ln in p.stdout.splitlines() if "quoted PCRs equal" in ln]
    check(line and "uefi-disk-vtpm" in line[0] and "✓" in line[0], p.stdout[-3000:])
    open(os.path.join(WORK, "verify.txt"), "w").write(p.stdout)


@case
def a_manifest_for_another_command_line_does_not_match():
    other = os.path.join(WORK, "other-cmdline")
    shutil.rmtree(other, ignore_errors=True)
    os.makedirs(other)
    for n in ("vmlinuz", "initramfs.cpio.gz", "kernel.txt", "SHA256SUMS"):
        shutil.copy(os.path.join(S.img, n), other)
    shutil.copytree(os.path.join(S.img, "stage"), os.path.join(other, "stage"))
    build_disk(other, APPEND + " sealed.debug=1")
    m = manifest(other, APPEND + " sealed.debug=1")
    p = run([os.path.join(ROOT, "build", "sealed-verify"), "result", state["jws"], "--manifest", m,
             "--client-id", S.client_id, "--allow-unrooted-ak", "--allow-option-roms"], timeout=120)
    check(p.returncode != 0 and "quoted PCRs match none" in p.stdout, p.stdout[-2000:])


def verify(jws, man):
    p = run([os.path.join(ROOT, "build", "sealed-verify"), "result", jws, "--manifest", man,
             "--client-id", S.client_id, "--allow-unrooted-ak", "--allow-option-roms"], timeout=120)
    return p.returncode, [ln for ln in p.stdout.splitlines() if "measurement" in ln or "PCR" in ln] or p.stdout.splitlines()[-5:]


@case
def after_a_failed_pxe_attempt_pcr4_differs_but_the_log_shows_only_our_applications():
    S.boot(disk_first=False)
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:400]))
    jws = jws_from_page(r.text)
    ev = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "==="))["evidence"][0]
    check(ev["pcrs"]["sha256"]["4"] != state["pcrs"]["4"], "PXE tried first: PCR 4 differs from the exact prediction")
    check(ev["pcrs"]["sha256"]["9"] == state["pcrs"]["9"] and ev["pcrs"]["sha256"]["11"] == state["pcrs"]["11"])
    p = os.path.join(WORK, "result-pxe-first.jws")
    open(p, "w").write(jws)
    state["pxe"] = p
    rc, lines = verify(p, S.manifest)
    check(rc == 0 and any("after 1 failed boot attempt," in ln and "✓" in ln for ln in lines), lines)


@case
def the_log_policy_refuses_an_application_the_manifest_does_not_list():
    m = json.load(open(S.manifest))
    apps = m["measurements"]["targets"]["uefi-disk-vtpm"]["efi_applications"]
    bad = dict(apps[1], authenticode_sha256="ab" * 32)
    for name, edited, want in (("other-kernel", [apps[0], bad], "where the manifest expects its application 2"),
                               ("one-more", apps + [apps[1]], "records 2 of the 3 expected EFI applications"),
                               ("uki-only", apps[:1], "beyond the 1 expected")):
        m["measurements"]["targets"]["uefi-disk-vtpm"]["efi_applications"] = edited
        path = os.path.join(WORK, f"manifest-{name}.json")
        json.dump(m, open(path, "w"))
        rc, lines = verify(state["pxe"], path)
        check(rc != 0 and any(want in ln and "✗" in ln for ln in lines), (name, lines))


try:
    done()
finally:
    if S is not None:
        S.__exit__(None, None, None)
