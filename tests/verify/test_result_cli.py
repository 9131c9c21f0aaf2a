"""sealed-verify result, whole binary, on evidence-v1 results made by testgen (the same format the
service signs): every step, the honest line for evidence type none, the policy and pinning flags,
tampering of each bound value, SEV-SNP and TPM evidence with measurements from a build manifest,
the input forms (compact, {"jws":...}, flattened JSON, bare payload) and the RFC 7515 A.3 JWS."""
import base64
import json
import os
import subprocess
from verifylib import TD, TESTGEN, run, run_json, status, failed_ids, gen
from tap import case, check, done


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_enc(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


@case
def none_evidence_is_signed_but_not_attested():
    d, res = gen("--type", "none")
    rc, text = run("result", res)
    check(rc == 1, text)
    check("this result is signed but not hardware-attested" in text)
    check("✓ JWS signature (ES256) verifies with the embedded key" in text)
    check("RESULT: FAIL" in text)
    rc, text = run("result", res, "--allow-unattested")
    check(rc == 0 and "RESULT: PASS (signed only, not hardware-attested)" in text, text)
    check("NOT proven: anything about the hardware" in text)
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(out["ok"] and out["fields"]["summary"]["hardware_attested"] is False)
    for sid in ("jws.signature", "jws.kid", "payload.ver", "payload.fields", "payload.iat", "report_data.payload_a",
                "report_data.payload_b"):
        check(status(st, sid) == "pass", sid)
    check(status(st, "evidence.none") == "warn")


@case
def pinning_signer_key_and_client_id():
    d, res = gen("--type", "none")
    d2, _ = gen("--type", "none")
    rc, out, st = run_json("result", res, "--allow-unattested", "--signer-key", f"{d}/signer.jwk", "--client-id",
                           "AeTestClientId-123")
    check(rc == 0 and status(st, "jws.pinned_key") == "pass" and status(st, "payload.client_id") == "pass")
    rc, out, st = run_json("result", res, "--allow-unattested", "--signer-key", f"{d2}/signer.jwk")
    check(rc == 1 and failed_ids(out) == ["jws.pinned_key"], failed_ids(out))
    rc, out, st = run_json("result", res, "--allow-unattested", "--signer-key", open(f"{d}/signer.jwk").read())
    check(rc == 0, "inline JWK")
    rc, out, st = run_json("result", res, "--allow-unattested", "--client-id", "SomeoneElse")
    check(rc == 1 and failed_ids(out) == ["payload.client_id"], failed_ids(out))


def tamper_payload(res, fn):
    h, p, s = open(res).read().split(".")
    obj = json.loads(b64url_dec(p))
    fn(obj)
    out = res + ".tampered"
    open(out, "w").write(".".join([h, b64url_enc(json.dumps(obj).encode()), s]))
    return out


@case
def tampering_breaks_the_signature():
    d, res = gen("--type", "none")
    for fn in (lambda o: o["paypal"].__setitem__("user_id", "someone-else"),
               lambda o: o.__setitem__("iat", o["iat"] + 1),
               lambda o: o["evidence"].append({"type": "none"})):
        rc, out, st = run_json("result", tamper_payload(res, fn), "--allow-unattested")
        check(rc == 1 and status(st, "jws.signature") == "fail")
    h, p, s = open(res).read().split(".")
    sig = bytearray(b64url_dec(s))
    sig[10] ^= 1
    open(res + ".sig", "w").write(".".join([h, p, b64url_enc(bytes(sig))]))
    rc, out, st = run_json("result", res + ".sig", "--allow-unattested")
    check(rc == 1 and failed_ids(out) == ["jws.signature"], failed_ids(out))


@case
def kid_and_report_data_bindings():
    d, res = gen("--type", "none", "--bad-kid")
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(rc == 1 and failed_ids(out) == ["jws.kid"], failed_ids(out))
    rc, out, st = run_json("result", res, "--allow-unattested", "--allow-kid-mismatch")
    check(rc == 0 and status(st, "jws.kid") == "warn")
    d, res = gen("--type", "none", "--bad-payload-rd")
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(rc == 1 and failed_ids(out) == ["report_data.payload_a"], failed_ids(out))


@case
def iat_in_the_future():
    import time
    d, res = gen("--type", "none", "--iat", int(time.time()) + 3600)
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(rc == 1 and failed_ids(out) == ["payload.iat"], failed_ids(out))
    rc, out, st = run_json("result", res, "--allow-unattested", "--allow-future-iat")
    check(rc == 0 and status(st, "payload.iat") == "warn")
    rc, out, st = run_json("result", res, "--allow-unattested", "--max-skew", "7200")
    check(rc == 0)
    d, res = gen("--type", "none", "--iat", 1700000000)
    rc, out, st = run_json("result", res, "--allow-unattested", "--at", "2023-11-14T22:00:00Z")
    check(rc == 1 and failed_ids(out) == ["payload.iat"], failed_ids(out))
    rc, out, st = run_json("result", res, "--allow-unattested", "--at", "2023-11-14T22:13:20Z")
    check(rc == 0)


@case
def snp_evidence_with_manifest_and_test_root():
    d, res = gen("--type", "sev-snp", "--version", 5)
    meas = open(f"{d}/measurement.hex").read()
    rc, text = run("result", res, "--trust-root", f"{d}/ark.pem", "--manifest", f"{d}/manifest.json")
    check(rc == 0, text)
    check("RESULT: PASS (against a TEST root" in text and "NOT proven: real hardware" in text)
    check(f"launch measurement {meas} equals the manifest's sev-snp.measurements[0].measurement" in text)
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--expect-measurement", meas)
    check(rc == 0 and status(st, "measurement") == "pass")
    check(status(st, "snp.report_data_a") == "pass" and status(st, "snp.report_data_b") == "pass")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--expect-measurement", "00" * 48)
    check(rc == 1 and failed_ids(out) == ["measurement"], failed_ids(out))
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem")
    check(rc == 1 and failed_ids(out) == ["measurement"], failed_ids(out))
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--skip-measurement")
    check(rc == 0 and status(st, "measurement") == "warn")
    # the pinned AMD roots refuse the test chain
    rc, out, st = run_json("result", res, "--expect-measurement", meas)
    check(rc == 1 and "snp.chain.supplied_root" in failed_ids(out), failed_ids(out))
    # without the ARK in the evidence, the pinned root still refuses the test ASK
    d, res = gen("--type", "sev-snp", "--version", 3, "--no-ark")
    rc, out, st = run_json("result", res, "--skip-measurement")
    check(rc == 1 and "snp.chain.intermediate_signed" in failed_ids(out), failed_ids(out))
    rc, out, st = run_json("result", res, "--skip-measurement", "--trust-root", f"{d}/ark.pem")
    check(rc == 0, failed_ids(out))


@case
def manifest_written_by_sealed_measure():
    # the real manifest script (scripts/measure-manifest.sh, sealed-measure) on sev-snp-measure's fixture
    root = TESTGEN.rsplit("/build/", 1)[0]
    fix = os.path.join(TD, "snp-measure-sev-snp-measure", "fixtures", "ovmf_AmdSev_suffix.bin")
    script = os.path.join(root, "scripts", "measure-manifest.sh")
    if not (os.path.exists(script) and os.path.exists(os.path.join(root, "build", "sealed-measure"))):
        return   # sealed-measure is another area's; nothing to check against without it
    p = subprocess.run([script, "--ovmf", fix, "--kernel", "/dev/null", "--initrd", "/dev/null", "--append", "",
                        "--vcpus", "1 4", "--vcpu-types", "EPYC-v4 EPYC-Milan"], cwd=root, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, SEALED_MEASURE=os.path.join(root, "build", "sealed-measure")))
    check(p.returncode == 0, p.stderr[-300:])
    d = os.path.join(os.path.dirname(TESTGEN), "manifest-test")
    os.makedirs(d, exist_ok=True)
    man = os.path.join(d, "build-manifest.json")
    open(man, "w").write(p.stdout)
    m = json.loads(p.stdout)["targets"]["kvm-qemu-sev-snp-direct-boot"]["measurements"]
    want = [x for x in m if x["vcpus"] == 4 and x["vcpu_type"] == "EPYC-v4"][0]["measurement"]
    d, res = gen("--type", "sev-snp", "--version", 3, "--measurement", want)
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--manifest", man)
    check(rc == 0, failed_ids(out))
    text = [x["text"] for x in out["steps"] if x["id"] == "measurement"][0]
    check("targets.kvm-qemu-sev-snp-direct-boot.measurements[" in text, text)
    d, res = gen("--type", "sev-snp", "--version", 3)
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--manifest", man)
    check(rc == 1 and failed_ids(out) == ["measurement"], failed_ids(out))
    # the manifest says why the clouds have no value
    check(status(st, "measurement.none") == "info,info")


