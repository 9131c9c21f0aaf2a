"""TDX provider (attest/tdx_tsm.c) against the configfs-tsm FUSE emulator in tdx_guest mode,
which returns DCAP v4 quotes signed by a per-run attestation key whose QE report is signed by a
test PCK key (chain made here), and ACPI CCEL table/log files laid out as sysfs shows them.
Checks with the openssl CLI: quote signature, QE report signature and binding, PCK chain."""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import case, check, done  # noqa: E402
from snp_lib import BUILD, TsmFuse, make_pck_chain, ossl  # noqa: E402

PROBE = os.environ.get("ATTEST_PROBE", os.path.join(BUILD, "attest_probe"))
RD = hashlib.sha512(b"tdx").digest()
work = tempfile.mkdtemp(prefix="attest-tdx-")
pck = make_pck_chain(os.path.join(work, "pck"))
state = {}


def ccel_files(d, laml=65536):
    """An ACPI CCEL table (TDX, log area LAML bytes) and a crypto-agile SHA-384 log in it."""
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    body = struct.pack("<BBHQQ", 2, 0, 0, laml, 0x7F000000)
    hdr = b"CCEL" + struct.pack("<IB", 36 + len(body), 1) + b"\0" + b"SEALED" + b"TESTCCEL" + struct.pack("<I", 1)
    hdr += b"TEST" + struct.pack("<I", 1)
    table = bytearray(hdr + body)
    table[9] = (-sum(table)) & 0xFF
    spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 2, 0, 2, 2, 1) + struct.pack("<HH", 0x000C, 48) + b"\0"
    log = struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec
    for mr, etype, data in ((1, 0x80000001, b"firmware volume"), (2, 0x0000000D, b"kernel cmdline"),
                            (3, 0x0000000D, b"initrd\xff\xff")):   # data may end in 0xFF too
        log += struct.pack("<III", mr, etype, 1) + struct.pack("<H", 0x000C) + hashlib.sha384(data).digest()
        log += struct.pack("<I", len(data)) + data
    open(os.path.join(d, "CCEL"), "wb").write(bytes(table))
    open(os.path.join(d, "data/CCEL"), "wb").write(log + b"\xff" * (laml - len(log)))
    return bytes(table), log


def rtmrs_from(log):
    """RTMR0-3 replayed from a CCEL log (MR index 1-4 = RTMR0-3, SHA-384, from zeros)."""
    rt = [b"\0" * 48 for _ in range(4)]
    (esz,) = struct.unpack_from("<I", log, 28)
    off = 32 + esz
    while off + 12 <= len(log):
        mr, etype, n = struct.unpack_from("<III", log, off)
        off += 12 + n * 50             # one SHA-384 digest each: alg id + 48 bytes
        dg = log[off - 48:off]
        (dl,) = struct.unpack_from("<I", log, off)
        off += 4 + dl
        if 1 <= mr <= 4 and etype != 3:
            rt[mr - 1] = hashlib.sha384(rt[mr - 1] + dg).digest()
    return rt


TABLE, LOG = ccel_files(os.path.join(work, "acpi"))
mnt = TsmFuse(os.path.join(work, "tsm"), {"TSM_EMU_PROVIDER": "tdx_guest", "TDX_EMU_KEYS": pck,
                                          "TDX_EMU_RTMRS": b"".join(rtmrs_from(LOG)).hex()})


def probe(*args, check_rc=True):
    r = subprocess.run([PROBE, "--tsm", mnt.mnt, "--tpm", os.path.join(work, "no-tpm"), *args, RD.hex()],
                       capture_output=True, timeout=120)
    out = json.loads(r.stdout.decode() or "{}")
    out["_rc"], out["_stderr"] = r.returncode, r.stderr.decode()
    if check_rc and r.returncode:
        raise AssertionError(out)
    return out


def p256_pub_pem(xy):
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + xy
    return ossl("pkey", "-pubin", "-inform", "DER", "-outform", "PEM", input=spki)


def der_sig(rs):
    def i(b):
        b = b.lstrip(b"\0") or b"\0"
        return b"\x02" + bytes([len(b) + (b[0] >> 7)]) + (b"\0" if b[0] & 0x80 else b"") + b
    body = i(rs[:32]) + i(rs[32:])
    return b"\x30" + bytes([len(body)]) + body


def verify(pub_pem, sig_der, msg):
    d = tempfile.mkdtemp(dir=work)
    open(f"{d}/k", "wb").write(pub_pem)
    open(f"{d}/s", "wb").write(sig_der)
    open(f"{d}/m", "wb").write(msg)
    return subprocess.run(["openssl", "dgst", "-sha256", "-verify", f"{d}/k", "-signature", f"{d}/s", f"{d}/m"],
                          capture_output=True).returncode == 0


