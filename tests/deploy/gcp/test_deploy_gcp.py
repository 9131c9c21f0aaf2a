#!/usr/bin/env python3
"""deploy/gcp/*.sh against tests/fakes/fake_gcp_control.py, as an operator would use them: plan, deploy,
inspect every resource and its wiring (the VM's notification topic: only its account publishes, the
metadata names it, an alert mails each message), rerun, rotate the secret, survive a failing operation and a
concurrent IAM change, read clear errors, run the egress guard under its own identity, deploy a
SEV-SNP Confidential VM, tear everything down. Throughout, a sampler watches every process's argv
(and the environment of curl/jq/openssl) and every output for the PayPal secrets and the tokens.
"""
import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.environ.get("SEALED_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from tap import case, check, done  # noqa: E402

OUT = os.path.join(os.environ.get("SEALED_TEST_OUT", os.path.join(ROOT, "tests", "out")), "deploy-gcp")
D = os.path.join(ROOT, "deploy", "gcp")
PROJECT = "sealed-test"
DOMAIN = "login.example.com"
CLIENT_ID = "AbC123-client_id"
SECRET1 = "EFakePayPalSecret-" + base64.b32encode(os.urandom(10)).decode().lower()
SECRET2 = "EFakePayPalSecret2-" + base64.b32encode(os.urandom(10)).decode().lower()
GIB = 1 << 30

shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
WORK = tempfile.mkdtemp(prefix="gcpdeploy-", dir=OUT)
fake = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "fakes", "fake_gcp_control.py"), "--dir",
                         os.path.join(WORK, "fake")], stdout=subprocess.PIPE, stderr=open(os.path.join(OUT, "fake.err"), "w"), text=True)
INFO = json.loads(fake.stdout.readline())
PORT, CA = INFO["port"], INFO["ca_file"]
KEY = INFO["keys"]["deployer"]
CTX = ssl.create_default_context(cafile=CA)


def api(method, url, body=None, token=None):
    """A request to the fake under a production URL (as curl --connect-to does)."""
    u = re.sub(r"^https://([^/]+)", f"https://127.0.0.1:{PORT}", url)
    host = re.match(r"https://([^/]+)", url).group(1)
    req = urllib.request.Request(u, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Host": host, "Content-Type": "application/json",
                                          **({"Authorization": "Bearer " + token} if token else {})})
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=20) as r:
            data = r.read()
            return r.status, json.loads(data) if data else {}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def ctl(what, body=None):
    return api("POST" if body is not None else "GET", f"https://compute.googleapis.com/__fake/{what}", body)[1]


def state():
    return ctl("state")


def token_for(email):
    return ctl("token", {"email": email})["access_token"]


# ---- the image archive, as build-disk.sh makes it: a sparse 1 GiB GPT disk.raw in an oldgnu tar.gz
IMG_DIR = os.path.join(WORK, "disk")
os.makedirs(IMG_DIR)
RAW = os.path.join(WORK, "raw")
os.makedirs(RAW)
with open(os.path.join(RAW, "disk.raw"), "wb") as f:
    f.truncate(GIB)
    f.seek(510)
    f.write(b"\x55\xaa" + b"EFI PART")
IMAGE = os.path.join(IMG_DIR, "sealed-login-gcp.tar.gz")
subprocess.run(["tar", "--format=oldgnu", "-Sczf", IMAGE, "-C", RAW, "disk.raw"], check=True)
with open(os.path.join(IMG_DIR, "disk.txt"), "w") as f:
    f.write("stub_package=systemd-boot-efi\ncmdline=console=ttyS0 quiet panic=-1 sealed.ip=10.128.0.10/20 "
            "sealed.gw=10.128.0.1 sealed.dns=169.254.169.254\n")
SECRET_FILE = os.path.join(WORK, "paypal-secret")
with open(os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write(SECRET1)

# gcloud must not be found unless a test puts its own on PATH
BIN = os.path.join(WORK, "bin")
os.makedirs(BIN)
for tool in ("bash", "curl", "jq", "openssl", "tar", "gzip", "sha256sum", "awk", "sed", "od", "wc", "cut", "tr", "head",
             "tail", "cat", "cmp", "date", "mktemp", "rm", "cp", "basename", "dirname", "grep", "sleep", "sort", "flock"):
    p = shutil.which(tool)
    if p:
        os.symlink(p, os.path.join(BIN, tool))
ENV = {"PATH": BIN, "HOME": WORK, "LANG": "C", "SEALED_GCP_CONNECT_TO": f"127.0.0.1:{PORT}",
       "SEALED_GCP_CA_FILE": CA, "SEALED_GCP_RETRY_DELAY": "0", "SEALED_GCP_IAM_DELAY": "0", "TMPDIR": WORK,
       "SEALED_GCP_LOCK_DIR": WORK}

# ---- the leak sampler ----------------------------------------------------------------------------
SIGNKEY = os.path.join(WORK, "signing-key.pem")
subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", SIGNKEY], check=True)
os.chmod(SIGNKEY, 0o600)
SIGNKEY_BODY = "".join(open(SIGNKEY).read().splitlines()[1:-1])   # the base64 of the private key
SECRETS = [SECRET1, SECRET2, SIGNKEY_BODY[48:88]]   # past the PKCS#8 header every P-256 key shares
LEAKS = []
OUTPUTS = []
_sampling = threading.Event()


def _sample():
    """Checks the argv of every process descended from this test (and the environment of curl, jq,
    openssl) for the secrets and for tokens, every few milliseconds while a script runs."""
    me = os.getpid()
    seen, ours = set(), {me}   # every pid looked at once; those descended from this test
    while True:
        _sampling.wait()
        live = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        for pid in live:
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) in ours:
                        ours.add(pid)
            except (OSError, IndexError, ValueError):
                continue
        if len(seen) > 200000:
            seen.clear()
        for pid in ours & set(live) - {me}:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace")
                env = ""
                if re.search(r"(^|/)(curl|jq|openssl)\x00", argv):
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        env = f.read().decode(errors="replace")
            except OSError:
                continue
            for s in SECRETS:
                if s in argv or s in env:
                    LEAKS.append(f"secret in pid {pid}: {argv[:80]!r}")
            if "ya29." in argv or "ya29." in env or "Bearer " in argv:
                LEAKS.append(f"token in pid {pid}: {argv[:120]!r}")
        time.sleep(0.003)


threading.Thread(target=_sample, daemon=True).start()
RUNS = 0


def run(script, *args, stdin=None, env=None, expect=0):
    """Runs a script; deploy.sh gets --mode shielded unless the call names a mode (mode is required)."""
    global RUNS
    RUNS += 1
    if script == "deploy.sh" and not {"--mode", "--confidential", "--settings", "--no-mode"} & set(args):
        args = ("--mode", "shielded") + args
    args = tuple(a for a in args if a != "--no-mode")
    e = dict(ENV, **(env or {}))
    _sampling.set()
    try:
        r = subprocess.run(["bash", os.path.join(D, script), *args], input=stdin if stdin is not None else "", capture_output=True, text=True,
                           env=e, timeout=600, cwd=ROOT)
    finally:
        _sampling.clear()
    log = os.path.join(OUT, f"run{RUNS:02d}-{script[:-3]}.log")
    with open(log, "w") as f:
        f.write(f"$ {script} {' '.join(args)}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}\nrc={r.returncode}\n")
    OUTPUTS.append(r.stdout + r.stderr)
    if expect is not None:
        check(r.returncode == expect, f"{script} {args}: rc {r.returncode}, wanted {expect}; see {log}\n{r.stderr[-1500:]}")
    return r


def deploy(*extra, name="sealed-login", secret=True, expect=0, env=None, key=True):
    args = ["--project", PROJECT, "--domain", DOMAIN, "--paypal-client-id", CLIENT_ID, "--image", IMAGE,
            "--name", name, "--alert-email", "ops@example.com"]
    if secret:
        args += ["--paypal-secret-file", SECRET_FILE]
    if key:
        args += ["--key-file", KEY]
    return run("deploy.sh", *args, *extra, expect=expect, env=env)


MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def mutations(since):
    """Requests that change something (reads that Google spells as POST are not counted)."""
    log = ctl("log")["log"][since:]
    return [f"{x['method']} {x['host']}{x['path']}" for x in log if x["method"] in MUTATING
            and not x["path"].endswith((":getIamPolicy", "/wait")) and not x["path"].startswith("/__fake")
            and x["host"] != "oauth2.googleapis.com"]


def log_len():
    return len(ctl("log")["log"])


def api_calls(since):
    """Every request to a Google API (the fake's own control calls are not counted)."""
    return [x for x in ctl("log")["log"][since:] if not x["path"].startswith("/__fake")]


def ours(items, name="sealed-login"):
    return {k: v for k, v in items.items() if (v.get("labels") or {}).get("sealed-login") == name}


def trusted_metadata_keys():
    src = open(os.path.join(ROOT, "src", "common", "cloud_wire.c")).read()
    body = re.search(r"cloud_trusted_metadata_keys\[\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
    return set(re.findall(r'"([a-z_]+)"', body))


# ---- cases ---------------------------------------------------------------------------------------

@case
def the_leak_sampler_sees_argv_and_environment():
    """The sampler below must be able to fail: a secret in a process's argv, and a token in curl's
    environment, are both seen."""
    _sampling.set()
    try:
        subprocess.run(["bash", "-c", "sleep 0.3; true", "x", SECRET1], check=True)
        with socket.socket() as mute:   # accepts (kernel backlog) and never answers: curl lives 0.5 s
            mute.bind(("127.0.0.1", 0))
            mute.listen(1)
            subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "0.5", f"http://127.0.0.1:{mute.getsockname()[1]}/"],
                           env={"T": "ya29.canary"})
        seen = list(LEAKS)
    finally:
        _sampling.clear()
        LEAKS.clear()
    check(any("secret" in x for x in seen) and any("token" in x for x in seen), seen)


