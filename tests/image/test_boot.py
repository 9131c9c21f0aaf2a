"""Boot test of the sealed image (docs/image.md): scripts/build-initramfs.sh builds the kernel
(ours by default, Debian's with IMAGE_KERNEL=debian) + our initramfs twice (same bytes), the archive holds no shell, then QEMU (TCG) boots a test
build whose baked config points at the fake PayPal on the host (10.0.2.2 from the guest). From the
host: /healthz, /status, a whole login with its signed result, a replay, the ACPI power button
(QEMU's system_powerdown) ending in a clean power-off, and PID 1 restarting a failing service with
backoff. Serial logs: tests/out/image/*/serial.log."""
import gzip
import http.client as http_client
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from tap import case, check, done              # noqa: E402
from service import BIN, OUT, ROOT, Service, free_port, jws_from_page, tls_context  # noqa: E402
from qemu import SerialGuest  # noqa: E402
from buildenv import image_append  # noqa: E402
import jws_check                               # noqa: E402

BUILD_SCRIPT = os.path.join(ROOT, "scripts", "build-initramfs.sh")
WORK = os.path.join(OUT, "image")
BOOT_TIMEOUT = 120          # seconds from QEMU start to the service's ready line, TCG
APPEND = image_append()   # the release image's command line (mk/image.mk)
SHELLS = {"sh", "bash", "dash", "ash", "zsh", "busybox", "toybox", "login", "getty", "agetty", "sulogin"}


def build(name, config_text=None, config_path=None, epoch="1700000000", login=None):
    """Runs build-initramfs.sh into WORK/name (with `login` as /bin/sealed-login when given);
    returns (out dir, {file: sha256})."""
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if config_text is not None:
        config_path = os.path.join(out, "..", name + ".conf")
        with open(config_path, "w") as f:
            f.write(config_text)
    p = subprocess.run([BUILD_SCRIPT, "--config", config_path, "--out", out] + (["--login", login] if login else []),
                       capture_output=True, text=True,
                       env=dict(os.environ, SOURCE_DATE_EPOCH=epoch), cwd=ROOT)
    if p.returncode:
        raise RuntimeError("build-initramfs failed: " + p.stderr[-2000:])
    sums = dict(reversed(line.split()) for line in open(os.path.join(out, "SHA256SUMS")))
    check(set(sums) == {"initramfs.cpio.gz", "vmlinuz"}, sums)
    check(p.stdout.strip() == open(os.path.join(out, "SHA256SUMS")).read().strip(), "the script prints the sums")
    return out, sums


class Guest(SerialGuest):
    """qemu-system-x86_64 (TCG) booting WORK/NAME's vmlinuz + initramfs; serial lines collected."""

    def __init__(self, image_dir, name, hostfwd=()):
        """hostfwd: (host port on 127.0.0.1, guest port) pairs."""
        self.dir = image_dir
        mon = os.path.join("/tmp", f"sealed-image-{os.getpid()}-{name}.mon")
        net = "user,id=n" + "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in hostfwd)
        argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1", "-display", "none",
                "-no-reboot", "-serial", "stdio", "-monitor", f"unix:{mon},server=on,wait=off",
                "-kernel", os.path.join(image_dir, "vmlinuz"),
                "-initrd", os.path.join(image_dir, "initramfs.cpio.gz"), "-append", APPEND,
                "-netdev", net, "-device", "virtio-net-pci,netdev=n"]
        super().__init__(argv, os.path.join(image_dir, "serial.log"), name=name, monitor=mon)


class ImageService(Service):
    """Service's fake PayPal and browser-like helpers, with the service inside the booted image."""

    def start_service(self):
        conf = self.guest_config()
        login = self.binary if self.binary != BIN else None
        self.image_dir, self.sums = build(self.name, conf, login=login)
        self.guest = Guest(self.image_dir, self.name, hostfwd=[(self.port, 8443)]).start()
        self.ready_line = self.guest.wait_for(r"^sealed-login: serving https://", BOOT_TIMEOUT)
        self.boot_s = time.monotonic() - self.guest.t0

    def __enter__(self):
        self.guest = None
        self.start_fake()
        try:
            self.start_service()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *a):
        if self.guest:
            self.guest.stop()
        self.fake.terminate()
        self.fake.wait(5)
        self.fake_log.close()


