"""Crypto for the cloud fakes, Python 3 stdlib only: a small DER reader, RSA PKCS#1 v1.5 SHA-256
verify/sign with pow(), X.509 fields the fakes check, JWT (RS256), CRC32C, and the openssl command
(Debian package `openssl`) to mint keys and certificates once at fake start-up.
Test code: nothing here is used by the service."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile

# ---- DER -------------------------------------------------------------------------------------


def der_item(buf, off=0):
    """(tag, content_start, content_end) of the DER item at off."""
    tag = buf[off]
    ln = buf[off + 1]
    p = off + 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4:
            raise ValueError("bad DER length")
        ln = int.from_bytes(buf[p:p + n], "big")
        p += n
    if p + ln > len(buf):
        raise ValueError("DER item runs past the end")
    return tag, p, p + ln


def der_children(buf, start, end):
    out = []
    p = start
    while p < end:
        tag, s, e = der_item(buf, p)
        out.append((tag, s, e, p))
        p = e
    return out


def der_int(buf, s, e):
    return int.from_bytes(buf[s:e], "big")


def oid_str(b):
    first = b[0]
    parts = [first // 40, first % 40]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            parts.append(v)
            v = 0
    return ".".join(map(str, parts))


RSA_OID = "1.2.840.113549.1.1.1"
SHA256_RSA_OID = "1.2.840.113549.1.1.11"
DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")


def spki_rsa(der):
    """(n, e) from a DER SubjectPublicKeyInfo holding an RSA key."""
    tag, s, e = der_item(der, 0)
    alg, bits = der_children(der, s, e)[:2]
    a = der_children(der, alg[1], alg[2])
    if oid_str(der[a[0][1]:a[0][2]]) != RSA_OID:
        raise ValueError("not an RSA key")
    if bits[0] != 0x03 or der[bits[1]] != 0:
        raise ValueError("bad BIT STRING")
    key = der[bits[1] + 1:bits[2]]
    t, ks, ke = der_item(key, 0)
    n, ex = der_children(key, ks, ke)[:2]
    return der_int(key, n[1], n[2]), der_int(key, ex[1], ex[2])


def rsa_private(der):
    """(n, e, d) from DER PKCS#1 RSAPrivateKey or PKCS#8 PrivateKeyInfo."""
    t, s, e = der_item(der, 0)
    ch = der_children(der, s, e)
    if len(ch) == 3 and ch[1][0] == 0x30:      # PKCS#8: version, alg, OCTET STRING(PKCS#1)
        return rsa_private(der[ch[2][1]:ch[2][2]])
    return der_int(der, ch[1][1], ch[1][2]), der_int(der, ch[2][1], ch[2][2]), der_int(der, ch[3][1], ch[3][2])


def rsa_verify(n, e, msg, sig):
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    m = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
    t = DIGESTINFO_SHA256 + hashlib.sha256(msg).digest()
    want = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return m == want


def rsa_sign(n, d, msg):
    k = (n.bit_length() + 7) // 8
    t = DIGESTINFO_SHA256 + hashlib.sha256(msg).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")


def pem_to_der(pem):
    if isinstance(pem, bytes):
        pem = pem.decode()
    lines = [ln for ln in pem.strip().splitlines() if not ln.startswith("-----")]
    return base64.b64decode("".join(lines))


def der_to_pem(der, kind):
    b = base64.b64encode(der).decode()
    body = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


# ---- X.509 -----------------------------------------------------------------------------------

def _time(der, tag, s, e):
    import calendar
    import time
    v = der[s:e].decode()
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    return calendar.timegm(time.strptime(v, fmt))


class Cert:
    """The fields of an X.509 certificate the fakes check."""

    def __init__(self, der):
        self.der = der
        t, s, e = der_item(der, 0)
        tbs, alg, sig = der_children(der, s, e)[:3]
        self.tbs = der[tbs[3]:tbs[2]]
        a = der_children(der, alg[1], alg[2])
        self.sig_alg = oid_str(der[a[0][1]:a[0][2]])
        self.signature = der[sig[1] + 1:sig[2]]
        f = der_children(der, tbs[1], tbs[2])
        if f[0][0] == 0xA0:          # explicit version
            f = f[1:]
        # serial, sigalg, issuer, validity, subject, spki
        self.issuer_der = der[f[2][3]:f[2][2]]
        self.subject_der = der[f[4][3]:f[4][2]]
        v = der_children(der, f[3][1], f[3][2])
        self.not_before = _time(der, v[0][0], v[0][1], v[0][2])
        self.not_after = _time(der, v[1][0], v[1][1], v[1][2])
        self.subject = []
        for rdn in der_children(der, f[4][1], f[4][2]):
            for atv in der_children(der, rdn[1], rdn[2]):
                o, val = der_children(der, atv[1], atv[2])[:2]
                self.subject.append((oid_str(der[o[1]:o[2]]), der[val[1]:val[2]].decode("utf-8", "replace")))
        spki = der[f[5][3]:f[5][2]]
        self.n, self.e = spki_rsa(spki)
        self.is_ca = False
        for ext in f[6:]:
            if ext[0] == 0xA3:
                for x in der_children(der, *der_children(der, ext[1], ext[2])[0][1:3]):
                    parts = der_children(der, x[1], x[2])
                    if oid_str(der[parts[0][1]:parts[0][2]]) == "2.5.29.19":
                        bc = der[parts[-1][1]:parts[-1][2]]
                        _, bs, be = der_item(bc, 0)
                        inner = der_children(bc, bs, be)
                        self.is_ca = bool(inner and inner[0][0] == 0x01 and bc[inner[0][1]] != 0)

    def signed_by(self, issuer):
        return (self.sig_alg == SHA256_RSA_OID and self.issuer_der == issuer.subject_der and
                rsa_verify(issuer.n, issuer.e, self.tbs, self.signature))

    def ou_values(self):
        return [v for o, v in self.subject if o == "2.5.4.11"]

    def sha256_fingerprint(self):
        return ":".join(f"{b:02x}" for b in hashlib.sha256(self.der).digest())


