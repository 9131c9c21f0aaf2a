"""The whole login flow of the real sealed-login binary configured only by (fake) OCI instance
metadata (and once by GCP attributes): the PayPal client id, the domain, the secret's OCID and the notification topic come from
the metadata server, PAYPAL_SECRET from the fake Vault through instance-principal federation. While
the metadata server is down the site answers (/healthz, a "temporarily unavailable" home page,
/login refused); once the cloud flow is through, a login against the fake PayPal yields a signed
result bound to the metadata's client id, and the boot notification is published."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from tap import case, check, done  # noqa: E402
from service import Service, jws_from_page  # noqa: E402
import jws_check  # noqa: E402
import cloudtest as ct  # noqa: E402

FAKE = ct.Fake("oci", {}, {}, [ct.TOPIC_ID])
FAKE.config(metadata_fail=10 ** 6)   # the metadata server is "down" until the test brings it up
S = Service(users=["alice", "bob"], name="cloud-service", env={
    # the domain the service starts with is not the real one: only the metadata's is
    "PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_DOMAIN": "placeholder.invalid",
    "SEALED_PLATFORM": "auto", "SEALED_METADATA_BASE": FAKE.metadata, "SEALED_CLOUD_API_BASE": FAKE.api,
    "SEALED_CLOUD_CA_FILE": FAKE.ca}).__enter__()


def cloud():
    return S.status()["cloud"]


@case
def serves_while_metadata_is_down():
    check(S.get("/healthz").status == 200)
    r = S.get("/")
    check(r.status == 200 and 'id="unavailable"' in r.text and 'id="paypal-login"' not in r.text, r.text[:400])
    check("waiting for the cloud" in r.text, r.text[:2000])
    check(S.get("/login").status == 503)
    st = S.status()
    check(st["login_available"] is False and st["cloud"]["ready"] is False, st)
    check(st["cloud"]["retries"] >= 1 and "metadata server" in st["cloud"]["last_error"], st["cloud"])


@case
def metadata_brings_the_service_up():
    FAKE.config(metadata_fail=0, metadata={
        "paypal_client_id": S.client_id, "domain": f"localhost:{S.port}", "secret_ocid": ct.SECRET_ID,
        "notification_topic_id": ct.TOPIC_ID, "paypal_api_base": "https://evil.example"},
        secrets={ct.SECRET_ID: S.secret})
    ct.wait_for(lambda: cloud()["ready"], 30)   # the retry backoff may be at a few seconds by now
    st = S.status()
    check(st["cloud"]["ready"] and st["cloud"]["platform"] == "oci", st["cloud"])
    check(st["login_available"] is True and st["cloud"]["paypal_secret"] == "present", st)
    r = S.get("/")
    check('id="paypal-login"' in r.text and S.client_id in r.text)


@case
def login_with_metadata_configuration_only():
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:500]))
    hdr, payload = jws_check.verify(jws_from_page(r.text))
    check(payload["paypal"]["client_id"] == S.client_id)
    check(payload["iss"] == f"https://localhost:{S.port}")
    check(f"service.domain source=metadata domain=localhost:{S.port}" in S.log_text())
    check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
    check(S.login("alice").status == 409)


@case
def boot_notification_published_without_personal_data():
    msgs = ct.wait_for(lambda: [m for m in FAKE.state()["messages"] if m["title"] == "sealed-login started"], 10, 0.2)
    check(len(msgs) == 1, FAKE.state()["messages"])
    check("alice" not in msgs[0]["body"] and S.client_id not in msgs[0]["body"])


@case
def secret_never_logged():
    log = S.log_text()
    check(S.secret not in log and "ST$" not in log and "BEGIN" not in log)
    check("cloud.ready" in log and "cloud.token" in log)


@case
def signing_key_from_vault_replaces_the_per_boot_key():
    import base64
    import fakecrypto as fc
    key = fc.Minter(FAKE.dir).path("svc-p256.pem")
    fc.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    pub = fc.openssl("pkey", "-in", key, "-pubout", "-outform", "DER")[-64:]
    signkey_id = ct.SIGNKEY_ID
    FAKE.config(metadata_fail=0, metadata={})
    s2 = Service(users=["carol"], name="cloud-service-key", env={
        "PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_PLATFORM": "oci",
        "SEALED_METADATA_BASE": FAKE.metadata, "SEALED_CLOUD_API_BASE": FAKE.api, "SEALED_CLOUD_CA_FILE": FAKE.ca})
    s2.__enter__()
    try:
        FAKE.config(metadata={"paypal_client_id": s2.client_id, "domain": f"localhost:{s2.port}",
                              "secret_ocid": ct.SECRET_ID, "signing_key_secret_ocid": signkey_id},
                    secrets={ct.SECRET_ID: s2.secret, signkey_id: open(key).read()})
        ct.wait_for(lambda: s2.status()["cloud"]["ready"], 30)
        st = s2.status()
        check(st["cloud"]["signing_key"] == "fetched" and st["signing_key_ephemeral"] is False, st)
        r = s2.login("carol")
        check(r.status == 200, r.status)
        hdr, payload = jws_check.verify(jws_from_page(r.text))
        x = base64.urlsafe_b64decode(hdr["jwk"]["x"] + "==")
        y = base64.urlsafe_b64decode(hdr["jwk"]["y"] + "==")
        check(x + y == pub, "the result is signed by the key from the Vault")
        check(hdr["kid"] == st["signing_kid"])
        check("source=secret-store" in s2.log_text())
    finally:
        s2.__exit__(None, None, None)


@case
def the_same_on_gcp():
    g = ct.Fake("gcp", {}, {})
    s3 = Service(users=["dave"], name="cloud-service-gcp", env={
        "PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_PLATFORM": "auto",
        "SEALED_METADATA_BASE": g.metadata, "SEALED_CLOUD_API_BASE": g.api, "SEALED_CLOUD_CA_FILE": g.ca})
    s3.__enter__()
    try:
        g.config(metadata={"paypal_client_id": s3.client_id, "domain": f"localhost:{s3.port}",
                           "secret_ocid": "paypal-secret"}, secrets={"paypal-secret": s3.secret})
        ct.wait_for(lambda: s3.status()["cloud"]["ready"], 30)
        st = s3.status()["cloud"]
        check(st["ready"] and st["platform"] == "gcp" and st["crc32c_checked"] is True, st)
        r = s3.login("dave")
        check(r.status == 200, r.status)
        hdr, payload = jws_check.verify(jws_from_page(r.text))
        check(payload["paypal"]["client_id"] == s3.client_id)
    finally:
        s3.__exit__(None, None, None)
        g.stop()


ct.select_cases()
try:
    done()
finally:
    S.__exit__(None, None, None)
    FAKE.stop()
