"""The sealed state across reboots of the whole image (issue 12): the UEFI disk (tests/lib/
disk_image.py, as test_disk.py builds it) booted under OVMF with swtpm, on the fake Google Cloud on
the host (tests/fakes/fake_cloud.py over plain HTTP, 10.0.2.2 from the guest: metadata, token,
Secret Manager and the fake GCS object the state is sealed into) with Pebble as its ACME CA
(Pebble's own TLS root baked in with build-initramfs.sh --test-ca). A reboot is the ACPI power
button (clean power-off, the state saved) and a new QEMU with the same disk, the same swtpm state
directory (its NV counter and seeds) and the same fake cloud and Pebble processes.

The image's service is the faults build (build/faults/sealed-login, make faults): the same code
plus /__fault/crash/{kill,abort,exit} (src/login/fault.h), which ends it as a crash would (SIGKILL,
SIGABRT, exit 1), so PID 1 restarts it inside the image; a release image has no such route.

Four boots (3 reboots) and 10 service restarts: 1. a certificate from Pebble, alice logs in; the
service crashes 3 times (kill, abort, exit) and after each restart alice gets 409 and the same
certificate is served from the saved state; 2. alice gets 409, bob logs in, the same certificate;
then the service crashes INIT_CRASH_MAX (6) times: 5 restarts with PID 1's back-off (1, 2, 4, 8,
16 s), bob 409 after each, and the 6th crash makes PID 1 power the VM off (the second reboot is
that crash-loop power-off, with no graceful save); 3. the object holds the blob saved after alice
(restored as an operator with bucket access could): logins refused as a rollback, still refused
after a crash and restart (a restart never opens a refused state empty), the object left alone,
no ACME traffic; 4. the newest blob put back: alice and bob 409 (the state saved before the crash
loop is whole), carol logs in, one more crash: carol 409, the same certificate. Pebble issued one
certificate to one account in all; the restarts are counted from PID 1's own lines.
SEALED_REBOOT_EXTRA=N adds N more plain reboots at the end (each 1-2 minutes of TCG).
Serial logs: tests/out/reboot/serial-*.log; Pebble's: tests/out/acme/pebble-reboot/."""
import base64
import glob
import http.client
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "attest"))
sys.path.insert(0, os.path.join(HERE, "..", "acme"))
sys.path.insert(0, os.path.join(HERE, "..", "cloud"))
sys.path.insert(0, os.path.join(HERE, "..", "login"))
from tap import case, check, done  # noqa: E402
from service import BIN, FAULTS_BIN, OUT, ROOT, Service, free_port, jws_from_page  # noqa: E402
from disk_image import BOOT_TIMEOUT, NEEDS, boot_disk, build_disk, build_initramfs  # noqa: E402
from swtpm_lib import Swtpm  # noqa: E402
import pebble_env as pe  # noqa: E402
import cloudtest as ct  # noqa: E402
from sealed_lib import GCS_OBJ as OBJ, objects, post  # noqa: E402

WORK = os.path.join(OUT, "reboot")
DOMAIN = "acme.test"
SECRET = "paypal-secret"
EXTRA = int(os.environ.get("SEALED_REBOOT_EXTRA", "0"))
T0 = time.monotonic()


def init_const(name):
    """A number of PID 1's restart policy, as src/init/init.h defines it."""
    return int(re.search(rf"^#define {name}\s+(\d+)", open(os.path.join(ROOT, "src/init/init.h")).read(), re.M).group(1))


CRASH_MAX = init_const("INIT_CRASH_MAX")                 # the crash that makes PID 1 power off
RESTART_MIN, RESTART_MAX = init_const("INIT_RESTART_MIN_MS"), init_const("INIT_RESTART_MAX_MS")
# how a crash through /__fault/crash/HOW ends, as PID 1 logs it
EXIT_LINE = {"kill": "result=killed signal=9", "abort": "result=killed signal=6", "exit": "result=exited status=1"}

