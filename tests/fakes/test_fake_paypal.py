#!/usr/bin/env python3
"""Tests for tests/fakes/fake_paypal.py: starts the fake on free ports and checks every rule it
enforces (client auth, redirect_uri, PKCE, single-use and expiring codes, bearer tokens), the
documented response shapes, each fault mode, TLS, concurrency and that logs hold no secrets.
The id_token signature is checked twice: by a few lines of Python and by the openssl CLI."""
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import case, check, done  # noqa: E402

FAKE = os.path.join(HERE, "fake_paypal.py")
CID, SECRET = "test-client-AZ09", "s3cr3t-T0p-secret-value"
R1 = "http://127.0.0.1:1/callback"
R2 = "http://127.0.0.1:1/cb2?from=fake"
FULL = "openid profile email address https://uri.paypal.com/services/paypalattributes"
TMP = tempfile.mkdtemp(prefix="fake-paypal-test-")
SEEN_SECRETS = []          # codes, tokens and states the logs must never show


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Fake:
    """One fake process on a free port."""
    def __init__(self, *extra, client_id=CID, tls=None):
        self.client_id = client_id
        self.log_path = os.path.join(TMP, f"fake-{len(os.listdir(TMP))}.log")
        self.log = open(self.log_path, "w")
        cmd = [sys.executable, FAKE, "--port", "0", "--client-id", client_id,
               "--client-secret", SECRET, "--redirect-uri", R1, "--redirect-uri", R2, *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"fake-paypal listening on (https?)://127\.0\.0\.1:(\d+)\n", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"fake did not start: {line!r}")
        self.scheme, self.port = m.group(1), int(m.group(2))
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"
        self.tls = tls

    def conn(self, timeout=10):
        if self.scheme == "https":
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def req(self, method, path, body=None, headers=None, timeout=10):
        c = self.conn(timeout)
        try:
            c.request(method, path, body, headers or {})
            r = c.getresponse()
            return r.status, r.headers, r.read()
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        st, h, data = self.req(method, path, body, headers)
        return st, json.loads(data)

    def control(self, path, obj=None):
        if obj is None:
            return self.json("GET", path)[1]
        st, res = self.json("POST", path, json.dumps(obj), {"Content-Type": "application/json"})
        check(st == 200, f"control {path} {obj} -> {st} {res}")
        return res

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.log.close()


def pkce():
    v = b64u(os.urandom(32))
    return v, b64u(hashlib.sha256(v.encode()).digest())


def authorize_query(fake, **over):
    p = {"client_id": fake.client_id, "response_type": "code", "scope": FULL, "redirect_uri": R1,
         "state": b64u(os.urandom(16)), "nonce": b64u(os.urandom(16)),
         "code_challenge_method": "S256", "flowEntry": "static"}
    p.update(over)
    return "/signin/authorize?" + urllib.parse.urlencode({k: v for k, v in p.items() if v is not None})


def location_params(headers):
    loc = headers["Location"]
    return loc, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


def login(fake, user="alice", action="login", **over):
    """Authorize page + form submit, like a browser. Returns what the redirect carried."""
    verifier, challenge = pkce()
    over.setdefault("code_challenge", challenge)
    q = authorize_query(fake, **over)
    st, _, page = fake.req("GET", q)
    check(st == 200, f"authorize page {st}: {page[:300]!r}")
    tx = re.search(rb'name="tx" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"tx": tx, "user": user, "action": action})
    st, h, _ = fake.req("POST", "/signin/authorize", form, {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 302, f"submit {st}")
    loc, p = location_params(h)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(q).query))
    SEEN_SECRETS.extend(x for x in (p.get("code"), params["state"]) if x)
    return {"loc": loc, "params": p, "verifier": verifier, "req": params, "tx": tx}


def basic(cid=CID, secret=SECRET):
    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


def exchange(fake, code, verifier, redirect=R1, auth=None, extra=None, ctype="application/x-www-form-urlencoded"):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "code_verifier": verifier}
    form.update(extra or {})
    form = {k: v for k, v in form.items() if v is not None}
    hdrs = {"Content-Type": ctype}
    if auth is not False:
        hdrs["Authorization"] = auth or basic(fake.client_id)
    st, h, data = fake.req("POST", "/v1/oauth2/token", urllib.parse.urlencode(form), hdrs)
    obj = json.loads(data)
    if st == 200:
        SEEN_SECRETS.extend([obj["access_token"], obj.get("refresh_token") or obj["access_token"]])
    return st, obj, h


def userinfo(fake, token, schema="paypalv1.1", path="/v1/identity/oauth2/userinfo"):
    st, h, data = fake.req("GET", f"{path}?schema={schema}", None, {"Authorization": "Bearer " + token})
    return st, json.loads(data), h