@case
def dry_run_plans_and_changes_nothing():
    n = log_len()
    r = deploy("--dry-run")
    for want in ("would enable compute.googleapis.com", "would create network sealed-login-net (custom mode, MTU 1500)",
                 "would create subnetwork sealed-login-subnet 10.128.0.0/20 in us-central1", "would create bucket", "would upload", "would create image",
                 "would create secret", "would add a version", "would create service account sealed-login-vm@",
                 "would reserve static external IP", "would reserve internal IP sealed-login-internal-ip 10.128.0.10",
                 "would create firewall rule sealed-login-web", "would create instance sealed-login: e2-micro",
                 "would create email notification channel", "would create uptime check",
                 "would create Pub/Sub topic projects/sealed-test/topics/sealed-login-notify",
                 "would grant sealed-login-vm@sealed-test.iam.gserviceaccount.com roles/pubsub.publisher on topic sealed-login-notify (only)",
                 "would create inbox subscription projects/sealed-test/subscriptions/sealed-login-notify-inbox"):
        check(want in r.stdout, f"plan lacks {want!r}")
    check(mutations(n) == [], f"a dry run changed things: {mutations(n)}")
    check(re.search(r"== plan: (\d+) change\(s\)", r.stdout) and int(re.search(r"== plan: (\d+)", r.stdout).group(1)) >= 20, r.stdout[-300:])
    check(not any(state()["services"][s] for s in ("compute.googleapis.com", "secretmanager.googleapis.com")), "APIs got enabled")


