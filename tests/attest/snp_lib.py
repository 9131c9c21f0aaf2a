"""Helpers for the SEV-SNP / TDX suites: a test AMD-style chain made with the openssl CLI
(ARK and ASK/ASVK RSA-4096 with RSA-PSS SHA-384 signatures, VCEK/VLEK EC P-384 with AMD's
certificate extensions), a TDX-style PCK chain, the configfs-tsm FUSE emulator, and a fake of
AMD KDS (kdsintf.amd.com's documented paths, 404/400/429 + Retry-After)."""
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

ROOT = os.environ.get("SEALED_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BUILD = os.path.join(ROOT, "build/tests/attest")
OID = "1.3.6.1.4.1.3704.1"


def ossl(*args, input=None):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, input=input).stdout


def tcb_fields(product, tcb):
    b = [(tcb >> (8 * i)) & 0xFF for i in range(8)]
    if product == "turin":
        return {"fmcSPL": b[0], "blSPL": b[1], "teeSPL": b[2], "snpSPL": b[3], "ucodeSPL": b[7]}
    return {"blSPL": b[0], "teeSPL": b[1], "snpSPL": b[6], "ucodeSPL": b[7]}


PSS = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48", "-sha384"]


def make_chain(d, product="milan", chip_id=None, tcb=0xD516000000000004):
    """Writes ark/ask/asvk/vcek/vlek keys and certificates (PEM and DER) into d."""
    os.makedirs(d, exist_ok=True)
    P = product.capitalize()
    p = lambda n: os.path.join(d, n)
    for k in ("ark", "ask", "asvk"):
        ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096", "-out", p(f"{k}.key"))
    for k in ("vcek", "vlek"):
        ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p(f"{k}.key"))
    dn = "/C=US/ST=CA/L=Santa Clara/O=sealed-login TEST (not AMD)/OU=Engineering"
    open(p("ca.ext"), "w").write("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
                                 "subjectKeyIdentifier=hash\n")
    ossl("req", "-x509", "-new", "-key", p("ark.key"), "-subj", f"{dn}/CN=ARK-{P}", "-days", "3650",
         "-extensions", "ca", "-config", p("ca.ext"), "-set_serial", "1", "-out", p("ark.pem"), *PSS)
    for k, cn in (("ask", f"SEV-{P}"), ("asvk", f"SEV-VLEK-{P}")):
        ossl("req", "-new", "-key", p(f"{k}.key"), "-subj", f"{dn}/CN={cn}", "-out", p(f"{k}.csr"))
        ossl("x509", "-req", "-in", p(f"{k}.csr"), "-CA", p("ark.pem"), "-CAkey", p("ark.key"), "-days", "3650",
             "-extfile", p("ca.ext"), "-extensions", "ca", "-set_serial", "2", "-out", p(f"{k}.pem"), *PSS)
    chip = bytes.fromhex(chip_id) if chip_id else bytes((0x11 + i) & 0xFF for i in range(64))
    hwid = chip[:8] if product == "turin" else chip
    f = tcb_fields(product, tcb)
    # as AMD's VCEKs carry them: DER values in the extnValue, hwID as the raw chip-id bytes
    ext = ["[v]", f"{OID}.1 = ASN1:INTEGER:0", f"{OID}.2 = ASN1:IA5STRING:{P}-B0",
           f"{OID}.3.1 = ASN1:INTEGER:{f['blSPL']}", f"{OID}.3.2 = ASN1:INTEGER:{f['teeSPL']}"]
    ext += [f"{OID}.3.{i} = ASN1:INTEGER:0" for i in (4, 5, 6, 7)]
    ext += [f"{OID}.3.3 = ASN1:INTEGER:{f['snpSPL']}", f"{OID}.3.8 = ASN1:INTEGER:{f['ucodeSPL']}"]
    if "fmcSPL" in f:
        ext.append(f"{OID}.3.9 = ASN1:INTEGER:{f['fmcSPL']}")
    vcek_ext = ext + [f"{OID}.4 = DER:{hwid.hex()}"]
    open(p("vcek.ext"), "w").write("\n".join(vcek_ext) + "\n")
    open(p("vlek.ext"), "w").write("\n".join(ext + [f"{OID}.5 = ASN1:IA5STRING:test-csp"]) + "\n")
    for k, ca, cn in (("vcek", "ask", "SEV-VCEK"), ("vlek", "asvk", "SEV-VLEK")):
        ossl("req", "-new", "-key", p(f"{k}.key"), "-subj", f"{dn}/CN={cn}", "-out", p(f"{k}.csr"))
        ossl("x509", "-req", "-in", p(f"{k}.csr"), "-CA", p(f"{ca}.pem"), "-CAkey", p(f"{ca}.key"), "-days", "3650",
             "-extfile", p(f"{k}.ext"), "-extensions", "v", "-set_serial", "3", "-out", p(f"{k}.pem"), *PSS)
    for k in ("ark", "ask", "asvk", "vcek", "vlek"):
        ossl("x509", "-in", p(f"{k}.pem"), "-outform", "DER", "-out", p(f"{k}.der"))
    open(p("cert_chain.pem"), "w").write(open(p("ask.pem")).read() + open(p("ark.pem")).read())
    return {"dir": d, "product": product, "chip": chip, "tcb": tcb}


