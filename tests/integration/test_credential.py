"""The result as an SD-JWT VC and the OID4VCI pre-authorized code flow (issue 14, items 2 and 3),
against the running service with a test wallet (this script, with Python's `cryptography` for its
ES256 key): metadata, offer (QR code and openid-credential-offer:// link on the result page), token,
nonce, JWT proof, credential; a replayed pre-authorized code, a proof with a wrong nonce or
audience, a second credential for the same token are refused; a redeemed code stays redeemed across
a service restart. Every disclosure's digest is in `_sd`; a tampered disclosure fails. The
independent implementation (OpenWallet Foundation sd-jwt-js, tests/sdjwt) verifies our credentials
and our presentations, and our verifier verifies what the library issues and presents."""
import base64
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done          # noqa: E402
from service import Service, jws_from_page  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
VERIFY = os.path.join(ROOT, "build", "sealed-verify")
SDJWT_DIR = os.path.join(ROOT, "tests", "sdjwt")
STATE = tempfile.mkdtemp(prefix="vc-state-")
OUT = tempfile.mkdtemp(prefix="vc-")
S = Service(users=["alice", "bob", "carol", "dave"], name="credential",
            env={"SEALED_STATE_DIR": STATE}).__enter__()
ISS = f"https://localhost:{S.port}"
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(jwt):
    h, p, _ = jwt.split(".")
    return json.loads(unb64u(h)), json.loads(unb64u(p))


