"""deploy/oci/sealed-deploy-oci and the sealed state's bucket (docs/deploy-oci.md, "The sealed state"),
against the control-plane fake: a shielded deployment gets a private bucket without versioning, the
metadata key the service reads, and a policy that lets only its dynamic group read, create and
overwrite objects in that one bucket; plan, rerun, drift, read-back and status cover it; a name taken
elsewhere in the namespace gives a clear error; replacing the VM warns that the new one cannot open
the state; teardown keeps a bucket that holds state unless given --delete-state. The fake's policy
grammar and bucket calls are checked to refuse what OCI refuses."""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from tap import case, check, done  # noqa: E402
import deploytest as dt  # noqa: E402

SHIELDED = {"mode": "shielded", "shape": "VM.Standard.E4.Flex", "ocpus": "1", "memory_gbs": "4"}
FULL = ("date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256")
E = dt.Env("state")
NS = E.namespace
BUCKET = "sealed-login-state"


def changes(state, start=0):
    return [e for e in state["log"][start:] if e[0] in ("POST", "PUT", "DELETE") and e[2] < 300]


def bucket(st, name=BUCKET):
    got = [b for b in st["buckets"] if b["name"] == name]
    return got[0] if got else None


def put_state(env, data=b"SEALEDST-blob"):
    """The VM's first save, as state_remote.c sends it (if-none-match: * is not signed, so it is left out)."""
    code, body, _ = env.signed("PUT", f"/n/{NS}/b/{BUCKET}/o/state.v1", data)
    return code, body


@case
def plan_lists_the_state_bucket_and_sends_only_gets():
    rc, out, err = E.run("plan", **SHIELDED)
    check(rc == 0 and re.search(r"create +bucket +sealed-login-state +the sealed state: private, versioning off", out),
          out + err)
    check(f"state:        oci:{NS}/{BUCKET}/state.v1, sealed by the vTPM" in out and "bucket to be created" in out, out)
    check(all(e[0] == "GET" for e in E.state()["log"]))


@case
def deploy_makes_a_private_unversioned_bucket_and_says_what_it_means():
    rc, out, err = E.run("deploy", **SHIELDED)
    check(rc == 0 and re.search(r"created +bucket +sealed-login-state", out), out + err)
    b = bucket(E.state())
    check(b and b["publicAccessType"] == "NoPublicAccess" and b["versioning"] == "Disabled"
          and b["storageTier"] == "Standard" and b["objectEventsEnabled"] is False
          and b["freeformTags"] == {"sealed-login-deployment": "sealed-login"} and b["compartmentId"] == dt.COMPARTMENT, b)
    check(re.search(r"state: +oci:\S+/sealed-login-state/state.v1, sealed by the vTPM .*once per account across "
                    r"reboots; bucket NoPublicAccess, versioning Disabled, object not written yet", out), out)
    check("tpm2 quote" in out, out)


@case
def metadata_names_the_object_the_service_reads():
    md = dt.one(E.state(), "instance")["metadata"]
    check(md.get("state_store") == f"oci:{NS}/{BUCKET}/state.v1", md)
    # the key is one the service takes from metadata, and the value has the shape state_remote.c parses
    src = open(os.path.join(dt.ROOT, "src", "login", "config.c")).read()
    check(re.search(r'\{"state_store", "SEALED_STATE_STORE", K_STR, T_METADATA', src))
    check(re.fullmatch(r"oci:[A-Za-z0-9_-][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*",
                       md["state_store"]), md["state_store"])


@case
def policy_lets_only_the_vm_read_create_and_overwrite_in_that_bucket():
    st = E.state()
    dg = dt.one(st, "dynamicgroup")
    inst = dt.one(st, "instance")
    check(dg["matchingRule"] == f"Any {{instance.id = '{inst['id']}'}}")
    pol = dt.one(st, "policy")
    state_lines = [s for s in pol["statements"] if "objects" in s]
    check(state_lines == [
        f"Allow dynamic-group {dg['name']} to manage objects in compartment id {dt.COMPARTMENT} where all "
        f"{{target.bucket.name = '{BUCKET}', request.permission = '{p}'}}"
        for p in ("OBJECT_READ", "OBJECT_CREATE", "OBJECT_OVERWRITE")], state_lines)
    # nothing on buckets, no delete, nothing on another bucket (the image bucket is the operator's)
    check(not any(re.search(r"buckets|object-family|OBJECT_DELETE|sealed-login-images", s) for s in pol["statements"]))


