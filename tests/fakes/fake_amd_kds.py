#!/usr/bin/env python3
"""fake_amd_kds.py: a local stand-in for AMD's Key Distribution Service (kdsintf.amd.com) for the
`sealed-verify fetch` tests. Python 3 standard library plus `cryptography` (to read the AMD
extensions of the certificates it serves). Owns: its HTTP endpoints, the certificates it was given,
its rate limiter. Never touches: the verifier's code, files it was not given, the network beyond its
own listening socket.

CLI
  fake_amd_kds.py --port N [--host 127.0.0.1] [--vcek FILE ...] [--chain PRODUCT[/vlek]=PEM ...]
                  [--crl PRODUCT[/vlek]=FILE ...] [--rate-limit N] [--retry-after S] [--log FILE]
  --vcek takes DER or PEM VCEKs; each is served under the product, hwID and TCB its own AMD
  extensions name (productName 1.3.6.1.4.1.3704.1.2, hwID .1.4, SPLs .1.3.1/.2/.3/.8/.9), so a test
  cannot register a certificate under a key it does not certify. When ready it prints one line:
      fake-amd-kds listening on http://HOST:PORT

Endpoints, as the "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
Specification" (AMD 57230) documents them; only GET:
  /vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=      (Turin also fmcSPL, required)
      product Milan|Genoa|Turin; hwid hex, 64 bytes (Turin: 8 bytes); each SPL a decimal 0-255.
      Any other, missing, repeated or extra parameter, or fmcSPL on Milan/Genoa: 400. An unknown
      chip or TCB: 404. Found: 200, the DER certificate (application/pkix-cert).
  /vcek/v1/{product}/cert_chain, /vlek/v1/{product}/cert_chain: 200, PEM ASK (ASVK) then ARK
      (application/x-pem-file); 404 if not given.
  /vcek/v1/{product}/crl, /vlek/v1/{product}/crl: 200, the DER CRL (application/pkix-crl).
  Anything else: 404. Query strings on cert_chain/crl: 400.
  Rate limit: the first N requests (--rate-limit N) get 429 Too Many Requests with
  "Retry-After: S" (--retry-after, default 1), as KDS does when a client asks too often.
--log FILE appends one line per request: "<status> <path?query>".
"""
import argparse
import re
import sys
import threading
from urllib.parse import urlsplit, parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import httpfake

PRODUCTS = ("Milan", "Genoa", "Turin")
OID = "1.3.6.1.4.1.3704.1."


def _ext(cert, suffix):
    try:
        return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(OID + suffix)).value.value
    except x509.ExtensionNotFound:
        return None


def _der_int(b):
    if b is None or len(b) < 3 or b[0] != 0x02 or b[1] != len(b) - 2:
        raise ValueError("not a short DER INTEGER")
    return int.from_bytes(b[2:], "big")


def _ia5(b):
    if b is None or len(b) < 2 or b[0] != 0x16 or b[1] != len(b) - 2:
        raise ValueError("not a short IA5String")
    return b[2:].decode("ascii")


def vcek_key(der):
    """(product, hwid hex, tcb tuple) that a VCEK certifies, from its own extensions."""
    cert = x509.load_der_x509_certificate(der)
    name = _ia5(_ext(cert, "2"))
    product = name.split("-")[0]
    if product not in PRODUCTS:
        raise ValueError(f"unknown productName {name}")
    hwid = _ext(cert, "4")
    spl = tuple(_der_int(_ext(cert, "3." + s)) for s in ("1", "2", "3", "8"))
    fmc = _der_int(_ext(cert, "3.9")) if product == "Turin" else None
    return product, hwid.hex(), spl + (fmc,)


