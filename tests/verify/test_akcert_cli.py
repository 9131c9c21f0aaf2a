"""sealed-verify tpm-ak-cert, whole binary, on Google's real GCE AK/EK certificates
(../shared/testdata/gcp-vtpm-ak-ca): each chains to the pinned EK/AK CA Root and names its GCE
instance; one flipped byte anywhere in the TBS or the signature fails; a forged intermediate with
Google's names, sent along as a chain, does not make a forger's certificate rooted; a TEST root is
labelled as one. Also: --help on every command, --version."""
import base64
import json
import os
import subprocess
import tempfile
from verifylib import TD, BIN, run, run_json, status, failed_ids
from tap import case, check, done

CERTS = os.path.join(TD, "gcp-vtpm-ak-ca", "ak-certs")
CA = os.path.join(TD, "gcp-vtpm-ak-ca", "ca")
work = tempfile.mkdtemp(prefix="sv-akcert-")


def der_of(pem_path):
    text = open(pem_path).read()
    b64 = "".join(text.split("-----")[2].split())
    return base64.b64decode(b64)


@case
def every_real_gce_certificate_is_rooted_and_names_its_instance():
    names = sorted(os.listdir(CERTS))
    check(len(names) == 4, names)
    for n in names:
        rc, out, st = run_json("tpm-ak-cert", os.path.join(CERTS, n))
        check(rc == 0 and status(st, "akcert.root") == "pass", (n, failed_ids(out)))
        c = out["fields"]["certificate"]
        check(c["root"]["kind"] == "vendor" and c["root"]["root"] == "Google EK/AK CA Root", c["root"])
        g = c["gce_instance"]
        check(g["zone"] == "us-central1-a" and g["instance_name"] == "cs-debug-pca"
              and g["instance_id"] == "218557372616137117" and g["project_id"] == "google.com:wuale-gcp-testing", g)
        check(g["security_properties"]["is_production"] is True, g)
    rc, text = run("tpm-ak-cert", os.path.join(CERTS, names[0]))
    check("RESULT: PASS - a vendor CA certified this TPM key" in text and "GCE instance cs-debug-pca" in text, text)


@case
def the_pinned_intermediates_chain_to_their_own_roots():
    for n, root in (("gcp_ek_ak_ca_intermediate_v3.crt", "Google EK/AK CA Root"),
                    ("tpm_ek_intermediate_2.crt", "Google tpm_ek_v1_cloud_host_root"),
                    ("tpm_ek_intermediate_3.crt", "Google tpm_ek_v1_cloud_host_root")):
        rc, out, st = run_json("tpm-ak-cert", os.path.join(CA, n))
        check(rc == 0 and out["fields"]["certificate"]["root"]["root"] == root, (n, out["fields"]))


@case
def one_flipped_byte_in_tbs_or_signature_fails():
    der = der_of(os.path.join(CERTS, "pca_tpm_ecc_sign_cert.pem"))
    # certificate SEQUENCE header (4 bytes), then the TBS SEQUENCE (its length from its header)
    tbs_len = int.from_bytes(der[6:8], "big") + 4
    tbs = range(4 + 4, 4 + tbs_len)                   # inside the TBS, past its header
    sig = range(len(der) - 256, len(der))             # the RSA-2048 signature value
    tried = 0
    for i in list(tbs)[::4] + list(sig)[::4]:
        bad = bytearray(der)
        bad[i] ^= 0x01
        p = os.path.join(work, "bad.der")
        open(p, "wb").write(bytes(bad))
        r = subprocess.run([BIN, "tpm-ak-cert", p], capture_output=True, text=True, timeout=30)
        tried += 1
        if r.returncode == 0:
            check(False, f"byte {i} flipped still passes: {r.stdout[-400:]}")
            return
    check(tried > 250, tried)


def openssl(*args):
    subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)


@case
def a_forged_intermediate_with_googles_names_does_not_root_anything():
    """A forger makes a root and an intermediate carrying the names of Google's v1 root and EK/AK
    intermediate, issues an AK certificate under it and ships the intermediate as the chain."""
    subj_root = "/C=US/ST=California/L=Mountain View/O=Google LLC/OU=Google Cloud/CN=EK\\/AK CA Root"
    subj_mid = "/C=US/ST=California/L=Mountain View/O=Google LLC/OU=Google Cloud/CN=EK\\/AK CA Intermediate"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "fr.key",
            "-out", "fr.pem", "-subj", subj_root, "-days", "30")
    open(os.path.join(work, "ca.ext"), "w").write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "fm.key",
            "-out", "fm.csr", "-subj", subj_mid)
    openssl("x509", "-req", "-in", "fm.csr", "-CA", "fr.pem", "-CAkey", "fr.key", "-days", "30", "-out", "fm.pem",
            "-extfile", "ca.ext")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ak.key",
            "-out", "ak.csr", "-subj", "/CN=218557372616137117")
    openssl("x509", "-req", "-in", "ak.csr", "-CA", "fm.pem", "-CAkey", "fm.key", "-days", "30", "-out", "ak.pem")
    ak, fm, fr = (os.path.join(work, n) for n in ("ak.pem", "fm.pem", "fr.pem"))
    rc, out, st = run_json("tpm-ak-cert", ak, "--chain", fm)
    check(rc == 1 and failed_ids(out) == ["akcert.root"], failed_ids(out))
    check("does not chain to a pinned vendor root" in [s["text"] for s in out["steps"] if s["id"] == "akcert.root"][0])
    # named as a TEST root it passes, labelled so, and never as the vendor root
    rc, out, st = run_json("tpm-ak-cert", ak, "--chain", fm, "--tpm-ca", fr)
    check(rc == 0 and out["fields"]["certificate"]["root"]["kind"] == "test", out["fields"])
    rc, text = run("tpm-ak-cert", ak, "--chain", fm, "--tpm-ca", fr)
    check("RESULT: PASS (against a TEST root" in text, text)
    # a real Google AK certificate is not made "test" by naming a test root: the vendor root wins
    rc, out, st = run_json("tpm-ak-cert", os.path.join(CERTS, "pca_tpm_rsa_sign_cert.pem"), "--tpm-ca", fr)
    check(rc == 0 and out["fields"]["certificate"]["root"]["kind"] == "vendor", out["fields"])


@case
def expired_at_the_given_time_fails():
    rc, out, st = run_json("tpm-ak-cert", os.path.join(CERTS, "pca_tpm_ecc_sign_cert.pem"), "--at",
                           "2060-01-01T00:00:00Z")
    check(rc == 1 and failed_ids(out) == ["akcert.root"], failed_ids(out))


@case
def help_on_every_command_and_version():
    for cmd in ("result", "snp-report", "tpm-quote", "tdx-quote", "eventlog", "tpm-ak-cert"):
        r = subprocess.run([BIN, cmd, "--help"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "usage: sealed-verify" in r.stdout, (cmd, r.returncode, r.stderr))
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.startswith("sealed-verify "), r.stdout)
    commit = r.stdout.split()[1].split("+")[0]
    known = subprocess.run(["git", "cat-file", "-e", commit + "^{commit}"], capture_output=True)
    check(len(commit) == 40 and known.returncode == 0, (commit, r.stdout))   # a commit of this repository


done()