@case
def fake_checks_policy_statements_as_oci_documents_them():
    dg = dt.one(E.state(), "dynamicgroup")["name"]
    c = f"in compartment id {dt.COMPARTMENT}"

    def create(stmt):
        body = {"compartmentId": dt.COMPARTMENT, "name": "probe", "description": "probe", "statements": [stmt]}
        code, out, _ = E.signed("POST", "/20160918/policies", json.dumps(body).encode(), headers=FULL)
        return code, out

    refused = {
        "unknown permission": f"Allow dynamic-group {dg} to manage objects {c} where request.permission = 'OBJECT_WRITE'",
        "permission of another type": f"Allow dynamic-group {dg} to manage objects {c} where request.permission = "
                                      "'BUCKET_DELETE'",
        "variable of another type": f"Allow dynamic-group {dg} to read secret-bundles {c} where target.bucket.name = 'x'",
        "unquoted value": f"Allow dynamic-group {dg} to manage objects {c} where target.bucket.name = x",
        "nested groups": f"Allow dynamic-group {dg} to manage objects {c} where all {{target.bucket.name = 'x', "
                         "any {request.permission = 'OBJECT_READ'}}",
        "unknown verb": f"Allow dynamic-group {dg} to write objects {c}",
        "unknown group": f"Allow dynamic-group nobody to manage objects {c} where target.bucket.name = 'x'",
    }
    for why, stmt in refused.items():
        code, out = create(stmt)
        check(code == 400 and out["code"] == "InvalidParameter", (why, code, out))
    code, out = create(f"Allow dynamic-group {dg} to manage objects {c} where all {{target.bucket.name = '{BUCKET}', "
                       "request.permission = 'OBJECT_READ'}")
    check(code == 200, out)
    code, _, _ = E.signed("DELETE", f"/20160918/policies/{out['id']}")
    check(code == 204)


@case
def fake_bucket_calls_are_as_strict_as_oci():
    def create(**kw):
        body = dict({"name": "probe-bucket", "compartmentId": dt.COMPARTMENT}, **kw)
        code, out, _ = E.signed("POST", f"/n/{NS}/b/", json.dumps(body).encode(), headers=FULL)
        return code, out
    code, out = create(name=BUCKET)
    check(code == 409 and out["code"] == "BucketAlreadyExists", out)
    check(create(versioning="Suspended")[0] == 400)          # CreateBucketDetails: Enabled or Disabled
    check(create(publicAccessType="Public")[0] == 400)
    check(create(versionning="Disabled")[0] == 400)          # a misspelled field
    check(create(name="a/b")[1]["code"] in ("InvalidBucketName", "NotFound"))
    code, out, _ = E.signed("GET", f"/n/{NS}/b/no-such-bucket")
    check(code == 404 and out["code"] == "BucketNotFound" and "no-such-bucket" in out["message"], out)
    code, out, _ = E.signed("GET", f"/n/othernamespace/b/{BUCKET}")
    check(code == 404 and out["code"] == "NamespaceNotFound", out)
    # a bucket whose versioning was never enabled cannot be suspended
    code, out, _ = E.signed("POST", f"/n/{NS}/b/{BUCKET}", json.dumps({"versioning": "Suspended"}).encode(), headers=FULL)
    check(code == 400, out)
    # object preconditions as the VM uses them
    code, _ = put_state(E)
    check(code == 200)
    code, out = put_state(E)        # unconditional overwrite works (the fake's signed() sends no if-match)
    check(code == 200)


@case
def rerun_changes_nothing_and_status_shows_the_state():
    n0 = len(E.state()["log"])
    rc, out, err = E.run("deploy", **SHIELDED)
    check(rc == 0 and re.search(r"exists +bucket +sealed-login-state", out), out + err)
    check(changes(E.state(), n0) == [], changes(E.state(), n0))
    check(re.search(r"state: .*object 13 bytes", out), out)
    n1 = len(E.state()["log"])
    rc, out, err = E.run("status", **SHIELDED)
    check(rc == 0 and re.search(r"state +bucket sealed-login-state: state.v1 13 bytes, etag \w+", out), out + err)
    check(all(e[0] == "GET" or e[1].endswith("summarizeMetricsData") for e in E.state()["log"][n1:]))


