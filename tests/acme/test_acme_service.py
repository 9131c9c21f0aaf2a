"""The real service (build/sealed-login, its http_server and tls) obtaining and renewing its
certificate from Pebble with the compiled-in timing policy: port 80 serves the challenge and
redirects the rest, /status shows the ACME state, and certificate swaps under continuous HTTPS
load fail no request."""
import json
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
import pebble_env as pe  # noqa: E402

DOMAIN = "acme.test"
SERVICE = os.path.join(pe.ROOT, "build", "sealed-login")


def start(validity=None, name="svc", extra_env=None, authz_reuse=0, pebble_http_port=None):
    hp, sp = pe.free_port(), pe.free_port()
    peb = pe.Pebble(pebble_http_port or hp, validity=validity, authz_reuse=authz_reuse, tag="pebble-" + name)
    env = dict(os.environ, SEALED_DOMAIN="%s:%d" % (DOMAIN, sp), SEALED_HTTPS_PORT=str(sp), SEALED_HTTP_PORT=str(hp),
               SEALED_LISTEN="127.0.0.1", SEALED_ACME_DIRECTORY=peb.directory, SEALED_ACME_CA_FILE=peb.ca,
               SEALED_ACME_CONTACT="mailto:ops@acme.test", PAYPAL_ENV="sandbox", PAYPAL_CLIENT_ID="test-client",
               PAYPAL_SECRET="test-secret")
    env.update(extra_env or {})
    svc = pe.Proc(name, [SERVICE], env=env, logdir=peb.dir)
    return peb, svc, hp, sp


def status(sp, roots):
    body, _ = pe.https_get(sp, roots, DOMAIN, "/status?format=json")
    return json.loads(body.partition("\r\n\r\n")[2])


@case
def service_issues_and_serves():
    peb, svc, hp, sp = start(name="svc-first")
    try:
        check(svc.wait_for("acme.certificate.installed", 30), "no certificate within 30 s")
        roots = peb.roots_file()
        body, _ = pe.https_get(sp, roots, DOMAIN, "/healthz")
        check(body.endswith("ok\n"), body[-50:])
        s = status(sp, roots)
        a = s.get("acme") or {}
        check(a.get("state") == "waiting-renewal" and a.get("certificates") == 1, a)
        check(a.get("not_after", 0) > time.time() and a.get("next_renewal", 0) > time.time(), a)
        check(a.get("renewal_basis") == "lifetime" and a.get("ari") is False, a)
        check(s["certificate"]["generation"] == 2, s["certificate"])   # 1 = the self-signed start
        check(s["login_available"] is True, s.get("login_unavailable_reason"))
        st, _, _ = pe.http_get(hp, "/.well-known/acme-challenge/" + "B" * 43)
        check(st == 404, "stale token answered %d" % st)
        st, head, _ = pe.http_get(hp, "/login?x=1")
        check(st == 301 and ("Location: https://%s:%d/login?x=1" % (DOMAIN, sp)) in head, head)
        check(not svc.grep("ops@acme.test"), "contact address was logged")
    finally:
        svc.stop()
        peb.stop()


@case
def service_before_its_certificate():
    # Pebble validates on a port nobody serves: no certificate arrives. :443 answers with the
    # 1-day self-signed start certificate, login is not offered and says why, /status shows
    # the ACME error and the backoff.
    peb, svc, hp, sp = start(name="svc-pending", pebble_http_port=pe.free_port())
    try:
        check(svc.wait_for("acme.attempt.failed", 30), "no failed attempt")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", sp), timeout=5) as c:
            with ctx.wrap_socket(c, server_hostname=DOMAIN) as t:
                der = t.getpeercert(binary_form=True)
                t.sendall(b"GET /status?format=json HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    b = t.recv(65536)
                    if not b:
                        break
                    data += b
        s = json.loads(data.decode().partition("\r\n\r\n")[2])
        check(s["login_available"] is False and "certificate" in s["login_unavailable_reason"], s)
        check(s["acme"]["state"] == "backoff" and s["acme"]["certificates"] == 0, s["acme"])
        check("connection" in (s["acme"]["last_error"] or ""), s["acme"]["last_error"])
        out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-issuer", "-startdate", "-enddate"],
                             input=der, capture_output=True).stdout.decode()
        check("Pebble" not in out, "a Pebble certificate was served: " + out)
        check(s["certificate"]["generation"] == 1, s["certificate"])
        na = time.mktime(time.strptime(out.split("notAfter=")[1].strip(), "%b %d %H:%M:%S %Y GMT")) - time.timezone
        check(na - time.time() <= 86400 + 60, "start certificate lives longer than a day: " + out)
    finally:
        svc.stop()
        peb.stop()


@case
def service_swaps_certificates_under_load():
    # 9-second certificates: renewals at 2/3 of the lifetime with the image's own policy.
    peb, svc, hp, sp = start(validity=9, name="svc-swap", authz_reuse=50)   # renewals may reuse authorizations
    load = None
    try:
        check(svc.wait_for("acme.certificate.installed", 30), "no first certificate")
        roots = peb.roots_file()
        load = pe.Load(sp, roots, DOMAIN, "/healthz", "ok\n")
        check(svc.wait_for("acme.certificate.installed", 40, count=4), "fewer than 3 renewals")
        time.sleep(1)
        load.stop()
        check(not load.fail, "requests failed during swaps: %r" % load.fail[:5])
        check(load.ok > 100, "too few requests: %d" % load.ok)
        check(len(load.certs) >= 3, "clients saw %d certificates, expected >= 3" % len(load.certs))
        s = status(sp, roots)
        check(s["acme"]["certificates"] >= 4 and s["certificate"]["generation"] >= 5, s["acme"])
        check(not svc.grep("attempt.failed"), "an attempt failed")
    finally:
        if load:
            load.stop()
        svc.stop()
        peb.stop()


done()