def load_cert_der(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    return data


def load_crl_der(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
    return data


class KDS:
    def __init__(self, args):
        self.vceks = {}
        for f in args.vcek or []:
            der = load_cert_der(f)
            self.vceks[vcek_key(der)] = der
        self.chains = {}
        for spec in args.chain or []:
            key, path = spec.split("=", 1)
            self.chains[key] = open(path, "rb").read()
        self.crls = {}
        for spec in args.crl or []:
            key, path = spec.split("=", 1)
            self.crls[key] = load_crl_der(path)
        self.limit = args.rate_limit
        self.retry_after = args.retry_after
        self.log = args.log
        self.lock = threading.Lock()

    def rate_limited(self):
        with self.lock:
            if self.limit > 0:
                self.limit -= 1
                return True
            return False

    def note(self, status, target):
        if self.log:
            with self.lock, open(self.log, "a") as f:
                f.write(f"{status} {target}\n")

    def answer(self, target):
        """(status, content type, body, extra headers) for a GET of target."""
        u = urlsplit(target)
        parts = u.path.split("/")
        # ['', 'vcek'|'vlek', 'v1', product, function]
        if len(parts) != 5 or parts[0] != "" or parts[1] not in ("vcek", "vlek") or parts[2] != "v1":
            return 404, "text/plain", b"Not Found\n"
        kind, product, fn = parts[1], parts[3], parts[4]
        if product not in PRODUCTS:
            return 404, "text/plain", b"Not Found\n"
        if fn in ("cert_chain", "crl"):
            if u.query:
                return 400, "text/plain", b"Bad Request: no parameters expected\n"
            key = product if kind == "vcek" else product + "/vlek"
            if fn == "cert_chain":
                body = self.chains.get(key)
                return (200, "application/x-pem-file", body) if body else (404, "text/plain", b"Not Found\n")
            body = self.crls.get(key)
            return (200, "application/pkix-crl", body) if body else (404, "text/plain", b"Not Found\n")
        if kind != "vcek":
            return 404, "text/plain", b"Not Found\n"   # VLEKs are not served to the public
        want_len = 16 if product == "Turin" else 128
        if not re.fullmatch(r"[0-9a-fA-F]{%d}" % want_len, fn):
            return 400, "text/plain", b"Bad Request: hwid\n"
        q = parse_qsl(u.query, keep_blank_values=True, strict_parsing=False)
        names = [k for k, _ in q]
        want = {"blSPL", "teeSPL", "snpSPL", "ucodeSPL"} | ({"fmcSPL"} if product == "Turin" else set())
        if len(names) != len(set(names)) or set(names) != want:
            return 400, "text/plain", b"Bad Request: parameters\n"
        vals = {}
        for k, v in q:
            if not re.fullmatch(r"[0-9]{1,3}", v) or int(v) > 255:
                return 400, "text/plain", b"Bad Request: SPL value\n"
            vals[k] = int(v)
        tcb = (vals["blSPL"], vals["teeSPL"], vals["snpSPL"], vals["ucodeSPL"], vals.get("fmcSPL"))
        body = self.vceks.get((product, fn.lower(), tcb))
        if not body:
            return 404, "text/plain", b"Not Found\n"
        return 200, "application/pkix-cert", body


ROUTES = httpfake.Routes()


def send(h, status, ctype, body, extra=()):
    h.send(status, body, ctype, extra)
    h.server.kds.note(status, h.path)


@ROUTES.route("GET", r".*")
def get(h, _query):
    kds = h.server.kds
    if kds.rate_limited():
        return send(h, 429, "text/plain", b"Too Many Requests\n", (("Retry-After", kds.retry_after),))
    status, ctype, body = kds.answer(h.path)
    send(h, status, ctype, body)


class Handler(httpfake.Handler):
    routes = ROUTES
    methods = ("GET", "POST", "PUT", "DELETE", "HEAD")

    def no_route(self, path, allowed):     # only GET is served
        send(self, 405, "text/plain", b"Method Not Allowed\n", (("Allow", "GET"),))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--vcek", action="append")
    ap.add_argument("--chain", action="append")
    ap.add_argument("--crl", action="append")
    ap.add_argument("--rate-limit", type=int, default=0)
    ap.add_argument("--retry-after", default="1")
    ap.add_argument("--log")
    args = ap.parse_args()
    kds = KDS(args)
    srv = httpfake.Server((args.host, args.port), Handler, name="fake-amd-kds")
    srv.kds = kds
    httpfake.ready(f"fake-amd-kds listening on {srv.url}")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
