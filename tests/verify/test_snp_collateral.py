"""sealed-verify's SNP collateral and TCB policy, whole binary: `fetch` against a local fake AMD KDS
(tests/fakes/fake_amd_kds.py: documented paths and parameters only, 404 for unknown chips, 429 with
Retry-After) serving the real Milan VCEKs and AMD chains from ../shared/testdata and testgen's test
chains; `snp-report` and `result` reading a missing VCEK from the cache; --crl with AMD-style test
CRLs (current, revoking the ASK, stale, signed by another root); and the reported / current /
committed / launch TCB checks and platform_info on testgen reports."""
import base64
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from verifylib import ROOT, TD, BIN, run, run_json, status, failed_ids, gen
from tap import case, check, done

GO = os.path.join(TD, "snp-reports-go-sev-guest")
VI = os.path.join(TD, "snp-reports-virtee-sev")
CH = os.path.join(TD, "amd-kds-cert-chains")
FAKE = os.path.join(ROOT, "tests", "fakes", "fake_amd_kds.py")
OLD_MILAN = ("--min-tcb", "bl=3,tee=0,snp=8,ucode=115")


class Kds:
    """The fake KDS as a child process, stopped by its own pid."""

    def __init__(self, *args):
        self.log = tempfile.mktemp(prefix="kds-log-")
        self.p = subprocess.Popen(["python3", FAKE, "--port", "0", "--log", self.log, *map(str, args)],
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if "listening on" not in line:
            self.p.kill()
            raise AssertionError(f"fake KDS did not start: {line!r}")
        self.url = line.split()[-1]

    def lines(self):
        return open(self.log).read().splitlines() if os.path.exists(self.log) else []

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.p.terminate()
        self.p.wait(timeout=10)


def fetch(kds, *args, env_url=True):
    env = dict(os.environ)
    env.pop("SEALED_VERIFY_TEST_KDS_URL", None)
    if env_url:
        env["SEALED_VERIFY_TEST_KDS_URL"] = kds.url
    p = subprocess.run([BIN, "fetch", *map(str, args), "--json"], capture_output=True, text=True, timeout=120, env=env)
    out = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {"steps": [], "raw": p.stdout + p.stderr}
    steps = {}
    for s in out["steps"]:
        steps.setdefault(s["id"], []).append(s["status"])
    return p.returncode, out, steps, p.stderr


_crl_dir = []


def test_crl():
    """A CRL in AMD's form from a testgen TEST root (AMD's own CRL is not in testdata)."""
    if not _crl_dir:
        _crl_dir.append(gen("--type", "sev-snp", "--version", 3)[0])
    return f"{_crl_dir[0]}/crl.pem"


def milan_kds(*extra):
    return Kds("--vcek", f"{GO}/vcek.der", "--vcek", f"{VI}/vcek_milan.der", "--chain", f"Milan={CH}/ask_ark_milan.pem",
               "--crl", f"Milan={test_crl()}", *extra)


@case
def fake_kds_is_as_strict_as_documented():
    with milan_kds() as k:
        def get(path):
            try:
                with urllib.request.urlopen(k.url + path, timeout=10) as r:
                    return r.status, r.headers["Content-Type"], r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.headers["Content-Type"], e.read()
        rep = open(f"{GO}/attestation.bin", "rb").read()
        hwid = rep[0x1A0:0x1E0].hex()
        ok = f"/vcek/v1/Milan/{hwid}?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68"
        s, ct, body = get(ok)
        check(s == 200 and ct == "application/pkix-cert" and body == open(f"{GO}/vcek.der", "rb").read(), (s, ct))
        check(get(f"/vcek/v1/Milan/{hwid}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 200)
        check(get(f"/vcek/v1/Milan/{hwid}?blSPL=2&teeSPL=0&snpSPL=5")[0] == 400)            # missing
        check(get(f"/vcek/v1/Milan/{hwid}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68&x=1")[0] == 400)  # extra
        check(get(f"/vcek/v1/Milan/{hwid}?blSPL=2&blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 400)
        check(get(f"/vcek/v1/Milan/{hwid}?fmcSPL=1&blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 400)  # fmc: Turin only
        check(get(f"/vcek/v1/Milan/{hwid}?blSPL=2&teeSPL=0&snpSPL=6&ucodeSPL=68")[0] == 404)  # other TCB
        check(get(f"/vcek/v1/Milan/{'00' * 64}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 404)
        check(get(f"/vcek/v1/Milan/{hwid[:16]}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 400)
        check(get(f"/vcek/v1/Naples/{hwid}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")[0] == 404)
        s, ct, body = get("/vcek/v1/Milan/cert_chain")
        check(s == 200 and ct == "application/x-pem-file" and body.count(b"BEGIN CERTIFICATE") == 2)
        check(get("/vcek/v1/Milan/cert_chain?x=1")[0] == 400 and get("/vcek/v1/Genoa/cert_chain")[0] == 404)
        req = urllib.request.Request(k.url + ok, method="POST", data=b"")
        try:
            urllib.request.urlopen(req, timeout=10)
            check(False, "POST accepted")
        except urllib.error.HTTPError as e:
            check(e.code == 405)


@case
def fetch_then_verify_offline_from_the_cache():
    d = tempfile.mkdtemp(prefix="kds-cache-")
    with milan_kds() as k:
        rc, out, st, err = fetch(k, f"{GO}/attestation.bin", "--product", "Milan", "--kds-cache", d)
        check(rc == 0, out)
        check(status(st, "fetch.kds") == "warn" and status(st, "fetch.vcek") == "pass" and status(st, "fetch.chain") == "pass"
              and status(st, "fetch.crl") == "pass", st)
        rep = open(f"{GO}/attestation.bin", "rb").read()
        tcb = int.from_bytes(rep[0x180:0x188], "little")
        vcek = os.path.join(d, "Milan", rep[0x1A0:0x1E0].hex(), f"{tcb:016x}", "vcek.der")
        check(open(vcek, "rb").read() == open(f"{GO}/vcek.der", "rb").read(), vcek)
        check(os.path.exists(os.path.join(d, "Milan", "vcek", "cert_chain.pem")))
        check(os.path.exists(os.path.join(d, "Milan", "vcek", "crl.der")))
        # the documented request, exactly
        check(any(l.startswith("200 /vcek/v1/Milan/" + rep[0x1A0:0x1E0].hex() + "?blSPL=02&teeSPL=00&snpSPL=05&ucodeSPL=68")
                  for l in k.lines()), k.lines())
        # a second fetch does not ask for the VCEK again (a chip's certificate for a TCB never changes)
        n = len(k.lines())
        rc, out, st, err = fetch(k, f"{GO}/attestation.bin", "--product", "Milan", "--kds-cache", d)
        check(rc == 0 and status(st, "fetch.vcek") == "info" and len(k.lines()) == n + 2, k.lines())
        # a damaged cache entry is fetched again
        open(vcek, "wb").write(b"junk")
        rc, out, st, err = fetch(k, f"{GO}/attestation.bin", "--product", "Milan", "--kds-cache", d)
        check(rc == 0 and status(st, "fetch.vcek") == "pass" and open(vcek, "rb").read() == open(f"{GO}/vcek.der", "rb").read())
    # offline: no --vcek, the cache supplies it; AMD's chain verifies it (a version 2 report names no
    # product: without --product the cache cannot be keyed)
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--kds-cache", d, "--allow-debug",
                           "--min-tcb", "bl=2,tee=0,snp=5,ucode=68")
    check(rc == 1 and "snp.vek" in failed_ids(out), failed_ids(out))
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--kds-cache", d, "--allow-debug", "--product", "Milan",
                           "--min-tcb", "bl=2,tee=0,snp=5,ucode=68")
    check(rc == 0 and status(st, "snp.vek.source") == "info" and status(st, "snp.signature") == "pass", failed_ids(out))
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--kds-cache", d, "--no-kds-cache", "--allow-debug",
                           "--product", "Milan", "--min-tcb", "bl=2,tee=0,snp=5,ucode=68")
    check(rc == 1 and "snp.vek" in failed_ids(out), failed_ids(out))
    # the cached CRL was not signed by AMD's ARK (it is a test CRL): --crl with it fails
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--kds-cache", d, "--allow-debug", "--product", "Milan",
                           "--min-tcb", "bl=2,tee=0,snp=5,ucode=68", "--crl", os.path.join(d, "Milan", "vcek", "crl.der"))
    check(rc == 1 and status(st, "snp.crl.signature") == "fail", failed_ids(out))


@case
def fetch_unknown_chip_is_404_and_nothing_is_cached():
    d = tempfile.mkdtemp(prefix="kds-cache-")
    with Kds("--chain", f"Milan={CH}/ask_ark_milan.pem") as k:
        rc, out, st, err = fetch(k, f"{VI}/report_milan.hex", "--product", "Milan", "--kds-cache", d)
        check(rc == 1 and status(st, "fetch.vcek") == "fail", st)
        check(any("404" in s["text"] for s in out["steps"] if s["id"] == "fetch.vcek"), out)
        check(status(st, "fetch.crl") == "fail")   # this fake has no CRL: 404
        check(not any(f == "vcek.der" for _, _, fs in os.walk(d) for f in fs))


@case
def fetch_honours_429_and_retry_after_and_gives_up_on_a_long_one():
    d = tempfile.mkdtemp(prefix="kds-cache-")
    with milan_kds("--rate-limit", 2, "--retry-after", 1) as k:
        t0 = time.time()
        rc, out, st, err = fetch(k, f"{VI}/report_milan.hex", "--product", "Milan", "--kds-cache", d)
        check(rc == 0 and status(st, "fetch.vcek") == "pass", (out, err))
        check(time.time() - t0 >= 2.0 and "retrying in 1 s (Retry-After)" in err, err)
        check([l.split()[0] for l in k.lines()][:3] == ["429", "429", "200"], k.lines())
    with milan_kds("--rate-limit", 100, "--retry-after", 3600) as k:
        t0 = time.time()
        rc, out, st, err = fetch(k, f"{VI}/report_milan.hex", "--product", "Milan", "--kds-cache", tempfile.mkdtemp())
        check(rc == 1 and time.time() - t0 < 20, out)
        check(any("Retry-After is longer" in s["text"] for s in out["steps"]), out)
    with milan_kds("--rate-limit", 100, "--retry-after", 0) as k:
        rc, out, st, err = fetch(k, f"{VI}/report_milan.hex", "--product", "Milan", "--kds-cache", tempfile.mkdtemp())
        check(rc == 1 and any("giving up after 4 attempts" in s["text"] for s in out["steps"]), out)


@case
def fetch_usage_errors():
    with milan_kds() as k:
        rc, out, st, err = fetch(k, f"{GO}/attestation.bin", "--kds-cache", tempfile.mkdtemp())   # v2: no CPUID
        check(rc == 2 and "--product" in err, err)
        rc, out, st, err = fetch(k, f"{GO}/vcek.der")
        check(rc == 2 and "not an SNP report" in err, err)
    rc, text = run("fetch", "--help")
    check(rc == 0 and "fetch REPORT" in text)


@case
def result_uses_the_cache_for_a_vcek_the_evidence_lacks():
    d, res = gen("--type", "sev-snp", "--version", 3)
    payload = json.loads(base64.urlsafe_b64decode(open(res).read().split(".")[1] + "=="))
    for key in ("vcek", "ask", "ark"):
        del payload["evidence"][0][key]
    bare = os.path.join(d, "nocerts.json")
    json.dump(payload, open(bare, "w"))
    cache = tempfile.mkdtemp(prefix="kds-cache-")
    with Kds("--vcek", f"{d}/vcek.pem", "--chain", f"Milan={d}/chain.pem", "--crl", f"Milan={d}/crl.pem") as k:
        rc, out, st, err = fetch(k, f"{d}/report.bin", "--kds-cache", cache)
        check(rc == 0, out)
    base = ["result", bare, "--allow-unsigned", "--trust-root", f"{d}/ark.pem", "--skip-measurement", "--kds-cache", cache]
    rc, out, st = run_json(*base)
    check(rc == 0 and status(st, "snp.vek.source") == "info" and status(st, "snp.signature") == "pass", failed_ids(out))
    crl = os.path.join(cache, "Milan", "vcek", "crl.der")
    rc, out, st = run_json(*base, "--crl", crl)
    check(rc == 0 and status(st, "snp.crl.signature") == "pass" and status(st, "snp.crl.intermediate") == "pass",
          failed_ids(out))


@case
def crl_checks_with_a_test_root():
    d, _ = gen("--type", "sev-snp", "--version", 3)
    other, _ = gen("--type", "sev-snp", "--version", 3)
    base = ["snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--chain", f"{d}/chain.pem", "--trust-root",
            f"{d}/ark.pem"]
    rc, out, st = run_json(*base)
    check(rc == 0 and status(st, "snp.crl") == "info", failed_ids(out))
    rc, out, st = run_json(*base, "--crl", f"{d}/crl.pem")
    check(rc == 0, failed_ids(out))
    for sid in ("snp.crl.signature", "snp.crl.current", "snp.crl.intermediate", "snp.crl.vek"):
        check(status(st, sid) == "pass", sid)
    rc, out, st = run_json(*base, "--crl", f"{d}/crl-ask-revoked.pem")
    check(rc == 1 and failed_ids(out) == ["snp.crl.intermediate"], failed_ids(out))
    rc, out, st = run_json(*base, "--crl", f"{d}/crl-stale.pem")
    check(rc == 1 and failed_ids(out) == ["snp.crl.current"], failed_ids(out))
    rc, out, st = run_json(*base, "--crl", f"{other}/crl-ask-revoked.pem")
    check(rc == 1 and "snp.crl.signature" in failed_ids(out), failed_ids(out))
    rc, text = run(*base, "--crl", f"{d}/report.bin")
    check(rc == 2 and "no PEM or DER CRL" in text, text)


def tcb_run(*gen_args, extra=()):
    d, _ = gen("--type", "sev-snp", "--version", 3, *gen_args)
    return run_json("snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--chain", f"{d}/chain.pem",
                    "--trust-root", f"{d}/ark.pem", *extra)


@case
def tcb_relations_and_floors_per_product():
    for prod in ("milan", "genoa", "turin"):
        rc, out, st = tcb_run("--product", prod)
        check(rc == 0, (prod, failed_ids(out)))
        for sid in ("snp.tcb", "snp.tcb.reported_le_current", "snp.tcb.committed", "policy.min_tcb", "policy.min_launch_tcb"):
            check(status(st, sid) == "pass", (prod, sid))
    # Milan's floor: SNP 0x1D (AMD-SB-3030); one below fails, on REPORTED (the VCEK follows it) and LAUNCH
    rc, out, st = tcb_run("--reported-tcb", "de1c000000000004", "--current-tcb", "de1c000000000004",
                          "--committed-tcb", "de1c000000000004", "--launch-tcb", "de1c000000000004")
    check(rc == 1 and failed_ids(out) == ["policy.min_launch_tcb", "policy.min_tcb"], failed_ids(out))
    # Genoa microcode below AMD-SB-3027's 0x56
    rc, out, st = tcb_run("--product", "genoa", "--reported-tcb", "551b00000000000a", "--current-tcb", "551b00000000000a",
                          "--committed-tcb", "551b00000000000a", "--launch-tcb", "551b00000000000a")
    check(rc == 1 and "policy.min_tcb" in failed_ids(out), failed_ids(out))
    txt = [s["text"] for s in out["steps"] if s["id"] == "policy.min_tcb"][0]
    check("Genoa (B1)" in txt and "AMD-SB-3027" in txt and "microcode 85 < 86" in txt, txt)
    # launched on firmware below the floor, updated since: LAUNCH_TCB fails alone
    rc, out, st = tcb_run("--launch-tcb", "de1c000000000004")
    check(rc == 1 and failed_ids(out) == ["policy.min_launch_tcb"], failed_ids(out))
    rc, out, st = tcb_run("--launch-tcb", "de1c000000000004", extra=("--min-launch-tcb", "bl=0,tee=0,snp=28,ucode=0"))
    check(rc == 0, failed_ids(out))
    # provisional firmware: COMMITTED below CURRENT fails unless allowed (then a warning)
    rc, out, st = tcb_run("--committed-tcb", "de1d000000000003")
    check(rc == 1 and failed_ids(out) == ["snp.tcb.committed"], failed_ids(out))
    rc, out, st = tcb_run("--committed-tcb", "de1d000000000003", extra=("--allow-provisional-firmware",))
    check(rc == 0 and status(st, "snp.tcb.committed") == "warn", failed_ids(out))
    rc, out, st = tcb_run("--committed-build", "3")
    check(rc == 1 and failed_ids(out) == ["snp.tcb.committed"], failed_ids(out))
    # COMMITTED above CURRENT is inconsistent: no flag allows it
    rc, out, st = tcb_run("--committed-tcb", "de1e000000000004", extra=("--allow-provisional-firmware",))
    check(rc == 1 and failed_ids(out) == ["snp.tcb.committed"], failed_ids(out))
    # REPORTED above CURRENT
    rc, out, st = tcb_run("--current-tcb", "de1c000000000004", "--committed-tcb", "de1c000000000004")
    check(rc == 1 and "snp.tcb.reported_le_current" in failed_ids(out), failed_ids(out))


@case
def platform_info_is_shown():
    rc, out, st = tcb_run("--platform-info", "25")
    check(rc == 0 and status(st, "snp.platform_info") == "info", failed_ids(out))
    bits = out["fields"]["report"]["platform_info_bits"]
    check(bits["smt_enabled"] and bits["ecc_enabled"] and bits["alias_check_complete"] and not bits["tsme_enabled"], bits)
    rc, out, st = tcb_run("--platform-info", "140")
    check(rc == 0 and status(st, "snp.platform_info") == "warn" and
          out["fields"]["report"]["platform_info_bits"]["unknown_bits"] == "0x140", failed_ids(out))
    rc, text = run("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", *OLD_MILAN)
    check("PLATFORM_INFO 0x1 (shown, not a policy): SMT enabled" in text, text)


done()