for need in NEEDS + ("pebble", "pebble-challtestsrv"):
    if not shutil.which(need):
        print(f"not ok 1 - {need} installed (make deps)")
        sys.exit(1)
if not os.path.exists(FAULTS_BIN):
    print("not ok 1 - build/faults/sealed-login built (make faults)")
    sys.exit(1)


class RebootService(Service):
    """The fake PayPal on the host (its redirect URI on the ACME domain) and the disk image built
    for it; boots are driven by the cases."""
    redirect_host = DOMAIN

    def start_service(self):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        self.http_port = free_port()      # where Pebble validates HTTP-01: forwarded to the guest's 8080
        self.pebble = pe.Pebble(self.http_port, tag="pebble-reboot", extra_san=("IP:10.0.2.2",))
        self.cloud = ct.Fake("gcp", {"paypal_client_id": self.client_id, "domain": f"{DOMAIN}:{self.port}",
                                     "secret_ocid": SECRET, "state_store": "gcs:" + OBJ},
                             {SECRET: self.secret}, api_plain=True)
        md, api = self.cloud.info["metadata_port"], self.cloud.info["api_port"]
        conf = os.path.join(WORK, "reboot.conf")
        open(conf, "w").write("\n".join([
            "# test build: PayPal, the cloud and the ACME CA are stand-ins on the host (10.0.2.2)",
            "listen = 0.0.0.0", "https_port = 8443", "http_port = 8080", "paypal_env = local",
            f"paypal_authorize_url = http://10.0.2.2:{self.fake_port}/signin/authorize",
            f"paypal_api_base = http://10.0.2.2:{self.fake_port}",
            f"paypal_issuer = http://127.0.0.1:{self.fake_port}", "idset_capacity = 100000",
            "platform = gcp", f"metadata_base = http://10.0.2.2:{md}", f"cloud_api_base = http://10.0.2.2:{api}",
            f"state_store_base = http://10.0.2.2:{api}/gcs", "state_seal = tpm",
            f"acme_directory = https://10.0.2.2:{self.pebble.port}/dir", "acme_ca_file = /etc/ssl/test-ca.pem", ""]))
        self.img = os.path.join(WORK, "image")
        build_initramfs(conf, self.img, ["--test-ca", self.pebble.ca, "--login", FAULTS_BIN])
        build_disk(self.img)
        self.tpm = Swtpm(os.path.join(WORK, "tpm"))
        self.guest = None
        self.boots = 0
        self.restarts = 0

    def boot(self, name):
        """Boots the disk with the swtpm state of the previous boot (manufactured on the first);
        returns the index of the service's ready line. A guest a failed case left running is
        stopped (pulled, not powered off)."""
        if self.guest:
            self.guest.stop()
            self.tpm.stop()
        self.boots += 1
        self.guest = boot_disk(WORK, self.img, self.tpm, self.port, f"serial-{name}.log", name=name,
                               manufacture=self.boots == 1, forwards=[(self.http_port, 8080)],
                               monitor=os.path.join("/tmp", f"sealed-reboot-{os.getpid()}.mon"))
        i = self.guest.wait_for(r"^sealed-login: serving https://", BOOT_TIMEOUT)
        self.boot_s = time.monotonic() - self.guest.t0
        print(f"# boot {self.boots} ({name}): QEMU start to the service's ready line {self.boot_s:.1f} s", flush=True)
        return i

    def power_off(self):
        """The ACPI power button: the service drains and saves, PID 1 powers off, QEMU exits 0."""
        g = self.guest
        mark = len(g.lines)
        g.monitor("system_powerdown")
        i = g.wait_for(r"sealed-init: shutdown reason=power-button", 30, mark)
        self.powered_off(i)

    def powered_off(self, i):
        """PID 1's power-off after line i; QEMU exits 0 and swtpm with it."""
        g = self.guest
        g.wait_for(r"sealed-init: poweroff", 60, i)
        rc = g.proc.wait(30)
        g.stop()
        self.tpm.proc.wait(10)      # swtpm --terminate ends with QEMU, its state written
        self.guest = None
        check(rc == 0, "QEMU did not exit cleanly")

    def crash(self, how):
        """Makes the service crash through the faults build's /__fault/crash/HOW (no answer, the
        connection drops); returns the index of PID 1's line for that exit."""
        g = self.guest
        mark = len(g.lines)
        self.crash_t0 = time.monotonic()
        try:
            r = self.get(f"/__fault/crash/{how}", timeout=20)
            check(False, f"the crash route answered {r.status}")
        except (OSError, http.client.HTTPException):
            pass
        i = g.wait_for(r"^sealed-init: service result=(killed|exited)", 30, mark)
        check(EXIT_LINE[how] in g.lines[i], (how, g.lines[i]))
        return i

    def restarted(self, i, how, certificate=True):
        """After the crash at line i: PID 1's back-off, a new service process, its ready line and,
        with certificate, the saved certificate installed again. A restarted service serves before
        the instance metadata is back (a boot waits for it to restore the state; a restart finds the
        state in PID 1's tmpfs): it serves the saved certificate from its first connection on
        (acme.restore result=served_saved, before its ready line), with logins closed until the
        metadata is back and ACME takes the saved state over. Returns the back-off in ms."""
        g = self.guest
        pids = {m.group(1) for ln in g.lines[:i] if (m := re.search(r"service pid=(\d+) result=started", ln))}
        j = g.wait_for(r"^sealed-init: service result=restarting delay_ms=\d+", 10, i)
        delay = int(re.search(r"delay_ms=(\d+)", g.lines[j]).group(1))
        k = g.wait_for(r"^sealed-init: service pid=\d+ result=started", delay / 1000 + 30, j)
        check(re.search(r"pid=(\d+)", g.lines[k]).group(1) not in pids, "a new service process")
        k = g.wait_for(r"^sealed-login: serving https://", 120, k)
        if certificate:
            check(any("acme.restore result=served_saved" in ln for ln in g.lines[j:k]),
                  "the saved certificate was not served from the restart on")
            g.wait_for(r"acme\.restore result=ok account=reused certificate=installed", 60, k)
        self.restarts += 1
        print(f"# restart {self.restarts} ({how}): crash to ready {time.monotonic() - self.crash_t0:.1f} s, "
              f"back-off {delay / 1000:g} s", flush=True)
        return delay

    def check_restarted_service(self, used):
        """What a restart must not change: the certificate (from the saved state, no new one) and
        the used account."""
        check(self.served_cert() == SEEN["cert"], "the same certificate after a restart")
        a = self.status().get("acme") or {}
        check(a.get("certificate_from_saved_state") is True and a.get("certificates") == 0, a)
        check(self.login(used).status == 409, f"{used} again after a restart")

    def served_cert(self):
        """The DER certificate the guest serves for DOMAIN, verified against Pebble's roots."""
        body, der = pe.https_get(self.port, self.pebble.roots_file(), DOMAIN, "/healthz")
        check(body.endswith("ok\n"), body[-80:])
        return der

    def object(self):
        return objects(self.cloud)[OBJ]

    def __exit__(self, *a):
        if self.guest:
            self.guest.stop()
        if getattr(self, "tpm", None) and self.tpm.proc:
            self.tpm.stop()
        for x in ("pebble", "cloud"):
            if getattr(self, x, None):
                getattr(self, x).stop()
        self.fake.terminate()
        self.fake.wait(5)
        self.fake_log.close()


