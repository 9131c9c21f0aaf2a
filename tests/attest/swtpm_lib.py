"""swtpm harness for the attestation suites: a fresh TPM 2.0 (Debian swtpm) per use, manufactured
by swtpm_setup with EK certificates from a local CA made for the run, served on a loopback TCP
socket (the raw command stream the provider's "tcp:" transport and tpm2-tools' swtpm TCTI speak).
Also runs the provider driver (build/tests/attest/attest_probe) and tpm2-tools against it."""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ports import free_port_pair  # noqa: E402

ROOT = os.environ.get("SEALED_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
# ATTEST_PROBE: another build of the driver (e.g. with ASan/UBSan) for the same suites
PROBE = os.environ.get("ATTEST_PROBE", os.path.join(ROOT, "build/tests/attest/attest_probe"))



class Swtpm:
    def __init__(self, workdir):
        self.dir = workdir
        self.state = os.path.join(workdir, "state")
        self.ca = os.path.join(workdir, "ca")
        os.makedirs(self.state, exist_ok=True)
        os.makedirs(self.ca, exist_ok=True)
        self.proc = None
        self.port = None

    def manufacture(self):
        """swtpm_setup: EK (RSA 2048 and ECC) with certificates signed by a local CA in self.ca."""
        w = lambda name, text: open(os.path.join(self.dir, name), "w").write(text)
        w("localca.conf", f"statedir = {self.ca}\nsigningkey = {self.ca}/signkey.pem\n"
                          f"issuercert = {self.ca}/issuercert.pem\ncertserial = {self.ca}/certserial\n")
        w("localca.options", "--platform-manufacturer Sealed\n--platform-version 2.1\n--platform-model test\n")
        w("setup.conf", f"create_certs_tool = /usr/bin/swtpm_localca\n"
                        f"create_certs_tool_config = {self.dir}/localca.conf\n"
                        f"create_certs_tool_options = {self.dir}/localca.options\nactive_pcr_banks = sha256\n")
        subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", self.state, "--create-ek-cert", "--ecc",
                        "--config", os.path.join(self.dir, "setup.conf"), "--overwrite"],
                       check=True, capture_output=True, timeout=120)
        return self

    def start(self):
        self.port = free_port_pair()
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.state}",
             "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
             "--flags", "not-need-init,startup-clear", "--log", f"file={self.dir}/swtpm.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port + 1), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("swtpm did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    @property
    def spec(self):
        return f"tcp:127.0.0.1:{self.port}"

    def tools(self, *args, check=True, input=None):
        env = dict(os.environ, TPM2TOOLS_TCTI=f"swtpm:host=127.0.0.1,port={self.port}")
        return subprocess.run(list(args), env=env, check=check, capture_output=True, input=input, timeout=60)


def probe(*args, report_data, check=True):
    """Runs the provider driver; returns its JSON result (and the exit code)."""
    r = subprocess.run([PROBE, *args, report_data.hex()], capture_output=True, timeout=120)
    out = json.loads(r.stdout.decode() or "{}")
    out["_rc"] = r.returncode
    out["_stderr"] = r.stderr.decode(errors="replace")
    if check and r.returncode != 0:
        raise AssertionError(f"attest_probe failed: {out.get('errors')} {out['_stderr']}")
    return out


def pcrs_serialized(values):
    """tpm2-tools' 'serialized' PCR file (what tpm2_quote -o writes and tpm2_checkquote -f reads):
    native little-endian TPML_PCR_SELECTION (16 slots of 8 bytes), a UINT32 count of TPML_DIGEST,
    then each TPML_DIGEST with 8 TPM2B_DIGEST slots of 2+64 bytes. Here: sha256 PCRs 0-15."""
    import struct
    sel = struct.pack("<I", 1) + struct.pack("<HB4sx", 0x000B, 3, bytes([0xFF, 0xFF, 0, 0]))
    sel += b"\0" * (4 + 16 * 8 - len(sel))
    out = sel + struct.pack("<I", 2)
    for chunk in (values[0:8], values[8:16]):
        out += struct.pack("<I", 8)
        for v in chunk:
            out += struct.pack("<H", len(v)) + v + b"\0" * (64 - len(v))
    return out


def parse_eventlog(data):
    """Minimal TCG PC Client crypto-agile log parser: yields (pcr, type, {alg_id: digest})."""
    import struct
    sizes = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64, 0x0012: 32}
    off = 0
    pcr, etype = struct.unpack_from("<II", data, off)
    off += 8 + 20
    (esz,) = struct.unpack_from("<I", data, off)
    off += 4 + esz                       # Spec ID header event (SHA-1 format)
    while off + 12 <= len(data):
        pcr, etype, n = struct.unpack_from("<III", data, off)
        off += 12
        digests = {}
        for _ in range(n):
            (alg,) = struct.unpack_from("<H", data, off)
            off += 2
            digests[alg] = data[off:off + sizes[alg]]
            off += sizes[alg]
        (esz,) = struct.unpack_from("<I", data, off)
        off += 4 + esz
        yield pcr, etype, digests


