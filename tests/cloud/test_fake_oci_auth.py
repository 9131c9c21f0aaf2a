"""sealed-oci-request sending real signed requests to the fake OCI services, and those fakes
refusing what OCI refuses: a certificate that does not chain to the (fake) OCI identity CA, a keyId
that does not match the certificate, a request signed by the wrong key, a tampered body, a
skewed date, an expired token, a token used with another key."""
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from tap import case, check, done  # noqa: E402
import cloudtest as ct  # noqa: E402
import fakecrypto as fc  # noqa: E402

FAKE = ct.Fake("oci", {"secret_ocid": ct.SECRET_ID}, {ct.SECRET_ID: ct.PAYPAL_SECRET}, [ct.TOPIC_ID])
I = FAKE.info
W = FAKE.dir
SESSION = fc.Minter(W).key("session")
SESSION_PUB = os.path.join(W, "session.pub")
fc.openssl("pkey", "-in", SESSION, "-pubout", "-out", SESSION_PUB)


def strip(path):
    return "".join(ln for ln in open(path).read().splitlines() if not ln.startswith("-----"))


def fed_body(leaf=I["leaf_pem"], **over):
    b = {"certificate": strip(leaf), "publicKey": strip(SESSION_PUB),
         "intermediateCertificates": [strip(I["intermediate_pem"])], "fingerprintAlgorithm": "SHA256"}
    b.update(over)
    b = {k: v for k, v in b.items() if v is not None}
    p = os.path.join(W, "fed.json")
    with open(p, "w") as f:
        json.dump(b, f)
    return p


def fingerprint(pem):
    return fc.Cert(fc.pem_to_der(open(pem).read())).sha256_fingerprint()


def send(*args):
    r = subprocess.run([ct.OCIREQ, "--ca-file", FAKE.ca, *args], capture_output=True, timeout=30)
    try:
        body = json.loads(r.stdout or b"{}")
    except ValueError:
        body = {"raw": r.stdout}
    return r.returncode, body, r.stderr.decode()


def federate(key=I["leaf_key"], key_id=None, body=None, extra=()):
    key_id = key_id or f"{I['tenancy']}/fed-x509-sha256/{fingerprint(I['leaf_pem'])}"
    return send("-k", key, "-i", key_id, "--federation", "-b", body or fed_body(), *extra, "POST", FAKE.api + "/v1/x509")


def token_file(tok):
    p = os.path.join(W, "token")
    with open(p, "w") as f:
        f.write(tok)
    return p


@case
def federation_issues_a_token_bound_to_the_session_key():
    FAKE.reset()
    rc, body, err = federate()
    check(rc == 0, (body, err))
    claims = json.loads(fc.b64u_dec(body["token"].split(".")[1]))
    check(claims["ttype"] == "x509" and claims["tenant"] == I["tenancy"] and claims["exp"] > time.time())
    jwk = json.loads(claims["jwk"])
    n, e = fc.spki_rsa(fc.pem_to_der(open(SESSION_PUB).read()))
    check(int.from_bytes(fc.b64u_dec(jwk["n"]), "big") == n)
    rc, body2, err = send("-k", SESSION, "--token-file", token_file(body["token"]), "GET",
                          FAKE.api + "/20190301/secretbundles/" + ct.SECRET_ID)
    check(rc == 0 and base64.b64decode(body2["secretBundleContent"]["content"]).decode() == ct.PAYPAL_SECRET, body2)


@case
def foreign_certificate_refused():
    m = fc.Minter(W)
    ca_key, ca_pem = m.ca("evil-root", "/CN=Fake OCI PKISVC Intermediate/O=fake-oci")
    k, pem = m.issue("evil-leaf", f"/CN=x/OU=opc-tenant:{I['tenancy'][:50]}", ca_key, ca_pem)
    rc, body, _ = federate(key=k, key_id=f"{I['tenancy'][:50]}/fed-x509-sha256/{fingerprint(pem)}",
                           body=fed_body(leaf=pem))
    check(rc == 1 and body["code"] == "NotAuthenticated", body)


@case
def key_id_must_match_certificate():
    rc, body, _ = federate(key_id=f"{I['tenancy']}/fed-x509-sha256/" + ":".join(["00"] * 32))
    check(rc == 1 and body["code"] == "NotAuthenticated", body)
    rc, body, _ = federate(key_id=f"ocid1.tenancy.oc1..other/fed-x509-sha256/{fingerprint(I['leaf_pem'])}")
    check(rc == 1 and body["code"] == "NotAuthenticated", body)


