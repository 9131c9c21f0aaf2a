"""sealed-verify tdx-quote and TDX evidence in results, whole binary: DCAP v4 and v5 quotes from
testgen (a TEST PCK chain, as the service's TDX provider's emulator uses), accepted only with an
explicit --trust-root; every signature, the QE binding, REPORTDATA, debug policy, the CCEL replay
to the RTMRs and the MRTD against a manifest; tampering anywhere fails."""
import json
import os
from verifylib import TD, run, run_json, status, failed_ids, gen
from tap import case, check, done

STEPS = ["tdx.parse", "tdx.signature", "tdx.qe_binding", "tdx.qe_signature", "tdx.pck_chain", "policy.tdx_debug",
         "tdx.ccel.replay"]


def flip(path, off, out):
    b = bytearray(open(path, "rb").read())
    b[off] ^= 1
    open(out, "wb").write(b)
    return out


@case
def v4_and_v5_quotes_verify_with_the_test_root_only():
    for v in (4, 5):
        d, _ = gen("--type", "tdx", "--tdx-version", v)
        rc, out, st = run_json("tdx-quote", f"{d}/tdx_quote.bin", "--ccel", f"{d}/ccel.bin", "--trust-root",
                               f"{d}/tdx_root.pem")
        check(rc == 0, f"v{v}: {failed_ids(out)}")
        for sid in STEPS:
            check(status(st, sid) == "pass", f"v{v} {sid}")
        check(status(st, "tdx.root") == "warn")
        check(out["fields"]["quote"]["version"] == v)
        check(out["fields"]["quote"]["body"] == ("TDX 1.5" if v == 5 else "TDX 1.0"))
        rc, out, st = run_json("tdx-quote", f"{d}/tdx_quote.bin", "--ccel", f"{d}/ccel.bin")
        check(rc == 1 and failed_ids(out) == ["tdx.pck_chain"], failed_ids(out))


@case
def tampering_fails():
    d, _ = gen("--type", "tdx")
    q = f"{d}/tdx_quote.bin"
    args = ["--ccel", f"{d}/ccel.bin", "--trust-root", f"{d}/tdx_root.pem"]
    # header, TD report (MRTD, an RTMR, REPORTDATA): the quote signature
    for off in (20, 48 + 136, 48 + 328, 48 + 520):
        rc, out, st = run_json("tdx-quote", flip(q, off, f"{d}/f.bin"), *args)
        check(rc == 1 and "tdx.signature" in failed_ids(out), f"0x{off:x}: {failed_ids(out)}")
    # the quote signature itself, the attestation key, the QE report, its signature
    base = 48 + 584 + 4
    for off, want in ((base + 3, "tdx.signature"), (base + 64 + 5, "tdx.signature"), (base + 128 + 6 + 10, "tdx.qe_signature"),
                      (base + 128 + 6 + 384 + 3, "tdx.qe_signature")):
        rc, out, st = run_json("tdx-quote", flip(q, off, f"{d}/f.bin"), *args)
        check(rc == 1 and want in failed_ids(out), f"0x{off:x}: {failed_ids(out)}")
    # the QE authentication data (binds the attestation key)
    rc, out, st = run_json("tdx-quote", flip(q, base + 128 + 6 + 384 + 64 + 2 + 1, f"{d}/f.bin"), *args)
    check(rc == 1 and failed_ids(out) == ["tdx.qe_binding"], failed_ids(out))
    # a cut quote
    b = open(q, "rb").read()
    open(f"{d}/cut.bin", "wb").write(b[:-10])
    rc, out, st = run_json("tdx-quote", f"{d}/cut.bin", *args)
    check(rc == 1 and failed_ids(out) == ["tdx.parse"], failed_ids(out))
    # another TD's log
    d2, _ = gen("--type", "tdx")
    ccel = bytearray(open(f"{d2}/ccel.bin", "rb").read())
    ccel[-3] ^= 1   # event data: does not change the replay
    open(f"{d2}/ccel-data.bin", "wb").write(ccel)
    rc, out, st = run_json("tdx-quote", q, "--ccel", f"{d2}/ccel-data.bin", "--trust-root", f"{d}/tdx_root.pem")
    check(rc == 0, "event data is not measured; the digests are")
    ccel = bytearray(open(f"{d}/ccel.bin", "rb").read())
    ccel[len(ccel) - 6 - 48] ^= 1   # inside the last event's SHA-384 digest
    open(f"{d}/ccel-bad.bin", "wb").write(ccel)
    rc, out, st = run_json("tdx-quote", q, "--ccel", f"{d}/ccel-bad.bin", "--trust-root", f"{d}/tdx_root.pem")
    check(rc == 1 and failed_ids(out) == ["tdx.ccel.replay"], failed_ids(out))


@case
def debug_td_and_report_data():
    d, _ = gen("--type", "tdx", "--tdx-debug")
    args = [f"{d}/tdx_quote.bin", "--trust-root", f"{d}/tdx_root.pem"]
    rc, out, st = run_json("tdx-quote", *args)
    check(rc == 1 and failed_ids(out) == ["policy.tdx_debug"], failed_ids(out))
    rc, out, st = run_json("tdx-quote", *args, "--allow-debug")
    check(rc == 0 and status(st, "policy.tdx_debug") == "warn")
    rd = json.load(open(f"{d}/payload.json"))["report_data"]
    rc, out, st = run_json("tdx-quote", *args, "--allow-debug", "--report-data", rd)
    check(rc == 0 and status(st, "tdx.report_data") == "pass")
    rc, out, st = run_json("tdx-quote", *args, "--allow-debug", "--report-data", "00" * 64)
    check(rc == 1 and failed_ids(out) == ["tdx.report_data"])


@case
def tdx_results():
    d, res = gen("--type", "tdx")
    rc, text = run("result", res, "--trust-root", f"{d}/tdx_root.pem", "--manifest", f"{d}/manifest.json")
    check(rc == 0 and "equals the manifest's tdx.mrtd" in text, text[-600:])
    check("NOT proven: that the TDX module and quoting enclave are up to date" in text)
    mrtd = open(f"{d}/measurement.hex").read() if os.path.exists(f"{d}/measurement.hex") else None
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/tdx_root.pem", "--expect-measurement", "00" * 48)
    check(rc == 1 and failed_ids(out) == ["measurement"], failed_ids(out))
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json")
    check(rc == 1 and failed_ids(out) == ["tdx.pck_chain"], failed_ids(out))
    d, res = gen("--type", "tdx", "--bad-snp-rd")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/tdx_root.pem", "--skip-measurement")
    check(rc == 1 and failed_ids(out) == ["tdx.report_data_b"], failed_ids(out))
    # TDX and TPM evidence together (GCP c3 carries both)
    d, res = gen("--type", "tdx+tpm2")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/tdx_root.pem", "--manifest", f"{d}/manifest.json",
                           "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 0 and out["fields"]["summary"]["hardware_attested"] is False, failed_ids(out))


@case
def intel_root_is_not_anyones_chain():
    # the pinned Intel root does not accept the test chain even when the test chain names itself like Intel
    d, _ = gen("--type", "tdx")
    rc, text = run("tdx-quote", f"{d}/tdx_quote.bin")
    check(rc == 1 and "does not chain to the Intel SGX Root CA" in text, text)


done()
