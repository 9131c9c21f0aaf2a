"""sealed-verify tpm-quote / eventlog / result against a real TPM 2.0 (swtpm, started here): a real
UEFI event log from ../shared/testdata is extended into the TPM event by event, the TPM quotes the
PCRs with qualifying data SHA-256(REPORT_DATA) under an attestation key it created (ECC/ECDSA,
RSA/RSASSA, RSA/RSAPSS), and the verifier must agree with tpm2_checkquote, replay the log to the
quoted PCRs, and reject changed PCRs, qualifying data and logs. Finally a signed result carrying
that real quote verifies end to end. Skipped (one "ok # skip" line) when swtpm or tpm2-tools are
missing."""
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from verifylib import TD, TESTGEN, run_json, status, failed_ids
from tap import case, check, done
from ports import free_port_pair  # noqa: E402

LOG = os.path.join(TD, "tpm-eventlogs-go-eventlog", "tpm", "rhel8-uefi.bin")
EXPECTED = json.load(open(os.path.join(TD, "tpm-eventlogs-go-eventlog", "expected_pcrs.json")))["Rhel8GCE"]["expected_pcrs"]
PCRS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14]
ALGS = {0x0004: ("sha1", 20), 0x000B: ("sha256", 32), 0x000C: ("sha384", 48), 0x000D: ("sha512", 64)}


def events(buf):
    """Measured events of a crypto-agile TCG log: [(pcr, {bank: digest})] (independent of the C code)."""
    pcr, etype, _, size = struct.unpack_from("<II20sI", buf, 0)
    hdr = buf[32:32 + size]
    n = struct.unpack_from("<I", hdr, 24)[0]
    sizes = {}
    for i in range(n):
        alg, ds = struct.unpack_from("<HH", hdr, 28 + 4 * i)
        sizes[alg] = ds
    off, out = 32 + size, []
    while off + 12 <= len(buf):
        pcr, etype, count = struct.unpack_from("<III", buf, off)
        off += 12
        d = {}
        for _ in range(count):
            alg = struct.unpack_from("<H", buf, off)[0]
            ds = sizes[alg]
            d[ALGS[alg][0]] = buf[off + 2:off + 2 + ds].hex()
            off += 2 + ds
        esz = struct.unpack_from("<I", buf, off)[0]
        off += 4 + esz
        if etype != 3:   # EV_NO_ACTION is not extended
            out.append((pcr, d))
    return out