def cpio_entries(path):
    """[(type, mode, uid, gid, mtime, ino, size, name)] from mkcpio.py --list."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "mkcpio.py"), "--list", path],
                       capture_output=True, text=True, check=True)
    return [ln.split(" ", 7) for ln in p.stdout.splitlines()]


def elf_interp(data):
    """The PT_INTERP path of a 64-bit little-endian ELF, or None for a static binary."""
    check(data[:4] == b"\x7fELF" and data[4] == 2, "not ELF64")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if ptype == 3:
            off, = struct.unpack_from("<Q", data, phoff + i * phentsize + 8)
            size, = struct.unpack_from("<Q", data, phoff + i * phentsize + 32)
            return data[off:off + size].rstrip(b"\0").decode()
    return None


def kernel_kind(image_dir):
    """"sealed" (our kernel: everything built in, no modules) or "debian" (kernel.txt's kind)."""
    for line in open(os.path.join(image_dir, "kernel.txt")):
        if line.startswith("kind="):
            return line.strip().split("=", 1)[1]
    return "debian"


def cpio_member(image_dir, name):
    out = subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", name],
                         input=gzip.decompress(open(os.path.join(image_dir, "initramfs.cpio.gz"), "rb").read()),
                         capture_output=True, check=True).stdout
    return out


for need in ("qemu-system-x86_64", "cpio", "apt-get", "depmod"):
    if not shutil.which(need):
        print(f"not ok 1 - {need} installed (scripts/packages/image.txt, measure.txt)")
        sys.exit(1)
for b in ("sealed-init", "sealed-login"):
    if not os.path.exists(os.path.join(ROOT, "build", b)):
        print(f"not ok 1 - build/{b} exists (make all)")
        sys.exit(1)
os.makedirs(WORK, exist_ok=True)
STATE = {}


@case
def two_builds_from_the_same_inputs_give_the_same_bytes():
    a, sums_a = build("repro-a", config_path=os.path.join(ROOT, "image", "sealed-login.conf"))
    # the same inputs through another path, another mtime and another output directory
    copy = os.path.join(WORK, "copied-sealed-login.conf")
    shutil.copyfile(os.path.join(ROOT, "image", "sealed-login.conf"), copy)
    os.utime(copy, (1, 1))
    b, sums_b = build("repro-b", config_path=copy)
    check(sums_a == sums_b, (sums_a, sums_b))
    STATE["repro"] = a
    # and a different input gives different bytes
    with open(copy, "a") as f:
        f.write("# one more line\n")
    _, sums_c = build("repro-c", config_path=copy)
    check(sums_c["initramfs.cpio.gz"] != sums_a["initramfs.cpio.gz"])
    check(sums_c["vmlinuz"] == sums_a["vmlinuz"])
    shutil.rmtree(b)
    shutil.rmtree(os.path.join(WORK, "repro-c"))


