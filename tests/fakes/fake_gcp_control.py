#!/usr/bin/env python3
"""A faithful local fake of the Google Cloud control-plane APIs that deploy/gcp/*.sh call (Python 3
stdlib + the openssl command; the RSA/JWT/CRC32C helpers of tests/fakes/fakecrypto.py). One HTTPS
listener on loopback with a certificate for *.googleapis.com from its own CA; requests are routed by
their Host header, so the scripts use the production URLs (curl --connect-to). Test code only.

  oauth2.googleapis.com          POST /token  (JWT bearer grant: RS256 assertion from a key it knows)
  serviceusage.googleapis.com    v1 services:batchGet, services:batchEnable, operations/*
  compute.googleapis.com         compute/v1 instances (insert/get/delete/stop/start/setMetadata/
                                 serialPort), disks, images, addresses, firewalls, subnetworks,
                                 aggregated lists, zonal/regional/global operations (get, wait)
  storage.googleapis.com         storage/v1 buckets, objects; upload/storage/v1 uploadType=media|resumable
  secretmanager.googleapis.com   v1 secrets, :addVersion, versions (list, access, :disable), IAM
  iam.googleapis.com             v1 serviceAccounts (+ keys), custom roles (soft delete, undelete)
  cloudresourcemanager.googleapis.com  v1 projects :getIamPolicy / :setIamPolicy (etag, version 3)
  monitoring.googleapis.com      v3 notificationChannels, uptimeCheckConfigs, alertPolicies, timeSeries
  pubsub.googleapis.com          v1 topics (create = PUT, get, list, delete, :getIamPolicy, :setIamPolicy,
                                 :publish), subscriptions (create = PUT, get, list, delete)

What it checks, as Google does: a valid, unexpired bearer token on every call (401 UNAUTHENTICATED);
the API enabled in the project (403 SERVICE_DISABLED); the caller's IAM permission, from the project
policy and the secret's policy, roles expanded (owner, viewer, monitoring.viewer, secretAccessor,
custom roles), conditions `resource.name == "..."` joined by `||` evaluated (403 PERMISSION_DENIED);
RFC 1035 names, machine types per zone, disk types, network tiers, subnets and reserved addresses,
409 ALREADY_EXISTS, etags on IAM policies (409 ABORTED), metadata fingerprints (412), CRC32C of
secret payloads, Shielded VM and SEV-SNP requirements of the image (UEFI_COMPATIBLE,
SEV_SNP_CAPABLE), Pub/Sub topic and subscription names and bodies (Google's
error JSON without an errors[] list, as Pub/Sub answers), the image archive (a gzip'd tar with exactly one file disk.raw, a whole number of
GiB). Operations go PENDING -> RUNNING -> DONE one step per poll/wait; the change is applied at DONE.

One liberty, said openly: a real images.insert of a GPT disk without BIOS boot code but without
UEFI_COMPATIBLE succeeds and the VM then never boots; this fake fails the import operation instead
(same cause, visible at once).

Control (any host, path /__fake/...): GET state (everything, for assertions), GET log (requests:
method, host, path, status, principal; never bodies), POST fault {"op_fail": {...}, "http": {...},
"iam_conflict": N}, POST egress {"zone": Z, "instance": name, "bytes": N}, POST token {"email": E} (a token
for a known key, as gcloud would give), POST services {"enable": [...]}.

Run: fake_gcp_control.py --dir DIR [--project P]; prints one JSON line (port, ca_file, key files).
"""
import argparse
import base64
import gzip
import hashlib
import io
import ipaddress
import json
import os
import re
import tarfile
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import fakecrypto as fc
import httpfake

MAX_BODY = 2 << 30                # request-body cap: image archives are large
RFC1035 = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
GIB = 1 << 30
ZONES = {"us-central1": ["a", "b", "c", "f"], "us-west1": ["a", "b", "c"], "us-east1": ["b", "c", "d"],
         "europe-west4": ["a", "b", "c"]}
SNP_ZONES = {"us-central1-a", "us-central1-b", "europe-west4-a", "europe-west4-b"}
SUBNETS = {"us-central1": ("10.128.0.0/20", "10.128.0.1"), "us-west1": ("10.138.0.0/20", "10.138.0.1"),
           "us-east1": ("10.142.0.0/20", "10.142.0.1"), "europe-west4": ("10.164.0.0/20", "10.164.0.1")}
MACHINE_TYPES = {"e2-micro": 2, "e2-small": 2, "e2-medium": 2, "e2-standard-2": 2, "n2-standard-2": 2,
                 "n2d-standard-2": 2, "n2d-standard-4": 4, "c3d-standard-4": 4}
MEMORY_MB = {"e2-micro": 1024, "e2-small": 2048, "e2-medium": 4096, "e2-standard-2": 8192, "n2-standard-2": 8192,
             "n2d-standard-2": 8192, "n2d-standard-4": 16384, "c3d-standard-4": 16384}
# Zone.availableCpuPlatforms (compute/v1 zones.get): in this fake, AMD Milan and Genoa (what SEV-SNP needs) are in
# SNP_ZONES only; N2D runs on Rome or Milan, C3D only on Genoa.
def cpu_platforms(zone):
    return ["Intel Broadwell", "Intel Cascade Lake", "Intel Ice Lake", "AMD Rome"] + (
        ["AMD Milan", "AMD Genoa"] if zone in SNP_ZONES else [])
# instances.insert fields this fake knows; any other is refused as Google's JSON parser refuses it.
INSTANCE_FIELDS = {"name", "machineType", "description", "labels", "tags", "disks", "networkInterfaces", "serviceAccounts",
                   "metadata", "shieldedInstanceConfig", "confidentialInstanceConfig", "scheduling", "minCpuPlatform"}
CONF_FIELDS = {"confidentialInstanceType", "enableConfidentialCompute"}
SHIELDED_FIELDS = {"enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring"}
DISK_FIELDS = {"boot", "autoDelete", "type", "initializeParams", "interface", "deviceName", "mode"}
DISK_TYPES = {"pd-standard", "pd-balanced", "pd-ssd"}
# Cloud Monitoring metric descriptors this fake knows (metric type -> monitored resource type), and the enums
METRICS = {"compute.googleapis.com/instance/network/sent_bytes_count": "gce_instance",
           "compute.googleapis.com/instance/network/received_bytes_count": "gce_instance",
           "monitoring.googleapis.com/uptime_check/check_passed": "uptime_url",
           "pubsub.googleapis.com/topic/send_message_operation_count": "pubsub_topic",
           "pubsub.googleapis.com/topic/send_request_count": "pubsub_topic"}
ALIGNERS = {"ALIGN_NONE", "ALIGN_DELTA", "ALIGN_RATE", "ALIGN_INTERPOLATE", "ALIGN_NEXT_OLDER", "ALIGN_MIN", "ALIGN_MAX",
            "ALIGN_MEAN", "ALIGN_COUNT", "ALIGN_SUM", "ALIGN_STDDEV", "ALIGN_COUNT_TRUE", "ALIGN_COUNT_FALSE",
            "ALIGN_FRACTION_TRUE", "ALIGN_PERCENTILE_99", "ALIGN_PERCENTILE_95", "ALIGN_PERCENTILE_50",
            "ALIGN_PERCENTILE_05", "ALIGN_PERCENT_CHANGE"}
REDUCERS = {"REDUCE_NONE", "REDUCE_MEAN", "REDUCE_MIN", "REDUCE_MAX", "REDUCE_SUM", "REDUCE_STDDEV", "REDUCE_COUNT",
            "REDUCE_COUNT_TRUE", "REDUCE_COUNT_FALSE", "REDUCE_FRACTION_TRUE", "REDUCE_PERCENTILE_99",
            "REDUCE_PERCENTILE_95", "REDUCE_PERCENTILE_50", "REDUCE_PERCENTILE_05"}
OS_FEATURES = {"UEFI_COMPATIBLE", "GVNIC", "SEV_CAPABLE", "SEV_SNP_CAPABLE", "SEV_LIVE_MIGRATABLE_V2",
               "TDX_CAPABLE", "VIRTIO_SCSI_MULTIQUEUE", "MULTI_IP_SUBNET", "IDPF", "SECURE_BOOT"}
APIS = ["compute.googleapis.com", "secretmanager.googleapis.com", "storage.googleapis.com",
        "monitoring.googleapis.com", "iam.googleapis.com", "cloudresourcemanager.googleapis.com",
        "pubsub.googleapis.com", "serviceusage.googleapis.com"]
# Which permissions the predefined roles hold (those the scripts' principals are given).
ROLE_PERMS = {
    "roles/owner": ["*"],
    "roles/viewer": ["*.get", "*.list", "*.getIamPolicy"],
    "roles/monitoring.viewer": ["monitoring.*.get", "monitoring.*.list"],
    "roles/secretmanager.secretAccessor": ["secretmanager.versions.access"],
    "roles/pubsub.publisher": ["pubsub.topics.publish"],
    "roles/pubsub.subscriber": ["pubsub.subscriptions.consume", "pubsub.topics.attachSubscription"],
    "roles/pubsub.viewer": ["pubsub.topics.get", "pubsub.topics.list", "pubsub.subscriptions.get", "pubsub.subscriptions.list"],
}
KNOWN_PERMS = {"compute.instances.get", "compute.instances.stop", "compute.instances.start",
               "compute.instances.delete", "compute.instances.create", "compute.firewalls.get",
               "compute.firewalls.update", "compute.firewalls.delete", "compute.networks.updatePolicy",
               "monitoring.timeSeries.list", "secretmanager.versions.access", "compute.zoneOperations.get",
               "compute.globalOperations.get", "compute.regionOperations.get",
               "storage.objects.get", "storage.objects.create", "storage.objects.delete", "storage.objects.update",
               "storage.objects.list"}

EGRESS_METRIC = "compute.googleapis.com/instance/network/sent_bytes_count"
ALIGN_MAX_S = 104 * 7 * 86400     # Aggregation.alignmentPeriod: at least 60 s, at most 104 weeks (charts)


def _ts(v, field):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?Z", v or "")
    if not m:
        raise bad(f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Timestamp), \"{v}\"")
    import calendar
    return calendar.timegm(tuple(int(x) for x in m.groups()[:6]))


def timeseries_query(arg):
    """projects.timeSeries.list's query, checked as Cloud Monitoring checks it: the filter names one
    known metric type (on its monitored resource type), aligner and reducer are enum values, the
    alignment period a Duration of 60 s to 104 weeks, required with any aligner but ALIGN_NONE,
    the interval two Timestamps, start not after end. Returns (metric type, instance_id or None);
    raises ApiError (400 INVALID_ARGUMENT) as Monitoring answers. One checker for
    fake_gcp_control.py (the operator's guard) and fake_cloud.py (the VM's own)."""
    f = arg("filter", "")
    if not f or not arg("interval.endTime"):
        raise bad("Field filter and interval.endTime are required.")
    terms = [t.strip() for t in re.split(r"\s+AND\s+", f)]
    mt = rt = iid = None
    for t in terms:
        m = re.fullmatch(r'(metric\.type|resource\.type|resource\.labels?\.[a-z_]+|metric\.labels?\.[a-z_]+|'
                         r'metadata\.system_labels\.[a-z_]+)\s*=\s*"([^"]*)"', t)
        if not m:
            raise bad(f"Could not parse filter: {f}")
        k, v = m.groups()
        if k == "metric.type":
            if mt is not None:
                raise bad("The filter must specify a single metric type.")
            mt = v
        elif k == "resource.type":
            rt = v
        elif re.fullmatch(r"resource\.labels?\.instance_id", k):
            iid = v
    if mt is None:
        raise bad(f"Could not parse filter: {f}")
    if mt not in METRICS or (rt and rt != METRICS[mt]):
        raise bad("The supplied filter does not specify a valid combination of metric and monitored resource "
                  "descriptors. The query will not return any time series.")
    for k, enum in (("aggregation.perSeriesAligner", ALIGNERS), ("aggregation.crossSeriesReducer", REDUCERS)):
        v = arg(k)
        if v is not None and v not in enum:
            raise bad(f'Invalid value at \'{k[len("aggregation."):]}\' (type.googleapis.com/google.monitoring.v3.'
                      f'Aggregation.{"Aligner" if "Aligner" in k else "Reducer"}), "{v}"')
    per = arg("aggregation.alignmentPeriod")
    if per is not None and not re.fullmatch(r"[0-9]+(\.[0-9]{1,9})?s", per):
        raise bad(f"Invalid value at 'aggregation.alignment_period' (type.googleapis.com/google.protobuf.Duration), \"{per}\"")
    if arg("aggregation.perSeriesAligner", "ALIGN_NONE") != "ALIGN_NONE":
        if per is None:
            raise bad("The alignment period must be specified when an aligner other than ALIGN_NONE is used.")
        if not 60 <= float(per[:-1]) <= ALIGN_MAX_S:
            raise bad(f"The alignment period must be at least 60 seconds and at most 104 weeks, not {per}.")
    if arg("aggregation.crossSeriesReducer", "REDUCE_NONE") != "REDUCE_NONE" and \
            arg("aggregation.perSeriesAligner", "ALIGN_NONE") == "ALIGN_NONE":
        raise bad("A cross-series reducer requires a per-series aligner other than ALIGN_NONE.")
    end = _ts(arg("interval.endTime"), "interval.end_time")
    if arg("interval.startTime") is not None and _ts(arg("interval.startTime"), "interval.start_time") > end:
        raise bad("The start time must be before or equal to the end time.")
    return mt, iid


def timeseries_answer(metric, project, iid, arg, value):
    """A ListTimeSeriesResponse of one DELTA INT64 series with one point (int64Value is a string)."""
    return {"timeSeries": [{"metric": {"type": metric}, "resource": {"type": "gce_instance", "labels": {
        "project_id": project, "instance_id": iid, "zone": "us-central1-b"}}, "metricKind": "DELTA", "valueType": "INT64",
        "points": [{"interval": {"startTime": arg("interval.startTime"), "endTime": arg("interval.endTime")},
                    "value": {"int64Value": str(int(value))}}]}], "unit": "By"}


