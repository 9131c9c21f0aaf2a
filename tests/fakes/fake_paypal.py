#!/usr/bin/env python3
"""fake_paypal.py: a faithful local stand-in for PayPal's "Log in with PayPal" (OAuth 2.0 + OpenID
Connect), Python 3 standard library only. Owns: the fake's HTTP endpoints, its test users, its
per-run RS256 key, and runtime fault injection. Never touches: the service's code, files outside
this process, the network beyond its own listening socket. Used by the whole-binary tests and by
`make run` as the local identity provider (development mode: not PayPal). Docs: docs/fake-paypal.md.

CLI
  fake_paypal.py --port N [--host 127.0.0.1] --client-id ID --client-secret S
                 --redirect-uri URI [--redirect-uri URI2 ...] [--users FILE.json]
                 [--tls-cert PEM --tls-key PEM] [--code-ttl 600] [--token-ttl 28800]
                 [--allow-no-pkce] [--issuer URL] [--app-scopes "openid profile ..."]
  --port 0 picks a free port. When ready it prints exactly one line to stdout:
      fake-paypal listening on http://HOST:PORT        (https:// with --tls-cert)
  The secret may come from FAKE_PAYPAL_CLIENT_SECRET instead of --client-secret.

Endpoints (paths as PayPal documents them; where each path, status and shape comes from):
  GET  /signin/authorize          www.paypal.com authorize page. Doc: "Log in with PayPal > Build
       button" (developer.paypal.com/docs/log-in-with-paypal/integrate/build-button). PKCE S256
       per RFC 7636; PayPal's discovery document lists S256 in code_challenge_methods_supported.
       Unknown client_id or unregistered redirect_uri: 400 HTML page, never a redirect (RFC 6749
       4.1.2.1). Other errors: 302 to redirect_uri?error=...&error_description=...&state=...
  POST /signin/authorize          the page's form (fields tx, user, action=login|cancel):
       302 redirect_uri?code=...&state=... or ?error=access_denied&error_description=...&state=...
  POST /v1/oauth2/token           Doc: "REST APIs > Authentication" (developer.paypal.com/api/rest/
       authentication) and "Log in with PayPal > Integrate". Basic client_id:secret only (discovery:
       token_endpoint_auth_methods_supported = client_secret_basic), form body. Grants:
       authorization_code, refresh_token, client_credentials. Success JSON: scope, access_token,
       token_type "Bearer", app_id, expires_in, refresh_token, nonce (PayPal's own value, NOT the
       OIDC nonce), id_token (when openid was granted). Errors are OAuth bodies
       {"error","error_description"}: 401 invalid_client "Client Authentication failed" (the body
       PayPal returns, seen in SDK logs), 400 invalid_grant, 400 invalid_request,
       400 unsupported_grant_type.
  GET  /v1/identity/oauth2/userinfo?schema=paypalv1.1   Doc: "Identity API v1 > Show user profile
       information" sample: user_id https://www.paypal.com/webapps/auth/identity/user/<43 chars>,
       name, given_name, family_name, payer_id, address{street_address, locality, region,
       postal_code, country}, verified_account (boolean), emails[{value, primary, confirmed}].
  GET  /v1/identity/openidconnect/userinfo?schema=openid  Doc: "Identity v1 > userinfo.get":
       user_id, sub, name, given_name, family_name, email, email_verified, address,
       verified_account, account_type. Both userinfo endpoints return only what the granted
       scopes allow (doc: "Log in with PayPal reference > Scope attributes").
       Userinfo errors are REST bodies {name, message, debug_id, details[{field, value, location,
       issue, description}], links[]} (doc: REST "API responses" and the error schema):
       401 AUTHENTICATION_FAILURE (no/garbled Authorization), 401 INVALID_TOKEN "Invalid access
       token." (Identity v1 errors page), 400 INVALID_REQUEST (wrong schema).
  GET  /v1/oauth2/certs           JWKS of the per-run RSA key (PayPal's discovery jwks_uri path).
  GET  /.well-known/openid-configuration   discovery document pointing at this fake.
  id_token: RS256 JWT {iss, sub, aud, exp, iat, auth_time, nonce, user_id}; sub = user_id, the
  pairwise id (discovery: subject_types_supported = pairwise), derived from client id and user.

Control API (not PayPal; for tests):
  POST /__control/fault  {"endpoint": "token"|"userinfo", "mode": MODE, "count": N, "delay": S,
                          "status": CODE}  count = how many requests it hits (default 1, -1 = until
       cleared); delay = seconds to wait before answering (timeout: default 30; stall: the longest
       it holds the connection, default 600). MODE:
         none                clear the fault for that endpoint
         error500            500 with PayPal's INTERNAL_SERVER_ERROR body
         error_body          a documented error body (token 400 invalid_request; userinfo 400
                             INVALID_REQUEST with details); "status" overrides the code
         timeout             sleep `delay` seconds, then answer normally
         stall               read the request, never answer; close when the client gives up
         malformed_json      200, application/json, body that is not valid JSON
         truncated           200, Content-Length of the full body, half of it sent, then close
         wrong_content_type  200, the real JSON body labelled text/html
         hostile             200, valid JSON with hostile values (script tags, quotes, CR/LF in
                             the access token, bidi controls, 4 KiB strings); user_id unchanged
  GET  /__control/fault  current faults.   POST /__control/reset  clear faults and statistics.
  GET  /__control/stats  {"requests": {endpoint: n}, "status": {endpoint: {code: n}},
       "faults_applied": {endpoint: n}, "codes_issued", "codes_redeemed", "codes_rejected",
       "tokens_issued"}
  GET  /__control/users  [{"key", "name", "user_id"}] for the configured client id.

Logs: one line per request to stderr (method, path without query, status); never secrets, codes,
tokens, query strings or user data.
"""
import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import select
import sys
import threading
import time
import urllib.parse