@case
def vcek_and_chain_from_the_command_line():
    # a result whose evidence lacks the certificates (e.g. the host gave none): the user supplies them
    d, res = gen("--type", "sev-snp", "--version", 3)
    h, p, s = open(res).read().split(".")
    payload = json.loads(b64url_dec(p))
    for k in ("vcek", "ask", "ark"):
        del payload["evidence"][0][k]
    bare = os.path.join(d, "nocerts.json")
    json.dump(payload, open(bare, "w"))
    base = ["result", bare, "--allow-unsigned", "--trust-root", f"{d}/ark.pem", "--skip-measurement"]
    rc, out, st = run_json(*base)
    check(rc == 1 and "snp.vek" in failed_ids(out), failed_ids(out))
    rc, out, st = run_json(*base, "--vcek", f"{d}/vcek.pem", "--chain", f"{d}/chain.pem")
    check(rc == 0 and status(st, "snp.vek.source") == "info", failed_ids(out))


@case
def snp_report_data_must_match_the_payload():
    d, res = gen("--type", "sev-snp", "--version", 3, "--bad-snp-rd")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--skip-measurement")
    check(rc == 1 and failed_ids(out) == ["snp.report_data_b"], failed_ids(out))
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--skip-measurement",
                           "--allow-report-data-mismatch")
    check(rc == 0)


