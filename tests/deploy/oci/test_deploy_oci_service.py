"""From deploy to login, with nothing copied by hand: sealed-deploy-oci deploys into the control-plane
fake; the instance metadata and the Vault secret it wrote are then served by tests/cloud's
instance-side fakes (metadata v2, federation, Vault, Notifications) to the real sealed-login binary,
configured by nothing else. A whole login against the fake PayPal must come out bound to the client
id the operator gave the deploy, on the domain the deploy set, and the boot notification must reach
the topic the deploy created. Any drift between the keys the script writes and the ones the service
reads breaks this."""
import base64
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "cloud"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
from tap import case, check, done  # noqa: E402
from service import Service, jws_from_page  # noqa: E402
import jws_check  # noqa: E402
import cloudtest as ct  # noqa: E402
import deploytest as dt  # noqa: E402

E = dt.Env("service")
S = Service(users=["alice"], name="deploy-oci-service")
S.start_fake()                                   # picks the port, the PayPal client id and secret
with open(E.secret_file, "w") as f:
    f.write(S.secret + "\n")
CTX = {}


@case
def deploy_with_the_operators_values():
    rc, out, err = E.run("deploy", paypal_client_id=S.client_id, domain=f"localhost:{S.port}")
    check(rc == 0, out + err)
    st = E.state()
    inst = dt.one(st, "instance")
    md = inst["metadata"]
    CTX["md"] = md
    CTX["secret"] = base64.b64decode(st["secret_contents"][md["secret_ocid"]]).decode()
    check(md["paypal_client_id"] == S.client_id and md["domain"] == f"localhost:{S.port}")
    check(S.secret not in out + err)


@case
def the_service_comes_up_from_that_metadata_alone():
    md = CTX["md"]
    fake = ct.Fake("oci", md, {md["secret_ocid"]: CTX["secret"]}, [md["notification_topic_id"]])
    CTX["fake"] = fake
    # nothing about PayPal or the domain from the environment: only where the cloud is
    S.extra_env = {"PAYPAL_CLIENT_ID": "", "PAYPAL_SECRET": "", "SEALED_DOMAIN": "placeholder.invalid",
                   "SEALED_PLATFORM": "auto", "SEALED_METADATA_BASE": fake.metadata,
                   "SEALED_CLOUD_API_BASE": fake.api, "SEALED_CLOUD_CA_FILE": fake.ca}
    S.start_service()
    deadline = time.time() + 40
    while time.time() < deadline and not S.status()["cloud"]["ready"]:
        time.sleep(0.3)
    st = S.status()
    check(st["cloud"]["ready"] and st["cloud"]["platform"] == "oci" and st["cloud"]["paypal_secret"] == "present",
          st["cloud"])
    check(f"service.domain source=metadata domain=localhost:{S.port}" in S.log_text())


@case
def a_login_is_bound_to_the_deployed_client_id():
    r = S.login("alice")
    check(r.status == 200, (r.status, r.text[:500]))
    hdr, payload = jws_check.verify(jws_from_page(r.text))
    check(payload["paypal"]["client_id"] == S.client_id and payload["iss"] == f"https://localhost:{S.port}", payload)
    check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
    check(S.secret not in S.log_text())


@case
def boot_notification_reaches_the_deployed_topic():
    fake, topic = CTX["fake"], CTX["md"]["notification_topic_id"]
    deadline = time.time() + 10
    msgs = []
    while time.time() < deadline and not msgs:
        msgs = [m for m in fake.state()["messages"] if m["title"] == "sealed-login started"]
        time.sleep(0.2)
    check(len(msgs) == 1, fake.state()["messages"])
    check(any(topic in " ".join(map(str, e)) for e in fake.state()["log"] if e[0] == "notification"),
          "no publish to the deployed topic")


try:
    done()
finally:
    try:
        S.__exit__(None, None, None)
    except Exception:
        pass
    if "fake" in CTX:
        CTX["fake"].stop()
    E.stop()