import httpfake

USER_ID_PREFIX = "https://www.paypal.com/webapps/auth/identity/user/"
BANNER = "Local stand-in for PayPal (development mode: not PayPal)"
MAX_BODY = 64 * 1024
MAX_PARAM = 2048
FAULT_ENDPOINTS = ("token", "userinfo")
FAULT_MODES = ("none", "error500", "error_body", "timeout", "stall", "malformed_json",
               "truncated", "wrong_content_type", "hostile")
PAYPALATTR = "https://uri.paypal.com/services/paypalattributes"
SCOPE_TEXT = {"openid": "Your account identifier", "profile": "Full name",
              "email": "Email address",
              "address": "Street address, city, state, country, zip code",
              PAYPALATTR: "Account verification status and PayPal account ID (payer ID)"}
DEFAULT_APP_SCOPES = "openid profile email address " + PAYPALATTR

DEFAULT_USERS = [
    {"key": "alice", "name": "Alice Example", "given_name": "Alice", "family_name": "Example",
     "email": "alice@example.com", "payer_id": "QX7MZ2LP4JK8A", "verified_account": True,
     "address": {"street_address": "1 Main St", "locality": "San Jose", "region": "CA",
                 "postal_code": "95131", "country": "US"}},
    {"key": "zoe", "name": "Zoë Ångström 山田", "given_name": "Zoë",
     "family_name": "Ångström 山田", "email": "zoe.angstrom@example.com",
     "payer_id": "B4N9TQ2WR7XKC", "verified_account": True,
     "address": {"street_address": "Große Straße 7", "locality": "München", "region": "BY",
                 "postal_code": "80331", "country": "DE"}},
    {"key": "mallory", "name": "<script>alert(1)</script> \"Mal\" O'Reilly",
     "given_name": "<script>alert(1)</script>", "family_name": "O'Reilly \"<b>bold</b>\"",
     "email": "mallory+\"'<i>@example.com", "payer_id": "M4LL0RY7XSS9Q",
     "verified_account": False,
     "address": {"street_address": "\"><img src=x onerror=alert(2)>",
                 "locality": "</textarea><script>alert(3)</script>", "region": "' OR '1'='1",
                 "postal_code": "&amp;&lt;", "country": "US"}},
]

# ---- encoding helpers and a small RSA (RS256) implementation: the stdlib has no RSA --------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def json_bytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def _probable_prime(n, rounds=24):
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