def now_rfc3339(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000000Z"


class ApiError(Exception):
    def __init__(self, code, status, message, reason="invalid", details=None, plain=False):
        super().__init__(message)
        self.code, self.status, self.message, self.reason, self.details = code, status, message, reason, details
        self.plain = plain   # the newer APIs (Pub/Sub): {"error": {code, message, status}} without errors[]

    def body(self):
        e = {"code": self.code, "message": self.message, "status": self.status}
        if not self.plain:
            e["errors"] = [{"message": self.message, "domain": "global", "reason": self.reason}]
        if self.details:
            e["details"] = self.details
        return {"error": e}


def bad(msg, reason="invalid"):
    return ApiError(400, "INVALID_ARGUMENT", msg, reason)


def unknown_fields(obj, known, where):
    """Google's JSON parser: a field the message does not have is a 400 naming it (proto3 JSON mapping)."""
    for k in (obj or {}):
        if k not in known:
            msg = f'Invalid JSON payload received. Unknown name "{k}" at \'{where}\': Cannot find field.'
            raise ApiError(400, "INVALID_ARGUMENT", msg, "invalid", [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                                                     "fieldViolations": [{"field": where, "description": msg}]}])


def notfound(msg):
    return ApiError(404, "NOT_FOUND", msg, "notFound")


def exists(msg):
    return ApiError(409, "ALREADY_EXISTS", msg, "alreadyExists")


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.dir = args.dir
        os.makedirs(self.dir, exist_ok=True)
        m = fc.Minter(self.dir)
        self.minter = m
        self.ca_key, self.ca_pem = m.ca("gcp-ca", "/CN=Fake Google Trust Services")
        self.tls_key, self.tls_pem = m.issue("googleapis", "/CN=*.googleapis.com", self.ca_key, self.ca_pem, days=30,
                                             san="DNS:*.googleapis.com,DNS:googleapis.com,DNS:localhost,IP:127.0.0.1")
        self.project = args.project
        self.number = "123456789012"
        self.keys = {}           # key id -> (email, n, e)
        self.tokens = {}         # token -> (email, expiry)
        self.services = {a: (a == "serviceusage.googleapis.com") for a in APIS}
        self.su_ops = {}
        self.ops = {}            # compute operation name -> dict (with private _apply, _steps)
        self.instances, self.disks, self.images, self.addresses, self.firewalls = {}, {}, {}, {}, {}
        self.networks = {"default": {"kind": "compute#network", "id": "1000", "name": "default", "autoCreateSubnetworks": True,
                                     "mtu": 1460, "selfLink": self.c_url("global/networks/default"), "description": "Default network"}}
        self.subnets = {f"{r}/default": {"kind": "compute#subnetwork", "name": "default", "network": self.net_url("default"),
                                         "ipCidrRange": c, "gatewayAddress": g, "region": self.c_url(f"regions/{r}"),
                                         "selfLink": self.c_url(f"regions/{r}/subnetworks/default")}
                        for r, (c, g) in SUBNETS.items()}
        self.buckets, self.objects, self.uploads = {}, {}, {}
        self.secrets = {}        # id -> {"meta":..., "versions": [...], "policy": {...}}
        self.sas, self.sa_keys, self.roles = {}, {}, {}
        self.channels, self.uptime, self.alerts = {}, {}, {}
        self.topics, self.subscriptions = {}, {}   # full name -> resource (private: _policy, _messages)
        self.egress = {}         # instance id -> bytes sent this month
        self.log = []
        self.faults = {"op_fail": [], "http": [], "iam_conflict": 0}
        self.ip_next = 10
        self.deployer = f"deployer@{self.project}.iam.gserviceaccount.com"
        self.outsider = f"outsider@{self.project}.iam.gserviceaccount.com"
        self.policy = {"version": 1, "etag": "BwYA", "bindings": [
            {"role": "roles/owner", "members": [f"serviceAccount:{self.deployer}", "user:operator@example.com"]},
            {"role": "roles/viewer", "members": [f"serviceAccount:{self.outsider}"]}]}
        self.key_files = {}
        for who, email in (("deployer", self.deployer), ("outsider", self.outsider)):
            self.sas[email] = {"name": f"projects/{self.project}/serviceAccounts/{email}", "projectId": self.project,
                               "uniqueId": str(100000000000000000000 + len(self.sas)), "email": email,
                               "displayName": who, "etag": "MDEwMjE5MjA=", "oauth2ClientId": "1"}
            self.key_files[who] = self.new_key_file(email)
        # an unrelated secret and firewall that nothing here may touch
        self.secrets["unrelated-secret"] = {"meta": {"name": f"projects/{self.number}/secrets/unrelated-secret",
                                                     "replication": {"automatic": {}}, "createTime": now_rfc3339(),
                                                     "labels": {"team": "other"}, "etag": "\"1\""},
                                            "versions": [], "policy": {"version": 1, "etag": "BwAA", "bindings": []}}
        self.firewalls["default-allow-ssh"] = {"name": "default-allow-ssh", "network": self.net_url("default"),
                                               "direction": "INGRESS", "priority": 65534, "sourceRanges": ["0.0.0.0/0"],
                                               "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "disabled": False,
                                               "id": "1", "selfLink": self.c_url("global/firewalls/default-allow-ssh"),
                                               "description": "Allow SSH from anywhere"}

    # -- keys and tokens
    def new_key_file(self, email):
        kp = self.minter.key("sa-" + uuid.uuid4().hex[:8])
        pem = open(kp).read()
        n, e, _ = fc.rsa_private(fc.pem_to_der(pem))
        kid = hashlib.sha1(pem.encode()).hexdigest()
        self.keys[kid] = (email, n, e)
        return {"type": "service_account", "project_id": self.project, "private_key_id": kid, "private_key": pem,
                "client_email": email, "client_id": "1" * 21, "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs"}

    def issue_token(self, email, ttl=3599):
        tok = "ya29.c." + base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
        self.tokens[tok] = (email, time.time() + ttl)
        return tok, ttl

    # -- urls
    def c_url(self, rest):
        return f"https://compute.googleapis.com/compute/v1/projects/{self.project}/{rest}"

    def net_url(self, net):
        return self.c_url(f"global/networks/{net}")


ST = None


# ---- IAM evaluation ------------------------------------------------------------------------------

def role_perms(role):
    if role in ROLE_PERMS:
        return ROLE_PERMS[role]
    r = ST.roles.get(role.split("/")[-1]) if role.startswith(f"projects/{ST.project}/roles/") else None
    return [] if not r or r.get("deleted") else r["includedPermissions"]


def perm_match(pat, perm):
    return pat == "*" or pat == perm or re.fullmatch(re.escape(pat).replace(r"\*", "[a-zA-Z.]+"), perm) is not None


def cond_ok(cond, resource):
    if not cond:
        return True
    for term in cond["expression"].split("||"):
        m = re.fullmatch(r'\s*resource\.name\s*==\s*"([^"]*)"\s*', term)
        if m and m.group(1) == resource:
            return True
        m = re.fullmatch(r'\s*resource\.name\.startsWith\("([^"]*)"\)\s*', term)
        if m and resource.startswith(m.group(1)):
            return True
    return False


def allowed(member, perm, resource, extra_policy=None):
    for pol in (ST.policy, extra_policy or {}):
        for b in pol.get("bindings", []):
            if member in b["members"] and cond_ok(b.get("condition"), resource) and \
                    any(perm_match(p, perm) for p in role_perms(b["role"])):
                return True
    return False


# ---- HTTP ----------------------------------------------------------------------------------------

class Handler(httpfake.Handler):
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    max_body = MAX_BODY

    def reply(self, status, body, headers=()):
        if isinstance(body, bytes):
            return self.send(status, body, "application/octet-stream", headers)
        self.send(status, json.dumps(body).encode(), "application/json; charset=UTF-8", headers)

    def json_in(self, raw):
        if not raw:
            return {}
        try:
            v = json.loads(raw)
        except ValueError:
            raise bad("Invalid JSON payload received.")
        if not isinstance(v, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        return v

    def handle_any(self):
        url = urlsplit(self.path)
        host = (self.headers.get("Host") or "").split(":")[0]
        path, query = unquote(url.path), parse_qs(url.query)
        raw = self.read_body()
        if raw is None:
            return self.reply(411, ApiError(411, "INVALID_ARGUMENT", "A valid Content-Length (at most "
                                            f"{MAX_BODY} bytes) is required.", "required").body())
        principal, status = "-", 0
        try:
            if url.path.startswith("/__fake/"):
                status, body, hdrs = 200, self.control(url.path[8:], raw), ()
            else:
                with ST.lock:
                    for f in ST.faults["http"]:
                        if f["count"] > 0 and f.get("method", self.command) == self.command and \
                                re.search(f["path_re"], url.path):
                            f["count"] -= 1
                            raise ApiError(f["status"], f.get("grpc", "UNAVAILABLE"), f.get("message", "The service is currently unavailable."), "backendError")
                if host == "oauth2.googleapis.com":
                    status, body, hdrs = self.token(raw)
                else:
                    principal = self.authenticate()
                    svc = host if host != "storage.googleapis.com" else "storage.googleapis.com"
                    if svc not in ST.services:
                        raise notfound(f"no such host {host}")
                    if not ST.services[svc]:
                        raise ApiError(403, "PERMISSION_DENIED",
                                       f"{svc.split('.')[0].title()} API has not been used in project {ST.number} before or it is disabled. "
                                       f"Enable it by visiting https://console.developers.google.com/apis/api/{svc}/overview?project={ST.number} then retry.",
                                       "accessNotConfigured",
                                       [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                                         "domain": "googleapis.com", "metadata": {"service": svc, "consumer": f"projects/{ST.number}"}}])
                    with ST.lock:
                        status, body, hdrs = Api(self, principal, host, path, query, raw).route()
        except ApiError as e:
            status, body, hdrs = e.code, e.body(), ()
        with ST.lock:
            ST.log.append({"method": self.command, "host": host, "path": url.path, "status": status,
                           "principal": principal, "t": time.time()})
        self.reply(status, body, hdrs)

    dispatch = handle_any

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with ST.lock:
            who = ST.tokens.get(tok)
        if not who or who[1] < time.time():
            raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access "
                           "token, login cookie or other valid authentication credential. See "
                           "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                           "authError" if tok else "required")
        return "serviceAccount:" + who[0]

    def token(self, raw):
        if self.path != "/token" or self.command != "POST":
            raise notfound("Not Found")
        form = parse_qs(raw.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "}, ()
        jwt = (form.get("assertion") or [""])[0]
        try:
            hdr = json.loads(fc.b64u_dec(jwt.split(".")[0]))
        except (ValueError, IndexError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: malformed"}, ()
        key = ST.keys.get(hdr.get("kid", ""))
        claims = fc.jwt_verify(key[1], key[2], jwt) if key else None
        if not key or claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, ()
        now = time.time()
        if claims.get("iss") != key[0] or claims.get("aud") != "https://oauth2.googleapis.com/token":
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: iss or aud is wrong."}, ()
        iat, exp = claims.get("iat", 0), claims.get("exp", 0)
        if not (abs(iat - now) < 300 and exp > now and exp - iat <= 3600):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token "
                         "(60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."}, ()
        if "https://www.googleapis.com/auth/cloud-platform" not in claims.get("scope", "").split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}, ()
        with ST.lock:
            tok, ttl = ST.issue_token(key[0])
        return 200, {"access_token": tok, "expires_in": ttl, "token_type": "Bearer"}, ()

    def control(self, what, raw):
        req = json.loads(raw) if raw else {}
        with ST.lock:
            if what == "log":
                return {"log": ST.log}
            if what == "state":
                def pub(d):
                    return {k: {a: b for a, b in v.items() if not a.startswith("_")} if isinstance(v, dict) else v
                            for k, v in d.items()}
                return {"instances": pub(ST.instances), "disks": pub(ST.disks), "images": pub(ST.images),
                        "addresses": pub(ST.addresses), "firewalls": pub(ST.firewalls), "buckets": pub(ST.buckets),
                        "bucket_policies": {k: v["_policy"] for k, v in ST.buckets.items()},
                        "instance_policies": {k: v.get("_policy") for k, v in ST.instances.items()},
                        "networks": ST.networks, "subnetworks": ST.subnets,
                        "objects": {f"{b}/{n}": {k: v for k, v in o.items() if k != "_data"} for (b, n), o in ST.objects.items()},
                        "secrets": {k: {"meta": v["meta"], "policy": v["policy"],
                                        "versions": [{x: y for x, y in ver.items() if x != "_data"} for ver in v["versions"]]}
                                    for k, v in ST.secrets.items()},
                        "service_accounts": ST.sas, "roles": ST.roles, "policy": ST.policy, "services": ST.services,
                        "channels": ST.channels, "uptime": ST.uptime, "alerts": ST.alerts,
                        "topics": pub(ST.topics), "topic_policies": {k: v["_policy"] for k, v in ST.topics.items()},
                        "subscriptions": pub(ST.subscriptions),
                        "inbox": {k: v["_messages"] for k, v in ST.subscriptions.items()},
                        "operations": pub(ST.ops), "tokens_issued": len(ST.tokens)}
            if what == "tokens":          # tests look for them in outputs and argv; never printed by them
                return {"tokens": list(ST.tokens)}
            if what == "secret_values":   # tests compare; never printed by them
                return {k: [base64.b64encode(v["_data"]).decode() for v in s["versions"]] for k, s in ST.secrets.items()}
            if what == "fault":
                for f in req.get("op_fail", []) if isinstance(req.get("op_fail"), list) else [req["op_fail"]] if "op_fail" in req else []:
                    ST.faults["op_fail"].append(dict(f, count=f.get("count", 1)))
                for f in req.get("http", []) if isinstance(req.get("http"), list) else [req["http"]] if "http" in req else []:
                    ST.faults["http"].append(dict(f, count=f.get("count", 1)))
                ST.faults["iam_conflict"] += req.get("iam_conflict", 0)
                return {"ok": True}
            if what == "egress":
                inst = ST.instances[req["zone"] + "/" + req["instance"]]
                ST.egress[inst["id"]] = int(req["bytes"])
                return {"ok": True}
            if what == "can":   # {"member", "perm", "resource"}: IAM as evaluated for that resource
                res, extra = req["resource"], None
                mm = re.fullmatch(r"projects/[^/]+/zones/([^/]+)/instances/([^/]+)", res)
                if mm and f"{mm.group(1)}/{mm.group(2)}" in ST.instances:
                    extra = ST.instances[f"{mm.group(1)}/{mm.group(2)}"].get("_policy")
                mm = re.fullmatch(r"projects/_/buckets/([^/]+)(?:/objects/.*)?", res)
                if mm and mm.group(1) in ST.buckets:
                    extra = ST.buckets[mm.group(1)]["_policy"]
                if res in ST.topics:
                    extra = ST.topics[res]["_policy"]
                return {"allowed": allowed(req["member"], req["perm"], res, extra)}
            if what == "token":
                tok, ttl = ST.issue_token(req["email"], req.get("ttl", 3599))
                return {"access_token": tok, "expires_in": ttl}
            if what == "key":
                return ST.key_files[req["who"]]
            if what == "services":
                for s in req.get("enable", []):
                    ST.services[s] = True
                return {"ok": True}
        raise notfound("no such control")