def pebble_counts(peb):
    """(certificates issued, accounts created) from Pebble's log."""
    issued = peb.proc.grep("Issued certificate serial")
    accounts = [ln for _, ln in peb.proc.grep("There are now") if "accounts" in ln]
    return len(issued), len(accounts)


S = None
SEEN = {}


@case
def first_boot_gets_a_certificate_from_pebble_and_seals_a_login():
    global S
    t0 = time.monotonic()
    S = RebootService(users=["alice", "bob", "carol"], name="reboot").__enter__()
    print(f"# initramfs + disk build: {time.monotonic() - t0:.1f} s", flush=True)
    S.boot("first")
    S.guest.wait_for(r"acme\.certificate\.installed", 240)
    st = S.status()
    check(st["state"]["scope"] == "sealed-vtpm" and st["state"]["sealed"]["owner"] is True, st["state"])
    check(st["login_available"] is True, st.get("login_unavailable_reason"))
    SEEN["cert"] = S.served_cert()
    r = S.login("alice")
    check(r.status == 200 and jws_from_page(r.text), (r.status, r.text[:400]))
    check("across reboots" in r.text, "the page states the guarantee")
    SEEN["after_alice"] = S.object()["data_b64"]
    raw = base64.b64decode(SEEN["after_alice"])
    check(raw.startswith(b"SLSEAL01") and b"alice" not in raw, "sealed, not plain")
    check(pebble_counts(S.pebble) == (1, 1), pebble_counts(S.pebble))


