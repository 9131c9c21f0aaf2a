"""Whole-binary tests of the login service over real HTTPS against the fake PayPal: the happy
path and its evidence, replays, concurrent callbacks, every PayPal failure mode leaving the id
unused, state/CSRF failures, and the pages' escaping."""
import base64
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done          # noqa: E402
from service import Service, jws_from_page  # noqa: E402
import jws_check                            # noqa: E402

USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "ken", "leo", "mia", "nick", "olga", "pat", "quinn", "rita", "sam", "tom", "uma", "victor",
         {"key": "mallory", "name": "<script>alert(1)</script> \"Mal\" O'Reilly",
          "given_name": "<script>alert(1)</script>", "family_name": "O'Reilly \"<b>bold</b>\"",
          "email": "mallory+\"'<i>@example.com", "payer_id": "M4LL0RY7XSS9Q", "verified_account": False}]

S = Service(users=USERS, name="login").__enter__()


def served():
    return S.status()["ids_served"]


@case
def home_page_has_button_banner_and_measurement():
    r = S.get("/")
    check(r.status == 200, r.status)
    check('id="paypal-login" href="/login">Log in with PayPal</a>' in r.text)
    check("development mode: not PayPal" in r.text)
    check("unmeasured: development build" in r.text)
    check("not hardware-attested" in r.text)
    check("default-src 'none'" in (r.header("Content-Security-Policy") or ""))


@case
def login_redirect_carries_oidc_pkce_and_a_secure_cookie():
    r = S.get("/login")
    check(r.status == 302)
    loc = urllib.parse.urlsplit(r.header("Location"))
    q = dict(urllib.parse.parse_qsl(loc.query))
    check(loc.path == "/signin/authorize")
    check(q["response_type"] == "code" and q["scope"] == "openid profile email", q)
    check(q["redirect_uri"] == f"https://localhost:{S.port}/callback", q)
    check(q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43)
    check(len(q["state"]) == 43 and len(q["nonce"]) == 43 and q["client_id"] == S.client_id)
    c = r.header("Set-Cookie")
    for attr in ("HttpOnly", "Secure", "SameSite=Lax", "Max-Age=600", "Path=/"):
        check(attr in c, c)
    check(c.startswith("__Host-"))
    # two logins never share a state
    r2 = S.get("/login")
    q2 = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r2.header("Location")).query))
    check(q2["state"] != q["state"] and q2["code_challenge"] != q["code_challenge"])


@case
def happy_path_gives_a_signed_result_that_verifies():
    before = served()
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:500]))
    check("Test alice" in r.text and "alice@example.com" in r.text)
    jws = jws_from_page(r.text)
    check(jws is not None)
    hdr, payload = jws_check.verify(jws)
    check(payload["ver"] == 1 and payload["iss"] == f"https://localhost:{S.port}")
    check(payload["paypal"]["client_id"] == S.client_id and payload["paypal"]["env"] == "local")
    uid = payload["paypal"]["user_id"]
    check(uid.startswith("https://www.paypal.com/webapps/auth/identity/user/"), uid)
    check(payload["paypal"]["userinfo"]["user_id"] == uid)
    check(payload["evidence"] == [{"type": "none", "reason": payload["evidence"][0]["reason"]}])
    check("not hardware-attested" in payload["evidence"][0]["reason"])
    check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
    check(abs(payload["iat"] - time.time()) < 60 and re.fullmatch("[0-9a-f]{32}", payload["nonce"]))
    # the TLS key bound in the evidence is the one that served this connection
    check(payload["tls_spki_sha256"] == S.status()["certificate"]["spki_sha256"])
    # the download link carries the same JWS, no second request needed
    m = re.search(r'download="sealed-login-result.jws" href="data:application/jose;base64,([^"]+)"', r.text)
    check(m and base64.b64decode(m.group(1)).decode() == jws)
    check("sealed-verify result sealed-login-result.jws --client-id" in r.text and "--allow-unattested" in r.text)
    check(served() == before + 1)
    check("Max-Age=0" in (r.header("Set-Cookie") or ""))


