"""pebble_env: starts Let's Encrypt's test CA (Debian `pebble` 2.4 and `pebble-challtestsrv`) on
loopback with free ports and its own TLS certificate, optionally the ARI front (tests/fakes/ari_front.py), and
the ACME test driver; collects their output and stops only the processes it started.
Used by tests/acme/test_*.py and bench/acme/run.sh."""
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import shutil
import time
import urllib.request

ROOT = os.environ.get("SEALED_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DRIVER = os.path.join(ROOT, "build", "tests", "acme", "acme-driver")
OUT = os.environ.get("SEALED_TEST_OUT", os.path.join(ROOT, "tests", "out"))


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ports import free_port  # noqa: E402,F401  (re-exported for the ACME tests)


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


class Proc:
    """A child process whose output lines are collected by a thread (with arrival times)."""

    def __init__(self, name, cmd, env=None, logdir=None):
        self.name = name
        self.lines = []          # (monotonic time, stream, text)
        self.lock = threading.Lock()
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                  stdin=subprocess.DEVNULL, text=True, errors="replace")
        self.logf = open(os.path.join(logdir, name + ".log"), "w") if logdir else None
        for stream, tag in ((self.p.stdout, "out"), (self.p.stderr, "err")):
            threading.Thread(target=self._pump, args=(stream, tag), daemon=True).start()

    def _pump(self, stream, tag):
        for line in stream:
            with self.lock:
                self.lines.append((time.monotonic(), tag, line.rstrip("\n")))
                if self.logf:
                    self.logf.write(line)
                    self.logf.flush()

    def grep(self, needle, tag=None):
        with self.lock:
            return [(t, l) for (t, s, l) in self.lines if needle in l and (tag is None or s == tag)]

    def wait_for(self, needle, timeout, count=1, tag=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.grep(needle, tag)) >= count:
                return True
            if self.p.poll() is not None:
                time.sleep(0.1)
                return len(self.grep(needle, tag)) >= count
            time.sleep(0.02)
        return False

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.logf:
            self.logf.close()
            self.logf = None


class Pebble:
    """Pebble + challtestsrv on free loopback ports. http_port is where Pebble validates HTTP-01.
    extra_san: more subjectAltNames for Pebble's own TLS certificate (e.g. "IP:10.0.2.2", the host
    as a QEMU guest reaches it)."""

    def __init__(self, http_port, validity=None, nonce_reject=0, authz_reuse=0, tag="pebble", extra_san=()):
        self.dir = os.path.join(OUT, "acme", tag)   # logs of the last run stay for reading
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        d = self.dir
        self.ca = os.path.join(d, "ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", os.path.join(d, "ca.key"), "-out", self.ca, "-days", "2", "-subj", "/CN=pebble-test-ca"])
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "srv.csr"), "-subj", "/CN=localhost"])
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("subjectAltName=" + ",".join(["DNS:localhost", "IP:127.0.0.1"] + list(extra_san)) + "\n")
        run(["openssl", "x509", "-req", "-in", os.path.join(d, "srv.csr"), "-CA", self.ca, "-CAkey",
             os.path.join(d, "ca.key"), "-CAcreateserial", "-out", os.path.join(d, "cert.pem"), "-days", "2",
             "-extfile", os.path.join(d, "ext")])
        self.port, self.mgmt, self.dns, self.cts_mgmt = free_port(), free_port(), free_port(), free_port()
        cfg = {"pebble": {"listenAddress": "127.0.0.1:%d" % self.port,
                          "managementListenAddress": "127.0.0.1:%d" % self.mgmt,
                          "certificate": os.path.join(d, "cert.pem"), "privateKey": os.path.join(d, "key.pem"),
                          "httpPort": http_port, "tlsPort": free_port(), "ocspResponderURL": "",
                          "externalAccountBindingRequired": False}}
        if validity:
            cfg["pebble"]["certificateValidityPeriod"] = validity
        with open(os.path.join(d, "pebble.json"), "w") as f:
            json.dump(cfg, f)
        self.cts = Proc(tag + "-challtestsrv", ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                                               "-dns01", "127.0.0.1:%d" % self.dns, "-http01", "", "-https01", "",
                                               "-tlsalpn01", "", "-management", "127.0.0.1:%d" % self.cts_mgmt],
                        logdir=d)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_VA_ALWAYS_VALID="0",
                   PEBBLE_WFE_NONCEREJECT=str(nonce_reject), PEBBLE_AUTHZREUSE=str(authz_reuse))
        self.proc = Proc(tag, ["pebble", "-config", os.path.join(d, "pebble.json"), "-dnsserver",
                               "127.0.0.1:%d" % self.dns], env=env, logdir=d)
        self.directory = "https://127.0.0.1:%d/dir" % self.port
        self.ctx = ssl.create_default_context(cafile=self.ca)
        end = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.directory, context=self.ctx, timeout=2).read()
                break
            except Exception:
                if time.monotonic() > end:
                    raise RuntimeError("pebble did not start")
                time.sleep(0.1)

    def mgmt_get(self, path):
        return urllib.request.urlopen("https://127.0.0.1:%d%s" % (self.mgmt, path), context=self.ctx, timeout=5).read()

    def roots_file(self):
        """Pebble's issuing root and intermediate (made fresh at each start) as a CA file."""
        p = os.path.join(self.dir, "issuer-roots.pem")
        with open(p, "wb") as f:
            f.write(self.mgmt_get("/roots/0"))
            f.write(self.mgmt_get("/intermediates/0"))
        return p

    def stop(self):
        self.proc.stop()
        self.cts.stop()