@case
def archive_entries_are_sorted_root_owned_fixed_time_numbered_in_order():
    ents = cpio_entries(os.path.join(STATE["repro"], "initramfs.cpio.gz"))
    names = [e[7] for e in ents]
    check(names == sorted(names, key=lambda n: n.encode()), "entries not sorted")
    check(all(e[2] == "0" and e[3] == "0" for e in ents), "owner not 0:0")
    check({e[4] for e in ents} == {"1700000000"}, {e[4] for e in ents})
    check([int(e[5]) for e in ents] == list(range(1, len(ents) + 1)), "inode numbers not 1..N")
    # GNU cpio, an independent reader, sees the same names
    raw = gzip.decompress(open(os.path.join(STATE["repro"], "initramfs.cpio.gz"), "rb").read())
    p = subprocess.run(["cpio", "-it", "--quiet"], input=raw, capture_output=True, check=True)
    check(p.stdout.decode().split() == names, "GNU cpio lists other names")
    # gzip -n: no name, no timestamp in the header
    head = open(os.path.join(STATE["repro"], "initramfs.cpio.gz"), "rb").read(10)
    check(head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0", head.hex())


@case
def the_image_has_no_shell_and_runs_only_our_two_programs():
    ents = cpio_entries(os.path.join(STATE["repro"], "initramfs.cpio.gz"))
    names = {e[7] for e in ents}
    base = {n.rsplit("/", 1)[-1] for n in names}
    check(not (base & SHELLS), base & SHELLS)
    check("init" in names and "bin/sealed-login" in names and "etc/sealed-login.conf" in names)
    check("etc/ssl/certs/ca-certificates.crt" in names and "dev/console" in names)
    check({n for n in names if n.startswith("bin/")} == {"bin/sealed-login"}, "bin/ holds more than the service")
    for e in ents:
        n = e[7]
        if e[0] == "file" and int(e[1], 8) & 0o111:
            check(n in ("init", "bin/sealed-login") or re.search(r"\.so(\.[0-9]+)*$", n), "unexpected executable " + n)
        check(e[0] != "slink", "symlink " + n)
    check(elf_interp(cpio_member(STATE["repro"], "init")) is None, "/init is not static")
    check(b"glibc" not in cpio_member(STATE["repro"], "init").lower(), "/init is linked with musl, not glibc")
    check(elf_interp(cpio_member(STATE["repro"], "bin/sealed-login")) == "/lib64/ld-linux-x86-64.so.2")
    check("lib64/ld-linux-x86-64.so.2" in names and "lib/x86_64-linux-gnu/libc.so.6" in names)
    mods = cpio_member(STATE["repro"], "etc/sealed-init/modules").decode().split()
    if kernel_kind(STATE["repro"]) == "sealed":   # no modules at all: everything is built in
        check(mods == [] and not any(n.startswith("lib/modules") for n in names), mods)
        return
    order = [m.rsplit("/", 1)[-1] for m in mods]
    check(all(m.lstrip("/") in names for m in mods), "a listed module is missing from the archive")
    for dep, user in (("virtio_ring.ko", "virtio_pci.ko"), ("failover.ko", "net_failover.ko"),
                      ("net_failover.ko", "virtio_net.ko"), ("virtio.ko", "virtio_net.ko")):
        check(order.index(dep) < order.index(user), f"{dep} after {user}")


@case
def the_ca_bundle_is_the_locked_packages_not_the_build_machines():
    ca = cpio_member(STATE["repro"], "etc/ssl/certs/ca-certificates.crt")
    want = re.search(r"^ca-bundle ([0-9a-f]{64})$", open(os.path.join(ROOT, "image", "buildroot.lock")).read(), re.M).group(1)
    check(hashlib.sha256(ca).hexdigest() == want, "the image's CA bundle is the one image/buildroot.lock pins")
    # nothing the build machine's administrator (or a proxy) added locally reaches the image
    local = "/usr/local/share/ca-certificates"
    for dirpath, _d, files in os.walk(local):
        for f in files:
            if f.endswith(".crt"):
                pem = open(os.path.join(dirpath, f), "rb").read().strip()
                check(pem not in ca, f"the machine's local CA {f} is in the image")


@case
def build_manifest_lists_the_artifacts_and_the_measurement_inputs():
    d = STATE["repro"]
    append = "console=ttyS0 sealed.ip=10.0.2.15/24"
    ovmf = os.environ.get("SEALED_OVMF_AMDSEV") or os.path.join(ROOT, "build", "measure", "OVMF.amdsev.fd")
    args = [os.path.join(ROOT, "scripts", "image-manifest.sh"), "--dir", d, "--append", append]
    have_ovmf = os.path.exists(ovmf) and os.path.exists(os.path.join(ROOT, "build", "sealed-measure"))
    for with_ovmf in ([False, True] if have_ovmf else [False]):
        subprocess.run(args + (["--ovmf", ovmf] if with_ovmf else []), check=True, capture_output=True, cwd=ROOT)
        m = json.load(open(os.path.join(d, "build-manifest.json")))
        sums = dict(reversed(line.split()) for line in open(os.path.join(d, "SHA256SUMS")))
        check({k: v["sha256"] for k, v in m["artifacts"].items()} == sums, m["artifacts"])
        lock = "kernel-source.lock" if kernel_kind(d) == "sealed" else "kernel.lock"
        check(m["kernel"]["package"] in open(os.path.join(ROOT, "image", lock)).read())
        check(m["source"]["source_date_epoch"] == 1700000000 and m["cmdline"] == append)
        conf = open(os.path.join(ROOT, "image", "sealed-login.conf"), "rb").read()
        baked = cpio_member(d, "etc/sealed-login.conf")
        check(baked.startswith(conf) and re.fullmatch(rb"# added by scripts/build-initramfs.sh\nsource_commit = "
                                                      rb"[0-9a-f]{40}(\+dirty)?\n", baked[len(conf):]), baked[len(conf):])
        check(m["baked_config_sha256"] == hashlib.sha256(baked).hexdigest())
        if not with_ovmf:
            check(m["measurements"] is None and "OVMF" in m["measurements_reason"])
            continue
        snp = m["measurements"]["targets"]["kvm-qemu-sev-snp-direct-boot"]
        check(snp["direct_boot"]["kernel_sha256"] == sums["vmlinuz"])
        check(snp["direct_boot"]["initrd_sha256"] == sums["initramfs.cpio.gz"])
        check(snp["direct_boot"]["append"] == append)
        check(all(re.fullmatch("[0-9a-f]{96}", x["measurement"]) for x in snp["measurements"]))
        print(f"# manifest with measurements from {ovmf}", flush=True)


@case
def the_production_image_boots_and_waits_for_its_cloud():
    # the shipped config (live PayPal, :443 and :80, platform auto): no metadata server answers under
    # QEMU, so the site is up but login stays closed, saying why
    https, http = free_port(), free_port()
    g = Guest(STATE["repro"], "production", hostfwd=[(https, 443), (http, 80)]).start()
    try:
        g.wait_for(r"^sealed-login: serving https://localhost/ on port 443 \(PayPal live\)$", BOOT_TIMEOUT)
        c = http_client.HTTPSConnection("127.0.0.1", https, context=tls_context(), timeout=30)
        c.request("GET", "/healthz")
        check(c.getresponse().status == 200)
        c = http_client.HTTPSConnection("127.0.0.1", https, context=tls_context(), timeout=30)
        c.request("GET", "/status?format=json")
        st = json.loads(c.getresponse().read())
        check(st["paypal_env"] == "live" and st["development_mode"] is False, st)
        check(re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", st.get("source_commit") or ""), "the image knows its commit")
        check(st.get("kernel_cmdline") == APPEND, st.get("kernel_cmdline"))
        check(st["login_available"] is False and "cloud" in st["login_unavailable_reason"], st)
        c = http_client.HTTPConnection("127.0.0.1", http, timeout=30)
        c.request("GET", "/", headers={"Host": "localhost"})
        r = c.getresponse()
        check(r.status in (301, 308) and r.getheader("Location", "").startswith("https://"), (r.status, r.getheaders()))
        g.monitor("system_powerdown")
        g.wait_for(r"sealed-init: poweroff", 30)
        check(g.proc.wait(30) == 0, "QEMU did not exit cleanly")
    finally:
        g.stop()


S = None


@case
def the_image_boots_under_tcg_and_serves_healthz():
    global S
    S = ImageService(users=["alice", "bob"], name="image-login").__enter__()
    print(f"# boot to ready (QEMU start to the service's ready line, TCG): {S.boot_s:.1f} s", flush=True)
    up = re.search(r"sealed-init: service pid=\d+ result=started uptime_ms=(\d+)", S.guest.text())
    check(up, "no service start line")
    print(f"# guest uptime when PID 1 started the service: {int(up.group(1)) / 1000:.2f} s", flush=True)
    r = S.get("/healthz")
    check(r.status == 200, (r.status, r.text[:200]))


@case
def status_reports_the_local_test_build():
    st = S.status()
    check(st["ids_served"] == 0, st)
    check(st["certificate"]["spki_sha256"], st)
    r = S.get("/")
    check(r.status == 200 and "development mode: not PayPal" in r.text)


@case
def pid1_mounted_loaded_modules_and_configured_the_network():
    t = S.guest.text()
    for target in ("/proc", "/sys", "/dev", "/tmp", "/run", "/run/sealed-state", "/sys/kernel/config"):
        check(re.search(rf"sealed-init: mount target={re.escape(target)} type=\S+ result=ok", t), target)
    if kernel_kind(S.image_dir) == "sealed":   # built in: the list is empty, the devices work anyway
        check("sealed-init: modules loaded=0 listed=0" in t)
    else:
        for mod in ("virtio_pci", "virtio_net", "failover", "button", "evdev"):
            check(f"sealed-init: module name={mod} result=loaded" in t, mod)
    if "sealed.ip=" in APPEND:   # IMAGE_KERNEL=debian: no in-kernel DHCP, a static address
        check("sealed-init: net if=eth0 ip=10.0.2.15/24 gw=10.0.2.2 dns=1 result=up" in t)
    else:                        # the release command line: the kernel's DHCP, PID 1 only reports it
        check("sealed-init: net if=eth0 ip=10.0.2.15/24 source=kernel dns=/proc/net/pnp result=up" in t,
              [ln for ln in t.splitlines() if "net " in ln])
    check(re.search(r"sealed-init: power-button device=/dev/input/event\d+", t))
    check("Kernel panic" not in t and "result=exec-error" not in t)


@case
def a_whole_login_inside_the_image_gives_a_signed_result():
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:500]))
    jws = jws_from_page(r.text)
    hdr, payload = jws_check.verify(jws)
    check(payload["iss"] == f"https://localhost:{S.port}", payload["iss"])
    check(payload["paypal"]["client_id"] == S.client_id and payload["paypal"]["env"] == "local")
    check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
    check(payload["evidence"][0]["type"] == "none", payload["evidence"])
    check(payload["tls_spki_sha256"] == S.status()["certificate"]["spki_sha256"])
    check(abs(payload["iat"] - time.time()) < 120, "guest clock far off")
    check(S.status()["ids_served"] == 1)
    # the used-id set is PID 1's tmpfs state: scope "boot", stated in the result and on the page
    st = S.status()["state"]
    check(st["scope"] == "boot" and st["ok"] and payload["state_scope"] == "boot", st)
    check(payload["state_epoch"] == st["epoch"] and "within this boot" in r.text)


