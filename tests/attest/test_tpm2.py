"""TPM 2.0 provider (src/login/attest/tpm2.c) against swtpm, a real TPM 2.0 implementation.
Independent checks: tpm2_checkquote (tpm2-tools) verifies every quote, PCR values and the
replayed event log; tpm2_createprimary recreates the same AK from the same template; openssl
verifies the EK certificate against the run's local CA. GCE's AK-from-NV-template path is run by
provisioning the template and a CA-issued AK certificate into swtpm's NV like GCP does."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
import swtpm_lib  # noqa: E402
from swtpm_lib import DropProxy, Swtpm, probe, pcrs_serialized, parse_eventlog, gce_ecc_template  # noqa: E402

TESTDATA = os.path.join(os.environ.get("SEALED_ROOT", "."), "../shared/testdata")
RHEL8_LOG = os.path.join(TESTDATA, "tpm-eventlogs-go-eventlog/tpm/rhel8-uefi.bin")
EXPECTED = os.path.join(TESTDATA, "tpm-eventlogs-go-eventlog/expected_pcrs.json")
RD = bytes(range(64))
QUAL = hashlib.sha256(RD).hexdigest()
PCRLIST = "sha256:" + ",".join(str(i) for i in range(16))

work = tempfile.mkdtemp(prefix="attest-tpm2-")
tpm = Swtpm(os.path.join(work, "tpm")).manufacture().start()
state = {}


def files_for(ev, tag, pcr_override=None):
    d = os.path.join(work, tag)
    os.makedirs(d, exist_ok=True)
    open(f"{d}/q.bin", "wb").write(base64.b64decode(ev["quote"]))
    open(f"{d}/s.bin", "wb").write(base64.b64decode(ev["signature"]))
    open(f"{d}/ak.pem", "w").write(ev["ak_pub"])
    vals = [bytes.fromhex(ev["pcrs"]["sha256"][str(i)]) for i in range(16)]
    if pcr_override:
        for i, v in pcr_override.items():
            vals[i] = v
    open(f"{d}/pcrs.bin", "wb").write(pcrs_serialized(vals))
    return d


def checkquote(d, qual=QUAL, eventlog=None, key=None):
    args = ["tpm2_checkquote", "-u", key or f"{d}/ak.pem", "-m", f"{d}/q.bin", "-s", f"{d}/s.bin",
            "-f", f"{d}/pcrs.bin", "-g", "sha256", "-q", qual]
    if eventlog:
        args += ["-e", eventlog]
    return subprocess.run(args, capture_output=True, timeout=60)


@case
def evidence_has_the_design_shape():
    out = probe("--tpm", tpm.spec, "--eventlog", os.path.join(work, "no-such-log"), "--count", "20",
                report_data=RD)
    check(out["providers"] == ["tpm2"], out)
    ev = out["evidence"][0]
    for k in ("type", "quote", "signature", "ak_pub", "ak_cert", "pcrs", "event_log"):
        check(k in ev, f"missing {k}")
    check(ev["type"] == "tpm2" and ev["ak_cert"] is None and ev["event_log"] is None, ev)
    check(ev["ak_source"] == "endorsement-ecc-p256", ev["ak_source"])
    check(ev["ak_pub"].startswith("-----BEGIN PUBLIC KEY-----"), ev["ak_pub"])
    check(sorted(ev["pcrs"]["sha256"], key=int) == [str(i) for i in range(16)], ev["pcrs"])
    check(all(len(v) == 64 and v == v.lower() for v in ev["pcrs"]["sha256"].values()))
    ms = sorted(out["ms"])
    print(f"# tpm2 evidence cost over {len(ms)} quotes: median {ms[len(ms) // 2]:.2f} ms, "
          f"max {ms[-1]:.2f} ms (swtpm over loopback TCP)")
    state["ev"] = ev


@case
def tpm2_checkquote_accepts_the_quote():
    d = files_for(state["ev"], "plain")
    r = checkquote(d)
    check(r.returncode == 0, r.stderr.decode())


def sealed_verify(ev, rd=RD, eventlog=None, ca=None, allow_unrooted=True):
    d = files_for(ev, "sv")
    json.dump(ev["pcrs"], open(f"{d}/pcrs.json", "w"))
    args = [os.path.join(os.environ.get("SEALED_ROOT", "."), "build/sealed-verify"), "tpm-quote",
            "--quote", f"{d}/q.bin", "--signature", f"{d}/s.bin", "--ak", f"{d}/ak.pem", "--pcrs", f"{d}/pcrs.json",
            "--report-data", rd.hex()]
    if eventlog:
        args += ["--eventlog", eventlog]
    if ca:
        args += ["--tpm-ca", ca]
    elif allow_unrooted:
        args += ["--allow-unrooted-ak"]   # swtpm has no vendor AK certificate
    return subprocess.run(args, capture_output=True, timeout=60)


@case
def sealed_verify_accepts_the_quote_for_this_report_data_only():
    r = sealed_verify(state["ev"])
    check(r.returncode == 0, r.stdout.decode())
    check("RESULT: PASS (--allow-unrooted-ak" in r.stdout.decode(), r.stdout.decode())
    r = sealed_verify(state["ev"], allow_unrooted=False)
    check(r.returncode == 1 and "nothing ties the AK to a real TPM" in r.stdout.decode(), r.stdout.decode())
    r = sealed_verify(state["ev"], rd=RD[::-1])
    check(r.returncode == 1, r.stdout.decode())


@case
def quote_is_bound_to_sha256_of_report_data():
    d = files_for(state["ev"], "plain")
    r = checkquote(d, qual=hashlib.sha256(RD[:63] + b"\x01").hexdigest())
    check(r.returncode != 0, "a quote must not verify for other REPORT_DATA")
    q = base64.b64decode(state["ev"]["quote"])
    # TPMS_ATTEST: magic, type, qualifiedSigner (TPM2B), extraData (TPM2B)
    nlen = int.from_bytes(q[6:8], "big")
    off = 8 + nlen
    elen = int.from_bytes(q[off:off + 2], "big")
    check(q[off + 2:off + 2 + elen].hex() == QUAL, "extraData is SHA-256(REPORT_DATA)")


@case
def altered_pcr_value_is_rejected():
    d = files_for(state["ev"], "tampered", {7: b"\x11" * 32})
    r = checkquote(d)
    check(r.returncode != 0, "tpm2_checkquote must reject PCRs that do not match the digest")


@case
def pcr_values_match_tpm2_pcrread():
    r = tpm.tools("tpm2_pcrread", "-F", "values", "-o", os.path.join(work, "pcrread.bin"), PCRLIST)
    raw = open(os.path.join(work, "pcrread.bin"), "rb").read()
    check(len(raw) == 16 * 32, len(raw))
    for i in range(16):
        check(raw[32 * i:32 * i + 32].hex() == state["ev"]["pcrs"]["sha256"][str(i)], f"PCR {i}")


@case
def same_ak_as_tpm2_createprimary_with_the_same_template():
    ctx = os.path.join(work, "ak.ctx")
    tpm.tools("tpm2_createprimary", "-C", "e", "-g", "sha256", "-G", "ecc256:ecdsa-sha256:null", "-c", ctx,
              "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign")
    pem = os.path.join(work, "ak-tools.pem")
    tpm.tools("tpm2_readpublic", "-c", ctx, "-f", "pem", "-o", pem)
    tpm.tools("tpm2_flushcontext", "-t")
    check(open(pem).read() == state["ev"]["ak_pub"], "AK differs from tpm2-tools' for the same template")


@case
def ek_certificate_chains_to_the_local_ca():
    ek = state["ev"].get("ek_cert")
    check(ek and ek.startswith("-----BEGIN CERTIFICATE-----"), ek)
    p = os.path.join(work, "ek.pem")
    open(p, "w").write(ek)
    r = subprocess.run(["openssl", "verify", "-CAfile", f"{tpm.ca}/swtpm-localca-rootca-cert.pem",
                        "-untrusted", f"{tpm.ca}/issuercert.pem", p], capture_output=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    # and it is the certificate of the TPM's persisted RSA EK (0x81010001)
    tpm.tools("tpm2_readpublic", "-c", "0x81010001", "-f", "pem", "-o", os.path.join(work, "ekpub.pem"))
    a = subprocess.run(["openssl", "x509", "-in", p, "-noout", "-pubkey"], capture_output=True).stdout
    check(a.strip() == open(os.path.join(work, "ekpub.pem"), "rb").read().strip(), "EK cert key != EK")


@case
def event_log_replays_to_the_quoted_pcrs():
    """Replays a real GCE firmware log (RHEL 8, go-eventlog testdata) into swtpm's PCRs with
    tpm2_pcrextend, then the provider's quote, PCRs and log must agree with each other
    (tpm2_checkquote -e) and with the PCR values that machine's TPM had."""
    log = open(RHEL8_LOG, "rb").read()
    exts = [f"{pcr}:sha256={dg[0x000B].hex()}" for pcr, t, dg in parse_eventlog(log) if t != 3]
    check(len(exts) > 20, len(exts))
    for i in range(0, len(exts), 16):
        tpm.tools("tpm2_pcrextend", *exts[i:i + 16])
    out = probe("--tpm", tpm.spec, "--eventlog", RHEL8_LOG, report_data=RD)
    ev = out["evidence"][0]
    check(base64.b64decode(ev["event_log"]) == log, "event_log is the file, byte for byte")
    want = json.load(open(EXPECTED))["Rhel8GCE"]["expected_pcrs"]["sha256"]
    for i, v in want.items():
        if int(i) < 16:
            check(ev["pcrs"]["sha256"][i] == v, f"PCR {i}: {ev['pcrs']['sha256'][i]} != {v}")
    d = files_for(ev, "evlog")
    r = checkquote(d, eventlog=RHEL8_LOG)
    check(r.returncode == 0, r.stderr.decode())
    r = sealed_verify(ev, eventlog=RHEL8_LOG)
    check(r.returncode == 0, r.stdout.decode())


