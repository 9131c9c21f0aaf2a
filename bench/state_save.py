"""What a sealed save costs with many used ids (issue 12 item 2): the real sealed-login with swtpm
and the OCI Object Storage fake (tests/cloud/fake_cloud.py), started on a state directory that
build/bench/make_state filled (N ids, M of them with a 24-hour result). Reports the sealed blob's
size and the save times the service logs (state_sync.saved ms=): the boot's claim, and the saves
that deliver a few logins. Usage: python3 bench/state_save.py [N] [M]. Prints JSON. Not a test."""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("tests/lib", "tests/cloud", "tests/attest", "tests/login"):
    sys.path.insert(0, os.path.join(ROOT, sub))
import cloudtest as ct  # noqa: E402
import sealed_lib  # noqa: E402
from swtpm_lib import Swtpm  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
M = int(sys.argv[2]) if len(sys.argv) > 2 else 0
SAVED = re.compile(r"state_sync\.saved counter=\d+ bytes=(\d+) results=(\d+) ms=([0-9.]+)")

tpm = Swtpm(tempfile.mkdtemp(prefix="bench-swtpm-")).start()
oci = ct.Fake("oci", {}, {})
d = tempfile.mkdtemp(prefix="bench-state-")
try:
    made = json.loads(subprocess.run([os.path.join(ROOT, "build", "bench", "make_state"), d, str(N), str(M)],
                                     check=True, capture_output=True, text=True).stdout)
    plain = os.path.getsize(os.path.join(d, "state.v1"))
    run = sealed_lib.Run(oci, d, f"bench-save-{N}-{M}", ("bench-client", os.urandom(16).hex()),
                         sealed_lib.tpm_seal_env(tpm),
                         platform="oci", extra={"SEALED_IDSET_CAPACITY": str(N + 1000)})
    with run as s:
        logins = [sealed_lib.login_ok(s.login(u)) for u in ("alice", "bob", "carol", "dave")]
        saves = [(int(b), int(r), float(ms)) for b, r, ms in SAVED.findall(s.log_text())]
    obj = sealed_lib.objects(oci)[sealed_lib.OCI_SPEC.split("/", 1)[1]]
    delivering = [ms for b, r, ms in saves if r > 0]
    print(json.dumps({"ids": N, "results_24h": M, "state_file_bytes": plain, "blob_bytes": obj["size"],
                      "claim_save_ms": saves[0][2] if saves else None,
                      "login_saves_ms": delivering, "login_save_ms_median": statistics.median(delivering)
                      if delivering else None, "logins_ok": all(logins), "made": made}))
finally:
    oci.stop()
    tpm.stop()
    shutil.rmtree(d, ignore_errors=True)