@case
def a_replay_inside_the_image_gets_409():
    check(S.login("alice").status == 409)
    check(S.login("bob").status == 200)
    check(S.status()["ids_served"] == 2)


@case
def the_acpi_power_button_stops_the_service_and_powers_off():
    g = S.guest
    mark = len(g.lines)
    t0 = time.monotonic()
    g.monitor("system_powerdown")
    i = g.wait_for(r"sealed-init: shutdown reason=power-button", 30, mark)
    i = g.wait_for(r"sealed-init: service result=exited status=0", 30, i)
    g.wait_for(r"sealed-init: poweroff", 30, i)
    check(g.proc.wait(30) == 0, "QEMU did not exit cleanly")
    print(f"# power button to QEMU exit: {time.monotonic() - t0:.1f} s", flush=True)
    check("Kernel panic" not in g.text())


@case
def pid1_restarts_a_failing_service_with_backoff_then_stops_a_crash_loop():
    # a build whose service cannot bind (10.9.9.9 is not the guest's): it exits 1, PID 1 restarts it
    conf = "listen = 10.9.9.9\nhttps_port = 8443\npaypal_env = sandbox\nplatform = none\n"
    out, _ = build("restart", conf)
    g = Guest(out, "restart").start()
    try:
        i = g.wait_for(r"sealed-init: service result=exited status=1 ", BOOT_TIMEOUT)
        i = g.wait_for(r"sealed-init: service result=restarting delay_ms=1000$", 10, i)
        i = g.wait_for(r"sealed-init: service pid=\d+ result=started", 15, i)
        i = g.wait_for(r"sealed-init: service result=exited status=1 ", 30, i)
        i = g.wait_for(r"sealed-init: service result=restarting delay_ms=2000$", 10, i)
        pids = re.findall(r"sealed-init: service pid=(\d+) result=started", g.text())
        check(len(set(pids)) == len(pids) >= 2, pids)
        # then 4 s, 8 s, 16 s: the 6th crash within 10 minutes is a crash loop, and PID 1 powers off
        i = g.wait_for(r"sealed-init: service result=crash-loop crashes=6 window_ms=600000 action=poweroff", 120, i)
        g.wait_for(r"sealed-init: poweroff", 30, i)
        check(g.proc.wait(30) == 0, "QEMU did not exit cleanly")
        pids = re.findall(r"sealed-init: service pid=(\d+) result=started", g.text())
        check(len(set(pids)) == len(pids) == 6, pids)
        check(re.findall(r"restarting delay_ms=(\d+)", g.text()) == ["1000", "2000", "4000", "8000", "16000"])
        check("Kernel panic" not in g.text())
    finally:
        g.stop()


