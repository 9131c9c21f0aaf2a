"""Records a real swtpm session of the tpm2 provider (probe + two quotes for the fuzz target's
REPORT_DATA) as the fuzz target's input format: each TPM response as [u16 length][bytes].
Usage: python3 fuzz/login/attest/tpm2_seed.py fuzz/login/attest/tpm2.corpus/swtpm_session   (needs make all, swtpm)"""
import os
import shutil
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "attest"))  # swtpm_lib
from swtpm_lib import Swtpm, probe  # noqa: E402

out = sys.argv[1]
work = tempfile.mkdtemp(prefix="attest-seed-")
tpm = Swtpm(os.path.join(work, "tpm")).manufacture().start()
responses = []
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)


def read(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def relay():
    c, _ = srv.accept()
    t = socket.create_connection(("127.0.0.1", tpm.port))
    try:
        while True:
            h = read(c, 10)
            t.sendall(h + read(c, int.from_bytes(h[2:6], "big") - 10))
            rh = read(t, 10)
            r = rh + read(t, int.from_bytes(rh[2:6], "big") - 10)
            responses.append(r)
            c.sendall(r)
    except EOFError:
        pass


th = threading.Thread(target=relay, daemon=True)
th.start()
rd = bytes([1, 2, 3, 4, 5, 6, 7, 8]) + bytes(56)
res = probe("--tpm", f"tcp:127.0.0.1:{srv.getsockname()[1]}", "--eventlog", "/nonexistent", "--count", "2",
            report_data=rd)
th.join(5)
tpm.stop()
shutil.rmtree(work, ignore_errors=True)
open(out, "wb").write(b"".join(len(r).to_bytes(2, "big") + r for r in responses))
print(f"{len(responses)} responses, {sum(len(r) for r in responses)} bytes; evidence: {len(res['evidence'])}")
