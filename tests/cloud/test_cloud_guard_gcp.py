"""The egress guard inside the real sealed-login binary on Google Cloud (src/login/cloud/egress_guard.c)
against the fake Cloud Monitoring, Compute and Pub/Sub APIs (tests/fakes/fake_cloud.py, whose
timeSeries.list checks are tests/fakes/fake_gcp_control.py's), with the VM's own service-account
token from the fake metadata server: readings under the cap change nothing; the instance metadata
lowers the image's cap but can never raise it; a Monitoring outage (no series, or a 503) is never
read as zero egress: the guard does nothing and says so; at the cap it publishes a notification,
stops offering logins and asks Compute to stop its own instance, once. The fake itself answers as
Google does: an unknown metric type is a 400 INVALID_ARGUMENT, a token without the scope a 403,
another instance a 403. Every notification reaches the topic deploy/gcp creates and names in the
metadata (projects/P/topics/NAME-notify), with its title as the message's title attribute."""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, check, done  # noqa: E402
import cloudtest as ct  # noqa: E402

TOPIC = "sealed-login-notify"
TOPIC_NAME = "projects/sealed-test-project/topics/" + TOPIC   # notification_topic_id as deploy/gcp sets it
CAP = 193273528320                       # 180 GiB, what deploy/gcp puts in the metadata
FAKE = ct.Fake("gcp", {}, {}, [TOPIC])
S = ct.guard_service(FAKE, "gcp", "cloud-guard-gcp",
                     metadata={"paypal_client_id": "AZguard", "domain": "localhost:1", "secret_ocid": "paypal-secret",
                               "notification_topic_id": TOPIC_NAME, "egress_cap_bytes": str(CAP)},
                     secrets={"paypal-secret": "guard-secret"})


def guard():
    return ct.guard(S)


def wait(pred, what):
    return ct.guard_wait(S, pred, what)


