"""The state sealed outside the VM (issue 12 item 2), whole binary: the real sealed-login with a
real TPM 2.0 (swtpm: PolicyPCR-sealed key, NV monotonic counter) and the fake object stores in
tests/cloud/fake_cloud.py (GCS with a metadata bearer token; OCI Object Storage with instance-
principal request signatures). A "reboot" is a stop plus an empty state directory (PID 1's tmpfs
is gone) with the same TPM and the same object. Skipped when swtpm is not installed."""
import base64
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "cloud"))
from tap import case, check, done  # noqa: E402
from service import jws_from_page, FAULTS_BIN  # noqa: E402
import cloudtest as ct  # noqa: E402
import sealed_lib  # noqa: E402
from sealed_lib import GCS_OBJ, post, objects, login_ok, sealed_status  # noqa: E402

TPM = sealed_lib.tpm_or_skip("seal-swtpm-")
GCP = ct.Fake("gcp", {}, {})
OCI = None


def Run(cloud, state_dir, name, client, **kw):
    return sealed_lib.Run(cloud, state_dir, name, client, sealed_lib.tpm_seal_env(TPM), **kw)


CLIENT = ("test-client-sealed", os.urandom(16).hex())
DIR = tempfile.mkdtemp(prefix="sealed-state-")


@case
def first_boot_creates_the_sealed_object_and_a_result_is_saved_before_delivery():
    with Run(GCP, DIR, "sealed-1", client=CLIENT) as s:
        st = sealed_status(s)
        check(st["scope"] == "sealed-vtpm", st)
        check(st.get("sealed", {}).get("owner") is True, st)
        r = s.login("alice")
        check(login_ok(r), (r.status, r.text[:300]))
        payload = json.loads(base64.urlsafe_b64decode(jws_from_page(r.text).split(".")[1] + "=="))
        check(payload.get("state_scope") == "sealed-vtpm", payload.get("state_scope"))
        check("across reboots" in r.text, "the page states the guarantee")
        st = sealed_status(s)
        check(st["sealed"]["saves"] >= 2 and st["sealed"]["counter"] >= 2, st)
    obj = objects(GCP)[GCS_OBJ]
    raw = base64.b64decode(obj["data_b64"])
    check(raw.startswith(b"SLSEAL01") and b"alice" not in raw and b"SEALEDST" not in raw, "sealed, not plain")


@case
def reboot_with_an_empty_state_directory_keeps_the_account_used():
    global B1
    B1 = objects(GCP)[GCS_OBJ]["data_b64"]   # the blob as it was after alice
    shutil.rmtree(DIR)
    with Run(GCP, DIR, "sealed-2", client=CLIENT) as s:
        st = sealed_status(s)
        check(st["ok"] is True and st["scope"] == "sealed-vtpm", st)
        r = s.login("alice")
        check(r.status == 409, (r.status, r.text[:300]))
        r = s.login("bob")
        check(login_ok(r), (r.status, r.text[:300]))
        check("state_sync.restored" in s.log_text())


@case
def restart_within_a_boot_needs_no_network():
    with Run(GCP, DIR, "sealed-3", client=CLIENT) as s:
        check("state_sync.restart" in s.log_text(), "key recovered from sealed.last")
        check(s.login("bob").status == 409)


@case
def an_older_blob_is_refused_as_a_rollback():
    post(GCP, "/__fake/objects", {"name": GCS_OBJ, "data_b64": B1})   # the operator restores the old copy
    shutil.rmtree(DIR)
    with Run(GCP, DIR, "sealed-4", client=CLIENT) as s:
        st = sealed_status(s)
        check(st["ok"] is False and "rollback" in (st.get("refusing_logins_because") or ""), st)
        r = s.get("/login")
        check(r.status == 503 and "rollback" in r.text, (r.status, r.text[:400]))
        check(not os.path.exists(os.path.join(DIR, "state.v1")), "nothing was installed")


@case
def another_boot_chain_cannot_open_the_state():
    """PolicyPCR: a different PCR 4 (another UKI) cannot unseal the key."""
    post(GCP, "/__fake/objects", {"name": GCS_OBJ, "delete": True})
    d = tempfile.mkdtemp(prefix="sealed-pcr-")
    with Run(GCP, d, "sealed-pcr-1", client=CLIENT) as s:
        check(login_ok(s.login("alice")))
    TPM.tools("tpm2_pcrextend", "4:sha256=" + "ab" * 32)
    shutil.rmtree(d)
    with Run(GCP, d, "sealed-pcr-2", client=CLIENT) as s:
        st = sealed_status(s)
        check(st["ok"] is False and "another machine or another image" in st["refusing_logins_because"], st)
        check("seal.tpm_policy_refused" in s.log_text())