@case
def snp_policy_flags_apply_to_results():
    d, res = gen("--type", "sev-snp", "--version", 3, "--policy", "b0000")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--skip-measurement")
    check(rc == 1 and failed_ids(out) == ["policy.debug"], failed_ids(out))
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--skip-measurement", "--allow-debug")
    check(rc == 0)


@case
def tpm_evidence():
    d, res = gen("--type", "tpm2")
    root = ["--tpm-ca", f"{d}/tpm_root.pem"]
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", *root)
    check(rc == 0, failed_ids(out))
    for sid in ("tpm.quote.parse", "tpm.signature", "tpm.qualifying_data", "tpm.pcr_digest", "measurement.tpm",
                "tpm.ak_cert.key", "tpm.ak_cert.root"):
        check(status(st, sid) == "pass", sid)
    check(out["fields"]["tpm0"]["ak_root"]["kind"] == "test", out["fields"]["tpm0"]["ak_root"])
    check(out["fields"]["summary"]["hardware_attested"] is False, "a TEST root is not hardware")
    rc, text = run("result", res, "--manifest", f"{d}/manifest.json", *root)
    check(rc == 0 and "RESULT: PASS (against a TEST root" in text, text)
    d, res = gen("--type", "tpm2", "--bad-quote-extra")
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 1 and failed_ids(out) == ["tpm.qualifying_data"], failed_ids(out))
    # the same quote through tpm-quote: a changed PCR value no longer matches the quoted digest
    d, res = gen("--type", "tpm2")
    rd = json.load(open(f"{d}/payload.json"))["report_data"]
    q = ["tpm-quote", "--quote", f"{d}/quote.bin", "--signature", f"{d}/sig.bin", "--ak", f"{d}/ak.pem",
         "--pcrs", f"{d}/pcrs.json", "--allow-unrooted-ak"]
    rc, out, st = run_json(*q, "--report-data", rd)
    check(rc == 0 and status(st, "tpm.ak_cert.root") == "warn", failed_ids(out))
    pcrs = json.load(open(f"{d}/pcrs.json"))
    pcrs["sha256"]["7"] = "00" * 32
    json.dump(pcrs, open(f"{d}/pcrs.json", "w"))
    rc, out, st = run_json(*q, "--report-data", rd)
    check(rc == 1 and failed_ids(out) == ["tpm.pcr_digest"], failed_ids(out))
    rc, out, st = run_json(*q[:-3], "--allow-unrooted-ak", "--report-data", "00" * 64)
    check(rc == 1 and failed_ids(out) == ["tpm.pcr_digest", "tpm.qualifying_data"], failed_ids(out))


