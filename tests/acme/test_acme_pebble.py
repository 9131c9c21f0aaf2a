"""ACME client against Pebble (Let's Encrypt's test CA, Debian `pebble` 2.4) on loopback: first
issuance and challenge serving, badNonce recovery, failed validation -> backoff (not a loop) and
our own failed-validation limit, renewal with short validity while clients keep requesting (no
request may fail during the swaps), and the certificates-per-name-set limit."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
import pebble_env as pe  # noqa: E402

DOMAIN = "acme.test"


def env(validity=None, nonce_reject=0, extra=(), name="driver"):
    http_port, https_port = pe.free_port(), pe.free_port()
    peb = pe.Pebble(http_port, validity=validity, nonce_reject=nonce_reject, tag="pebble-" + name)
    drv = pe.start_driver(peb.directory, peb.ca, DOMAIN, http_port, https_port, ["--fast"] + list(extra),
                          logdir=peb.dir, name=name)
    return peb, drv, http_port, https_port


@case
def first_issuance_and_challenge_serving():
    peb, drv, hp, sp = env(name="first")
    try:
        check(drv.wait_for("HTTPS_READY", 30), "no certificate within 30 s")
        check(drv.grep("acme.account created=yes"), "account not created")
        check(drv.grep("acme.challenge.valid type=http-01"), "challenge not validated")
        roots = peb.roots_file()
        body, der = pe.https_get(sp, roots, DOMAIN)   # verifies the chain to Pebble's root and the name
        check("ok generation=1" in body, body)
        # the challenge is not served once validated; unknown tokens are 404; the rest redirects
        st, _, _ = pe.http_get(hp, "/.well-known/acme-challenge/" + "A" * 43)
        check(st == 404, "unknown token gave %d" % st)
        st, _, _ = pe.http_get(hp, "/.well-known/acme-challenge/../../x")
        check(st == 404, "traversal gave %d" % st)
        st, head, _ = pe.http_get(hp, "/some/page?x=1")
        check(st == 301 and "Location: https://" in head, head)
        st, _, js = pe.http_get(hp, "/status")
        check(st == 200 and '"state":"waiting-renewal"' in js and '"certificates":1' in js, js)
        check(not drv.grep("attempt.failed"), "unexpected failure")
    finally:
        drv.stop()
        peb.stop()


@case
def badnonce_recovery():
    # Pebble rejects 40% of good nonces as badNonce: the client retries with the fresh nonce
    peb, drv, hp, sp = env(nonce_reject=40, name="badnonce")
    try:
        check(drv.wait_for("HTTPS_READY", 60), "no certificate under 40% nonce rejection")
        check(drv.grep("acme.nonce.rejected"), "Pebble rejected no nonce (test did not exercise badNonce)")
        body, _ = pe.https_get(sp, peb.roots_file(), DOMAIN)
        check("ok generation=1" in body, body)
    finally:
        drv.stop()
        peb.stop()


@case
def failed_validation_backs_off():
    # Pebble gets 404 for the challenge: each attempt fails; attempts must space out (1 s initial
    # backoff, doubling) and stop at our limit of 4 failed validations per window (20 s here).
    peb, drv, hp, sp = env(extra=["--challenge-404", "--backoff-ms", "1000", "--fail-window-ms", "20000"],
                           name="failval")
    try:
        check(drv.wait_for("acme.ratelimit.self limit=failed-validations", 30), "own limit never reached")
        time.sleep(4)
        fails = drv.grep("acme.challenge.invalid")
        check(len(fails) >= 4, "expected at least 4 failed validations, got %d" % len(fails))
        check("type=unauthorized" in fails[0][1] and "meaning=" in fails[0][1], fails[0][1])
        orders = [t for t, _ in drv.grep("acme.order status=")]
        check(len(orders) == len(fails), "orders %d != failures %d" % (len(orders), len(fails)))
        gaps = [b - a for a, b in zip(orders, orders[1:4])]
        check(gaps[0] >= 0.7 and all(g2 > g1 * 1.2 for g1, g2 in zip(gaps, gaps[1:])),
              "attempt gaps do not grow: %r" % gaps)
        # never more than 4 attempts inside any 20 s window (log times: allow 0.3 s of skew)
        check(all(orders[i + 4] - orders[i] >= 19.7 for i in range(len(orders) - 4)),
              "5 attempts inside one window: %r" % orders)
        check(not drv.grep("HTTPS_READY"), "served https without a certificate")
        st, _, js = pe.http_get(hp, "/status")
        check('"state":"backoff"' in js and '"last_error":"authorization: challenge validation failed' in js, js)
    finally:
        drv.stop()
        peb.stop()


@case
def renewal_swap_under_load_and_nameset_limit():
    # 8-second certificates: renewal at 2/3 (no ARI in Pebble 2.4). Load runs through several
    # swaps; none may fail. Our per-name-set limit is 3 per 60 s here: the 4th waits, logged.
    peb, drv, hp, sp = env(validity=8, extra=["--cert-max", "3", "--cert-window-ms", "60000"], name="renew")
    load = None
    try:
        check(drv.wait_for("HTTPS_READY", 30), "no first certificate")
        roots = peb.roots_file()
        load = pe.Load(sp, roots, DOMAIN, "/", "ok generation=")
        check(drv.wait_for("CERT generation=3", 30), "no third certificate (renewals did not happen)")
        check(drv.wait_for("acme.ratelimit.self limit=certificates-per-name-set", 15), "name-set limit not applied")
        time.sleep(1.5)
        load.stop()
        check(not load.fail, "requests failed during swaps: %r" % load.fail[:5])
        check(load.ok > 50, "too few requests made: %d" % load.ok)
        check({1, 2, 3} <= load.gens, "clients did not see every generation: %r" % sorted(load.gens))
        check(not drv.grep("CERT generation=4"), "a 4th certificate broke the name-set limit")
        check(len(drv.grep("acme.renewal.start basis=lifetime replaces=no")) >= 2, "renewals not on lifetime basis")
        body, _ = pe.https_get(sp, roots, DOMAIN)
        check("ok generation=3" in body, body)
    finally:
        if load:
            load.stop()
        drv.stop()
        peb.stop()



done()