STATIC_BIN = os.path.join(ROOT, "build", "musl", "sealed-login")


def static_musl_image_boots_logs_in_and_powers_off():
    """The same flow with the static musl service (make image / sealed-login-static): no libraries
    at all; it ends with Ctrl-Alt-Del instead of the power button."""
    with ImageService(users=["carol"], name="image-static", binary=STATIC_BIN) as s:
        print(f"# static image: boot to ready {s.boot_s:.1f} s", flush=True)
        names = {e[7] for e in cpio_entries(os.path.join(s.image_dir, "initramfs.cpio.gz"))}
        check(not any(n.startswith(("lib/x86_64-linux-gnu", "lib64")) for n in names), "libraries in a static image")
        check(elf_interp(cpio_member(s.image_dir, "bin/sealed-login")) is None, "the service is not static")
        check(s.get("/healthz").status == 200)
        r = s.login("carol")
        check(r.status == 200, (r.status, r.text[:300]))
        hdr, payload = jws_check.verify(jws_from_page(r.text))
        check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
        check(s.login("carol").status == 409)
        if kernel_kind(s.image_dir) == "sealed":
            # our kernel has no keyboard driver and no VT: Ctrl-Alt-Del reaches nobody, the service
            # keeps serving; the power button is the way to stop it
            mark = len(s.guest.lines)
            s.guest.monitor("sendkey ctrl-alt-delete")
            time.sleep(3)
            check(s.get("/healthz").status == 200)
            check("SIGINT" not in "\n".join(s.guest.lines[mark:]), "Ctrl-Alt-Del reached PID 1")
            s.guest.monitor("system_powerdown")
            i = s.guest.wait_for(r"sealed-init: shutdown reason=power-button", 30, mark)
            s.guest.wait_for(r"sealed-init: poweroff", 30, i)
            check(s.guest.proc.wait(30) == 0, "QEMU did not exit cleanly")
            return
        # Ctrl-Alt-Del (Debian's kernel): with RB_DISABLE_CAD the kernel sends SIGINT to PID 1, which forwards it; the
        # service's clean exit then powers the machine off
        s.guest.monitor("sendkey ctrl-alt-delete")
        i = s.guest.wait_for(r"sealed-init: signal SIGINT forwarded=1", 30)
        i = s.guest.wait_for(r"sealed-init: service result=exited status=0", 30, i)
        s.guest.wait_for(r"sealed-init: poweroff", 30, i)
        check(s.guest.proc.wait(30) == 0, "QEMU did not exit cleanly")
        check("shutdown reason=" not in s.guest.text(), "took the shutdown path, not the forwarded signal")


@case
def the_static_musl_service_builds():
    # make decides: minutes the first time on a machine (the musl dependencies, then cached in
    # ~/.cache/sealed-login), seconds after; a stale build/musl/sealed-login is rebuilt, not reused
    p = subprocess.run(["make", "-s", "sealed-login-static"], cwd=ROOT, capture_output=True, text=True)
    check(p.returncode == 0 and os.path.exists(STATIC_BIN), p.stderr[-2000:])


case(static_musl_image_boots_logs_in_and_powers_off)

try:
    done()
finally:
    if S:
        S.__exit__(None, None, None)