@case
def deploy_creates_every_resource_wired_together():
    n, t = log_len(), time.time()
    r = deploy()
    print(f"# first deploy into the fake: {log_len() - n} requests, {len(mutations(n))} changing, {time.time() - t:.1f} s", flush=True)
    s = state()
    check(all(s["services"].values()), f"APIs not all enabled: {s['services']}")
    vm_sa = f"sealed-login-vm@{PROJECT}.iam.gserviceaccount.com"
    guard = f"sealed-login-guard@{PROJECT}.iam.gserviceaccount.com"
    # image from the uploaded archive, UEFI
    imgs = ours(s["images"])
    check(len(imgs) == 1, f"images: {list(imgs)}")
    img = next(iter(imgs.values()))
    check({"type": "UEFI_COMPATIBLE"} in img["guestOsFeatures"] and img["diskSizeGb"] == "1" and img["status"] == "READY", img)
    bucket = f"{PROJECT}-sealed-login-images"
    check(img["rawDisk"]["source"].startswith(f"https://storage.googleapis.com/{bucket}/"), img["rawDisk"])
    b = s["buckets"][bucket]
    check(b["labels"] == {"sealed-login": "sealed-login"} and b["location"] == "US-CENTRAL1" and
          b["iamConfiguration"]["publicAccessPrevention"] == "enforced", b)
    obj = s["objects"][img["rawDisk"]["source"].split("https://storage.googleapis.com/")[1]]
    check(obj["size"] == str(os.path.getsize(IMAGE)), obj)
    # the instance
    inst = s["instances"]["us-central1-b/sealed-login"]
    check(inst["machineType"].endswith("zones/us-central1-b/machineTypes/e2-micro"), inst["machineType"])
    disk = s["disks"]["us-central1-b/sealed-login"]
    check(disk["type"].endswith("/diskTypes/pd-standard") and int(disk["sizeGb"]) <= 30 and disk["sourceImage"].endswith(img["name"]), disk)
    sh = inst["shieldedInstanceConfig"]
    check(sh == {"enableSecureBoot": False, "enableVtpm": True, "enableIntegrityMonitoring": True}, sh)
    check(inst["serviceAccounts"] == [{"email": vm_sa, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}], inst["serviceAccounts"])
    fw = s["firewalls"]["sealed-login-web"]
    check(fw["targetTags"] == inst["tags"]["items"] == ["sealed-login"], (fw["targetTags"], inst["tags"]))
    check(fw["allowed"] == [{"IPProtocol": "tcp", "ports": ["80", "443"]}] and fw["sourceRanges"] == ["0.0.0.0/0"] and not fw["disabled"], fw)
    nic = inst["networkInterfaces"][0]
    net, sub = s["networks"]["sealed-login-net"], s["subnetworks"]["us-central1/sealed-login-subnet"]
    check(net["mtu"] == 1500 and net["autoCreateSubnetworks"] is False and sub["ipCidrRange"] == "10.128.0.0/20"
          and sub["gatewayAddress"] == "10.128.0.1" and sub["network"] == net["selfLink"], (net, sub))
    check(nic["network"] == net["selfLink"] and nic["subnetwork"] == sub["selfLink"] and fw["network"] == net["selfLink"], nic)
    check(s["firewalls"]["default-allow-ssh"]["network"] != net["selfLink"], "the default network's rules reach the VM")
    ext = s["addresses"]["us-central1/sealed-login-ip"]
    internal = s["addresses"]["us-central1/sealed-login-internal-ip"]
    check(nic["networkIP"] == internal["address"] == "10.128.0.10" and internal["status"] == "IN_USE", (nic, internal))
    check(nic["accessConfigs"][0]["natIP"] == ext["address"] and ext["status"] == "IN_USE" and ext["users"] == [inst["selfLink"]], ext)
    check(ext["networkTier"] == nic["accessConfigs"][0]["networkTier"] == "STANDARD", ext)
    # metadata: exactly the keys the service reads, the secret id resolvable in the VM's project
    md = {i["key"]: i["value"] for i in inst["metadata"]["items"]}
    check(set(md) <= trusted_metadata_keys() and
          set(md) == {"paypal_client_id", "domain", "secret_ocid", "state_store", "egress_cap_bytes", "notification_topic_id"}, md)
    check(md["notification_topic_id"] == f"projects/{PROJECT}/topics/sealed-login-notify", md)
    check(md["state_store"] == f"gcs:{PROJECT}-sealed-login-state/state.v1" and md["egress_cap_bytes"] == str(180 * GIB), md)
    check(md["paypal_client_id"] == CLIENT_ID and md["domain"] == DOMAIN, md)
    check(re.fullmatch(r"[A-Za-z0-9_-]+", md["secret_ocid"]) and md["secret_ocid"] in s["secrets"], md["secret_ocid"])
    # the secret: one enabled version holding exactly the file's bytes
    sec = s["secrets"][md["secret_ocid"]]
    check([v["state"] for v in sec["versions"]] == ["ENABLED"] and sec["meta"]["labels"] == {"sealed-login": "sealed-login"}, sec)
    check(ctl("secret_values")[md["secret_ocid"]] == [base64.b64encode(SECRET1.encode()).decode()], "stored value differs")
    check(sec["policy"]["bindings"] == [{"role": "roles/secretmanager.secretAccessor", "members": [f"serviceAccount:{vm_sa}"]}],
          sec["policy"])
    # least privilege, checked by asking the API as the VM's account
    tok = token_for(vm_sa)
    st, body = api("GET", f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/{md['secret_ocid']}/versions/latest:access", token=tok)
    check(st == 200 and base64.b64decode(body["payload"]["data"]).decode() == SECRET1, (st, "access as the VM"))
    st, _ = api("GET", f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/unrelated-secret/versions/latest:access", token=tok)
    check(st == 403, f"the VM's account reads another secret: {st}")
    st, _ = api("GET", f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}/zones/us-central1-b/instances/sealed-login", token=tok)
    check(st == 403, f"the VM's account reads compute: {st}")
    check([b["role"] for b in s["policy"]["bindings"] if f"serviceAccount:{vm_sa}" in b["members"]] == ["roles/monitoring.viewer"],
          "the VM account's project roles: only roles/monitoring.viewer (its egress guard reads metrics)")
    # the guard: custom role, bound with a condition naming only this VM, rule, network and operations
    gb = [b for b in s["policy"]["bindings"] if f"serviceAccount:{guard}" in b["members"]]
    check(sorted(b["role"] for b in gb) == sorted([f"projects/{PROJECT}/roles/sealedLoginGuard_sealed_login", "roles/monitoring.viewer"]), gb)
    cond = next(b for b in gb if b["role"].startswith("projects/"))["condition"]["expression"]
    check(f'resource.name == "projects/{PROJECT}/zones/us-central1-b/instances/sealed-login"' in cond and
          f'resource.name == "projects/{PROJECT}/global/firewalls/sealed-login-web"' in cond, cond)
    check(s["policy"]["version"] == 3, s["policy"]["version"])
    role = s["roles"]["sealedLoginGuard_sealed_login"]
    check(set(role["includedPermissions"]) == {"compute.instances.get", "compute.instances.stop", "compute.firewalls.get",
                                               "compute.firewalls.update", "compute.networks.updatePolicy",
                                               "compute.zoneOperations.get", "compute.globalOperations.get"}, role)
    # monitoring
    ch = [c for c in s["channels"].values() if c["userLabels"] == {"sealed-login": "sealed-login", "sealed-login-role": "email"}]
    check(len(ch) == 1 and ch[0]["labels"]["email_address"] == "ops@example.com", ch)
    up = list(s["uptime"].values())
    check(len(up) == 1 and up[0]["monitoredResource"]["labels"]["host"] == DOMAIN and up[0]["httpCheck"]["path"] == "/healthz"
          and up[0]["httpCheck"]["useSsl"] is True, up)
    pols = list(s["alerts"].values())
    check(len(pols) == 3 and all(p["notificationChannels"] == [ch[0]["name"]] for p in pols), pols)
    check(any(up[0]["name"].split("/")[-1] in p["conditions"][0]["conditionThreshold"]["filter"] for p in pols), "no uptime alert")
    eg = [p for p in pols if "sent_bytes_count" in p["conditions"][0]["conditionThreshold"]["filter"]]
    check(len(eg) == 1 and eg[0]["conditions"][0]["conditionThreshold"]["thresholdValue"] == 180 * GIB // 30, eg)
    # what the operator is told at the end
    check(f"external IP:    {ext['address']}" in r.stdout, "no external IP line")
    check("internal IP:    10.128.0.10, fixed in the image's command line (sealed.ip=10.128.0.10/20) and reserved as "
          "sealed-login-internal-ip: a build for this deployment, not the release's image" in r.stdout, r.stdout)
    check(f"{DOMAIN}. 300 IN A {ext['address']}" in r.stdout, "no DNS record line")
    check(f"sealed-verify result result.jws --client-id {CLIENT_ID}" in r.stdout, "no sealed-verify command")
    check("egress-guard.sh --project sealed-test --name sealed-login --zone us-central1-b" in r.stdout, "no guard cron line")
    check("sealed-login RUNNING e2-micro in us-central1-b, mode shielded (read back)" in r.stdout and
          "guestOsFeatures UEFI_COMPATIBLE;" in r.stdout and "gce-vtpm-google-rooted" in r.stdout, r.stdout)
    check(f"notifications:  topic projects/{PROJECT}/topics/sealed-login-notify, publishers: serviceAccount:{vm_sa} (read back)"
          in r.stdout and 'alert "sealed-login: the VM sent a notification" mails ops@example.com' in r.stdout, r.stdout)


def can(member, perm, resource):
    return ctl("can", {"member": member, "perm": perm, "resource": resource})["allowed"]


@case
def state_bucket_and_the_vms_own_rights():
    """Issue 12 and issue 16 item 4: the sealed state's bucket and the VM's least privilege, asked of
    the fake's IAM evaluation and of the APIs as the VM's own account."""
    s = state()
    vm = f"serviceAccount:sealed-login-vm@{PROJECT}.iam.gserviceaccount.com"
    sb, ib = f"{PROJECT}-sealed-login-state", f"{PROJECT}-sealed-login-images"
    b = s["buckets"][sb]
    check(b["iamConfiguration"] == {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"}, b)
    check(b["versioning"] == {"enabled": False} and b["softDeletePolicy"]["retentionDurationSeconds"] == "0", b)
    check(b["labels"] == {"sealed-login": "sealed-login", "sealed-login-role": "state"} and b["location"] == "US-CENTRAL1", b)
    role = s["roles"]["sealedLoginState_sealed_login"]
    check(sorted(role["includedPermissions"]) == ["storage.objects.create", "storage.objects.delete", "storage.objects.get"], role)
    check([x for x in s["bucket_policies"][sb]["bindings"] if vm in x["members"]] ==
          [{"role": f"projects/{PROJECT}/roles/sealedLoginState_sealed_login", "members": [vm]}], s["bucket_policies"][sb])
    for perm in ("storage.objects.get", "storage.objects.create", "storage.objects.delete"):
        check(can(vm, perm, f"projects/_/buckets/{sb}/objects/state.v1"), perm)
        check(not can(vm, perm, f"projects/_/buckets/{ib}/objects/x"), f"{perm} on the image bucket")
    check(not can(vm, "storage.objects.list", f"projects/_/buckets/{sb}"), "list")
    # the egress guard in the VM: read metrics, stop this instance and nothing else
    inst = f"projects/{PROJECT}/zones/us-central1-b/instances/sealed-login"
    check(s["roles"]["sealedLoginSelfStop_sealed_login"]["includedPermissions"] == ["compute.instances.stop"], s["roles"])
    check(s["instance_policies"]["us-central1-b/sealed-login"]["bindings"] ==
          [{"role": f"projects/{PROJECT}/roles/sealedLoginSelfStop_sealed_login", "members": [vm]}], s["instance_policies"])
    check(can(vm, "compute.instances.stop", inst) and can(vm, "monitoring.timeSeries.list", f"projects/{PROJECT}"))
    check(not can(vm, "compute.instances.stop", f"projects/{PROJECT}/zones/us-central1-b/instances/other"))
    check(not can(vm, "compute.instances.delete", inst) and not can(vm, "compute.instances.start", inst))
    # as the VM: its state object can be written in its bucket, nothing in the image bucket
    tok = token_for(vm.split(":", 1)[1])
    up = "https://storage.googleapis.com/upload/storage/v1/b/{}/o?uploadType=media&name=state.v1"
    st, _ = api("POST", up.format(sb), {"sealed": 1}, token=tok)
    check(st == 200, st)
    st, _ = api("POST", up.format(ib), {"sealed": 1}, token=tok)
    check(st == 403, st)
    st, _ = api("GET", f"https://storage.googleapis.com/storage/v1/b/{sb}/o", token=tok)
    check(st == 403, f"the VM lists the bucket: {st}")
    st, _ = api("DELETE", f"https://storage.googleapis.com/storage/v1/b/{sb}/o/state.v1", token=tok)
    check(st == 204, st)
    # plan shows the bucket and the grants as in place
    r = deploy("--dry-run", secret=False)
    check("state bucket gs://" + sb in r.stdout and "may read and write objects in gs://" + sb in r.stdout and
          "may stop instance sealed-login (only)" in r.stdout, r.stdout)


PS = f"https://pubsub.googleapis.com/v1/projects/{PROJECT}"


@case
def notification_topic_only_the_vm_publishes_and_an_alert_mails_it():
    """The service's notifications (started, secret fetch failing, daily counts, the egress guard's
    "cap reached") go to a Pub/Sub topic named in the metadata; only the VM's account may publish to
    it, by the topic's own IAM policy; an inbox keeps the text; an alert on the topic's publish count
    mails the operator's channel."""
    s = state()
    vm = f"serviceAccount:sealed-login-vm@{PROJECT}.iam.gserviceaccount.com"
    guard = f"serviceAccount:sealed-login-guard@{PROJECT}.iam.gserviceaccount.com"
    topic = f"projects/{PROJECT}/topics/sealed-login-notify"
    inbox = f"projects/{PROJECT}/subscriptions/sealed-login-notify-inbox"
    check(s["topics"][topic]["labels"] == {"sealed-login": "sealed-login"}, s["topics"])
    check(s["topic_policies"][topic]["bindings"] == [{"role": "roles/pubsub.publisher", "members": [vm]}], s["topic_policies"])
    check(not any(b["role"].startswith("roles/pubsub.") for b in s["policy"]["bindings"]), "a project-wide Pub/Sub role")
    md = {i["key"]: i["value"] for i in s["instances"]["us-central1-b/sealed-login"]["metadata"]["items"]}
    check(md["notification_topic_id"] == topic, md)
    sub = s["subscriptions"][inbox]
    check(sub["topic"] == topic and sub["messageRetentionDuration"] == "604800s" and sub["expirationPolicy"] == {}
          and sub["labels"] == {"sealed-login": "sealed-login"}, sub)
    # least privilege, asked of the fake's IAM evaluation
    check(can(vm, "pubsub.topics.publish", topic), "the VM cannot publish to its topic")
    check(not can(vm, "pubsub.topics.publish", f"projects/{PROJECT}/topics/other-topic"), "the VM publishes anywhere")
    check(not can(guard, "pubsub.topics.publish", topic) and not can(f"serviceAccount:{INFO['outsider']}", "pubsub.topics.publish", topic))
    check(not can(vm, "pubsub.topics.setIamPolicy", topic) and not can(vm, "pubsub.subscriptions.consume", inbox))
    # ... and as the accounts themselves: the VM's publish lands in the inbox, title and all
    tok = token_for(vm.split(":", 1)[1])
    msg = {"messages": [{"data": base64.b64encode(b"sealed-login is up on gcp; login is available.").decode(),
                         "attributes": {"title": "sealed-login started"}}]}
    st, body = api("POST", f"{PS}/topics/sealed-login-notify:publish", msg, token=tok)
    check(st == 200 and len(body["messageIds"]) == 1, (st, body))
    got = state()["inbox"][inbox]
    check(got and got[-1]["attributes"] == {"title": "sealed-login started"} and
          base64.b64decode(got[-1]["data"]) == b"sealed-login is up on gcp; login is available.", got)
    st, body = api("PUT", f"{PS}/topics/other-topic", {}, token=token_for(INFO["deployer"]))
    check(st == 200 and body["name"] == f"projects/{PROJECT}/topics/other-topic", body)
    st, body = api("POST", f"{PS}/topics/other-topic:publish", msg, token=tok)
    check(st == 403 and body["error"]["status"] == "PERMISSION_DENIED", body)
    st, body = api("POST", f"{PS}/topics/sealed-login-notify:publish", msg, token=token_for(guard.split(":", 1)[1]))
    check(st == 403, body)
    # the fake answers as Pub/Sub: name rules, 409, 404, the etag, unknown fields; errors without errors[]
    dep = token_for(INFO["deployer"])
    for bad_id in ("goog-notify", "ab", "9topic", "a" * 256, "no/slash", "sp ace"):
        st, body = api("PUT", f"{PS}/topics/{urllib.request.quote(bad_id, safe='')}", {}, token=dep)
        check(st in (400, 404) and body["error"]["status"] in ("INVALID_ARGUMENT", "NOT_FOUND"), (bad_id, st, body))
    st, body = api("PUT", f"{PS}/topics/goog-notify", {}, token=dep)
    check(st == 400 and body["error"] == {"code": 400, "message": f"Invalid [topics] name: (name=projects/{PROJECT}/topics/goog-notify)",
                                          "status": "INVALID_ARGUMENT"}, body)
    st, body = api("PUT", f"{PS}/topics/A-b_c.d~e+f%25g", {}, token=dep)
    check(st == 200, body)
    api("DELETE", f"{PS}/topics/A-b_c.d~e+f%25g", token=dep)
    st, body = api("PUT", f"{PS}/topics/sealed-login-notify", {}, token=dep)
    check(st == 409 and body["error"] == {"code": 409, "status": "ALREADY_EXISTS",
                                          "message": "Resource already exists in the project (resource=sealed-login-notify)."}, body)
    st, body = api("GET", f"{PS}/topics/no-such-topic", token=dep)
    check(st == 404 and body["error"] == {"code": 404, "status": "NOT_FOUND", "message": "Resource not found (resource=no-such-topic)."}, body)
    st, body = api("PUT", f"{PS}/topics/x-topic", {"labels": {"a": "b"}, "retention": "1d"}, token=dep)
    check(st == 400 and 'Unknown name "retention"' in body["error"]["message"], body)
    st, pol = api("GET", f"{PS}/topics/sealed-login-notify:getIamPolicy", token=dep)
    stale = dict(pol, etag="BwAAAA==")
    st, body = api("POST", f"{PS}/topics/sealed-login-notify:setIamPolicy", {"policy": stale}, token=dep)
    check(st == 409 and body["error"]["status"] == "ABORTED", body)
    st, body = api("POST", f"{PS}/topics/sealed-login-notify:setIamPolicy",
                   {"policy": dict(pol, bindings=[{"role": "roles/secretmanager.secretAccessor", "members": [vm]}])}, token=dep)
    check(st == 400 and "not supported for this resource" in body["error"]["message"], body)
    st, body = api("PUT", f"https://pubsub.googleapis.com/v1/projects/{PROJECT}/subscriptions/x-inbox",
                   {"topic": f"projects/{PROJECT}/topics/no-such-topic"}, token=dep)
    check(st == 404 and body["error"]["status"] == "NOT_FOUND", body)
    st, _ = api("DELETE", f"{PS}/topics/other-topic", token=dep)
    check(st == 200 and set(state()["topics"]) == {topic}, list(state()["topics"]))
    check(state()["topic_policies"][topic] == s["topic_policies"][topic], "the policy moved")
    # the alert on the topic's publish count mails the deployment's email channel
    ch = [c["name"] for c in s["channels"].values() if c["userLabels"].get("sealed-login-role") == "email"]
    al = [p for p in s["alerts"].values() if p["userLabels"].get("sealed-login-role") == "notify-alert"]
    check(len(al) == 1 and al[0]["notificationChannels"] == ch, al)
    ct = al[0]["conditions"][0]["conditionThreshold"]
    check(ct["filter"] == 'metric.type="pubsub.googleapis.com/topic/send_message_operation_count" AND resource.type="pubsub_topic" '
          'AND resource.label.topic_id="sealed-login-notify"' and ct["comparison"] == "COMPARISON_GT" and ct["thresholdValue"] == 0, ct)
    check(f"gcloud pubsub subscriptions pull {inbox}" in al[0]["documentation"]["content"], al[0]["documentation"])
    # the fake refuses an alert on a metric Monitoring does not know, or on the wrong resource type
    bad = dict(al[0], conditions=[{"displayName": "x", "conditionThreshold": dict(ct, filter=ct["filter"].replace("pubsub_topic", "gce_instance"))}])
    bad.pop("name")
    st, body = api("POST", f"https://monitoring.googleapis.com/v3/projects/{PROJECT}/alertPolicies", bad, token=dep)
    check(st == 400 and "valid combination of metric and monitored resource" in body["error"]["message"], body)
    # status.sh reads back who may publish
    r = run("status.sh", "--project", PROJECT, "--key-file", KEY)
    check(f"notify:     {topic} publishers {vm}" in r.stdout, r.stdout)


@case
def rerun_creates_nothing_twice():
    before = state()
    n = log_len()
    r = deploy(secret=False)
    check(mutations(n) == [], f"a rerun changed things: {mutations(n)}")
    check(not re.search(r"^  \+ ", r.stdout, re.M) and "== done: 0 change(s), everything was already in place" in r.stdout,
          "a rerun reports a change")
    n = log_len()
    deploy()   # the same secret again: no new version
    check(mutations(n) == [], f"the same secret made a change: {mutations(n)}")
    after = state()
    for k in ("instances", "disks", "images", "addresses", "firewalls", "buckets", "objects", "service_accounts",
              "roles", "channels", "uptime", "alerts", "topics", "subscriptions"):
        check(set(before[k]) == set(after[k]), f"{k} changed on rerun")
    check(before["topic_policies"] == after["topic_policies"], "a topic policy changed on rerun")
    check(before["policy"]["bindings"] == after["policy"]["bindings"], "project policy changed")


@case
def the_release_image_with_dhcp_gets_the_address_gce_reserves():
    """The normal case (one image per release): disk.txt says ip=dhcp and no sealed.ip=. No build per
    deployment: NAME-net gets 10.0.1.0/24 (or --internal-ip A/P's range), the internal address is one GCE
    picks and is reserved (or --internal-ip's), later runs keep it, and plan and the summary say so."""
    d = os.path.join(WORK, "disk-dhcp")
    os.makedirs(d)
    shutil.copy(IMAGE, d)
    with open(os.path.join(d, "disk.txt"), "w") as f:
        f.write("stub_package=systemd-boot-efi\ncmdline=console=ttyS0 quiet panic=-1 ip=dhcp\n")
    image = os.path.join(d, "sealed-login-gcp.tar.gz")
    line = ("reserved as sl-dhcp-internal-ip; the image is the release's image with ip=dhcp: GCE's DHCP gives the VM "
            "the address this deployment reserved")
    n = log_len()
    r = deploy("--name", "sl-dhcp", "--image", image, "--no-uptime-check", "--dry-run")
    for want in ("would create subnetwork sl-dhcp-subnet 10.0.1.0/24 in us-central1",
                 "would reserve internal IP sl-dhcp-internal-ip (an unused address GCE picks) in subnet sl-dhcp-subnet",
                 "internal sl-dhcp-internal-ip, external sl-dhcp-ip", f"internal IP:    (GCE picks it on a real run), {line}"):
        check(want in r.stdout, f"plan lacks {want!r}:\n{r.stdout[-3000:]}")
    check(mutations(n) == [] and "warning" not in r.stderr and "IMAGE_APPEND" not in r.stdout + r.stderr, (mutations(n), r.stderr))
    r = deploy("--name", "sl-dhcp", "--image", image, "--no-uptime-check")
    s = state()
    sub, addr = s["subnetworks"]["us-central1/sl-dhcp-subnet"], s["addresses"]["us-central1/sl-dhcp-internal-ip"]
    nic = s["instances"]["us-central1-b/sl-dhcp"]["networkInterfaces"][0]
    check(sub["ipCidrRange"] == "10.0.1.0/24" and addr["address"] == "10.0.1.2" and addr["status"] == "IN_USE", (sub, addr))
    check(nic["networkIP"] == "10.0.1.2" and nic["subnetwork"] == sub["selfLink"], nic)
    check("internal IP sl-dhcp-internal-ip 10.0.1.2 (picked by GCE)" in r.stdout and f"internal IP:    10.0.1.2, {line}" in r.stdout,
          r.stdout)
    # later runs keep the reserved address, given or not; another one is refused with what to do
    for extra in ((), ("--internal-ip", "10.0.1.2")):
        n = log_len()
        r = deploy("--name", "sl-dhcp", "--image", image, "--no-uptime-check", *extra, secret=False)
        check(mutations(n) == [] and f"internal IP:    10.0.1.2, {line}" in r.stdout, mutations(n))
    n = log_len()
    r = deploy("--name", "sl-dhcp", "--image", image, "--no-uptime-check", "--internal-ip", "10.0.1.9", secret=False, expect=1)
    check("address sl-dhcp-internal-ip holds 10.0.1.2, not --internal-ip 10.0.1.9: drop --internal-ip to keep 10.0.1.2" in r.stderr
          and mutations(n) == [], r.stderr)
    # --internal-ip is not tied to the image: any address of an existing subnet, or a range for NAME-net
    r = deploy("--name", "sl-dhcp2", "--image", image, "--network", "default", "--internal-ip", "10.128.0.40", "--dry-run")
    check("subnet default 10.128.0.0/20, gateway 10.128.0.1: 10.128.0.40 fits" in r.stdout and
          "would reserve internal IP sl-dhcp2-internal-ip 10.128.0.40 in subnet default" in r.stdout, r.stdout)
    r = deploy("--name", "sl-dhcp2", "--image", image, "--network", "default", "--internal-ip", "10.200.0.5", expect=1)
    check("--internal-ip 10.200.0.5 is outside subnet default (10.128.0.0/20): give an address in it, or none" in r.stderr, r.stderr)
    for ip, rng in (("10.20.0.5/26", "10.20.0.0/26"), ("10.20.0.5", "10.20.0.0/24")):
        r = deploy("--name", "sl-dhcp2", "--image", image, "--internal-ip", ip, "--dry-run")
        check(f"would create subnetwork sl-dhcp2-subnet {rng} in us-central1" in r.stdout and
              "would reserve internal IP sl-dhcp2-internal-ip 10.20.0.5 in subnet sl-dhcp2-subnet" in r.stdout, r.stdout)
    check(not ours(state()["addresses"], "sl-dhcp2"), "a dry run reserved something")
    run("teardown.sh", "--project", PROJECT, "--name", "sl-dhcp", "--key-file", KEY, "--yes")
    check(not ours(state()["addresses"], "sl-dhcp") and "sl-dhcp-net" not in state()["networks"], "sl-dhcp left")


@case
def secret_from_stdin_rotates_versions():
    n = log_len()
    run("deploy.sh", "--project", PROJECT, "--domain", DOMAIN, "--paypal-client-id", CLIENT_ID, "--image", IMAGE,
        "--alert-email", "ops@example.com", "--key-file", KEY, "--paypal-secret-file", "-", stdin=SECRET2 + "\n")
    m = mutations(n)
    check(any(x.endswith(":addVersion") for x in m) and any(x.endswith("versions/1:disable") for x in m) and len(m) == 2, m)
    sec = state()["secrets"]["sealed-login-paypal-secret"]
    check([v["state"] for v in sec["versions"]] == ["DISABLED", "ENABLED"], sec["versions"])
    check(ctl("secret_values")["sealed-login-paypal-secret"][-1] == base64.b64encode((SECRET2 + "\n").encode()).decode(), "value")


@case
def changed_settings_are_updated_in_place():
    def run_with(domain, cap, email):
        return run("deploy.sh", "--project", PROJECT, "--domain", domain, "--paypal-client-id", CLIENT_ID, "--image", IMAGE,
                   "--alert-email", email, "--egress-cap-gib", cap, "--key-file", KEY)
    n = log_len()
    r = run_with("new.example.com", "100", "ops2@example.com")
    m = mutations(n)
    check(any(x.endswith("/instances/sealed-login/setMetadata") for x in m) and any(x.endswith("/setLabels") for x in m), m)
    check(not any(x.startswith("POST compute.googleapis.com") and x.endswith("/instances") for x in m), "the VM was recreated")
    s = state()
    inst = s["instances"]["us-central1-b/sealed-login"]
    md = {i["key"]: i["value"] for i in inst["metadata"]["items"]}
    check(md["domain"] == "new.example.com" and inst["labels"]["egress-cap-gib"] == "100", (md, inst["labels"]))
    up = list(s["uptime"].values())
    check(len(up) == 1 and up[0]["monitoredResource"]["labels"]["host"] == "new.example.com", up)
    pols = list(s["alerts"].values())
    check(len(pols) == 3 and any(up[0]["name"].split("/")[-1] in p["conditions"][0]["conditionThreshold"]["filter"] for p in pols), pols)
    eg = [p for p in pols if "sent_bytes_count" in p["conditions"][0]["conditionThreshold"]["filter"]][0]
    check(eg["conditions"][0]["conditionThreshold"]["thresholdValue"] == round(100 * GIB / 30), eg)
    ch = list(s["channels"].values())
    check(len(ch) == 1 and ch[0]["labels"]["email_address"] == "ops2@example.com", ch)
    check("reset the VM to apply a new domain" in r.stdout, r.stdout)
    run_with(DOMAIN, "180", "ops@example.com")   # and back
    n = log_len()
    run_with(DOMAIN, "180", "ops@example.com")
    check(mutations(n) == [], mutations(n))
    s = state()
    check(s["instances"]["us-central1-b/sealed-login"]["labels"]["egress-cap-gib"] == "180" and len(s["uptime"]) == 1
          and len(s["alerts"]) == 3 and len(s["channels"]) == 1, "not back")


@case
def a_new_image_replaces_the_vm_only_when_asked():
    d = os.path.join(WORK, "disk-v2")
    os.makedirs(d)
    shutil.copy(os.path.join(IMG_DIR, "disk.txt"), d)
    raw = os.path.join(WORK, "raw2")
    os.makedirs(raw)
    shutil.copy(os.path.join(RAW, "disk.raw"), raw)
    with open(os.path.join(raw, "disk.raw"), "r+b") as f:
        f.seek(1 << 20)
        f.write(b"a newer UKI")
    image2 = os.path.join(d, "sealed-login-gcp.tar.gz")
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", image2, "-C", raw, "disk.raw"], check=True)
    base = ["--project", PROJECT, "--domain", DOMAIN, "--paypal-client-id", CLIENT_ID, "--image", image2,
            "--alert-email", "ops@example.com", "--key-file", KEY]
    before = state()["instances"]["us-central1-b/sealed-login"]
    n = log_len()
    r = run("deploy.sh", *base, expect=1)
    check("rerun with --replace-instance" in r.stderr and "Nothing was changed" in r.stderr and mutations(n) == [] and
          state()["instances"]["us-central1-b/sealed-login"]["id"] == before["id"], (r.stderr, mutations(n)))
    r = run("deploy.sh", *base, "--replace-instance")
    s = state()
    inst = s["instances"]["us-central1-b/sealed-login"]
    want = "sealed-login-" + hashlib.sha256(open(image2, "rb").read()).hexdigest()[:12]
    check(inst["id"] != before["id"] and s["disks"]["us-central1-b/sealed-login"]["sourceImage"].split("/")[-1] == want, inst)
    check(len(ours(s["images"])) == 2 and "instance sealed-login replaced" in r.stdout, (list(ours(s["images"])), r.stdout))
    check(inst["networkInterfaces"][0]["networkIP"] == "10.128.0.10" and
          inst["networkInterfaces"][0]["accessConfigs"][0]["natIP"] == before["networkInterfaces"][0]["accessConfigs"][0]["natIP"], "addresses changed")
    n = log_len()
    run("deploy.sh", *base)
    check(mutations(n) == [], mutations(n))
    run("deploy.sh", *(b if b != image2 else IMAGE for b in base), "--replace-instance")   # back to the first image


@case
def switching_mode_plans_and_performs_a_replacement():
    """The issue's case: a shielded e2-micro, then mode confidential. plan names every difference read back,
    deploy refuses without --replace-instance and changes nothing, then replaces; the summary says what exists."""
    before = state()["instances"]["us-central1-b/sealed-login"]
    n = log_len()
    r = deploy("--mode", "confidential", "--dry-run", secret=False)
    check(re.search(r"would replace instance sealed-login: machine type e2-micro -> n2d-standard-2; mode shielded -> confidential"
                    r".*boot disk interface SCSI -> NVME; NIC VIRTIO_NET -> GVNIC \(deploy needs --replace-instance\)", r.stdout), r.stdout)
    check("would create image sealed-login-" in r.stdout and "SEV_SNP_CAPABLE" in r.stdout and mutations(n) == [], r.stdout)
    r = deploy("--mode", "confidential", secret=False, expect=1)
    check("is not what the settings describe" in r.stderr and "Nothing was changed" in r.stderr and mutations(n) == [], r.stderr)
    r = deploy("--mode", "confidential", "--replace-instance", secret=False)
    s = state()
    inst = s["instances"]["us-central1-b/sealed-login"]
    check(inst["id"] != before["id"] and inst["confidentialInstanceConfig"] == {"confidentialInstanceType": "SEV_SNP"}
          and inst["disks"][0]["interface"] == "NVME" and inst["scheduling"]["onHostMaintenance"] == "TERMINATE", inst)
    check("mode confidential (read back)" in r.stdout and "SEV_SNP_CAPABLE" in r.stdout and "instance sealed-login replaced" in r.stdout, r.stdout)
    n = log_len()
    r = deploy("--mode", "confidential", secret=False)
    check(mutations(n) == [] and "is what the settings describe" in r.stdout, mutations(n))
    r = deploy("--mode", "standard", "--replace-instance", secret=False)
    inst = state()["instances"]["us-central1-b/sealed-login"]
    check(inst["shieldedInstanceConfig"]["enableVtpm"] is False and inst["machineType"].endswith("/e2-micro")
          and "mode standard (read back)" in r.stdout and "--allow-unattested" in r.stdout, r.stdout)
    deploy("--replace-instance", secret=False)   # back to shielded
    inst = state()["instances"]["us-central1-b/sealed-login"]
    check(inst["shieldedInstanceConfig"]["enableVtpm"] is True and inst["machineType"].endswith("/e2-micro"), inst)


@case
def mode_is_required_and_plan_says_what_each_proves_and_costs():
    n = log_len()
    r = deploy("--no-mode", "--dry-run", expect=1)
    check("mode is required" in r.stderr and "gce-vtpm-google-rooted" in r.stderr and api_calls(n) == [], r.stderr)
    r = deploy("--mode", "trusted", "--dry-run", expect=1)
    check("mode must be standard, shielded or confidential" in r.stderr, r.stderr)
    r = run("deploy.sh", "plan", "--mode", "shielded", "--project", PROJECT, "--domain", DOMAIN, "--paypal-client-id", CLIENT_ID,
            "--image", IMAGE, "--key-file", KEY, "--alert-email", "ops@example.com")
    for want in ("* shielded     trust statement 'gce-vtpm-google-rooted'", "  standard     trust statement 'none'",
                 "  confidential trust statements 'gce-snp-firmware' + 'gce-vtpm-google-rooted'",
                 "prices as of 2026-12-07, from memory of", "e2-micro in us-central1: $0 within the free tier",
                 "STANDARD tier: 200 GB/month free", "== plan: 0 change(s)"):
        check(want in r.stdout, f"plan lacks {want!r}:\n{r.stdout[:3000]}")
    r = deploy("--name", "sl-prem", "--mode", "confidential", "--network-tier", "PREMIUM", "--dry-run")
    check("PREMIUM tier: 1 GB/month free (the free tier: 1 GB from North America" in r.stdout and
          "n2d-standard-2: $0.08449/h = $61.68" in r.stdout and "Confidential VM (SEV-SNP) surcharge" in r.stdout, r.stdout)


@case
def impossible_combinations_are_refused_before_anything_is_created():
    n = log_len()
    r = deploy("--name", "sl-imp", "--mode", "confidential", "--machine-type", "e2-micro", expect=1)
    check("runs only on N2D (AMD Milan) or C3D (AMD Genoa)" in r.stderr and "free tier, has no Confidential VM" in r.stderr, r.stderr)
    r = deploy("--name", "sl-imp", "--mode", "standard", "--secure-boot", expect=1)
    check("secure_boot is a Shielded VM feature" in r.stderr, r.stderr)
    r = deploy("--name", "sl-imp", "--mode", "shielded", "--machine-type", "c3d-standard-4", expect=1)
    check("C3D has no pd-standard" in r.stderr, r.stderr)
    check(api_calls(n) == [], "a locally refused combination reached the API")
    # a shielded VM needs a UEFI image: an image by the deployment's name without UEFI_COMPATIBLE stops the run
    d = os.path.join(WORK, "disk-bios")
    os.makedirs(d)
    shutil.copy(os.path.join(IMG_DIR, "disk.txt"), d)
    raw = os.path.join(WORK, "raw-bios")
    os.makedirs(raw)
    with open(os.path.join(raw, "disk.raw"), "wb") as f:
        f.truncate(GIB)
        f.write(b"\xeb\x63\x90BIOS boot code")   # an MBR with boot code: GCE imports it without UEFI_COMPATIBLE
        f.seek(510)
        f.write(b"\x55\xaa")
    image = os.path.join(d, "sealed-login-gcp.tar.gz")
    subprocess.run(["tar", "--format=oldgnu", "-Sczf", image, "-C", raw, "disk.raw"], check=True)
    data = open(image, "rb").read()
    iname = "sl-bios-" + hashlib.sha256(data).hexdigest()[:12]
    tok = token_for(INFO["deployer"])
    bucket = f"{PROJECT}-sealed-login-images"
    req = urllib.request.Request(f"https://127.0.0.1:{PORT}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=bios.tar.gz",
                                 data=data, method="POST", headers={"Host": "storage.googleapis.com", "Authorization": "Bearer " + tok,
                                                                    "Content-Type": "application/gzip"})
    with urllib.request.urlopen(req, context=CTX, timeout=60) as resp:
        check(resp.status == 200, resp.status)
    c = f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}"
    st, op = api("POST", f"{c}/global/images", {"name": iname, "rawDisk": {"source": f"https://storage.googleapis.com/{bucket}/bios.tar.gz"},
                                                "labels": {"sealed-login": "sl-bios"}}, token=tok)
    while st == 200 and op["status"] != "DONE":
        st, op = api("POST", op["selfLink"] + "/wait", token=tok)
    check(st == 200 and "error" not in op and iname in state()["images"], op)
    n = log_len()
    r = deploy("--name", "sl-bios", "--mode", "shielded", "--image", image, expect=1)
    check(f"image {iname} exists but its guestOsFeatures lack UEFI_COMPATIBLE" in r.stderr and "Nothing was created" in r.stderr, r.stderr)
    check(mutations(n) == [], mutations(n))
    st, op = api("DELETE", f"{c}/global/images/{iname}", token=tok)
    while st == 200 and op["status"] != "DONE":   # applied when the operation is DONE
        st, op = api("POST", op["selfLink"] + "/wait", token=tok)
    check(iname not in state()["images"], "the non-UEFI image was not deleted")
    api("DELETE", f"https://storage.googleapis.com/storage/v1/b/{bucket}/o/bios.tar.gz", token=tok)


@case
def settings_file_like_ocis_with_options_winning():
    path = os.path.join(WORK, "gcp.settings")

    def write(*lines):
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    base = ["# a comment", "", f"project={PROJECT}", f"domain = {DOMAIN}", f"paypal_client_id={CLIENT_ID}", f"image={IMAGE}",
            "mode=shielded", "alert_email=ops@example.com", f"key_file={KEY}", "uptime_check=true", "secure_boot=false"]
    write(*base)
    n = log_len()
    r = run("deploy.sh", "--settings", path)
    check(mutations(n) == [] and "everything was already in place" in r.stdout, (mutations(n), r.stdout[-500:]))
    r = run("deploy.sh", "plan", "--settings", path, "--mode", "standard")   # the option wins
    check("would replace instance sealed-login: mode shielded -> standard" in r.stdout and "* standard" in r.stdout, r.stdout)
    write(*base, "shape=e2-micro")
    r = run("deploy.sh", "--settings", path, expect=1)
    check(f"{path}:12: unknown setting 'shape'" in r.stderr, r.stderr)
    write(*base, "paypal_secret=hunter2-not-here")
    r = run("deploy.sh", "--settings", path, expect=1)
    check(f"{path}:12: the PayPal secret is never a setting" in r.stderr and "hunter2" not in r.stderr, r.stderr)
    write(*base, "gvnic=yes")
    r = run("deploy.sh", "--settings", path, expect=1)
    check("gvnic must be true or false" in r.stderr, r.stderr)
    ex = open(os.path.join(D, "settings.example")).read()
    keys = {ln.split("=")[0].lstrip("# ").strip() for ln in ex.splitlines() if re.match(r"#? ?[a-z_]+=", ln)}
    src = open(os.path.join(D, "deploy.sh")).read()
    known = set(re.search(r'SETTINGS_KEYS=" ([a-z_ ]+) "', src).group(1).split())
    check(keys == known, f"settings.example and deploy.sh differ: {keys ^ known}")


@case
def signing_key_kept_in_secret_manager():
    rsa = os.path.join(WORK, "rsa.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa], check=True)
    r = deploy("--signing-key-file", rsa, secret=False, expect=1)
    check("must be an EC P-256 key" in r.stderr, r.stderr)
    n = log_len()
    r = deploy("--signing-key-file", SIGNKEY, secret=False)
    m = mutations(n)
    check(any(x.endswith("secrets") for x in m) and any(x.endswith("sealed-login-signing-key:addVersion") for x in m)
          and any(x.endswith("sealed-login-signing-key:setIamPolicy") for x in m) and any(x.endswith("/setMetadata") for x in m), m)
    pub = subprocess.run(["openssl", "pkey", "-in", SIGNKEY, "-pubout"], capture_output=True, text=True, check=True).stdout
    check(pub.splitlines()[1] in r.stdout and "--signer-key" in r.stdout, "the public key is not shown for pinning")
    s = state()
    md = {i["key"]: i["value"] for i in s["instances"]["us-central1-b/sealed-login"]["metadata"]["items"]}
    check(md.get("signing_key_secret_ocid") == "sealed-login-signing-key" and set(md) <= trusted_metadata_keys(), md)
    check(ctl("secret_values")["sealed-login-signing-key"] == [base64.b64encode(open(SIGNKEY, "rb").read()).decode()], "stored key differs")
    tok = token_for(f"sealed-login-vm@{PROJECT}.iam.gserviceaccount.com")
    for sid in ("sealed-login-signing-key", "sealed-login-paypal-secret"):
        st, _ = api("GET", f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/{sid}/versions/latest:access", token=tok)
        check(st == 200, f"the VM cannot read {sid}: {st}")
    n = log_len()
    deploy(secret=False)   # not given again: kept, and still in the metadata
    check(mutations(n) == [], mutations(n))


@case
def one_run_at_a_time_per_deployment():
    holder = open(os.path.join(WORK, f"sealed-gcp-{PROJECT}-sealed-login.lock"), "a")   # another run holds it
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        n = log_len()
        r = deploy(secret=False, expect=1)
        check("another deploy or teardown of sealed-login" in r.stderr and mutations(n) == [], r.stderr)
        r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--yes", expect=1)
        check("another deploy or teardown" in r.stderr and "us-central1-b/sealed-login" in state()["instances"], r.stderr)
        deploy("--dry-run", secret=False)   # a plan reads only: no lock needed
        deploy("--name", "sl-other", "--dry-run")
    finally:
        holder.close()
    deploy(secret=False)


@case
def secret_never_taken_as_an_argument():
    r = deploy("--paypal-secret", "hunter2-should-not-pass", secret=False, expect=1)
    check("never taken as an argument" in r.stderr, r.stderr)


@case
def failing_operation_mid_way_then_rerun_completes():
    img2 = os.path.join(WORK, "disk2")
    os.makedirs(img2, exist_ok=True)
    shutil.copy(IMAGE, os.path.join(img2, "sealed-login-gcp.tar.gz"))
    image2 = os.path.join(img2, "sealed-login-gcp.tar.gz")
    ctl("fault", {"op_fail": {"kind": "instances", "type": "insert", "code": "ZONE_RESOURCE_POOL_EXHAUSTED",
                              "message": "The zone 'projects/sealed-test/zones/us-central1-b' does not have enough resources available to fulfill the request."},
                  "http": {"method": "GET", "path_re": "/global/firewalls/sl-two-web$", "status": 503, "count": 1}})
    r = deploy("--name", "sl-two", "--internal-ip", "10.128.0.11", "--image", image2, "--network", "default", expect=1)
    check("creating instance sl-two" in r.stderr and "ZONE_RESOURCE_POOL_EXHAUSTED" in r.stderr and "rerun" in r.stderr, r.stderr)
    check("HTTP 503" in r.stderr and "retry 1" in r.stderr, "the 503 was not retried visibly")
    s = state()
    check("us-central1-b/sl-two" not in s["instances"] and "us-central1/sl-two-ip" in s["addresses"], "partial state unexpected")
    n = log_len()
    r = deploy("--name", "sl-two", "--internal-ip", "10.128.0.11", "--image", image2, "--network", "default", secret=False)
    m = mutations(n)
    inst = "POST compute.googleapis.com/compute/v1/projects/sealed-test/zones/us-central1-b/instances"
    # the one VM is created, and its own IAM policy gets the self-stop binding (step 7b), nothing else
    check([x for x in m if "/instances" in x] == [inst, inst + "/sl-two/setIamPolicy"], m)
    check(not any("/addresses" in x or "/firewalls" in x or "/images" in x or "serviceAccounts" in x for x in m), m)
    s = state()
    check(len(ours(s["instances"], "sl-two")) == 1 and len(ours(s["addresses"], "sl-two")) == 2, "duplicates or missing")
    # the image archive is shared by content: sl-two got its own image name, one object per deployment bucket
    check(len(ours(s["images"], "sl-two")) == 1, ours(s["images"], "sl-two"))


@case
def iam_concurrent_change_is_retried_with_the_new_etag():
    # the binding is removed behind the tool's back; another writer changes the policy during the rerun
    tok = token_for(INFO["deployer"])
    url = f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/sl-two-paypal-secret"
    st, pol = api("GET", url + ":getIamPolicy", token=tok)
    check(api("POST", url + ":setIamPolicy", {"policy": {"etag": pol["etag"], "bindings": []}}, token=tok)[0] == 200, "")
    ctl("fault", {"iam_conflict": 1})
    r = deploy("--name", "sl-two", "--internal-ip", "10.128.0.11", "--image", os.path.join(WORK, "disk2", "sealed-login-gcp.tar.gz"),
               "--network", "default", secret=False)
    check("changed concurrently" in r.stderr, r.stderr)
    pol = state()["secrets"]["sl-two-paypal-secret"]["policy"]
    check(pol["bindings"] == [{"role": "roles/secretmanager.secretAccessor",
                               "members": [f"serviceAccount:sl-two-vm@{PROJECT}.iam.gserviceaccount.com"]}], pol)


@case
def clear_errors_for_the_usual_mistakes():
    # no permission: Google's status and message, the principal, what to do
    r = deploy("--name", "sl-x", key=False, env={"GOOGLE_APPLICATION_CREDENTIALS": INFO["keys"]["outsider"]}, expect=1)
    check("HTTP 403 PERMISSION_DENIED" in r.stderr and "outsider@" in r.stderr and "grant it a role" in r.stderr, r.stderr)
    # a key the token endpoint does not know: the OAuth error, said plainly
    stray = os.path.join(WORK, "stray.json")
    kf = json.load(open(KEY))
    kf["private_key"] = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                                       capture_output=True, text=True, check=True).stdout
    with open(os.open(stray, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump(kf, f)
    r = run("status.sh", "--project", PROJECT, "--key-file", stray, expect=1)
    check("HTTP 400 invalid_grant: Invalid JWT Signature." in r.stderr and "credentials were refused" in r.stderr, r.stderr)
    # an expired token
    tf = os.path.join(WORK, "expired.token")
    with open(os.open(tf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(ctl("token", {"email": INFO["deployer"], "ttl": -1})["access_token"] + "\n")
    r = run("status.sh", "--project", PROJECT, "--token-file", tf, expect=1)
    check("HTTP 401 UNAUTHENTICATED" in r.stderr and "renew them" in r.stderr, r.stderr)
    # a machine type GCE does not have: refused by the API, with its message
    img3 = os.path.join(WORK, "disk3")
    os.makedirs(img3, exist_ok=True)
    shutil.copy(IMAGE, img3)
    r = deploy("--name", "sl-bad", "--internal-ip", "10.128.0.12", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"),
               "--machine-type", "e2-mikro", "--network", "default", expect=1)
    check("machine type e2-mikro does not exist in zone us-central1-b" in r.stderr and "Nothing was created" in r.stderr
          and not ours(state()["addresses"], "sl-bad"), r.stderr)
    # local checks before anything is sent
    r = deploy("--name", "Bad_Name", expect=1)
    check("RFC 1035" in r.stderr, r.stderr)
    dhcp_hint = "an image with ip=dhcp (plain make image, the release's image) gets its address from GCE's DHCP and needs no build per deployment"
    r = deploy("--internal-ip", "10.128.0.99", expect=1)
    check("differs from the image's sealed.ip=10.128.0.10" in r.stderr and dhcp_hint in r.stderr, r.stderr)
    # without disk.txt the image's network cannot be checked: said, and the address is checked against the subnet
    r = deploy("--name", "sl-bad", "--internal-ip", "10.200.0.5", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"),
               "--network", "default", expect=1)
    check("--internal-ip 10.200.0.5 is outside subnet default (10.128.0.0/20)" in r.stderr and
          "no disk.txt next to" in r.stderr and "cannot check how the image configures its network" in r.stderr, r.stderr)
    n = log_len()
    r = deploy("--name", "sl-bad", "--internal-ip", "10.200.0.5", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"), "--dry-run")
    check("would create subnetwork sl-bad-subnet 10.200.0.0/24 in us-central1" in r.stdout and
          "how the image configures its network was not checked (no disk.txt next to it)" in r.stdout and mutations(n) == [], r.stdout)
    with open(os.path.join(img3, "disk.txt"), "w") as f:
        f.write("cmdline=console=ttyS0 sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 sealed.dns=10.0.2.3\n")
    r = deploy("--name", "sl-bad", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"), expect=1)
    check("a GCE subnet's gateway is always its first address, 10.0.2.1" in r.stderr and dhcp_hint in r.stderr, r.stderr)
    # a command line that configures no network: refused before any request (the VM would boot unreachable)
    n = log_len()
    for cmdline, why in (("console=ttyS0 quiet panic=-1", "neither ip=dhcp nor sealed.ip="),
                         ("console=ttyS0 quiet panic=-1 ip=off", "ip=off is not ip=dhcp"),
                         ("console=ttyS0 ip=dhcp sealed.ip=10.0.2.15", "sealed.ip=10.0.2.15 is not ADDRESS/PREFIX")):
        with open(os.path.join(img3, "disk.txt"), "w") as f:
            f.write(f"stub_package=systemd-boot-efi\ncmdline={cmdline}\n")
        for extra in ((), ("--dry-run",)):
            r = deploy("--name", "sl-bad", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"), *extra, expect=1)
            check("configures no network" in r.stderr and why in r.stderr and "would boot unreachable" in r.stderr and
                  "ip=dhcp (plain make image" in r.stderr and "Nothing was created" in r.stderr, r.stderr)
    check(api_calls(n) == [], api_calls(n))
    os.unlink(os.path.join(img3, "disk.txt"))
    with open(os.path.join(img3, "SHA256SUMS"), "w") as f:
        f.write("0" * 64 + "  sealed-login-gcp.tar.gz\n")
    r = deploy("--name", "sl-bad", "--internal-ip", "10.128.0.12/20", "--image", os.path.join(img3, "sealed-login-gcp.tar.gz"), expect=1)
    check("SHA256SUMS says 000" in r.stderr, r.stderr)
    os.unlink(os.path.join(img3, "SHA256SUMS"))
    notraw = os.path.join(WORK, "notraw.tar.gz")
    subprocess.run(["tar", "-czf", notraw, "-C", WORK, "paypal-secret"], check=True)
    r = deploy("--image", notraw, "--internal-ip", "10.128.0.12", expect=1)
    check("must hold exactly one file, disk.raw" in r.stderr, r.stderr)
    r = run("deploy.sh", "--project", PROJECT, "--domain", DOMAIN, "--paypal-client-id", CLIENT_ID, "--image", IMAGE,
            "--paypal-secret-file", SECRET_FILE, expect=1, env={"GOOGLE_APPLICATION_CREDENTIALS": ""})
    check("no credentials" in r.stderr, r.stderr)


@case
def credentials_from_token_file_env_and_gcloud():
    tf = os.path.join(WORK, "good.token")
    with open(os.open(tf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(token_for(INFO["deployer"]) + "\n")
    r = run("status.sh", "--project", PROJECT, "--token-file", tf)
    check("instance:   sealed-login RUNNING e2-micro" in r.stdout, r.stdout)
    r = run("status.sh", "--project", PROJECT, env={"SEALED_GCP_ACCESS_TOKEN": token_for(INFO["deployer"])})
    check("secret:     2 ENABLED, 1 DISABLED" in r.stdout, r.stdout)
    gbin = os.path.join(WORK, "gbin")
    os.makedirs(gbin, exist_ok=True)
    with open(os.path.join(gbin, "gcloud"), "w") as f:
        f.write("#!/bin/bash\ncase \"$*\" in 'auth print-access-token') cat %s ;; 'config get-value account') "
                "echo operator@example.com ;; *) exit 2 ;; esac\n" % tf)
    os.chmod(os.path.join(gbin, "gcloud"), 0o755)
    r = run("status.sh", "--project", PROJECT, "--serial", env={"PATH": gbin + ":" + BIN})
    check("sealed-init: net if=eth0 ip=10.128.0.10" in r.stdout, r.stdout)


@case
def egress_guard_acts_at_the_cap_under_its_own_identity():
    keyf = os.path.join(WORK, "guard-key.json")
    r = run("egress-guard.sh", "--project", PROJECT, "--key-file", KEY, "--create-key", keyf)
    check(os.stat(keyf).st_mode & 0o777 == 0o600 and json.load(open(keyf))["client_email"].startswith("sealed-login-guard@"), "key file")
    check("BEGIN PRIVATE KEY" not in r.stdout + r.stderr, "key printed")
    g = ["--project", PROJECT, "--zone", "us-central1-b", "--key-file", keyf]
    r = run("egress-guard.sh", *g, expect=4)   # no points yet: not zero, and nothing done
    check("no egress data from Cloud Monitoring" in r.stdout and "did nothing" in r.stdout, r.stdout)
    ctl("egress", {"zone": "us-central1-b", "instance": "sealed-login", "bytes": 0})
    r = run("egress-guard.sh", *g)
    check("0.000 GiB of 180 GiB" in r.stdout and "under the cap" in r.stdout, r.stdout)
    ctl("egress", {"zone": "us-central1-b", "instance": "sealed-login", "bytes": 180 * GIB - 1})
    r = run("egress-guard.sh", *g)
    check("under the cap" in r.stdout and not state()["firewalls"]["sealed-login-web"]["disabled"], r.stdout)
    ctl("egress", {"zone": "us-central1-b", "instance": "sealed-login", "bytes": 180 * GIB})
    # a Monitoring outage at the cap: retried, then an error; the guard does not act on what it cannot read
    ctl("fault", {"http": {"method": "GET", "path_re": "/timeSeries$", "status": 503, "count": 5}})
    r = run("egress-guard.sh", *g, expect=1)
    check("HTTP 503" in r.stderr and "never acts on missing data" in r.stderr and
          not state()["firewalls"]["sealed-login-web"]["disabled"], r.stderr)
    r = run("egress-guard.sh", *g, "--dry-run", expect=3)
    check("would disable firewall rule sealed-login-web" in r.stdout and not state()["firewalls"]["sealed-login-web"]["disabled"], r.stdout)
    r = run("egress-guard.sh", *g, expect=3)
    check("180.000 GiB >= cap 180 GiB" in r.stdout and state()["firewalls"]["sealed-login-web"]["disabled"] is True, r.stdout)
    r = run("egress-guard.sh", *g, expect=3)
    check("already disabled" in r.stdout, r.stdout)
    r = deploy(secret=False)
    check("firewall rule sealed-login-web is DISABLED" in r.stderr, "deploy does not warn about the guard's action")
    check(state()["firewalls"]["sealed-login-web"]["disabled"] is True, "a deploy rerun silently undid the guard")
    # the guard's rights end there
    tok = token_for(json.load(open(keyf))["client_email"])
    c = f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}"
    check(api("DELETE", f"{c}/zones/us-central1-b/instances/sealed-login", token=tok)[0] == 403, "guard may delete the VM")
    check(api("PATCH", f"{c}/global/firewalls/default-allow-ssh", {"disabled": True}, token=tok)[0] == 403, "guard may edit other rules")
    check(api("POST", f"{c}/zones/us-central1-b/instances/sl-two/stop", token=tok)[0] == 403, "guard may stop another VM")
    check(api("POST", f"{c}/zones/us-central1-b/instances/sealed-login/start", token=tok)[0] == 403, "guard may start the VM")
    check(api("GET", f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/sealed-login-paypal-secret/versions/latest:access",
              token=tok)[0] == 403, "guard may read the secret")
    r = run("egress-guard.sh", *g, "--action", "stop", expect=3)
    check("instance sealed-login stopped" in r.stdout and state()["instances"]["us-central1-b/sealed-login"]["status"] == "TERMINATED", r.stdout)
    r = run("egress-guard.sh", "--project", PROJECT, "--key-file", KEY, "--restore")
    s = state()
    check(s["instances"]["us-central1-b/sealed-login"]["status"] == "RUNNING" and not s["firewalls"]["sealed-login-web"]["disabled"], r.stdout)


@case
def the_fake_monitoring_refuses_what_cloud_monitoring_refuses():
    tok = token_for(INFO["deployer"])
    m = f"https://monitoring.googleapis.com/v3/projects/{PROJECT}/timeSeries?"
    good = {"filter": 'metric.type = "compute.googleapis.com/instance/network/sent_bytes_count" AND resource.type = "gce_instance"',
            "interval.startTime": "2026-12-01T00:00:00Z", "interval.endTime": "2026-12-07T00:00:00Z",
            "aggregation.alignmentPeriod": "518400s", "aggregation.perSeriesAligner": "ALIGN_SUM",
            "aggregation.crossSeriesReducer": "REDUCE_SUM"}
    from urllib.parse import urlencode
    check(api("GET", m + urlencode(good), token=tok)[0] == 200, "the guard's own query")
    for k, v, want in (("filter", good["filter"].replace("sent_bytes_count", "sent_byte_count"), "valid combination of metric"),
                       ("filter", good["filter"].replace("gce_instance", "uptime_url"), "valid combination of metric"),
                       ("aggregation.perSeriesAligner", "ALIGN_TOTAL", "Aggregation.Aligner"),
                       ("aggregation.crossSeriesReducer", "SUM", "Aggregation.Reducer"),
                       ("aggregation.alignmentPeriod", "1h", "Duration"),
                       ("interval.endTime", "2026-12-07", "Timestamp")):
        st, e = api("GET", m + urlencode(dict(good, **{k: v})), token=tok)
        check(st == 400 and e["error"]["status"] == "INVALID_ARGUMENT" and want in e["error"]["message"], (k, v, st, e))
    st, e = api("POST", f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}/zones/us-central1-a/instances",
                {"name": "x", "machineType": "zones/us-central1-a/machineTypes/n2d-standard-2", "confidentialVmType": "SEV_SNP"}, token=tok)
    check(st == 400 and 'Unknown name "confidentialVmType"' in e["error"]["message"], e)


@case
def confidential_sev_snp_vm():
    img = os.path.join(WORK, "disk-snp")
    os.makedirs(img, exist_ok=True)
    shutil.copy(IMAGE, img)
    image = os.path.join(img, "sealed-login-gcp.tar.gz")
    n = log_len()
    r = deploy("--name", "sl-snp", "--confidential", "--zone", "us-east1-b", "--internal-ip", "10.142.0.10/20", "--image", image,
               "--no-uptime-check", expect=1)
    check("zone us-east1-b offers no AMD Milan CPUs" in r.stderr and "Nothing was created" in r.stderr and "not free tier" in r.stderr, r.stderr)
    check(mutations(n) == [], f"a refused confidential deploy changed things: {mutations(n)}")
    run("teardown.sh", "--project", PROJECT, "--name", "sl-snp", "--key-file", KEY, "--yes")
    r = deploy("--name", "sl-snp", "--confidential", "--zone", "us-central1-a", "--internal-ip", "10.128.0.20/20", "--image", image,
               "--no-uptime-check")
    s = state()
    inst = s["instances"]["us-central1-a/sl-snp"]
    check(inst["confidentialInstanceConfig"] == {"confidentialInstanceType": "SEV_SNP"} and inst["minCpuPlatform"] == "AMD Milan"
          and inst["scheduling"]["onHostMaintenance"] == "TERMINATE" and inst["machineType"].endswith("/n2d-standard-2"), inst)
    feats = {f["type"] for f in ours(s["images"], "sl-snp").popitem()[1]["guestOsFeatures"]}
    check(feats == {"UEFI_COMPATIBLE", "SEV_CAPABLE", "SEV_SNP_CAPABLE", "GVNIC"}, feats)
    check(inst["shieldedInstanceConfig"]["enableVtpm"] is True, "no vTPM beside SNP")
    check(inst["disks"][0]["interface"] == "NVME" and inst["networkInterfaces"][0]["nicType"] == "GVNIC", inst["disks"])
    check("mode confidential (read back)" in r.stdout and '{"confidentialInstanceType":"SEV_SNP"}' in r.stdout and
          "gce-snp-firmware" in r.stdout and "build-manifest.json --allow-unattested" not in r.stdout, r.stdout)


@case
def the_fake_refuses_what_gce_refuses():
    tok = token_for(INFO["deployer"])
    c = f"https://compute.googleapis.com/compute/v1/projects/{PROJECT}"
    src = next(iter(ours(state()["images"]).values()))["rawDisk"]["source"]
    st, op = api("POST", f"{c}/global/images", {"name": "no-uefi", "rawDisk": {"source": src}}, token=tok)
    check(st == 200, op)
    while op["status"] != "DONE":
        st, op = api("POST", op["selfLink"] + "/wait", token=tok)
    check("UEFI_COMPATIBLE" in op["error"]["errors"][0]["message"], op)
    st, e = api("POST", f"{c}/global/images", {"name": "Bad_Name", "rawDisk": {"source": src}}, token=tok)
    check(st == 400 and e["error"]["status"] == "INVALID_ARGUMENT" and "regex" in e["error"]["message"], e)
    st, e = api("POST", f"{c}/global/firewalls", {"name": "sealed-login-web", "network": "global/networks/default",
                                                   "allowed": [{"IPProtocol": "tcp", "ports": ["1"]}]}, token=tok)
    check(st == 409 and e["error"]["status"] == "ALREADY_EXISTS", e)
    st, e = api("GET", f"{c}/global/images", token=None)
    check(st == 401 and e["error"]["status"] == "UNAUTHENTICATED", e)
    st, e = api("POST", f"https://secretmanager.googleapis.com/v1/projects/{PROJECT}/secrets/sealed-login-paypal-secret:addVersion",
                {"payload": {"data": base64.b64encode(b"x").decode(), "dataCrc32c": "1"}}, token=tok)
    check(st == 400 and "Checksum" in e["error"]["message"], e)


REAL = os.path.join(ROOT, "build", "image", "sealed-login-gcp.tar.gz")


def the_real_disk_image_deploys():
    """make image's own archive: the script's format checks and the fake's import (GPT, UEFI only) accept
    it; its command line decides the network (QEMU's gateway 10.0.2.2 is refused: not a GCE gateway)."""
    d = os.path.join(WORK, "real")
    os.makedirs(d)
    for f in ("sealed-login-gcp.tar.gz", "SHA256SUMS", "disk.txt"):
        if os.path.exists(os.path.join(os.path.dirname(REAL), f)):
            shutil.copy(os.path.join(os.path.dirname(REAL), f), d)
    image = os.path.join(d, "sealed-login-gcp.tar.gz")
    cmdline = open(os.path.join(d, "disk.txt")).read().split("cmdline=")[1].split("\n")[0]
    ip = re.search(r"sealed\.ip=([0-9.]+)/(\d+)", cmdline)
    gw = re.search(r"sealed\.gw=([0-9.]+)", cmdline)
    r = deploy("--name", "sl-real", "--image", image, "--no-uptime-check", expect=None)
    if not ip:   # the release's image: ip=dhcp, any address
        check(r.returncode == 0 and "ip=dhcp" in cmdline.split() and "the image is the release's image with ip=dhcp" in r.stdout,
              r.stdout + r.stderr)
        want = state()["addresses"]["us-central1/sl-real-internal-ip"]["address"]
        check(state()["instances"]["us-central1-b/sl-real"]["networkInterfaces"][0]["networkIP"] == want, "address")
        run("teardown.sh", "--project", PROJECT, "--name", "sl-real", "--key-file", KEY, "--yes")
        return
    net = int.from_bytes(bytes(map(int, ip.group(1).split("."))), "big") & ~((1 << (32 - int(ip.group(2)))) - 1)
    first = ".".join(str((net + 1) >> s & 255) for s in (24, 16, 8, 0))
    if gw.group(1) != first:
        check(r.returncode == 1 and f"always its first address, {first}" in r.stderr, r.stderr)
        with open(os.path.join(d, "disk.txt"), "w") as f:
            f.write("cmdline=" + cmdline.replace(f"sealed.gw={gw.group(1)}", f"sealed.gw={first}") + "\n")
        r = deploy("--name", "sl-real", "--image", image, "--no-uptime-check")
    check(r.returncode == 0, r.stderr)
    img = next(iter(ours(state()["images"], "sl-real").values()))
    check(img["diskSizeGb"] == "1" and img["archiveSizeBytes"] == str(os.path.getsize(image)), img)
    check(state()["instances"]["us-central1-b/sl-real"]["networkInterfaces"][0]["networkIP"] == ip.group(1), "address")
    run("teardown.sh", "--project", PROJECT, "--name", "sl-real", "--key-file", KEY, "--yes")


if os.path.exists(REAL):
    case(the_real_disk_image_deploys)
else:
    print(f"# skipped the_real_disk_image_deploys: no {REAL} (make image)", flush=True)


@case
def teardown_removes_every_deployment_and_nothing_else():
    r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--dry-run")
    check("would delete Pub/Sub topic sealed-login-notify" in r.stdout and "would delete Pub/Sub subscription sealed-login-notify-inbox" in r.stdout, r.stdout)
    check("would delete instance" in r.stdout and "sealed-login" in {k.split("/")[1] for k in state()["instances"]}, r.stdout)
    r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, expect=1)
    check("refusing to delete without --yes" in r.stderr, r.stderr)
    ctl("fault", {"op_fail": {"kind": "addresses", "type": "delete", "code": "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
                              "message": "The address resource is already being used by another resource."}})
    r = run("teardown.sh", "--project", PROJECT, "--name", "sl-two", "--key-file", KEY, "--yes", expect=1)
    check("deleting address sl-two-" in r.stderr and "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE" in r.stderr, r.stderr)
    check("us-central1-b/sl-two" not in state()["instances"], "the instance should be gone before the addresses")
    # the sealed state outlives a teardown unless asked: the bucket is kept while it holds the state
    sb = f"{PROJECT}-sealed-login-state"
    vm_tok = token_for(f"sealed-login-vm@{PROJECT}.iam.gserviceaccount.com")
    st, _ = api("POST", f"https://storage.googleapis.com/upload/storage/v1/b/{sb}/o?uploadType=media&name=state.v1",
                {"sealed": 1}, token=vm_tok)
    check(st == 200, st)
    r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--yes")
    check(sb in state()["buckets"] and f"{sb}/state.v1" in state()["objects"], list(state()["buckets"]))
    check(f"kept gs://{sb}: it holds the sealed state" in r.stderr and "--delete-state" in r.stdout, (r.stdout, r.stderr))
    check(f"{PROJECT}-sealed-login-images" not in state()["buckets"], "the image bucket goes")
    r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--yes", "--delete-state")
    check(sb not in state()["buckets"] and f"deleted bucket gs://{sb}" in r.stdout, r.stdout)
    for name in ("sealed-login", "sl-two", "sl-bad", "sl-snp", "sl-x"):
        run("teardown.sh", "--project", PROJECT, "--name", name, "--key-file", KEY, "--yes")
    s = state()
    for k in ("instances", "disks", "images", "addresses", "channels", "uptime", "alerts", "roles", "buckets", "objects",
              "topics", "subscriptions"):
        check(not {n: v for n, v in s[k].items() if not (isinstance(v, dict) and v.get("deleted"))}, f"{k} left: {list(s[k])}")
    check(set(s["firewalls"]) == {"default-allow-ssh"} and set(s["secrets"]) == {"unrelated-secret"}, (s["firewalls"], s["secrets"]))
    check(set(s["networks"]) == {"default"} and all(k.endswith("/default") for k in s["subnetworks"]), (list(s["networks"]), list(s["subnetworks"])))
    check(set(s["service_accounts"]) == {INFO["deployer"], INFO["outsider"]}, list(s["service_accounts"]))
    check(s["policy"]["bindings"] == [{"role": "roles/owner", "members": [f"serviceAccount:{INFO['deployer']}", "user:operator@example.com"]},
                                      {"role": "roles/viewer", "members": [f"serviceAccount:{INFO['outsider']}"]}], s["policy"])
    n = log_len()
    r = run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--yes")
    check(mutations(n) == [] and "deleted 0 resources" in r.stdout, mutations(n))
    # and a deploy after a teardown works again (the soft-deleted custom role is undeleted)
    r = deploy(secret=True)
    check("custom role sealedLoginGuard_sealed_login (undeleted)" in r.stdout, r.stdout)
    run("teardown.sh", "--project", PROJECT, "--name", "sealed-login", "--key-file", KEY, "--yes")


@case
def no_secret_or_token_in_any_output_argv_or_request_line():
    tokens = ctl("tokens")["tokens"]
    check(len(tokens) > 10, "too few tokens to mean anything")
    check(RUNS > 20, f"only {RUNS} runs")
    for text in OUTPUTS:
        for s in SECRETS + [base64.b64encode(SECRET1.encode()).decode()]:
            check(s not in text, "a secret in an output")
        for t in tokens:
            check(t not in text, "a token in an output")
    check(LEAKS == [], LEAKS[:5])
    for x in ctl("log")["log"]:
        check(not any(t in x["path"] for t in tokens) and SECRET1 not in x["path"], x)
    for root, _, files in os.walk(WORK):
        check(not any(f.startswith("sealed-gcp.") for f in os.listdir(root)), f"temp dir left in {root}")


try:
    done()
finally:
    fake.terminate()