@case
def the_pages_verify_command_passes_with_sealed_verify_and_tampering_fails():
    import html as htmlmod
    import shlex
    import subprocess
    r = S.login("sam")
    check(r.status == 200)
    jws = jws_from_page(r.text)
    cmd = htmlmod.unescape(re.search(r'<pre id="verify-command">([^<]+)</pre>', r.text).group(1))
    path = os.path.join(os.environ.get("SEALED_TEST_OUT", "/tmp"), "sealed-login-result.jws")
    open(path, "w").write(jws)
    argv = shlex.split(cmd)
    check(argv[:3] == ["sealed-verify", "result", "sealed-login-result.jws"], argv)
    verifier = os.path.join(os.path.dirname(__file__), "..", "..", "build", "sealed-verify")
    run = lambda args: subprocess.run([verifier, "result", path] + args, capture_output=True, text=True)
    p = run(argv[3:])
    check(p.returncode == 0, p.stdout[-800:])
    check("not hardware-attested" in p.stdout)
    p = run([a if a != S.client_id else "someone-else" for a in argv[3:]])
    check(p.returncode == 1, "a wrong client id passed")
    h, pl, sig = jws.split(".")
    payload = json.loads(jws_check.b64u_dec(pl))
    payload["paypal"]["user_id"] += "x"
    forged = h + "." + jws_check.b64u(json.dumps(payload).encode()) + "." + sig
    open(path, "w").write(forged)
    check(run(argv[3:]).returncode == 1, "a forged payload passed")


@case
def replay_of_a_used_id_gets_409_and_uses_nothing():
    r = S.login("bob")
    check(r.status == 200)
    n = served()
    r = S.login("bob")
    check(r.status == 409, r.status)
    check("already received its result" in r.text)
    check(jws_from_page(r.text) is None)
    check(served() == n)


@case
def concurrent_callbacks_for_one_id_yield_exactly_one_result():
    # several completed authorizations for the same account, their callbacks fired at once
    legs = []
    for _ in range(6):
        cookie, url = S.start_login()
        legs.append((cookie, S.authorize(url, "carol")))
    results = []
    barrier = threading.Barrier(len(legs))

    def go(cookie, cb):
        barrier.wait()
        results.append(S.get(cb, headers={"Cookie": cookie}).status)
    ts = [threading.Thread(target=go, args=leg) for leg in legs]
    [t.start() for t in ts]
    [t.join() for t in ts]
    check(sorted(results) == [200] + [409] * (len(legs) - 1), results)


def failure_leaves_id_unused(user, endpoint, mode, expect_status, **kw):
    n = served()
    S.fault(endpoint, mode, **kw)
    r = S.login(user)
    check(r.status == expect_status, (mode, r.status, r.text[:300]))
    check(jws_from_page(r.text) is None)
    check(served() == n, "a failed login used up an id")
    S.fault(endpoint, "none")
    r = S.login(user)
    check(r.status == 200, (mode, "retry", r.status))
    check(served() == n + 1)


@case
def token_error_500_leaves_id_unused():
    failure_leaves_id_unused("dave", "token", "error500", 502)


@case
def token_error_body_leaves_id_unused():
    failure_leaves_id_unused("erin", "token", "error_body", 400)


@case
def token_malformed_json_leaves_id_unused():
    failure_leaves_id_unused("frank", "token", "malformed_json", 502)


@case
def token_truncated_leaves_id_unused():
    failure_leaves_id_unused("grace", "token", "truncated", 502)


@case
def userinfo_error_500_leaves_id_unused():
    failure_leaves_id_unused("heidi", "userinfo", "error500", 502)


@case
def userinfo_error_body_leaves_id_unused():
    failure_leaves_id_unused("ivan", "userinfo", "error_body", 502)


