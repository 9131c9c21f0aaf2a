"""The sealed image (scripts/build-initramfs.sh: our kernel or, with IMAGE_KERNEL=debian, Debian's
pinned one; sealed-init, sealed-login)
booted by real UEFI firmware (Debian's OVMF) under QEMU (TCG) with swtpm behind QEMU's tpm-crb:
the firmware measures the boot into the TPM and hands the kernel its TCG2 event log, the kernel's
own TPM driver and resource manager give /dev/tpmrm0, and a whole login through the fake PayPal
on the host must return a result whose tpm2 evidence (quote, PCRs, EK certificate, the firmware's
event log from securityfs) verifies with sealed-verify and tpm2_checkquote, log replay included."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from tap import case, check, done                # noqa: E402
from service import OUT, ROOT, Service, jws_from_page  # noqa: E402
from qemu import OVMF_CODE as CODE, SerialGuest, ovmf_vtpm_argv  # noqa: E402
from swtpm_lib import Swtpm, pcrs_serialized, replay_sha256, start_for_qemu  # noqa: E402
from buildenv import image_append  # noqa: E402

BOOT_TIMEOUT = 240
APPEND = image_append()   # the release image's command line (mk/image.mk)
WORK = os.path.join(OUT, "attest-vm")
state = {}

for need in ("qemu-system-x86_64", "swtpm", "tpm2_checkquote", "depmod", "cpio"):
    if not shutil.which(need):
        print(f"not ok 1 - {need} installed (scripts/packages/*.txt)")
        sys.exit(1)
if not os.path.exists(CODE):
    print(f"not ok 1 - OVMF installed ({CODE})")
    sys.exit(1)


class VmService(Service):
    """The fake PayPal on the host; the service inside the image under OVMF with a vTPM."""

    def start_service(self):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        conf = os.path.join(WORK, "vm.conf")
        open(conf, "w").write(self.guest_config())
        img = os.path.join(WORK, "image")
        p = subprocess.run([os.path.join(ROOT, "scripts", "build-initramfs.sh"), "--config", conf, "--out", img],
                           capture_output=True, text=True, cwd=ROOT)
        if p.returncode:
            raise RuntimeError("build-initramfs failed: " + p.stderr[-2000:])
        self.tpm = Swtpm(os.path.join(WORK, "tpm")).manufacture()
        sock = os.path.join(WORK, "swtpm.sock")
        start_for_qemu(self.tpm, sock)
        argv = ovmf_vtpm_argv(WORK, sock, ["-kernel", os.path.join(img, "vmlinuz"),
                                           "-initrd", os.path.join(img, "initramfs.cpio.gz"), "-append", APPEND],
                              self.port)
        self.guest = SerialGuest(argv, os.path.join(WORK, "serial.log"), name="vm-tpm").start()
        self.guest.wait_for(r"^sealed-login: serving https://", BOOT_TIMEOUT)
        self.boot_s = time.monotonic() - self.guest.t0
        return self

    def wait_for(self, pattern, timeout):
        return self.guest.wait_for(pattern, timeout)

    def text(self):
        return self.guest.text()

    def __exit__(self, *a):
        self.guest.stop()
        self.tpm.stop()
        self.fake.terminate()
        self.fake.wait(5)
        self.fake_log.close()


S = None


@case
def image_boots_under_ovmf_with_a_vtpm():
    global S
    S = VmService(users=["alice"], name="attest-vm").__enter__()     # boots the VM (start_service)
    kind = next((ln.strip()[5:] for ln in open(os.path.join(WORK, "image", "kernel.txt")) if ln.startswith("kind=")),
                "debian")
    state["kernel"] = kind
    print(f"# OVMF + {kind} kernel + sealed-init to the service's ready line (TCG): {S.boot_s:.1f} s", flush=True)
    t = S.text()
    check("sealed-init: mount target=/sys/kernel/security" in t, "securityfs mounted by PID 1")
    st = S.status()
    check("tpm2" in json.dumps(st), json.dumps(st)[:1500])


@case
def login_in_the_vm_carries_a_tpm2_quote_with_the_firmware_log():
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:400]))
    jws = jws_from_page(r.text)
    payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "==="))
    ev = payload["evidence"]
    check([e["type"] for e in ev] == ["tpm2"], ev)
    tpm = ev[0]
    check(tpm["event_log"] is not None, "the kernel exposes OVMF's event log in securityfs")
    check(tpm["ek_cert"] is not None and tpm["ak_source"] == "endorsement-ecc-p256", tpm["ak_source"])
    check(tpm["pcrs"]["sha256"]["0"] != "00" * 32, "firmware measured PCR 0")
    json.dump(tpm, open(os.path.join(WORK, "tpm2-evidence.json"), "w"))
    for _ in range(3):
        S.login("alice")                      # replays (409) still cost nothing at the TPM
    txt = json.dumps(S.status())
    m = re.search(r'"type": "tpm2".*?"last_ms": ([0-9.]+), "mean_ms": ([0-9.]+)', txt)
    if m:
        print(f"# tpm2 evidence inside the VM (kernel tpm_crb + /dev/tpmrm0, swtpm, TCG): "
              f"last {float(m.group(1)):.1f} ms, mean {float(m.group(2)):.1f} ms", flush=True)
    p = os.path.join(WORK, "result.jws")
    open(p, "w").write(jws)
    state.update(jws=p, ev=tpm, payload=payload)


@case
def sealed_verify_checks_the_result_including_the_log_replay():
    r = subprocess.run([os.path.join(ROOT, "build/sealed-verify"), "result", state["jws"], "--skip-measurement",
                        "--client-id", S.client_id, "--allow-unrooted-ak", "--allow-option-roms"], capture_output=True, text=True, timeout=120)
    lines = r.stdout.splitlines()
    check(r.returncode == 0, "\n".join(ln for ln in lines if "✗" in ln or "RESULT" in ln))
    check(any("event log" in ln and "✓" in ln for ln in lines), "\n".join(lines[:40]))
    # what the firmware measured before our UKI (QEMU's virtio-net option ROM is a UEFI driver: allowed by name)
    for ln in lines:
        if "PCR 2" in ln or "driver" in ln or "Secure Boot" in ln:
            print("# " + ln.strip(), flush=True)


@case
def tpm2_checkquote_and_an_independent_replay_explain_every_quoted_pcr():
    """tpm2_checkquote: signature, qualifying data = SHA-256(REPORT_DATA), PCR digest. Then a
    replay done here: every one of the 16 quoted PCRs must follow from the logs in the evidence.
    Our kernel has no IMA (image/kernel.config: no policy is loaded and nothing but the kernel runs,
    so IMA's only entry would be boot_aggregate, a digest of PCRs 0-9 already in the quote): PCR 10
    stays all zeros, no IMA log is attached, and the firmware log alone explains all 16 PCRs, which
    tpm2_checkquote's own replay (-e) then confirms too.
    Debian's kernel runs IMA, which extends PCR 10 from its own log: with IMAGE_KERNEL=debian the
    attached IMA log must explain PCR 10."""
    import hashlib
    ev = state["ev"]
    d = tempfile.mkdtemp(dir=WORK)
    open(f"{d}/q", "wb").write(base64.b64decode(ev["quote"]))
    open(f"{d}/s", "wb").write(base64.b64decode(ev["signature"]))
    open(f"{d}/ak.pem", "w").write(ev["ak_pub"])
    quoted = [bytes.fromhex(ev["pcrs"]["sha256"][str(i)]) for i in range(16)]
    open(f"{d}/pcrs", "wb").write(pcrs_serialized(quoted))
    qual = hashlib.sha256(bytes.fromhex(state["payload"]["report_data"])).hexdigest()
    r = subprocess.run(["tpm2_checkquote", "-u", f"{d}/ak.pem", "-m", f"{d}/q", "-s", f"{d}/s", "-f", f"{d}/pcrs",
                        "-g", "sha256", "-q", qual], capture_output=True, text=True)
    check(r.returncode == 0, r.stderr)
    if state["kernel"] == "sealed":
        check(ev.get("ima_log") is None, "an IMA log from a kernel without IMA")
        check(quoted[10] == b"\0" * 32, "PCR 10 extended without IMA")
        replayed = replay_sha256(base64.b64decode(ev["event_log"]))
        open(f"{d}/log", "wb").write(base64.b64decode(ev["event_log"]))
        r = subprocess.run(["tpm2_checkquote", "-u", f"{d}/ak.pem", "-m", f"{d}/q", "-s", f"{d}/s", "-f", f"{d}/pcrs",
                            "-g", "sha256", "-q", qual, "-e", f"{d}/log"], capture_output=True, text=True)
        check(r.returncode == 0, "tpm2_checkquote -e: " + r.stderr)
    else:
        check(ev.get("ima_log"), "the kernel's IMA log is attached")
        replayed = replay_sha256(base64.b64decode(ev["event_log"]), base64.b64decode(ev["ima_log"]))
        check(quoted[10] != b"\0" * 32, "IMA extended PCR 10")
    bad = [i for i in range(16) if replayed[i] != quoted[i]]
    check(not bad, f"PCRs not explained by the logs: {bad}")
    check(quoted[4] != b"\0" * 32, "the boot loader (the kernel's EFI stub) measured into PCR 4")


try:
    done()
finally:
    if S is not None:
        S.__exit__(None, None, None)
