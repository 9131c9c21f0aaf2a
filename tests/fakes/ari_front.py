"""ari_front: what Pebble 2.4 (Debian bookworm) lacks, put in front of it. Pebble 2.4 has no ACME
Renewal Information (RFC 9773), no certificate profiles and no rate limits; Let's Encrypt has all
three. This HTTPS front passes every request through to Pebble unchanged (Host kept, so Pebble's
JWS "url" check and the URLs it hands out stay right) and adds, as Let's Encrypt does:

  * directory: "renewalInfo" and meta "profiles" {"classic", "shortlived", "tlsserver"}
  * GET renewalInfo/<AKI keyid b64url>.<serial b64url>: resolves the certificate at Pebble's
    management API by serial, checks the AKI, answers {"suggestedWindow": {start, end}} for it
    (by default the middle of its lifetime, so ARI timing is distinguishable from the client's
    2/3-of-lifetime fallback) with Retry-After; 404 for unknown certificates
  * newOrder: decodes the JWS payload, checks "profile" (400 invalidProfile if not offered) and
    "replaces" (400 malformed if unknown, 409 alreadyReplaced if used before), records both;
    can answer 429 rateLimited with Retry-After once, on request from the test
  * I/O faults on request: every Nth request gets 500 serverInternal or a dropped connection
Records what it saw for the test in .orders, .ari_gets. Test-only."""
import base64
import http.client
import json
import subprocess
import threading
import time
from datetime import datetime, timezone

import httpfake