class RsaKey:
    """Per-run RSA key; signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 8017 8.2)."""
    DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")

    def __init__(self, bits=2048):
        self.e = 65537
        while True:
            p, q = self._prime(bits // 2), self._prime(bits // 2)
            lam = (p - 1) * (q - 1)
            if p != q and lam % self.e and (p * q).bit_length() == bits:
                break
        self.n, self.p, self.q = p * q, p, q
        d = pow(self.e, -1, lam)
        self.dp, self.dq, self.qinv = d % (p - 1), d % (q - 1), pow(q, -1, p)
        jwk = {"e": b64u_int(self.e), "kty": "RSA", "n": b64u_int(self.n)}   # RFC 7638 order
        self.kid = b64u(hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest())

    @staticmethod
    def _prime(bits):
        while True:
            c = secrets.randbits(bits) | (3 << (bits - 2)) | 1
            if _probable_prime(c):
                return c

    def public_jwk(self):
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": b64u_int(self.n), "e": b64u_int(self.e)}

    def sign(self, msg):
        k = (self.n.bit_length() + 7) // 8
        t = self.DIGESTINFO_SHA256 + hashlib.sha256(msg).digest()
        m = int.from_bytes(b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t, "big")
        s1, s2 = pow(m, self.dp, self.p), pow(m, self.dq, self.q)
        return (s2 + ((self.qinv * (s1 - s2)) % self.p) * self.q).to_bytes(k, "big")

    def jwt(self, claims):
        head = b64u(json_bytes({"alg": "RS256", "typ": "JWT", "kid": self.kid}))
        signing_input = (head + "." + b64u(json_bytes(claims))).encode()
        return signing_input.decode() + "." + b64u(self.sign(signing_input))

# ---- users -----------------------------------------------------------------------------------------

def load_users(path):
    """Default users plus those in `path` (a JSON list, or {"users": [...]}); same key replaces."""
    users = {u["key"]: u for u in DEFAULT_USERS}
    if path:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get("users")
        if not isinstance(data, list):
            raise ValueError("users file must hold a JSON list of user objects")
        for u in data:
            if not (isinstance(u, dict) and isinstance(u.get("key"), str) and u["key"]
                    and isinstance(u.get("name"), str)):
                raise ValueError("each user needs string fields 'key' and 'name'")
            users[u["key"]] = u
    return users


def user_id_for(client_id, user):
    """Pairwise subject: stable per (client, user), 43 base64url chars like PayPal's."""
    if user.get("user_id"):
        return user["user_id"]
    digest = hashlib.sha256(("fake-paypal-ppid|" + client_id + "|" + user["key"]).encode()).digest()
    return USER_ID_PREFIX + b64u(digest)


def userinfo_for(user, uid, scopes, schema):
    """The userinfo object PayPal returns for this schema, limited to the granted scopes."""
    out = {"user_id": uid, "sub": uid}
    if "profile" in scopes:
        for k in ("name", "given_name", "family_name"):
            if k in user:
                out[k] = user[k]
    if "email" in scopes and user.get("email"):
        if schema == "paypalv1.1":
            out["emails"] = [{"value": user["email"], "primary": True, "confirmed": True}]
        else:
            out["email"], out["email_verified"] = user["email"], True
    if "address" in scopes and user.get("address"):
        out["address"] = dict(user["address"])
    if PAYPALATTR in scopes:
        out["verified_account"] = bool(user.get("verified_account", False))
        if schema == "paypalv1.1":
            out["payer_id"] = user.get("payer_id", "")
        else:
            out["account_type"] = "PERSONAL"
    return out

# ---- state shared by all request threads -----------------------------------------------------------

class Provider:
    def __init__(self, args, users, key):
        self.args, self.users, self.key = args, users, key
        self.app_scopes = args.app_scopes.split()
        self.lock = threading.Lock()
        self.pending, self.codes, self.tokens, self.refresh = {}, {}, {}, {}
        self.faults = {}
        self.stopping = threading.Event()
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"requests": {}, "status": {}, "faults_applied": {}, "codes_issued": 0,
                      "codes_redeemed": 0, "codes_rejected": 0, "tokens_issued": 0}

    def count(self, key, endpoint=None, status=None):
        with self.lock:
            if endpoint is None:
                self.stats[key] += 1
            elif status is None:
                self.stats[key][endpoint] = self.stats[key].get(endpoint, 0) + 1
            else:
                per = self.stats[key].setdefault(endpoint, {})
                per[str(status)] = per.get(str(status), 0) + 1

    def take_fault(self, endpoint):
        with self.lock:
            f = self.faults.get(endpoint)
            if not f or f["count"] == 0:
                return None
            if f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    del self.faults[endpoint]          # spent faults disappear from the listing
            self.stats["faults_applied"][endpoint] = self.stats["faults_applied"].get(endpoint, 0) + 1
            return dict(f)

    def issue_token(self, client_id, user_key, scopes, with_refresh):
        now = time.time()
        at = "A21AA" + secrets.token_urlsafe(64)
        with self.lock:
            self.tokens[at] = {"client_id": client_id, "user": user_key, "scopes": scopes,
                               "expires": now + self.args.token_ttl, "revoked": False}
            self.stats["tokens_issued"] += 1
            rt = None
            if with_refresh:
                rt = "R23AA" + secrets.token_urlsafe(64)
                self.refresh[rt] = {"client_id": client_id, "user": user_key, "scopes": scopes}
        return at, rt


def debug_id():
    return secrets.token_hex(7)[:13]


def rest_error(name, message, details=None):
    return {"name": name, "message": message, "debug_id": debug_id(), "details": details or [],
            "links": [{"href": "https://developer.paypal.com/api/rest/responses/#link-" + name.lower(),
                       "rel": "information_link", "method": "GET"}]}


def oauth_error(error, description):
    return {"error": error, "error_description": description}


def paypal_nonce():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + secrets.token_urlsafe(32)


def add_query(uri, params):
    parts = urllib.parse.urlsplit(uri)
    q = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=q))


def hostile_json(obj, endpoint):
    """Valid JSON, hostile values; keeps user_id so the caller's per-id logic still applies."""
    obj = dict(obj)
    script = "<script>alert('fake-paypal')</script>"
    if endpoint == "token":
        if "access_token" in obj:
            obj["access_token"] += "\r\nX-Injected: 1"
        obj["scope"] = obj.get("scope", "") + " " + script
        obj["nonce"] = script
    else:
        obj["name"] = script + " \"quoted\" 'single' \u202egnp.exe"
        obj["given_name"] = "\"><img src=x onerror=alert(1)>"
        obj["family_name"] = "A" * 4096
        obj["emails"] = [{"value": "\"><svg onload=alert(1)>@example.com", "primary": True,
                          "confirmed": True}]
        obj["email"] = obj["emails"][0]["value"]
        obj["address"] = {"street_address": "</td></tr><script>alert(2)</script>",
                          "locality": "\u0000\u0007\u001b[31m", "region": "{{7*7}} ${7*7}",
                          "postal_code": "' OR 1=1 --", "country": "<<"}
    obj["__proto__"] = {"polluted": True}
    return obj

# ---- HTML ------------------------------------------------------------------------------------------

STYLE = ("body{font-family:Helvetica,Arial,sans-serif;margin:0;background:#f5f7fa;color:#1a1a1a}"
         ".banner{background:#ffd23f;color:#000;font-weight:bold;padding:12px 16px;text-align:center}"
         "main{max-width:520px;margin:24px auto;background:#fff;padding:24px;border-radius:8px;"
         "box-shadow:0 1px 4px rgba(0,0,0,.15)}label{display:block;padding:8px;margin:4px 0;"
         "border:1px solid #ccd;border-radius:4px}small{color:#555}button{font-size:16px;"
         "padding:10px 20px;margin:12px 8px 0 0;border-radius:20px;border:1px solid #555;"
         "cursor:pointer}#fake-login{background:#1a1a1a;color:#fff}code{word-break:break-all}"
         ".note{font-size:13px;color:#555}")


