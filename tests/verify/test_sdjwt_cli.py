"""sealed-verify sd-jwt, whole binary, on RFC 9901's own examples (tests/verify/rfc9901): each
verifies (object, array-element, nested and recursive disclosures, the A.3 SD-JWT VC with its
key-binding JWT); a changed disclosure, a dropped or repeated one under a KB-JWT, another nonce,
audience, time or issuer key fails."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import case, check, done  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
VERIFY = os.path.join(ROOT, "build", "sealed-verify")
D = os.path.join(os.path.dirname(__file__), "rfc9901")
JWKS = os.path.join(D, "issuer_jwks.json")
KB = ["--nonce", "1234567890", "--aud", "https://verifier.example.org", "--at", "@1748454271"]
TMP = tempfile.mkdtemp(prefix="sdjwt-cli-")


def run(path, *args):
    return subprocess.run([VERIFY, "sd-jwt", path, "--issuer-jwks", JWKS, "--generic", *args],
                          capture_output=True, text=True)


def text(name):
    return open(os.path.join(D, name)).read().strip()


def tmp(name, s):
    p = os.path.join(TMP, name)
    open(p, "w").write(s)
    return p


@case
def rfc_examples_verify():
    for f, n in (("section5.1_issuance.txt", 10), ("a1_issuance.txt", 2), ("a2_issuance.txt", 6)):
        r = run(os.path.join(D, f), "--at", "@1700000000")
        check(r.returncode == 0 and f"{n} disclosures" in r.stdout, (f, r.stdout))
    r = run(os.path.join(D, "a3_presentation_kb.txt"), *KB, "--require-kb")
    check(r.returncode == 0 and "nationalities = [\"DE\"]" in r.stdout, r.stdout)
    r = run(os.path.join(D, "a1_issuance.txt"), "--json")
    claims = json.loads(r.stdout)["fields"]["claims"]
    check(claims["address"]["region"] == "\u6e2f\u533a" and claims["address"]["country"] == "JP", claims)


@case
def each_changed_disclosure_character_fails():
    s = text("section5.1_issuance.txt")
    first = s.index("~") + 1
    for i in range(first, len(s) - 1, 37):
        if s[i] == "~":
            continue
        c = "A" if s[i] != "A" else "B"
        r = run(tmp("flip.txt", s[:i] + c + s[i + 1:]), "--at", "@1700000000")
        check(r.returncode != 0, ("accepted a change at", i))


@case
def key_binding_refuses_another_nonce_audience_time_or_set():
    p = os.path.join(D, "a3_presentation_kb.txt")
    check(run(p, "--nonce", "other", *KB[2:]).returncode == 1, "nonce")
    check(run(p, KB[0], KB[1], "--aud", "https://other.example", *KB[4:]).returncode == 1, "aud")
    check(run(p, *KB[:4]).returncode == 1, "a KB-JWT from 2025 is too old now")
    s = text("a3_presentation_kb.txt")
    parts = s.split("~")
    dropped = "~".join(parts[:2] + parts[3:])
    r = run(tmp("dropped.txt", dropped), *KB)
    check(r.returncode == 1 and "sd_hash" in r.stdout, r.stdout)
    r = run(tmp("twice.txt", "~".join(parts[:2] + parts[1:])), *KB)
    check(r.returncode == 1 and "more than once" in r.stdout, r.stdout)


@case
def another_issuer_key_fails():
    other = tmp("other.json", json.dumps({"keys": [{"kty": "EC", "crv": "P-256",
        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc", "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}]}))
    r = subprocess.run([VERIFY, "sd-jwt", os.path.join(D, "a1_issuance.txt"), "--issuer-jwks", other, "--generic"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "signature does not verify" in r.stdout, r.stdout)
    r = subprocess.run([VERIFY, "sd-jwt", os.path.join(D, "a1_issuance.txt")], capture_output=True, text=True)
    check(r.returncode == 1 and "no issuer key" in r.stdout, r.stdout)
    r = subprocess.run([VERIFY, "sd-jwt", os.path.join(D, "a1_issuance.txt"), "--issuer-jwks", JWKS],
                       capture_output=True, text=True)
    check(r.returncode == 1, "without --generic an example+sd-jwt is not a sealed-login credential")


done()