@case
def three_crashes_restart_the_service_with_its_used_ids_and_its_certificate():
    for how in ("kill", "abort", "exit"):
        S.restarted(S.crash(how), how)
        S.check_restarted_service("alice")
    check(pebble_counts(S.pebble) == (1, 1), ("no ACME account or order after restarts", pebble_counts(S.pebble)))
    S.power_off()


@case
def the_image_runs_the_faults_build_and_the_other_builds_have_no_crash_route():
    with open(os.path.join(S.img, "stage", "sealed-login"), "rb") as f:
        check(b"/__fault/crash/" in f.read(), "the test image's service has the crash route")
    for b in (BIN, os.path.join(ROOT, "build", "musl", "sealed-login")):
        if os.path.exists(b):
            with open(b, "rb") as f:
                check(b"/__fault/crash/" not in f.read(), f"{b} has no crash route")


@case
def after_a_reboot_the_account_is_used_and_the_certificate_is_the_same():
    S.boot("second")
    t = S.guest.text()
    check("state_sync.restored" in t, "the state came from the object store")
    check(S.login("alice").status == 409, "alice again after a reboot")
    r = S.login("bob")
    check(r.status == 200 and jws_from_page(r.text), (r.status, r.text[:400]))
    check(S.served_cert() == SEEN["cert"], "the certificate of the first boot is served")
    a = S.status().get("acme") or {}
    check(a.get("certificate_from_saved_state") is True and a.get("certificates") == 0, a)
    check(a.get("accounts_created_window") == 1 and a.get("new_certificates_window") == 1, ("the ledger", a))


@case
def the_crash_loop_limit_powers_off_at_its_count_and_the_saved_state_is_whole():
    """INIT_CRASH_MAX - 1 crashes are restarted with PID 1's doubling back-off; the next one is a
    crash loop: PID 1 powers the VM off without the service's graceful save (the next boots show
    that the state saved before it is whole)."""
    delays = []
    for n in range(CRASH_MAX - 1):
        how = ("kill", "abort", "exit")[n % 3]
        delays.append(S.restarted(S.crash(how), how))
        S.check_restarted_service("bob")
    check(delays == [min(RESTART_MIN << n, RESTART_MAX) for n in range(CRASH_MAX - 1)], delays)
    i = S.crash("kill")
    g = S.guest
    j = g.wait_for(r"^sealed-init: service result=crash-loop", 10, i)
    check(f"crashes={CRASH_MAX} " in g.lines[j] and "action=poweroff" in g.lines[j], g.lines[j])
    S.powered_off(j)
    check(not any("state_sync.final_save" in ln for ln in g.lines), "no graceful save before this power-off")
    check(pebble_counts(S.pebble) == (1, 1), ("no ACME account or order after restarts", pebble_counts(S.pebble)))
    SEEN["newest"] = S.object()


