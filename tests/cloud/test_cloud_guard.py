"""The egress guard inside the real sealed-login binary (src/login/cloud/egress_guard.c) against the
fake OCI Monitoring and Compute APIs (tests/fakes/fake_cloud.py), with the instance's own identity:
readings under the cap change nothing; a Monitoring outage (no series, or a 503) is never read as
zero egress: the guard does nothing and says so; at the cap it notifies, stops offering logins and
asks OCI to stop its own instance (SOFTSTOP), once."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, check, done  # noqa: E402
import cloudtest as ct  # noqa: E402

FAKE = ct.Fake("oci", {}, {}, [ct.TOPIC_ID])
S = ct.guard_service(FAKE, "oci", "cloud-guard",
                     metadata={"paypal_client_id": "AZguard", "domain": "localhost:1", "secret_ocid": ct.SECRET_ID,
                               "notification_topic_id": ct.TOPIC_ID}, secrets={ct.SECRET_ID: "guard-secret"})


def guard():
    return ct.guard(S)


def wait(pred, what):
    return ct.guard_wait(S, pred, what)


@case
def readings_under_the_cap_change_nothing():
    FAKE.config(egress_bytes=int(9.4e12))
    g = wait(lambda g: g["state"] == "ok" and g.get("used_bytes", 0) > 9e12, "no reading")
    check(g["cap_bytes"] == ct.GUARD_CAP and g["poll_s"] == 1, g)
    check(S.status()["login_available"] is True)
    calls = [e for e in FAKE.state()["log"] if e[0] == "monitoring"]
    check(calls and all(e[3] == 200 for e in calls), calls[-3:])
    check(FAKE.state()["actions"] == [])


@case
def an_outage_is_never_read_as_zero():
    FAKE.config(egress_bytes=int(9.9e12), metrics_outage="empty")     # over the cap, but nobody can tell
    n = guard()["unknown_readings"]
    g = wait(lambda g: g["state"] == "unknown" and g["unknown_readings"] >= n + 2, "no unknown reading")
    check("no VnicToNetworkBytes data" in g["unknown_reason"], g)
    FAKE.config(metrics_outage=503)
    g = wait(lambda g: "HTTP 503" in g.get("unknown_reason", ""), "no 503 reading")
    check(FAKE.state()["actions"] == [] and S.status()["login_available"] is True)
    check("status=unknown action=none" in S.log_text())


@case
def at_the_cap_it_notifies_stops_serving_and_stops_itself_once():
    FAKE.config(metrics_outage=None)
    wait(lambda g: g["state"] in ("stopping", "stop_requested"), "did not act")
    st = S.status()
    check(st["login_available"] is False, st)
    check(S.get("/login").status == 503)
    ct.wait_for(lambda: FAKE.state()["actions"])
    fs = FAKE.state()
    check(fs["actions"] == ["SOFTSTOP"], fs["actions"])
    check(any(m["title"] == "sealed-login: egress cap reached, the VM stops itself" and "9.900 TB" in m["body"]
              for m in fs["messages"]), fs["messages"])
    # the notification went out before the stop
    log = [e for e in fs["log"] if e[0] in ("notification", "compute") and e[3] < 300]
    check([e[0] for e in log][-2:] == ["notification", "compute"] or log[-1][0] == "compute", log[-4:])
    time.sleep(3)
    check(FAKE.state()["actions"] == ["SOFTSTOP"] and guard()["state"] == "stop_requested")


try:
    done()
finally:
    S.__exit__(None, None, None)
    FAKE.stop()
