"""The whole service (build/sealed-login) with hardware evidence: swtpm as its TPM and the
configfs-tsm emulator as its SEV-SNP guest interface, logged in through the fake PayPal. The
result must carry [sev-snp, tpm2] bound to the payload's REPORT_DATA, sealed-verify must accept
it only with the test ARK as trust root, and /status must say what the platform offers and what
evidence costs."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
from service import Service, jws_from_page  # noqa: E402
from snp_lib import TsmFuse, make_chain  # noqa: E402
from swtpm_lib import Swtpm, parse_eventlog, probe, nv_put, gce_ecc_template, make_ca, issue_cert  # noqa: E402

ROOT = os.environ.get("SEALED_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
VERIFY = os.path.join(ROOT, "build/sealed-verify")
TESTDATA = os.path.join(ROOT, "../shared/testdata")
LOG = os.path.join(TESTDATA, "tpm-eventlogs-go-eventlog/tpm/rhel8-uefi.bin")

work = tempfile.mkdtemp(prefix="attest-svc-")
chain = make_chain(os.path.join(work, "milan"))
tpm = Swtpm(os.path.join(work, "tpm")).manufacture().start()
# the firmware log of a real GCE boot, extended into swtpm's PCRs as that firmware did
_exts = [f"{p}:sha256={d[0x000B].hex()}" for p, t, d in parse_eventlog(open(LOG, "rb").read()) if t != 3]
for _i in range(0, len(_exts), 16):
    tpm.tools("tpm2_pcrextend", *_exts[_i:_i + 16])
fuse = TsmFuse(os.path.join(work, "tsm"), {"SNP_EMU_KEYS": chain["dir"], "SNP_EMU_VERSION": "5"})
svc = Service(users=["alice", "bob", "carol", "dave"], name="attest-service", env={
    "SEALED_TPM_DEV": tpm.spec, "SEALED_TPM_EVENTLOG": LOG, "SEALED_TSM_REPORT_DIR": fuse.mnt,
    "SEALED_SEV_GUEST_DEV": os.path.join(work, "no-sev-guest"), "SEALED_AMD_KDS_URL": "http://127.0.0.1:9",
}).__enter__()
state = {}


def sealed_verify(path, *extra):
    return subprocess.run([VERIFY, "result", path, "--skip-measurement", "--client-id", svc.client_id, *extra],
                          capture_output=True, timeout=120)


@case
def status_names_both_providers():
    st = svc.status()
    text = json.dumps(st)
    check("sev-snp+tpm2" in text, text[:2000])
    state["status0"] = st


@case
def login_result_carries_snp_then_tpm_evidence():
    r = svc.login("alice")
    check(r.status == 200, (r.status, r.text[:500]))
    jws = jws_from_page(r.text)
    check(jws, r.text[:500])
    import base64
    payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "==="))
    types = [e["type"] for e in payload["evidence"]]
    check(types == ["sev-snp", "tpm2"], types)
    rd = bytes.fromhex(payload["report_data"])
    rep = base64.b64decode(payload["evidence"][0]["report"])
    check(rep[0x50:0x90] == rd, "SNP REPORT_DATA is the payload's")
    check(payload["evidence"][1]["event_log"] is not None, "event log attached")
    p = os.path.join(work, "result.jws")
    open(p, "w").write(jws)
    state["jws"] = p


def failed(r):
    return [x["id"] for x in json.loads(r.stdout)["steps"] if x["status"] == "fail"]


@case
def swtpm_evidence_from_the_service_fails_unless_allowed_by_name():
    """swtpm is a real TPM 2.0 with no vendor AK certificate: its quote proves only what the holder of
    the AK signed, so the result fails by default and passes only with --allow-unrooted-ak, never as
    hardware-attested."""
    # the SNP emulator's test chip reports a TCB below AMD's published floors: waived by name here
    ark = ["--trust-root", os.path.join(chain["dir"], "ark.pem"), "--min-tcb", "bl=0,tee=0,snp=0,ucode=0",
           "--min-launch-tcb", "bl=0,tee=0,snp=0,ucode=0"]
    r = sealed_verify(state["jws"], *ark, "--json")
    check(r.returncode == 1 and failed(r) == ["tpm.ak_cert.root"], failed(r))
    r = sealed_verify(state["jws"], *ark, "--allow-unrooted-ak", "--json")
    out = json.loads(r.stdout)
    check(r.returncode == 0 and out["fields"]["summary"]["hardware_attested"] is False, failed(r))
    r = sealed_verify(state["jws"], "--allow-unrooted-ak", "--json")
    check(r.returncode == 1 and "snp.chain" in " ".join(failed(r)), failed(r))


@case
def an_ak_certificate_provisioned_like_gce_passes_only_with_its_test_root():
    """The AK template and an AK certificate from a test CA are written into a fresh swtpm's NV as GCE
    does (0x01c10003, 0x01c10002); the service quotes with that AK and ships the certificate; the
    verifier accepts it with --tpm-ca (a TEST root, not hardware) and refuses it without."""
    w = os.path.join(work, "gce-like")
    os.makedirs(w, exist_ok=True)
    t2 = Swtpm(os.path.join(w, "tpm")).manufacture().start()
    try:
        nv_put(t2, w, 0x01c10003, gce_ecc_template())
        ak_pub = probe("--tpm", t2.spec, report_data=bytes(64))["evidence"][0]["ak_pub"]
        ca = make_ca(w, "test-gce-ak-ca")
        nv_put(t2, w, 0x01c10002, issue_cert(w, ca, ak_pub, "ak") + b"\0" * 20)
        s2 = Service(users=["gina"], name="attest-service-akcert", env={
            "SEALED_TPM_DEV": t2.spec, "SEALED_TSM_REPORT_DIR": os.path.join(w, "no-tsm"),
            "SEALED_SEV_GUEST_DEV": os.path.join(w, "no-sev-guest"), "SEALED_AMD_KDS_URL": "http://127.0.0.1:9",
        }).__enter__()
        try:
            r = s2.login("gina")
            jws = jws_from_page(r.text)
            check(r.status == 200 and jws, (r.status, r.text[:300]))
            p = os.path.join(w, "result.jws")
            open(p, "w").write(jws)
            run = lambda *a: subprocess.run([VERIFY, "result", p, "--skip-measurement", "--client-id", s2.client_id,
                                             "--json", *a], capture_output=True, timeout=120)
            r = run()
            check(r.returncode == 1 and failed(r) == ["tpm.ak_cert.root"], failed(r))
            r = run("--tpm-ca", ca[1])
            out = json.loads(r.stdout)
            check(r.returncode == 0, failed(r))
            check(out["fields"]["tpm0"]["ak_root"]["kind"] == "test", out["fields"]["tpm0"])
            check(out["fields"]["summary"]["hardware_attested"] is False, "a TEST root is not hardware")
            other = make_ca(w, "someone-else")
            r = run("--tpm-ca", other[1])
            check(r.returncode == 1 and failed(r) == ["tpm.ak_cert.root"], failed(r))
        finally:
            s2.__exit__(None, None, None)
    finally:
        t2.stop()


@case
def status_reports_cost_per_provider():
    for u in ("bob", "carol", "dave"):
        check(svc.login(u).status == 200)
    text = json.dumps(svc.status())
    print("# /status attestation: " + text[text.find("attest"):][:600])
    check('"mean_ms"' in text, text[:2000])


@case
def failing_then_slow_snp_gives_error_pages_and_uses_up_nothing():
    """A second service whose SNP emulator fails the first login's report and makes the third
    take 25 s (beyond the 20 s evidence deadline): each gets the 'Evidence unavailable' page
    (503, 504) and the same account logs in fine afterwards."""
    f2 = TsmFuse(os.path.join(work, "tsm-faulty"), {"SNP_EMU_KEYS": chain["dir"],
                                                    "TSM_EMU_FAULTS": "-,outblob,-,delay25000,-"})
    s2 = Service(users=["erin", "frank"], name="attest-service-faulty", env={
        "SEALED_TPM_DEV": os.path.join(work, "no-tpm"), "SEALED_TSM_REPORT_DIR": f2.mnt,
        "SEALED_SEV_GUEST_DEV": os.path.join(work, "no-sev-guest"), "SEALED_AMD_KDS_URL": "http://127.0.0.1:9",
    }).__enter__()
    try:
        r = s2.login("erin")
        check(r.status == 503 and "Evidence unavailable" in r.text, (r.status, r.text[:300]))
        r = s2.login("erin")
        check(r.status == 200 and jws_from_page(r.text), (r.status, r.text[:300]))
        r = s2.login("frank")
        check(r.status == 504 and "has not used up its result" in r.text, (r.status, r.text[:300]))
        r = s2.login("frank")
        check(r.status == 200 and jws_from_page(r.text), (r.status, r.text[:300]))
        log = s2.log_text()
        check("reason=attest_failed" in log and "reason=attest_timeout" in log, log[-1500:])
    finally:
        s2.__exit__(None, None, None)
        f2.stop()


try:
    done()
finally:
    svc.__exit__(None, None, None)
    fuse.stop()
    tpm.stop()
    shutil.rmtree(work, ignore_errors=True)