PROFILES = {"classic": "90-day certificates", "shortlived": "6-day certificates", "tlsserver": "server auth only"}


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cert_facts(pem):
    """(notBefore, notAfter, AKI keyid bytes) of a PEM certificate, through the openssl CLI."""
    out = subprocess.run(["openssl", "x509", "-noout", "-startdate", "-enddate", "-ext", "authorityKeyIdentifier"],
                         input=pem, capture_output=True, text=True, check=True).stdout
    nb = na = None
    aki = None
    lines = out.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("notBefore="):
            nb = datetime.strptime(l[10:].replace("  ", " "), "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc).timestamp()
        elif l.startswith("notAfter="):
            na = datetime.strptime(l[9:].replace("  ", " "), "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc).timestamp()
        elif "Authority Key Identifier" in l and i + 1 < len(lines):
            v = lines[i + 1].strip()
            if v.startswith("keyid:"):
                v = v[6:]
            aki = bytes.fromhex(v.replace(":", ""))
    return nb, na, aki


class AriFront:
    def __init__(self, pebble, port, cert, key):
        self.pebble = pebble
        self.port = port
        self.lock = threading.Lock()
        self.orders = []        # {"t", "replaces", "profile", "status"}
        self.ari_gets = []      # {"t", "id", "status"}
        self.used_replaces = set()
        self.window = "middle"  # "middle" | "past" | "future"
        self.window_seq = []    # windows for the next lookups, before falling back to .window
        self.mark_replaced = False  # treat a certificate given a past window as replaced already
        self.retry_after = 2
        self.ratelimit_next_orders = 0
        self.ratelimit_retry_after = 3
        self.account_gone_next_orders = 0   # answer newOrder with accountDoesNotExist
        self.fault_every = 0    # every Nth passed-through request fails: 500 serverInternal or a hang-up
        self.faults = []        # ("500" | "drop", method, path)
        self.seen = 0
        self.directory = "https://127.0.0.1:%d/dir" % port
        self.srv = httpfake.Server(("127.0.0.1", port), _Handler, tls=httpfake.tls_context(cert, key), name="ari-front")
        self.srv.quiet = True   # a client that hangs up mid-answer (driver stopped) is not news
        self.srv.front = self
        self.srv.start()

    def stop(self):
        self.srv.stop()

    # ---- helpers ----
    def send(self, h, status, headers, body):
        h.send(status, body, None, headers)

    def problem(self, h, status, typ, detail, extra=()):
        body = json.dumps({"type": "urn:ietf:params:acme:error:" + typ, "detail": detail, "status": status}).encode()
        self.send(h, status, [("Content-Type", "application/problem+json")] + list(extra), body)

    def upstream(self, h, method, body):
        c = http.client.HTTPSConnection("127.0.0.1", self.pebble.port, context=self.pebble.ctx, timeout=10)
        hdrs = {"Host": h.headers.get("Host", "127.0.0.1:%d" % self.port)}
        for k in ("Content-Type", "Accept", "User-Agent"):
            if h.headers.get(k):
                hdrs[k] = h.headers[k]
        c.request(method, h.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        headers = [(k, v) for k, v in r.getheaders() if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        c.close()
        return r.status, headers, data

    def lookup(self, cert_id):
        """The certificate an RFC 9773 identifier names, from Pebble's management API, or None."""
        try:
            a, s = cert_id.split(".")
            aki, serial = b64u_dec(a), b64u_dec(s)
            if not serial or (len(serial) > 1 and serial[0] == 0 and serial[1] < 0x80) or serial[0] >= 0x80:
                return None     # not a minimal positive DER INTEGER
            st = json.loads(self.pebble.mgmt_get("/cert-status-by-serial/%x" % int.from_bytes(serial, "big")))
            nb, na, real_aki = cert_facts(st["Certificate"])
            return (nb, na) if real_aki == aki else None
        except Exception:
            return None

    def fault(self, h, method):
        """I/O fault injection: before the CA sees the request, answer 500 or hang up."""
        with self.lock:
            self.seen += 1
            if not self.fault_every or self.seen % self.fault_every:
                return False
            kind = "500" if len(self.faults) % 2 == 0 else "drop"
            self.faults.append((kind, method, h.path))
        if kind == "500":
            self.problem(h, 500, "serverInternal", "injected fault")
        else:
            h.close_connection = True
            h.connection.shutdown(2)
        return True

    # ---- requests ----
    def handle(self, h, method):
        body = h.read_body()
        if body is None:
            return self.problem(h, 411, "malformed", "a valid Content-Length is required")
        body = body or None
        path = h.path
        if self.fault(h, method):
            return
        if method == "GET" and path == "/dir":
            st, hd, data = self.upstream(h, method, body)
            d = json.loads(data)
            d["renewalInfo"] = "https://%s/renewal-info" % h.headers["Host"]
            d.setdefault("meta", {})["profiles"] = PROFILES
            self.send(h, 200, [(k, v) for k, v in hd if k.lower() != "content-type"] +
                      [("Content-Type", "application/json")], json.dumps(d).encode())
            return
        if method == "GET" and path.startswith("/renewal-info/"):
            cid = path[len("/renewal-info/"):]
            found = self.lookup(cid)
            with self.lock:
                self.ari_gets.append({"t": time.monotonic(), "id": cid, "status": 200 if found else 404})
            if not found:
                self.problem(h, 404, "malformed", "no certificate with this renewal identifier")
                return
            nb, na = found
            life = na - nb
            with self.lock:
                window = self.window_seq.pop(0) if self.window_seq else self.window
                if window == "past" and self.mark_replaced:
                    self.used_replaces.add(cid)
            if window == "past":
                start, end = nb, nb + 1
            elif window == "future":
                start, end = na + 3600, na + 7200
            else:
                start, end = nb + life * 0.40, nb + life * 0.50
            w = {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)},
                 "explanationURL": "https://ca.test/docs/ari"}
            self.send(h, 200, [("Content-Type", "application/json"), ("Retry-After", str(self.retry_after))],
                      json.dumps(w).encode())
            return
        if method == "POST" and path == "/order-plz":
            payload = {}
            try:
                payload = json.loads(b64u_dec(json.loads(body)["payload"]) or b"{}")
            except Exception:
                pass
            rec = {"t": time.monotonic(), "replaces": payload.get("replaces"), "profile": payload.get("profile"),
                   "status": None}
            with self.lock:
                self.orders.append(rec)
                rl = self.ratelimit_next_orders > 0
                if rl:
                    self.ratelimit_next_orders -= 1
            # errors made here carry no Replay-Nonce: the client must fetch a fresh one
            with self.lock:
                gone = self.account_gone_next_orders > 0
                if gone:
                    self.account_gone_next_orders -= 1
            if gone:
                rec["status"] = 400
                self.problem(h, 400, "accountDoesNotExist", "no account for this key ID")
                return
            if rl:
                rec["status"] = 429
                self.problem(h, 429, "rateLimited",
                             "too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s",
                             [("Retry-After", str(self.ratelimit_retry_after))])
                return
            prof = payload.get("profile")
            if prof is not None and prof not in PROFILES:
                rec["status"] = 400
                self.problem(h, 400, "invalidProfile", "profile %r is not offered" % prof)
                return
            rep = payload.get("replaces")
            if rep is not None:
                if self.lookup(rep) is None:
                    rec["status"] = 400
                    self.problem(h, 400, "malformed", "replaces names no certificate issued by this CA")
                    return
                with self.lock:
                    dup = rep in self.used_replaces
                    self.used_replaces.add(rep)
                if dup:
                    rec["status"] = 409
                    self.problem(h, 409, "alreadyReplaced", "this certificate was already replaced")
                    return
            st, hd, data = self.upstream(h, method, body)
            rec["status"] = st
            self.send(h, st, hd, data)
            return
        st, hd, data = self.upstream(h, method, body)
        self.send(h, st, hd, data)


class _Handler(httpfake.Handler):
    methods = ("GET", "HEAD", "POST")
    max_body = 64 * 1024                # JWS bodies are a few KiB

    def dispatch(self):
        self.server.front.handle(self, self.command)
