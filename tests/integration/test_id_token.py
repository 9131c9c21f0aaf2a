"""Whole-binary tests of PayPal's id_token (issue 14, item 1) against the fake PayPal: every
failure mode of the token (wrong nonce, audience, issuer, subject, expired, unknown key, bad
signature, alg none, missing) is a clear error page that uses up nothing (the same account then
gets its result); HS256 tokens are checked but never kept; RS256 tokens go into the result as
paypal.id_token and `sealed-verify result --paypal-jwks` checks them against the fake's JWKS (and
fails with another); a rotated key is fetched again, at most once per PAYPAL_JWKS_MIN_REFRESH_S."""
import base64
import html
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from tap import case, check, done          # noqa: E402
from service import Service, jws_from_page  # noqa: E402
import fake_paypal                          # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
VERIFY = os.path.join(ROOT, "build", "sealed-verify")
MIN_REFRESH_S = 10                          # login/limits.h PAYPAL_JWKS_MIN_REFRESH_S
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken",
         "leo", "mia", "nick", "olga", "pat"]
S = Service(users=USERS, name="id_token").__enter__()
OUT = tempfile.mkdtemp(prefix="idtoken-")
last_fetch = [time.monotonic()]


def control(path, body):
    r = S.fake_request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    check(r.status == 200, (r.status, r.text))
    return json.loads(r.body)


def payload_of(jws):
    p = jws.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def served():
    return S.status()["ids_served"]


def good_login(user):
    r = S.login(user)
    check(r.status == 200, (r.status, r.text[:400]))
    jws = jws_from_page(r.text)
    check(jws, "no JWS on the result page")
    return jws


def refused(user, mode, reason):
    """Arms one id_token fault, logs user in: a clear error, nothing used; then the user succeeds."""
    before = served()
    control("/__control/id_token", {"mode": mode, "count": 1})
    r = S.login(user)
    text = html.unescape(r.text)
    check(r.status == 502, (mode, r.status, text[:300]))
    check("id_token was refused" in text, text[:600])
    check(reason in text, (mode, reason, text[:1500]))
    check("Nothing was used up" in text)
    check(served() == before, "an account id was used up")
    check("paypal.id_token result=refused" in S.log_text())
    return good_login(user)


def verify(jws, jwks=None):
    path = os.path.join(OUT, "result.jws")
    with open(path, "w") as f:
        f.write(jws)
    args = [VERIFY, "result", path, "--allow-unattested", "--skip-measurement", "--json"]
    if jwks is not None:
        jp = os.path.join(OUT, "jwks.json")
        with open(jp, "w") as f:
            json.dump(jwks, f)
        args += ["--paypal-jwks", jp]
    p = subprocess.run(args, capture_output=True, text=True)
    out = json.loads(p.stdout)
    return p.returncode, {s["id"]: s for s in out["steps"]}, out


def fake_jwks():
    return json.loads(S.fake_request("GET", "/v1/oauth2/certs").body)


@case
def rs256_token_checked_and_kept_in_the_result():
    jws = good_login("alice")
    last_fetch[0] = time.monotonic()
    p = payload_of(jws)
    tok = p["paypal"].get("id_token")
    check(tok and tok.count(".") == 2, p["paypal"].keys())
    head = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
    check(head["alg"] == "RS256", head)
    claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=" * (-len(tok.split(".")[1]) % 4)))
    check(claims["sub"] == p["paypal"]["user_id"] and claims["aud"] == S.client_id)
    check(S.status()["paypal_jwks"]["fetches"] == 1, S.status()["paypal_jwks"])
    rc, steps, out = verify(jws, fake_jwks())
    check(rc == 0, json.dumps(out)[:2000])
    st = steps["paypal.id_token.signature"]
    check(st["status"] == "pass" and "PayPal signed that account " + p["paypal"]["user_id"] in st["text"]
          and "logged in to app " + S.client_id in st["text"], st)
    check(steps["paypal.id_token.claims"]["status"] == "pass")


@case
def oidc_nonce_is_derived_from_the_result_nonce():
    import hashlib
    jws = good_login("bob")
    p = payload_of(jws)
    want = base64.urlsafe_b64encode(hashlib.sha256(("SEALED_LOGIN_V1|OIDC_NONCE=" + p["nonce"]).encode())
                                    .digest()).rstrip(b"=").decode()
    t = p["paypal"]["id_token"].split(".")[1]
    check(json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))["nonce"] == want)