def make_pck_chain(d):
    """A TDX-style PCK chain (EC P-256): root -> intermediate -> PCK leaf; pck_chain.pem = leaf,
    intermediate, root as Intel's certification data type 5 carries it."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)
    open(p("ca.ext"), "w").write("[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n")
    for k in ("root", "inter", "pck"):
        ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p(f"{k}.key"))
    ossl("req", "-x509", "-new", "-key", p("root.key"), "-subj", "/CN=TEST SGX Root CA (not Intel)",
         "-days", "3650", "-extensions", "ca", "-config", p("ca.ext"), "-out", p("root.pem"))
    for k, ca, cn, ext in (("inter", "root", "TEST SGX PCK Platform CA", ["-extfile", p("ca.ext"), "-extensions", "ca"]),
                           ("pck", "inter", "TEST SGX PCK Certificate", [])):
        ossl("req", "-new", "-key", p(f"{k}.key"), "-subj", f"/CN={cn}", "-out", p(f"{k}.csr"))
        ossl("x509", "-req", "-in", p(f"{k}.csr"), "-CA", p(f"{ca}.pem"), "-CAkey", p(f"{ca}.key"), "-days", "3650",
             "-out", p(f"{k}.pem"), *ext)
    open(p("pck_chain.pem"), "w").write("".join(open(p(f"{k}.pem")).read() for k in ("pck", "inter", "root")))
    return d


class TsmFuse:
    """Mounts build/tests/attest/tsm_fuse at mnt with the given environment."""

    def __init__(self, mnt, env):
        self.mnt = mnt
        os.makedirs(mnt, exist_ok=True)
        self.log = open(mnt.rstrip("/") + ".log", "w")
        self.proc = subprocess.Popen([os.path.join(BUILD, "tsm_fuse"), mnt], env=dict(os.environ, **env),
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.ismount(mnt):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"tsm_fuse exited {self.proc.returncode}: {open(self.log.name).read()}")
            time.sleep(0.05)
        raise RuntimeError("tsm_fuse did not mount")

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True)
        if os.path.ismount(self.mnt):
            subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class FakeKds:
    """kdsintf.amd.com's VCEK paths for the chips registered with add(), with its rate limit:
    a request less than `window` seconds after the last served one from the same address gets
    429 with a Retry-After that says when the window ends."""

    def __init__(self, window=10.0):
        self.window = window
        self.chips = {}        # (Product, hwid hex, frozenset(params)) -> DER
        self.chains = {}       # Product -> PEM
        self.log = []          # (time, path, status)
        self.last = {}
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                status, ctype, body, extra = fake.answer(self.client_address[0], self.path)
                fake.log.append((time.time(), self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, chain):
        P = chain["product"].capitalize()
        hwid = (chain["chip"][:8] if chain["product"] == "turin" else chain["chip"]).hex()
        params = frozenset((k, str(v)) for k, v in tcb_fields(chain["product"], chain["tcb"]).items())
        self.chips[(P, hwid, params)] = open(os.path.join(chain["dir"], "vcek.der"), "rb").read()
        self.chains[P] = open(os.path.join(chain["dir"], "cert_chain.pem"), "rb").read()

    def answer(self, ip, path):
        now = time.time()
        last = self.last.get(ip)
        if last is not None and now - last < self.window:
            wait = int(self.window - (now - last)) + 1
            return 429, "text/plain", b"Too Many Requests", {"Retry-After": str(wait)}
        self.last[ip] = now          # requests turned away do not restart the window
        u = urlparse(path)
        parts = u.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["vcek", "v1"] or parts[2] not in ("Milan", "Genoa", "Turin"):
            return 404, "text/plain", b"Not Found", {}
        P = parts[2]
        if parts[3] == "cert_chain":
            if P not in self.chains:
                return 404, "text/plain", b"Not Found", {}
            return 200, "application/x-pem-file", self.chains[P], {}
        q = parse_qs(u.query)
        need = {"blSPL", "teeSPL", "snpSPL", "ucodeSPL"} | ({"fmcSPL"} if P == "Turin" else set())
        if set(q) != need or any(len(v) != 1 or not v[0].isdigit() for v in q.values()):
            return 400, "text/plain", b"Bad Request: TCB parameters", {}
        want_len = 16 if P == "Turin" else 128
        if len(parts[3]) != want_len:
            return 400, "text/plain", b"Bad Request: hwid", {}
        key = (P, parts[3].lower(), frozenset((k, str(int(v[0]))) for k, v in q.items()))
        if key not in self.chips:
            return 404, "text/plain", b"Not Found", {}
        return 200, "application/octet-stream", self.chips[key], {}

    def stop(self):
        self.httpd.shutdown()