@case
def userinfo_malformed_json_leaves_id_unused():
    failure_leaves_id_unused("judy", "userinfo", "malformed_json", 502)


@case
def userinfo_wrong_content_type_still_parses_json_or_fails_cleanly():
    n = served()
    S.fault("userinfo", "wrong_content_type")
    r = S.login("ken")
    check(r.status in (200, 502), r.status)
    check(served() == n + (1 if r.status == 200 else 0))


@case
def userinfo_hostile_values_fail_cleanly_or_are_escaped():
    n = served()
    S.fault("userinfo", "hostile")
    r = S.login("leo")
    check(r.status in (200, 502), r.status)
    check("<script" not in r.text.lower().replace("&lt;script", ""))
    check(served() == n + (1 if r.status == 200 else 0))


@case
def hostile_access_token_is_refused_before_userinfo_and_uses_no_account():
    # the hostile stand-in puts "\r\nX-Injected: 1" into the access token: it must never become
    # a header line of the userinfo request; the login fails with a clear error and the account
    # stays unused
    def userinfo_calls():
        req = json.loads(S.fake_request("GET", "/__control/stats").body)["requests"]
        return sum(v for k, v in req.items() if "userinfo" in k)
    n, calls = served(), userinfo_calls()
    S.fault("token", "hostile")
    r = S.login("victor")
    check(r.status == 502, r.status)
    check("could not be understood" in r.text, r.text[:300])
    check(served() == n, "a refused token used up an account")
    check(userinfo_calls() == calls, "the userinfo request was sent with the hostile token")
    check("access_token is not an RFC 6750 b64token" in S.log_text())
    S.fault("token", "none")
    r = S.login("victor")
    check(r.status == 200, r.status)
    check(served() == n + 1)


@case
def paypal_stall_times_out_with_504_and_id_unused():
    t = time.time()
    failure_leaves_id_unused("mia", "userinfo", "stall", 504, delay=60)
    check(time.time() - t < 40)


@case
def other_visitors_are_served_while_paypal_stalls():
    S.fault("token", "stall", delay=60)
    cookie, url = S.start_login()
    cb = S.authorize(url, "nick")
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", S.get(cb, headers={"Cookie": cookie})))
    th.start()
    time.sleep(0.5)
    t = time.time()
    r = S.get("/healthz")
    check(r.status == 200 and time.time() - t < 1.0, "the event loop was blocked by a stalled PayPal call")
    th.join()
    check(out["r"].status == 504)
    S.fault("token", "none")


@case
def hostile_display_name_is_escaped_everywhere():
    r = S.login("mallory")
    check(r.status == 200, r.status)
    check("<script>alert(1)</script>" not in r.text)
    check("&lt;script&gt;alert(1)&lt;/script&gt; &quot;Mal&quot; O&#39;Reilly" in r.text)
    check("<b>bold</b>" not in r.text)


@case
def state_mismatch_is_refused_with_403():
    cookie, url = S.start_login()
    cb = S.authorize(url, "olga")
    other_cookie, _ = S.start_login()
    n = served()
    r = S.get(cb, headers={"Cookie": other_cookie})
    check(r.status == 403, r.status)
    check(served() == n)
    r = S.get(cb, headers={"Cookie": cookie})   # the code is untouched: the real owner still logs in
    check(r.status == 200, r.status)


@case
def missing_or_tampered_cookie_is_refused():
    cookie, url = S.start_login()
    cb = S.authorize(url, "pat")
    check(S.get(cb).status == 400)
    jar = dict(c.split("=", 1) for c in cookie.split("; "))
    value = jar["__Host-sealed_login"]
    jar["__Host-sealed_login"] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    check(S.get(cb, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}).status == 400)
    check(S.get(cb, headers={"Cookie": cookie}).status == 200)