def page(title, body):
    e = html.escape
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body>"
            f"<div class=\"banner\" role=\"alert\" id=\"fake-banner\">{e(BANNER)}</div>"
            f"<main>{body}</main></body></html>").encode()


def authorize_page(tx, req, users):
    e = html.escape
    scopes = "".join(f"<li>{e(SCOPE_TEXT.get(s, s))}</li>" for s in req["scopes"])
    radios = "".join(
        f"<label><input type=\"radio\" name=\"user\" value=\"{e(u['key'])}\"{' checked' if i == 0 else ''}>"
        f" {e(u['name'])} <small>{e(u.get('email', ''))}</small></label>"
        for i, u in enumerate(users.values()))
    body = (f"<h1>Log in</h1><p>The application <code>{e(req['client_id'])}</code> asks you to log"
            f" in and to share:</p><ul>{scopes}</ul><p>You will be sent back to"
            f" <code>{e(req['redirect_uri'])}</code>.</p>"
            "<form method=\"post\" action=\"/signin/authorize\">"
            f"<input type=\"hidden\" name=\"tx\" value=\"{e(tx)}\">"
            f"<fieldset><legend>Choose a test user</legend>{radios}</fieldset>"
            "<button type=\"submit\" name=\"action\" value=\"login\" id=\"fake-login\">Log In</button>"
            "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"fake-cancel\">Cancel</button>"
            "</form><p class=\"note\">No password is asked: this page is a test double that runs on"
            " your machine. Real PayPal is never contacted.</p>")
    return page(BANNER, body)


def error_page(message):
    return page("Error: " + BANNER, "<h1>This request cannot be completed</h1>"
                f"<p id=\"fake-error\">{html.escape(message)}</p><p class=\"note\">Go back to the"
                " application and start again.</p>")

# ---- request handling ------------------------------------------------------------------------------

