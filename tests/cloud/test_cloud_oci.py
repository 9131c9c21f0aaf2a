"""The cloud boot flow on Oracle Cloud, end to end against the faithful fakes (tests/cloud/
fake_cloud.py): instance metadata v2 (only trust-rule keys applied), instance-principal federation
(the fake is its own CA and checks the signature), Vault with the session key, Notifications, and
the fault modes: 5xx, metadata down, 404 secret, 401 clock skew, slow answers, token renewal."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, check, done  # noqa: E402
import cloudtest as ct  # noqa: E402

MD = {"paypal_client_id": "AcLientIdFromMetadata", "domain": "login.example.org", "secret_ocid": ct.SECRET_ID,
      "notification_topic_id": ct.TOPIC_ID,
      # not in the trust rule: must change nothing
      "paypal_api_base": "https://evil.example", "acme_directory": "https://evil.example/dir"}
FAKE = ct.Fake("oci", MD, {ct.SECRET_ID: ct.PAYPAL_SECRET + "\n", ct.SIGNKEY_ID: ct.SIGNING_KEY}, [ct.TOPIC_ID])


def fresh(**kw):
    FAKE.reset(metadata=dict(MD, **kw))


@case
def boot_from_metadata_only():
    fresh()
    r = ct.run_driver(FAKE, "--timeout", "20")
    check(r.rc == 0 and r.ready, r.log)
    check(r.ready["platform"] == "oci" and r.ready["region"] == "us-phoenix-1", r.ready)
    # the secret arrived (trailing newline of the stored secret trimmed), metadata keys applied
    check(r.fields["paypal_secret_sha256"] == ct.sha(ct.PAYPAL_SECRET), r.fields)
    check(r.fields["paypal_client_id"] == MD["paypal_client_id"] and r.fields["domain"] == MD["domain"], r.fields)
    check(r.fields["signing_key_sha256"] == "none")
    # untrusted keys were counted, not applied (ssh_authorized_keys + the two evil ones)
    check(any("applied=4 ignored=3" in ln for ln in r.lines("cloud.metadata")), r.log)
    check(r.ready["retries"] == 0 and r.ready["signing_key"] == "not-configured", r.ready)
    check(len(FAKE.calls("auth", 200)) >= 1 and len(FAKE.calls("vault", 200)) >= 1)


@case
def logs_carry_no_secret_or_token():
    fresh()
    r = ct.run_driver(FAKE, "--timeout", "20")
    check(r.ready, r.log)
    for bad in (ct.PAYPAL_SECRET, "eyJ", "BEGIN", MD["paypal_client_id"], "ST$"):
        check(bad not in r.log, bad)


@case
def signing_key_fetched_when_configured():
    fresh(signing_key_secret_ocid=ct.SIGNKEY_ID)
    r = ct.run_driver(FAKE, "--timeout", "20")
    check(r.ready, r.log)
    check(r.fields["signing_key_sha256"] == ct.sha(ct.SIGNING_KEY.rstrip("\n")), r.fields)
    check(r.ready["signing_key"] == "fetched")


@case
def notifications_on_boot_and_on_request():
    fresh()
    before = len(FAKE.state()["messages"])
    r = ct.run_driver(FAKE, "--timeout", "20", "--stay", "1.5", "--notify", "certificate issued",
                      "certificate for login.example.org issued")
    check(r.ready, r.log)
    msgs = FAKE.state()["messages"][before:]
    titles = [m["title"] for m in msgs]
    check(titles == ["sealed-login started", "certificate issued"], msgs)
    check(all(m["topic"] == ct.TOPIC_ID and m["type"] == "RAW_TEXT" for m in msgs))
    check(r.status["notifications"]["sent"] == 2, r.status)


@case
def retries_through_5xx():
    fresh()
    FAKE.config(fail5xx=2)
    r = ct.run_driver(FAKE, "--timeout", "25")
    check(r.ready, r.log)
    retry = r.lines("cloud.retry")
    check(len(retry) == 2 and all("HTTP 500 InternalServerError" in ln for ln in retry), retry)
    check("retry_in_ms=" in retry[0] and r.ready["retries"] == 2)


@case
def retries_while_metadata_is_down():
    fresh()
    FAKE.config(metadata_fail=3)
    r = ct.run_driver(FAKE, "--timeout", "25", platform="oci")
    check(r.ready, r.log)
    check(len(r.lines("cloud.retry")) == 3 and "metadata server" in r.lines("cloud.retry")[0], r.log)


@case
def missing_secret_waits_then_recovers():
    fresh()
    FAKE.config(secret404=True)
    r = ct.run_driver(FAKE, "--timeout", "30", "--stay", "1",
                      during=ct.after(5.0, lambda f: f.config(secret404=False)))
    check(r.ready, r.log)
    retry = r.lines("cloud.retry")
    check(len(retry) >= 2, retry)
    check("404 NotAuthorizedOrNotFound" in retry[0] and "read secret-bundles" in retry[0], retry[0])
    # the backoff grows although each retry re-reads the metadata first
    import re
    attempts = [int(re.search(r"attempt=(\d+)", ln).group(1)) for ln in retry]
    waits = [int(re.search(r"retry_in_ms=(\d+)", ln).group(1)) for ln in retry]
    check(attempts == list(range(1, len(retry) + 1)) and waits[-1] > waits[0], retry)
    # one notification after CLOUD_SECRET_FAIL_NOTIFY failures, none with the secret in it
    msgs = [m for m in FAKE.state()["messages"] if m["title"] == "secret fetch failing"]
    check(len(msgs) == 1 and "OCI Vault" in msgs[0]["body"], msgs)


@case
def wrong_secret_ocid_fixed_in_metadata():
    fresh(secret_ocid="ocid1.vaultsecret.oc1.phx.amaaaaaawrongone")
    n0 = len(FAKE.calls("auth", 200))
    r = ct.run_driver(FAKE, "--timeout", "30", during=ct.after(2.5, lambda f: f.config(metadata=MD)))
    check(r.ready, r.log)
    check("404 NotAuthorizedOrNotFound" in r.lines("cloud.retry")[0], r.log)
    # the metadata was read again, the token kept: one federation only
    check(len(FAKE.calls("auth", 200)) - n0 == 1, FAKE.calls("auth"))
    check(len(r.lines("cloud.metadata")) >= 2, r.log)


@case
def not_ready_while_secret_missing():
    fresh()
    FAKE.config(secret404=True)
    r = ct.run_driver(FAKE, "--timeout", "4")
    check(r.rc == 3 and r.ready is None, r.log)
    check(r.status["ready"] is False and r.status["paypal_secret"] == "missing", r.status)
    check("NotAuthorizedOrNotFound" in r.status["last_error"], r.status)


@case
def clock_skew_is_corrected():
    fresh()
    FAKE.config(skew_s=900)
    r = ct.run_driver(FAKE, "--timeout", "25")
    check(r.ready, r.log)
    sk = r.lines("cloud.clock_skew")
    check(len(sk) == 1 and "offset_s=" in sk[0], r.log)
    check(895 <= r.ready["clock_offset_s"] <= 905, r.ready)
    check(any(e[3] == 401 for e in FAKE.calls("auth")), "the fake rejected the skewed request first")


@case
def slow_services_do_not_block_the_loop():
    fresh()
    FAKE.config(slow_s=1.5)
    r = ct.run_driver(FAKE, "--timeout", "25")
    check(r.ready, r.log)
    # the 50 ms ticker (standing for /healthz) ran throughout: slow answers and the RSA-2048
    # session key (made on the keygen thread) never stall the loop
    check(r.max_gap_ms is not None and r.max_gap_ms < 300, r.max_gap_ms)


@case
def token_renewed_before_expiry():
    fresh()
    FAKE.config(token_ttl_s=70)
    n0 = len(FAKE.calls("auth", 200))
    r = ct.run_driver(FAKE, "--timeout", "20", "--stay", "37", "--notify", "after", "renewal")
    check(r.ready, r.log)
    check(len(FAKE.calls("auth", 200)) - n0 == 2, FAKE.calls("auth"))
    check(any("event=renew" in ln for ln in r.lines("cloud.token")), r.log)
    check(r.status["token_expires_in_s"] > 40, r.status)


@case
def missing_secret_ocid_retries_until_set():
    FAKE.reset(metadata={k: v for k, v in MD.items() if k != "secret_ocid"})
    r = ct.run_driver(FAKE, "--timeout", "30", during=ct.after(2.5, lambda f: f.config(metadata=MD)))
    check(r.ready, r.log)
    check("no secret_ocid" in r.lines("cloud.retry")[0], r.log)


@case
def refused_token_means_a_new_federation():
    fresh()
    FAKE.config(secret404=True)
    n0 = len(FAKE.calls("auth", 200))
    r = ct.run_driver(FAKE, "--timeout", "30",
                      during=ct.after(2.0, lambda f: f.config(revoke=True, secret404=False)))
    check(r.ready, r.log)
    check(any("token refused: getting a new one" in ln for ln in r.lines("cloud.retry")), r.log)
    check(len(FAKE.calls("auth", 200)) - n0 == 2, FAKE.calls("auth"))


@case
def auto_settles_on_none_when_nothing_answers():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()   # nothing listens there
    r = ct.run_driver(None, "--timeout", "20", platform="auto", SEALED_METADATA_BASE=f"http://127.0.0.1:{port}",
                      PAYPAL_SECRET="local")
    check(r.ready and r.ready["platform"] == "none", r.log)
    check(any("source=metadata-probe" in ln and "platform=none" in ln for ln in r.lines("cloud.platform")), r.log)
    check(len(r.lines("cloud.retry")) == 2, r.log)


@case
def malformed_metadata_value_changes_nothing():
    fresh(domain="evil.example/<script>")
    r = ct.run_driver(FAKE, "--timeout", "4", PAYPAL_CLIENT_ID="from-env", SEALED_DOMAIN="keep.example")
    check(r.ready is None, r.log)
    check("the value of domain is malformed" in r.lines("cloud.retry")[0], r.log)
    # nothing from that document was applied, not even the good keys
    check(r.status["paypal_secret"] == "missing")
    fresh()


@case
def ipv6_metadata_fallback():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    v6 = ct.Fake("oci", MD, {ct.SECRET_ID: ct.PAYPAL_SECRET}, ipv6=True)
    try:
        # primary (IPv4) refuses connections; the fallback, like [fd00:c1::a9fe:a9fe], answers on IPv6
        r = ct.run_driver(v6, "--timeout", "20", platform="oci",
                          SEALED_METADATA_BASE=f"http://127.0.0.1:{dead},{v6.metadata}")
        check(r.ready, r.log)
        check(len(r.lines("cloud.retry")) == 1 and "could not connect" in r.lines("cloud.retry")[0], r.log)
    finally:
        v6.stop()


@case
def platform_none_is_ready_at_once():
    r = ct.run_driver(None, "--timeout", "5", platform="none", PAYPAL_SECRET="local-secret")
    check(r.ready and r.ready["platform"] == "none", r.log)
    check(r.fields["paypal_secret_sha256"] == ct.sha("local-secret"))


ct.select_cases()
try:
    done()
finally:
    FAKE.stop()