@case
def drift_public_access_or_versioning_is_put_back():
    body = json.dumps({"publicAccessType": "ObjectRead", "versioning": "Enabled"}).encode()
    code, out, _ = E.signed("POST", f"/n/{NS}/b/{BUCKET}", body, headers=FULL)
    check(code == 200 and out["publicAccessType"] == "ObjectRead", out)
    rc, out, err = E.run("plan", **SHIELDED)
    check(rc == 0 and re.search(r"update +bucket +sealed-login-state +publicAccessType ObjectRead -> NoPublicAccess, "
                                r"versioning Enabled -> Suspended", out), out + err)
    check(bucket(E.state())["publicAccessType"] == "ObjectRead")
    rc, out, err = E.run("deploy", **SHIELDED)
    check(rc == 0 and re.search(r"updated +bucket +sealed-login-state", out) and "refused by the VM as a rollback" in err,
          out + err)
    b = bucket(E.state())
    check(b["publicAccessType"] == "NoPublicAccess" and b["versioning"] == "Suspended", b)


@case
def replacing_the_vm_warns_that_the_new_one_cannot_open_the_state():
    img = E.make_image("disk2.qcow2", 210_000, b"B")
    rc, out, err = E.run("plan", image=img, **SHIELDED)
    check(rc == 0 and "replace  instance" in out, out + err)
    check("holds a sealed state (13 bytes) that only the VM which wrote it" in err and "delete the object state.v1" in err,
          err)


@case
def teardown_keeps_a_bucket_that_holds_state_unless_told():
    rc, out, err = E.run("teardown-plan", **SHIELDED)
    check(rc == 0 and re.search(r"keep +bucket +sealed-login-state +holds the sealed state \(--delete-state", out), out)
    check(not re.search(r"delete +bucket +sealed-login-state", out), out)
    rc, out, err = E.run("teardown", **SHIELDED)
    check(rc == 0 and "Kept: the bucket sealed-login-state" in out and "--delete-state" in out, out + err)
    st = E.state()
    check(bucket(st) and f"{BUCKET}/state.v1" in st["objects"], st["buckets"])
    check(not any(b["name"] == "sealed-login-images" for b in st["buckets"]))
    check(dt.by_kind(st, "instance") == [] and dt.by_kind(st, "policy") == [])
    # a redeploy finds the kept bucket (and says the new VM cannot open what it holds: another vTPM)
    rc, out, err = E.run("deploy", **SHIELDED)
    check(rc == 0 and re.search(r"exists +bucket +sealed-login-state", out) and "A new VM cannot" in err, out + err)
    rc, out, err = E.run("teardown", "--delete-state", **SHIELDED)
    check(rc == 0 and re.search(r"deleted +object +state.v1", out) and re.search(r"deleted +bucket +sealed-login-state", out),
          out + err)
    check(E.state()["buckets"] == [])


@case
def an_empty_state_bucket_goes_with_teardown_and_standard_mode_has_none():
    rc, out, err = E.run("deploy", **SHIELDED)
    check(rc == 0 and bucket(E.state()))
    rc, out, err = E.run("teardown", **SHIELDED)
    check(rc == 0 and re.search(r"deleted +bucket +sealed-login-state", out) and "Kept:" not in out, out + err)
    rc, out, err = E.run("deploy")       # mode standard: nothing seals, no bucket, no metadata key
    check(rc == 0 and "state:        per boot (mode standard" in out, out + err)
    st = E.state()
    check(bucket(st) is None and "state_store" not in dt.one(st, "instance")["metadata"])
    check(not any("objects" in s for s in dt.one(st, "policy")["statements"]))
    rc, out, err = E.run("teardown")
    check(rc == 0, err)


@case
def a_bucket_name_taken_elsewhere_in_the_namespace_is_a_clear_error():
    body = {"name": "other-state", "compartmentId": dt.TENANCY}
    code, out, _ = E.signed("POST", f"/n/{NS}/b/", json.dumps(body).encode(), headers=FULL)
    check(code == 200, out)
    rc, out, err = E.run("deploy", name="other", **SHIELDED)
    check(rc == 1 and "HTTP 409 BucketAlreadyExists" in err and "unique in the whole namespace" in err, out + err)
    check(dt.by_kind(E.state(), "instance") == [])
    rc, out, err = E.run("teardown", name="other")
    check(rc == 0, err)


try:
    done()
finally:
    E.stop()
