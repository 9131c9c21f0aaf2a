"""Independent ES256 JWS check for the whole-binary tests: rebuilds the P-256 public key from the
header's JWK as a DER SubjectPublicKeyInfo, DER-encodes the raw R||S signature, and asks the
`openssl` command to verify. Also recomputes REPORT_DATA (DESIGN.md evidence v1) with hashlib."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile

P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def parse(jws):
    h, p, s = jws.split(".")
    return json.loads(b64u_dec(h)), json.loads(b64u_dec(p)), b64u_dec(s), (h + "." + p).encode()


def thumbprint(jwk):
    canon = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canon.encode()).digest())


def verify(jws):
    """Returns (header, payload) if the signature verifies with the embedded key and kid is its
    thumbprint; raises AssertionError otherwise."""
    hdr, payload, sig, signing_input = parse(jws)
    assert hdr["alg"] == "ES256", hdr
    assert hdr["kid"] == thumbprint(hdr["jwk"]), "kid is not the RFC 7638 thumbprint"
    assert len(sig) == 64
    spki = P256_SPKI_PREFIX + b"\x04" + b64u_dec(hdr["jwk"]["x"]) + b64u_dec(hdr["jwk"]["y"])
    seq = der_int(sig[:32]) + der_int(sig[32:])
    der_sig = b"\x30" + bytes([len(seq)]) + seq
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "k.pem")
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n")
        open(os.path.join(d, "sig"), "wb").write(der_sig)
        open(os.path.join(d, "in"), "wb").write(signing_input)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem, "-signature", os.path.join(d, "sig"),
                            os.path.join(d, "in")], capture_output=True, text=True)
        assert r.returncode == 0 and "Verified OK" in r.stdout, r.stdout + r.stderr
    return hdr, payload


def report_data(payload, kid):
    a = ("PAYPAL_CLIENT_ID=" + payload["paypal"]["client_id"] + "|PAYPAL_USER_ID=" + payload["paypal"]["user_id"]).encode()
    b = ("SEALED_LOGIN_V1|SIGNER_JWK_THUMBPRINT=" + kid + "|TLS_SPKI_SHA256=" + payload["tls_spki_sha256"] +
         "|IAT=" + str(payload["iat"]) + "|NONCE=" + payload["nonce"]).encode()
    return (hashlib.sha256(a).digest() + hashlib.sha256(b).digest()).hex()