@case
def a_second_instance_takes_the_state_and_the_first_refuses():
    # put the newest blob back (the rollback case left the store at B1; the NV counter is ahead):
    # start over with a fresh object for this case
    post(GCP, "/__fake/objects", {"name": GCS_OBJ, "delete": True})
    d1, d2 = tempfile.mkdtemp(prefix="sealed-a-"), tempfile.mkdtemp(prefix="sealed-b-")
    with Run(GCP, d1, "sealed-vm1", client=CLIENT) as a:
        check(login_ok(a.login("alice")))
        with Run(GCP, d2, "sealed-vm2", client=CLIENT) as b:
            check(sealed_status(b)["ok"] is True)
            time.sleep(0.5)
            check(b.login("alice").status == 409, "the second VM sees the first VM's ids")
            r = a.login("carol")
            check(r.status == 503 and "another instance" in r.text, (r.status, r.text[:400]))
            st = sealed_status(a)
            check(st["ok"] is False and st["sealed"]["owner"] is False, st)
            check(login_ok(b.login("carol")), "carol was not used up by the refused attempt")


@case
def store_failure_on_save_gives_an_error_page_and_uses_nothing():
    post(GCP, "/__fake/objects", {"name": GCS_OBJ, "delete": True})
    d = tempfile.mkdtemp(prefix="sealed-f-")
    with Run(GCP, d, "sealed-faults", client=CLIENT) as s:
        time.sleep(0.3)
        post(GCP, "/__fake/store", {"put_fail": 1})
        r = s.login("alice")
        check(r.status == 503 and "not used up" in r.text, (r.status, r.text[:300]))
        check(login_ok(s.login("alice")), "alice can log in once the store answers")
        check(s.login("alice").status == 409)
        post(GCP, "/__fake/store", {"put_lost": 1})   # stored, but the answer is lost
        r = s.login("bob")
        check(login_ok(r), (r.status, r.text[:300]))
        check("state_sync.own_write_found" in s.log_text())
        check(s.login("bob").status == 409)
        st = sealed_status(s)
        check(st["ok"] is True and st["sealed"]["owner"] is True, st)


@case
def fault_injection_on_seal_and_restore():
    if not os.path.exists(FAULTS_BIN):
        check(True, "skip: build/faults/sealed-login not built (make faults)")
        return
    post(GCP, "/__fake/objects", {"name": GCS_OBJ, "delete": True})
    d = tempfile.mkdtemp(prefix="sealed-fi-")
    ff = os.path.join(d + "-faults")
    open(ff, "w").close()
    extra = {"SEALED_FAULT_FILE": ff}
    with Run(GCP, d, "sealed-fi", client=CLIENT, binary=FAULTS_BIN, extra=extra) as s:
        for point, user in (("seal_wrap", "alice"), ("state_save", "bob"), ("seal_counter", "carol")):
            open(ff, "w").write(point)
            r = s.login(user)
            check(r.status == 503, (point, r.status))
            open(ff, "w").close()
            if point == "seal_counter":   # a counter that cannot advance: logins stay closed
                st = sealed_status(s)
                check(st["ok"] is False and "counter" in st["refusing_logins_because"], st)
            else:   # nothing was used: the same account gets its one result now
                check(login_ok(s.login(user)), point)
                check(s.login(user).status == 409, point)
    shutil.rmtree(d)
    open(ff, "w").write("state_restore")
    with Run(GCP, d, "sealed-fi2", client=CLIENT, binary=FAULTS_BIN, extra=extra) as s:
        st = sealed_status(s)
        check(st["ok"] is False and "could not be read" in st["refusing_logins_because"], st)
    os.unlink(ff)


@case
def the_same_on_oci_object_storage():
    global OCI
    OCI = ct.Fake("oci", {}, {})
    d = tempfile.mkdtemp(prefix="sealed-oci-")
    with Run(OCI, d, "sealed-oci", client=CLIENT, platform="oci") as s:
        check(sealed_status(s)["scope"] == "sealed-vtpm", sealed_status(s))
        check(login_ok(s.login("alice")))
    signed = [e for e in OCI.state()["log"] if e[0] == "objectstorage"]
    check(signed and all(e[3] in (200, 404) for e in signed), signed)
    shutil.rmtree(d)
    with Run(OCI, d, "sealed-oci-2", client=CLIENT, platform="oci") as s:
        check(s.login("alice").status == 409)
        check(login_ok(s.login("bob")))


try:
    done()
finally:
    GCP.stop()
    if OCI:
        OCI.stop()
    TPM.stop()