@case
def an_older_blob_restored_is_refused_as_a_rollback():
    post(S.cloud, "/__fake/objects", {"name": OBJ, "data_b64": SEEN["after_alice"]})
    restored = S.object()
    S.boot("rollback")
    st = S.status()
    check(st["login_available"] is False and "rollback" in (st.get("login_unavailable_reason") or ""), st)
    check(st["state"]["ok"] is False, st["state"])
    check(any("seal.rollback" in ln for ln in S.guest.lines), "the service logs the rollback")
    r = S.get("/login")
    check(r.status != 302 and "rollback" in r.text, (r.status, r.text[:400]))
    check("rollback" in S.get("/").text, "the home page says why")
    check(any("service.acme" in ln and "refused" in ln for ln in S.guest.lines), "ACME stays off, saying why")
    # a crash and restart in a refused boot: the new process reads the object again and refuses
    # again, never opening with an empty state (nothing was installed in PID 1's tmpfs)
    i = S.crash("kill")
    S.restarted(i, "kill", certificate=False)
    st = S.status()
    check(st["login_available"] is False and "rollback" in (st.get("login_unavailable_reason") or ""), st)
    check(S.get("/login").status != 302, "logins still refused after a restart")
    check(any("seal.rollback" in ln for ln in S.guest.lines[i:]), "the restarted service finds the rollback itself")
    time.sleep(5)     # time for a wrongly started ACME order or a claim to show
    g = S.guest
    S.power_off()
    check(any("state_sync.final_save" in ln and "result=skipped" in ln for ln in g.lines),
          ("the stop says it saved nothing", [ln for ln in g.lines if "final_save" in ln]))
    untouched = S.object() == restored
    post(S.cloud, "/__fake/objects", {"name": OBJ, "data_b64": SEEN["newest"]["data_b64"]})   # for the next boot
    check(untouched, "the refused object is left alone")
    check(pebble_counts(S.pebble) == (1, 1), ("no ACME account or order from a refused state", pebble_counts(S.pebble)))


@case
def the_newest_blob_put_back_opens_again_with_every_account_used():
    S.boot("restored")
    st = S.status()
    check(st["login_available"] is True and st["state"]["ok"] is True, st)
    check(S.login("alice").status == 409 and S.login("bob").status == 409, "alice and bob used")
    r = S.login("carol")
    check(r.status == 200 and jws_from_page(r.text), (r.status, r.text[:400]))
    check(S.served_cert() == SEEN["cert"], "still the first certificate")
    S.restarted(S.crash("abort"), "abort")
    S.check_restarted_service("carol")
    S.power_off()
    for n in range(EXTRA):
        S.boot(f"extra-{n + 1}")
        check(S.login("carol").status == 409 and S.served_cert() == SEEN["cert"], f"extra reboot {n + 1}")
        S.power_off()


@case
def ten_restarts_and_three_reboots_pebble_issued_one_certificate_to_one_account():
    issued, accounts = pebble_counts(S.pebble)
    started = sum(len(re.findall(r" sealed-init: service pid=\d+ result=started", open(f).read()))
                  for f in glob.glob(os.path.join(WORK, "serial-*.log")))
    restarts = started - S.boots    # PID 1's own count: every start after a boot's first
    print(f"# {S.boots} boots, {restarts} service restarts: Pebble issued {issued} certificate(s) to "
          f"{accounts} account(s); the test took {time.monotonic() - T0:.0f} s", flush=True)
    check(restarts == S.restarts == 10 and S.boots == 4 + EXTRA, (restarts, S.restarts, S.boots))
    check((issued, accounts) == (1, 1), (issued, accounts))


try:
    done()
finally:
    if S is not None:
        S.__exit__(None, None, None)