@case
def unrooted_tpm_evidence_fails_by_default():
    """Anyone holding a key can make a quote: without a vendor-rooted AK certificate it proves nothing."""
    for extra in ([], ["--no-ak-cert"]):
        d, res = gen("--type", "tpm2", *extra)
        rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json")
        check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], (extra, failed_ids(out)))
        check(out["fields"]["summary"]["hardware_attested"] is False)
        rc, text = run("result", res, "--manifest", f"{d}/manifest.json")
        check(rc == 1 and "nothing ties the AK to a real TPM" in text and "RESULT: FAIL" in text, text)
        rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--allow-unrooted-ak")
        check(rc == 0 and status(st, "tpm.ak_cert.root") == "warn", failed_ids(out))
        check(out["fields"]["summary"]["hardware_attested"] is False, "unrooted is never hardware-attested")
        check(any("not rooted in a vendor CA" in s for s in out["fields"]["summary"]["not_proven"]),
              out["fields"]["summary"])
        rc, text = run("result", res, "--manifest", f"{d}/manifest.json", "--allow-unrooted-ak")
        check(rc == 0 and "RESULT: PASS (--allow-unrooted-ak" in text, text)
    # the chain sent with the evidence does not make a forger's root trusted: only a named root counts
    d, res = gen("--type", "tpm2")
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca",
                           f"{d}/tpm_intermediate.pem")
    check(rc == 0 and out["fields"]["tpm0"]["ak_root"]["kind"] == "test", "an intermediate named as test root")
    d2, _ = gen("--type", "tpm2")
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d2}/tpm_root.pem")
    check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], failed_ids(out))


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@case
def ak_certificate_against_a_ca():
    d, res = gen("--type", "tpm2")
    rd = json.load(open(f"{d}/payload.json"))["report_data"]
    for name in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=test {name}", "-days", "30", cwd=d)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "x.key",
            "-out", "ak.csr", "-subj", "/CN=test AK", cwd=d)
    openssl("x509", "-req", "-in", "ak.csr", "-force_pubkey", "ak.pem", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-days", "30", "-out", "akcert.pem", cwd=d)
    q = ["tpm-quote", "--quote", f"{d}/quote.bin", "--signature", f"{d}/sig.bin", "--pcrs", f"{d}/pcrs.json",
         "--report-data", rd, "--ak", f"{d}/akcert.pem"]
    rc, out, st = run_json(*q, "--tpm-ca", f"{d}/ca.pem")
    check(rc == 0 and status(st, "tpm.ak_cert.key") == "pass" and status(st, "tpm.ak_cert.root") == "pass",
          failed_ids(out))
    rc, out, st = run_json(*q, "--tpm-ca", f"{d}/other.pem")
    check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], failed_ids(out))
    rc, out, st = run_json(*q)
    check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], failed_ids(out))
    rc, out, st = run_json(*q, "--allow-unrooted-ak")
    check(rc == 0 and status(st, "tpm.ak_cert.root") == "warn", failed_ids(out))