def api(method, path, token, body=None):
    """A call to the fake API as the VM would make it; (status, JSON)."""
    import ssl
    ctx = ssl.create_default_context(cafile=FAKE.ca)
    req = urllib.request.Request(FAKE.api + path, method=method, data=body,
                                 headers={"Authorization": "Bearer " + token, "Content-Length": str(len(body or b""))})
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def md_token():
    req = urllib.request.Request(FAKE.metadata + "/computeMetadata/v1/instance/service-accounts/default/token",
                                 headers={"Metadata-Flavor": "Google"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["access_token"]


@case
def the_started_notification_lands_in_the_deployed_topic():
    ct.wait_for(lambda: FAKE.state()["messages"], 30)
    msgs = FAKE.state()["messages"]
    check([m["title"] for m in msgs][:1] == ["sealed-login started"] and msgs[0]["topic"] == TOPIC and
          msgs[0]["type"] == "pubsub", msgs)
    check(msgs[0]["body"].startswith("sealed-login is up on gcp") and msgs[0]["body"].endswith("login is available."), msgs[0]["body"])
    pub = [e for e in FAKE.calls("pubsub")]
    check(pub and pub[0][2] == f"/v1/{TOPIC_NAME}:publish" and pub[0][3] == 200, pub[:2])
    n = S.status()["cloud"]["notifications"]
    check(n["sent"] >= 1 and n["failed"] == 0, n)


@case
def readings_under_the_cap_change_nothing_and_metadata_only_lowers_the_cap():
    FAKE.config(egress_bytes=int(150 * 2**30))
    g = wait(lambda g: g["state"] == "ok" and g.get("used_bytes", 0) > 1e11, "no reading")
    check(g["cap_bytes"] == CAP and g["poll_s"] == 1 and g["monitoring"] == "Cloud Monitoring", g)
    check(S.status()["login_available"] is True)
    calls = FAKE.calls("gcp-monitoring")
    check(calls and all(e[3] == 200 for e in calls), calls[-3:])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(calls[-1][2]).query)
    check(q["aggregation.perSeriesAligner"] == ["ALIGN_DELTA"] and q["aggregation.crossSeriesReducer"] == ["REDUCE_SUM"], q)
    check('resource.labels.instance_id="4567890123456789012"' in q["filter"][0], q["filter"])
    check(q["interval.startTime"][0].endswith("-01T00:00:00Z"), q)
    check(FAKE.state()["actions"] == [])
    check(any("cloud.instance" in ln and "zone=us-central1-a name=sealed-login" in ln for ln in S.log_text().splitlines()))


@case
def the_fake_answers_as_google_does():
    tok = md_token()
    base = "/v3/projects/sealed-test-project/timeSeries?"
    good = {"filter": 'metric.type="compute.googleapis.com/instance/network/sent_bytes_count" AND '
                      'resource.labels.instance_id="4567890123456789012"',
            "interval.startTime": "2026-12-01T00:00:00Z", "interval.endTime": "2026-12-02T00:00:00Z",
            "aggregation.alignmentPeriod": "86400s", "aggregation.perSeriesAligner": "ALIGN_DELTA",
            "aggregation.crossSeriesReducer": "REDUCE_SUM"}
    st, body = api("GET", base + urllib.parse.urlencode(good), tok)
    check(st == 200 and body["timeSeries"][0]["points"][0]["value"]["int64Value"] == str(150 * 2**30), body)
    bad = dict(good, filter=good["filter"].replace("sent_bytes_count", "sent_byte_count"))
    st, body = api("GET", base + urllib.parse.urlencode(bad), tok)
    check(st == 400 and body["error"]["status"] == "INVALID_ARGUMENT" and
          "valid combination of metric and monitored resource" in body["error"]["message"], body)
    st, body = api("GET", base + urllib.parse.urlencode(dict(good, **{"aggregation.alignmentPeriod": "30s"})), tok)
    check(st == 400 and "at least 60 seconds" in body["error"]["message"], body)
    st, body = api("GET", base + urllib.parse.urlencode(dict(good, **{"aggregation.perSeriesAligner": "ALIGN_DELTAS"})), tok)
    check(st == 400 and "Aligner" in body["error"]["message"], body)
    st, body = api("GET", base + urllib.parse.urlencode(dict(good, **{"interval.startTime": "2026-12-03T00:00:00Z"})), tok)
    check(st == 400, body)
    # a topic name Pub/Sub refuses, and one that does not exist, answered as Pub/Sub answers
    st, body = api("POST", "/v1/projects/sealed-test-project/topics/goog-x:publish", tok, b'{"messages":[{"data":"eA=="}]}')
    check(st == 400 and body["error"]["status"] == "INVALID_ARGUMENT" and "Invalid [topics] name" in body["error"]["message"], body)
    st, body = api("POST", "/v1/projects/sealed-test-project/topics/other-topic:publish", tok, b'{"messages":[{"data":"eA=="}]}')
    check(st == 404 and body["error"]["status"] == "NOT_FOUND", body)
    # another instance: the custom role is bound on this one only
    st, body = api("POST", "/compute/v1/projects/sealed-test-project/zones/us-central1-a/instances/other/stop", tok, b"")
    check(st == 403 and "compute.instances.stop" in body["error"]["message"], body)
    # a token without a Monitoring or cloud-platform scope
    FAKE.config(gcp_scopes=["https://www.googleapis.com/auth/devstorage.read_write"])
    narrow = md_token()
    FAKE.config(gcp_scopes=["https://www.googleapis.com/auth/cloud-platform"])
    st, body = api("GET", base + urllib.parse.urlencode(good), narrow)
    check(st == 403 and body["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT", body)
    FAKE.config(gcp_denied=["monitoring.timeSeries.list"])
    st, body = api("GET", base + urllib.parse.urlencode(good), tok)
    FAKE.config(gcp_denied=[])
    check(st == 403 and "monitoring.timeSeries.list" in body["error"]["message"], body)
    check(FAKE.state()["actions"] == [])


@case
def an_outage_is_never_read_as_zero():
    FAKE.config(egress_bytes=int(200 * 2**30), metrics_outage="empty")     # over the cap, but nobody can tell
    n = guard()["unknown_readings"]
    g = wait(lambda g: g["state"] == "unknown" and g["unknown_readings"] >= n + 2, "no unknown reading")
    check("no sent_bytes_count data" in g["unknown_reason"], g)
    FAKE.config(metrics_outage=503)
    g = wait(lambda g: "Cloud Monitoring answered HTTP 503" in g.get("unknown_reason", ""), "no 503 reading")
    FAKE.config(metrics_outage=None, gcp_denied=["monitoring.timeSeries.list"])
    g = wait(lambda g: "HTTP 403" in g.get("unknown_reason", ""), "no 403 reading")
    check(FAKE.state()["actions"] == [] and S.status()["login_available"] is True)
    log = S.log_text()
    check("status=unknown action=none" in log and "status=cap_reached" not in log)


@case
def at_the_cap_it_notifies_stops_serving_and_stops_itself_once():
    FAKE.config(metrics_outage=None, gcp_denied=[])
    wait(lambda g: g["state"] in ("stopping", "stop_requested"), "did not act")
    st = S.status()
    check(st["login_available"] is False, st)
    check(S.get("/login").status == 503)
    ct.wait_for(lambda: FAKE.state()["actions"])
    fs = FAKE.state()
    check(fs["actions"] == ["stop"], fs["actions"])
    check(any(m["title"] == "sealed-login: egress cap reached, the VM stops itself" and "0.215 TB" in m["body"]
              and m["topic"] == TOPIC for m in fs["messages"]), fs["messages"])
    # the notification went out before the stop
    log = [e for e in fs["log"] if e[0] in ("pubsub", "gcp-compute") and e[3] < 300]
    check([e[0] for e in log][-2:] == ["pubsub", "gcp-compute"], log[-4:])
    time.sleep(3)
    check(FAKE.state()["actions"] == ["stop"] and guard()["state"] == "stop_requested")
    check(S.status()["cloud"]["notifications"]["sent"] >= 2)


try:
    done()
finally:
    S.__exit__(None, None, None)
    FAKE.stop()