def full_flow(fake, user="alice", **over):
    lg = login(fake, user, **over)
    st, tok, _ = exchange(fake, lg["params"]["code"], lg["verifier"], over.get("redirect_uri", R1))
    check(st == 200, f"exchange {st} {tok}")
    st, info, _ = userinfo(fake, tok["access_token"])
    check(st == 200, f"userinfo {st} {info}")
    return lg, tok, info


def is_rest_error(obj, name):
    return (obj.get("name") == name and isinstance(obj.get("message"), str) and obj["message"]
            and re.fullmatch(r"[0-9a-f]{13}", obj.get("debug_id", "")) is not None
            and isinstance(obj.get("details"), list) and isinstance(obj.get("links"), list))


# ---- JWT verification independent of the fake's code ----------------------------------------------

def der(tag, content):
    n = len(content)
    ln = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + ln + content


def jwk_to_pem(jwk):
    ints = [int.from_bytes(unb64u(jwk[k]), "big") for k in ("n", "e")]
    rsapub = der(0x30, b"".join(der(0x02, x.to_bytes(x.bit_length() // 8 + 1, "big")) for x in ints))
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    b64 = base64.b64encode(der(0x30, alg + der(0x03, b"\x00" + rsapub))).decode()
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END PUBLIC KEY-----\n"


def openssl_verify(jwk, signing_input, sig):
    d = tempfile.mkdtemp(dir=TMP)
    paths = {n: os.path.join(d, n) for n in ("pub.pem", "data", "sig")}
    for n, content in (("pub.pem", jwk_to_pem(jwk).encode()), ("data", signing_input), ("sig", sig)):
        with open(paths[n], "wb") as f:
            f.write(content)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", paths["pub.pem"], "-signature",
                        paths["sig"], paths["data"]], capture_output=True, text=True)
    return r.returncode == 0 and "Verified OK" in r.stdout


def python_verify(jwk, signing_input, sig):
    n, e = (int.from_bytes(unb64u(jwk[k]), "big") for k in ("n", "e"))
    k = (n.bit_length() + 7) // 8
    t = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(signing_input).digest()
    return pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big") == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


# ---- fixtures -------------------------------------------------------------------------------------

MAIN = Fake()
USERS_FILE = os.path.join(TMP, "users.json")
with open(USERS_FILE, "w", encoding="utf-8") as _f:
    json.dump({"users": [{"key": "bob", "name": "Bob Added", "given_name": "Bob", "family_name": "Added",
                          "email": "bob@example.org", "payer_id": "B0BADDED12345", "verified_account": False}]}, _f)
SHORT = Fake("--code-ttl", "1", "--token-ttl", "1", "--users", USERS_FILE, "--allow-no-pkce",
             client_id="other-client")


# ---- discovery, keys, pages -----------------------------------------------------------------------

@case
def discovery_and_jwks_are_consistent():
    st, d = MAIN.json("GET", "/.well-known/openid-configuration")
    check(st == 200 and d["issuer"] == MAIN.base and d["jwks_uri"] == MAIN.base + "/v1/oauth2/certs", d)
    check(d["token_endpoint"] == MAIN.base + "/v1/oauth2/token")
    check(d["code_challenge_methods_supported"] == ["S256"])
    check(d["token_endpoint_auth_methods_supported"] == ["client_secret_basic"])
    st, jwks = MAIN.json("GET", "/v1/oauth2/certs")
    key = jwks["keys"][0]
    check(st == 200 and len(jwks["keys"]) == 1 and key["kty"] == "RSA" and key["alg"] == "RS256", jwks)
    check(int.from_bytes(unb64u(key["n"]), "big").bit_length() == 2048)
    thumb = b64u(hashlib.sha256(json.dumps({"e": key["e"], "kty": "RSA", "n": key["n"]},
                                           separators=(",", ":")).encode()).digest())
    check(key["kid"] == thumb, "kid is the RFC 7638 thumbprint")


@case
def unknown_path_404_and_wrong_method_405():
    st, _, data = MAIN.req("GET", "/v1/nothing")
    check(st == 404 and is_rest_error(json.loads(data), "RESOURCE_NOT_FOUND"))
    st, _, data = MAIN.req("GET", "/v1/oauth2/token")
    check(st == 405 and is_rest_error(json.loads(data), "METHOD_NOT_SUPPORTED"))


@case
def authorize_page_is_labelled_and_escapes_users():
    _, ch = pkce()
    st, h, page = MAIN.req("GET", authorize_query(MAIN, code_challenge=ch))
    text = page.decode("utf-8")
    check(st == 200 and h["Content-Type"].startswith("text/html"))
    check("Local stand-in for PayPal (development mode: not PayPal)" in text)
    check('id="fake-login"' in text and ">Log In</button>" in text and 'id="fake-cancel"' in text)
    check("Zoë Ångström 山田" in text, "non-ASCII name shown as UTF-8")
    check("<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text)
    check("mallory+&quot;&#x27;&lt;i&gt;@example.com" in text, "quotes escaped")
    check("default-src 'none'" in h["Content-Security-Policy"] and "form-action 'self' http://127.0.0.1:1" in h["Content-Security-Policy"])
    check("Full name" in text and "Email address" in text)


@case
def authorize_errors_without_trusted_redirect_are_400_pages():
    _, ch = pkce()
    for over in ({"client_id": "nope"}, {"client_id": None}, {"redirect_uri": "http://evil.example/cb"},
                 {"redirect_uri": R1 + "/"}, {"redirect_uri": R1 + "?x=1"}, {"redirect_uri": None},
                 {"redirect_uri": "HTTP://127.0.0.1:1/callback"}):
        st, h, page = MAIN.req("GET", authorize_query(MAIN, code_challenge=ch, **over))
        check(st == 400 and "Location" not in h, f"{over}: {st}")
        check(b"development mode: not PayPal" in page and b'id="fake-error"' in page)
    q = authorize_query(MAIN, code_challenge=ch) + "&client_id=" + CID
    st, h, _ = MAIN.req("GET", q)
    check(st == 400 and "Location" not in h, "duplicate client_id")


@case
def authorize_errors_redirect_with_error_and_state():
    _, ch = pkce()
    cases = [({"response_type": "token"}, "unsupported_response_type"),
             ({"response_type": None}, "unsupported_response_type"),
             ({"scope": "profile email"}, "invalid_scope"),
             ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
             ({"code_challenge_method": "plain"}, "invalid_request"),
             ({"code_challenge_method": None}, "invalid_request"),
             ({"code_challenge": "short"}, "invalid_request"),
             ({"code_challenge": "A" * 42 + "="}, "invalid_request"),
             ({"nonce": "n" * 5000}, "invalid_request")]
    for over, err in cases:
        q = authorize_query(MAIN, **{"code_challenge": ch, "state": "st-123", **over})
        st, h, _ = MAIN.req("GET", q)
        loc, p = location_params(h)
        check(st == 302 and loc.startswith(R1 + "?") and p.get("error") == err, f"{over}: {st} {p}")
        check(p.get("state") == "st-123" and p.get("error_description"), p)
    st, h, _ = MAIN.req("GET", authorize_query(MAIN, code_challenge=ch, state=None))
    _, p = location_params(h)
    check(st == 302 and p["error"] == "invalid_request" and "state" not in p, "missing state")
    st, h, _ = MAIN.req("GET", authorize_query(MAIN, code_challenge=ch, state="a") + "&state=b")
    check(st == 302 and location_params(h)[1]["error"] == "invalid_request", "duplicate state")


@case
def cancel_redirects_access_denied_and_tx_is_single_use():
    lg = login(MAIN, action="cancel")
    p = lg["params"]
    check(p["error"] == "access_denied" and p["error_description"] and p["state"] == lg["req"]["state"], p)
    check("code" not in p)
    form = urllib.parse.urlencode({"tx": lg["tx"], "user": "alice", "action": "login"})
    st, h, page = MAIN.req("POST", "/signin/authorize", form, {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and "Location" not in h and b"already" in page, "used tx")
    st, _, _ = MAIN.req("POST", "/signin/authorize", "tx=x&user=alice&action=login",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400, "unknown tx")


@case
def registered_redirect_with_query_keeps_it():
    lg = login(MAIN, redirect_uri=R2)
    check(lg["loc"].startswith(R2 + "&code="), lg["loc"])
    check(lg["params"]["from"] == "fake" and lg["params"]["state"] == lg["req"]["state"])
    st, _, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"], R2)
    check(st == 200)


# ---- token endpoint -------------------------------------------------------------------------------

@case
def happy_path_token_response_shape():
    lg = login(MAIN)
    check(re.fullmatch(r"C21AA[A-Za-z0-9_-]{40,}", lg["params"]["code"]) is not None)
    st, tok, h = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check(st == 200 and h["Content-Type"] == "application/json" and h["Cache-Control"] == "no-store")
    check(set(tok) == {"scope", "access_token", "token_type", "app_id", "expires_in", "refresh_token",
                       "nonce", "id_token"}, tok.keys())
    check(tok["token_type"] == "Bearer" and tok["expires_in"] == 28800 and tok["app_id"].startswith("APP-"))
    check(tok["scope"].split() == FULL.split())
    check(tok["nonce"] != lg["req"]["nonce"], "token nonce is PayPal's own value")


@case
def id_token_is_a_valid_rs256_jwt():
    lg, tok, info = full_flow(MAIN)
    head_b, body_b, sig_b = tok["id_token"].split(".")
    head, claims = json.loads(unb64u(head_b)), json.loads(unb64u(body_b))
    jwk = MAIN.json("GET", "/v1/oauth2/certs")[1]["keys"][0]
    check(head["alg"] == "RS256" and head["kid"] == jwk["kid"], head)
    now = time.time()
    check(claims["iss"] == MAIN.base and claims["aud"] == CID and claims["nonce"] == lg["req"]["nonce"])
    check(claims["sub"] == info["user_id"] == claims["user_id"])
    check(abs(claims["iat"] - now) < 30 and claims["exp"] > claims["iat"] and claims["auth_time"] <= claims["iat"])
    signing_input, sig = (head_b + "." + body_b).encode(), unb64u(sig_b)
    check(python_verify(jwk, signing_input, sig), "python verify")
    check(openssl_verify(jwk, signing_input, sig), "openssl verify")
    check(not openssl_verify(jwk, signing_input + b"x", sig), "openssl rejects tampered input")


@case
def id_token_without_requested_nonce_has_no_nonce():
    lg = login(MAIN, nonce=None)
    _, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check("nonce" not in json.loads(unb64u(tok["id_token"].split(".")[1])))


@case
def wrong_client_auth_is_401_invalid_client_and_keeps_code():
    lg = login(MAIN)
    code, v = lg["params"]["code"], lg["verifier"]
    bad = [basic(CID, "wrong"), basic("other", SECRET), basic(CID, ""), "Bearer " + SECRET,
           "Basic !!!notbase64", "Basic " + base64.b64encode(CID.encode()).decode(), False]
    for auth in bad:
        st, obj, _ = exchange(MAIN, code, v, auth=auth)
        check(st == 401 and obj == {"error": "invalid_client", "error_description": "Client Authentication failed"},
              f"{auth!r}: {st} {obj}")
    st, obj, _ = exchange(MAIN, code, v, auth=False, extra={"client_id": CID, "client_secret": SECRET})
    check(st == 401 and obj["error"] == "invalid_client", "body credentials are not accepted")
    st, _, _ = exchange(MAIN, code, v)
    check(st == 200, "an unauthenticated caller cannot burn a code")


@case
def wrong_redirect_uri_is_invalid_grant_and_burns_code():
    for ruri in (R2, None, R1 + "/"):
        lg = login(MAIN)
        st, obj, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"], ruri)
        check(st == 400 and obj["error"] == "invalid_grant" and "redirect_uri" in obj["error_description"], obj)
        st, obj, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
        check(st == 400 and obj["error"] == "invalid_grant", "code consumed by the failed attempt")


@case
def bad_pkce_verifier_is_invalid_grant():
    other_verifier, _ = pkce()
    for v in (other_verifier, None, "", "short", "A" * 129, "a" * 50):
        lg = login(MAIN)
        st, obj, _ = exchange(MAIN, lg["params"]["code"], v)
        check(st == 400 and obj["error"] == "invalid_grant" and "code_verifier" in obj["error_description"], (v, obj))


@case
def code_reuse_is_invalid_grant_and_revokes_tokens():
    lg = login(MAIN)
    st, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check(st == 200 and userinfo(MAIN, tok["access_token"])[0] == 200)
    st, obj, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check(st == 400 and obj == {"error": "invalid_grant", "error_description": "Authorization code has already been used"})
    check(userinfo(MAIN, tok["access_token"])[0] == 401, "tokens from a replayed code are revoked")


@case
def token_request_errors():
    st, obj, _ = exchange(MAIN, "C21AAnot-a-real-code", "x" * 43)
    check(st == 400 and obj["error"] == "invalid_grant")
    st, obj, _ = exchange(MAIN, None, "x" * 43)
    check(st == 400 and obj["error"] == "invalid_request")
    st, obj, _ = exchange(MAIN, "c", "v", extra={"grant_type": None})
    check(st == 400 and obj == {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
    st, obj, _ = exchange(MAIN, "c", "v", extra={"grant_type": "password"})
    check(st == 400 and obj["error"] == "unsupported_grant_type")
    st, obj, _ = exchange(MAIN, "c", "v", ctype="application/json")
    check(st == 400 and obj["error"] == "invalid_request")
    st, _, data = MAIN.req("POST", "/v1/oauth2/token", "grant_type=client_credentials&grant_type=x",
                           {"Authorization": basic(), "Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and json.loads(data)["error"] == "invalid_request", "duplicate parameter")
    st, _, data = MAIN.req("POST", "/v1/oauth2/token", "x" * 70000,
                           {"Authorization": basic(), "Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400, "oversized body")


@case
def client_credentials_token_cannot_read_userinfo():
    st, _, data = MAIN.req("POST", "/v1/oauth2/token", "grant_type=client_credentials",
                           {"Authorization": basic(), "Content-Type": "application/x-www-form-urlencoded"})
    tok = json.loads(data)
    check(st == 200 and set(tok) == {"scope", "access_token", "token_type", "app_id", "expires_in", "nonce"}, tok)
    st, obj, _ = userinfo(MAIN, tok["access_token"])
    check(st == 401 and is_rest_error(obj, "INVALID_TOKEN"))


@case
def refresh_token_grant():
    _, tok, info = full_flow(MAIN, "zoe")
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    hdrs = {"Authorization": basic(), "Content-Type": "application/x-www-form-urlencoded"}
    st, _, data = MAIN.req("POST", "/v1/oauth2/token", form, hdrs)
    new = json.loads(data)
    check(st == 200 and new["access_token"] != tok["access_token"] and "id_token" not in new)
    st, info2, _ = userinfo(MAIN, new["access_token"])
    check(st == 200 and info2 == info)
    st, _, data = MAIN.req("POST", "/v1/oauth2/token", "grant_type=refresh_token&refresh_token=nope", hdrs)
    check(st == 400 and json.loads(data)["error"] == "invalid_grant")


# ---- userinfo -------------------------------------------------------------------------------------

@case
def userinfo_paypalv11_shape():
    _, _, info = full_flow(MAIN, "alice")
    check(set(info) == {"user_id", "sub", "name", "given_name", "family_name", "emails", "address",
                        "verified_account", "payer_id"}, info.keys())
    check(re.fullmatch(r"https://www\.paypal\.com/webapps/auth/identity/user/[A-Za-z0-9_-]{43}", info["user_id"]) is not None)
    check(info["sub"] == info["user_id"] and info["name"] == "Alice Example")
    check(info["emails"] == [{"value": "alice@example.com", "primary": True, "confirmed": True}])
    check(set(info["address"]) == {"street_address", "locality", "region", "postal_code", "country"})
    check(info["verified_account"] is True and re.fullmatch(r"[A-Z0-9]{13}", info["payer_id"]) is not None)
    users = MAIN.control("/__control/users")
    check({u["key"]: u["user_id"] for u in users}["alice"] == info["user_id"])


@case
def userinfo_openid_shape():
    lg = login(MAIN, "zoe")
    _, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    st, info, h = userinfo(MAIN, tok["access_token"], "openid", "/v1/identity/openidconnect/userinfo")
    check(st == 200 and h["Content-Type"] == "application/json")
    check(set(info) == {"user_id", "sub", "name", "given_name", "family_name", "email", "email_verified",
                        "address", "verified_account", "account_type"}, info.keys())
    check(info["name"] == "Zoë Ångström 山田" and info["email"] == "zoe.angstrom@example.com")
    _, h, raw = MAIN.req("GET", "/v1/identity/openidconnect/userinfo?schema=openid",
                         headers={"Authorization": "Bearer " + tok["access_token"]})
    check("Zoë Ångström 山田".encode() in raw, "UTF-8 on the wire")


@case
def userinfo_is_limited_to_granted_scopes():
    lg = login(MAIN, "alice", scope="openid")
    st, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check(st == 200 and tok["scope"] == "openid")
    st, info, _ = userinfo(MAIN, tok["access_token"])
    check(st == 200 and set(info) == {"user_id", "sub"}, info)
    lg = login(MAIN, "alice", scope="openid email https://example.com/not-enabled")
    _, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    check(tok["scope"] == "openid email", tok["scope"])


@case
def hostile_test_user_is_returned_verbatim():
    _, _, info = full_flow(MAIN, "mallory")
    check(info["given_name"] == "<script>alert(1)</script>" and info["address"]["street_address"].startswith('">'))


@case
def userinfo_auth_and_schema_errors():
    st, h, data = MAIN.req("GET", "/v1/identity/oauth2/userinfo?schema=paypalv1.1")
    check(st == 401 and is_rest_error(json.loads(data), "AUTHENTICATION_FAILURE"))
    st, obj, _ = userinfo(MAIN, "A21AAforged")
    check(st == 401 and is_rest_error(obj, "INVALID_TOKEN") and obj["message"] == "Invalid access token.")
    st, h, data = MAIN.req("GET", "/v1/identity/oauth2/userinfo?schema=paypalv1.1", headers={"Authorization": basic()})
    check(st == 401 and is_rest_error(json.loads(data), "AUTHENTICATION_FAILURE"), "Basic is not a bearer token")
    _, tok, _ = full_flow(MAIN)
    st, obj, _ = userinfo(MAIN, tok["access_token"], "openid")
    check(st == 400 and is_rest_error(obj, "INVALID_REQUEST"))
    d = obj["details"][0]
    check(d["field"] == "schema" and d["location"] == "query" and d["issue"] == "INVALID_PARAMETER_VALUE" and d["value"] == "openid")
    st, _, data = MAIN.req("GET", "/v1/identity/oauth2/userinfo", headers={"Authorization": "Bearer " + tok["access_token"]})
    check(st == 400 and json.loads(data)["details"][0]["issue"] == "MISSING_REQUIRED_PARAMETER")


# ---- second instance: expiry, users file, optional PKCE, pairwise ids -----------------------------

@case
def expired_code_and_token_are_rejected():
    lg = login(SHORT)
    time.sleep(1.3)
    st, obj, _ = exchange(SHORT, lg["params"]["code"], lg["verifier"])
    check(st == 400 and obj == {"error": "invalid_grant", "error_description": "Authorization code expired"}, obj)
    lg = login(SHORT)
    st, tok, _ = exchange(SHORT, lg["params"]["code"], lg["verifier"])
    check(st == 200 and tok["expires_in"] == 1 and userinfo(SHORT, tok["access_token"])[0] == 200)
    time.sleep(1.3)
    st, obj, _ = userinfo(SHORT, tok["access_token"])
    check(st == 401 and is_rest_error(obj, "INVALID_TOKEN"), "expired access token")


@case
def expired_authorize_page_cannot_be_submitted():
    _, ch = pkce()
    _, _, page = SHORT.req("GET", authorize_query(SHORT, code_challenge=ch))
    tx = re.search(rb'name="tx" value="([^"]+)"', page).group(1).decode()
    time.sleep(1.3)
    st, h, _ = SHORT.req("POST", "/signin/authorize", urllib.parse.urlencode({"tx": tx, "user": "alice", "action": "login"}),
                         {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and "Location" not in h)


@case
def users_file_adds_users():
    _, _, page = SHORT.req("GET", authorize_query(SHORT, code_challenge=pkce()[1]))
    check(b"Bob Added" in page and b"Alice Example" in page)
    lg, tok, info = full_flow(SHORT, "bob")
    check(info["name"] == "Bob Added" and info["verified_account"] is False)


@case
def bad_users_file_fails_to_start():
    bad = os.path.join(TMP, "bad-users.json")
    for content in ("{not json", '[{"name": "no key"}]', '{"users": 3}'):
        with open(bad, "w") as f:
            f.write(content)
        r = subprocess.run([sys.executable, FAKE, "--port", "0", "--client-id", CID, "--client-secret", SECRET,
                            "--redirect-uri", R1, "--users", bad], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "--users" in r.stderr and "listening" not in r.stdout, (content, r))


@case
def pkce_optional_only_with_flag():
    st, h, _ = MAIN.req("GET", authorize_query(MAIN, code_challenge=None, code_challenge_method=None))
    check(st == 302 and location_params(h)[1]["error"] == "invalid_request")
    lg = login(SHORT, code_challenge=None, code_challenge_method=None)
    st, tok, _ = exchange(SHORT, lg["params"]["code"], None)
    check(st == 200, "no PKCE accepted with --allow-no-pkce")
    lg = login(SHORT)
    st, obj, _ = exchange(SHORT, lg["params"]["code"], None)
    check(st == 400 and obj["error"] == "invalid_grant", "a code bound to a challenge still needs the verifier")


@case
def user_ids_are_pairwise_and_stable():
    other = {u["key"]: u["user_id"] for u in SHORT.control("/__control/users")}
    mine = {u["key"]: u["user_id"] for u in MAIN.control("/__control/users")}
    check(set(mine) == {"alice", "zoe", "mallory"} and len(set(mine.values())) == 3)
    check(all(other[k] != mine[k] for k in mine), "different client, different ids")
    again = Fake()
    try:
        check({u["key"]: u["user_id"] for u in again.control("/__control/users")} == mine, "stable across restarts")
    finally:
        again.stop()


@case
def client_id_of_other_fake_is_unknown_here():
    st, h, _ = MAIN.req("GET", authorize_query(SHORT, code_challenge=pkce()[1]))
    check(st == 400 and "Location" not in h)


# ---- fault injection ------------------------------------------------------------------------------

def fresh_code(fake=MAIN):
    lg = login(fake)
    return lg["params"]["code"], lg["verifier"]


def raw_token_call(fake, timeout=10):
    code, v = fresh_code(fake)
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": R1, "code_verifier": v})
    return fake.req("POST", "/v1/oauth2/token", form, {"Authorization": basic(fake.client_id),
                                                      "Content-Type": "application/x-www-form-urlencoded"}, timeout)


def raw_userinfo_call(fake, token, timeout=10):
    return fake.req("GET", "/v1/identity/oauth2/userinfo?schema=paypalv1.1", None,
                    {"Authorization": "Bearer " + token}, timeout)


def both_endpoints():
    _, tok, _ = full_flow(MAIN)
    return {"token": lambda **kw: raw_token_call(MAIN, **kw),
            "userinfo": lambda **kw: raw_userinfo_call(MAIN, tok["access_token"], **kw)}


@case
def fault_error500():
    for ep, call in both_endpoints().items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "error500"})
        st, _, data = call()
        check(st == 500 and is_rest_error(json.loads(data), "INTERNAL_SERVER_ERROR"), ep)
        check(call()[0] == 200, f"{ep}: count 1 applies once")


@case
def fault_error_body():
    calls = both_endpoints()
    MAIN.control("/__control/fault", {"endpoint": "token", "mode": "error_body"})
    st, _, data = calls["token"]()
    obj = json.loads(data)
    check(st == 400 and set(obj) == {"error", "error_description"} and obj["error"] == "invalid_request")
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "error_body", "status": 422})
    st, _, data = calls["userinfo"]()
    obj = json.loads(data)
    check(st == 422 and is_rest_error(obj, "INVALID_REQUEST"))
    check(set(obj["details"][0]) == {"field", "value", "location", "issue", "description"})


@case
def fault_timeout_answers_late():
    for ep, call in both_endpoints().items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "timeout", "delay": 1.0})
        t0 = time.monotonic()
        try:
            call(timeout=0.3)
            check(False, f"{ep}: expected a client timeout")
        except (socket.timeout, TimeoutError):
            pass
        check(time.monotonic() - t0 < 1.0)
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "timeout", "delay": 0.4})
        t0 = time.monotonic()
        st, _, _ = call(timeout=5)
        check(st == 200 and time.monotonic() - t0 >= 0.4, f"{ep}: late but normal answer")


@case
def fault_stall_never_answers_and_blocks_no_one():
    calls = both_endpoints()
    for ep, call in calls.items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "stall", "count": 1})
        t0 = time.monotonic()
        try:
            call(timeout=0.6)
            check(False, f"{ep}: a stalled request got an answer")
        except (socket.timeout, TimeoutError):
            pass
        check(time.monotonic() - t0 < 2)
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "stall", "count": 1, "delay": 30})
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("r", _try(lambda: calls["userinfo"](timeout=3))))
    th.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    check(calls["userinfo"]()[0] == 200 and time.monotonic() - t0 < 1.0, "others are served during a stall")
    th.join()
    check(isinstance(result["r"], (socket.timeout, TimeoutError)), result)
    check(MAIN.control("/__control/stats")["status"]["userinfo"].get("stalled", 0) >= 2)