def nv_put(index, data):
    swtpm_lib.nv_put(tpm, work, index, data)


def make_ca(name):
    return swtpm_lib.make_ca(work, name)


def issue_cert(ca, pubkey_pem, name):
    return swtpm_lib.issue_cert(work, ca, pubkey_pem, name)


@case
def gce_ak_from_nv_template_with_its_certificate():
    nv_put(0x01c10003, gce_ecc_template())
    first = probe("--tpm", tpm.spec, report_data=RD)["evidence"][0]
    check(first["ak_source"] == "gce-ak-ecc" and first["ak_cert"] is None, first["ak_source"])
    check(first["ak_pub"] != state["ev"]["ak_pub"], "the NV template must be what the AK is made from")
    ca = make_ca("fake-google-ak-ca")
    nv_put(0x01c10002, issue_cert(ca, first["ak_pub"], "ak") + b"\0" * 37)   # NV areas are padded
    ev = probe("--tpm", tpm.spec, report_data=RD)["evidence"][0]
    check(ev["ak_pub"] == first["ak_pub"], "AK stays the same across restarts (primary from template)")
    check(ev["ak_cert"] and ev["ak_cert"].startswith("-----BEGIN CERTIFICATE-----"), ev["ak_cert"])
    p = os.path.join(work, "akcert.pem")
    open(p, "w").write(ev["ak_cert"])
    r = subprocess.run(["openssl", "verify", "-CAfile", ca[1], p], capture_output=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    certkey = os.path.join(work, "akcert-pub.pem")
    open(certkey, "wb").write(subprocess.run(["openssl", "x509", "-in", p, "-noout", "-pubkey"],
                                             capture_output=True, check=True).stdout)
    d = files_for(ev, "gce")
    r = checkquote(d, key=certkey)
    check(r.returncode == 0, r.stderr.decode())


@case
def ak_certificate_for_another_key_is_not_attached():
    other = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                           capture_output=True, check=True).stdout
    otherpub = subprocess.run(["openssl", "pkey", "-pubout"], input=other, capture_output=True, check=True).stdout
    ca = make_ca("fake-google-ak-ca2")
    nv_put(0x01c10002, issue_cert(ca, otherpub.decode(), "wrong"))
    ev = probe("--tpm", tpm.spec, report_data=RD)["evidence"][0]
    check(ev["ak_source"] == "gce-ak-ecc" and ev["ak_cert"] is None, ev["ak_cert"])
    tpm.tools("tpm2_nvundefine", "-C", "o", "0x1c10002")
    tpm.tools("tpm2_nvundefine", "-C", "o", "0x1c10003")