# ---- the APIs ------------------------------------------------------------------------------------

class Api:
    def __init__(self, h, principal, host, path, query, raw):
        self.h, self.who, self.host, self.path, self.q, self.raw = h, principal, host, path, query, raw
        self.m = h.command

    def arg(self, k, d=None):
        return self.q.get(k, [d])[0]

    def body(self):
        return self.h.json_in(self.raw)

    def need(self, perm, resource, extra=None, compute=False):
        if not allowed(self.who, perm, resource, extra):
            if compute:
                raise ApiError(403, "PERMISSION_DENIED", f"Required '{perm}' permission for '{resource}'", "forbidden")
            raise ApiError(403, "PERMISSION_DENIED", f"Permission '{perm}' denied on resource '{resource}' (or it may not exist).",
                           "IAM_PERMISSION_DENIED")

    def project_ok(self, p):
        if p not in (ST.project, ST.number):
            raise ApiError(403, "PERMISSION_DENIED", f"Permission denied on resource project {p}.", "forbidden")

    def route(self):
        p = self.path
        found = API_ROUTES.find(self.m, p, self.host)
        if not found:
            raise notfound(f"The requested URL {p} was not found on this server.")
        fn, groups, _ = found
        return fn(self, *groups)

    # -- Service Usage
    def serviceusage(self, p):
        m = re.fullmatch(r"/v1/projects/([^/]+)/services:(batchGet|batchEnable)", p)
        if m:
            self.project_ok(m.group(1))
            if m.group(2) == "batchGet" and self.m == "GET":
                self.need("serviceusage.services.get", f"projects/{ST.project}")
                out = []
                for n in self.q.get("names", []):
                    s = n.split("/")[-1]
                    if s not in ST.services:
                        raise bad(f"Invalid service name {s}")
                    out.append({"name": f"projects/{ST.number}/services/{s}", "config": {"name": s},
                                "state": "ENABLED" if ST.services[s] else "DISABLED", "parent": f"projects/{ST.number}"})
                return 200, {"services": out}, ()
            if m.group(2) == "batchEnable" and self.m == "POST":
                self.need("serviceusage.services.enable", f"projects/{ST.project}")
                ids = self.body().get("serviceIds", [])
                if not ids or any(s not in ST.services for s in ids):
                    raise bad(f"Invalid service ids {ids}")
                name = f"operations/acf.p2-{ST.number}-{uuid.uuid4()}"
                ST.su_ops[name] = {"ids": ids, "polls": 0}
                return 200, {"name": name, "metadata": {"@type": "type.googleapis.com/google.protobuf.Empty"}}, ()
        m = re.fullmatch(r"/v1/(operations/[^/]+)", p)
        if m and self.m == "GET" and m.group(1) in ST.su_ops:
            op = ST.su_ops[m.group(1)]
            op["polls"] += 1
            if op["polls"] < 2:
                return 200, {"name": m.group(1), "metadata": {}}, ()
            for s in op["ids"]:
                ST.services[s] = True
            return 200, {"name": m.group(1), "done": True, "response": {
                "@type": "type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse",
                "services": [{"name": f"projects/{ST.number}/services/{s}", "state": "ENABLED"} for s in op["ids"]]}}, ()
        raise notfound("Method not found.")

    # -- Compute Engine
    def op(self, scope, kind, optype, target, apply, target_id=None):
        """A compute operation; apply() runs at DONE and may raise ApiError (becomes the op's error)."""
        name = f"operation-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        o = {"kind": "compute#operation", "id": str(uuid.uuid4().int % 10**19), "name": name,
             "operationType": optype, "targetLink": ST.c_url(target), "targetId": target_id or "",
             "status": "PENDING", "user": self.who.split(":", 1)[1], "progress": 0, "insertTime": now_rfc3339(),
             "selfLink": ST.c_url(f"{scope}/operations/{name}"), "_apply": apply, "_kind": kind}
        if scope.startswith("zones/"):
            o["zone"] = ST.c_url(scope)
        elif scope.startswith("regions/"):
            o["region"] = ST.c_url(scope)
        for f in ST.faults["op_fail"]:
            if f["count"] > 0 and f.get("kind", kind) == kind and f.get("type", optype) == optype:
                f["count"] -= 1
                o["_fail"] = {"code": f.get("code", "ZONE_RESOURCE_POOL_EXHAUSTED"),
                              "message": f.get("message", "The zone does not have enough resources available to fulfill the request.")}
                break
        ST.ops[name] = o
        return 200, self.op_pub(o), ()

    @staticmethod
    def op_pub(o):
        return {k: v for k, v in o.items() if not k.startswith("_")}

    def op_step(self, o):
        if o["status"] == "PENDING":
            o["status"], o["startTime"], o["progress"] = "RUNNING", now_rfc3339(), 50
        elif o["status"] == "RUNNING":
            err = o.get("_fail")
            if not err:
                try:
                    o["_apply"]()
                except ApiError as e:
                    err = {"code": e.reason.upper() if e.reason != "invalid" else "INVALID_USAGE", "message": e.message}
            if err:
                o["error"] = {"errors": [err]}
                o["httpErrorStatusCode"], o["httpErrorMessage"] = 400, "BAD REQUEST"
            o["status"], o["endTime"], o["progress"] = "DONE", now_rfc3339(), 100

    def compute(self, rest):
        parts = rest.split("/")
        proj = parts[0]
        self.project_ok(proj)
        r = parts[1:]
        m = self.m
        P = f"projects/{ST.project}"
        # operations
        if len(r) >= 3 and r[-2] == "operations" or len(r) >= 4 and r[-3] == "operations":
            wait = r[-1] == "wait"
            name = r[-2] if wait else r[-1]
            o = ST.ops.get(name)
            if not o:
                raise notfound(f"The resource '{P}/{'/'.join(r[:-1] if wait else r)}' was not found")
            if (m, wait) not in (("GET", False), ("POST", True)):
                raise notfound("Method not found.")
            scope = "/".join(r[:-2] if wait else r[:-1])      # global/operations, zones/Z/operations, ...
            kind = {"zones": "zoneOperations", "regions": "regionOperations"}.get(r[0], "globalOperations")
            self.need(f"compute.{kind}.get", f"{P}/{scope}/{name}", compute=True)
            self.op_step(o)
            return 200, self.op_pub(o), ()
        if r[0] == "aggregated" and m == "GET":
            return self.aggregated(r[1])
        if r[:2] == ["global", "images"]:
            return self.images(r[2:])
        if r[:2] == ["global", "firewalls"]:
            return self.fw(r[2:])
        if r[:2] == ["global", "networks"]:
            return self.nets(r[2:])
        if r[0] == "regions" and len(r) >= 3:
            region = r[1]
            if region not in ZONES:
                raise bad(f"Invalid value for field 'region': '{region}'. Unknown region.")
            if r[2] == "subnetworks":
                return self.subnet(region, r[3:])
            if r[2] == "addresses":
                return self.addr(region, r[3:])
        if r[0] == "zones" and len(r) == 2 and m == "GET":
            return self.zone_get(r[1])
        if r[0] == "zones" and len(r) >= 3:
            zone = r[1]
            reg = zone.rsplit("-", 1)[0]
            if reg not in ZONES or zone.rsplit("-", 1)[1] not in ZONES[reg]:
                raise bad(f"Invalid value for field 'zone': '{zone}'. Unknown zone.")
            if r[2] == "instances":
                return self.inst(zone, r[3:])
            if r[2] == "machineTypes" and len(r) == 4 and m == "GET":
                return self.machine_type(zone, r[3])
            if r[2] == "disks" and len(r) == 4:
                d = ST.disks.get(zone + "/" + r[3])
                if not d:
                    raise notfound(f"The resource '{P}/zones/{zone}/disks/{r[3]}' was not found")
                if m == "GET":
                    self.need("compute.disks.get", f"{P}/zones/{zone}/disks/{r[3]}", compute=True)
                    return 200, d, ()
                if m == "DELETE":
                    self.need("compute.disks.delete", f"{P}/zones/{zone}/disks/{r[3]}", compute=True)
                    if d.get("users"):
                        raise bad(f"The disk resource '{d['selfLink']}' is already being used by '{d['users'][0]}'", "resourceInUseByAnotherResource")
                    return self.op(f"zones/{zone}", "disks", "delete", f"zones/{zone}/disks/{r[3]}",
                                   lambda: ST.disks.pop(zone + "/" + r[3], None))
        raise notfound(f"The requested URL /compute/v1/projects/{rest} was not found.")

    def zone_get(self, zone):
        reg = zone.rsplit("-", 1)[0]
        self.need("compute.zones.get", f"projects/{ST.project}/zones/{zone}", compute=True)
        if reg not in ZONES or zone.rsplit("-", 1)[1] not in ZONES[reg]:
            raise notfound(f"The resource 'projects/{ST.project}/zones/{zone}' was not found")
        return 200, {"kind": "compute#zone", "id": str(abs(hash(zone)) % 10**13), "name": zone, "status": "UP",
                     "region": ST.c_url(f"regions/{reg}"), "availableCpuPlatforms": cpu_platforms(zone),
                     "selfLink": ST.c_url(f"zones/{zone}")}, ()

    def machine_type(self, zone, name):
        self.need("compute.machineTypes.get", f"projects/{ST.project}/zones/{zone}/machineTypes/{name}", compute=True)
        plat = cpu_platforms(zone)
        if name not in MACHINE_TYPES or (name.startswith("c3d-") and "AMD Genoa" not in plat):
            raise notfound(f"The resource 'projects/{ST.project}/zones/{zone}/machineTypes/{name}' was not found")
        return 200, {"kind": "compute#machineType", "name": name, "zone": zone, "guestCpus": MACHINE_TYPES[name],
                     "memoryMb": MEMORY_MB[name], "isSharedCpu": name in ("e2-micro", "e2-small", "e2-medium"),
                     "description": f"{MACHINE_TYPES[name]} vCPUs, {MEMORY_MB[name] // 1024} GB RAM",
                     "selfLink": ST.c_url(f"zones/{zone}/machineTypes/{name}")}, ()

    def filtered(self, items):
        f = self.arg("filter")
        if not f:
            return items
        mm = re.fullmatch(r'\s*labels\.([\w-]+)\s*(=|!=)\s*"?([^"]*)"?\s*', f)
        if not mm:
            raise bad(f"Invalid value for field 'filter': '{f}'. Invalid list filter expression.")
        k, op, v = mm.groups()
        return [i for i in items if (i.get("labels", {}).get(k) == v) == (op == "=")]

    def aggregated(self, what):
        P = f"projects/{ST.project}"
        src = {"instances": ST.instances, "disks": ST.disks, "addresses": ST.addresses, "subnetworks": ST.subnets}.get(what)
        if src is None:
            raise notfound("not found")
        self.need(f"compute.{what}.list", P, compute=True)
        items = {}
        for key, v in src.items():
            scope = key.split("/")[0]
            sk = ("regions/" if what in ("addresses", "subnetworks") else "zones/") + scope
            if v in self.filtered([v]):
                items.setdefault(sk, {what: []})[what].append(v)
        return 200, {"kind": f"compute#{what[:-1]}AggregatedList", "items": items,
                     "selfLink": ST.c_url(f"aggregated/{what}")}, ()

    def labels_ok(self, labels):
        for k, v in (labels or {}).items():
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or not re.fullmatch(r"[a-z0-9_-]{0,63}", str(v)):
                raise bad(f"Invalid value for field 'resource.labels': '{k}={v}'. Label keys and values may only contain "
                          "lowercase letters, numeric characters, underscores, and dashes.")

    def name_ok(self, name, field="resource.name"):
        if not isinstance(name, str) or not RFC1035.fullmatch(name):
            raise bad(f"Invalid value for field '{field}': '{name}'. Must be a match of regex "
                      "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19})'")

    def images(self, r):
        P = f"projects/{ST.project}"
        m = self.m
        if not r and m == "GET":
            self.need("compute.images.list", P, compute=True)
            return 200, {"kind": "compute#imageList", "items": self.filtered(list(ST.images.values()))}, ()
        if not r and m == "POST":
            b = self.body()
            name = b.get("name")
            self.name_ok(name)
            self.need("compute.images.create", f"{P}/global/images/{name}", compute=True)
            if name in ST.images:
                raise exists(f"The resource '{P}/global/images/{name}' already exists")
            self.labels_ok(b.get("labels"))
            feats = [f.get("type") for f in b.get("guestOsFeatures", [])]
            for f in feats:
                if f not in OS_FEATURES:
                    raise bad(f"Invalid value for field 'resource.guestOsFeatures[].type': '{f}'.")
            src = (b.get("rawDisk") or {}).get("source", "")
            mm = re.fullmatch(r"https://storage\.googleapis\.com/([^/]+)/(.+)", src)
            if not mm:
                raise bad("Invalid value for field 'resource.rawDisk.source': '%s'. The URL is malformed." % src)
            if b.get("family") is not None:
                self.name_ok(b["family"], "resource.family")

            def apply():
                obj = ST.objects.get((mm.group(1), mm.group(2)))
                if not obj:
                    raise ApiError(400, "INVALID_ARGUMENT", f"The resource '{src}' of type 'GCS object' was not found.", "resource_not_found")
                size, uefi_only = inspect_archive(obj["_data"])
                if uefi_only and "UEFI_COMPATIBLE" not in feats:
                    raise ApiError(400, "INVALID_ARGUMENT", f"Image '{name}': disk.raw has a GPT disk without BIOS boot code "
                                   "(boots only with UEFI) but guestOsFeatures lack UEFI_COMPATIBLE.", "invalid")
                ST.images[name] = {"kind": "compute#image", "id": str(uuid.uuid4().int % 10**19), "name": name,
                                   "family": b.get("family"), "labels": b.get("labels", {}), "description": b.get("description", ""),
                                   "status": "READY", "sourceType": "RAW", "rawDisk": {"source": src, "containerType": "TAR"},
                                   "guestOsFeatures": [{"type": f} for f in feats], "diskSizeGb": str(size // GIB),
                                   "archiveSizeBytes": str(len(obj["_data"])), "architecture": b.get("architecture", "X86_64"),
                                   "creationTimestamp": now_rfc3339(), "selfLink": ST.c_url(f"global/images/{name}")}
            return self.op("global", "images", "insert", f"global/images/{name}", apply)
        if len(r) == 1:
            name = r[0]
            img = ST.images.get(name)
            if m == "GET":
                self.need("compute.images.get", f"{P}/global/images/{name}", compute=True)
                if not img:
                    raise notfound(f"The resource '{P}/global/images/{name}' was not found")
                return 200, img, ()
            if m == "DELETE":
                self.need("compute.images.delete", f"{P}/global/images/{name}", compute=True)
                if not img:
                    raise notfound(f"The resource '{P}/global/images/{name}' was not found")
                return self.op("global", "images", "delete", f"global/images/{name}", lambda: ST.images.pop(name, None))
        raise notfound("Method not found.")

    def addr(self, region, r):
        P = f"projects/{ST.project}"
        m = self.m
        if not r and m == "POST":
            b = self.body()
            name = b.get("name")
            self.name_ok(name)
            self.need("compute.addresses.create", f"{P}/regions/{region}/addresses/{name}", compute=True)
            if region + "/" + name in ST.addresses:
                raise exists(f"The resource '{P}/regions/{region}/addresses/{name}' already exists")
            self.labels_ok(b.get("labels"))
            atype = b.get("addressType", "EXTERNAL")
            tier = b.get("networkTier", "PREMIUM")
            if tier not in ("PREMIUM", "STANDARD"):
                raise bad(f"Invalid value for field 'resource.networkTier': '{tier}'.")
            a = {"kind": "compute#address", "id": str(uuid.uuid4().int % 10**19), "name": name, "addressType": atype,
                 "status": "RESERVED", "region": ST.c_url(f"regions/{region}"), "labels": b.get("labels", {}),
                 "description": b.get("description", ""), "selfLink": ST.c_url(f"regions/{region}/addresses/{name}")}
            if atype == "INTERNAL":
                sub = b.get("subnetwork", "")
                sn = self.subnet_of(region, sub, "resource.subnetwork")
                cidr, gw = sn["ipCidrRange"], sn["gatewayAddress"]
                net = ipaddress.ip_network(cidr)
                if not b.get("address"):
                    # no address asked for: GCE reserves an unused one of the subnet ("Reserve a static internal
                    # IP address", gcloud compute addresses create --subnet without --addresses); here the lowest
                    taken = {x.get("address") for x in ST.addresses.values()} | \
                        {i["networkInterfaces"][0]["networkIP"] for i in ST.instances.values()}
                    free = (h for h in net.hosts() if h not in (ipaddress.ip_address(gw), net.broadcast_address - 1)
                            and str(h) not in taken)
                    pick = next(free, None)
                    if pick is None:
                        raise bad(f"IP space of '{sn['selfLink']}' is exhausted.", "IP_SPACE_EXHAUSTED")
                    b["address"] = str(pick)
                try:
                    ip = ipaddress.ip_address(b.get("address", ""))
                except ValueError:
                    raise bad(f"Invalid value for field 'resource.address': '{b.get('address')}'. Invalid IP address.")
                if ip not in net or ip in (net.network_address, net.broadcast_address, ipaddress.ip_address(gw), net.broadcast_address - 1):
                    raise bad(f"Requested internal IP address '{ip}' is outside the subnetwork '{cidr}' or reserved.", "invalid")
                if any(x.get("address") == str(ip) for x in ST.addresses.values()):
                    raise bad(f"IP '{ip}' is already being used by another resource.", "ipInUseByAnotherResource")
                a.update(address=str(ip), subnetwork=sn["selfLink"], purpose=b.get("purpose", "GCE_ENDPOINT"))
            elif atype == "EXTERNAL":
                ST.ip_next += 1
                a.update(address=f"203.0.113.{ST.ip_next}", networkTier=tier)
            else:
                raise bad(f"Invalid value for field 'resource.addressType': '{atype}'.")
            return self.op(f"regions/{region}", "addresses", "insert", f"regions/{region}/addresses/{name}",
                           lambda: ST.addresses.__setitem__(region + "/" + name, a))
        if len(r) == 1:
            key = region + "/" + r[0]
            a = ST.addresses.get(key)
            res = f"{P}/regions/{region}/addresses/{r[0]}"
            if m in ("GET", "DELETE"):
                self.need("compute.addresses." + ("get" if m == "GET" else "delete"), res, compute=True)
                if not a:
                    raise notfound(f"The resource '{res}' was not found")
                if m == "GET":
                    return 200, a, ()
                if a["status"] == "IN_USE":
                    raise bad(f"The address resource '{res}' is already being used by '{a['users'][0]}'", "resourceInUseByAnotherResource")
                return self.op(f"regions/{region}", "addresses", "delete", f"regions/{region}/addresses/{r[0]}",
                               lambda: ST.addresses.pop(key, None))
        raise notfound("Method not found.")

    def fw(self, r):
        P = f"projects/{ST.project}"
        m = self.m
        if not r and m == "GET":
            self.need("compute.firewalls.list", P, compute=True)
            return 200, {"kind": "compute#firewallList", "items": list(ST.firewalls.values())}, ()
        if not r and m == "POST":
            b = self.body()
            name = b.get("name")
            self.name_ok(name)
            self.need("compute.firewalls.create", f"{P}/global/firewalls/{name}", compute=True)
            if name in ST.firewalls:
                raise exists(f"The resource '{P}/global/firewalls/{name}' already exists")
            net = self.net_of(b.get("network", ""), "resource.network")
            for a in b.get("allowed", []):
                if a.get("IPProtocol") not in ("tcp", "udp", "icmp"):
                    raise bad("Invalid value for field 'resource.allowed[0].IPProtocol'.")
                for port in a.get("ports", []):
                    if not re.fullmatch(r"\d{1,5}(-\d{1,5})?", str(port)):
                        raise bad(f"Invalid value for field 'resource.allowed[0].ports[0]': '{port}'.")
            if not b.get("allowed") and not b.get("denied"):
                raise bad("Required field 'resource.allowed' not specified")
            for t in b.get("targetTags", []):
                self.name_ok(t, "resource.targetTags[0]")
            for cidr in b.get("sourceRanges", []):
                try:
                    ipaddress.ip_network(cidr)
                except ValueError:
                    raise bad(f"Invalid value for field 'resource.sourceRanges[0]': '{cidr}'.")
            f = dict(b, id=str(uuid.uuid4().int % 10**19), network=net["selfLink"], disabled=bool(b.get("disabled", False)),
                     selfLink=ST.c_url(f"global/firewalls/{name}"), creationTimestamp=now_rfc3339())
            f.setdefault("direction", "INGRESS")
            f.setdefault("priority", 1000)
            return self.op("global", "firewalls", "insert", f"global/firewalls/{name}", lambda: ST.firewalls.__setitem__(name, f))
        if len(r) == 1:
            name = r[0]
            f = ST.firewalls.get(name)
            res = f"{P}/global/firewalls/{name}"
            perm = {"GET": "get", "DELETE": "delete", "PATCH": "update"}.get(m)
            if perm:
                self.need("compute.firewalls." + perm, res, compute=True)
                if not f:
                    raise notfound(f"The resource '{res}' was not found")
                if m == "GET":
                    return 200, f, ()
                if m == "DELETE":
                    return self.op("global", "firewalls", "delete", f"global/firewalls/{name}", lambda: ST.firewalls.pop(name, None))
                self.need("compute.networks.updatePolicy", f"{P}/global/networks/{f['network'].split('/')[-1]}", compute=True)
                b = self.body()
                if set(b) - {"disabled", "sourceRanges", "allowed", "targetTags", "description", "priority"}:
                    raise bad("Invalid value for field 'resource': only updatable fields may be patched.")
                return self.op("global", "firewalls", "patch", f"global/firewalls/{name}", lambda: f.update(b))
        raise notfound("Method not found.")

    def net_of(self, ref, field):
        mm = re.fullmatch(rf"(?:https://compute\.googleapis\.com/compute/v1/)?(?:projects/{ST.project}/)?global/networks/([^/]+)", str(ref))
        if not mm or mm.group(1) not in ST.networks:
            raise bad(f"Invalid value for field '{field}': '{ref}'. The referenced network resource cannot be found.")
        return ST.networks[mm.group(1)]

    def subnet_of(self, region, ref, field):
        mm = re.fullmatch(rf"(?:https://compute\.googleapis\.com/compute/v1/)?(?:projects/{ST.project}/)?regions/([^/]+)/subnetworks/([^/]+)", str(ref))
        if not mm or mm.group(1) != region or f"{region}/{mm.group(2)}" not in ST.subnets:
            raise bad(f"Invalid value for field '{field}': '{ref}'. The referenced subnetwork resource cannot be found in region {region}.")
        return ST.subnets[f"{region}/{mm.group(2)}"]

    def nets(self, r):
        P = f"projects/{ST.project}"
        m = self.m
        if not r and m == "GET":
            self.need("compute.networks.list", P, compute=True)
            return 200, {"kind": "compute#networkList", "items": list(ST.networks.values())}, ()
        if not r and m == "POST":
            b = self.body()
            name = b.get("name")
            self.name_ok(name)
            self.need("compute.networks.create", f"{P}/global/networks/{name}", compute=True)
            if name in ST.networks:
                raise exists(f"The resource '{P}/global/networks/{name}' already exists")
            mtu = int(b.get("mtu", 1460))
            if not 1300 <= mtu <= 8896:
                raise bad(f"Invalid value for field 'resource.mtu': '{mtu}'. Must be between 1300 and 8896.")
            if b.get("autoCreateSubnetworks", True) is not False:
                raise bad("This fake makes custom-mode networks only: autoCreateSubnetworks must be false.")
            n = {"kind": "compute#network", "id": str(uuid.uuid4().int % 10**19), "name": name, "autoCreateSubnetworks": False,
                 "mtu": mtu, "description": b.get("description", ""), "routingConfig": b.get("routingConfig", {"routingMode": "REGIONAL"}),
                 "selfLink": ST.c_url(f"global/networks/{name}"), "creationTimestamp": now_rfc3339()}
            return self.op("global", "networks", "insert", f"global/networks/{name}", lambda: ST.networks.__setitem__(name, n))
        if len(r) == 1:
            name, res = r[0], f"{P}/global/networks/{r[0]}"
            n = ST.networks.get(name)
            if m in ("GET", "DELETE"):
                self.need("compute.networks." + ("get" if m == "GET" else "delete"), res, compute=True)
                if not n:
                    raise notfound(f"The resource '{res}' was not found")
                if m == "GET":
                    return 200, n, ()
                users = [x["selfLink"] for x in list(ST.subnets.values()) + list(ST.firewalls.values()) if x["network"] == n["selfLink"]]
                if users:
                    raise bad(f"The network resource '{res}' is already being used by '{users[0]}'", "resourceInUseByAnotherResource")
                return self.op("global", "networks", "delete", f"global/networks/{name}", lambda: ST.networks.pop(name, None))
        raise notfound("Method not found.")

    def subnet(self, region, r):
        P = f"projects/{ST.project}"
        m = self.m
        if not r and m == "POST":
            b = self.body()
            name = b.get("name")
            self.name_ok(name)
            self.need("compute.subnetworks.create", f"{P}/regions/{region}/subnetworks/{name}", compute=True)
            if f"{region}/{name}" in ST.subnets:
                raise exists(f"The resource '{P}/regions/{region}/subnetworks/{name}' already exists")
            net = self.net_of(b.get("network", ""), "resource.network")
            try:
                cidr = ipaddress.ip_network(b.get("ipCidrRange", ""))
            except ValueError:
                raise bad(f"Invalid value for field 'resource.ipCidrRange': '{b.get('ipCidrRange')}'. Invalid IPCidrRange.")
            if not cidr.is_private or cidr.version != 4 or cidr.prefixlen > 29 or cidr.prefixlen < 8:
                raise bad(f"Invalid value for field 'resource.ipCidrRange': '{cidr}'. It must be an RFC 1918 IPv4 range from /8 to /29.")
            for x in ST.subnets.values():
                if x["network"] == net["selfLink"] and ipaddress.ip_network(x["ipCidrRange"]).overlaps(cidr):
                    raise bad(f"Invalid IPCidrRange: {cidr} conflicts with existing subnetwork '{x['name']}' in region '{x['region'].split('/')[-1]}'.")
            sn = {"kind": "compute#subnetwork", "id": str(uuid.uuid4().int % 10**19), "name": name, "network": net["selfLink"],
                  "ipCidrRange": str(cidr), "gatewayAddress": str(cidr.network_address + 1), "region": ST.c_url(f"regions/{region}"),
                  "description": b.get("description", ""), "privateIpGoogleAccess": bool(b.get("privateIpGoogleAccess", False)),
                  "selfLink": ST.c_url(f"regions/{region}/subnetworks/{name}"), "creationTimestamp": now_rfc3339()}
            return self.op(f"regions/{region}", "subnetworks", "insert", f"regions/{region}/subnetworks/{name}",
                           lambda: ST.subnets.__setitem__(f"{region}/{name}", sn))
        if len(r) == 1:
            key, res = f"{region}/{r[0]}", f"{P}/regions/{region}/subnetworks/{r[0]}"
            sn = ST.subnets.get(key)
            if m in ("GET", "DELETE"):
                self.need("compute.subnetworks." + ("get" if m == "GET" else "delete"), res, compute=True)
                if not sn:
                    raise notfound(f"The resource '{res}' was not found")
                if m == "GET":
                    return 200, sn, ()
                users = [a["selfLink"] for a in ST.addresses.values() if a.get("subnetwork") == sn["selfLink"]] + \
                        [i["selfLink"] for i in ST.instances.values() if i["networkInterfaces"][0]["subnetwork"] == sn["selfLink"]]
                if users:
                    raise bad(f"The subnetwork resource '{res}' is already being used by '{users[0]}'", "resourceInUseByAnotherResource")
                return self.op(f"regions/{region}", "subnetworks", "delete", f"regions/{region}/subnetworks/{r[0]}",
                               lambda: ST.subnets.pop(key, None))
        raise notfound("Method not found.")

    def inst(self, zone, r):
        P = f"projects/{ST.project}"
        m = self.m
        region = zone.rsplit("-", 1)[0]
        if not r and m == "POST":
            return self.inst_insert(zone, region, self.body())
        if not r:
            raise notfound("Method not found.")
        name = r[0]
        key = zone + "/" + name
        i = ST.instances.get(key)
        res = f"{P}/zones/{zone}/instances/{name}"
        verb = {("GET", 1): "get", ("DELETE", 1): "delete"}.get((m, len(r)))
        if len(r) == 2:
            verb = {("POST", "stop"): "stop", ("POST", "start"): "start", ("POST", "setMetadata"): "setMetadata",
                    ("GET", "getIamPolicy"): "getIamPolicy", ("POST", "setIamPolicy"): "setIamPolicy",
                    ("GET", "serialPort"): "getSerialPortOutput", ("POST", "setLabels"): "setLabels"}.get((m, r[1]))
        if not verb:
            raise notfound("Method not found.")
        self.need("compute.instances." + verb, res, (i or {}).get("_policy"), compute=True)
        if not i:
            raise notfound(f"The resource '{res}' was not found")
        if verb == "get":
            return 200, self.obj_pub(i), ()
        if verb == "getIamPolicy":   # the instance's own policy (resource-level bindings)
            pol = i.setdefault("_policy", {"version": 1, "etag": "BwAA", "bindings": []})
            return 200, {k: v for k, v in pol.items() if v or k == "etag"}, ()
        if verb == "setIamPolicy":
            h = {"policy": i.setdefault("_policy", {"version": 1, "etag": "BwAA", "bindings": []})}
            out = self.set_policy(h, "policy", self.body().get("policy") or {})
            i["_policy"] = h["policy"]
            return out
        if verb == "getSerialPortOutput":
            text = "sealed-init: mount ...\nsealed-init: net if=eth0 ip=%s\nsealed-login: cloud.platform platform=gcp source=dmi\n" % \
                i["networkInterfaces"][0]["networkIP"]
            return 200, {"kind": "compute#serialPortOutput", "contents": text, "start": "0", "next": str(len(text))}, ()
        if verb == "delete":
            def apply():
                ST.instances.pop(key, None)
                for d in i["disks"]:
                    dk = zone + "/" + d["source"].split("/")[-1]
                    if d.get("autoDelete"):
                        ST.disks.pop(dk, None)
                    elif dk in ST.disks:
                        ST.disks[dk]["users"] = []
                for a in ST.addresses.values():
                    if i["selfLink"] in a.get("users", []):
                        a["users"], a["status"] = [], "RESERVED"
            return self.op(f"zones/{zone}", "instances", "delete", f"zones/{zone}/instances/{name}", apply, i["id"])
        if verb in ("stop", "start"):
            return self.op(f"zones/{zone}", "instances", verb, f"zones/{zone}/instances/{name}",
                           lambda: i.__setitem__("status", "TERMINATED" if verb == "stop" else "RUNNING"), i["id"])
        b = self.body()
        if verb == "setLabels":
            if b.get("labelFingerprint") != i["labelFingerprint"]:
                raise ApiError(412, "FAILED_PRECONDITION", "Labels fingerprint either invalid or resource labels have changed", "conditionNotMet")
            self.labels_ok(b.get("labels"))

            def relabel():
                i["labels"], i["labelFingerprint"] = b.get("labels", {}), base64.b64encode(os.urandom(8)).decode()
            return self.op(f"zones/{zone}", "instances", "setLabels", f"zones/{zone}/instances/{name}", relabel, i["id"])
        if b.get("fingerprint") != i["metadata"]["fingerprint"]:
            raise ApiError(412, "FAILED_PRECONDITION", "Supplied fingerprint does not match current metadata fingerprint.", "conditionNotMet")
        self.metadata_ok(b)

        def apply():
            i["metadata"] = {"kind": "compute#metadata", "items": b.get("items", []), "fingerprint": base64.b64encode(os.urandom(8)).decode()}
        return self.op(f"zones/{zone}", "instances", "setMetadata", f"zones/{zone}/instances/{name}", apply, i["id"])

    def metadata_ok(self, md):
        keys = [it.get("key") for it in md.get("items", [])]
        if len(set(keys)) != len(keys):
            raise bad("Invalid value for field 'resource.metadata': duplicate keys.")
        for k in keys:
            if not isinstance(k, str) or not re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", k):
                raise bad(f"Invalid value for field 'resource.metadata.items[].key': '{k}'.")

    def inst_insert(self, zone, region, b):
        P = f"projects/{ST.project}"
        name = b.get("name")
        self.name_ok(name)
        res = f"{P}/zones/{zone}/instances/{name}"
        self.need("compute.instances.create", res, compute=True)
        if zone + "/" + name in ST.instances:
            raise exists(f"The resource '{res}' already exists")
        unknown_fields(b, INSTANCE_FIELDS, "resource")
        unknown_fields(b.get("confidentialInstanceConfig"), CONF_FIELDS, "resource.confidential_instance_config")
        unknown_fields(b.get("shieldedInstanceConfig"), SHIELDED_FIELDS, "resource.shielded_instance_config")
        for d in b.get("disks") or []:
            unknown_fields(d, DISK_FIELDS, "resource.disks[0]")
            if d.get("interface", "SCSI") not in ("SCSI", "NVME"):
                raise bad(f"Invalid value for field 'resource.disks[0].interface': '{d.get('interface')}'.")
        self.labels_ok(b.get("labels"))
        mt = str(b.get("machineType", ""))
        mm = re.search(r"zones/([^/]+)/machineTypes/([^/]+)$", mt)
        if not mm or mm.group(1) != zone or mm.group(2) not in MACHINE_TYPES or (
                mm.group(2).startswith("c3d-") and "AMD Genoa" not in cpu_platforms(zone)):
            raise bad(f"Invalid value for field 'resource.machineType': '{mt}'. Machine type with name "
                      f"'{mt.split('/')[-1]}' does not exist in zone '{zone}'.")
        mtype = mm.group(2)
        for t in (b.get("tags") or {}).get("items", []):
            self.name_ok(t, "resource.tags.items[0]")
        self.metadata_ok(b.get("metadata") or {})
        disks = b.get("disks") or []
        boot = [d for d in disks if d.get("boot")]
        if len(boot) != 1:
            raise bad("Invalid value for field 'resource.disks': exactly one boot disk is required.")
        ip_ = boot[0].get("initializeParams") or {}
        im = re.fullmatch(rf"(?:https://compute\.googleapis\.com/compute/v1/)?projects/{ST.project}/global/images/([^/]+)",
                          str(ip_.get("sourceImage", "")))
        img = ST.images.get(im.group(1)) if im else None
        if not img:
            raise bad(f"Invalid value for field 'resource.disks[0].initializeParams.sourceImage': '{ip_.get('sourceImage')}'. "
                      "The referenced image resource cannot be found.")
        feats = {f["type"] for f in img["guestOsFeatures"]}
        dt = str(ip_.get("diskType", f"zones/{zone}/diskTypes/pd-standard"))
        dm = re.search(r"zones/([^/]+)/diskTypes/([^/]+)$", dt)
        if not dm or dm.group(1) != zone or dm.group(2) not in DISK_TYPES:
            raise bad(f"Invalid value for field 'resource.disks[0].initializeParams.diskType': '{dt}'.")
        size = int(ip_.get("diskSizeGb") or img["diskSizeGb"])
        if size < int(img["diskSizeGb"]) or (dm.group(2) == "pd-standard" and size < 10):
            raise bad(f"Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': '{size}'. Requested disk size "
                      f"cannot be smaller than the image size ({img['diskSizeGb']} GB) or the type's minimum.")
        sh = b.get("shieldedInstanceConfig") or {}
        if any(sh.get(k) for k in ("enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring")) and "UEFI_COMPATIBLE" not in feats:
            raise bad(f"Invalid resource usage: 'Shielded VM features require an image with the UEFI_COMPATIBLE guest OS "
                      f"feature; image {img['name']} lacks it.'", "invalidResourceUsage")
        conf = (b.get("confidentialInstanceConfig") or {}).get("confidentialInstanceType")
        if conf:
            if conf not in ("SEV", "SEV_SNP", "TDX"):
                raise bad(f"Invalid value for field 'resource.confidentialInstanceConfig.confidentialInstanceType': '{conf}'.")
            if conf == "SEV_SNP":
                if not mtype.startswith(("n2d-", "c3d-")):
                    raise bad(f"Invalid resource usage: 'Confidential Instance Config type SEV_SNP is not supported on machine type {mtype}.'",
                              "invalidResourceUsage")
                if mtype.startswith("n2d-") and b.get("minCpuPlatform") != "AMD Milan":
                    raise bad("Invalid resource usage: 'SEV_SNP on N2D requires minCpuPlatform AMD Milan.'", "invalidResourceUsage")
                if mtype.startswith("c3d-") and b.get("minCpuPlatform") not in (None, "AMD Genoa"):
                    raise bad(f"Invalid resource usage: 'minCpuPlatform {b.get('minCpuPlatform')} is not available for {mtype}.'",
                              "invalidResourceUsage")
                if "SEV_SNP_CAPABLE" not in feats:
                    raise bad(f"Invalid resource usage: 'Image {img['name']} does not support SEV_SNP (guest OS feature SEV_SNP_CAPABLE).'",
                              "invalidResourceUsage")
                if zone not in SNP_ZONES:
                    raise bad(f"Invalid resource usage: 'SEV_SNP is not available in zone {zone}.'", "invalidResourceUsage")
            if (b.get("scheduling") or {}).get("onHostMaintenance") != "TERMINATE":
                raise bad("Invalid resource usage: 'Confidential VMs must use onHostMaintenance TERMINATE.'", "invalidResourceUsage")
            if boot[0].get("interface", "SCSI") != "NVME":
                raise bad("Invalid resource usage: 'Confidential VM instances require the NVMe disk interface; SCSI is not "
                          "supported.'", "invalidResourceUsage")
        nics = b.get("networkInterfaces") or []
        if len(nics) != 1:
            raise bad("Invalid value for field 'resource.networkInterfaces': exactly one is supported here.")
        nic = nics[0]
        if mtype.startswith("c3d-") and nic.get("nicType") != "GVNIC":
            raise bad(f"Invalid resource usage: 'Machine type {mtype} supports only the GVNIC network interface.'", "invalidResourceUsage")
        if mtype.startswith("c3d-") and dm.group(2) == "pd-standard":
            raise bad(f"Invalid resource usage: 'Disk type pd-standard is not supported by machine type {mtype}.'", "invalidResourceUsage")
        if nic.get("nicType") == "GVNIC" and "GVNIC" not in feats:
            raise bad(f"Invalid resource usage: 'Image {img['name']} does not support gVNIC.'", "invalidResourceUsage")
        net = self.net_of(nic.get("network", "global/networks/default"), "resource.networkInterfaces[0].network")
        sn = self.subnet_of(region, nic.get("subnetwork", f"regions/{region}/subnetworks/default"), "resource.networkInterfaces[0].subnetwork")
        if sn["network"] != net["selfLink"]:
            raise bad("Invalid value for field 'resource.networkInterfaces[0].subnetwork': the subnetwork is not in the given network.")
        cidr, gw = sn["ipCidrRange"], sn["gatewayAddress"]
        net_ip = nic.get("networkIP")
        internal = None
        if net_ip:
            if ipaddress.ip_address(net_ip) not in ipaddress.ip_network(cidr):
                raise bad(f"Invalid value for field 'resource.networkInterfaces[0].networkIP': '{net_ip}'. Requested internal "
                          f"IP is outside the subnetwork CIDR range.")
            for key, a in ST.addresses.items():
                if a.get("address") == net_ip and a["addressType"] == "INTERNAL":
                    if a["status"] != "RESERVED":
                        raise bad(f"IP '{net_ip}' is already being used by another resource.", "ipInUseByAnotherResource")
                    internal = a
            if any(i["networkInterfaces"][0]["networkIP"] == net_ip for i in ST.instances.values()):
                raise bad(f"IP '{net_ip}' is already being used by another resource.", "ipInUseByAnotherResource")
        external = None
        acs = nic.get("accessConfigs") or []
        for ac in acs:
            nat = ac.get("natIP")
            tier = ac.get("networkTier", "PREMIUM")
            if nat:
                cand = [a for k, a in ST.addresses.items() if k.startswith(region + "/") and a.get("address") == nat and a["addressType"] == "EXTERNAL"]
                if not cand:
                    raise bad(f"Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].natIP': '{nat}'. "
                              "The specified external IP address is not reserved in the instance's region.")
                if cand[0]["status"] != "RESERVED":
                    raise bad(f"The IP address {nat} is already in use by another resource.", "ipInUseByAnotherResource")
                if cand[0]["networkTier"] != tier:
                    raise bad(f"Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].networkTier': '{tier}'. "
                              "The network tier must match the tier of the reserved address.")
                external = cand[0]
        for sa in b.get("serviceAccounts") or []:
            if sa.get("email") not in ST.sas:
                raise bad(f"The resource 'projects/{ST.project}/serviceAccounts/{sa.get('email')}' of type 'serviceAccount' was not found.",
                          "notFound")
            self.need("iam.serviceAccounts.actAs", f"projects/{ST.project}/serviceAccounts/{sa.get('email')}", compute=True)
        iid = str(uuid.uuid4().int % 10**19)
        url = ST.c_url(f"zones/{zone}/instances/{name}")

        def apply():
            disk_name = name
            ST.disks[zone + "/" + disk_name] = {
                "kind": "compute#disk", "name": disk_name, "sizeGb": str(size), "zone": ST.c_url(f"zones/{zone}"),
                "type": ST.c_url(f"zones/{zone}/diskTypes/{dm.group(2)}"), "sourceImage": img["selfLink"],
                "sourceImageId": img["id"], "users": [url], "labels": ip_.get("labels", {}), "status": "READY",
                "selfLink": ST.c_url(f"zones/{zone}/disks/{disk_name}")}
            ni = {"network": net["selfLink"], "subnetwork": sn["selfLink"],
                  "networkIP": net_ip or str(ipaddress.ip_network(cidr).network_address + 100 + len(ST.instances)),
                  "name": "nic0", "accessConfigs": []}
            if nic.get("nicType"):
                ni["nicType"] = nic["nicType"]
            for ac in acs:
                nat = ac.get("natIP")
                if not nat:
                    ST.ip_next += 1
                    nat = f"198.51.100.{ST.ip_next}"
                ni["accessConfigs"].append({"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": ac.get("name", "External NAT"),
                                            "natIP": nat, "networkTier": ac.get("networkTier", "PREMIUM")})
            for a in (internal, external):
                if a:
                    a["status"], a["users"] = "IN_USE", [url]
            ST.instances[zone + "/" + name] = {
                "kind": "compute#instance", "id": iid, "name": name, "status": "RUNNING", "zone": ST.c_url(f"zones/{zone}"),
                "machineType": ST.c_url(f"zones/{zone}/machineTypes/{mtype}"), "description": b.get("description", ""),
                "labels": b.get("labels", {}), "labelFingerprint": base64.b64encode(os.urandom(8)).decode(), "tags": {"items": (b.get("tags") or {}).get("items", []), "fingerprint": "42WmSpB8rSM="},
                "disks": [{"boot": True, "autoDelete": bool(boot[0].get("autoDelete", True)), "type": "PERSISTENT",
                           "deviceName": "persistent-disk-0", "source": ST.c_url(f"zones/{zone}/disks/{disk_name}"),
                           "interface": boot[0].get("interface", "SCSI"),
                           "guestOsFeatures": img["guestOsFeatures"]}],
                "networkInterfaces": [ni], "serviceAccounts": b.get("serviceAccounts", []),
                "metadata": {"kind": "compute#metadata", "items": (b.get("metadata") or {}).get("items", []),
                             "fingerprint": base64.b64encode(os.urandom(8)).decode()},
                "shieldedInstanceConfig": sh, "confidentialInstanceConfig": b.get("confidentialInstanceConfig", {}),
                "minCpuPlatform": b.get("minCpuPlatform", "Automatic"), "scheduling": b.get("scheduling", {}),
                "creationTimestamp": now_rfc3339(), "selfLink": url}
        return self.op(f"zones/{zone}", "instances", "insert", f"zones/{zone}/instances/{name}", apply, iid)

    # -- Cloud Storage
    def storage(self, p):
        m = self.m
        P = f"projects/{ST.project}"
        if p == "/storage/v1/b" and m == "POST":
            self.project_ok(self.arg("project", ""))
            self.need("storage.buckets.create", P)
            b = self.body()
            name = b.get("name", "")
            if not re.fullmatch(r"[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]", name) or name.startswith("goog"):
                raise bad("Invalid bucket name: '%s'" % name)
            if name in ST.buckets:
                raise ApiError(409, "ALREADY_EXISTS", "Your previous request to create the named bucket succeeded and you already own it.", "conflict")
            self.labels_ok(b.get("labels"))
            unknown_fields(b, {"name", "location", "storageClass", "labels", "iamConfiguration", "versioning",
                               "softDeletePolicy"}, "bucket")
            sd = (b.get("softDeletePolicy") or {}).get("retentionDurationSeconds", "604800")
            if not re.fullmatch(r"0|[0-9]{6,10}", str(sd)) or 0 < int(sd) < 604800 or int(sd) > 7776000:
                raise bad("The soft delete retention duration must be 0 (off) or between 7 and 90 days.")
            bk = {"kind": "storage#bucket", "id": name, "name": name, "projectNumber": ST.number,
                  "versioning": b.get("versioning", {"enabled": False}),
                  "softDeletePolicy": {"retentionDurationSeconds": str(sd)},
                  "location": b.get("location", "US").upper(), "storageClass": b.get("storageClass", "STANDARD"),
                  "labels": b.get("labels", {}), "iamConfiguration": b.get("iamConfiguration", {}),
                  "_policy": {"version": 1, "etag": "CAE=", "bindings": [
                      {"role": "roles/storage.legacyBucketOwner", "members": [f"projectOwner:{ST.project}"]}]},
                  "timeCreated": now_rfc3339(), "metageneration": "1", "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}
            ST.buckets[name] = bk
            return 200, self.obj_pub(bk), ()
        if p == "/storage/v1/b" and m == "GET":
            self.project_ok(self.arg("project", ""))
            self.need("storage.buckets.list", P)
            return 200, {"kind": "storage#buckets", "items": [self.obj_pub(b) for b in ST.buckets.values()]}, ()
        mm = re.fullmatch(r"/storage/v1/b/([^/]+)/iam", p)
        if mm:   # the bucket's IAM policy: GET and PUT the policy itself (JSON API, not :setIamPolicy)
            bk = ST.buckets.get(mm.group(1))
            if not bk:
                raise ApiError(404, "NOT_FOUND", "The specified bucket does not exist.", "notFound")
            res = f"projects/_/buckets/{mm.group(1)}"
            if m == "GET":
                self.need("storage.buckets.getIamPolicy", P)
                return 200, dict(bk["_policy"], kind="storage#policy", resourceId=res), ()
            if m == "PUT":
                self.need("storage.buckets.setIamPolicy", P)
                new = self.body()
                legacy = [bd for bd in new.get("bindings", []) if bd.get("role", "").startswith("roles/storage.legacy")]
                h = {"policy": bk["_policy"]}
                self.set_policy(h, "policy", dict(new, bindings=[bd for bd in new.get("bindings", []) if bd not in legacy]))
                h["policy"]["bindings"] = legacy + h["policy"]["bindings"]
                bk["_policy"] = h["policy"]
                return 200, dict(h["policy"], kind="storage#policy", resourceId=res), ()
            raise notfound("Method not found.")
        mm = re.fullmatch(r"/storage/v1/b/([^/]+)(?:/o(?:/(.+))?)?", p)
        if mm:
            bn, rest, obj = mm.group(1), "/o" in p, mm.group(2)
            bk = ST.buckets.get(bn)
            if not bk:
                raise ApiError(404, "NOT_FOUND", "The specified bucket does not exist.", "notFound")
            if not rest:
                if m == "GET":
                    self.need("storage.buckets.get", P)
                    return 200, self.obj_pub(bk), ()
                if m == "DELETE":
                    self.need("storage.buckets.delete", P)
                    if any(k[0] == bn for k in ST.objects):
                        raise ApiError(409, "FAILED_PRECONDITION", "The bucket you tried to delete is not empty.", "conflict")
                    del ST.buckets[bn]
                    return 204, b"", ()
            elif obj is None and m == "GET":
                self.need("storage.objects.list", P)
                return 200, {"kind": "storage#objects", "items": [self.obj_pub(o) for (b2, _), o in ST.objects.items() if b2 == bn]}, ()
            elif obj is not None:
                o = ST.objects.get((bn, obj))
                if not o:
                    raise ApiError(404, "NOT_FOUND", f"No such object: {bn}/{obj}", "notFound")
                if m == "GET":
                    self.need("storage.objects.get", P, bk["_policy"])
                    return (200, o["_data"], ()) if self.arg("alt") == "media" else (200, self.obj_pub(o), ())
                if m == "DELETE":
                    self.need("storage.objects.delete", P, bk["_policy"])
                    g = self.arg("generation")
                    if g and g != o["generation"]:
                        raise ApiError(404, "NOT_FOUND", f"No such object: {bn}/{obj}", "notFound")
                    del ST.objects[(bn, obj)]
                    return 204, b"", ()
        mm = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", p)
        if mm:
            bn = mm.group(1)
            if bn not in ST.buckets:
                raise ApiError(404, "NOT_FOUND", "The specified bucket does not exist.", "notFound")
            self.need("storage.objects.create", P, ST.buckets[bn]["_policy"])
            ut = self.arg("uploadType")
            if ut == "media" and m == "POST":
                name = self.arg("name")
                if not name:
                    raise bad("Required parameter 'name' is missing.", "required")
                return 200, self.obj_store(bn, name, self.raw, {"contentType": self.h.headers.get("Content-Type")}), ()
            if ut == "resumable" and m == "POST" and not self.arg("upload_id"):
                meta = self.body()
                name = self.arg("name") or meta.get("name")
                if not name:
                    raise bad("Required parameter 'name' is missing.", "required")
                uid = "ADPycd" + uuid.uuid4().hex
                ST.uploads[uid] = {"bucket": bn, "name": name, "meta": meta,
                                   "length": self.h.headers.get("X-Upload-Content-Length")}
                loc = f"https://storage.googleapis.com/upload/storage/v1/b/{bn}/o?uploadType=resumable&name={name}&upload_id={uid}"
                return 200, b"", (("Location", loc), ("X-GUploader-UploadID", uid))
            if ut == "resumable" and m == "PUT":
                up = ST.uploads.get(self.arg("upload_id"))
                if not up:
                    raise ApiError(404, "NOT_FOUND", "No such upload session.", "notFound")
                cr = self.h.headers.get("Content-Range", "")
                if cr.startswith("bytes */"):
                    return 308, b"", ()
                if up["length"] is not None and str(len(self.raw)) != up["length"]:
                    raise bad(f"Upload length {len(self.raw)} does not match X-Upload-Content-Length {up['length']}.")
                del ST.uploads[self.arg("upload_id")]
                return 200, self.obj_store(up["bucket"], up["name"], self.raw, up["meta"]), ()
        raise notfound("Not Found")

    @staticmethod
    def obj_pub(o):
        return {k: v for k, v in o.items() if not k.startswith("_")}

    def obj_store(self, bn, name, data, meta):
        gen = str(int(time.time() * 1e6))
        o = {"kind": "storage#object", "id": f"{bn}/{name}/{gen}", "name": name, "bucket": bn, "generation": gen,
             "metageneration": "1", "contentType": meta.get("contentType") or "application/octet-stream",
             "size": str(len(data)), "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),
             "crc32c": base64.b64encode(fc.crc32c(data).to_bytes(4, "big")).decode(),
             "metadata": meta.get("metadata", {}), "timeCreated": now_rfc3339(), "_data": data}
        ST.objects[(bn, name)] = o
        return self.obj_pub(o)

    # -- Secret Manager
    def secretmanager(self, p):
        m = self.m
        mm = re.fullmatch(r"/v1/projects/([^/]+)/secrets(?:/([^/:]+))?(?::(\w+))?(?:/versions(?:/([^/:]+))?(?::(\w+))?)?", p)
        if not mm:
            raise notfound("Method not found.")
        proj, sid, sverb, ver, vverb = mm.groups()
        self.project_ok(proj)
        P = f"projects/{ST.project}"
        if not sid:
            if m == "POST":
                self.need("secretmanager.secrets.create", P)
                sid = self.arg("secretId", "")
                if not re.fullmatch(r"[a-zA-Z0-9_-]{1,255}", sid):
                    raise bad(f"Secret ID [{sid}] is invalid: it must be 1-255 characters of letters, digits, '-' and '_'.")
                if sid in ST.secrets:
                    raise exists(f"Secret [projects/{ST.number}/secrets/{sid}] already exists.")
                b = self.body()
                if not b.get("replication"):
                    raise bad("Replication policy is required.")
                self.labels_ok(b.get("labels"))
                meta = {"name": f"projects/{ST.number}/secrets/{sid}", "replication": b["replication"],
                        "createTime": now_rfc3339(), "labels": b.get("labels", {}), "etag": "\"1\""}
                ST.secrets[sid] = {"meta": meta, "versions": [], "policy": {"version": 1, "etag": "BwAA", "bindings": []}}
                return 200, meta, ()
            if m == "GET":
                self.need("secretmanager.secrets.list", P)
                items = [s["meta"] for s in ST.secrets.values()]
                f = self.arg("filter")
                if f:
                    fm = re.fullmatch(r"labels\.([\w-]+)[=:]([\w-]+)", f)
                    if not fm:
                        raise bad(f"Invalid filter: {f}")
                    items = [i for i in items if i["labels"].get(fm.group(1)) == fm.group(2)]
                return 200, {"secrets": items, "totalSize": len(items)} if items else {}, ()
            raise notfound("Method not found.")
        res = f"{P}/secrets/{sid}"
        s = ST.secrets.get(sid)
        if not s:
            self.need("secretmanager.secrets.get", res)
            raise notfound(f"Secret [projects/{ST.number}/secrets/{sid}] not found.")
        pol = s["policy"]
        if sverb == "getIamPolicy" and m == "GET":
            self.need("secretmanager.secrets.getIamPolicy", res, pol)
            return 200, {k: v for k, v in pol.items() if v or k == "etag"}, ()
        if sverb == "setIamPolicy" and m == "POST":
            self.need("secretmanager.secrets.setIamPolicy", res, pol)
            return self.set_policy(s, "policy", self.body().get("policy") or {}, secret=True)
        if sverb == "addVersion" and m == "POST":
            self.need("secretmanager.versions.add", res, pol)
            payload = self.body().get("payload") or {}
            try:
                data = base64.b64decode(payload.get("data", ""), validate=True)
            except ValueError:
                raise bad("Invalid value at 'payload.data' (TYPE_BYTES), Base64 decoding failed.")
            if not data:
                raise bad("Secret Payload cannot be empty.")
            if len(data) > 65536:
                raise bad("Secret payload exceeds 64 KiB.")
            crc = payload.get("dataCrc32c")
            if crc is not None and int(crc) != fc.crc32c(data):
                raise bad("Checksum mismatch: data corrupted in transit.", "invalid")
            n = len(s["versions"]) + 1
            v = {"name": f"projects/{ST.number}/secrets/{sid}/versions/{n}", "createTime": now_rfc3339(), "state": "ENABLED",
                 "clientSpecifiedPayloadChecksum": crc is not None, "_data": data}
            s["versions"].append(v)
            return 200, {k: x for k, x in v.items() if k != "_data"}, ()
        if sverb is None and ver is None and "/versions" in p and m == "GET":
            self.need("secretmanager.versions.list", res, pol)
            vs = [{k: x for k, x in v.items() if k != "_data"} for v in s["versions"]]
            f = self.arg("filter")
            if f:
                if not re.fullmatch(r"state:(ENABLED|DISABLED|DESTROYED)", f):
                    raise bad(f"Invalid filter: {f}")
                vs = [v for v in vs if v["state"] == f.split(":")[1]]
            return 200, ({"versions": vs[::-1], "totalSize": len(vs)} if vs else {}), ()
        if sverb is None and "/versions" not in p:
            if m == "GET":
                self.need("secretmanager.secrets.get", res, pol)
                return 200, s["meta"], ()
            if m == "DELETE":
                self.need("secretmanager.secrets.delete", res, pol)
                del ST.secrets[sid]
                return 200, {}, ()
        if ver:
            vres = f"{res}/versions/{ver}"
            if ver == "latest":
                v = s["versions"][-1] if s["versions"] else None
            else:
                v = next((x for x in s["versions"] if x["name"].endswith("/" + ver)), None)
            if vverb == "access" and m == "GET":
                self.need("secretmanager.versions.access", vres, pol)
                if not v:
                    raise notfound(f"Secret Version [projects/{ST.number}/secrets/{sid}/versions/{ver}] not found.")
                if v["state"] != "ENABLED":
                    raise ApiError(400, "FAILED_PRECONDITION", f"Secret Version [{v['name']}] is in DISABLED state.", "failedPrecondition")
                return 200, {"name": v["name"], "payload": {"data": base64.b64encode(v["_data"]).decode(),
                                                            "dataCrc32c": str(fc.crc32c(v["_data"]))}}, ()
            if vverb in ("disable", "enable") and m == "POST":
                self.need("secretmanager.versions." + vverb, vres, pol)
                if not v:
                    raise notfound(f"Secret Version [{vres}] not found.")
                v["state"] = "DISABLED" if vverb == "disable" else "ENABLED"
                return 200, {k: x for k, x in v.items() if k != "_data"}, ()
        raise notfound("Method not found.")

    def set_policy(self, holder, key, new, secret=False, project=False, topic=False):
        cur = holder[key]
        if ST.faults["iam_conflict"] > 0:   # someone else wrote the policy just before us
            ST.faults["iam_conflict"] -= 1
            cur["etag"] = base64.b64encode(os.urandom(6)).decode()
        if new.get("etag") != cur["etag"]:
            raise ApiError(409, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write "
                           "with exponential backoff.", "aborted")
        bindings = new.get("bindings", [])
        for b in bindings:
            role = b.get("role", "")
            if b.get("condition") and new.get("version", 1) < 3:
                raise bad("Invalid IAM policy: conditional role bindings require policy version 3.")
            if role.startswith("projects/"):
                r = ST.roles.get(role.split("/")[-1])
                if not r or r.get("deleted") or not role.startswith(f"projects/{ST.project}/roles/"):
                    raise bad(f"Role ({role}) does not exist in the resource's hierarchy.")
            elif role not in ROLE_PERMS:
                raise bad(f"Role {role} is not supported for this resource." if secret else f"Role ({role}) does not exist.")
            if secret and not role.startswith("roles/secretmanager.") and role != "roles/owner" and role != "roles/viewer":
                raise bad(f"Role {role} is not supported for this resource.")
            if topic and not role.startswith("roles/pubsub.") and role != "roles/owner" and role != "roles/viewer":
                raise ApiError(400, "INVALID_ARGUMENT", f"Role {role} is not supported for this resource.", plain=True)
            for mem in b.get("members", []):
                if mem.startswith("serviceAccount:") and mem[15:] not in ST.sas:
                    raise bad(f"Service account {mem[15:]} does not exist.")
                if not re.fullmatch(r"(serviceAccount|user|group|domain|deleted:serviceAccount):[^\s]+", mem):
                    raise bad(f"Invalid member: {mem}")
        pol = {"version": new.get("version", 1), "bindings": bindings, "etag": base64.b64encode(os.urandom(6)).decode()}
        holder[key] = pol
        return 200, {k: v for k, v in pol.items() if v or k == "etag"}, ()

    # -- IAM
    def iam(self, p):
        m = self.m
        P = f"projects/{ST.project}"
        mm = re.fullmatch(r"/v1/projects/([^/]+)/serviceAccounts(?:/([^/:]+))?(?:/keys)?", p)
        if mm:
            proj, email = mm.groups()
            if proj != "-":
                self.project_ok(proj)
            if email is None:
                if m == "POST":
                    self.need("iam.serviceAccounts.create", P)
                    b = self.body()
                    aid = b.get("accountId", "")
                    if not re.fullmatch(r"[a-z](?:[-a-z0-9]{4,28}[a-z0-9])", aid):
                        raise bad(f"Invalid accountId {aid}: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter.")
                    email = f"{aid}@{ST.project}.iam.gserviceaccount.com"
                    if email in ST.sas:
                        raise exists(f"Service account {aid} already exists within project projects/{ST.project}.")
                    sa = b.get("serviceAccount") or {}
                    ST.sas[email] = {"name": f"{P}/serviceAccounts/{email}", "projectId": ST.project,
                                     "uniqueId": str(uuid.uuid4().int % 10**21), "email": email,
                                     "displayName": sa.get("displayName", ""), "description": sa.get("description", ""),
                                     "etag": "MDEwMjE5MjA=", "oauth2ClientId": str(uuid.uuid4().int % 10**21)}
                    return 200, ST.sas[email], ()
                if m == "GET":
                    self.need("iam.serviceAccounts.list", P)
                    return 200, {"accounts": list(ST.sas.values())}, ()
            else:
                sa = ST.sas.get(email)
                res = f"{P}/serviceAccounts/{email}"
                if not sa:
                    raise notfound(f"Unknown service account")
                if p.endswith("/keys") and m == "POST":
                    self.need("iam.serviceAccountKeys.create", res)
                    kf = ST.new_key_file(email)
                    return 200, {"name": f"{res}/keys/{kf['private_key_id']}", "privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE",
                                 "keyAlgorithm": "KEY_ALG_RSA_2048",
                                 "privateKeyData": base64.b64encode(json.dumps(kf).encode()).decode()}, ()
                if m == "GET":
                    self.need("iam.serviceAccounts.get", res)
                    return 200, sa, ()
                if m == "DELETE":
                    self.need("iam.serviceAccounts.delete", res)
                    del ST.sas[email]
                    return 200, {}, ()
            raise notfound("Method not found.")
        mm = re.fullmatch(r"/v1/projects/([^/]+)/roles(?:/([^/:]+))?(?::(undelete))?", p)
        if mm:
            proj, rid, verb = mm.groups()
            self.project_ok(proj)
            if rid is None and m == "POST":
                self.need("iam.roles.create", P)
                b = self.body()
                rid = b.get("roleId", "")
                if not re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", rid):
                    raise bad(f"The role_id ({rid}) is invalid: 3-64 letters, digits, '_' and '.'.")
                if rid in ST.roles:
                    if ST.roles[rid].get("deleted"):
                        raise bad(f"You can't create a role with role_id ({rid}) where there is an existing role with that role_id in a deleted state.")
                    raise exists(f"A role named {rid} in projects/{ST.project} already exists.")
                role = b.get("role") or {}
                for perm in role.get("includedPermissions", []):
                    if perm not in KNOWN_PERMS:
                        raise bad(f"Permission {perm} is not valid.")
                ST.roles[rid] = {"name": f"{P}/roles/{rid}", "title": role.get("title", ""), "description": role.get("description", ""),
                                 "includedPermissions": role.get("includedPermissions", []), "stage": role.get("stage", "GA"),
                                 "etag": "BwW"}
                return 200, ST.roles[rid], ()
            r = ST.roles.get(rid or "")
            if not r:
                raise notfound(f"The role named {rid} was not found.")
            if m == "GET" and not verb:
                self.need("iam.roles.get", P)
                return 200, r, ()
            if m == "DELETE":
                self.need("iam.roles.delete", P)
                r["deleted"] = True
                return 200, r, ()
            if m == "PATCH" and not verb:
                self.need("iam.roles.update", P)
                b = self.body()
                if b.get("etag") and b["etag"] != r["etag"]:
                    raise ApiError(409, "ABORTED", "The etag of the role does not match: concurrent change.", "aborted")
                if self.arg("updateMask") != "includedPermissions":
                    raise bad("updateMask must name the fields to change.")
                for perm in b.get("includedPermissions", []):
                    if perm not in KNOWN_PERMS:
                        raise bad(f"Permission {perm} is not valid.")
                r["includedPermissions"] = b.get("includedPermissions", [])
                r["etag"] = base64.b64encode(os.urandom(4)).decode()
                return 200, r, ()
            if verb == "undelete" and m == "POST":
                self.need("iam.roles.undelete", P)
                r.pop("deleted", None)
                return 200, r, ()
        raise notfound("Method not found.")

    def crm(self, p):
        mm = re.fullmatch(r"/v1/projects/([^/:]+):(getIamPolicy|setIamPolicy)", p)
        if not mm or self.m != "POST":
            raise notfound("Method not found.")
        self.project_ok(mm.group(1))
        P = f"projects/{ST.project}"
        if mm.group(2) == "getIamPolicy":
            self.need("resourcemanager.projects.getIamPolicy", P)
            want = ((self.body().get("options") or {}).get("requestedPolicyVersion") or 1)
            pol = dict(ST.policy)
            if want < 3 and any(b.get("condition") for b in pol["bindings"]):
                pol["version"] = 1   # conditions hidden behind a version 1 read: Google refuses writes of it
            return 200, pol, ()
        self.need("resourcemanager.projects.setIamPolicy", P)

        class Holder(dict):
            pass
        h = {"policy": ST.policy}
        out = self.set_policy(h, "policy", self.body().get("policy") or {}, project=True)
        ST.policy = h["policy"]
        return out

    # -- Pub/Sub (v1, as https://cloud.google.com/pubsub/docs/reference/rest describes it)
    TOPIC_FIELDS = {"name", "labels", "messageStoragePolicy", "kmsKeyName", "schemaSettings", "satisfiesPzs",
                    "messageRetentionDuration", "state", "ingestionDataSourceSettings", "messageTransforms"}
    SUB_FIELDS = {"name", "topic", "pushConfig", "bigqueryConfig", "cloudStorageConfig", "ackDeadlineSeconds",
                  "retainAckedMessages", "messageRetentionDuration", "labels", "enableMessageOrdering",
                  "expirationPolicy", "filter", "deadLetterPolicy", "retryPolicy", "detached",
                  "enableExactlyOnceDelivery", "state", "messageTransforms"}

    @staticmethod
    def ps_error(code, status, msg):
        return ApiError(code, status, msg, plain=True)

    @staticmethod
    def ps_name_ok(kind, proj, rid):
        """Topic and subscription ids: 3-255 characters, a letter first, then [A-Za-z0-9-_.~+%], never "goog"
        first (https://cloud.google.com/pubsub/docs/admin#resource_names)."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}", rid) or rid.lower().startswith("goog"):
            raise Api.ps_error(400, "INVALID_ARGUMENT", f"Invalid [{kind}] name: (name=projects/{proj}/{kind}/{rid})")

    def ps_need(self, perm, resource, extra=None):
        if not allowed(self.who, perm, resource, extra):
            raise self.ps_error(403, "PERMISSION_DENIED", "User not authorized to perform this action.")

    def ps_labels(self, labels):
        for k, v in (labels or {}).items():
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or not re.fullmatch(r"[a-z0-9_-]{0,63}", str(v)):
                raise self.ps_error(400, "INVALID_ARGUMENT", f"Invalid label: {k}={v}.")

    @staticmethod
    def ps_duration(v, field, lo, hi):
        m = re.fullmatch(r"([0-9]+)(\.[0-9]{1,9})?s", v or "")
        if not m:
            raise Api.ps_error(400, "INVALID_ARGUMENT", f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Duration), \"{v}\"")
        if not lo <= int(m.group(1)) <= hi:
            raise Api.ps_error(400, "INVALID_ARGUMENT", f"Invalid {field}: must be between {lo}s and {hi}s.")
        return int(m.group(1))

    def pubsub(self, p):
        m = self.m
        mm = re.fullmatch(r"/v1/projects/([^/:]+)/(topics|subscriptions)(?:/([^/:]+))?(?::([A-Za-z]+))?", p)
        if not mm:
            raise notfound("Method not found.")
        proj, coll, rid, verb = mm.groups()
        self.project_ok(proj)
        P = f"projects/{ST.project}"
        store = ST.topics if coll == "topics" else ST.subscriptions
        if rid is None:
            if m != "GET" or verb:
                raise notfound("Method not found.")
            self.ps_need(f"pubsub.{coll}.list", P)
            items = [{k: v for k, v in x.items() if not k.startswith("_")} for x in store.values()]
            return 200, ({coll: items} if items else {}), ()
        self.ps_name_ok(coll, proj, rid)
        name = f"{P}/{coll}/{rid}"
        cur = store.get(name)
        pub = (lambda x: {k: v for k, v in x.items() if not k.startswith("_")})
        if verb is None and m == "PUT":
            self.ps_need(f"pubsub.{coll}.create", P)
            b = self.body()
            unknown_fields(b, self.TOPIC_FIELDS if coll == "topics" else self.SUB_FIELDS,
                           "topic" if coll == "topics" else "subscription")
            if b.get("name") not in (None, name):
                raise self.ps_error(400, "INVALID_ARGUMENT", f"The name in the body ({b['name']}) is not the one in the URL ({name}).")
            self.ps_labels(b.get("labels"))
            if cur:
                raise self.ps_error(409, "ALREADY_EXISTS", f"Resource already exists in the project (resource={rid}).")
            obj = dict(b, name=name)
            if coll == "topics":
                if "messageRetentionDuration" in b:
                    self.ps_duration(b["messageRetentionDuration"], "message_retention_duration", 600, 31 * 86400)
                obj.update(_policy={"etag": "ACAB"}, state="ACTIVE")
            else:
                t = b.get("topic") or ""
                tm = re.fullmatch(r"projects/([^/]+)/topics/([^/]+)", t)
                if not tm:
                    raise self.ps_error(400, "INVALID_ARGUMENT", f"Invalid [topics] name: (name={t})")
                if t not in ST.topics:
                    raise self.ps_error(404, "NOT_FOUND", f"Resource not found (resource={tm.group(2)}).")
                self.ps_need("pubsub.topics.attachSubscription", t, ST.topics[t]["_policy"])
                ack = b.get("ackDeadlineSeconds", 10)
                if not isinstance(ack, int) or not 10 <= ack <= 600:
                    raise self.ps_error(400, "INVALID_ARGUMENT", "Invalid ack_deadline_seconds: must be between 10 and 600.")
                keep = self.ps_duration(b.get("messageRetentionDuration", "604800s"), "message_retention_duration", 600, 31 * 86400)
                ep = b.get("expirationPolicy")
                if ep is not None:
                    unknown_fields(ep, {"ttl"}, "subscription.expiration_policy")
                    if "ttl" in ep and self.ps_duration(ep["ttl"], "expiration_policy.ttl", 86400, 10**10) < keep:
                        raise self.ps_error(400, "INVALID_ARGUMENT", "Invalid expiration_policy: the ttl must not be shorter than the message_retention_duration.")
                obj.update(ackDeadlineSeconds=ack, messageRetentionDuration=f"{keep}s", state="ACTIVE",
                           expirationPolicy=ep if ep is not None else {"ttl": "2678400s"}, _messages=[])
            store[name] = obj
            return 200, pub(obj), ()
        if cur is None:
            raise self.ps_error(404, "NOT_FOUND", f"Resource not found (resource={rid}).")
        if verb is None and m == "GET":
            self.ps_need(f"pubsub.{coll}.get", name, cur.get("_policy"))
            return 200, pub(cur), ()
        if verb is None and m == "DELETE":
            self.ps_need(f"pubsub.{coll}.delete", name, cur.get("_policy"))
            del store[name]
            if coll == "topics":   # its subscriptions live on, detached (Google: topic "_deleted-topic_")
                for sub in ST.subscriptions.values():
                    if sub["topic"] == name:
                        sub["topic"] = "_deleted-topic_"
            return 200, {}, ()
        if coll == "topics" and verb == "getIamPolicy" and m == "GET":
            self.ps_need("pubsub.topics.getIamPolicy", name, cur["_policy"])
            return 200, cur["_policy"], ()
        if coll == "topics" and verb == "setIamPolicy" and m == "POST":
            self.ps_need("pubsub.topics.setIamPolicy", name, cur["_policy"])
            b = self.body()
            unknown_fields(b, {"policy", "updateMask"}, "")
            h = {"policy": cur["_policy"]}
            try:
                out = self.set_policy(h, "policy", b.get("policy") or {}, topic=True)
            except ApiError as e:
                e.plain = True
                raise
            cur["_policy"] = h["policy"]
            return out
        if coll == "topics" and verb == "publish" and m == "POST":
            self.ps_need("pubsub.topics.publish", name, cur["_policy"])
            b = self.body()
            unknown_fields(b, {"messages"}, "")
            msgs = b.get("messages")
            if not isinstance(msgs, list) or not msgs:
                raise self.ps_error(400, "INVALID_ARGUMENT", "The request contains no messages.")
            out = []
            for msg in msgs:
                unknown_fields(msg, {"data", "attributes", "orderingKey", "messageId", "publishTime"}, "messages[0]")
                try:
                    data = base64.b64decode(msg.get("data", ""), validate=True)
                except ValueError:
                    raise self.ps_error(400, "INVALID_ARGUMENT", "Invalid value at 'messages[0].data' (TYPE_BYTES), Base64 decoding failed.")
                if not data and not msg.get("attributes"):
                    raise self.ps_error(400, "INVALID_ARGUMENT", "Some messages are empty: a message must contain either "
                                        "a non-empty data field or at least one attribute.")
                mid = str(uuid.uuid4().int % 10**16)
                out.append(mid)
                for sub in ST.subscriptions.values():
                    if sub["topic"] == name:
                        sub["_messages"].append({"messageId": mid, "data": msg.get("data", ""),
                                                 "attributes": msg.get("attributes") or {}, "publishTime": now_rfc3339()})
            return 200, {"messageIds": out}, ()
        raise notfound("Method not found.")

    # -- Monitoring
    def monitoring(self, p):
        m = self.m
        mm = re.fullmatch(r"/v3/projects/([^/]+)/(notificationChannels|uptimeCheckConfigs|alertPolicies|timeSeries)(?:/([^/]+))?", p)
        if not mm:
            raise notfound("Method not found.")
        proj, coll, rid = mm.groups()
        self.project_ok(proj)
        P = f"projects/{ST.project}"
        if coll == "timeSeries":
            if m != "GET" or rid:
                raise notfound("Method not found.")
            self.need("monitoring.timeSeries.list", P)
            metric, iid = timeseries_query(self.arg)
            if metric != EGRESS_METRIC or not iid or iid not in ST.egress:
                return 200, {}, ()   # no data: an empty answer, not a zero
            return 200, timeseries_answer(metric, ST.project, iid, self.arg, ST.egress[iid]), ()
        store = {"notificationChannels": ST.channels, "uptimeCheckConfigs": ST.uptime, "alertPolicies": ST.alerts}[coll]
        perm = {"notificationChannels": "notificationChannels", "uptimeCheckConfigs": "uptimeCheckConfigs",
                "alertPolicies": "alertPolicies"}[coll]
        if rid is None and m == "GET":
            self.need(f"monitoring.{perm}.list", P)
            items = list(store.values())
            return 200, ({coll: items, "totalSize": len(items)} if items else {}), ()
        if rid is None and m == "POST":
            self.need(f"monitoring.{perm}.create", P)
            b = self.body()
            for k, v in (b.get("userLabels") or {}).items():
                if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
                    raise bad(f"Invalid user label {k}={v}.")
            if coll == "notificationChannels":
                if b.get("type") != "email" or not re.fullmatch(r"[^@\s]+@[^@\s]+", (b.get("labels") or {}).get("email_address", "")):
                    raise bad("Field labels[email_address] is required for channel type email and must be an address.")
            elif coll == "uptimeCheckConfigs":
                mr = b.get("monitoredResource") or {}
                if mr.get("type") != "uptime_url" or not (mr.get("labels") or {}).get("host") or "httpCheck" not in b:
                    raise bad("An uptime check needs monitoredResource uptime_url with a host and an httpCheck.")
                if b.get("period") not in ("60s", "300s", "600s", "900s"):
                    raise bad("period must be 60s, 300s, 600s or 900s.")
            else:
                if not b.get("conditions") or not b.get("combiner"):
                    raise bad("An alert policy needs conditions and a combiner.")
                for c in b["conditions"]:
                    ct = c.get("conditionThreshold") or {}
                    if not ct.get("filter") or "comparison" not in ct:
                        raise bad("conditionThreshold needs a filter and a comparison.")
                    mt = re.search(r'metric\.type="([^"]+)"', ct["filter"])
                    rt = re.search(r'resource\.type="([^"]+)"', ct["filter"])
                    if not mt or mt.group(1) not in METRICS or (rt and rt.group(1) != METRICS[mt.group(1)]):
                        raise bad("The supplied filter does not specify a valid combination of metric and monitored "
                                  "resource descriptors.")
                    for a in ct.get("aggregations", []):
                        if a.get("perSeriesAligner", "ALIGN_NONE") not in ALIGNERS or \
                                a.get("crossSeriesReducer", "REDUCE_NONE") not in REDUCERS:
                            raise bad(f"Invalid aggregation {a}.")
                    cid = re.search(r'check_id="([^"]+)"', ct["filter"])
                    if cid and f"{P}/uptimeCheckConfigs/{cid.group(1)}" not in ST.uptime:
                        raise bad(f"The uptime check {cid.group(1)} in the filter does not exist.")
                    for a in ct.get("aggregations", []):
                        if not re.fullmatch(r"\d+s", a.get("alignmentPeriod", "60s")) or int(a.get("alignmentPeriod", "60s")[:-1]) > 90000:
                            raise bad("The alignment period must be at most 25 hours for alerting.")
                for ch in b.get("notificationChannels", []):
                    if ch not in ST.channels:
                        raise bad(f"Notification channel {ch} does not exist.")
            rid = (uuid.uuid4().hex[:16] if coll != "uptimeCheckConfigs" else
                   re.sub(r"[^a-z0-9-]", "-", b.get("displayName", "check").lower())[:40] + "-" + uuid.uuid4().hex[:6])
            obj = dict(b, name=f"{P}/{coll}/{rid}")
            store[obj["name"]] = obj
            return 200, obj, ()
        if rid and m == "PATCH":
            self.need(f"monitoring.{perm}.update", P)
            name = f"{P}/{coll}/{rid}"
            if name not in store:
                raise notfound(f"{name} not found.")
            b = self.body()
            mask = [x for x in (self.arg("updateMask") or "").split(",") if x]
            if not mask:
                raise bad("updateMask is required here.")
            obj = store[name]
            for f in mask:
                camel = re.sub(r"_([a-z])", lambda mm: mm.group(1).upper(), f)
                if camel == "labels" and coll == "notificationChannels":
                    if not re.fullmatch(r"[^@\s]+@[^@\s]+", (b.get("labels") or {}).get("email_address", "")):
                        raise bad("Field labels[email_address] is required for channel type email and must be an address.")
                    obj["labels"] = b["labels"]
                elif camel in ("displayName", "conditions", "notificationChannels", "documentation", "httpCheck", "period", "timeout"):
                    if camel == "notificationChannels":
                        for ch in b.get(camel, []):
                            if ch not in ST.channels:
                                raise bad(f"Notification channel {ch} does not exist.")
                    obj[camel] = b.get(camel)
                else:
                    raise bad(f"Field {f} in updateMask cannot be updated.")
            return 200, obj, ()
        if rid and m == "DELETE":
            self.need(f"monitoring.{perm}.delete", P)
            name = f"{P}/{coll}/{rid}"
            if name not in store:
                raise notfound(f"{name} not found.")
            if coll == "notificationChannels" and self.arg("force") != "true" and \
                    any(name in a.get("notificationChannels", []) for a in ST.alerts.values()):
                raise bad("The channel is referenced by an alert policy; use force=true.", "failedPrecondition")
            if coll == "uptimeCheckConfigs" and any(rid in c.get("conditionThreshold", {}).get("filter", "")
                                                   for a in ST.alerts.values() for c in a["conditions"]):
                raise bad("The uptime check is referenced by an alert policy.", "failedPrecondition")
            del store[name]
            return 200, {}, ()
        raise notfound("Method not found.")


# (Host, path) -> the service's own dispatcher, which gets the path (compute: below projects/)
API_ROUTES = httpfake.Routes()
for _host, _pattern, _fn in (
        ("serviceusage.googleapis.com", r"(?s)(/.*)", Api.serviceusage),
        ("compute.googleapis.com", r"(?s)/compute/v1/projects/(.*)", Api.compute),
        ("storage.googleapis.com", r"(?s)(.*)", Api.storage),
        ("secretmanager.googleapis.com", r"(?s)(.*)", Api.secretmanager),
        ("iam.googleapis.com", r"(?s)(.*)", Api.iam),
        ("cloudresourcemanager.googleapis.com", r"(?s)(.*)", Api.crm),
        ("monitoring.googleapis.com", r"(?s)(.*)", Api.monitoring),
        ("pubsub.googleapis.com", r"(?s)(.*)", Api.pubsub)):
    API_ROUTES.add("*", _pattern, _fn, host=_host)


def inspect_archive(data):
    """(disk.raw size, uefi_only) of a GCE image archive, or ApiError as GCE's import reports it."""
    try:
        tf = tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:")
        members = tf.getmembers()
    except (OSError, tarfile.TarError, EOFError):
        raise ApiError(400, "INVALID_ARGUMENT", "The image archive is not a gzip-compressed tar file.", "invalid")
    if [m.name for m in members] != ["disk.raw"]:
        raise ApiError(400, "INVALID_ARGUMENT", "The tar archive must contain exactly one file named disk.raw; it holds "
                       f"{[m.name for m in members]}.", "invalid")
    size = members[0].size
    if size == 0 or size % GIB:
        raise ApiError(400, "INVALID_ARGUMENT", f"disk.raw is {size} bytes: the raw disk size must be a multiple of 1 GB.", "invalid")
    head = tf.extractfile(members[0]).read(1024)
    uefi_only = len(head) == 1024 and head[512:520] == b"EFI PART" and head[:440].count(0) == 440
    return size, uefi_only


def main():
    global ST
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="scratch directory (keys, CA)")
    ap.add_argument("--project", default="sealed-test")
    args = ap.parse_args()
    ST = State(args)
    srv = httpfake.Server(("127.0.0.1", 0), Handler, tls=httpfake.tls_context(ST.tls_pem, ST.tls_key),
                          name="fake-gcp")
    keys = {}
    for who, kf in ST.key_files.items():
        path = os.path.join(args.dir, f"{who}-key.json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(kf, f)
        keys[who] = path
    httpfake.ready({"port": srv.server_address[1], "ca_file": ST.ca_pem, "project": ST.project,
                    "project_number": ST.number, "keys": keys, "deployer": ST.deployer, "outsider": ST.outsider})
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