class Handler(httpfake.Handler):
    server_version = "fake-paypal/1"
    methods = ("GET", "POST")
    max_body = MAX_BODY
    timeout = 120                      # idle keep-alive connections give their thread back

    @property
    def pv(self):
        return self.server.provider

    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0] if isinstance(self.path, str) else "-"
        sys.stderr.write(f"fake-paypal: {self.command} {path[:200]} {code}\n")

    # -- plumbing
    def send(self, status, body, ctype="application/json", headers=(), endpoint=None):
        # counted before the answer leaves: a client reading /__control/stats right after must see it
        self.pv.count("status", endpoint or self.endpoint, status)
        super().send(status, body, ctype, [("Cache-Control", "no-store"), ("Paypal-Debug-Id", debug_id()),
                                           *headers])

    def send_html(self, status, body, extra_origin=None):
        form_action = "'self'" + (" " + extra_origin if extra_origin else "")
        csp = f"default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'"
        self.send(status, body, "text/html; charset=utf-8",
                  [("Content-Security-Policy", csp), ("X-Frame-Options", "DENY")])

    def redirect(self, location):
        self.send(302, b"", "text/html; charset=utf-8", [("Location", location)])

    def parse_form(self, raw):
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        params, dup = {}, set()
        for k, v in pairs:
            if k in params:
                dup.add(k)
            else:
                params[k] = v
        return params, dup

    def dispatch(self):
        path, query = self.split_path()
        found = self.routes.find(self.command, path)
        self.endpoint, fn = (found[2], found[0]) if found else ("other", None)
        self.pv.count("requests", self.endpoint)
        if fn is None:
            known = bool(self.routes.allowed(path))
            self.send(405 if known else 404, json_bytes(rest_error(
                "METHOD_NOT_SUPPORTED" if known else "RESOURCE_NOT_FOUND",
                "The requested method is not supported." if known else
                "The specified resource does not exist.")))
            return
        fn(self, query)

    # -- fault injection: wraps the normal response of token and userinfo
    def respond(self, status, obj, headers=()):
        fault = self.pv.take_fault(self.endpoint)
        body = json_bytes(obj)
        if not fault:
            return self.send(status, body, headers=headers)
        mode, delay = fault["mode"], fault["delay"]
        if mode == "stall":
            return self.stall(delay)
        if delay:
            time.sleep(delay)
        if mode == "error500":
            return self.send(fault.get("status") or 500, json_bytes(rest_error(
                "INTERNAL_SERVER_ERROR", "An internal server error has occurred.")))
        if mode == "error_body":
            if self.endpoint == "token":
                err = oauth_error("invalid_request", "Request failed (fake-paypal fault error_body)")
            else:
                err = rest_error("INVALID_REQUEST", "Request is not well-formed, syntactically "
                                 "incorrect, or violates schema.",
                                 [{"field": "schema", "value": "paypalv1.1", "location": "query",
                                   "issue": "INVALID_PARAMETER_VALUE",
                                   "description": "Request failed (fake-paypal fault error_body)"}])
            return self.send(fault.get("status") or 400, json_bytes(err))
        if mode == "malformed_json":
            return self.send(200, body[:-1] + b',"unterminated":"')
        if mode == "wrong_content_type":
            return self.send(200, body, "text/html; charset=utf-8")
        if mode == "hostile":
            return self.send(status, json_bytes(hostile_json(obj, self.endpoint) if status == 200 else obj))
        if mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.pv.count("status", self.endpoint, "truncated")
            return None
        return self.send(status, body, headers=headers)       # "timeout": late but normal

    def stall(self, limit):
        """Never answer: hold the connection until the client closes it, `limit` passes or exit."""
        self.pv.count("status", self.endpoint, "stalled")
        end = time.monotonic() + (limit or 600)
        sock = self.connection
        while time.monotonic() < end and not self.pv.stopping.is_set():
            r, _, _ = select.select([sock], [], [], 0.25)
            if r:
                try:
                    if not sock.recv(4096):
                        break
                except (OSError, ValueError):
                    break
        self.close_connection = True

    # -- www.paypal.com/signin/authorize
    def authorize_get(self, query):
        pv, a = self.pv, self.pv.args
        params, dup = self.parse_form(query)
        client_id, ruri = params.get("client_id"), params.get("redirect_uri")
        if "client_id" in dup or not client_id or not hmac.compare_digest(client_id.encode(), a.client_id.encode()):
            return self.send_html(400, error_page("Unknown or missing client_id: this application is "
                                                  "not registered with this identity provider."))
        if "redirect_uri" in dup or ruri not in a.redirect_uri:
            return self.send_html(400, error_page("The redirect_uri does not match any Return URL "
                                                  "registered for this application."))
        state = params.get("state")

        def fail(error, description):
            p = {"error": error, "error_description": description}
            if state:
                p["state"] = state
            return self.redirect(add_query(ruri, p))
        if dup:
            return fail("invalid_request", "Parameter included more than once: " + ", ".join(sorted(dup)))
        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        scopes = params.get("scope", "").split()
        if "openid" not in scopes:
            return fail("invalid_scope", "scope must include openid")
        if not state:
            return fail("invalid_request", "state is required")
        if any(len(params.get(k, "")) > MAX_PARAM for k in ("state", "nonce", "scope")):
            return fail("invalid_request", "parameter too long")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if challenge is None and method is None:
            if not a.allow_no_pkce:
                return fail("invalid_request", "code_challenge is required (PKCE)")
        elif method != "S256":
            return fail("invalid_request", "transform algorithm not supported: use S256")
        elif not challenge or not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge):
            return fail("invalid_request", "code_challenge must be 43 base64url characters")
        granted = [s for s in dict.fromkeys(scopes) if s in pv.app_scopes]
        tx = secrets.token_urlsafe(24)
        req = {"client_id": client_id, "redirect_uri": ruri, "state": state, "scopes": granted,
               "nonce": params.get("nonce"), "challenge": challenge,
               "expires": time.time() + a.code_ttl}
        with pv.lock:
            pv.pending = {k: v for k, v in pv.pending.items() if v["expires"] > time.time()}
            pv.pending[tx] = req
        self.send_html(200, authorize_page(tx, req, pv.users), origin_of(ruri))

    def authorize_post(self, _query):
        pv = self.pv
        raw = self.read_body()
        if raw is None:
            return self.send_html(413, error_page("Request body too large or malformed."))
        form, _ = self.parse_form(raw.decode("utf-8", "replace"))
        with pv.lock:
            req = pv.pending.pop(form.get("tx", ""), None)
        if not req or req["expires"] < time.time():
            return self.send_html(400, error_page("This sign-in request is unknown, was already "
                                                  "used, or has expired."))
        base = {"state": req["state"]} if req["state"] else {}
        if form.get("action") == "cancel":
            return self.redirect(add_query(req["redirect_uri"], {
                "error": "access_denied", "error_description": "The user cancelled the login", **base}))
        user = pv.users.get(form.get("user", ""))
        if form.get("action") != "login" or not user:
            return self.send_html(400, error_page("Choose a test user and press Log In."))
        code = "C21AA" + secrets.token_urlsafe(48)
        with pv.lock:
            pv.codes = {k: v for k, v in pv.codes.items() if v["expires"] > time.time() - 3600}
            pv.codes[code] = {**req, "user": user["key"], "used": False, "tokens": [],
                              "auth_time": int(time.time()), "expires": time.time() + pv.args.code_ttl}
            pv.stats["codes_issued"] += 1
        self.redirect(add_query(req["redirect_uri"], {"code": code, **base}))

    # -- api-m.paypal.com/v1/oauth2/token
    def client_ok(self):
        a = self.pv.args
        auth = self.headers.get("Authorization", "")
        if not auth[:6].lower() == "basic ":
            return False
        try:
            cid, sep, sec = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return bool(sep) & hmac.compare_digest(cid.encode(), a.client_id.encode()) \
            & hmac.compare_digest(sec.encode(), a.client_secret.encode())

    def token(self, _query):
        pv, a = self.pv, self.pv.args
        raw = self.read_body()
        if raw is None:
            return self.respond(400, oauth_error("invalid_request", "Malformed or oversized body"))
        if not self.client_ok():
            return self.respond(401, oauth_error("invalid_client", "Client Authentication failed"))
        if not self.headers.get("Content-Type", "").lower().startswith("application/x-www-form-urlencoded"):
            return self.respond(400, oauth_error("invalid_request",
                                                 "Content-Type must be application/x-www-form-urlencoded"))
        form, dup = self.parse_form(raw.decode("utf-8", "replace"))
        if dup:
            return self.respond(400, oauth_error("invalid_request", "Duplicate parameter"))
        grant = form.get("grant_type")
        if not grant:
            return self.respond(400, oauth_error("unsupported_grant_type", "Grant Type is NULL"))
        if grant == "client_credentials":
            at, _ = pv.issue_token(a.client_id, None, pv.app_scopes, False)
            return self.respond(200, {"scope": " ".join(pv.app_scopes), "access_token": at,
                                      "token_type": "Bearer", "app_id": a.app_id,
                                      "expires_in": a.token_ttl, "nonce": paypal_nonce()})
        if grant == "refresh_token":
            with pv.lock:
                rec = pv.refresh.get(form.get("refresh_token", ""))
            if not rec or rec["client_id"] != a.client_id:
                return self.respond(400, oauth_error("invalid_grant", "Invalid refresh token"))
            at, _ = pv.issue_token(a.client_id, rec["user"], rec["scopes"], False)
            return self.respond(200, {"scope": " ".join(rec["scopes"]), "access_token": at,
                                      "token_type": "Bearer", "app_id": a.app_id,
                                      "expires_in": a.token_ttl, "nonce": paypal_nonce()})
        if grant != "authorization_code":
            return self.respond(400, oauth_error("unsupported_grant_type", "Grant Type is not supported"))
        code = form.get("code")
        if not code:
            return self.respond(400, oauth_error("invalid_request", "code is required"))
        with pv.lock:
            rec = pv.codes.get(code)
            problem = None
            if not rec or rec["client_id"] != a.client_id:
                problem = "Invalid authorization code"
            elif rec["used"]:
                problem = "Authorization code has already been used"
                for t in rec["tokens"]:         # RFC 6749 4.1.2: revoke what the code yielded
                    pv.tokens[t]["revoked"] = True
            elif rec["expires"] < time.time():
                problem = "Authorization code expired"
            if rec:
                rec["used"] = True                 # any presentation consumes the code
        if not problem and form.get("redirect_uri") != rec["redirect_uri"]:
            problem = "redirect_uri does not match the authorization request"
        if not problem and rec["challenge"]:
            verifier = form.get("code_verifier", "")
            calc = b64u(hashlib.sha256(verifier.encode()).digest())
            if not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier) or \
                    not hmac.compare_digest(calc.encode(), rec["challenge"].encode()):
                problem = "code_verifier does not match the code_challenge"
        if problem:
            pv.count("codes_rejected")
            return self.respond(400, oauth_error("invalid_grant", problem))
        at, rt = pv.issue_token(a.client_id, rec["user"], rec["scopes"], True)
        with pv.lock:
            rec["tokens"].append(at)
            pv.stats["codes_redeemed"] += 1
        body = {"scope": " ".join(rec["scopes"]), "access_token": at, "token_type": "Bearer",
                "app_id": a.app_id, "expires_in": a.token_ttl, "refresh_token": rt,
                "nonce": paypal_nonce()}
        if "openid" in rec["scopes"]:
            now, uid = int(time.time()), user_id_for(a.client_id, pv.users[rec["user"]])
            claims = {"iss": a.issuer, "sub": uid, "aud": a.client_id, "iat": now,
                      "exp": now + 3600, "auth_time": rec["auth_time"], "user_id": uid}
            if rec["nonce"] is not None:
                claims["nonce"] = rec["nonce"]
            tok = id_token_for(pv, claims, pv.take_fault("id_token"))
            if tok is not None:
                body["id_token"] = tok
        self.respond(200, body, [("Pragma", "no-cache")])

    # -- api-m.paypal.com/v1/identity/.../userinfo
    def userinfo(self, query, schema):
        pv = self.pv
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            return self.respond(401, rest_error("AUTHENTICATION_FAILURE", "Authentication failed due "
                                                "to missing authorization header, or invalid "
                                                "authentication credentials."))
        with pv.lock:
            tok = pv.tokens.get(auth[7:].strip())
        if not tok or tok["revoked"] or tok["expires"] < time.time() or tok["user"] is None:
            return self.respond(401, rest_error("INVALID_TOKEN", "Invalid access token.", [
                {"field": "Authorization", "location": "header", "issue": "INVALID_TOKEN",
                 "description": "The bearer token contains an incorrect access token."}]))
        params, _ = self.parse_form(query)
        if params.get("schema") != schema:
            return self.respond(400, rest_error(
                "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
                [{"field": "schema", "value": params.get("schema", ""), "location": "query",
                  "issue": "INVALID_PARAMETER_VALUE" if "schema" in params else "MISSING_REQUIRED_PARAMETER",
                  "description": f"Supported value is {schema}."}]))
        user = pv.users[tok["user"]]
        self.respond(200, userinfo_for(user, user_id_for(tok["client_id"], user), tok["scopes"], schema))

    def certs(self, _q):
        # the signing key first, then keys retired by /__control/rotate_key that PayPal would
        # still publish while tokens signed with them may be in flight
        with self.pv.lock:
            keys = [self.pv.key] + list(getattr(self.pv, "retired_keys", []))
        self.send(200, json_bytes({"keys": [k.public_jwk() for k in keys]}))

    def discovery(self, _q):
        a, base = self.pv.args, self.server.base_url
        self.send(200, json_bytes({
            "issuer": a.issuer, "authorization_endpoint": base + "/signin/authorize",
            "token_endpoint": base + "/v1/oauth2/token",
            "userinfo_endpoint": base + "/v1/identity/openidconnect/userinfo",
            "jwks_uri": base + "/v1/oauth2/certs", "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["HS256", "RS256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": self.pv.app_scopes,
            "claims_supported": ["aud", "iss", "iat", "exp", "auth_time", "nonce", "user_id", "sub"]}))

    def index(self, _q):
        self.send_html(200, page(BANNER, "<h1>fake-paypal</h1><p>A local test double of PayPal's "
                                 "Log in with PayPal endpoints. See docs/fake-paypal.md.</p>"))

    # -- control API (tests only)
    def control_stats(self, _q):
        with self.pv.lock:
            body = json_bytes(self.pv.stats)
        self.send(200, body)

    def control_fault_get(self, _q):
        with self.pv.lock:
            body = json_bytes(self.pv.faults)
        self.send(200, body)

    def control_fault_set(self, _q):
        raw = self.read_body()
        try:
            req = json.loads(raw or b"")
            ep, mode = req["endpoint"], req.get("mode", "none")
            count, delay, status = int(req.get("count", 1)), req.get("delay"), req.get("status")
            if ep not in FAULT_ENDPOINTS or mode not in FAULT_MODES or count < -1:
                raise ValueError
            delay = float(delay) if delay is not None else {"timeout": 30.0, "stall": 600.0}.get(mode, 0.0)
            if delay < 0 or (status is not None and not (isinstance(status, int) and 100 <= status <= 599)):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.send(400, json_bytes({"error": "expected {\"endpoint\": token|userinfo, "
                                              "\"mode\": one of " + "|".join(FAULT_MODES) +
                                              ", \"count\": N>=-1, \"delay\": seconds>=0, "
                                              "\"status\": 100..599}"}))
        with self.pv.lock:
            if mode == "none" or count == 0:
                self.pv.faults.pop(ep, None)
            else:
                self.pv.faults[ep] = {"mode": mode, "count": count, "delay": delay, "status": status}
            body = json_bytes(self.pv.faults)
        self.send(200, body)

    def control_reset(self, _q):
        self.read_body()
        with self.pv.lock:
            self.pv.faults.clear()
            self.pv.reset_stats()
        self.send(200, b"{}")

    def control_id_token(self, _q):
        """{"mode": M, "count": N} arms an id_token fault for the next N tokens (-1: until cleared;
        mode none clears); {"alg": "RS256"|"HS256"} switches how tokens are signed."""
        raw = self.read_body()
        try:
            req = json.loads(raw or b"{}")
            alg, mode = req.get("alg"), req.get("mode")
            count = int(req.get("count", 1))
            if (alg is not None and alg not in ID_TOKEN_ALGS) or \
                    (mode is not None and mode not in ID_TOKEN_FAULTS) or count < -1:
                raise ValueError
        except (ValueError, TypeError, AttributeError):
            return self.send(400, json_bytes({"error": "expected {\"alg\": RS256|HS256} and/or {\"mode\": one of "
                                              + "|".join(ID_TOKEN_FAULTS) + ", \"count\": N>=-1}"}))
        with self.pv.lock:
            if alg:
                self.pv.args.id_token_alg = alg
            if mode == "none" or (mode and count == 0):
                self.pv.faults.pop("id_token", None)
            elif mode:
                self.pv.faults["id_token"] = {"mode": mode, "count": count, "delay": 0, "status": None}
            body = json_bytes({"alg": self.pv.args.id_token_alg, "fault": self.pv.faults.get("id_token")})
        self.send(200, body)

    def control_rotate_key(self, _q):
        """A new signing key; the old one stays in the JWKS (retired) unless {"drop_old": true}."""
        raw = self.read_body()
        try:
            req = json.loads(raw or b"{}")
            drop = bool(req.get("drop_old", False))
        except (ValueError, AttributeError):
            return self.send(400, json_bytes({"error": "expected {\"drop_old\": bool}"}))
        new = RsaKey(self.pv.key.n.bit_length())
        with self.pv.lock:
            retired = [] if drop else [self.pv.key] + list(getattr(self.pv, "retired_keys", []))[:3]
            self.pv.retired_keys, self.pv.key = retired, new
            body = json_bytes({"kid": new.kid, "retired": [k.kid for k in retired]})
        self.send(200, body)

    def control_users(self, _q):
        cid = self.pv.args.client_id
        self.send(200, json_bytes([{"key": u["key"], "name": u["name"], "user_id": user_id_for(cid, u)}
                                   for u in self.pv.users.values()]))