def start_driver(directory, ca, domain, http_port, https_port, extra=(), logdir=None, name="driver"):
    cmd = [DRIVER, "--directory", directory, "--ca-file", ca, "--domain", domain, "--http-port", str(http_port),
           "--https-port", str(https_port)] + list(extra)
    return Proc(name, cmd, logdir=logdir)


def https_get(port, cafile, host="acme.test", path="/", timeout=5):
    """One request on a new TLS connection, verified against cafile for host. Returns the body."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with ctx.wrap_socket(s, server_hostname=host) as t:
            der = t.getpeercert(binary_form=True)
            t.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
            data = b""
            while True:
                b = t.recv(65536)
                if not b:
                    break
                data += b
            return data.decode(errors="replace"), der


def http_get(port, path, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    status = int(head.split(" ", 2)[1])
    return status, head, body


class Load:
    """Clients requesting continuously: new TLS connections and one keep-alive connection."""

    def __init__(self, port, cafile, host, path, expect):
        self.port, self.cafile, self.host, self.path, self.expect = port, cafile, host, path, expect
        self.certs = set()
        self.ok = 0
        self.fail = []
        self.gens = set()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.fresh, daemon=True) for _ in range(3)]
        self.threads.append(threading.Thread(target=self.keepalive, daemon=True))
        for t in self.threads:
            t.start()

    def note(self, body):
        for w in body.split():
            if w.startswith("generation="):
                self.gens.add(int(w.split("=")[1]))

    def fresh(self):
        while not self.stop_ev.is_set():
            try:
                body, der = https_get(self.port, self.cafile, self.host, self.path)
                if self.expect not in body:
                    raise RuntimeError("bad body %r" % body[:80])
                self.note(body)
                self.certs.add(der)
                self.ok += 1
            except Exception as e:  # noqa: BLE001
                self.fail.append(repr(e))

    def keepalive(self):
        """One persistent connection across the swaps; reconnects only when the server said
        "Connection: close" (its requests-per-connection cap), anything else is a failure."""
        ctx = ssl.create_default_context(cafile=self.cafile)
        try:
            while not self.stop_ev.is_set():
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    with ctx.wrap_socket(s, server_hostname=self.host) as t:
                        f = t.makefile("rb")
                        closing = False
                        while not closing and not self.stop_ev.is_set():
                            t.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (self.path, self.host)).encode())
                            line = f.readline()
                            if not line.startswith(b"HTTP/1.1 200"):
                                raise RuntimeError("keep-alive got %r" % line)
                            clen = 0
                            while True:
                                h = f.readline()
                                if h in (b"\r\n", b""):
                                    break
                                if h.lower().startswith(b"content-length:"):
                                    clen = int(h.split(b":")[1])
                                if h.lower().startswith(b"connection:") and b"close" in h.lower():
                                    closing = True
                            f.read(clen)
                            self.ok += 1
                            self.keepalive_requests = getattr(self, "keepalive_requests", 0) + 1
                            time.sleep(0.01)
        except Exception as e:  # noqa: BLE001
            self.fail.append("keepalive: " + repr(e))

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)