class Swtpm:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="swtpm-")
        # the swtpm TCTI talks to PORT (commands) and PORT+1 (control): two free neighbours
        self.port = free_port_pair()
        ctrl = self.port + 1
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.dir}",
             "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={ctrl},bindaddr=127.0.0.1", "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.env = dict(os.environ, TPM2TOOLS_TCTI=f"swtpm:host=127.0.0.1,port={self.port}")
        for _ in range(50):
            if self.tool("tpm2_pcrread", "sha256:0", check_rc=False).returncode == 0:
                return
            time.sleep(0.1)
        self.close()
        raise AssertionError("swtpm did not start")

    def tool(self, *args, check_rc=True):
        p = subprocess.run(list(args), env=self.env, cwd=self.dir, capture_output=True, text=True, timeout=60)
        if check_rc and p.returncode != 0:
            raise AssertionError(f"{args[0]} failed: {p.stderr[-400:]}")
        return p

    def pcrs(self, bank, idx):
        out = self.tool("tpm2_pcrread", f"{bank}:" + ",".join(map(str, idx))).stdout
        return {m.group(1): m.group(2).lower() for m in re.finditer(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)", out, re.M)}

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


TPM = None


def make_ak(name, *args):
    TPM.tool("tpm2_createak", "-C", "ek.ctx", "-c", f"{name}.ctx", *args, "-u", f"{name}.pem", "-f", "pem",
             "-n", f"{name}.name")
    TPM.tool("tpm2_flushcontext", "-t")


SCHEME = {"ak_ecc": "ecdsa", "ak_rsa": "rsassa", "ak_pss": "rsapss"}


def quote(ak, rd, out, sig_hash="sha256"):
    q = hashlib.sha256(rd).hexdigest()
    TPM.tool("tpm2_quote", "-c", f"{ak}.ctx", "-l", "sha256:" + ",".join(map(str, PCRS)), "-q", q,
             "-m", f"{out}.quote", "-s", f"{out}.sig", "-o", f"{out}.pcrs", "-g", sig_hash, f"--scheme={SCHEME[ak]}")
    TPM.tool("tpm2_flushcontext", "-t")
    json.dump({"sha256": TPM.pcrs("sha256", PCRS)}, open(os.path.join(TPM.dir, f"{out}.json"), "w"))
    return [f"--quote", f"{TPM.dir}/{out}.quote", "--signature", f"{TPM.dir}/{out}.sig", "--ak", f"{TPM.dir}/{ak}.pem",
            "--pcrs", f"{TPM.dir}/{out}.json"]


@case
def log_extended_into_swtpm_gives_the_listed_pcrs():
    buf = open(LOG, "rb").read()
    for pcr, d in events(buf):
        TPM.tool("tpm2_pcrextend", f"{pcr}:sha1={d['sha1']},sha256={d['sha256']}")
    have = TPM.pcrs("sha256", PCRS)
    for i in PCRS:
        check(have[str(i)] == EXPECTED["sha256"][str(i)], f"PCR {i}")
    TPM.tool("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub")
    TPM.tool("tpm2_flushcontext", "-t")
    make_ak("ak_ecc", "-G", "ecc", "-g", "sha256", "-s", "ecdsa")
    make_ak("ak_rsa", "-G", "rsa", "-g", "sha256", "-s", "rsassa")
    make_ak("ak_pss", "-G", "rsa", "-g", "sha256", "-s", "rsapss")


@case
def real_quotes_verify_like_tpm2_checkquote():
    rd = os.urandom(64)
    for ak in ("ak_ecc", "ak_rsa", "ak_pss"):
        args = quote(ak, rd, ak)
        rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *args, "--report-data", rd.hex(), "--eventlog", LOG)
        check(rc == 0, f"{ak}: {failed_ids(out)}")
        check(status(st, "tpm.eventlog.replay") == "pass" and status(st, "tpm.signature") == "pass", ak)
        if ak == "ak_pss":
            # tpm2_checkquote reads a PEM key as RSASSA; check the PSS signature with openssl instead
            raw = open(f"{TPM.dir}/{ak}.sig", "rb").read()[6:]   # TPMT_SIGNATURE: alg, hash, size
            open(f"{TPM.dir}/{ak}.raw", "wb").write(raw)
            cq = TPM.tool("openssl", "dgst", "-sha256", "-verify", f"{ak}.pem", "-sigopt", "rsa_padding_mode:pss",
                          "-sigopt", "rsa_pss_saltlen:-2", "-signature", f"{ak}.raw", f"{ak}.quote", check_rc=False)
        else:
            cq = TPM.tool("tpm2_checkquote", "-u", f"{ak}.pem", "-m", f"{ak}.quote", "-s", f"{ak}.sig", "-f",
                          f"{ak}.pcrs", "-g", "sha256", "-q", hashlib.sha256(rd).hexdigest(), check_rc=False)
        check(cq.returncode == 0, f"independent check disagrees on {ak}: {cq.stdout[-300:]} {cq.stderr[-300:]}")