@case
def tdx_quote_and_ccel_log():
    table, log = TABLE, LOG
    out = probe("--acpi", os.path.join(work, "acpi"), "--count", "10")
    check(out["providers"] == ["tdx"], out["providers"])
    ev = out["evidence"][0]
    check(ev["type"] == "tdx" and ev["via"] == "configfs-tsm", ev)
    check(base64.b64decode(ev["ccel_table"]) == table, "CCEL table as sysfs shows it")
    check(base64.b64decode(ev["ccel_log"]) == log, "CCEL log, without the 0xFF-filled unused area")
    state["q"] = base64.b64decode(ev["quote"])
    state["ev"] = ev
    ms = sorted(out["ms"])
    print(f"# tdx (emulated) cost over {len(ms)} quotes: median {ms[len(ms) // 2]:.2f} ms")


@case
def quote_header_body_and_report_data():
    q = state["q"]
    ver, akt, tee = struct.unpack_from("<HHI", q, 0)
    check((ver, akt, tee) == (4, 2, 0x81), (ver, akt, tee))
    check(q[48 + 520:48 + 584] == RD, "TD report REPORT_DATA")


@case
def quote_signature_qe_report_and_pck_chain_verify():
    q = state["q"]
    sd = 48 + 584
    (sdl,) = struct.unpack_from("<I", q, sd)
    check(sd + 4 + sdl == len(q), "signature data length")
    sig, ak = q[sd + 4:sd + 68], q[sd + 68:sd + 132]
    check(verify(p256_pub_pem(ak), der_sig(sig), q[:sd]), "quote signature with the attestation key")
    bad = bytearray(q[:sd])
    bad[48 + 520] ^= 1
    check(not verify(p256_pub_pem(ak), der_sig(sig), bytes(bad)), "changed REPORT_DATA must not verify")
    ctype, csize = struct.unpack_from("<HI", q, sd + 132)
    check(ctype == 6, ctype)
    qe = q[sd + 138:sd + 138 + 384]
    qesig = q[sd + 138 + 384:sd + 138 + 448]
    (alen,) = struct.unpack_from("<H", q, sd + 138 + 448)
    auth = q[sd + 138 + 450:sd + 138 + 450 + alen]
    check(qe[320:352] == hashlib.sha256(ak + auth).digest(), "QE REPORT_DATA binds the attestation key")
    off = sd + 138 + 450 + alen
    ctype5, clen = struct.unpack_from("<HI", q, off)
    chain = q[off + 6:off + 6 + clen]
    check(ctype5 == 5 and off + 6 + clen == len(q), (ctype5, clen))
    d = tempfile.mkdtemp(dir=work)
    certs = [c + b"-----END CERTIFICATE-----\n" for c in chain.split(b"-----END CERTIFICATE-----\n") if c.strip()]
    check(len(certs) == 3, len(certs))
    for n, c in zip(("leaf", "inter", "root"), certs):
        open(f"{d}/{n}.pem", "wb").write(c)
    r = subprocess.run(["openssl", "verify", "-CAfile", f"{d}/root.pem", "-untrusted", f"{d}/inter.pem",
                        f"{d}/leaf.pem"], capture_output=True)
    check(r.returncode == 0, r.stdout + r.stderr)
    leaf_pub = ossl("x509", "-in", f"{d}/leaf.pem", "-noout", "-pubkey")
    check(verify(leaf_pub, der_sig(qesig), qe), "QE report signed by the PCK key")


@case
def sealed_verify_accepts_with_the_test_pck_root_only():
    d = tempfile.mkdtemp(dir=work)
    open(f"{d}/q", "wb").write(state["q"])
    open(f"{d}/ccel", "wb").write(base64.b64decode(state["ev"]["ccel_log"]))
    verify_bin = os.path.join(os.environ.get("SEALED_ROOT", "."), "build/sealed-verify")
    args = [verify_bin, "tdx-quote", f"{d}/q", "--ccel", f"{d}/ccel", "--report-data", RD.hex()]
    r = subprocess.run(args + ["--trust-root", os.path.join(pck, "root.pem")], capture_output=True, text=True)
    check(r.returncode == 0, "\n".join(ln for ln in r.stdout.splitlines() if "✗" in ln or "RESULT" in ln))
    check(any("✓" in ln and "RTMR" in ln for ln in r.stdout.splitlines()), r.stdout[-800:])
    print("\n".join("# " + ln.strip() for ln in r.stdout.splitlines() if "RTMR" in ln)[:600])
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == 1, r.stdout[-600:])


@case
def no_ccel_means_null_log_not_failure():
    out = probe("--acpi", os.path.join(work, "no-acpi"))
    ev = out["evidence"][0]
    check(ev["ccel_log"] is None and ev["ccel_table"] is None, ev)
    check(out["status"][0]["ccel_log"] is False, out["status"])


@case
def snp_providers_stand_down_on_a_tdx_tsm():
    out = probe("--acpi", os.path.join(work, "acpi"), "--sev", os.path.join(work, "no-sev-guest"))
    check(out["providers"] == ["tdx"] and len(out["evidence"]) == 1, out["providers"])
    check(os.listdir(mnt.mnt) == [], "every provider removed its configfs-tsm entry")


try:
    done()
finally:
    mnt.stop()
    shutil.rmtree(work, ignore_errors=True)