@case
def wrong_signing_key_refused():
    rc, body, _ = federate(key=SESSION)
    check(rc == 1 and body["code"] == "NotAuthenticated", body)


@case
def fingerprint_algorithm_required():
    rc, body, _ = federate(body=fed_body(fingerprintAlgorithm=None))
    check(rc == 1 and body["code"] == "InvalidParameter", body)


@case
def tampered_body_refused():
    rc, out, _ = (lambda r: (r.returncode, r.stdout.decode(), r.stderr))(subprocess.run(
        [ct.OCIREQ, "-k", I["leaf_key"], "-i", f"{I['tenancy']}/fed-x509-sha256/{fingerprint(I['leaf_pem'])}",
         "--federation", "-b", fed_body(), "-p", "POST", FAKE.api + "/v1/x509"], capture_output=True))
    check(rc == 0)
    headers = dict(ln.split(": ", 1) for ln in out.splitlines()[1:])
    body = open(fed_body()).read().replace('{"certificate"', '{ "certificate"', 1).encode()
    u = urllib.parse.urlparse(FAKE.api)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=FAKE.ca))
    headers["content-length"] = str(len(body))
    conn.request("POST", "/v1/x509", body=body, headers=headers)
    resp = conn.getresponse()
    check(resp.status == 400 and b"x-content-sha256" in resp.read())


@case
def skewed_date_refused_with_service_clock():
    old = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 600))
    rc, body, _ = federate(extra=("-d", old))
    check(rc == 1 and "is not within allowed clock skew" in body["message"], body)


@case
def token_only_with_its_session_key_and_until_exp():
    FAKE.reset(token_ttl_s=61)
    rc, body, _ = federate()
    tok = token_file(body["token"])
    url = FAKE.api + "/20190301/secretbundles/" + ct.SECRET_ID
    rc, b, _ = send("-k", I["leaf_key"], "--token-file", tok, "GET", url)
    check(rc == 1 and b["code"] == "NotAuthenticated", b)
    rc, b, _ = send("-k", SESSION, "--token-file", tok, "GET", url)
    check(rc == 0, b)
    # 2 minutes later on the service's clock the token has expired (the date moves with it)
    FAKE.config(skew_s=120)
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    rc, b, _ = send("-k", SESSION, "--token-file", tok, "-d", later, "GET", url)
    check(rc == 1 and "expired" in b["message"], b)
    FAKE.reset()


@case
def notifications_publish_needs_signed_body():
    FAKE.reset()
    rc, body, _ = federate()
    tok = token_file(body["token"])
    url = FAKE.api + f"/20181201/topics/{ct.TOPIC_ID}/messages"
    rc, b, _ = send("-k", SESSION, "--token-file", tok, "--body-string", '{"title":"t","body":"hello"}', "POST", url)
    check(rc == 1 and b["code"] == "InvalidParameter", b)   # messageType JSON (the default) wants {"default":..}
    rc, b, _ = send("-k", SESSION, "--token-file", tok, "-H", "messageType: RAW_TEXT", "--body-string",
                    '{"title":"t","body":"hello"}', "POST", url)
    check(rc == 0 and b["messageId"].startswith("ocid1.onsmessage"), b)
    check(FAKE.state()["messages"][-1]["body"] == "hello")
    rc, b, _ = send("-k", SESSION, "--token-file", tok, "--body-string", '{"title":"t","body":"x"}', "POST",
                    FAKE.api + "/20181201/topics/ocid1.onstopic.oc1.phx.nope/messages")
    check(rc == 1 and b["code"] == "NotAuthorizedOrNotFound", b)


@case
def instance_principal_mode_checks_the_policy():
    FAKE.reset()
    url = FAKE.api + "/20190301/secretbundles/" + ct.SECRET_ID
    ip = ("--instance-principal", "--metadata-base", FAKE.metadata, "--auth-base", FAKE.api, "-v")
    rc, b, err = send(*ip, "GET", url)
    check(rc == 0 and base64.b64decode(b["secretBundleContent"]["content"]).decode() == ct.PAYPAL_SECRET, (b, err))
    check("instance principal: region=us-phoenix-1" in err and "BEGIN" not in err, err)
    FAKE.config(deny=True)   # the dynamic group's policy does not cover the secret
    rc, b, err = send(*ip, "GET", url)
    check(rc == 1 and b["code"] == "NotAuthorizedOrNotFound", b)
    FAKE.reset()
    rc, b, err = send("--instance-principal", "--metadata-base", "http://127.0.0.1:1", "GET", url)
    check(rc == 2 and "/opc/v2/instance/" in err, err)


ct.select_cases()
try:
    done()
finally:
    FAKE.stop()