@case
def changes_are_rejected():
    rd = os.urandom(64)
    args = quote("ak_ecc", rd, "neg")
    rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *args, "--report-data", os.urandom(64).hex())
    check(rc == 1 and failed_ids(out) == ["tpm.qualifying_data"], failed_ids(out))
    # another AK
    bad = list(args)
    bad[bad.index("--ak") + 1] = f"{TPM.dir}/ak_rsa.pem"
    rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *bad, "--report-data", rd.hex())
    check(rc == 1 and failed_ids(out) == ["tpm.signature"], failed_ids(out))
    # one PCR value changed
    p = json.load(open(f"{TPM.dir}/neg.json"))
    p["sha256"]["4"] = "11" * 32
    json.dump(p, open(f"{TPM.dir}/neg-bad.json", "w"))
    bad = list(args)
    bad[bad.index("--pcrs") + 1] = f"{TPM.dir}/neg-bad.json"
    rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *bad, "--report-data", rd.hex(), "--eventlog", LOG)
    check(rc == 1 and "tpm.pcr_digest" in failed_ids(out) and "tpm.eventlog.replay" in failed_ids(out), failed_ids(out))
    # another machine's event log does not replay to these PCRs
    other = os.path.join(TD, "tpm-eventlogs-go-eventlog", "tpm", "cos-101-amd-sev.bin")
    rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *args, "--report-data", rd.hex(), "--eventlog", other)
    check(rc == 1 and failed_ids(out) == ["tpm.eventlog.replay"], failed_ids(out))
    # a flipped bit in the quote
    qb = bytearray(open(f"{TPM.dir}/neg.quote", "rb").read())
    qb[-1] ^= 1
    open(f"{TPM.dir}/neg-flip.quote", "wb").write(qb)
    bad = list(args)
    bad[bad.index("--quote") + 1] = f"{TPM.dir}/neg-flip.quote"
    rc, out, st = run_json("tpm-quote", "--allow-unrooted-ak", *bad, "--report-data", rd.hex())
    check(rc == 1 and "tpm.signature" in failed_ids(out), failed_ids(out))


@case
def signed_result_with_a_real_quote():
    d = tempfile.mkdtemp(prefix="sv-real-")
    key = os.path.join(d, "signer.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                   check=True, capture_output=True)
    iat = str(int(time.time()) - 30)
    subprocess.run([TESTGEN, "result", f"{d}/first.jws", "--dir", d, "--type", "none", "--key", key, "--iat", iat], check=True)
    rd = bytes.fromhex(json.load(open(f"{d}/payload.json"))["report_data"])
    quote("ak_ecc", rd, "res")
    for src, dst in (("res.quote", "quote.bin"), ("res.sig", "sig.bin"), ("ak_ecc.pem", "ak.pem"), ("res.json", "pcrs.json")):
        shutil.copy(os.path.join(TPM.dir, src), os.path.join(d, dst))
    shutil.copy(LOG, os.path.join(d, "eventlog.bin"))
    subprocess.run([TESTGEN, "result", f"{d}/result.jws", "--dir", d, "--type", "tpm2", "--key", key, "--iat", iat,
                    "--tpm-dir", d], check=True)
    manifest = os.path.join(d, "real-manifest.json")
    json.dump({"targets": {"uefi-disk-vtpm": {"pcrs": {"sha256": {"4": EXPECTED["sha256"]["4"]}}}}}, open(manifest, "w"))
    rc, out, st = run_json("result", f"{d}/result.jws", "--manifest", manifest)
    check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], failed_ids(out))
    rc, out, st = run_json("result", f"{d}/result.jws", "--manifest", manifest, "--allow-unrooted-ak")
    check(rc == 0 and out["fields"]["summary"]["hardware_attested"] is False, failed_ids(out))
    for sid in ("tpm.signature", "tpm.qualifying_data", "tpm.pcr_digest", "tpm.eventlog.replay", "measurement.tpm"):
        check(status(st, sid) == "pass", sid)
    json.dump({"targets": {"uefi-disk-vtpm": {"pcrs": {"sha256": {"4": "00" * 32}}}}}, open(manifest, "w"))
    rc, out, st = run_json("result", f"{d}/result.jws", "--manifest", manifest, "--allow-unrooted-ak")
    check(rc == 1 and failed_ids(out) == ["measurement.tpm"], failed_ids(out))
    # a quote made for another result's REPORT_DATA does not fit this one
    subprocess.run([TESTGEN, "result", f"{d}/other.jws", "--dir", d, "--type", "tpm2", "--key", key, "--iat",
                    str(int(iat) + 1), "--tpm-dir", d], check=True)
    rc, out, st = run_json("result", f"{d}/other.jws", "--skip-measurement", "--allow-unrooted-ak")
    check(rc == 1 and failed_ids(out) == ["tpm.qualifying_data"], failed_ids(out))


if not (shutil.which("swtpm") and shutil.which("tpm2_quote")):
    print("ok 1 # skip swtpm or tpm2-tools not installed (scripts/packages/verify.txt)")
else:
    TPM = Swtpm()
    try:
        done()
    finally:
        TPM.close()
