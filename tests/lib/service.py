"""Starts the real sealed-login binary and the fake PayPal on free loopback ports for
whole-binary tests, and drives a login over HTTPS the way a browser would (cookies, redirects).

    with Service(users=[...]) as s:
        r = s.login("alice")          # follows /login -> fake authorize -> callback
        r.status, r.body
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ports import free_port  # noqa: E402,F401  (re-exported: tests import it from here)

ROOT = os.environ.get("SEALED_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "sealed-login")
FAULTS_BIN = os.path.join(ROOT, "build", "faults", "sealed-login")
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_paypal.py")
OUT = os.environ.get("SEALED_TEST_OUT", os.path.join(ROOT, "tests", "out"))


def tls_context():
    # not create_default_context(): loading the system's CA store costs ~40 ms a call, which
    # benchmarks (bench/capped.py) would count as the service's latency; nothing is verified here
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE   # the service's certificate is self-signed in local runs
    return ctx


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in reversed(self.headers):
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def user_file(users):
    """Writes a fake-PayPal users file; users are keys or dicts."""
    full = []
    for u in users:
        if isinstance(u, str):
            u = {"key": u, "name": f"Test {u}", "given_name": "Test", "family_name": u,
                 "email": f"{u}@example.com", "payer_id": ("P" + u.upper() + "XXXXXXXXXXXX")[:13],
                 "verified_account": True}
        full.append(u)
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, dir=OUT)
    json.dump(full, f)
    f.close()
    return f.name


class Service:
    def __init__(self, users=None, env=None, name="service", binary=BIN, preexec=None):
        """preexec: run in the service's process before exec (bench/capped.py caps it in a cgroup)."""
        self.binary = binary
        self.preexec = preexec
        self.users = users
        self.extra_env = env or {}
        self.name = name

    def __enter__(self):
        self.start_fake()
        self.start_service()
        return self

    redirect_host = "localhost"     # the host of the service's domain, as the fake registers it

    def start_fake(self):
        """Picks self.port (the service's HTTPS port as clients see it) and starts the fake PayPal
        on self.fake_port with a fresh client id and secret."""
        os.makedirs(OUT, exist_ok=True)
        self.port = free_port()
        self.fake_port = free_port()
        self.client_id = "test-client-" + os.urandom(4).hex()
        self.secret = os.urandom(16).hex()
        args = [sys.executable, FAKE, "--port", str(self.fake_port), "--client-id", self.client_id,
                "--redirect-uri", f"https://{self.redirect_host}:{self.port}/callback"]
        if self.users:
            args += ["--users", user_file(self.users)]
        self.fake_log = open(os.path.join(OUT, f"{self.name}-fake-paypal.log"), "w")
        self.fake = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.fake_log, text=True,
                                     env=dict(os.environ, FAKE_PAYPAL_CLIENT_SECRET=self.secret))
        line = self.fake.stdout.readline()
        if "listening" not in line:
            raise RuntimeError("fake PayPal did not start: " + line)

    def guest_config(self):
        """The config file for a test image whose service, inside a QEMU guest on user networking,
        talks to this fake PayPal on the host (10.0.2.2) and is reached on the guest's port 8443."""
        return "\n".join([
            "# test build: the fake PayPal on the host (a different image than a real one)",
            "listen = 0.0.0.0", "https_port = 8443", f"domain = localhost:{self.port}",
            "paypal_env = local", f"paypal_client_id = {self.client_id}", f"paypal_secret = {self.secret}",
            f"paypal_authorize_url = http://10.0.2.2:{self.fake_port}/signin/authorize",
            f"paypal_api_base = http://10.0.2.2:{self.fake_port}",
            # the fake names itself by its own base URL in the id_tokens it signs
            f"paypal_issuer = http://127.0.0.1:{self.fake_port}",
            "idset_capacity = 100000", "platform = none", ""])

    def start_service(self):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("PAYPAL_") or k.startswith("SEALED_"):
                del env[k]
        env.update({
            "PAYPAL_ENV": "local", "PAYPAL_CLIENT_ID": self.client_id, "PAYPAL_SECRET": self.secret,
            "PAYPAL_AUTHORIZE_URL": f"http://127.0.0.1:{self.fake_port}/signin/authorize",
            "PAYPAL_API_BASE": f"http://127.0.0.1:{self.fake_port}",
            "SEALED_HTTPS_PORT": str(self.port), "SEALED_LISTEN": "127.0.0.1",
            "SEALED_DOMAIN": f"localhost:{self.port}", "SEALED_IDSET_CAPACITY": "100000",
            # every test client is 127.0.0.1: suites log in faster than a person; the limit itself
            # is tested with its own value (tests/integration/test_state.py)
            "SEALED_CALLBACK_RATE_PER_ADDR": "6000",
        })
        env.update(self.extra_env)
        self.log_path = os.path.join(OUT, f"{self.name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary], stdout=subprocess.PIPE, stderr=self.log, env=env, text=True,
                                     preexec_fn=self.preexec)
        line = self.proc.stdout.readline()
        if "serving" not in line:
            raise RuntimeError("service did not start: " + line + open(self.log_path).read())

    def __exit__(self, *a):
        for p in (self.proc, self.fake):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()
        self.fake_log.close()

    # ---- plain requests ----------------------------------------------------------------
    def conn(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=tls_context(), timeout=timeout)

    def get(self, path, headers=None, method="GET", timeout=30):
        c = self.conn(timeout)
        try:
            c.request(method, path, headers=headers or {})
            r = c.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            c.close()

    def fake_request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.fake_port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            c.close()

    def fault(self, endpoint, mode, **kw):
        body = json.dumps(dict(endpoint=endpoint, mode=mode, **kw))
        r = self.fake_request("POST", "/__control/fault", body, {"Content-Type": "application/json"})
        assert r.status == 200, r.text

    def status(self):
        return json.loads(self.get("/status?format=json").body)

    # ---- the login flow, as a browser does it ------------------------------------------
    def start_login(self, jar=None):
        """GET /login: returns (cookie header value, authorize URL). The cookie header carries every
        cookie the service set (the login cookie and the result-retrieval secret) plus those in jar
        (a dict name -> value, updated in place), as a browser's would."""
        jar = {} if jar is None else jar
        r = self.get("/login", headers={"Cookie": cookie_header(jar)} if jar else None)
        assert r.status == 302, (r.status, r.text)
        for c in r.all("Set-Cookie"):
            name, _, value = c.split(";", 1)[0].partition("=")
            jar[name] = value
        return cookie_header(jar), r.header("Location")

    def authorize(self, url, user, action="login"):
        """Visits the fake's authorize page and submits it; returns the callback path+query."""
        u = urllib.parse.urlsplit(url)
        r = self.fake_request("GET", u.path + "?" + u.query)
        assert r.status == 200, (r.status, r.text[:300])
        tx = re.search(r'name="tx" value="([^"]+)"', r.text).group(1)
        form = urllib.parse.urlencode({"tx": tx, "user": user, "action": action})
        r = self.fake_request("POST", "/signin/authorize", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status in (302, 303), (r.status, r.text[:300])
        loc = urllib.parse.urlsplit(r.header("Location"))
        return loc.path + "?" + loc.query

    def login(self, user):
        cookie, url = self.start_login()
        cb = self.authorize(url, user)
        return self.get(cb, headers={"Cookie": cookie})

    def log_text(self):
        self.log.flush()
        return open(self.log_path).read()


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def jws_from_page(text):
    m = re.search(r'<textarea id="jws" readonly>([^<]+)</textarea>', text)
    return m.group(1) if m else None