def _try(fn):
    try:
        return fn()
    except Exception as exc:          # returned for the caller to inspect
        return exc


@case
def fault_malformed_json():
    for ep, call in both_endpoints().items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "malformed_json"})
        st, h, data = call()
        check(st == 200 and h["Content-Type"] == "application/json")
        check(isinstance(_try(lambda: json.loads(data)), json.JSONDecodeError), f"{ep}: {data[:80]!r}")


@case
def fault_truncated():
    for ep, call in both_endpoints().items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "truncated"})
        r = _try(call)
        check(isinstance(r, http.client.IncompleteRead), f"{ep}: {r!r}")
        check(call()[0] == 200)


@case
def fault_wrong_content_type():
    for ep, call in both_endpoints().items():
        MAIN.control("/__control/fault", {"endpoint": ep, "mode": "wrong_content_type"})
        st, h, data = call()
        check(st == 200 and h["Content-Type"].startswith("text/html") and isinstance(json.loads(data), dict), ep)


@case
def fault_hostile():
    calls = both_endpoints()
    _, _, data = calls["userinfo"]()
    real = json.loads(data)
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "hostile"})
    st, _, data = calls["userinfo"]()
    obj = json.loads(data)
    check(st == 200 and obj["user_id"] == real["user_id"] and "<script>" in obj["name"])
    check("\u202e" in obj["name"] and len(obj["family_name"]) == 4096 and "<svg" in obj["emails"][0]["value"])
    MAIN.control("/__control/fault", {"endpoint": "token", "mode": "hostile"})
    st, _, data = calls["token"]()
    obj = json.loads(data)
    check(st == 200 and "\r\n" in obj["access_token"] and "<script>" in obj["scope"] and "id_token" in obj)