@case
def snp_and_tpm_together():
    d, res = gen("--type", "sev-snp+tpm2", "--version", 3)
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--manifest", f"{d}/manifest.json",
                           "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 0, failed_ids(out))
    check(out["fields"]["summary"]["hardware_attested"] is False, "TEST roots are not hardware")
    rc, out, st = run_json("result", res, "--trust-root", f"{d}/ark.pem", "--manifest", f"{d}/manifest.json")
    check(rc == 1 and failed_ids(out) == ["tpm.ak_cert.root"], failed_ids(out))
    check("snp0" in out["fields"] and "tpm1" in out["fields"])


@case
def trust_statement_claims_no_more_than_proven():
    d, res = gen("--type", "tpm2")
    args = ["--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem"]
    rc, out, st = run_json("result", res, *args)
    check(rc == 0 and status(st, "trust.statement") == "pass", failed_ids(out))
    check(out["fields"]["trust_proved"] == "gce-vtpm-google-rooted", out["fields"].get("trust_proved"))
    # an unrooted AK that claims to be Google-rooted: more than proven, even with --allow-unrooted-ak
    d, res = gen("--type", "tpm2", "--no-ak-cert", "--trust", "gce-vtpm-google-rooted")
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--allow-unrooted-ak")
    check(rc == 1 and failed_ids(out) == ["trust.statement"], failed_ids(out))
    rc, text = run("result", res, "--manifest", f"{d}/manifest.json", "--allow-unrooted-ak")
    check("claims gce-vtpm-google-rooted, but the checks above prove only vtpm-unrooted" in text, text)
    # the honest claim passes; claiming less than proven is fine too
    d, res = gen("--type", "tpm2", "--no-ak-cert", "--trust", "oci-vtpm-unrooted")
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--allow-unrooted-ak")
    check(rc == 0 and status(st, "trust.statement") == "pass", failed_ids(out))
    # another kind, too many items, unknown names
    for bad in ("snp-measured-direct-boot", "none+none", "vtpm-rooted-by-me"):
        d, res = gen("--type", "none", "--trust", bad)
        rc, out, st = run_json("result", res, "--allow-unattested")
        check(rc == 1 and failed_ids(out) == ["trust.statement"], (bad, failed_ids(out)))
    # a result from before trust statements: said, not failed
    d, res = gen("--type", "none", "--no-trust")
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(rc == 0 and status(st, "trust.statement") == "info" and status(st, "payload.source") == "info", failed_ids(out))


@case
def snp_claiming_measured_boot_needs_the_measurement():
    d, res = gen("--type", "sev-snp")
    root = ["--trust-root", f"{d}/ark.pem"]
    rc, out, st = run_json("result", res, *root, "--manifest", f"{d}/manifest.json")
    check(rc == 0 and status(st, "trust.statement") == "pass", failed_ids(out))
    rc, out, st = run_json("result", res, *root, "--skip-measurement")
    check(rc == 0 and status(st, "trust.statement") == "warn", failed_ids(out))


