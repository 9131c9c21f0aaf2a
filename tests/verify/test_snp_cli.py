"""sealed-verify snp-report, whole binary: the real Milan reports in ../shared/testdata against
their VCEKs and AMD's pinned chains (fields, single-bit flips, cross-report and cross-product
cases), and structurally exact test reports (versions 2, 3, 5; Milan, Genoa, Turin; VCEK and VLEK)
from testgen, accepted only with an explicit --trust-root."""
import json
import os
from verifylib import TD, run, run_json, status, failed_ids, gen
from tap import case, check, done

GO = os.path.join(TD, "snp-reports-go-sev-guest")
VI = os.path.join(TD, "snp-reports-virtee-sev")
CH = os.path.join(TD, "amd-kds-cert-chains")
CRYPTO = ["snp.signature", "snp.chain.root_self_signed", "snp.chain.intermediate_signed", "snp.chain.vek_signed",
          "snp.tcb", "snp.hwid"]


@case
def go_sev_guest_crypto_passes_policy_fails():
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--vcek", f"{GO}/vcek.der", "--chain",
                           f"{GO}/milan_cert_chain.pem")
    for sid in CRYPTO:
        check(status(st, sid) == "pass", sid)
    check(status(st, "snp.chain.supplied_root") == "pass")
    # this report was made with debug allowed (policy 0xb0000) and an old TCB
    check(rc == 1 and failed_ids(out) == ["policy.debug", "policy.min_launch_tcb", "policy.min_tcb"], failed_ids(out))


@case
def go_sev_guest_passes_with_named_overrides():
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--vcek", f"{GO}/vcek.der", "--allow-debug",
                           "--min-tcb", "bl=2,tee=0,snp=5,ucode=68")
    check(rc == 0, failed_ids(out))
    check(status(st, "policy.debug") == "warn")


@case
def fields_match_expected_json():
    for d, rep, vcek in ((GO, "attestation.bin", "vcek.der"), (VI, "report_milan.hex", "vcek_milan.der")):
        exp = json.load(open(f"{d}/expected.json"))[0]["report_fields"]
        rc, out, st = run_json("snp-report", f"{d}/{rep}", "--vcek", f"{d}/{vcek}", "--allow-debug")
        f = out["fields"]["report"]
        for k in ("report_data", "measurement", "host_data", "chip_id", "report_id", "report_id_ma", "family_id",
                  "image_id", "id_key_digest", "author_key_digest", "policy", "platform_info"):
            check(f[k] == exp[k], k)
        check(f["version"] == exp["version"] and f["vmpl"] == exp["vmpl"])
        check(f["signature_r"] == exp["sig_r"] and f["signature_s"] == exp["sig_s"])
        for t in ("reported_tcb", "committed_tcb", "launch_tcb", "current_tcb"):
            for k in ("raw", "bootloader", "tee", "snp", "microcode"):
                check(f[t][k] == exp[t][k], f"{t}.{k}")
        check(f["product"] == "Milan")


# the real Milan reports in testdata are from 2023 (bl=3 snp=8 ucode=115): below AMD's current floor
OLD_MILAN = ("--min-tcb", "bl=3,tee=0,snp=8,ucode=115")


@case
def virtee_report_fails_the_bulletin_floor_and_passes_with_its_own_tcb():
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der")
    check(rc == 1 and failed_ids(out) == ["policy.min_launch_tcb", "policy.min_tcb"], failed_ids(out))
    txt = [s["text"] for s in out["steps"] if s["id"] == "policy.min_tcb"][0]
    check("AMD-SB-3030" in txt and "Milan (B1)" in txt and "snp 8 < 29" in txt and "microcode 115 < 222" in txt, txt)
    rc, text = run("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", *OLD_MILAN)
    check(rc == 0, text)
    check("✓ report signature (ECDSA P-384, bytes 0x000-0x29F) verifies with the VCEK key" in text)
    check("trust root: AMD ARK-Milan pinned" in text and "RESULT: PASS" in text)
    check("measurement: 7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f" in text)


def flipped(src, off, bit, tmp):
    b = bytearray(open(src, "rb").read())
    b[off] ^= 1 << bit
    p = os.path.join(tmp, f"flip-{off:x}-{bit}.bin")
    open(p, "wb").write(b)
    return p


