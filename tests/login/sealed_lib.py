"""Helpers for the sealed-state suites: a sealed-login run on the fake cloud (tests/cloud/
fake_cloud.py, which mounts the fake object stores of tests/fakes/fake_object_store.py) whose
state is sealed by a TPM (swtpm, tpm_or_skip and tpm_seal_env) or the SEV-SNP emulation, with one
fixed PayPal app across runs (so the same account has the same pairwise id after a "reboot").
Test code only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "cloud"))
sys.path.insert(0, os.path.join(HERE, "..", "attest"))
import service  # noqa: E402
from service import Service, jws_from_page  # noqa: E402
import cloudtest as ct  # noqa: E402

GCS_OBJ = "sealed-state/state.v1"
OCI_SPEC = "oci:fakenamespace/sealed-state/state.v1"


def tpm_or_skip(prefix):
    """A fresh swtpm (tests/attest/swtpm_lib.py), started in a new temporary directory whose name
    begins with prefix; when swtpm is not installed, the suite's one TAP line saying it is skipped,
    and exit."""
    if not shutil.which("swtpm"):
        print("ok 1 # skip swtpm not installed (scripts/packages/verify.txt)")
        sys.exit(0)
    from swtpm_lib import Swtpm
    return Swtpm(tempfile.mkdtemp(prefix=prefix)).start()


def tpm_seal_env(tpm):
    """The environment that seals the state with tpm (an Swtpm) and gives the service no TPM for
    its evidence."""
    return {"SEALED_STATE_SEAL": "tpm", "SEALED_STATE_TPM_DEV": tpm.spec, "SEALED_TPM_DEV": "/nonexistent-tpm"}


def post(fake, path, obj):
    req = urllib.request.Request(fake.metadata + path, data=json.dumps(obj).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).read()


def objects(fake):
    return json.loads(urllib.request.urlopen(fake.metadata + "/__fake/objects", timeout=5).read())


def login_ok(r):
    return r.status == 200 and jws_from_page(r.text)


def sealed_status(s):
    return s.status()["state"]


class Run:
    """with Run(cloud_fake, state_dir, name, client=(id, secret), seal_env={...}) as svc: ...
    The service is on platform gcp (GCS) or oci (Object Storage), its state in state_dir."""

    def __init__(self, cloud, state_dir, name, client, seal_env, platform="gcp", binary=None, extra=None,
                 users=("alice", "bob", "carol", "dave"), preload=None):
        self.cloud = cloud
        env = {"PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_PLATFORM": platform,
               "SEALED_METADATA_BASE": cloud.metadata, "SEALED_CLOUD_API_BASE": cloud.api,
               "SEALED_CLOUD_CA_FILE": cloud.ca, "SEALED_STATE_DIR": state_dir}
        if platform == "gcp":
            env.update(SEALED_STATE_STORE="gcs:" + GCS_OBJ, SEALED_STATE_STORE_BASE=cloud.api + "/gcs")
        else:
            env.update(SEALED_STATE_STORE=OCI_SPEC, SEALED_STATE_STORE_BASE=cloud.api)
        env.update(seal_env)
        env.update(extra or {})
        if preload:
            env["LD_PRELOAD"] = preload
        kw = {"binary": binary} if binary else {}
        self.svc = Service(users=list(users), env=env, name=name, **kw)
        self.client = client
        self.platform = platform

    def __enter__(self):
        s = self.svc
        s.start_fake()
        # the same PayPal app every run: restart the fake PayPal with the fixed client id and secret
        s.fake.terminate()
        s.fake.wait(5)
        s.fake_log.close()
        s.client_id, s.secret = self.client
        args = [sys.executable, service.FAKE, "--port", str(s.fake_port), "--client-id", s.client_id,
                "--redirect-uri", f"https://localhost:{s.port}/callback", "--users", service.user_file(s.users)]
        s.fake_log = open(os.path.join(service.OUT, f"{s.name}-fake-paypal.log"), "w")
        s.fake = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=s.fake_log, text=True,
                                  env=dict(os.environ, FAKE_PAYPAL_CLIENT_SECRET=s.secret))
        assert "listening" in s.fake.stdout.readline()
        sid = "paypal-secret" if self.platform == "gcp" else ct.SECRET_ID
        self.cloud.config(metadata={"paypal_client_id": s.client_id, "domain": f"localhost:{s.port}",
                                    "secret_ocid": sid}, secrets={sid: s.secret})
        s.start_service()
        ct.wait_for(lambda: s.status()["cloud"]["ready"], 30, 0.2)
        return s

    def __exit__(self, *a):
        self.svc.__exit__(*a)
