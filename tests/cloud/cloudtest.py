"""Helpers for the cloud suites: start tests/fakes/fake_cloud.py, steer its faults, run the cloud
test driver (build/tests/cloud/cloud_driver) or sealed-oci-request against it, or the real
sealed-login with its egress guard (guard_service, guard_wait), and wait for what the fake
records (wait_for). Test code only."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))   # service
ROOT = os.environ.get("SEALED_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DRIVER = os.path.join(ROOT, "build", "tests", "cloud", "cloud_driver")
OCIREQ = os.path.join(ROOT, "build", "sealed-oci-request")
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_cloud.py")
OUT = os.environ.get("SEALED_TEST_OUT", os.path.join(ROOT, "tests", "out"))

SECRET_ID = "ocid1.vaultsecret.oc1.phx.amaaaaaapaypalsecret"
SIGNKEY_ID = "ocid1.vaultsecret.oc1.phx.amaaaaaasigningkey"
TOPIC_ID = "ocid1.onstopic.oc1.phx.aaaaaaaatopic"
PAYPAL_SECRET = "EFakePayPalSecret-0123456789abcdefghij"
SIGNING_KEY = ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfake\n"
               "-----END PRIVATE KEY-----\n")


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


class Fake:
    def __init__(self, platform, metadata, secrets, topics=(), ipv6=False, api_plain=False):
        os.makedirs(OUT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=f"fake-{platform}-")
        self.log = open(os.path.join(OUT, f"fake_cloud_{platform}.stderr"), "a")
        self.p = subprocess.Popen([sys.executable, FAKE, "--platform", platform, "--metadata", json.dumps(metadata),
                                   "--secrets", json.dumps(secrets), "--topics", json.dumps(list(topics)),
                                   "--dir", self.dir] + (["--ipv6"] if ipv6 else []) +
                                  (["--api-plain"] if api_plain else []),
                                  stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("fake_cloud did not start (see tests/out/fake_cloud_*.stderr)")
        self.info = json.loads(line)
        self.metadata = self.info["metadata"]
        self.api = self.info["api"]
        self.ca = self.info["ca_file"]

    def config(self, **kw):
        req = urllib.request.Request(self.metadata + "/__fake/config", data=json.dumps(kw).encode(), method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    def state(self):
        return json.loads(urllib.request.urlopen(self.metadata + "/__fake/state", timeout=5).read())

    def calls(self, service, status=None):
        return [e for e in self.state()["log"] if e[0] == service and (status is None or e[3] == status)]

    def reset(self, **kw):
        """Clears every fault, then applies kw (faults, metadata, secrets)."""
        base = dict(skew_s=0, fail5xx=0, metadata_fail=0, slow_s=0, secret404=False, deny=False, token_ttl_s=1200,
                    bad_crc=False)
        base.update(kw)
        self.config(**base)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()


class Run:
    """One driver run: .ready (dict or None), .status (dict), .fields, .log (stderr text), .max_gap_ms."""

    def __init__(self, proc_out, proc_err, rc):
        self.rc = rc
        self.log = proc_err
        self.ready = self.status = None
        self.fields = {}
        self.max_gap_ms = None
        for line in proc_out.splitlines():
            if line.startswith("READY "):
                js, _, rest = line[6:].partition("} ")
                self.ready = json.loads(js + "}")
                self.fields = dict(kv.split("=", 1) for kv in rest.split())
            elif line.startswith("STATUS "):
                self.status = json.loads(line[7:])
            elif line.startswith("LOOP max_gap_ms="):
                self.max_gap_ms = float(line.split("=", 1)[1])

    def lines(self, event):
        return [ln for ln in self.log.splitlines() if f" {event} " in ln or ln.endswith(f" {event}")]


def driver_env(fake, platform="auto", **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALED_", "PAYPAL_"))}
    env.update(SEALED_PLATFORM=platform, SEALED_METADATA_BASE=fake.metadata if fake else "",
               SEALED_CLOUD_API_BASE=fake.api if fake else "", SEALED_CLOUD_CA_FILE=fake.ca if fake else "")
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def run_driver(fake, *args, platform="auto", during=None, **extra):
    """Runs the driver; during(fake) is called ~once while it runs (to change faults mid-boot)."""
    p = subprocess.Popen([DRIVER, *args], env=driver_env(fake, platform, **extra), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if during:
        during(fake)
    out, err = p.communicate(timeout=120)
    with open(os.path.join(OUT, "cloud_driver.stderr"), "a") as f:
        f.write(f"---- {' '.join(args)} platform={platform}\n{err}")
    return Run(out, err, p.returncode)


def after(seconds, fn):
    def go(fake):
        time.sleep(seconds)
        fn(fake)
    return go


def wait_for(fn, timeout=20, step=0.3):
    """Calls fn every step seconds until it returns something true or timeout seconds pass; returns
    its last value."""
    deadline = time.time() + timeout
    v = fn()
    while not v and time.time() < deadline:
        time.sleep(step)
        v = fn()
    return v


GUARD_CAP = 9500000000000                 # the guard suites' SEALED_EGRESS_CAP_BYTES


def guard_service(fake, platform, name, metadata, secrets):
    """The real sealed-login on platform against fake, its PayPal app, domain and notification
    topic from the fake's metadata and secrets (none in its environment), its egress guard
    polling every second under GUARD_CAP; started (stop it with __exit__(None, None, None))."""
    from service import Service
    s = Service(users=["alice"], name=name, env={
        "PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_DOMAIN": "placeholder.invalid",
        "SEALED_PLATFORM": platform, "SEALED_METADATA_BASE": fake.metadata, "SEALED_CLOUD_API_BASE": fake.api,
        "SEALED_CLOUD_CA_FILE": fake.ca, "SEALED_EGRESS_CAP_BYTES": str(GUARD_CAP), "SEALED_EGRESS_POLL_S": "1"})
    fake.config(metadata=metadata, secrets=secrets)
    s.__enter__()
    return s


def guard(s):
    """The egress guard's part of s's /status."""
    return s.status()["egress_guard"]


def guard_wait(s, pred, what, timeout=40):
    """Polls s's egress guard until pred(guard) holds and returns that guard; fails naming what."""
    held = wait_for(lambda: [g for g in [guard(s)] if pred(g)], timeout)   # [the guard] once pred holds
    if not held:
        raise AssertionError(f"{what}: {guard(s)}")
    return held[0]


def select_cases():
    """CLOUD_CASES=name1,name2 runs only those cases of a suite (for debugging)."""
    import tap
    want = os.environ.get("CLOUD_CASES")
    if want:
        tap._cases[:] = [c for c in tap._cases if c.__name__ in want.split(",")]
