"""Records a real swtpm session of the tpm2 provider (probe + two quotes for the fuzz target's
REPORT_DATA) as the fuzz target's input format: each TPM response as [u16 length][bytes]. The TPM
and the recording relay in front of it are tests/attest/swtpm_lib.py's Swtpm and DropProxy.
Usage: python3 fuzz/login/attest/tpm2_seed.py fuzz/login/attest/tpm2.corpus/swtpm_session   (needs make all, swtpm)"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "attest"))  # swtpm_lib
from swtpm_lib import DropProxy, Swtpm, probe  # noqa: E402

out = sys.argv[1]
work = tempfile.mkdtemp(prefix="attest-seed-")
tpm = Swtpm(os.path.join(work, "tpm")).manufacture().start()
relay = DropProxy(tpm.port)
rd = bytes([1, 2, 3, 4, 5, 6, 7, 8]) + bytes(56)
res = probe("--tpm", relay.spec, "--eventlog", "/nonexistent", "--count", "2", report_data=rd)
relay.stop()
tpm.stop()
shutil.rmtree(work, ignore_errors=True)
responses = relay.responses
open(out, "wb").write(b"".join(len(r).to_bytes(2, "big") + r for r in responses))
print(f"{len(responses)} responses, {sum(len(r) for r in responses)} bytes; evidence: {len(res['evidence'])}")