class Wallet:
    """A holder key and the JWTs a wallet signs with it (ES256, raw R||S)."""
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

    def sign(self, header, payload):
        si = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
        r, s = decode_dss_signature(self.key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
        return si + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def proof(self, aud, nonce):
        return self.sign({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": self.jwk},
                         {"aud": aud, "iat": int(time.time()), "nonce": nonce})

    def present(self, credential, keep, aud, nonce):
        """A presentation revealing only the disclosures whose claim name is in keep, with a KB-JWT."""
        parts = credential.split("~")
        kept = [d for d in parts[1:-1] if json.loads(unb64u(d))[1] in keep]
        sd = "~".join([parts[0]] + kept) + "~"
        kb = self.sign({"typ": "kb+jwt", "alg": "ES256"},
                       {"iat": int(time.time()), "aud": aud, "nonce": nonce,
                        "sd_hash": b64u(hashlib.sha256(sd.encode()).digest())})
        return sd + kb


def post(path, body, ctype, headers=None):
    c = S.conn()
    try:
        c.request("POST", path, body=body, headers=dict({"Content-Type": ctype}, **(headers or {})))
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        c.close()


def token(code):
    return post("/token", urllib.parse.urlencode({"grant_type": PRE_AUTH, "pre-authorized_code": code}),
                "application/x-www-form-urlencoded")


def nonce():
    st, b = post("/nonce", "", "application/json")
    check(st == 200 and b.get("c_nonce"), (st, b))
    return b["c_nonce"]


def credential(access, proof):
    return post("/credential", json.dumps({"credential_configuration_id": "sealed_login_paypal_sd_jwt",
                                           "proofs": {"jwt": [proof]}}),
                "application/json", {"Authorization": "Bearer " + access})


def get_json(path):
    r = S.get(path)
    check(r.status == 200 and r.header("Content-Type").startswith("application/json"), (path, r.status))
    return json.loads(r.body)


def login_page(user):
    r = S.login(user)
    check(r.status == 200, (r.status, r.text[:300]))
    return r.text


def offer_of(page):
    m = re.search(r'<a id="offer-link" href="([^"]+)"', page)
    check(m, "no credential offer link on the result page")
    uri = html.unescape(m.group(1))
    check(uri.startswith("openid-credential-offer://?credential_offer="), uri[:60])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)
    return json.loads(q["credential_offer"][0])


def download_of(page):
    m = re.search(r'id="download-sd-jwt" download="sealed-login-result.sd-jwt" href="data:application/dc\+sd-jwt;base64,([^"]+)"', page)
    check(m, "no SD-JWT download on the result page")
    return base64.b64decode(m.group(1)).decode()


def write(name, text):
    p = os.path.join(OUT, name)
    with open(p, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(text))
    return p


def sverify(*args):
    return subprocess.run([VERIFY, "sd-jwt", *args], capture_output=True, text=True)


def lib(cmd, inp):
    r = subprocess.run(["node", os.path.join(SDJWT_DIR, "sdjwt_check.mjs"), cmd], input=json.dumps(inp),
                       capture_output=True, text=True, cwd=SDJWT_DIR, timeout=60)
    return json.loads(r.stdout or '{"ok": false, "error": "no output"}')


def digests_all_in_sd(sdjwt):
    """Every disclosure's digest is in an _sd array (or an array's "...") of the payload or of
    another disclosure, independently of our C code."""
    parts = sdjwt.split("~")
    _, payload = jwt_parts(parts[0])
    discs = [d for d in parts[1:-1] if d]
    found = set()

    def walk(v):
        if isinstance(v, dict):
            found.update(v.get("_sd", []))
            if "..." in v:
                found.add(v["..."])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(payload)
    for d in discs:
        walk(json.loads(unb64u(d))[-1])
    return discs and all(b64u(hashlib.sha256(d.encode()).digest()) in found for d in discs)


META = {}
FLOW = {}


@case
def metadata_documents_name_this_issuer_and_its_key():
    vc = get_json("/.well-known/openid-credential-issuer")
    check(vc["credential_issuer"] == ISS and vc["credential_endpoint"] == ISS + "/credential", vc)
    check(vc["nonce_endpoint"] == ISS + "/nonce", vc)
    cfg = vc["credential_configurations_supported"]["sealed_login_paypal_sd_jwt"]
    check(cfg["format"] == "dc+sd-jwt" and cfg["vct"] == "urn:sealed-login:vct:paypal-login:1", cfg)
    check(cfg["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256"], cfg)
    asm = get_json("/.well-known/oauth-authorization-server")
    check(asm["token_endpoint"] == ISS + "/token" and PRE_AUTH in asm["grant_types_supported"], asm)
    jv = get_json("/.well-known/jwt-vc-issuer")
    check(jv["issuer"] == ISS and jv["jwks"]["keys"][0]["kid"] == S.status()["signing_kid"], jv)
    META.update(jv=jv)
    check(S.get("/token").status == 405, "GET /token must be refused")


@case
def result_page_offers_the_credential_with_a_server_drawn_qr_code():
    page = login_page("alice")
    check('<svg xmlns="http://www.w3.org/2000/svg" id="offer-qr" role="img"' in page, "no QR code")
    check(re.search(r'<path fill="#000" d="(M\d+ \d+h1v1h-1z)+"', page), "QR path missing")
    offer = offer_of(page)
    check(offer["credential_issuer"] == ISS and offer["credential_configuration_ids"] == ["sealed_login_paypal_sd_jwt"],
          offer)
    FLOW.update(code=offer["grants"][PRE_AUTH]["pre-authorized_code"], page=page, jws=jws_from_page(page),
                download=download_of(page))
    check("pre-authorized" not in S.log_text() and FLOW["code"] not in S.log_text(), "the code reached the log")


@case
def downloaded_credential_verifies_and_every_digest_is_in_sd():
    cred, jws = FLOW["download"], FLOW["jws"]
    check(digests_all_in_sd(cred), "a disclosure's digest is not in _sd")
    h, p = jwt_parts(cred.split("~")[0])
    check(h["typ"] == "dc+sd-jwt" and h["alg"] == "ES256" and p["_sd_alg"] == "sha-256", h)
    names = sorted(json.loads(unb64u(d))[1] for d in cred.split("~")[1:-1])
    check({"name", "email"} <= set(names) and "account_id" not in names, names)
    check(p["client_id"] == S.client_id and p["evidence_digest"] == hashlib.sha256(jws.encode()).hexdigest(), p)
    r = sverify(write("dl.sd-jwt", cred), "--issuer-jwks", write("jv.json", META["jv"]), "--client-id", S.client_id)
    check(r.returncode == 0, r.stdout + r.stderr)
    check("REPORT_DATA recomputed" in r.stdout and "selectively disclosed, signed by the issuer: email = " in r.stdout,
          r.stdout)
    r = sverify(write("dl.sd-jwt", cred), "--result", write("dl.jws", jws))
    check(r.returncode == 0 and "evidence_digest is the SHA-256 of --result" in r.stdout, r.stdout)
    r = sverify(write("dl.sd-jwt", cred), "--result", write("other.jws", jws[:-4] + "AAAA"))
    check(r.returncode != 0, "a foreign result must not back the credential")


@case
def tampered_disclosure_fails_here_and_in_the_library():
    parts = FLOW["download"].split("~")
    d = json.loads(unb64u(parts[1]))
    d[-1] = "Mallory" if isinstance(d[-1], str) else "x"
    bad = "~".join([parts[0], b64u(json.dumps(d).encode())] + parts[2:])
    r = sverify(write("bad.sd-jwt", bad), "--issuer-jwks", write("jv.json", META["jv"]))
    check(r.returncode == 1 and "digest is not in the signed payload" in r.stdout, r.stdout)
    check(not lib("verify", {"sdjwt": bad, "jwks": META["jv"]["jwks"]})["ok"], "the library accepted a tampered one")
    r = sverify(write("dup.sd-jwt", "~".join(parts[:2] + parts[1:])), "--issuer-jwks", write("jv.json", META["jv"]))
    check(r.returncode == 1, "a repeated disclosure must fail")


@case
def library_verifies_the_downloaded_credential():
    r = lib("verify", {"sdjwt": FLOW["download"], "jwks": META["jv"]["jwks"]})
    check(r["ok"] and r["claims"]["account_id"] and r["claims"]["email"], r)


@case
def wallet_redeems_the_offer_once_and_gets_a_bound_credential():
    st, tok = token(FLOW["code"])
    check(st == 200 and tok["token_type"] == "Bearer" and tok["expires_in"] <= 300, (st, tok))
    st, again = token(FLOW["code"])
    check(st == 400 and again["error"] == "invalid_grant", ("replayed code", st, again))
    w = Wallet()
    n = nonce()
    st, e = credential(tok["access_token"], w.proof(ISS, "not-our-nonce"))
    check(st == 400 and e["error"] == "invalid_nonce", ("wrong nonce", st, e))
    st, e = credential(tok["access_token"], w.proof("https://evil.example", n))
    check(st == 400 and e["error"] == "invalid_proof", ("wrong audience", st, e))
    st, e = credential(tok["access_token"], Wallet().proof(ISS, n)[:-6] + "AAAAAA")
    check(st == 400 and e["error"] == "invalid_proof", ("bad signature", st, e))
    st, e = post("/credential", "{not json", "application/json", {"Authorization": "Bearer " + tok["access_token"]})
    check(st == 400 and e["error"] == "invalid_credential_request", ("malformed", st, e))
    st, e = post("/credential", json.dumps({"credential_configuration_id": "other", "proofs": {"jwt": [w.proof(ISS, n)]}}),
                 "application/json", {"Authorization": "Bearer " + tok["access_token"]})
    check(st == 400 and e["error"] == "unknown_credential_configuration", ("other configuration", st, e))
    st, e = credential("x" + tok["access_token"], w.proof(ISS, n))
    check(st == 401 and e["error"] == "invalid_token", ("unknown token", st, e))
    st, c = credential(tok["access_token"], w.proof(ISS, n))
    check(st == 200 and len(c["credentials"]) == 1, (st, c))
    cred = c["credentials"][0]["credential"]
    _, p = jwt_parts(cred.split("~")[0])
    check(p["cnf"]["jwk"] == w.jwk, ("cnf", p.get("cnf")))
    check(digests_all_in_sd(cred), "digest not in _sd")
    st, e = credential(tok["access_token"], Wallet().proof(ISS, nonce()))
    check(st == 401 and e["error"] == "invalid_token", ("second credential", st, e))
    FLOW.update(wallet=w, bound=cred)
    check(S.status()["credential_issuer"]["credentials_issued"] == 1, S.status()["credential_issuer"])


@case
def presentation_with_key_binding_verifies_here_and_in_the_library():
    w, cred = FLOW["wallet"], FLOW["bound"]
    aud, n = "https://rp.example", b64u(os.urandom(16))
    pres = w.present(cred, {"email"}, aud, n)
    jv = write("jv.json", META["jv"])
    r = sverify(write("p.sd-jwt", pres), "--issuer-jwks", jv, "--nonce", n, "--aud", aud, "--require-kb")
    check(r.returncode == 0, r.stdout + r.stderr)
    check("selectively disclosed, signed by the issuer: email" in r.stdout and "name =" not in r.stdout, r.stdout)
    for args in (["--nonce", "other", "--aud", aud], ["--nonce", n, "--aud", "https://other.example"]):
        r = sverify(write("p.sd-jwt", pres), "--issuer-jwks", jv, *args)
        check(r.returncode == 1, ("wrong nonce/aud must fail", args, r.stdout))
    other = Wallet().present(cred, {"email"}, aud, n)
    r = sverify(write("p2.sd-jwt", other), "--issuer-jwks", jv, "--nonce", n, "--aud", aud)
    check(r.returncode == 1 and "does not verify with cnf.jwk" in r.stdout, r.stdout)
    parts = pres.split("~")
    moved = "~".join(parts[:1] + parts[2:]) if len(parts) > 3 else pres.replace("~", "~~", 1)
    r = sverify(write("p3.sd-jwt", moved), "--issuer-jwks", jv, "--nonce", n, "--aud", aud)
    check(r.returncode == 1, "a KB-JWT moved to another set of disclosures must fail (sd_hash)")
    r = sverify(write("cred.sd-jwt", cred), "--issuer-jwks", jv, "--require-kb")
    check(r.returncode == 1, "--require-kb must refuse the bare credential")
    got = lib("verify", {"sdjwt": pres, "jwks": META["jv"]["jwks"], "nonce": n, "aud": aud})
    check(got["ok"] and got["kb"] and got["claims"]["email"] and "name" not in got["claims"], got)
    check(not lib("verify", {"sdjwt": pres, "jwks": META["jv"]["jwks"], "nonce": "other", "aud": aud})["ok"],
          "the library accepted a wrong nonce")


@case
def our_verifier_verifies_what_the_library_issues_and_presents():
    v = lib("issue", {})
    check(v.get("credential"), v)
    jw = write("libjwks.json", v["jwks"])
    r = sverify(write("lib.sd-jwt", v["credential"]), "--issuer-jwks", jw, "--generic")
    check(r.returncode == 0 and "9 disclosures" in r.stdout, r.stdout)
    r = sverify(write("libp.sd-jwt", v["presentation"]), "--issuer-jwks", jw, "--generic", "--nonce", v["nonce"],
                "--aud", v["aud"], "--require-kb")
    check(r.returncode == 0 and "locality = " in r.stdout and "family_name" not in r.stdout, r.stdout)
    r = sverify(write("libp.sd-jwt", v["presentation"]), "--issuer-jwks", jw, "--generic", "--nonce", "x",
                "--aud", v["aud"])
    check(r.returncode == 1, "wrong nonce on the library's presentation must fail")


@case
def result_retrieval_also_gives_the_credential():
    cookie, url = S.start_login()
    page = S.get(S.authorize(url, "dave"), headers={"Cookie": cookie}).text
    code = re.search(r'<code id="retrieval-code">([^<]+)</code>', page).group(1)
    r = S.get(f"/result?format=sd-jwt&code={code}", headers={"Cookie": cookie})
    check(r.status == 200 and r.header("Content-Type") == "application/dc+sd-jwt", r.status)
    cred = r.body.decode()
    r2 = sverify(write("again.sd-jwt", cred), "--result", write("again.jws", jws_from_page(page)))
    check(r2.returncode == 0, r2.stdout)
    lst = S.get("/result", headers={"Cookie": cookie}).text
    check(f'href="/result?format=sd-jwt&amp;code={code}"' in lst, "no credential link in /result's list")
    check(S.get(f"/result?format=sd-jwt&code={code}").status == 404, "another browser must not get it")


@case
def a_redeemed_code_stays_redeemed_across_a_restart():
    offer = offer_of(login_page("bob"))
    code = offer["grants"][PRE_AUTH]["pre-authorized_code"]
    st, tok = token(code)
    check(st == 200, (st, tok))
    S.proc.send_signal(signal.SIGKILL)
    S.proc.wait(30)
    S.log.close()
    S.name = "credential-restarted"
    S.start_service()
    st, again = token(code)
    check(st == 400 and again["error"] == "invalid_grant", ("replay after restart", st, again))
    w = Wallet()
    st, c = credential(tok["access_token"], w.proof(ISS, nonce()))
    check(st == 200, ("the token outlives the restart", st, c))
    st, c = credential(tok["access_token"], w.proof(ISS, nonce()))
    check(st == 401, ("one credential per token, also after a restart", st, c))


@case
def an_offer_not_redeemed_survives_a_restart_and_then_redeems_once():
    offer = offer_of(login_page("carol"))
    code = offer["grants"][PRE_AUTH]["pre-authorized_code"]
    S.proc.send_signal(signal.SIGTERM)
    S.proc.wait(30)
    S.log.close()
    S.name = "credential-restarted-2"
    S.start_service()
    st, tok = token(code)
    check(st == 200, (st, tok))
    check(token(code)[0] == 400, "second redemption")


FAULTS_BIN = os.path.join(ROOT, "build", "faults", "sealed-login")


@case
def failed_saves_hand_out_nothing_and_use_nothing_up():
    """Each redemption record that cannot be saved: no token, no credential, and the step can be
    taken again; an offer that cannot be saved does not redeem (the page and the result stand)."""
    if not os.path.exists(FAULTS_BIN):
        raise AssertionError("build/faults/sealed-login missing: make faults")
    global S
    d = tempfile.mkdtemp(prefix="vc-f-", dir=OUT)
    ff = os.path.join(OUT, "vc.fault")
    open(ff, "w").write("")
    keep = S
    with Service(users=["f1", "f2"], name="credential-faults", binary=FAULTS_BIN,
                 env={"SEALED_STATE_DIR": d, "SEALED_FAULT_FILE": ff}) as F:
        S = F
        iss = f"https://localhost:{F.port}"
        try:
            code = offer_of(login_page("f1"))["grants"][PRE_AUTH]["pre-authorized_code"]
            open(ff, "w").write("vc_redeem")
            st, e = token(code)
            open(ff, "w").write("")
            check(st == 503 and e["error"] == "server_error", (st, e))
            st, tok = token(code)
            check(st == 200, ("the code was not used up", st, tok))
            w = Wallet()
            open(ff, "w").write("vc_issued")
            st, e = credential(tok["access_token"], w.proof(iss, nonce()))
            open(ff, "w").write("")
            check(st == 503 and "credentials" not in e, (st, e))
            st, c = credential(tok["access_token"], w.proof(iss, nonce()))
            check(st == 200 and len(c["credentials"]) == 1, ("the token was not used up", st, c))
            open(ff, "w").write("vc_offer")
            page = login_page("f2")
            open(ff, "w").write("")
            check(jws_from_page(page), "the result is delivered even when its offer is not saved")
            st, e = token(offer_of(page)["grants"][PRE_AUTH]["pre-authorized_code"])
            check(st == 400 and e["error"] == "invalid_grant", (st, e))
            check("vc.offer_not_saved" in F.log_text(), "not logged")
        finally:
            S = keep


try:
    done()
finally:
    S.__exit__()
    shutil.rmtree(STATE, ignore_errors=True)