ID_TOKEN_ALGS = ("RS256", "HS256")
# what /__control/id_token can make the next id_token(s) wrong in (each is a check the client must make)
ID_TOKEN_FAULTS = ("none", "wrong_nonce", "no_nonce", "wrong_aud", "wrong_iss", "expired", "future_iat",
                   "wrong_sub", "unknown_kid", "bad_signature", "alg_none", "missing")


def id_token_for(pv, claims, fault):
    """The id_token PayPal would send for these claims (RS256 with the current key, or HS256
    keyed with the client secret as OIDC Core 10.1 says), made wrong as `fault` asks. None: no token."""
    mode = fault["mode"] if fault else None
    claims = dict(claims)
    if mode == "missing":
        return None
    if mode == "wrong_nonce":
        claims["nonce"] = b64u(secrets.token_bytes(32))
    elif mode == "no_nonce":
        claims.pop("nonce", None)
    elif mode == "wrong_aud":
        claims["aud"] = "another-client-" + secrets.token_hex(4)
    elif mode == "wrong_iss":
        claims["iss"] = "https://evil.example"
    elif mode == "expired":
        claims["iat"], claims["exp"] = claims["iat"] - 7200, claims["iat"] - 3600
    elif mode == "future_iat":
        claims["iat"] = claims["iat"] + 3600
        claims["exp"] = claims["iat"] + 3600
    elif mode == "wrong_sub":
        claims["sub"] = claims["user_id"] = claims["sub"][:-4] + "AAAA"
    alg = pv.args.id_token_alg
    if mode == "alg_none":
        head = b64u(json_bytes({"alg": "none", "typ": "JWT"}))
        return head + "." + b64u(json_bytes(claims)) + "."
    if alg == "HS256":
        head = b64u(json_bytes({"alg": "HS256", "typ": "JWT"}))
        si = head + "." + b64u(json_bytes(claims))
        sig = hmac.new(pv.args.client_secret.encode(), si.encode(), hashlib.sha256).digest()
        if mode == "bad_signature":
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return si + "." + b64u(sig)
    key = pv.key
    if mode == "unknown_kid":           # a key PayPal never published
        key = getattr(pv, "stray_key", None) or RsaKey(pv.key.n.bit_length())
        pv.stray_key = key
    tok = key.jwt(claims)
    if mode == "bad_signature":
        head, body, sig = tok.split(".")
        raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        tok = head + "." + body + "." + b64u(bytes([raw[0] ^ 1]) + raw[1:])
    return tok