@case
def gce_confidential_vm_snp_firmware_plus_rooted_vtpm():
    """GCE's SNP report measures Google's firmware: it is checked as genuine and bound, its
    measurement is reported as firmware, and the image is proven by the Google-rooted vTPM quote."""
    d, res = gen("--type", "sev-snp+tpm2", "--measurement", "ab" * 48, "--trust",
                 "gce-snp-firmware+gce-vtpm-google-rooted")
    man = json.load(open(f"{d}/manifest.json"))
    man["sev-snp"]["measurements"][0]["measurement"] = "cd" * 48   # our image: not what Google's firmware gives
    json.dump(man, open(f"{d}/manifest.json", "w"))
    args = ["--trust-root", f"{d}/ark.pem", "--tpm-ca", f"{d}/tpm_root.pem", "--manifest", f"{d}/manifest.json"]
    rc, out, st = run_json("result", res, *args)
    check(rc == 0, failed_ids(out))
    check(status(st, "measurement.firmware") == "info" and status(st, "measurement.tpm") == "pass", st)
    check(status(st, "trust.statement") == "pass" and "measurement" not in st, st)
    # the same report claimed as measured direct boot must match the manifest, and does not
    d2, res2 = gen("--type", "sev-snp+tpm2", "--measurement", "ab" * 48)
    json.dump(man, open(f"{d2}/manifest.json", "w"))
    rc, out, st = run_json("result", res2, "--trust-root", f"{d2}/ark.pem", "--tpm-ca", f"{d2}/tpm_root.pem",
                           "--manifest", f"{d2}/manifest.json")
    check(rc == 1 and "measurement" in failed_ids(out), failed_ids(out))
    # firmware-only SNP with an unrooted vTPM: nothing proves the image
    d3, res3 = gen("--type", "sev-snp+tpm2", "--no-ak-cert", "--trust", "gce-snp-firmware+vtpm-unrooted")
    rc, out, st = run_json("result", res3, "--trust-root", f"{d3}/ark.pem", "--manifest", f"{d3}/manifest.json",
                           "--allow-unrooted-ak")
    check(rc == 1 and failed_ids(out) == ["measurement.image"], failed_ids(out))
    rc, out, st = run_json("result", res3, "--trust-root", f"{d3}/ark.pem", "--manifest", f"{d3}/manifest.json",
                           "--allow-unrooted-ak", "--skip-measurement")
    check(rc == 0 and out["fields"]["summary"]["hardware_attested"] is False, failed_ids(out))
    check(any("which image ran" in x for x in out["fields"]["summary"]["not_proven"]), out["fields"]["summary"])
    # a genuine SNP report of any VM, called firmware: nothing compared, so it must not pass by itself
    d4, res4 = gen("--type", "sev-snp", "--trust", "gce-snp-firmware")
    rc, out, st = run_json("result", res4, "--trust-root", f"{d4}/ark.pem", "--manifest", f"{d4}/manifest.json")
    check(rc == 1 and failed_ids(out) == ["measurement.image"], failed_ids(out))


@case
def source_commit_and_command_line_against_the_manifest():
    d, res = gen("--type", "tpm2")
    args = ["--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem"]
    rc, out, st = run_json("result", res, *args)
    check(rc == 0 and status(st, "payload.source_commit") == "pass" and status(st, "payload.kernel_cmdline") == "pass",
          failed_ids(out))
    check(any("built from commit 0123456789abcdef0123456789abcdef01234567 with kernel command line "
              "\"console=ttyS0 sealed.test=1\"" in x for x in out["fields"]["summary"]["proven"]), out["fields"]["summary"])
    d, res = gen("--type", "tpm2", "--manifest-commit", "f" * 40)
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 1 and failed_ids(out) == ["payload.source_commit"], failed_ids(out))
    man = json.load(open(f"{d}/manifest.json"))
    man["source"]["git_commit"] = "0123456789abcdef0123456789abcdef01234567"
    man["cmdline"] = "console=ttyS0 sealed.test=2"
    json.dump(man, open(f"{d}/manifest.json", "w"))
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 1 and failed_ids(out) == ["payload.kernel_cmdline"], failed_ids(out))
    dirty = "0123456789abcdef0123456789abcdef01234567+dirty"
    d, res = gen("--type", "tpm2", "--source-commit", dirty)
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem")
    check(rc == 1 and failed_ids(out) == ["manifest.dirty"], failed_ids(out))
    rc, out, st = run_json("result", res, "--manifest", f"{d}/manifest.json", "--tpm-ca", f"{d}/tpm_root.pem",
                           "--allow-dirty")
    check(rc == 0 and status(st, "manifest.dirty") == "warn", failed_ids(out))