class DropProxy:
    """A loopback proxy in front of swtpm's command socket that forwards whole TPM commands and
    drops the client's connection (the command is lost) when the running command count reaches
    one of drop_at: a TPM that goes away under the provider, as a reset vTPM or a crashed
    resource manager would. Every response it forwards is also kept, in order, in .responses
    (each before the client has it: a recorded session, fuzz/login/attest/tpm2_seed.py)."""

    def __init__(self, port, drop_at=()):
        import threading
        self.target = port
        self.drop_at = set(drop_at)
        self.count = 0
        self.connections = 0
        self.responses = []
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _read(s, n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def _accept(self):
        import threading
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        t = socket.create_connection(("127.0.0.1", self.target))
        try:
            while True:
                hdr = self._read(c, 10)
                cmd = hdr + self._read(c, int.from_bytes(hdr[2:6], "big") - 10)
                self.count += 1
                if self.count in self.drop_at:
                    return
                t.sendall(cmd)
                rh = self._read(t, 10)
                r = rh + self._read(t, int.from_bytes(rh[2:6], "big") - 10)
                self.responses.append(r)
                c.sendall(r)
        except (EOFError, OSError):
            return
        finally:
            c.close()
            t.close()

    @property
    def spec(self):
        return f"tcp:127.0.0.1:{self.port}"

    def stop(self):
        self.srv.close()


def start_for_qemu(tpm, sock):
    """Serves the manufactured TPM to QEMU (-tpmdev emulator) on a unix control socket; swtpm
    ends when QEMU disconnects. Sets tpm.proc."""
    tpm.proc = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={tpm.state}",
                                 "--ctrl", f"type=unixio,path={sock}", "--terminate",
                                 "--log", f"file={tpm.dir}/swtpm-qemu.log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock):
            return
        time.sleep(0.05)
    raise RuntimeError("swtpm did not create its socket")


def replay_sha256(log, ima=None):
    """PCRs 0-23 (SHA-256) replayed from a firmware log (EV_NO_ACTION skipped; a StartupLocality
    event sets PCR 0's start value) and the kernel's IMA binary list for PCR 10, each entry
    extended with SHA-256 of its template data (what the kernel extends into non-SHA-1 banks)."""
    import hashlib
    import struct
    pcrs = [b"\0" * 32 for _ in range(24)]
    off = 0
    _, _ = struct.unpack_from("<II", log, 0)
    (esz,) = struct.unpack_from("<I", log, 28)
    off = 32 + esz
    sizes = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64, 0x0012: 32}
    while off + 12 <= len(log):
        pcr, etype, n = struct.unpack_from("<III", log, off)
        off += 12
        dg = {}
        for _ in range(n):
            (alg,) = struct.unpack_from("<H", log, off)
            dg[alg] = log[off + 2:off + 2 + sizes[alg]]
            off += 2 + sizes[alg]
        (esz,) = struct.unpack_from("<I", log, off)
        data = log[off + 4:off + 4 + esz]
        off += 4 + esz
        if etype == 3:
            if data.startswith(b"StartupLocality\0") and pcr == 0:
                pcrs[0] = b"\0" * 31 + data[16:17]
            continue
        pcrs[pcr] = hashlib.sha256(pcrs[pcr] + dg[0x000B]).digest()
    off = 0
    while ima and off < len(ima):
        pcr, = struct.unpack_from("<I", ima, off)
        off += 24
        (nl,) = struct.unpack_from("<I", ima, off)
        off += 4 + nl
        (dl,) = struct.unpack_from("<I", ima, off)
        data = ima[off + 4:off + 4 + dl]
        off += 4 + dl
        pcrs[pcr] = hashlib.sha256(pcrs[pcr] + hashlib.sha256(data).digest()).digest()
    return pcrs


def gce_ecc_template():
    """An ECC P-256 restricted signing template as GCE provisions in NV 0x01c10003 (noDA set and a
    32-byte zero unique, so it differs from the provider's own default AK)."""
    attrs = 0x2 | 0x10 | 0x20 | 0x40 | 0x400 | 0x10000 | 0x40000
    t = (0x0023).to_bytes(2, "big") + (0x000B).to_bytes(2, "big") + attrs.to_bytes(4, "big")
    t += b"\0\0" + (0x0010).to_bytes(2, "big") + (0x0018).to_bytes(2, "big") + (0x000B).to_bytes(2, "big")
    t += (0x0003).to_bytes(2, "big") + (0x0010).to_bytes(2, "big")
    t += (32).to_bytes(2, "big") + b"\0" * 32 + (32).to_bytes(2, "big") + b"\0" * 32
    return t


def nv_put(tpm, work, index, data):
    """Defines NV index (owner auth) and writes data into it, as GCE provisions its AK template and certificate."""
    f = os.path.join(work, f"nv-{index:x}.bin")
    open(f, "wb").write(data)
    tpm.tools("tpm2_nvundefine", "-C", "o", hex(index), check=False)
    tpm.tools("tpm2_nvdefine", "-C", "o", "-s", str(len(data)), "-a", "ownerread|ownerwrite|authread|authwrite",
              hex(index))
    tpm.tools("tpm2_nvwrite", "-C", "o", "-i", f, hex(index))


def make_ca(work, name):
    """A self-signed P-256 test CA: (key path, certificate path)."""
    key, crt = os.path.join(work, f"{name}.key"), os.path.join(work, f"{name}.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-subj", f"/CN={name}", "-days", "30"], check=True,
                   capture_output=True)
    return key, crt


def issue_cert(work, ca, pubkey_pem, name):
    """A DER certificate from ca for the public key pubkey_pem (an AK certificate in tests)."""
    key, crt = ca
    dummy = os.path.join(work, f"{name}-dummy.key")
    csr = os.path.join(work, f"{name}.csr")
    pub = os.path.join(work, f"{name}-pub.pem")
    out = os.path.join(work, f"{name}.der")
    open(pub, "w").write(pubkey_pem)
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", dummy, "-out", csr, "-subj", f"/CN={name}"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", crt, "-CAkey", key, "-force_pubkey", pub,
                    "-outform", "DER", "-out", out, "-days", "30", "-set_serial", "7"], check=True,
                   capture_output=True)
    return open(out, "rb").read()