# ---- JWT, base64url, CRC32C ------------------------------------------------------------------

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_sign(n, d, claims, kid="asw"):
    h = b64u(json.dumps({"kid": kid, "alg": "RS256"}, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":")).encode())
    return f"{h}.{p}.{b64u(rsa_sign(n, d, f'{h}.{p}'.encode()))}"


def jwt_verify(n, e, tok):
    """Claims of an RS256 JWT signed by (n, e), or None."""
    parts = tok.split(".")
    if len(parts) != 3:
        return None
    try:
        hdr = json.loads(b64u_dec(parts[0]))
        if hdr.get("alg") != "RS256":
            return None
        if not rsa_verify(n, e, f"{parts[0]}.{parts[1]}".encode(), b64u_dec(parts[2])):
            return None
        return json.loads(b64u_dec(parts[1]))
    except ValueError:
        return None


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


# ---- DER writer (certificates whose names exceed openssl's 64-character caps) -------------------

def der(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + content


def der_oid(s):
    parts = [int(x) for x in s.split(".")]
    out = bytes([parts[0] * 40 + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def der_uint(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return der(0x02, b)


def der_name(attrs):
    """attrs: [(oid, text)] each its own RDN, values as UTF8String."""
    return der(0x30, b"".join(der(0x31, der(0x30, der_oid(o) + der(0x0C, v.encode()))) for o, v in attrs))


def issue_cert_der(subject_attrs, spki_der, issuer_cert, issuer_n, issuer_d, not_before, not_after, serial, ca=False):
    """An X.509 v3 certificate signed with sha256WithRSAEncryption by the issuer's key."""
    import time as _t
    def utc(t):
        return der(0x17, _t.strftime("%y%m%d%H%M%SZ", _t.gmtime(t)).encode())
    alg = der(0x30, der_oid(SHA256_RSA_OID) + der(0x05, b""))
    bc = der(0x30, der(0x01, b"\xff")) if ca else der(0x30, b"")
    ku = der(0x03, b"\x01\x06") if ca else der(0x03, b"\x05\xa0")
    exts = der(0x30, der_oid("2.5.29.19") + der(0x01, b"\xff") + der(0x04, bc)) + \
        der(0x30, der_oid("2.5.29.15") + der(0x01, b"\xff") + der(0x04, ku))
    tbs = der(0x30, der(0xA0, der_uint(2)) + der_uint(serial) + alg + issuer_cert.subject_der +
              der(0x30, utc(not_before) + utc(not_after)) + der_name(subject_attrs) + spki_der +
              der(0xA3, der(0x30, exts)))
    sig = rsa_sign(issuer_n, issuer_d, tbs)
    return der(0x30, tbs + alg + der(0x03, b"\x00" + sig))


# ---- minting with the openssl command --------------------------------------------------------

def openssl(*args, input_=None):
    r = subprocess.run(["openssl", *args], capture_output=True, input=input_, timeout=60)
    if r.returncode:
        raise RuntimeError("openssl " + " ".join(args) + ": " + r.stderr.decode())
    return r.stdout


class Minter:
    """Keys and certificates in a scratch directory."""

    def __init__(self, d=None):
        self.dir = d or tempfile.mkdtemp(prefix="fakecloud-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def key(self, name, bits=2048):
        p = self.path(name + ".key")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", p)
        return p

    def ca(self, name, subj, days=3650):
        k = self.key(name)
        c = self.path(name + ".pem")
        openssl("req", "-x509", "-new", "-key", k, "-sha256", "-days", str(days), "-subj", subj,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", c)
        return k, c

    def issue(self, name, subj, ca_key, ca_pem, ca_flag=False, days=1, san=None, multivalue=False):
        k = self.key(name)
        csr = self.path(name + ".csr")
        args = ["req", "-new", "-key", k, "-subj", subj, "-out", csr]
        if multivalue:
            args.insert(1, "-multivalue-rdn")
        openssl(*args)
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" if ca_flag else
                    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
            if san:
                f.write(f"subjectAltName={san}\n")
        c = self.path(name + ".pem")
        openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial", "-sha256",
                "-days", str(days), "-extfile", ext, "-out", c)
        return k, c


def oci_signing_string(headers, names, method, target):
    """OCI signature v1: the signing string over the listed header names (bytes, None), or
    (None, name) of the first listed header the request lacks."""
    lines = []
    for h in names:
        if h == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            v = headers.get(h)
            if v is None:
                return None, h
            lines.append(f"{h}: {v}")
    return "\n".join(lines).encode(), None
