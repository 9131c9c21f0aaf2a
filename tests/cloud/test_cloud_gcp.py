"""The cloud boot flow on Google Cloud against the fakes: platform detection by the metadata
server's Metadata-Flavor answer, instance attributes (trust-rule keys only), the service-account
token, Secret Manager with the dataCrc32c check, and the failures: 5xx, 403 policy, 404 secret,
corrupted payload, slow answers."""
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, check, done  # noqa: E402
import cloudtest as ct  # noqa: E402

MD = {"paypal_client_id": "AcLientIdGcp", "domain": "gcp.example.org", "secret_ocid": "paypal-secret",
      "startup-script": "#!/bin/sh\necho not for us", "paypal_env": "live"}
FAKE = ct.Fake("gcp", MD, {"paypal-secret": ct.PAYPAL_SECRET, "signing-key": ct.SIGNING_KEY})


def fresh(**kw):
    FAKE.reset(metadata=dict(MD, **kw))


@case
def boot_detects_gcp_and_fetches_secret():
    fresh()
    r = ct.run_driver(FAKE, "--timeout", "20")
    check(r.rc == 0 and r.ready, r.log)
    check(r.ready["platform"] == "gcp" and r.ready["crc32c_checked"] is True, r.ready)
    check(r.fields["paypal_secret_sha256"] == ct.sha(ct.PAYPAL_SECRET), r.fields)
    check(r.fields["paypal_client_id"] == MD["paypal_client_id"] and r.fields["domain"] == MD["domain"])
    check(any("applied=3 ignored=2" in ln for ln in r.lines("cloud.metadata")), r.log)
    check(any("crc32c=ok" in ln for ln in r.lines("cloud.secret")), r.log)
    check(ct.PAYPAL_SECRET not in r.log and "ya29" not in r.log)


@case
def full_resource_names_and_signing_key():
    fresh(secret_ocid=f"projects/{FAKE.info['project_id']}/secrets/paypal-secret/versions/1",
          signing_key_secret_ocid="projects/123456789012/secrets/signing-key")
    r = ct.run_driver(FAKE, "--timeout", "20")
    check(r.ready, r.log)
    check(r.fields["signing_key_sha256"] == ct.sha(ct.SIGNING_KEY.rstrip("\n")), r.fields)
    paths = [e[2] for e in FAKE.calls("secretmanager", 200)]
    check("/v1/projects/123456789012/secrets/signing-key/versions/latest:access" in paths, paths)


@case
def corrupted_payload_is_refused():
    fresh()
    FAKE.config(bad_crc=True)
    r = ct.run_driver(FAKE, "--timeout", "4")
    check(r.ready is None and r.status["paypal_secret"] == "missing", r.log)
    check("checksum mismatch" in r.lines("cloud.retry")[0], r.log)


@case
def permission_denied_is_explained():
    fresh()
    FAKE.config(deny=True)
    r = ct.run_driver(FAKE, "--timeout", "4")
    check(r.ready is None, r.log)
    ln = r.lines("cloud.retry")[0]
    check("HTTP 403 PERMISSION_DENIED" in ln and "secretmanager.versions.access" in ln, ln)


@case
def missing_secret_then_created():
    fresh()
    FAKE.config(secret404=True)
    r = ct.run_driver(FAKE, "--timeout", "30", during=ct.after(2.5, lambda f: f.config(secret404=False)))
    check(r.ready, r.log)
    check("HTTP 404 NOT_FOUND" in r.lines("cloud.retry")[0], r.log)


@case
def retries_through_5xx_and_slow():
    fresh()
    FAKE.config(fail5xx=1, slow_s=1.0)
    r = ct.run_driver(FAKE, "--timeout", "25")
    check(r.ready, r.log)
    check(r.ready["retries"] == 1 and "HTTP 500 INTERNAL" in r.lines("cloud.retry")[0], r.log)
    check(r.max_gap_ms < 500, r.max_gap_ms)


@case
def fake_metadata_demands_flavor_header():
    # fidelity of the fake itself: like Google's server it refuses requests without the header
    try:
        urllib.request.urlopen(FAKE.metadata + "/computeMetadata/v1/project/project-id", timeout=5)
        check(False, "no 403")
    except urllib.error.HTTPError as e:
        check(e.code == 403)
    req = urllib.request.Request(FAKE.metadata + "/computeMetadata/v1/instance/attributes/?recursive=true",
                                 headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        check(resp.headers["Metadata-Flavor"] == "Google" and json.loads(resp.read())["domain"] == MD["domain"])


ct.select_cases()
try:
    done()
finally:
    FAKE.stop()
