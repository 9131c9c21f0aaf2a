"""ACME Renewal Information (RFC 9773), `replaces`, profiles and CA rate limits, against Pebble
2.4 behind tests/fakes/ari_front.py (Pebble 2.4 has none of these; the front adds them as Let's Encrypt
serves them and checks what the client sends). Certificates still come from Pebble."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from tap import case, check, done  # noqa: E402
import pebble_env as pe  # noqa: E402
from ari_front import AriFront  # noqa: E402

DOMAIN = "acme.test"


def env(validity=None, extra=(), name="ari", setup=None):
    http_port, https_port, front_port = pe.free_port(), pe.free_port(), pe.free_port()
    peb = pe.Pebble(http_port, validity=validity, tag="pebble-" + name)
    front = AriFront(peb, front_port, os.path.join(peb.dir, "cert.pem"), os.path.join(peb.dir, "key.pem"))
    if setup:
        setup(front)
    drv = pe.start_driver(front.directory, peb.ca, DOMAIN, http_port, https_port, ["--fast"] + list(extra),
                          logdir=peb.dir, name=name)
    return peb, front, drv, https_port


def stop(peb, front, drv):
    drv.stop()
    front.stop()
    peb.stop()


@case
def ari_renewal_with_replaces_and_profile():
    # 20 s certificates; the front suggests renewing between 40% and 50% of the lifetime (the
    # client's own fallback would be 67%). The renewal order must carry replaces = the RFC 9773
    # identifier of the certificate it replaces, and the configured profile.
    peb, front, drv, sp = env(validity=20, extra=["--profile", "shortlived"], name="ari-renew")
    try:
        check(drv.wait_for("CERT generation=1", 30), "no first certificate")
        t1 = drv.grep("CERT generation=1")[0][0]
        check(drv.wait_for("acme.directory ari=yes profiles=yes", 1), "directory ARI/profiles not seen")
        check(drv.wait_for("CERT generation=2", 30), "no ARI renewal")
        t2 = drv.grep("CERT generation=2")[0][0]
        check(drv.grep("acme.renewal.start basis=ari replaces=yes"), "renewal not ARI-based with replaces")
        check(6 <= t2 - t1 <= 12.5, "renewed %.1f s after issuance; ARI window was 8-10 s" % (t2 - t1))
        with front.lock:
            orders = list(front.orders)
            gets = list(front.ari_gets)
        check(orders[0]["replaces"] is None and orders[0]["status"] == 201, orders)
        check(all(o["profile"] == "shortlived" for o in orders), "profile not requested: %r" % orders)
        check(len(orders) >= 2 and orders[1]["replaces"] == gets[0]["id"] and orders[1]["status"] == 201,
              "replaces %r does not name the first certificate %r" % (orders[1:2], gets[0]["id"]))
        check(all(g["status"] == 200 for g in gets), "renewalInfo lookups failed: %r" % gets)
        body, _ = pe.https_get(sp, peb.roots_file(), DOMAIN)
        check("ok generation=2" in body, body)
    finally:
        stop(peb, front, drv)


@case
def ari_retry_after_is_honoured():
    # Window far in the future with Retry-After: 2 -> the client re-checks renewalInfo no more
    # often than every 2 s, and does not renew.
    def setup(f):
        f.window = "future"
        f.retry_after = 2
    peb, front, drv, sp = env(validity=3600, name="ari-poll", setup=setup)
    try:
        check(drv.wait_for("CERT generation=1", 30), "no first certificate")
        time.sleep(7)
        with front.lock:
            ts = [g["t"] for g in front.ari_gets]
        check(3 <= len(ts) <= 5, "expected 3-5 renewalInfo checks in ~7 s, got %d" % len(ts))
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        check(all(g >= 1.9 for g in gaps), "re-checked faster than Retry-After: %r" % gaps)
        check(not drv.grep("CERT generation=2"), "renewed although the window is in the future")
        st, _, js = pe.http_get(int(drv.p.args[drv.p.args.index("--http-port") + 1]), "/status")
        check('"renewal_basis":"ari"' in js and '"ari":true' in js, js)
    finally:
        stop(peb, front, drv)


@case
def ari_window_in_past_renews_at_once_and_already_replaced_recovers():
    # A window in the past (e.g. the CA revoked the certificate) means renew now. Then the same
    # again, but the CA says the certificate was already replaced (409 alreadyReplaced): the
    # client orders once more without replaces.
    def setup(f):
        f.window = "future"
        f.window_seq = ["past"]
    peb, front, drv, sp = env(validity=3600, name="ari-past", setup=setup)
    try:
        check(drv.wait_for("CERT generation=2", 20), "window in the past did not renew at once")
        check(drv.grep("acme.renewal.start basis=ari replaces=yes"), "renewal without replaces")
        with front.lock:
            front.mark_replaced = True
            front.window_seq = ["past"]
        check(drv.wait_for("CERT generation=3", 20), "no renewal after alreadyReplaced")
        check(drv.grep("acme.order.replaces_refused"), "alreadyReplaced not logged")
        with front.lock:
            statuses = [(o["replaces"] is not None, o["status"]) for o in front.orders]
        check(statuses == [(False, 201), (True, 201), (True, 409), (False, 201)], statuses)
    finally:
        stop(peb, front, drv)


@case
def ca_rate_limit_honours_retry_after():
    # The CA answers the first newOrder with 429 rateLimited, Retry-After: 4. Our backoff would
    # retry after ~1 s; the client must wait the 4 s and log the decoded problem.
    def setup(f):
        f.ratelimit_next_orders = 1
        f.ratelimit_retry_after = 4
    peb, front, drv, sp = env(name="ari-429", setup=setup)
    try:
        check(drv.wait_for("CERT generation=1", 30), "no certificate after the rate limit passed")
        with front.lock:
            orders = list(front.orders)
        check(orders[0]["status"] == 429 and orders[1]["status"] == 201, orders)
        gap = orders[1]["t"] - orders[0]["t"]
        check(gap >= 3.9, "retried after %.2f s, Retry-After was 4" % gap)
        line = drv.grep("acme.ratelimit.ca")
        check(line and "type=rateLimited" in line[0][1] and "retry_after_s=4" in line[0][1], line)
        check(drv.grep("basis=retry-after"), "attempt not scheduled from Retry-After")
    finally:
        stop(peb, front, drv)


@case
def unknown_profile_falls_back_to_default():
    peb, front, drv, sp = env(extra=["--profile", "nosuch"], name="ari-profile")
    try:
        check(drv.wait_for("CERT generation=1", 30), "no certificate")
        check(drv.grep("acme.profile profile=nosuch"), "unlisted profile not reported")
        with front.lock:
            check(all(o["profile"] is None for o in front.orders), front.orders)
    finally:
        stop(peb, front, drv)


@case
def account_gone_is_recreated():
    # The CA forgets the account (accountDoesNotExist on newOrder): the next attempt registers
    # the key again (Pebble answers with the existing account) and orders with the new kid.
    def setup(f):
        f.account_gone_next_orders = 1
    peb, front, drv, sp = env(name="ari-acct", setup=setup)
    try:
        check(drv.wait_for("CERT generation=1", 30), "no certificate")
        check(drv.grep("type=accountDoesNotExist"), "problem not logged")
        accts = drv.grep("acme.account created=")
        check(len(accts) == 2 and "created=existing" in accts[1][1], accts)
    finally:
        stop(peb, front, drv)


@case
def ca_faults_are_retried_not_fatal():
    # Every 3rd request to the CA fails before reaching it (500 serverInternal, or the connection
    # is dropped without an answer). The client retries each 500 (logged, decoded); a dropped
    # reused connection is retried on a fresh one by libcurl itself or by us. The certificate
    # still arrives.
    def setup(f):
        f.fault_every = 3
    peb, front, drv, sp = env(name="ari-faults", setup=setup)
    try:
        check(drv.wait_for("CERT generation=1", 60), "no certificate under injected faults")
        with front.lock:
            kinds = {k for k, _, _ in front.faults}
            n = len(front.faults)
        check(n >= 3 and kinds == {"500", "drop"}, "faults injected: %r" % front.faults)
        retries = drv.grep("acme.request.retry")
        n500 = sum(1 for k, _, _ in front.faults if k == "500")
        check(len(retries) >= n500, "%d injected 500s but %d retries logged" % (n500, len(retries)))
        check(not drv.grep("acme.attempt.failed"), "a fault failed a whole attempt")
        check(any("serverInternal" in l for _, l in retries), "500 problem not decoded in the retry line")
    finally:
        stop(peb, front, drv)


done()
