"""sealed-oci-request, the shipped `oci raw-request`-like command: byte-exact against OCI's
published vectors (signing strings and Authorization headers), options and failures."""
import json
import os
import subprocess
import sys

ROOT = os.environ.get("SEALED_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "cloud"))
from tap import case, check, done  # noqa: E402

BIN = os.path.join(ROOT, "build", "sealed-oci-request")
VEC = os.path.join(ROOT, "..", "shared", "testdata", "oci-request-signing")
EXP = json.load(open(os.path.join(VEC, "expected.json")))
DATE = "Thu, 05 Jan 2014 21:31:40 GMT"
KEY = os.path.join(VEC, "test_private_key.pem")


def run(*args, input_=None):
    return subprocess.run([BIN, *args], capture_output=True, input=input_, timeout=30)


@case
def get_signing_string_byte_exact():
    r = run("-k", KEY, "-i", EXP["key"]["key_id_sdk_test"], "-d", DATE, "-s", "GET", EXP["get"]["url"])
    check(r.returncode == 0, r.stderr)
    check(r.stdout == open(os.path.join(VEC, "get_signing_string.txt"), "rb").read(), r.stdout)


@case
def post_signing_string_byte_exact():
    r = run("-k", KEY, "-i", "x", "-d", DATE, "-s", "-b", os.path.join(VEC, "post_body.json"),
            "POST", EXP["post"]["url"])
    check(r.returncode == 0, r.stderr)
    check(r.stdout == open(os.path.join(VEC, "post_signing_string.txt"), "rb").read(), r.stdout)


@case
def authorization_headers_byte_exact():
    for name, extra in (("get", []), ("post", ["-b", os.path.join(VEC, "post_body.json")])):
        r = run("-k", KEY, "-i", EXP["key"]["key_id_sdk_test"], "-d", DATE, "-p", *extra,
                EXP[name]["method"], EXP[name]["url"])
        check(r.returncode == 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        check("authorization: " + EXP[name]["expected_authorization"] in lines, lines)
        for h, v in EXP[name]["headers"].items():
            check(f"{h}: {v}" in lines, (h, lines))


@case
def body_from_stdin_and_token_key_id():
    tok = os.path.join(os.environ.get("SEALED_TEST_OUT", "/tmp"), "oci_req_token.txt")
    with open(tok, "w") as f:
        f.write("eyJ.tok.en\n")
    r = run("-k", KEY, "--token-file", tok, "-d", DATE, "-p", "-b", "-", "PUT", "https://h.example/x",
            input_=b'{"a":1}')
    check(r.returncode == 0, r.stderr)
    out = r.stdout.decode()
    check('keyId="ST$eyJ.tok.en"' in out, out)
    check("content-length: 7" in out, out)


@case
def fingerprint_is_md5_of_public_key():
    r = run("-k", KEY, "--fingerprint")
    check(r.stdout.decode().strip() == EXP["key"]["fingerprint_actual_md5_of_public_key_DER"], r.stdout)


@case
def bad_inputs_fail_cleanly():
    check(run("-k", KEY, "-i", "x", "GET").returncode == 2)
    check(run("-k", "/nonexistent", "-i", "x", "GET", "https://h/").returncode == 2)
    check(run("-k", os.path.join(VEC, "post_body.json"), "-i", "x", "GET", "https://h/").returncode == 2)
    r = run("-k", KEY, "-i", "x", "-d", "yesterday", "-p", "GET", "https://h/")
    check(r.returncode == 2 and b"bad argument" in r.stderr, r.stderr)


if __name__ == "__main__":
    done()