@case
def result_fails_with_another_jwks_and_says_unchecked_without_one():
    jws = good_login("carol")
    jw = fake_jwks()
    other = fake_paypal.RsaKey(2048).public_jwk()
    other["kid"] = jw["keys"][0]["kid"]                 # same kid, another key: the signature fails
    rc, steps, _ = verify(jws, {"keys": [other]})
    check(rc == 1 and steps["paypal.id_token.signature"]["status"] == "fail", steps.get("paypal.id_token.signature"))
    rc, steps, _ = verify(jws, {"keys": [fake_paypal.RsaKey(2048).public_jwk()]})   # no such kid
    check(rc == 1 and "not in PayPal's published key set" in steps["paypal.id_token.signature"]["text"])
    rc, steps, out = verify(jws)
    st = steps["paypal.id_token.signature"]
    check(st["status"] == "info" and "NOT checked" in st["text"], st)
    check(not any("PayPal signed" in s for s in out["fields"]["summary"]["proven"]))
    check(any("id_token was not checked" in s for s in out["fields"]["summary"]["not_proven"]))
    # a payload whose user id was changed no longer matches the token's subject (and the JWS breaks)
    p = payload_of(jws)
    p["paypal"]["id_token"] = p["paypal"]["id_token"][:-8] + "AAAAAAAA"
    bare = os.path.join(OUT, "bare.json")
    with open(bare, "w") as f:
        json.dump(p, f)
    r = subprocess.run([VERIFY, "result", bare, "--allow-unsigned", "--allow-unattested", "--skip-measurement",
                        "--allow-report-data-mismatch", "--paypal-jwks", os.path.join(OUT, "jwks.json"), "--json"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and '"paypal.id_token.signature"' in r.stdout)


@case
def wrong_nonce_is_refused_and_uses_nothing():
    refused("dave", "wrong_nonce", "nonce is not the one of this login")


@case
def missing_nonce_is_refused():
    refused("erin", "no_nonce", "nonce is not the one of this login")


@case
def wrong_audience_is_refused_and_uses_nothing():
    refused("frank", "wrong_aud", "aud is not this client id")


@case
def wrong_issuer_is_refused_and_uses_nothing():
    refused("grace", "wrong_iss", "wrong iss")


@case
def expired_token_is_refused_and_uses_nothing():
    refused("heidi", "expired", "has expired")


@case
def token_from_the_future_is_refused():
    refused("olga", "future_iat", "issued in the future")


@case
def other_subject_than_userinfo_is_refused():
    refused("ivan", "wrong_sub", "names another account")


@case
def bad_signature_is_refused_and_uses_nothing():
    refused("judy", "bad_signature", "signature does not verify")


@case
def alg_none_and_missing_token_are_refused():
    refused("ken", "alg_none", "not a well-formed JWT")   # unsigned: never accepted
    refused("pat", "missing", "holds no id_token")


@case
def unknown_key_is_refused_and_uses_nothing():
    refused("leo", "unknown_kid", "not in PayPal's published key set")
    last_fetch[0] = time.monotonic()


@case
def hs256_is_verified_with_the_secret_but_never_kept():
    control("/__control/id_token", {"alg": "HS256"})
    try:
        jws = good_login("mia")
        check("id_token" not in payload_of(jws)["paypal"], payload_of(jws)["paypal"].keys())
        rc, steps, _ = verify(jws, fake_jwks())
        check(rc == 0 and steps["paypal.id_token"]["status"] == "info", steps.get("paypal.id_token"))
        refused("nick", "bad_signature", "signature does not verify")
    finally:
        control("/__control/id_token", {"alg": "RS256"})


@case
def rotated_key_is_fetched_again_once_per_interval():
    wait = MIN_REFRESH_S + 0.5 - (time.monotonic() - last_fetch[0])
    if wait > 0:
        time.sleep(wait)
    fetches = S.status()["paypal_jwks"]["fetches"]
    control("/__control/rotate_key", {"drop_old": True})
    # a new account after the rotation: the unknown kid makes the service fetch PayPal's keys again
    jws = good_login("zoe")
    check(S.status()["paypal_jwks"]["fetches"] == fetches + 1, S.status()["paypal_jwks"])
    rc, _, out = verify(jws, fake_jwks())
    check(rc == 0, json.dumps(out)[:1500])
    # rotated again at once: no second fetch within the interval, so the login is refused, nothing used
    control("/__control/rotate_key", {"drop_old": True})
    before = served()
    r = S.login("mallory")
    check(r.status == 502 and "published key set" in html.unescape(r.text), r.text[:600])
    check(served() == before)
    check(S.status()["paypal_jwks"]["fetches"] == fetches + 1)
    time.sleep(MIN_REFRESH_S + 0.5)
    good_login("mallory")


try:
    done()
finally:
    S.__exit__()