@case
def fault_count_none_and_validation():
    call = both_endpoints()["userinfo"]
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "error500", "count": 2})
    check([call()[0] for _ in range(3)] == [500, 500, 200])
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "error500", "count": -1})
    check([call()[0] for _ in range(3)] == [500, 500, 500])
    check(MAIN.control("/__control/fault")["userinfo"]["count"] == -1)
    MAIN.control("/__control/fault", {"endpoint": "userinfo", "mode": "none"})
    check(call()[0] == 200 and MAIN.control("/__control/fault") == {})
    for bad in ({"endpoint": "authorize", "mode": "error500"}, {"endpoint": "token", "mode": "explode"},
                {"endpoint": "token", "mode": "error500", "count": -2}, {"mode": "error500"},
                {"endpoint": "token", "mode": "timeout", "delay": -1},
                {"endpoint": "token", "mode": "error_body", "status": 42}, [1]):
        st, _, _ = MAIN.req("POST", "/__control/fault", json.dumps(bad), {"Content-Type": "application/json"})
        check(st == 400, bad)
    st, _, _ = MAIN.req("POST", "/__control/fault", "{oops", {"Content-Type": "application/json"})
    check(st == 400)


@case
def stats_count_requests_and_codes():
    MAIN.control("/__control/reset", {})
    lg = login(MAIN)
    exchange(MAIN, lg["params"]["code"], lg["verifier"])
    st, tok, _ = exchange(MAIN, lg["params"]["code"], lg["verifier"])
    s = MAIN.control("/__control/stats")
    check(s["requests"] == {"authorize": 1, "authorize_submit": 1, "token": 2, "control": 1}, s)
    check(s["codes_issued"] == 1 and s["codes_redeemed"] == 1 and s["codes_rejected"] == 1 and s["tokens_issued"] == 1)
    check(s["status"]["token"] == {"200": 1, "400": 1} and s["status"]["authorize_submit"] == {"302": 1}, s["status"])