# (method, exact path, endpoint name for statistics and faults, handler)
ROUTES = httpfake.Routes()
for _method, _path, _endpoint, _fn in (
        ("GET", "/signin/authorize", "authorize", Handler.authorize_get),
        ("POST", "/signin/authorize", "authorize_submit", Handler.authorize_post),
        ("POST", "/v1/oauth2/token", "token", Handler.token),
        ("GET", "/v1/identity/oauth2/userinfo", "userinfo", lambda h, q: h.userinfo(q, "paypalv1.1")),
        ("GET", "/v1/identity/openidconnect/userinfo", "userinfo", lambda h, q: h.userinfo(q, "openid")),
        ("GET", "/v1/oauth2/certs", "certs", Handler.certs),
        ("GET", "/.well-known/openid-configuration", "discovery", Handler.discovery),
        ("GET", "/__control/stats", "control", Handler.control_stats),
        ("GET", "/__control/fault", "control", Handler.control_fault_get),
        ("POST", "/__control/fault", "control", Handler.control_fault_set),
        ("POST", "/__control/reset", "control", Handler.control_reset),
        ("GET", "/__control/users", "control", Handler.control_users),
        ("POST", "/__control/id_token", "control", Handler.control_id_token),
        ("POST", "/__control/rotate_key", "control", Handler.control_rotate_key),
        ("GET", "/", "index", Handler.index)):
    ROUTES.add(_method, re.escape(_path), _fn, _endpoint)
