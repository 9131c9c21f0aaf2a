"""The sealed-login binary on (fake) OCI with ACME against Pebble: the domain comes only from the
instance metadata, so ACME starts once the cloud flow is through, obtains the certificate for the
metadata's domain, and the "certificate issued" notification is published to the topic. After a
crash, a restart with the same state directory (PID 1's tmpfs in the image) serves that certificate
before the metadata is back, and keeps it without a new order."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "acme"))
sys.path.insert(0, HERE)
from tap import case, check, done  # noqa: E402
import pebble_env as pe  # noqa: E402
import cloudtest as ct  # noqa: E402

DOMAIN = "acme.test"
SERVICE = os.path.join(pe.ROOT, "build", "sealed-login")
hp, sp = pe.free_port(), pe.free_port()
FAKE = ct.Fake("oci", {"paypal_client_id": "AcloudAcmeClient", "domain": f"{DOMAIN}:{sp}", "secret_ocid": ct.SECRET_ID,
                       "notification_topic_id": ct.TOPIC_ID}, {ct.SECRET_ID: ct.PAYPAL_SECRET}, [ct.TOPIC_ID])
PEB = pe.Pebble(hp, tag="pebble-cloud")
env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALED_", "PAYPAL_"))}
env.update(SEALED_HTTPS_PORT=str(sp), SEALED_HTTP_PORT=str(hp), SEALED_LISTEN="127.0.0.1",
           SEALED_ACME_DIRECTORY=PEB.directory, SEALED_ACME_CA_FILE=PEB.ca, PAYPAL_ENV="sandbox",
           SEALED_PLATFORM="oci", SEALED_METADATA_BASE=FAKE.metadata, SEALED_CLOUD_API_BASE=FAKE.api,
           SEALED_CLOUD_CA_FILE=FAKE.ca, SEALED_STATE_DIR=os.path.join(PEB.dir, "cloud-acme-state"))
SVC = pe.Proc("svc-cloud-acme", [SERVICE], env=env, logdir=PEB.dir)


@case
def certificate_for_the_metadata_domain():
    check(SVC.wait_for("cloud.ready", 30), "cloud flow not through")
    check(SVC.wait_for("acme.certificate.installed", 60), "no certificate within 60 s")
    roots = PEB.roots_file()
    body, _ = pe.https_get(sp, roots, DOMAIN, "/status?format=json")
    s = json.loads(body.partition("\r\n\r\n")[2])
    check(s["acme"]["domain"] == DOMAIN and s["acme"]["certificates"] == 1, s["acme"])
    check(s["cloud"]["ready"] and s["login_available"], s["cloud"])


@case
def certificate_notification_published():
    msgs = ct.wait_for(lambda: [m for m in FAKE.state()["messages"] if m["title"] == "certificate issued"], 15, 0.5)
    check(len(msgs) == 1 and DOMAIN in msgs[0]["body"], FAKE.state()["messages"])


@case
def a_restart_serves_the_saved_certificate_before_the_metadata_is_back():
    global SVC
    roots = PEB.roots_file()
    _, first = pe.https_get(sp, roots, DOMAIN, "/healthz")
    SVC.p.kill()                 # a crash: no graceful stop
    SVC.p.wait()
    SVC.stop()
    FAKE.config(metadata_fail=4)   # the restarted process waits about 7 s for its domain
    SVC = pe.Proc("svc-cloud-acme-restart", [SERVICE], env=env, logdir=PEB.dir)
    check(SVC.wait_for("serving https://", 30), "the restarted service is not listening")
    # verified against Pebble's roots for the metadata's domain: not the self-signed localhost one
    _, der = pe.https_get(sp, roots, DOMAIN, "/healthz")
    early = not SVC.grep("cloud.ready")
    check(early, "the metadata was back already: this shows nothing")
    check(der == first, "the restart serves another certificate than the one saved")
    check(SVC.grep("result=served_saved"), "acme.restore result=served_saved not logged")
    check(SVC.wait_for("cloud.ready", 60), "cloud flow not through after the restart")
    check(SVC.wait_for("acme.restore", 10, count=2), [ln for _, ln in SVC.grep("acme.")])
    _, der = pe.https_get(sp, roots, DOMAIN, "/healthz")
    check(der == first, "the certificate changed once the domain was known")
    check(not SVC.grep("acme.order") and not SVC.grep("acme.certificate.installed"),
          ("a new order after a restart", [ln for _, ln in SVC.grep("acme.")]))


ct.select_cases()
try:
    done()
finally:
    SVC.stop()
    PEB.stop()
    FAKE.stop()