# ---- concurrency and TLS --------------------------------------------------------------------------

@case
def concurrent_logins_are_independent():
    before = MAIN.control("/__control/stats")["codes_redeemed"]
    users = ["alice", "zoe", "mallory"] * 8
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda u: (u, full_flow(MAIN, u)), users))
    codes = {r[1][0]["params"]["code"] for r in results}
    tokens = {r[1][1]["access_token"] for r in results}
    check(len(codes) == len(users) and len(tokens) == len(users))
    ids = {u: {r[1][2]["user_id"] for r in results if r[0] == u} for u in set(users)}
    check(all(len(v) == 1 for v in ids.values()), "same user, same id, under load")
    check(MAIN.control("/__control/stats")["codes_redeemed"] - before == len(users))


@case
def tls_mode_serves_https_and_survives_silent_clients():
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
    check(r.returncode == 0, r.stderr)
    ctx = ssl.create_default_context(cafile=cert)
    fake = Fake("--tls-cert", cert, "--tls-key", key, tls=ctx)
    try:
        check(fake.base.startswith("https://"))
        silent = socket.create_connection(("127.0.0.1", fake.port))     # never sends a ClientHello
        t0 = time.monotonic()
        _, _, info = full_flow(fake, "zoe")
        check(time.monotonic() - t0 < 5 and info["name"] == "Zoë Ångström 山田")
        silent.close()
        plain = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=3)
        check(isinstance(_try(lambda: (plain.request("GET", "/"), plain.getresponse())), Exception), "no plain HTTP")
    finally:
        fake.stop()


@case
def logs_hold_no_secrets():
    MAIN.req("GET", "/v1/oauth2/certs")
    time.sleep(0.2)
    with open(MAIN.log_path, encoding="utf-8") as f:
        log = f.read()
    check("fake-paypal: POST /v1/oauth2/token 200" in log and "fake-paypal: GET /signin/authorize 200" in log)
    check(len(SEEN_SECRETS) > 50)
    for s in [SECRET, base64.b64encode(f"{CID}:{SECRET}".encode()).decode(), "Alice Example", "alert(1)",
              "Zoë"] + SEEN_SECRETS:
        check(s not in log, f"log leaks {s[:12]}...")
    check(all(line.startswith("fake-paypal: ") for line in log.splitlines()), "one line per event")


if __name__ == "__main__":
    try:
        done()
    finally:
        MAIN.stop()
        SHORT.stop()
