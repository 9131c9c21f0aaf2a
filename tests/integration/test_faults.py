"""Whole-binary failure tests on the fault-injection build (build/faults/sealed-login, see
src/login/fault.h): evidence failure, evidence timeout, signing failure and rendering failure
each give a clear error page and leave the PayPal id unused; the next attempt succeeds. A TLS
connection whose SSL cannot be made is closed alone, and counted nowhere as waiting."""
import os
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done                 # noqa: E402
from service import Service, FAULTS_BIN, OUT, jws_from_page, tls_context   # noqa: E402

fault_file = tempfile.NamedTemporaryFile("w", delete=False, dir=OUT, suffix=".fault").name
S = Service(users=["a1", "a2", "a3", "a4", "a5"], env={"SEALED_FAULT_FILE": fault_file},
            name="faults", binary=FAULTS_BIN).__enter__()


def set_fault(name):
    with open(fault_file, "w") as f:
        f.write(name)


def fails_then_succeeds(user, fault, status, words):
    n = S.status()["ids_served"]
    set_fault(fault)
    r = S.login(user)
    set_fault("")
    check(r.status == status, (fault, r.status))
    check(words in r.text, r.text[:400])
    check("has not used up" in r.text or "was not used up" in r.text)
    check(jws_from_page(r.text) is None)
    check(S.status()["ids_served"] == n)
    r = S.login(user)
    check(r.status == 200, (fault, "retry", r.status))
    check(S.status()["ids_served"] == n + 1)


@case
def evidence_failure_gives_503_and_id_unused():
    fails_then_succeeds("a1", "attest_fail", 503, "Evidence unavailable")


@case
def signing_failure_gives_500_and_id_unused():
    fails_then_succeeds("a2", "sign", 500, "Signing failed")


@case
def rendering_failure_gives_503_and_id_unused():
    fails_then_succeeds("a3", "render", 503, "Try again")


@case
def evidence_timeout_gives_504_and_id_unused():
    t = time.time()
    fails_then_succeeds("a4", "attest_slow", 504, "Evidence unavailable")
    check(time.time() - t < 60)
    check(S.status()["evidence"]["failed"] >= 1)


@case
def visitor_leaving_during_evidence_uses_nothing():
    n = S.status()["ids_served"]
    set_fault("attest_slow")
    cookie, url = S.start_login()
    cb = S.authorize(url, "a5")
    try:
        S.get(cb, headers={"Cookie": cookie}, timeout=2)   # gives up long before the evidence
        check(False, "expected the client to time out")
    except Exception:
        pass
    set_fault("")
    time.sleep(24)      # the abandoned evidence request finishes or times out
    check(S.status()["ids_served"] == n)
    check("login.abandoned" in S.log_text())
    check(S.login("a5").status == 200)


@case
def tls_set_up_failing_closes_that_connection_and_nothing_else():
    # the SSL for a connection whose first record is in cannot be made (http_server.c conn_start_tls)
    before = S.status()["http"]
    set_fault("conn_tls")
    try:
        raw = socket.create_connection(("127.0.0.1", S.port), timeout=20)
        try:
            tls_context().wrap_socket(raw, server_hostname="localhost")
            check(False, "a TLS handshake completed without an SSL")
        except (ssl.SSLError, ConnectionResetError, OSError):
            pass
        raw.close()
    finally:
        set_fault("")
    check(S.get("/healthz").status == 200)
    for _ in range(100):
        st = S.status()["http"]
        if st["connections_open"] == 1:
            break
        time.sleep(0.1)
    check(st["connections_open"] == 1 and not any(st["waiting"].values()), st)
    check(st["timed_out"] == before["timed_out"], st)   # closed at once, not left to its deadline


try:
    done()
finally:
    S.__exit__()
    os.unlink(fault_file)
