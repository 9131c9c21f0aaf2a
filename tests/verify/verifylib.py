"""Helpers for sealed-verify's whole-binary suites: run the binary, read its --json, make test
evidence with build/tests/verify/testgen. Paths are relative to the repository root."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.environ.get("SEALED_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
BIN = os.environ.get("SEALED_VERIFY_BIN") or os.path.join(ROOT, "build", "sealed-verify")   # e.g. an ASan build
TESTGEN = os.path.join(ROOT, "build", "tests", "verify", "testgen")
TD = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata"))


def run(*args):
    """Runs sealed-verify; returns (exit code, stdout)."""
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def run_json(*args):
    """Runs sealed-verify --json; returns (exit code, parsed object, {step id: [statuses]})."""
    p = subprocess.run([BIN, *map(str, args), "--json"], capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        raise AssertionError(f"not JSON (rc {p.returncode}): {p.stdout[:400]} {p.stderr[:400]}")
    steps = {}
    for s in out["steps"]:
        steps.setdefault(s["id"], []).append(s["status"])
    if (p.returncode == 0) != out["ok"]:
        raise AssertionError("exit code and ok disagree")
    return p.returncode, out, steps


def status(steps, sid):
    """The single status of a step id ('pass', 'fail', ...), or a comma list if repeated."""
    v = steps.get(sid)
    return ",".join(v) if v else None


def failed_ids(out):
    return sorted({s["id"] for s in out["steps"] if s["status"] == "fail"})


def gen(*args):
    """Makes test evidence in a fresh directory; returns (dir, result path)."""
    d = tempfile.mkdtemp(prefix="sv-")
    res = os.path.join(d, "result.jws")
    subprocess.run([TESTGEN, "result", res, "--dir", d, *map(str, args)], check=True, timeout=60)
    return d, res
