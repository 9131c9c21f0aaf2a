"""The real service against Pebble with SEALED_STATE_DIR: restarted again and again (kill -9 and
SIGTERM), it reuses its ACME account and its certificate from the saved state, so Pebble creates one
account and issues one certificate, and every restart serves the same certificate at once."""
import json
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
import pebble_env as pe  # noqa: E402

DOMAIN = "acme.test"
SERVICE = os.path.join(pe.ROOT, "build", "sealed-login")
RESTARTS = 6


def served_cert(sp):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", sp), timeout=5) as c:
        with ctx.wrap_socket(c, server_hostname=DOMAIN) as t:
            return t.getpeercert(binary_form=True)


@case
def restarts_reuse_one_account_and_one_certificate():
    hp, sp = pe.free_port(), pe.free_port()
    peb = pe.Pebble(hp, tag="pebble-state")
    state = tempfile.mkdtemp(prefix="acme-state-", dir=peb.dir)
    env = dict(os.environ, SEALED_DOMAIN="%s:%d" % (DOMAIN, sp), SEALED_HTTPS_PORT=str(sp), SEALED_HTTP_PORT=str(hp),
               SEALED_LISTEN="127.0.0.1", SEALED_ACME_DIRECTORY=peb.directory, SEALED_ACME_CA_FILE=peb.ca,
               PAYPAL_ENV="sandbox", PAYPAL_CLIENT_ID="test-client", PAYPAL_SECRET="test-secret",
               SEALED_STATE_DIR=state)
    procs = []
    try:
        svc = pe.Proc("svc-state-0", [SERVICE], env=env, logdir=peb.dir)
        procs.append(svc)
        check(svc.wait_for("acme.certificate.installed", 30), "no certificate within 30 s")
        first = served_cert(sp)
        roots = peb.roots_file()
        for i in range(1, RESTARTS + 1):
            svc.p.send_signal(signal.SIGKILL if i % 2 else signal.SIGTERM)
            svc.p.wait(30)
            svc.stop()
            svc = pe.Proc("svc-state-%d" % i, [SERVICE], env=env, logdir=peb.dir)
            procs.append(svc)
            check(svc.wait_for("acme.restore", 10), "restart %d: no restore" % i)
            check(svc.grep("certificate=installed"), "restart %d: saved certificate not installed" % i)
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    der = served_cert(sp)
                    break
                except OSError:
                    time.sleep(0.1)
            check(der == first, "restart %d serves another certificate" % i)
            body, _ = pe.https_get(sp, roots, DOMAIN, "/status?format=json")
            st = json.loads(body.partition("\r\n\r\n")[2])
            check(st["acme"]["certificate_from_saved_state"] is True and st["acme"]["state"] == "waiting-renewal",
                  st["acme"])
            check(st["login_available"] is True, st.get("login_unavailable_reason"))
        time.sleep(1)
        logs = "".join(open(os.path.join(peb.dir, "svc-state-%d.log" % i)).read() for i in range(RESTARTS + 1))
        check(logs.count("acme.certificate.installed") == 1, logs.count("acme.certificate.installed"))
        check(logs.count("acme.account created=yes") == 1)
        check("created=existing" not in logs)   # the account URL was reused: no newAccount call at all
        check(logs.count("acme.restore result=ok") == RESTARTS)
        issued = peb.proc.grep("Issued certificate serial")
        check(issued and len(issued) == 1, issued)
        accounts = [l for _, l in peb.proc.grep("There are now") if "accounts" in l]
        check(len(accounts) == 1, accounts)
        check(not re.search(r"BEGIN (EC )?PRIVATE KEY", logs), "a key was logged")
    finally:
        for p in procs:
            p.stop()
        peb.stop()


done()