@case
def callback_without_code_or_with_error_is_400():
    cookie, _ = S.start_login()
    check(S.get("/callback", headers={"Cookie": cookie}).status == 400)
    # an error callback with a foreign state is refused and does not cancel the login in progress
    r = S.get("/callback?error=access_denied&error_description=cancelled&state=x", headers={"Cookie": cookie})
    check(r.status == 403, r.status)
    check(r.header("Set-Cookie") is None, "a cross-site request cleared the login cookie")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(S.get("/login").header("Location")).query))["state"]
    cookie2 = None
    r = S.get("/login")
    cookie2 = r.header("Set-Cookie").split(";", 1)[0]
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query))["state"]
    r = S.get(f"/callback?error=access_denied&error_description=cancelled&state={state}", headers={"Cookie": cookie2})
    check(r.status == 400 and "cancelled" in r.text.lower())
    check("Max-Age=0" in (r.header("Set-Cookie") or ""))
    check(S.get("/callback?code=a&code=b&state=x", headers={"Cookie": cookie}).status == 400)


@case
def head_never_starts_a_login_or_spends_a_result():
    cookie, url = S.start_login()
    cb = S.authorize(url, "tom")
    n = served()
    r = S.get(cb, headers={"Cookie": cookie}, method="HEAD")
    check(r.status == 405, r.status)
    check(S.get("/login", method="HEAD").status == 405)
    check(served() == n)
    check(S.get(cb, headers={"Cookie": cookie}).status == 200)   # the code was not spent either


@case
def results_name_the_service_instance():
    st = S.status()
    check(re.fullmatch("[0-9a-f]{32}", st["instance"]))
    r = S.login("uma")
    check(r.status == 200, r.status)
    _, payload = jws_check.verify(jws_from_page(r.text))
    check(payload["instance"] == st["instance"])


@case
def user_cancel_at_paypal_returns_to_a_clear_page():
    cookie, url = S.start_login()
    cb = S.authorize(url, "quinn", action="cancel")
    r = S.get(cb, headers={"Cookie": cookie})
    check(r.status == 400 and "Login cancelled" in r.text)


@case
def reused_state_is_refused_without_asking_paypal_and_uses_nothing():
    cookie, url = S.start_login()
    cb = S.authorize(url, "rita")
    S.fault("token", "error500")     # the fake burns the code, as a lost answer would
    check(S.get(cb, headers={"Cookie": cookie}).status == 502)
    n = served()
    tokens = json.loads(S.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0)
    r = S.get(cb, headers={"Cookie": cookie})
    check(r.status == 409, r.status)  # the state is spent: the visitor is told to start again
    check("PayPal was not asked again" in r.text)
    check(json.loads(S.fake_request("GET", "/__control/stats").body)["requests"].get("token", 0) == tokens)
    check(served() == n)
    check(S.login("rita").status == 200)


@case
def health_status_and_methods():
    check(S.get("/healthz").body == b"ok\n")
    st = S.status()
    for k in ("uptime_s", "ids_served", "certificate", "evidence", "measurement", "idset_capacity"):
        check(k in st, k)
    check(st["evidence"]["kind"] == "none" and st["certificate"]["not_after"])
    check(S.get("/status").status == 200 and "<table" in S.get("/status").text)
    r = S.get("/", method="POST")
    check(r.status == 405 and r.header("Allow") == "GET, HEAD")
    check(S.get("/nope").status == 404)
    r = S.get("/", method="HEAD")
    check(r.status == 200 and r.body == b"")


@case
def logs_hold_no_ids_names_codes_or_secrets():
    text = S.log_text()
    users = json.loads(S.fake_request("GET", "/__control/users").body)
    for u in users:
        check(u["user_id"] not in text, "a PayPal id reached the log")
        check(u["name"] not in text, "a name reached the log")
    check(S.secret not in text)
    check("code=" not in text and "state=" not in text)
    check("login.result" in text)


done_ = done
try:
    done()
finally:
    S.__exit__()