@case
def single_bit_flips_fail_through_the_binary():
    import tempfile
    tmp = tempfile.mkdtemp()
    # signed area (start, REPORT_DATA, measurement, chip id, last byte) and R and S
    for off, bit in ((0x00, 0), (0x08, 3), (0x50, 7), (0x90, 1), (0x1A0, 5), (0x29F, 7), (0x2A0, 0), (0x2E7, 6),
                     (0x2E8, 0), (0x32F, 7)):
        rc, out, st = run_json("snp-report", flipped(f"{GO}/attestation.bin", off, bit, tmp), "--vcek", f"{GO}/vcek.der",
                               "--allow-debug", "--min-tcb", "bl=2,tee=0,snp=5,ucode=68", "--allow-unknown-version")
        check(rc == 1, f"flip at 0x{off:x} bit {bit} passed")
        check(status(st, "snp.signature") == "fail" or status(st, "snp.parse") == "fail", f"0x{off:x}")
    # the unsigned tail does not take part in the signature
    rc, out, st = run_json("snp-report", flipped(f"{GO}/attestation.bin", 0x400, 0, tmp), "--vcek", f"{GO}/vcek.der",
                           "--allow-debug", "--min-tcb", "bl=2,tee=0,snp=5,ucode=68")
    check(rc == 0 and status(st, "snp.signature") == "pass")


@case
def cross_report_vcek_fails():
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin", "--vcek", f"{VI}/vcek_milan.der", "--allow-debug")
    check(rc == 1)
    check(status(st, "snp.signature") == "fail" and status(st, "snp.hwid") == "fail" and status(st, "snp.tcb") == "fail")
    check(status(st, "snp.chain.vek_signed") == "pass")   # the other VCEK is still AMD's


@case
def cross_product_fails():
    # Milan report + VCEK under the Genoa chain
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--product", "Genoa")
    check(rc == 1 and status(st, "snp.chain.vek_signed") == "fail", failed_ids(out))
    check("snp.product" in failed_ids(out))
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--chain",
                           f"{CH}/ask_ark_genoa.pem")
    check(rc == 1 and status(st, "snp.chain.supplied_root") == "fail")
    # a Milan VCEK presented as a VLEK: the report says VCEK, the chain's ASVK does not sign it
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--product", "Turin")
    check(rc == 1 and status(st, "snp.chain.vek_signed") == "fail")


@case
def validity_time_is_checked():
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--at",
                           "2031-01-01T00:00:00Z")
    check(rc == 1 and "fail" in status(st, "snp.chain.validity"))
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--at",
                           "2024-01-01T00:00:00Z", *OLD_MILAN)
    check(rc == 0)


@case
def report_data_flag():
    rd = "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd"
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--report-data", rd,
                           *OLD_MILAN)
    check(rc == 0 and status(st, "snp.report_data") == "pass")
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--report-data",
                           "00" * 64)
    check(rc == 1 and status(st, "snp.report_data") == "fail")


@case
def bad_inputs():
    rc, out, st = run_json("snp-report", f"{GO}/vcek.der", "--vcek", f"{GO}/vcek.der")
    check(rc == 1 and status(st, "snp.parse") == "fail")
    rc, text = run("snp-report", "/nonexistent/report.bin")
    check(rc == 2 and "cannot open" in text)
    rc, text = run("snp-report", f"{GO}/attestation.bin", "--product", "Naples")
    check(rc == 2)
    rc, out, st = run_json("snp-report", f"{GO}/attestation.bin")
    check(rc == 1 and status(st, "snp.vek") == "fail")


def gen_matrix():
    for version in (2, 3, 5):
        for product in ("milan", "genoa", "turin"):
            for signer in ("vcek", "vlek"):
                yield version, product, signer


@case
def test_chain_reports_all_layouts_need_trust_root():
    for version, product, signer in gen_matrix():
        d, _ = gen("--type", "sev-snp", "--version", version, "--product", product, "--signer", signer)
        vek = ["--vlek", f"{d}/vlek.pem"] if signer == "vlek" else ["--vcek", f"{d}/vcek.pem"]
        args = ["snp-report", f"{d}/report.bin", *vek, "--chain", f"{d}/chain.pem"]
        if version == 2:
            args += ["--product", product]   # version 2 reports carry no CPUID
        rc, out, st = run_json(*args, "--trust-root", f"{d}/ark.pem")
        check(rc == 0, f"{version} {product} {signer}: {failed_ids(out)}")
        check(status(st, "snp.chain.root") == "warn")
        check(out["fields"]["report"]["product"] == product.capitalize())
        if product == "turin":
            check(out["fields"]["report"]["reported_tcb"]["fmc"] == 1)
        check(out["fields"]["report"]["signing_key"] == signer.upper())
        rc, out, st = run_json(*args)
        check(rc == 1 and status(st, "snp.chain.supplied_root") == "fail", f"{version} {product} {signer} accepted without root")