Handler.routes = ROUTES


def origin_of(uri):
    p = urllib.parse.urlsplit(uri)
    return f"{p.scheme}://{p.netloc}" if p.scheme and p.netloc else None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local stand-in for PayPal's Log in with PayPal endpoints.")
    ap.add_argument("--port", type=int, required=True, help="0 picks a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--client-secret", default=os.environ.get("FAKE_PAYPAL_CLIENT_SECRET"))
    ap.add_argument("--redirect-uri", action="append", required=True)
    ap.add_argument("--users")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--code-ttl", type=float, default=600.0)
    ap.add_argument("--token-ttl", type=int, default=28800)
    ap.add_argument("--allow-no-pkce", action="store_true")
    ap.add_argument("--issuer", help="id_token iss (default: this server's base URL)")
    ap.add_argument("--app-scopes", default=DEFAULT_APP_SCOPES,
                    help="scopes enabled for the app (granted = requested ∩ these)")
    ap.add_argument("--app-id", default="APP-80W284485P519543T")
    ap.add_argument("--key-bits", type=int, default=2048)
    ap.add_argument("--id-token-alg", choices=ID_TOKEN_ALGS, default="RS256",
                    help="how id_tokens are signed (PayPal's discovery lists both)")
    args = ap.parse_args(argv)
    if not args.client_secret:
        ap.error("--client-secret (or FAKE_PAYPAL_CLIENT_SECRET) is required")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    try:
        users = load_users(args.users)
    except (OSError, ValueError) as exc:
        ap.error(f"--users: {exc}")
    key = RsaKey(args.key_bits)
    tls = httpfake.tls_context(args.tls_cert, args.tls_key, min_tls12=True) if args.tls_cert else None
    server = httpfake.Server((args.host, args.port), Handler, tls=tls, name="fake-paypal")
    server.base_url = server.url
    args.issuer = args.issuer or server.base_url
    server.provider = Provider(args, users, key)
    httpfake.ready(f"fake-paypal listening on {server.base_url}")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.provider.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