@case
def gce_rsa_template_signs_rsassa_quotes():
    # RSA 2048 restricted signing, RSASSA-SHA256, as in NV 0x01c10001
    attrs = 0x2 | 0x10 | 0x20 | 0x40 | 0x400 | 0x10000 | 0x40000
    t = (0x0001).to_bytes(2, "big") + (0x000B).to_bytes(2, "big") + attrs.to_bytes(4, "big") + b"\0\0"
    t += (0x0010).to_bytes(2, "big") + (0x0014).to_bytes(2, "big") + (0x000B).to_bytes(2, "big")
    t += (2048).to_bytes(2, "big") + (0).to_bytes(4, "big") + (256).to_bytes(2, "big") + b"\0" * 256
    nv_put(0x01c10001, t)
    ev = probe("--tpm", tpm.spec, report_data=RD)["evidence"][0]
    tpm.tools("tpm2_nvundefine", "-C", "o", "0x1c10001")
    check(ev["ak_source"] == "gce-ak-rsa", ev["ak_source"])
    check(int.from_bytes(base64.b64decode(ev["signature"])[:2], "big") == 0x0014, "RSASSA signature")
    r = checkquote(files_for(ev, "rsa"))
    check(r.returncode == 0, r.stderr.decode())


@case
def lost_connection_reconnects_with_the_same_ak():
    """The probe uses commands 1-~12; dropping later commands (one inside a quote) must cost
    nothing but a reconnect: same AK, every quote verifies. Two drops in a row fail one request."""
    px = DropProxy(tpm.port, drop_at=[20, 33, 34])
    try:
        out = probe("--tpm", px.spec, "--count", "10", "--keep-going", report_data=RD, check=False)
        # (TPM_RC_RETRY resends count as commands, so where the drops land varies a little)
        check(px.count >= 34, px.count)
        check(len(out["errors"]) == 1 and "TPM unavailable" in out["errors"][0]["error"], out["errors"])
        check(px.connections == 4, px.connections)      # probe, after 20, after 33, next request
        check(len(out["ms"]) == 9, out["ms"])
        ev = out["evidence"][0]
        check(ev["ak_pub"] == state["ev"]["ak_pub"], "same AK after reconnecting")
        r = checkquote(files_for(ev, "reconnect"))
        check(r.returncode == 0, r.stderr.decode())
    finally:
        px.stop()


@case
def tpm_gone_means_probe_error_not_silence():
    tpm.stop()
    out = probe("--tpm", tpm.spec, report_data=RD, check=False)
    check(out["_rc"] != 0 and out["evidence"] == [], out)
    check(any(e["type"] == "tpm2" for e in out["errors"]), out["errors"])
    out = probe("--tpm", os.path.join(work, "no-tpm-here"), report_data=RD, check=False)
    check(out["_rc"] == 0 and out["providers"] == [], "an absent device is 'no TPM', not an error")


try:
    done()
finally:
    tpm.stop()
    shutil.rmtree(work, ignore_errors=True)