@case
def input_forms():
    d, res = gen("--type", "none")
    jws = open(res).read()
    h, p, s = jws.split(".")
    wrapped = os.path.join(d, "wrapped.json")
    json.dump({"jws": jws}, open(wrapped, "w"))
    flat = os.path.join(d, "flat.json")
    json.dump({"protected": h, "payload": p, "signature": s}, open(flat, "w"))
    nl = os.path.join(d, "newline.jws")
    open(nl, "w").write("\n" + jws + "\n")
    for f, form in ((wrapped, "JSON with a compact JWS"), (flat, "flattened JSON JWS"), (nl, "compact JWS")):
        rc, out, st = run_json("result", f, "--allow-unattested")
        check(rc == 0, f)
        check(form in out["steps"][0]["text"])
    bare = os.path.join(d, "payload.json")
    rc, out, st = run_json("result", bare, "--allow-unattested")
    check(rc == 1 and failed_ids(out) == ["jws.signature"], failed_ids(out))
    # the bare payload: only binding_a is recomputable, as the original specification's verifier does
    rc, out, st = run_json("result", bare, "--allow-unattested", "--allow-unsigned")
    check(rc == 0 and status(st, "jws.signature") == "warn" and status(st, "report_data.payload_a") == "pass")
    check(status(st, "report_data.payload_b") == "info")
    check(any("without its JWS" in x for x in out["fields"]["summary"]["not_proven"]))
    d2, res2 = gen("--type", "sev-snp", "--version", 3, "--user-id", "alice")
    p2 = json.load(open(f"{d2}/payload.json"))
    rc, out, st = run_json("result", f"{d2}/payload.json", "--allow-unsigned", "--trust-root", f"{d2}/ark.pem",
                           "--skip-measurement")
    check(rc == 0 and status(st, "snp.report_data_a") == "pass", failed_ids(out))
    p2["paypal"]["user_id"] = p2["paypal"]["userinfo"]["user_id"] = "mallory"
    json.dump(p2, open(f"{d2}/forged.json", "w"))
    rc, out, st = run_json("result", f"{d2}/forged.json", "--allow-unsigned", "--trust-root", f"{d2}/ark.pem",
                           "--skip-measurement")
    check(rc == 1 and "snp.report_data_a" in failed_ids(out), failed_ids(out))
    junk = os.path.join(d, "junk")
    open(junk, "w").write("not.a.jws")
    rc, out, st = run_json("result", junk)
    check(rc == 1 and status(st, "jws.parse") == "fail")
    rc, text = run("result", "/nonexistent")
    check(rc == 2)
    rc, text = run("result", res, "--expect-measurement", "xyz")
    check(rc == 2)


@case
def rfc7515_a3_verifies_with_pinned_key():
    t = os.path.join(TD, "jose-rfc7515-a3-es256")
    rc, out, st = run_json("result", f"{t}/compact_jws.txt", "--signer-key", f"{t}/jwk_public.json")
    check(status(st, "jws.signature") == "pass" and status(st, "jws.pinned_key") == "pass")
    check(rc == 1 and "payload.ver" in failed_ids(out))   # it is a JWS, not a sealed-login result
    # one changed character of the payload breaks it
    h, p, s = open(f"{t}/compact_jws.txt").read().split(".")
    bad = os.path.join(os.path.dirname(TESTGEN), "a3-bad.txt")
    open(bad, "w").write(".".join([h, p[:-1] + ("A" if p[-1] != "A" else "B"), s]))
    rc, out, st = run_json("result", bad, "--signer-key", f"{t}/jwk_public.json")
    check(status(st, "jws.signature") == "fail" or status(st, "jws.parse") == "fail")


@case
def hostile_strings_cannot_forge_output_lines():
    evil = "x\n  \u2713 forged: hardware attested\x1b[1A\u202e"
    d, res = gen("--type", "none", "--user-id", evil)
    rc, text = run("result", res, "--allow-unattested")
    check(rc == 0)
    for line in text.splitlines():
        check("forged" not in line or "user" in line or "PayPal" in line, line)
    check("\x1b" not in text and "\u202e" not in text)
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(out["fields"]["payload"]["paypal"]["user_id"] == evil)   # JSON keeps the exact bytes


@case
def development_paypal_stand_in_is_said_plainly():
    d, res = gen("--type", "none", "--env", "local")
    rc, out, st = run_json("result", res, "--allow-unattested")
    check(rc == 0 and status(st, "payload.env") == "info")
    check(any("PayPal vouched" in s for s in out["fields"]["summary"]["not_proven"]))


done()
