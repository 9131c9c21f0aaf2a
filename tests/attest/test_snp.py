"""SEV-SNP providers (attest/snp_tsm.c, attest/snp_ioctl.c, attest/amd_kds.c) against user-space
emulations of the kernel ABIs: a FUSE configfs-tsm tree and an LD_PRELOAD /dev/sev-guest, both
signing structurally exact reports (v2, v3, v5) with a test ARK/ASK/VCEK chain made here, and a
fake AMD KDS with its rate limit. Independent checks with the openssl CLI: the report signature
verifies with the attached VCEK, the chain verifies to the test ARK only, not to AMD's real ARK."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
from snp_lib import BUILD, FakeKds, TsmFuse, make_chain, ossl  # noqa: E402

TESTDATA = os.path.join(os.environ.get("SEALED_ROOT", "."), "../shared/testdata")
PROBE = os.environ.get("ATTEST_PROBE", os.path.join(BUILD, "attest_probe"))
SHIM = os.path.join(BUILD, "libsevguest_shim.so")
RD = bytes((7 * i + 3) & 0xFF for i in range(64))

work = tempfile.mkdtemp(prefix="attest-snp-")
milan = make_chain(os.path.join(work, "milan"), "milan")
turin = make_chain(os.path.join(work, "turin"), "turin", tcb=0x2100000000041003)
mounts = []


def run_probe(args, env=None, rd=RD, check_rc=True):
    e = dict(os.environ, **(env or {}))
    r = subprocess.run([PROBE, "--tpm", os.path.join(work, "no-tpm"), *args, rd.hex()], env=e,
                       capture_output=True, timeout=180)
    out = json.loads(r.stdout.decode() or "{}")
    out["_rc"], out["_stderr"] = r.returncode, r.stderr.decode(errors="replace")
    if check_rc and r.returncode != 0:
        raise AssertionError(f"attest_probe: {out.get('errors')} {out['_stderr']}")
    return out


def tsm(name, **env):
    keys = env.pop("keys", milan)
    m = TsmFuse(os.path.join(work, name), dict({"SNP_EMU_KEYS": keys["dir"]}, **env))
    mounts.append(m)
    return m


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def verify_report(rep, key_pem):
    """ECDSA P-384/SHA-384 over 0x000-0x29F with r, s little-endian at 0x2A0/0x2E8 (openssl CLI)."""
    r, s = rep[0x2A0:0x2A0 + 72][::-1], rep[0x2E8:0x2E8 + 72][::-1]
    body = der_int(r) + der_int(s)
    sig = b"\x30" + bytes([len(body)]) + body
    d = tempfile.mkdtemp(dir=work)
    open(f"{d}/msg", "wb").write(rep[:0x2A0])
    open(f"{d}/sig", "wb").write(sig)
    open(f"{d}/cert.pem", "w").write(key_pem)
    open(f"{d}/pub.pem", "wb").write(ossl("x509", "-in", f"{d}/cert.pem", "-noout", "-pubkey"))
    return subprocess.run(["openssl", "dgst", "-sha384", "-verify", f"{d}/pub.pem", "-signature", f"{d}/sig",
                           f"{d}/msg"], capture_output=True).returncode == 0


def chain_ok(ev, root_pem, key="vcek"):
    d = tempfile.mkdtemp(dir=work)
    open(f"{d}/leaf.pem", "w").write(ev[key])
    open(f"{d}/ask.pem", "w").write(ev["ask"])
    return subprocess.run(["openssl", "verify", "-CAfile", root_pem, "-untrusted", f"{d}/ask.pem", f"{d}/leaf.pem"],
                          capture_output=True).returncode == 0


VERIFY = os.path.join(os.environ.get("SEALED_ROOT", "."), "build/sealed-verify")


def sealed_verify(ev, trust_root=None, key="vcek"):
    """sealed-verify snp-report on the evidence; returns its exit code (0 = every check passed)."""
    d = tempfile.mkdtemp(dir=work)
    open(f"{d}/rep.bin", "wb").write(base64.b64decode(ev["report"]))
    open(f"{d}/key.pem", "w").write(ev[key])
    open(f"{d}/chain.pem", "w").write(ev["ask"] + ev["ark"])
    args = [VERIFY, "snp-report", f"{d}/rep.bin", f"--{key}", f"{d}/key.pem", "--chain", f"{d}/chain.pem",
            "--report-data", RD.hex(),
            # the emulator's test chip reports a TCB below AMD's published floors: waived by name
            "--min-tcb", "bl=0,tee=0,snp=0,ucode=0", "--min-launch-tcb", "bl=0,tee=0,snp=0,ucode=0"]
    if key == "vlek":
        args += ["--signer", "vlek"]
    if trust_root:
        args += ["--trust-root", trust_root]
    r = subprocess.run(args, capture_output=True, timeout=60)
    if trust_root and r.returncode != 0:
        print("\n".join("  " + ln for ln in r.stdout.decode().splitlines() if "✗" in ln))
    return r.returncode


def u32(b, o):
    return int.from_bytes(b[o:o + 4], "little")


def check_snp(ev, version, via, vmpl=0, key="vcek", certs_from="host"):
    check(ev["type"] == "sev-snp" and ev["via"] == via and ev["certs_from"] == certs_from, ev)
    rep = base64.b64decode(ev["report"])
    check(len(rep) == 1184, len(rep))
    check(u32(rep, 0) == version, f"version {u32(rep, 0)}")
    check(rep[0x50:0x90] == RD, "REPORT_DATA")
    check(u32(rep, 0x30) == vmpl, f"VMPL {u32(rep, 0x30)}")
    check(key in ev and ("vlek" if key == "vcek" else "vcek") not in ev, list(ev))
    check(verify_report(rep, ev[key]), "report signature must verify with the attached key")
    bad = bytearray(rep)
    bad[0x90] ^= 1
    check(not verify_report(bytes(bad), ev[key]), "a changed measurement must not verify")
    return rep


@case
def configfs_tsm_reports_v2_v3_v5():
    for v in (2, 3, 5):
        tsm(f"tsm-v{v}", SNP_EMU_VERSION=str(v))
        out = run_probe(["--tsm", os.path.join(work, f"tsm-v{v}")])
        check(out["providers"] == ["sev-snp"], out)
        rep = check_snp(out["evidence"][0], v, "configfs-tsm")
        if v >= 3:
            check(rep[0x188:0x18A] == bytes([0x19, 0x01]), "CPUID family/model for Milan")
        if v == 5:
            check(int.from_bytes(rep[0x1F8:0x200], "little") != 0, "v5 launch mitigation vector")
        check(os.listdir(os.path.join(work, f"tsm-v{v}")) == [], "the provider removes its entry")
        ev = out["evidence"][0]
        check(sealed_verify(ev, os.path.join(milan["dir"], "ark.pem")) == 0, "sealed-verify with the test root")
        check(sealed_verify(ev) == 1, "sealed-verify must reject the test chain without --trust-root")


@case
def chain_verifies_to_test_root_only():
    out = run_probe(["--tsm", os.path.join(work, "tsm-v3")])
    ev = out["evidence"][0]
    check(chain_ok(ev, os.path.join(milan["dir"], "ark.pem")), "chain to the test ARK")
    real = os.path.join(TESTDATA, "amd-kds-cert-chains/ask_ark_milan.pem")
    check(not chain_ok(ev, real), "the test chain must not verify against AMD's real Milan ARK")
    check(not chain_ok(ev, os.path.join(turin["dir"], "ark.pem")), "nor against another test root")


@case
def privlevel_floor_is_honoured():
    tsm("tsm-vmpl", TSM_EMU_PRIVLEVEL_FLOOR="2")
    out = run_probe(["--tsm", os.path.join(work, "tsm-vmpl")])
    check_snp(out["evidence"][0], 3, "configfs-tsm", vmpl=2)


@case
def generation_race_is_detected_and_retried():
    tsm("tsm-race", TSM_EMU_RACE="2")      # probe's report and the first request each see one race
    out = run_probe(["--tsm", os.path.join(work, "tsm-race")])
    check_snp(out["evidence"][0], 3, "configfs-tsm")
    tsm("tsm-race-forever", TSM_EMU_RACE="1000")
    out = run_probe(["--tsm", os.path.join(work, "tsm-race-forever")], check_rc=False)
    check(out["_rc"] != 0 and not out["evidence"], "a report that may be someone else's is never used")
    check("generation" in out["_stderr"], out["_stderr"])


@case
def vlek_signed_report_carries_vlek():
    tsm("tsm-vlek", SNP_EMU_SIGNER="vlek")
    ev = run_probe(["--tsm", os.path.join(work, "tsm-vlek")])["evidence"][0]
    check_snp(ev, 3, "configfs-tsm", key="vlek")
    rep = base64.b64decode(ev["report"])
    check((u32(rep, 0x48) >> 2) & 7 == 1, "SIGNING_KEY = VLEK")
    check(chain_ok(ev, os.path.join(milan["dir"], "ark.pem"), key="vlek"), "VLEK -> ASVK -> ARK")
    check(sealed_verify(ev, os.path.join(milan["dir"], "ark.pem"), key="vlek") == 0, "sealed-verify (VLEK)")
    tsm("tsm-vlek-nocerts", SNP_EMU_SIGNER="vlek", SNP_EMU_CERTS="none")
    out = run_probe(["--tsm", os.path.join(work, "tsm-vlek-nocerts")], check_rc=False)
    check(out["_rc"] != 0 and "VLEK" in out["_stderr"], out["_stderr"])


@case
def sev_guest_ioctl_with_ext_report_and_busy_host():
    dev = os.path.join(work, "sev-guest")
    env = {"LD_PRELOAD": SHIM, "SEVGUEST_SHIM_DEV": dev, "SNP_EMU_KEYS": milan["dir"], "SEVGUEST_SHIM_BUSY": "2",
           "SNP_EMU_VERSION": "5"}
    out = run_probe(["--sev", dev, "--tsm", os.path.join(work, "no-configfs"), "--count", "20"], env=env)
    check(out["providers"] == ["sev-snp"], out)
    check_snp(out["evidence"][0], 5, "sev-guest")
    ms = sorted(out["ms"])
    print(f"# sev-guest (emulated) cost over {len(ms)} reports: median {ms[len(ms) // 2]:.2f} ms")


@case
def sev_guest_stands_down_when_configfs_tsm_has_sev_guest():
    dev = os.path.join(work, "sev-guest")
    env = {"LD_PRELOAD": SHIM, "SEVGUEST_SHIM_DEV": dev, "SNP_EMU_KEYS": milan["dir"]}
    out = run_probe(["--sev", dev, "--tsm", os.path.join(work, "tsm-v3"), "--count", "20"], env=env)
    check(out["providers"] == ["sev-snp"] and len(out["evidence"]) == 1, out["providers"])
    check(out["evidence"][0]["via"] == "configfs-tsm", out["evidence"][0]["via"])
    ms = sorted(out["ms"])
    print(f"# configfs-tsm (emulated) cost over {len(ms)} reports: median {ms[len(ms) // 2]:.2f} ms")


@case
def no_host_certs_fetches_vcek_from_kds_once_within_rate_limit():
    kds = FakeKds(window=12.0)      # stricter than our 10 s pace: the second request gets a 429
    try:
        kds.add(milan)
        tsm("tsm-nocerts", SNP_EMU_CERTS="none")
        t0 = time.time()
        out = run_probe(["--tsm", os.path.join(work, "tsm-nocerts"), "--kds", kds.url, "--count", "3"])
        ev = out["evidence"][0]
        check_snp(ev, 3, "configfs-tsm", certs_from="amd-kds")
        check(ev["vcek"] == open(os.path.join(milan["dir"], "vcek.pem")).read(), "the VCEK KDS served")
        check(chain_ok(ev, os.path.join(milan["dir"], "ark.pem")), "chain from cert_chain")
        check(sealed_verify(ev, os.path.join(milan["dir"], "ark.pem")) == 0, "sealed-verify, KDS chain")
        paths = [(p.split("?")[0], s) for _, p, s in kds.log]
        hw = milan["chip"].hex()
        check(paths == [(f"/vcek/v1/Milan/{hw}", 200), ("/vcek/v1/Milan/cert_chain", 429),
                        ("/vcek/v1/Milan/cert_chain", 200)], paths)
        check("blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213" in kds.log[0][1], kds.log[0][1])
        gaps = [b[0] - a[0] for a, b in zip(kds.log, kds.log[1:])]
        check(gaps[0] >= 9.9 and gaps[1] >= 2.0, f"paced: {gaps}")
        print(f"# KDS fetch (VCEK + chain, one 429): {time.time() - t0:.1f} s at start, then cached")
    finally:
        kds.stop()


@case
def turin_kds_url_uses_fmc_and_8_byte_hwid():
    kds = FakeKds(window=10.0)
    try:
        kds.add(turin)
        tsm("tsm-turin", keys=turin, SNP_EMU_CERTS="none", SNP_EMU_PRODUCT="turin", SNP_EMU_TCB="2100000000041003",
            SNP_EMU_CHIP_ID=turin["chip"].hex())
        out = run_probe(["--tsm", os.path.join(work, "tsm-turin"), "--kds", kds.url])
        ev = out["evidence"][0]
        check_snp(ev, 3, "configfs-tsm", certs_from="amd-kds")
        check(sealed_verify(ev, os.path.join(turin["dir"], "ark.pem")) == 0, "sealed-verify, Turin")
        first = kds.log[0][1]
        check(first.startswith(f"/vcek/v1/Turin/{turin['chip'][:8].hex()}?"), first)
        check("fmcSPL=3&blSPL=16&teeSPL=4&snpSPL=0&ucodeSPL=33" in first, first)
    finally:
        kds.stop()


@case
def host_without_extended_request_falls_back_and_uses_kds():
    kds = FakeKds(window=10.0)
    try:
        kds.add(milan)
        dev = os.path.join(work, "sev-guest-noext")
        env = {"LD_PRELOAD": SHIM, "SEVGUEST_SHIM_DEV": dev, "SNP_EMU_KEYS": milan["dir"], "SEVGUEST_SHIM_NO_EXT": "1",
               "SNP_EMU_VERSION": "2"}
        out = run_probe(["--sev", dev, "--tsm", os.path.join(work, "no-configfs"), "--kds", kds.url], env=env)
        check_snp(out["evidence"][0], 2, "sev-guest", certs_from="amd-kds")
        check(kds.log[0][1].startswith("/vcek/v1/Milan/"), "v2 reports have no CPUID: Milan is tried first")
    finally:
        kds.stop()


@case
def every_configfs_io_failure_fails_that_request_only():
    tsm("tsm-faults", TSM_EMU_FAULTS="-,inblob,-,outblob,-,auxblob,-,gen,-")
    out = run_probe(["--tsm", os.path.join(work, "tsm-faults"), "--count", "8", "--keep-going"], check_rc=False)
    errs = {e["request"]: e["error"] for e in out["errors"]}
    check(sorted(errs) == [0, 2, 4, 6], out["errors"])
    for n, word in zip((0, 2, 4, 6), ("inblob", "outblob", "auxblob", "generation")):
        check(word in errs[n], (n, errs[n]))
    check(len(out["ms"]) == 4, out["ms"])
    check_snp(out["evidence"][0], 3, "configfs-tsm")
    check(out["status"][0]["failed"] == 4 and out["status"][0]["count"] == 4, out["status"])
    check("generation" in out["status"][0]["last_error"], out["status"])   # /status says why
    check(os.listdir(os.path.join(work, "tsm-faults")) == [], "entry removed after failures too")


@case
def sev_guest_firmware_failures_fail_that_request_only():
    kds = FakeKds(window=10.0)
    try:
        kds.add(milan)
        dev = os.path.join(work, "sev-guest-faults")
        env = {"LD_PRELOAD": SHIM, "SEVGUEST_SHIM_DEV": dev, "SNP_EMU_KEYS": milan["dir"],
               "SEVGUEST_SHIM_FAULTS": "-,-,-,status,-,-,-,size,eio,-"}
        # ioctl calls: each report is an extended request with one page (too small: the host says
        # how much) and again with two; an EIO on the extended request falls back to a plain one
        # (no certificates: KDS). Calls 4 and 8 answer badly, call 9 fails.
        out = run_probe(["--sev", dev, "--tsm", os.path.join(work, "no-configfs"), "--kds", kds.url,
                         "--count", "4", "--keep-going"], env=env, check_rc=False)
        errs = {e["request"]: e["error"] for e in out["errors"]}
        check(sorted(errs) == [0, 2], out["errors"])
        check("status" in errs[0] and "1000 bytes" in errs[2], errs)
        ev = out["evidence"][0]
        check_snp(ev, 3, "sev-guest", certs_from="amd-kds")   # the last one came the plain way
        check([p.split("?")[0].rsplit("/", 1)[-1] for _, p, _ in kds.log][-1] == "cert_chain", kds.log)
    finally:
        kds.stop()


@case
def kds_unreachable_is_an_error_not_a_report_without_chain():
    tsm("tsm-nokds", SNP_EMU_CERTS="none")
    out = run_probe(["--tsm", os.path.join(work, "tsm-nokds"), "--kds", "http://127.0.0.1:9"], check_rc=False)
    check(out["_rc"] != 0 and not out["evidence"], out)
    check("KDS" in out["_stderr"], out["_stderr"])


try:
    done()
finally:
    for m in mounts:
        m.stop()
    shutil.rmtree(work, ignore_errors=True)
