"""Helpers for the OCI deployment suites: a throwaway API key and oci-CLI config, the control-plane
fake (tests/fakes/fake_oci_control.py), and runs of deploy/oci/sealed-deploy-oci through a shim that
records every sealed-oci-request argv (to prove no secret is ever on a command line). Test code only."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from email.utils import formatdate

ROOT = os.environ.get("SEALED_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
DEPLOY = os.path.join(ROOT, "deploy", "oci", "sealed-deploy-oci")
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_oci_control.py")
OCIREQ = os.path.join(ROOT, "build", "sealed-oci-request")
OUT = os.path.join(os.environ.get("SEALED_TEST_OUT", os.path.join(ROOT, "tests", "out")), "deploy-oci")
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
import fakecrypto as fc  # noqa: E402

TENANCY = "ocid1.tenancy.oc1..aaaaaaaadeploytesttenancy"
USER = "ocid1.user.oc1..aaaaaaaadeploytestuser"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaadeploytestcompartment"
PAYPAL_SECRET = "EJx-DeployTest_PayPalSecret.0123456789abcdefXYZ"
DEAD = {"TERMINATED", "DELETED"}


class Env:
    """One fake control plane, one key, one config, one scratch directory."""

    def __init__(self, name, delay=0.05, free_tier=False):
        os.makedirs(OUT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=f"deploy-oci-{name}-")
        self.key = os.path.join(self.dir, "oci_api_key.pem")
        fc.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.key)
        os.chmod(self.key, 0o600)
        pub = os.path.join(self.dir, "oci_api_key_public.pem")
        fc.openssl("pkey", "-in", self.key, "-pubout", "-out", pub)
        self.errlog = open(os.path.join(OUT, f"fake_{name}.stderr"), "w")
        self.p = subprocess.Popen([sys.executable, FAKE, "--api-key-pub", pub, "--tenancy", TENANCY, "--user", USER,
                                   "--compartment", COMPARTMENT, "--delay", str(delay),
                                   "--tls-dir", os.path.join(self.dir, "tls")] + (["--free-tier"] if free_tier else []),
                                  stdout=subprocess.PIPE, stderr=self.errlog, text=True)
        info = json.loads(self.p.stdout.readline())
        self.ca_file = info["ca_file"]
        self.url, self.fingerprint, self.namespace = info["url"], info["fingerprint"], info["namespace"]
        self.config = os.path.join(self.dir, "config")
        with open(self.config, "w") as f:
            f.write(f"[DEFAULT]\nuser={USER}\nfingerprint={self.fingerprint}\ntenancy={TENANCY}\n"
                    f"region=us-phoenix-1\nkey_file={self.key}\n")
        self.argv_log = os.path.join(self.dir, "argv.log")
        self.shim = os.path.join(self.dir, "oci-request-shim")
        with open(self.shim, "w") as f:       # records argv (fields split by 0x1f, one run a line), runs the tool
            f.write(f"#!/bin/sh\n{{ for a in \"$0\" \"$@\"; do printf '%s\\037' \"$a\"; done; echo; }} >>'{self.argv_log}'\n"
                    f"exec '{OCIREQ}' \"$@\"\n")
        os.chmod(self.shim, 0o755)
        self.secret_file = os.path.join(self.dir, "paypal_secret")
        with open(self.secret_file, "w") as f:
            f.write(PAYPAL_SECRET + "\n")
        os.chmod(self.secret_file, 0o600)
        self.image = self.make_image("disk.qcow2", 200_000, b"A")
        self.outputs = []       # every stdout+stderr of every run (checked for the secret)
        self.runs_log = os.path.join(OUT, f"runs_{name}.log")
        open(self.runs_log, "w").close()

    def make_image(self, name, size, fill):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(b"QFI\xfb" + fill * (size - 4))
        return path

    def settings(self, **kw):
        s = {"compartment_id": COMPARTMENT, "domain": "login.example.com", "paypal_client_id": "AZdeployTestClientId",
             "paypal_secret_file": self.secret_file, "email": "ops@example.com", "image": self.image,
             "ca_file": self.ca_file, "mode": "standard"}
        s.update({k: v for k, v in kw.items() if v is not None})
        for k in [k for k, v in kw.items() if v is None]:
            s.pop(k, None)
        path = os.path.join(self.dir, "settings")
        with open(path, "w") as f:
            f.write("# test settings\n" + "".join(f"{k}={v}\n" for k, v in s.items()))
        return path

    def run(self, command, *args, stdin=None, settings=None, **kw):
        env = dict(os.environ, SEALED_OCI_ENDPOINT=self.url, SEALED_OCI_POLL_S="0.03", SEALED_OCI_RETRIES="2",
                   SEALED_OCI_WAIT_S="60", XDG_RUNTIME_DIR=self.dir)      # the run lock lives (and goes) here
        argv = [sys.executable, DEPLOY, command, "--config", self.config, "--tool", self.shim,
                "--settings", settings or self.settings(**kw), *args]
        p = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=300)
        out, err = p.stdout.decode(), p.stderr.decode()
        self.outputs.append(out + err)
        with open(self.runs_log, "a") as f:
            f.write(f"---- {command} {' '.join(args)} rc={p.returncode}\n{out}{err}")
        return p.returncode, out, err

    def state(self):
        return json.loads(urllib.request.urlopen(self.url + "/__fake/state", timeout=10, context=self.tls()).read())

    def control(self, what, **kw):
        req = urllib.request.Request(self.url + "/__fake/" + what, data=json.dumps(kw).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10, context=self.tls()).read()

    def tls(self):
        import ssl
        return ssl.create_default_context(cafile=self.ca_file)

    def argvs(self):
        if not os.path.exists(self.argv_log):
            return []
        return [ln.rstrip("\n").split("\x1f")[:-1] for ln in open(self.argv_log)]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.errlog.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # a request signed here (not by sealed-oci-request), for what the tool never sends
    def signed(self, method, path, body=b"", headers=("date", "(request-target)", "host"), date=None, key=None,
               body_sent=None, key_id=None, path_sent=None):
        host = self.url.split("//", 1)[1]
        h = {"date": date or formatdate(time.time(), usegmt=True), "host": host}
        if body or method in ("POST", "PUT"):
            h.update({"content-type": "application/json", "content-length": str(len(body)),
                      "x-content-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()})
        lines = [f"(request-target): {method.lower()} {path}" if x == "(request-target)" else f"{x}: {h[x]}"
                 for x in headers]
        n, e, d = fc.rsa_private(fc.pem_to_der(open(key or self.key).read()))
        sig = base64.b64encode(fc.rsa_sign(n, d, "\n".join(lines).encode())).decode()
        kid = key_id or f"{TENANCY}/{USER}/{self.fingerprint}"
        h["authorization"] = (f'Signature version="1",keyId="{kid}",algorithm="rsa-sha256",'
                              f'headers="{" ".join(headers)}",signature="{sig}"')
        data = body_sent if body_sent is not None else body
        h["content-length"] = str(len(data))
        req = urllib.request.Request(self.url + (path_sent or path), data=data if method in ("POST", "PUT") else None,
                                     method=method, headers={k: v for k, v in h.items() if k != "host"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.tls()) as r:
                return r.status, json.loads(r.read() or b"null"), dict(r.headers)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null"), dict(err.headers)


def by_kind(state, kind, live_only=True):
    out = []
    for r in state["resources"]:
        rid = r.get("id") or r.get("topicId")
        if rid.split(".")[1] == kind and (not live_only or r.get("lifecycleState") not in DEAD):
            out.append(r)
    return out


def one(state, kind):
    xs = by_kind(state, kind)
    if len(xs) != 1:
        raise AssertionError(f"{len(xs)} live {kind} resources, want 1: {[x.get('displayName') for x in xs]}")
    return xs[0]