@case
def a_test_root_does_not_stop_real_amd_chains():
    d, _ = gen("--type", "sev-snp", "--version", 3)
    rc, out, st = run_json("snp-report", f"{VI}/report_milan.hex", "--vcek", f"{VI}/vcek_milan.der", "--trust-root",
                           f"{d}/ark.pem", *OLD_MILAN)
    check(rc == 0 and status(st, "snp.chain.root") == "info", failed_ids(out))
    # and a test root never vouches for a chain it did not sign
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--chain", f"{d}/chain.pem",
                           "--trust-root", f"{CH}/ask_ark_milan.pem")
    check(rc == 1 and "snp.chain.supplied_root" in failed_ids(out), failed_ids(out))


@case
def certificate_table_input():
    d, _ = gen("--type", "sev-snp", "--version", 5)
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--certs", f"{d}/certs.bin", "--trust-root", f"{d}/ark.pem")
    check(rc == 0, failed_ids(out))
    check(status(st, "snp.cert_table") == "pass" and status(st, "snp.cert_table.entry") == "info,info,info")


@case
def guest_policy_checks():
    d, _ = gen("--type", "sev-snp", "--version", 3, "--policy", "b0000", "--vmpl", 1)
    base = ["snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--trust-root", f"{d}/ark.pem", "--chain",
            f"{d}/chain.pem"]
    rc, out, st = run_json(*base)
    check(rc == 1 and failed_ids(out) == ["policy.debug", "policy.vmpl"], failed_ids(out))
    rc, out, st = run_json(*base, "--allow-debug", "--vmpl", "1")
    check(rc == 0, failed_ids(out))
    d, _ = gen("--type", "sev-snp", "--version", 3, "--policy", "70000")
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--trust-root", f"{d}/ark.pem")
    check(rc == 1 and failed_ids(out) == ["policy.migration_agent", "snp.chain.vek_signed"], failed_ids(out))
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--trust-root", f"{d}/ark.pem",
                           "--chain", f"{d}/chain.pem")
    check(rc == 1 and failed_ids(out) == ["policy.migration_agent"], failed_ids(out))
    d, _ = gen("--type", "sev-snp", "--version", 3, "--signer", "vlek")
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vlek", f"{d}/vlek.pem", "--chain", f"{d}/chain.pem",
                           "--trust-root", f"{d}/ark.pem", "--signer", "vcek")
    check(rc == 1 and failed_ids(out) == ["policy.signer"], failed_ids(out))
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vlek", f"{d}/vlek.pem", "--chain", f"{d}/chain.pem",
                           "--trust-root", f"{d}/ark.pem", "--min-tcb", "bl=3,tee=0,snp=30,ucode=115")
    check(rc == 1 and failed_ids(out) == ["policy.min_launch_tcb", "policy.min_tcb"], failed_ids(out))
    # the VCEK's hwID must be the report's CHIP_ID (a report with a masked chip id does not match)
    d, _ = gen("--type", "sev-snp", "--version", 3)
    d2, _ = gen("--type", "sev-snp", "--version", 3, "--chip-zero")
    rc, out, st = run_json("snp-report", f"{d2}/report.bin", "--vcek", f"{d}/vcek.pem", "--chain", f"{d}/chain.pem",
                           "--trust-root", f"{d}/ark.pem")
    check(rc == 1 and "snp.hwid" in failed_ids(out) and "snp.signature" in failed_ids(out), failed_ids(out))
    # and the trust root file may carry the intermediate too
    both = os.path.join(d, "both.pem")
    open(both, "w").write(open(f"{d}/chain.pem").read())
    rc, out, st = run_json("snp-report", f"{d}/report.bin", "--vcek", f"{d}/vcek.pem", "--trust-root", both)
    check(rc == 0, failed_ids(out))


done()
