#!/usr/bin/env python3
"""Faithful local fake of the OCI control-plane APIs that deploy/oci/sealed-deploy-oci uses (Python 3
stdlib; signature maths from tests/fakes/fakecrypto.py, read-only). One listener on loopback (HTTPS
with its own CA given --tls-dir, else plain HTTP) stands for every regional host; paths and API
versions are OCI's:

  identity  /20160918/compartments, availabilityDomains, dynamicGroups, policies
  core      /20160918/vcns, internetGateways, natGateways, serviceGateways, services, routeTables,
            securityLists, subnets, publicIps, images (+ /shapes/{shape}), computeGlobalImageCapabilitySchemas,
            computeImageCapabilitySchemas, instances (+ ?action=), vnicAttachments, vnics, workRequests
  objects   /n/, /n/{ns}/b/ (CreateBucket, ListBuckets), /n/{ns}/b/{b} (GetBucket, UpdateBucket: public
            access, versioning Enabled/Disabled then only Enabled/Suspended), /n/{ns}/b/{b}/o/{o} (if-match,
            if-none-match: *), /n/{ns}/b/{b}/o (ListObjects: prefix, start, fields), /n/{ns}/b/{b}/u (multipart)
  kms       /20180608/vaults, /20180608/keys (the vault's managementEndpoint is this listener too)
  vault     /20180608/secrets, secrets data plane /20190301/secretbundles/{id}
  nlb       /20200501/networkLoadBalancers (+ /backendSets, /listeners), /20200501/workRequests
  ons       /20181201/topics, /20181201/subscriptions, /20181201/topics/{id}/messages
  telemetry /20180401/alarms, /20180401/metrics/actions/summarizeMetricsData

What it checks, as OCI does: signature version 1 rsa-sha256 over "date (request-target) host" and, for
POST/PUT/PATCH, "content-length content-type x-content-sha256" (Object Storage PUT may leave the
body headers out), keyId TENANCY/USER/FINGERPRINT of the registered API key (fingerprint = MD5 of
the public key), date within 5 minutes; errors as {"code","message"} with OCI's codes and an
opc-request-id on every answer; lists paginate (opc-next-page, NLB/KMS-style {"items"}); lifecycle
states move with time (--delay); creates honour opc-retry-token; dependency checks (a VCN with
children, a referenced gateway, a subnet with a VNIC, a non-empty bucket, an assigned public IP all
refuse deletion with 409); bucket names unique in the namespace (409 BucketAlreadyExists);
policy statements parsed (subject, verb, resource-type, location, and the where clause as Oracle's
"Conditions" page gives it, with request.permission names checked against the resource-type);
addressing checks (subnet inside the VCN, no overlap, private IP inside
the subnet, not reserved, not taken; NLB backends inside the VCN).

Monitoring as documented: MQL intervals and resolutions (1m-60m, 1h-24h, 1d), alarm resolution 1m only,
the data reach per resolution (7 days at 1m, 30 at 5m, 90 at 1h), the oci_vcn VNIC metric names and their
one dimension (resourceId); a name or dimension that matches nothing gives no series (200 []), as OCI.
Shapes as ListShapes describes them (platformConfigOptions decide shielded/confidential).

Control (not OCI): POST /__fake/fault {"method","path_re","status","code","message","count","skip",
"after"} (the next matching calls fail; with "after" the call takes effect and only its answer is lost),
POST /__fake/config {"egress_bytes": N, "skew_s": S, "metrics_outage": null | "empty" | 503},
GET /__fake/state (every resource and the request log). Prints {"url": ...} when ready. Test code only."""
import argparse
import base64
import calendar
import hashlib
import ipaddress
import json
import os
import re
import sys
import threading
import time
import uuid
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import fakecrypto as fc
import httpfake

SKEW_LIMIT_S = 300
REGION = "us-phoenix-1"
AD = "Uocm:PHX-AD-1"
NAMESPACE = "axfakens0001"
PAGE = 3                                  # small pages so pagination is always exercised
MIN_PART = 10 * 1024 * 1024
MAX_BODY = 2 << 30                        # request-body cap: multipart image parts are large

def _pco(kind, shielded, sev):   # Shape.platformConfigOptions as ListShapes returns it (None: no platform config)
    if not kind:
        return None
    opt = lambda ok: {"isSupported": ok, "allowedValues": [False, True] if ok else [False]}  # noqa: E731
    return {"type": kind, "measuredBootOptions": opt(shielded), "secureBootOptions": opt(shielded),
            "trustedPlatformModuleOptions": opt(shielded), "memoryEncryptionOptions": opt(sev),
            "symmetricMultiThreadingOptions": {"isSupported": True, "allowedValues": [True, False]}}


# ListShapes as OCI describes these shapes: E2.1.Micro has no platform config options (neither shielded
# nor confidential); AMD E4/E5 Flex offer shielded (measured boot + vTPM) or, separately, SEV memory encryption.
SHAPES = {"VM.Standard.E2.1.Micro": {"flex": False, "ocpus": 1.0, "memoryInGBs": 1.0, "billingType": "ALWAYS_FREE",
                                     "pco": None},
          "VM.Standard.E4.Flex": {"flex": True, "ocpus": 1.0, "memoryInGBs": 16.0, "billingType": "PAID",
                                  "pco": _pco("AMD_VM", True, True)},
          "VM.Standard.E5.Flex": {"flex": True, "ocpus": 1.0, "memoryInGBs": 12.0, "billingType": "PAID",
                                  "pco": _pco("AMD_VM", True, True)},
          "VM.Standard.A1.Flex": {"flex": True, "ocpus": 1.0, "memoryInGBs": 6.0, "billingType": "LIMITED_FREE",
                                  "pco": None}}
GLOBAL_SCHEMA_VERSION = "2021-09-15T00:00:00Z-global-v1"
CAPABILITIES = {"Compute.Firmware": {"BIOS", "UEFI_64"}, "Compute.LaunchMode": {"NATIVE", "EMULATED", "PARAVIRTUALIZED", "CUSTOM"},
                "Storage.BootVolumeType": {"ISCSI", "SCSI", "IDE", "PARAVIRTUALIZED"},
                "Network.AttachmentType": {"E1000", "VFIO", "PARAVIRTUALIZED"},
                "Compute.SecureBoot": None, "Compute.AMD_SecureEncryptedVirtualization": None}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def nf(what):
    return ApiError(404, "NotAuthorizedOrNotFound", f"Authorization failed or requested resource not found: {what}")


def bad(msg, code="InvalidParameter"):
    return ApiError(400, code, msg)


def conflict(msg, code="Conflict"):
    return ApiError(409, code, msg)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class State:
    def __init__(self, a):
        self.lock = threading.RLock()
        self.delay = a.delay
        self.tenancy, self.user = a.tenancy, a.user
        der = fc.pem_to_der(open(a.api_key_pub).read())
        self.api_key = fc.spki_rsa(der)
        md5 = hashlib.md5(der).hexdigest()
        self.fingerprint = ":".join(md5[i:i + 2] for i in range(0, 32, 2))
        self.compartment = a.compartment
        self.free_tier = a.free_tier
        self.res = {}           # id -> resource (dict); internal keys start with "_"
        self.log = []           # [method, path, status, code, signed headers]
        self.faults = []
        self.retry_tokens = {}  # token -> (status, body, headers)
        self.egress = 0
        self.metrics_outage = None   # None, "empty" (no series), or an HTTP status for summarizeMetricsData
        self.skew = 0
        self.objects = {}       # (bucket, name) -> {"data": bytes, "meta": {...}}
        self.buckets = {}       # name -> resource
        self.uploads = {}       # uploadId -> {...}
        self.messages = []
        self.ip_pool = iter(f"203.0.113.{i}" for i in range(10, 250))

    def now(self):
        return time.time() + self.skew

    def new(self, kind, fields, states, region=True):
        rid = f"ocid1.{kind}.oc1.{'phx' if region else ''}.{uuid.uuid4().hex}{uuid.uuid4().hex[:20]}"
        obj = dict(fields)
        obj["id"] = rid
        obj["timeCreated"] = iso(self.now())
        obj["_kind"] = kind
        self.sched(obj, *states)
        self.res[rid] = obj
        return obj

    def sched(self, obj, *states, key="lifecycleState"):
        """First state now, each next one after --delay seconds."""
        t = time.time()
        obj[key] = states[0]
        obj["_next"] = [(t + self.delay * i, key, s) for i, s in enumerate(states[1:], 1)]

    def tick(self, obj):
        t = time.time()
        while obj.get("_next") and obj["_next"][0][0] <= t:
            _, key, s = obj["_next"].pop(0)
            obj[key] = s
            hook = obj.get("_on_" + s)
            if hook:
                hook()
        return obj

    def get(self, rid, kind=None):
        obj = self.res.get(rid)
        if not obj or (kind and obj["_kind"] != kind):
            raise nf(rid)
        return self.tick(obj)

    def all(self, kind):
        return [o for o in [self.tick(o) for o in list(self.res.values()) if o["_kind"] == kind]
                if self.res.get(o.get("id") or o.get("topicId")) is o]


ST = None
SCHEME = "http"


def public(obj):
    if isinstance(obj, list):
        return [public(o) for o in obj]
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def need(body, *keys):
    for k in keys:
        if body.get(k) in (None, "", []):
            raise bad(f"Missing required parameter: {k}", "MissingParameter")


def live(o):
    return o.get("lifecycleState") not in ("TERMINATED", "DELETED", "TERMINATING", "DELETING")


class Handler(httpfake.Handler):
    server_version = "fake-oci"
    methods = ("GET", "POST", "PUT", "DELETE", "HEAD")
    max_body = MAX_BODY

    def date_time_string(self, timestamp=None):
        return formatdate(ST.now(), usegmt=True)

    def dispatch(self):
        self.handle_any(self.command)

    def send(self, status, body, headers=()):
        if isinstance(body, (dict, list, str)) and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        ctype = "application/json" if body or status not in (204,) else None
        super().send(status, body or b"", ctype, [("opc-request-id", uuid.uuid4().hex.upper()),
                                                  *dict(headers).items()])

    def handle_any(self, method):
        raw = self.read_body()
        if raw is None:
            return self.send(411, {"code": "LengthRequired", "message": "A valid Content-Length (at most "
                                   f"{MAX_BODY} bytes) is required"})
        u = urlsplit(self.path)
        path, q = u.path, {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        if path.startswith("/__fake/"):
            return self.control(method, path, raw)
        status, code, signed = 500, "", ""
        try:
            with ST.lock:
                signed = self.check_signature(method, path, raw)
                fault = None
                for f in ST.faults:
                    if f["count"] > 0 and f.get("method", method) == method and re.search(f["path_re"], path):
                        if f.get("skip", 0) > 0:
                            f["skip"] -= 1
                            continue
                        f["count"] -= 1
                        fault = ApiError(f.get("status", 500), f.get("code", "InternalServerError"),
                                         f.get("message", "Internal Server Error"))
                        if not f.get("after"):
                            raise fault
                        break
                token = self.headers.get("opc-retry-token")
                if token and method == "POST" and token in ST.retry_tokens:
                    status, out, hdrs = ST.retry_tokens[token]
                else:
                    body = None
                    if raw and (not path.startswith("/n/") or method == "POST"):
                        try:
                            body = json.loads(raw)
                        except ValueError:
                            raise bad("The request body is not valid JSON", "InvalidParameter")
                    status, out, hdrs = route(method, path, q, body, raw, self.headers)
                    if token and method == "POST" and status < 300:
                        ST.retry_tokens[token] = (status, out, hdrs)
                    if fault:       # "after": the work was done, the answer is lost
                        raise fault
            code = out.get("code", "") if isinstance(out, dict) and status >= 400 else ""
            ST.log.append([method, path, status, code, signed])
            return self.send(status, out, hdrs)
        except ApiError as e:
            ST.log.append([method, path, e.status, e.code, signed])
            return self.send(e.status, {"code": e.code, "message": e.message})

    def control(self, method, path, raw):
        with ST.lock:
            if path == "/__fake/fault" and method == "POST":
                f = json.loads(raw)
                f.setdefault("count", 1)
                ST.faults.append(f)
                return self.send(200, {"ok": True})
            if path == "/__fake/config" and method == "POST":
                c = json.loads(raw)
                ST.egress = c.get("egress_bytes", ST.egress)
                ST.metrics_outage = c.get("metrics_outage", ST.metrics_outage)
                ST.skew = c.get("skew_s", ST.skew)
                return self.send(200, {"ok": True})
            if path == "/__fake/state":
                for o in ST.res.values():
                    ST.tick(o)
                objs = {f"{b}/{n}": {"size": len(v["data"]), "meta": v["meta"],
                                     "sha256": hashlib.sha256(v["data"]).hexdigest()} for (b, n), v in ST.objects.items()}
                return self.send(200, {"resources": public(list(ST.res.values())), "log": ST.log,
                                       "objects": objs, "buckets": public(list(ST.buckets.values())),
                                       "uploads": list(ST.uploads), "messages": ST.messages,
                                       "secret_contents": {k: v.get("_content") for k, v in ST.res.items()
                                                           if v["_kind"] == "vaultsecret"}})
        self.send(404, {"code": "NotFound", "message": "no such control"})

    def check_signature(self, method, path, body):
        def unauth(msg):
            return ApiError(401, "NotAuthenticated", msg)
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Signature "):
            raise unauth("The required information to complete authentication was not provided.")
        p = dict(re.findall(r'(\w+)="([^"]*)"', auth[len("Signature "):]))
        if p.get("algorithm") != "rsa-sha256" or p.get("version") != "1" or "signature" not in p:
            raise unauth("The required information to complete authentication was not provided.")
        names = p.get("headers", "date").split()
        required = ["date", "(request-target)", "host"]
        object_put = method == "PUT" and path.startswith("/n/")
        if method in ("POST", "PUT", "PATCH") and not object_put:
            required += ["content-length", "content-type", "x-content-sha256"]
        for r in required:
            if r not in names:
                raise unauth(f"Missing required header to sign: {r}")
        try:
            t = parsedate_to_datetime(self.headers.get("date")).timestamp()
        except (TypeError, ValueError):
            raise unauth("Invalid date header")
        now = ST.now()
        if abs(t - now) > SKEW_LIMIT_S:
            fmt = lambda x: time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(x))  # noqa: E731
            raise unauth(f"Date '{fmt(t)}' is not within allowed clock skew. Current '{fmt(now)}', valid datetime "
                         f"range: ['{fmt(now - SKEW_LIMIT_S)}', '{fmt(now + SKEW_LIMIT_S)}']")
        if "x-content-sha256" in names:
            if self.headers.get("x-content-sha256") != base64.b64encode(hashlib.sha256(body).digest()).decode():
                raise bad("x-content-sha256 does not match the body")
        if "content-length" in names and self.headers.get("content-length") != str(len(body)):
            raise bad("content-length does not match the body")
        signing, missing = fc.oci_signing_string(self.headers, names, method, self.path)
        if missing:
            raise unauth(f"Signed header {missing} is missing")
        want = f"{ST.tenancy}/{ST.user}/{ST.fingerprint}"
        if p.get("keyId") != want:
            raise unauth("The required information to complete authentication was not provided or was incorrect.")
        try:
            sig = base64.b64decode(p["signature"], validate=True)
        except ValueError:
            sig = b""
        if not fc.rsa_verify(ST.api_key[0], ST.api_key[1], signing, sig):
            raise unauth("The required information to complete authentication was not provided or was incorrect.")
        return " ".join(names)


# ---- routing -----------------------------------------------------------------------------------

ROUTES = httpfake.Routes()


def api(method, pattern):
    return ROUTES.route(method, pattern)


def route(method, path, q, body, raw, headers):
    found = ROUTES.find(method, path)
    if not found:
        raise ApiError(404, "NotFound", f"Not Found: {method} {path}")
    fn, groups, _ = found
    r = fn(q, body or {}, *[unquote(g) for g in groups], raw=raw, headers=headers)
    if len(r) == 2:
        return r[0], r[1], []
    return r


def page(items, q, wrap=False):
    items = public(items)
    start = int(q.get("page") or 0)
    limit = int(q.get("limit") or PAGE)
    chunk = items[start:start + limit]
    hdrs = [("opc-next-page", str(start + limit))] if start + limit < len(items) else []
    return 200, ({"items": chunk} if wrap else chunk), hdrs


def listing(kind, q, filters=("compartmentId",), required=("compartmentId",), wrap=False, name_key="displayName"):
    for r in required:
        if not q.get(r):
            raise bad(f"Missing required parameter: {r}", "MissingParameter")
    out = []
    for o in ST.all(kind):
        if any(q.get(f) and o.get(f) != q[f] for f in filters):
            continue
        if q.get("displayName") and o.get(name_key) != q["displayName"]:
            continue
        if q.get("lifecycleState") and o.get("lifecycleState") != q["lifecycleState"]:
            continue
        out.append(o)
    return page(out, q, wrap)


def comp_ok(cid):
    if cid not in (ST.compartment, ST.tenancy):
        raise nf(cid)


def tags(body):
    return {"freeformTags": body.get("freeformTags") or {}, "definedTags": body.get("definedTags") or {}}


def deleted(obj, *states):
    ST.sched(obj, *states)
    return 204, b""


# ---- identity ----------------------------------------------------------------------------------

@api("GET", r"/20160918/compartments/([^/]+)")
def get_compartment(q, b, cid, **_):
    comp_ok(cid)
    return 200, {"id": cid, "name": "sealed", "compartmentId": ST.tenancy, "lifecycleState": "ACTIVE"}


@api("GET", r"/20160918/availabilityDomains")
def list_ads(q, b, **_):
    if q.get("compartmentId") != ST.tenancy:
        raise nf(q.get("compartmentId"))
    return 200, [{"name": AD, "id": "ocid1.availabilitydomain.oc1..fakead1", "compartmentId": ST.tenancy}]


RULE = re.compile(r"^(Any|All|ANY|ALL) ?\{ *[a-z.]+ *= *'[^']+'( *, *[a-z.]+ *= *'[^']+')* *\}$")


@api("POST", r"/20160918/dynamicGroups")
def create_dg(q, b, **_):
    need(b, "compartmentId", "name", "matchingRule", "description")
    if b["compartmentId"] != ST.tenancy:
        raise bad("Dynamic groups must be created in the root compartment (tenancy)")
    if not RULE.match(b["matchingRule"]):
        raise bad(f"Invalid matching rule: {b['matchingRule']}")
    if any(o["name"] == b["name"] and live(o) for o in ST.all("dynamicgroup")):
        raise conflict(f"Dynamic group {b['name']} already exists")
    o = ST.new("dynamicgroup", dict(compartmentId=ST.tenancy, name=b["name"], matchingRule=b["matchingRule"],
                                    description=b["description"], **tags(b)), ["CREATING", "ACTIVE"], region=False)
    return 200, public(o)


@api("GET", r"/20160918/dynamicGroups")
def list_dg(q, b, **_):
    if q.get("compartmentId") != ST.tenancy:
        raise bad("compartmentId must be the tenancy OCID", "InvalidParameter")
    return listing("dynamicgroup", q, name_key="name")


@api("GET", r"/20160918/dynamicGroups/([^/]+)")
def get_dg(q, b, rid, **_):
    return 200, public(ST.get(rid, "dynamicgroup"))


@api("PUT", r"/20160918/dynamicGroups/([^/]+)")
def put_dg(q, b, rid, **_):
    o = ST.get(rid, "dynamicgroup")
    if "matchingRule" in b and not RULE.match(b["matchingRule"]):
        raise bad(f"Invalid matching rule: {b['matchingRule']}")
    o.update({k: v for k, v in b.items() if k in ("matchingRule", "description", "freeformTags")})
    return 200, public(o)


@api("DELETE", r"/20160918/dynamicGroups/([^/]+)")
def del_dg(q, b, rid, **_):
    o = ST.get(rid, "dynamicgroup")
    if not live(o):
        raise nf(rid)
    return deleted(o, "DELETING", "DELETED")


STATEMENT = re.compile(r"^Allow (dynamic-group|group|any-user) ?([A-Za-z0-9_.'/-]*) to (inspect|read|use|manage) "
                       r"([a-z-]+) in (tenancy|compartment id ocid1\.(?:compartment|tenancy)\.[a-z0-9.]+)( where .+)?$")
# Conditions as Oracle's "Conditions" page gives them: `variable =|!= value` or `any|all {c, c, ...}`,
# a value 'in single quotes' or a /pattern/. The variables the deployment uses, with the resource-types
# whose requests carry them (None: every request); request.permission must name a permission of the
# statement's resource-type (Oracle's policy reference for each service).
VARIABLES = {"request.permission": None, "request.operation": None, "target.bucket.name": {"buckets", "objects", "object-family"},
             "target.secret.id": {"secret-bundles", "secrets", "secret-family"},
             "target.metrics.namespace": {"metrics"}, "target.instance.id": {"instances", "instance-family"}}
PERMISSIONS = {
    "objects": {"OBJECT_INSPECT", "OBJECT_READ", "OBJECT_CREATE", "OBJECT_OVERWRITE", "OBJECT_DELETE", "OBJECT_RESTORE",
                "OBJECT_UPDATE_TIER", "OBJECT_VERSION_DELETE"},
    "buckets": {"BUCKET_INSPECT", "BUCKET_READ", "BUCKET_UPDATE", "BUCKET_CREATE", "BUCKET_DELETE", "PAR_MANAGE",
                "RETENTION_RULE_MANAGE", "RETENTION_RULE_LOCK"},
    "ons-topics": {"ONS_TOPIC_INSPECT", "ONS_TOPIC_READ", "ONS_TOPIC_PUBLISH", "ONS_TOPIC_UPDATE", "ONS_TOPIC_CREATE",
                   "ONS_TOPIC_DELETE", "ONS_TOPIC_MOVE"},
    "instances": {"INSTANCE_INSPECT", "INSTANCE_READ", "INSTANCE_UPDATE", "INSTANCE_POWER_ACTIONS", "INSTANCE_CREATE",
                  "INSTANCE_DELETE", "INSTANCE_ATTACH_VOLUME", "INSTANCE_DETACH_VOLUME"},
}
PERMISSIONS["object-family"] = PERMISSIONS["objects"] | PERMISSIONS["buckets"]
COND = re.compile(r"\s*([a-z]+(?:\.[a-z]+)+)\s*(!=|=)\s*('[^']*'|/[^/]*/)\s*")


def check_conditions(text, rtype):
    """None when the where clause parses and names only variables and permissions that apply, else why not."""
    text = text.strip()
    m = re.fullmatch(r"(any|all)\s*\{(.*)\}", text, re.S)
    parts = m.group(2).split(",") if m else [text]
    if m and "{" in m.group(2):
        return "nested condition groups"
    for c in parts:
        cm = COND.fullmatch(c)
        if not cm:
            return f"cannot parse the condition {c.strip()!r}"
        var, _, val = cm.groups()
        if var not in VARIABLES:
            return f"unknown variable {var}"
        if VARIABLES[var] is not None and rtype not in VARIABLES[var]:
            return f"{var} does not apply to {rtype}"
        if var == "request.permission":
            perm = val.strip("'")
            if rtype in PERMISSIONS and perm not in PERMISSIONS[rtype]:
                return f"{perm} is not a permission of {rtype}"
    return None


def check_statement(s):
    m = STATEMENT.match(s)
    if not m:
        raise bad(f"Invalid policy statement: {s}")
    if m.group(6):
        why = check_conditions(m.group(6)[len(" where "):], m.group(4))
        if why:
            raise bad(f"Invalid policy statement: {s} ({why})")
    return m


@api("POST", r"/20160918/policies")
def create_policy(q, b, **_):
    need(b, "compartmentId", "name", "statements", "description")
    comp_ok(b["compartmentId"])
    for s in b["statements"]:
        m = check_statement(s)
        if m.group(1) == "dynamic-group" and not any(o["name"] == m.group(2) and live(o) for o in ST.all("dynamicgroup")):
            raise bad(f"Dynamic group {m.group(2)} not found (statement: {s})")
    if any(o["name"] == b["name"] and o["compartmentId"] == b["compartmentId"] and live(o) for o in ST.all("policy")):
        raise conflict(f"Policy {b['name']} already exists")
    o = ST.new("policy", dict(compartmentId=b["compartmentId"], name=b["name"], statements=b["statements"],
                              description=b["description"], **tags(b)), ["CREATING", "ACTIVE"], region=False)
    return 200, public(o)


@api("GET", r"/20160918/policies")
def list_policies(q, b, **_):
    return listing("policy", q, name_key="name")


@api("GET", r"/20160918/policies/([^/]+)")
def get_policy(q, b, rid, **_):
    return 200, public(ST.get(rid, "policy"))


@api("PUT", r"/20160918/policies/([^/]+)")
def put_policy(q, b, rid, **_):
    o = ST.get(rid, "policy")
    for s in b.get("statements", []):
        check_statement(s)
    o.update({k: v for k, v in b.items() if k in ("statements", "description", "freeformTags")})
    return 200, public(o)


@api("DELETE", r"/20160918/policies/([^/]+)")
def del_policy(q, b, rid, **_):
    o = ST.get(rid, "policy")
    if not live(o):
        raise nf(rid)
    return deleted(o, "DELETING", "DELETED")


# ---- core networking ---------------------------------------------------------------------------

def net(c):
    try:
        n = ipaddress.ip_network(c, strict=True)
    except ValueError:
        raise bad(f"Invalid CIDR block: {c}")
    if n.version != 4 or not 16 <= n.prefixlen <= 30:
        raise bad(f"CIDR block {c} must be IPv4 between /16 and /30")
    return n


def vcn_of(b):
    need(b, "compartmentId", "vcnId")
    comp_ok(b["compartmentId"])
    v = ST.get(b["vcnId"], "vcn")
    if not live(v) or v["lifecycleState"] != "AVAILABLE":
        raise conflict(f"VCN {b['vcnId']} is {v['lifecycleState']}", "IncorrectState")
    return v


@api("POST", r"/20160918/vcns")
def create_vcn(q, b, **_):
    need(b, "compartmentId")
    comp_ok(b["compartmentId"])
    blocks = b.get("cidrBlocks") or ([b["cidrBlock"]] if b.get("cidrBlock") else [])
    if not blocks:
        raise bad("Missing required parameter: cidrBlocks", "MissingParameter")
    for c in blocks:
        net(c)
    o = ST.new("vcn", dict(compartmentId=b["compartmentId"], displayName=b.get("displayName", "vcn"),
                           cidrBlocks=blocks, cidrBlock=blocks[0], **tags(b)), ["PROVISIONING", "AVAILABLE"])
    return 200, public(o)


def crud(kind, path, create_fn, states=("PROVISIONING", "AVAILABLE"), del_states=("TERMINATING", "TERMINATED"),
         filters=("compartmentId", "vcnId"), updatable=("displayName", "freeformTags"), check_delete=None):
    if create_fn:
        api("POST", path)(create_fn)

    @api("GET", path)
    def _list(q, b, **_):
        return listing(kind, q, filters)

    @api("GET", path + r"/([^/]+)")
    def _get(q, b, rid, **_):
        return 200, public(ST.get(rid, kind))

    @api("PUT", path + r"/([^/]+)")
    def _put(q, b, rid, **_):
        o = ST.get(rid, kind)
        if not live(o):
            raise nf(rid)
        if kind in ("routetable", "securitylist"):
            validate_rules(kind, o["vcnId"], b)
        o.update({k: v for k, v in b.items() if k in updatable})
        return 200, public(o)

    @api("DELETE", path + r"/([^/]+)")
    def _del(q, b, rid, **_):
        o = ST.get(rid, kind)
        if not live(o):
            raise nf(rid)
        if check_delete:
            check_delete(o)
        return deleted(o, *del_states)


def children_of(vid):
    return [o for o in ST.res.values() if o.get("vcnId") == vid and live(ST.tick(o))]


def vcn_delete_check(o):
    kids = children_of(o["id"])
    if kids:
        raise conflict(f"The VCN {o['id']} has {len(kids)} associated resources ({kids[0]['_kind']} {kids[0]['id']}): "
                       "delete them first")


crud("vcn", r"/20160918/vcns", None, filters=("compartmentId",), check_delete=vcn_delete_check)


def gw_delete_check(o):
    for rt in ST.all("routetable"):
        if live(rt) and any(r.get("networkEntityId") == o["id"] for r in rt.get("routeRules", [])):
            raise conflict(f"{o['id']} is a target of route table {rt['id']}: remove the rule first")


def make_gw(kind, extra):
    def create(q, b, **_):
        v = vcn_of(b)
        if ST.free_tier and kind == "natgateway":       # what Always Free accounts get (their messages)
            raise ApiError(400, "LimitExceeded", "NAT gateway limit per VCN reached")
        if ST.free_tier and kind == "servicegateway":
            raise bad(f"The maximum limit of 0 for Service gateway per VCN has been exceeded in VCN {v['id']}")
        if any(g["vcnId"] == v["id"] and live(g) for g in ST.all(kind)):
            raise ApiError(400, "LimitExceeded", f"The VCN already has a {kind}")
        fields = dict(compartmentId=b["compartmentId"], vcnId=v["id"], displayName=b.get("displayName", kind), **tags(b))
        fields.update(extra(b))
        return 200, public(ST.new(kind, fields, ["PROVISIONING", "AVAILABLE"]))
    return create


crud("internetgateway", r"/20160918/internetGateways", make_gw("internetgateway", lambda b: {"isEnabled": b.get("isEnabled", True)}),
     check_delete=gw_delete_check)
crud("natgateway", r"/20160918/natGateways", make_gw("natgateway", lambda b: {"natIp": next(ST.ip_pool), "blockTraffic": False}),
     check_delete=gw_delete_check)
SERVICES = [{"id": "ocid1.service.oc1.phx.allservices", "name": "All PHX Services In Oracle Services Network",
             "cidrBlock": "all-phx-services-in-oracle-services-network", "description": "All services"},
            {"id": "ocid1.service.oc1.phx.objectstorage", "name": "OCI PHX Object Storage",
             "cidrBlock": "oci-phx-objectstorage", "description": "Object Storage"}]


def sgw_extra(b):
    svcs = b.get("services") or []
    for s in svcs:
        if s.get("serviceId") not in [x["id"] for x in SERVICES]:
            raise bad(f"Unknown service {s.get('serviceId')}")
    return {"services": [{"serviceId": s["serviceId"], "serviceName": next(x["name"] for x in SERVICES if x["id"] == s["serviceId"])}
                         for s in svcs], "blockTraffic": False}


crud("servicegateway", r"/20160918/serviceGateways", make_gw("servicegateway", sgw_extra), check_delete=gw_delete_check)


@api("GET", r"/20160918/services")
def list_services(q, b, **_):
    return page(SERVICES, q)


def validate_rules(kind, vid, b):
    if kind == "routetable":
        for r in b.get("routeRules", []):
            need(r, "networkEntityId", "destination")
            t = ST.res.get(r["networkEntityId"])
            if not t or t.get("vcnId") != vid or not live(t):
                raise bad(f"Route target {r['networkEntityId']} is not in the VCN")
            if r.get("destinationType", "CIDR_BLOCK") == "SERVICE_CIDR_BLOCK":
                if t["_kind"] != "servicegateway" or r["destination"] not in [x["cidrBlock"] for x in SERVICES]:
                    raise bad(f"Invalid service destination {r['destination']}")
            else:
                ipaddress.ip_network(r["destination"])
                if t["_kind"] == "servicegateway":
                    raise bad("A service gateway takes only SERVICE_CIDR_BLOCK destinations")
    else:
        for r in b.get("ingressSecurityRules", []) + b.get("egressSecurityRules", []):
            if r.get("protocol") not in ("all", "1", "6", "17", "58"):
                raise bad(f"Invalid protocol {r.get('protocol')}")
            for opt in ("tcpOptions", "udpOptions"):
                rng = (r.get(opt) or {}).get("destinationPortRange")
                if rng and not 1 <= rng["min"] <= rng["max"] <= 65535:
                    raise bad(f"Invalid port range {rng}")


def make_rules(kind, keys):
    def create(q, b, **_):
        v = vcn_of(b)
        validate_rules(kind, v["id"], b)
        fields = dict(compartmentId=b["compartmentId"], vcnId=v["id"], displayName=b.get("displayName", kind), **tags(b))
        for k in keys:
            fields[k] = b.get(k, [])
        return 200, public(ST.new(kind, fields, ["PROVISIONING", "AVAILABLE"]))
    return create


def used_by_subnet(field):
    def check(o):
        for s in ST.all("subnet"):
            if live(s) and (s.get("routeTableId") == o["id"] or o["id"] in s.get("securityListIds", [])):
                raise conflict(f"{o['id']} is used by subnet {s['id']}")
    return check


crud("routetable", r"/20160918/routeTables", make_rules("routetable", ["routeRules"]),
     updatable=("displayName", "freeformTags", "routeRules"), check_delete=used_by_subnet("routeTableId"))
crud("securitylist", r"/20160918/securityLists", make_rules("securitylist", ["ingressSecurityRules", "egressSecurityRules"]),
     updatable=("displayName", "freeformTags", "ingressSecurityRules", "egressSecurityRules"),
     check_delete=used_by_subnet("securityListIds"))


def create_subnet(q, b, **_):
    v = vcn_of(b)
    need(b, "cidrBlock")
    n = net(b["cidrBlock"])
    if not any(n.subnet_of(ipaddress.ip_network(c)) for c in v["cidrBlocks"]):
        raise bad(f"The subnet CIDR {b['cidrBlock']} is not within the VCN's {v['cidrBlocks']}")
    for s in ST.all("subnet"):
        if s["vcnId"] == v["id"] and live(s) and n.overlaps(ipaddress.ip_network(s["cidrBlock"])):
            raise bad(f"The requested CIDR {b['cidrBlock']} overlaps subnet {s['id']} ({s['cidrBlock']})")
    rt = b.get("routeTableId")
    if rt and (ST.res.get(rt, {}).get("vcnId") != v["id"] or ST.res[rt]["_kind"] != "routetable"):
        raise bad(f"Route table {rt} is not in the VCN")
    for sl in b.get("securityListIds") or []:
        if ST.res.get(sl, {}).get("vcnId") != v["id"] or ST.res[sl]["_kind"] != "securitylist":
            raise bad(f"Security list {sl} is not in the VCN")
    o = ST.new("subnet", dict(compartmentId=b["compartmentId"], vcnId=v["id"], displayName=b.get("displayName", "subnet"),
                              cidrBlock=b["cidrBlock"], routeTableId=rt, securityListIds=b.get("securityListIds") or [],
                              prohibitPublicIpOnVnic=bool(b.get("prohibitPublicIpOnVnic")),
                              virtualRouterIp=str(n.network_address + 1), **tags(b)), ["PROVISIONING", "AVAILABLE"])
    return 200, public(o)


def subnet_delete_check(o):
    for v in ST.all("vnic"):
        if v["subnetId"] == o["id"] and live(v):
            raise conflict(f"The subnet {o['id']} has VNIC {v['id']} ({v['privateIp']}) attached: terminate the instance first")
    for x in ST.all("networkloadbalancer"):
        if x["subnetId"] == o["id"] and live(x):
            raise conflict(f"The subnet {o['id']} is used by network load balancer {x['id']}")


crud("subnet", r"/20160918/subnets", create_subnet, check_delete=subnet_delete_check)


# ---- public IPs --------------------------------------------------------------------------------

@api("POST", r"/20160918/publicIps")
def create_pip(q, b, **_):
    need(b, "compartmentId", "lifetime")
    comp_ok(b["compartmentId"])
    if b["lifetime"] != "RESERVED":
        raise bad("Only RESERVED public IPs can be created without a private IP")
    o = ST.new("publicip", dict(compartmentId=b["compartmentId"], displayName=b.get("displayName", "ip"),
                                lifetime="RESERVED", scope="REGION", ipAddress=next(ST.ip_pool), **tags(b)),
               ["PROVISIONING", "AVAILABLE"])
    return 200, public(o)


def pip_delete_check(o):
    if o["lifecycleState"] == "ASSIGNED":
        raise conflict(f"The public IP {o['id']} is assigned to {o.get('assignedEntityId')}: delete the load balancer first")


crud("publicip", r"/20160918/publicIps", None, filters=("compartmentId", "lifetime"), check_delete=pip_delete_check)


# ---- images ------------------------------------------------------------------------------------

def work_request(kind, resource_id, op, prefix="core"):
    wr = ST.new("workrequest", dict(operationType=op, resources=[{"identifier": resource_id}], _prefix=prefix),
                ["ACCEPTED", "IN_PROGRESS", "SUCCEEDED"])
    wr["status"] = wr.pop("lifecycleState")
    wr["_next"] = [(t, "status", s) for t, _, s in wr["_next"]]
    return wr["id"]


@api("POST", r"/20160918/images")
def create_image(q, b, **_):
    need(b, "compartmentId")
    comp_ok(b["compartmentId"])
    src = b.get("imageSourceDetails")
    if not src:
        raise bad("Missing required parameter: imageSourceDetails (or instanceId)", "MissingParameter")
    if src.get("sourceType") != "objectStorageTuple":
        raise bad(f"Unsupported sourceType {src.get('sourceType')}")
    need(src, "namespaceName", "bucketName", "objectName")
    if src["namespaceName"] != NAMESPACE or (src["bucketName"], src["objectName"]) not in ST.objects:
        raise nf(f"object {src['bucketName']}/{src['objectName']}")
    if src.get("sourceImageType") not in ("QCOW2", "VMDK"):
        raise bad(f"sourceImageType must be QCOW2 or VMDK, not {src.get('sourceImageType')}")
    if b.get("launchMode", "PARAVIRTUALIZED") not in ("NATIVE", "EMULATED", "PARAVIRTUALIZED", "CUSTOM"):
        raise bad(f"Invalid launchMode {b['launchMode']}")
    o = ST.new("image", dict(compartmentId=b["compartmentId"], displayName=b.get("displayName", "image"),
                             launchMode=b.get("launchMode", "PARAVIRTUALIZED"), operatingSystem=src.get("operatingSystem"),
                             operatingSystemVersion=src.get("operatingSystemVersion"), sizeInMBs=1,
                             _source=f"{src['bucketName']}/{src['objectName']}", **tags(b)), ["IMPORTING", "AVAILABLE"])
    o["_shapes"] = ["VM.Standard.E2.1.Micro"]
    return 200, public(o), [("opc-work-request-id", work_request("image", o["id"], "ImageImport"))]


crud("image", r"/20160918/images", None, del_states=("DELETED",), filters=("compartmentId",))


@api("PUT", r"/20160918/images/([^/]+)/shapes/([^/]+)")
def add_shape(q, b, rid, shape, **_):
    o = ST.get(rid, "image")
    if shape not in SHAPES:
        raise bad(f"Unknown shape {shape}")
    if shape not in o["_shapes"]:
        o["_shapes"].append(shape)
    return 200, {"imageId": rid, "shape": shape}


@api("GET", r"/20160918/images/([^/]+)/shapes")
def list_image_shapes(q, b, rid, **_):
    o = ST.get(rid, "image")
    return page([{"imageId": rid, "shape": sh} for sh in o["_shapes"]], q)


@api("GET", r"/20160918/shapes")
def list_shapes(q, b, **_):
    need(q, "compartmentId")
    comp_ok(q["compartmentId"])
    if q.get("availabilityDomain") and q["availabilityDomain"] != AD:
        raise bad(f"Invalid availabilityDomain {q['availabilityDomain']}")
    img = ST.get(q["imageId"], "image") if q.get("imageId") else None
    out = []
    for name, sh in SHAPES.items():
        if img and name not in img["_shapes"]:
            continue
        out.append({"shape": name, "isFlexible": sh["flex"], "ocpus": sh["ocpus"], "memoryInGBs": sh["memoryInGBs"],
                    "processorDescription": "fake", "billingType": sh["billingType"],
                    "isBilledForStoppedInstance": False, "platformConfigOptions": sh["pco"]})
    return page(out, q)


@api("GET", r"/20160918/workRequests/([^/]+)")
def get_core_wr(q, b, rid, **_):
    return 200, public(ST.get(rid, "workrequest"))


@api("GET", r"/20160918/computeGlobalImageCapabilitySchemas")
def list_global(q, b, **_):
    return page([{"id": "ocid1.computeglobalimgcapschema.oc1.phx.fake", "compartmentId": None,
                  "displayName": "OCI.ComputeGlobalImageCapabilitySchema", "currentVersionName": GLOBAL_SCHEMA_VERSION}], q)


@api("POST", r"/20160918/computeImageCapabilitySchemas")
def create_schema(q, b, **_):
    need(b, "compartmentId", "imageId", "computeGlobalImageCapabilitySchemaVersionName", "schemaData")
    comp_ok(b["compartmentId"])
    img = ST.get(b["imageId"], "image")
    if img["lifecycleState"] != "AVAILABLE":
        raise conflict(f"Image {img['id']} is {img['lifecycleState']}", "IncorrectState")
    if b["computeGlobalImageCapabilitySchemaVersionName"] != GLOBAL_SCHEMA_VERSION:
        raise bad(f"Unknown global schema version {b['computeGlobalImageCapabilitySchemaVersionName']}")
    for k, d in b["schemaData"].items():
        if k not in CAPABILITIES:
            raise bad(f"Unknown capability {k}")
        allowed = CAPABILITIES[k]
        if d.get("descriptorType") == "enumstring":
            if allowed is None or d.get("defaultValue") not in allowed or not set(d.get("values", [])) <= allowed \
                    or d["defaultValue"] not in d.get("values", []):
                raise bad(f"Invalid values for {k}")
        elif d.get("descriptorType") == "boolean":
            if allowed is not None or not isinstance(d.get("defaultValue"), bool):
                raise bad(f"Invalid boolean descriptor for {k}")
        else:
            raise bad(f"Invalid descriptorType for {k}")
    img["_capabilities"] = b["schemaData"]
    o = ST.new("computeimgcapschema", dict(compartmentId=b["compartmentId"], imageId=img["id"],
                                            displayName=b.get("displayName", "schema"), schemaData=b["schemaData"],
                                            computeGlobalImageCapabilitySchemaVersionName=GLOBAL_SCHEMA_VERSION, **tags(b)),
               ["ACTIVE"])
    return 200, public(o)


crud("computeimgcapschema", r"/20160918/computeImageCapabilitySchemas", None, del_states=("DELETED",),
     filters=("compartmentId", "imageId"))


# ---- instances ---------------------------------------------------------------------------------

@api("POST", r"/20160918/instances")
def launch(q, b, **_):
    need(b, "compartmentId", "availabilityDomain", "shape", "createVnicDetails")
    comp_ok(b["compartmentId"])
    if b["availabilityDomain"] != AD:
        raise bad(f"Invalid availabilityDomain {b['availabilityDomain']}")
    shape = SHAPES.get(b["shape"])
    if not shape:
        raise bad(f"Shape {b['shape']} is not valid")
    if shape["flex"] != bool(b.get("shapeConfig")):
        raise bad("shapeConfig is required for a Flex shape and not allowed otherwise")
    src = b.get("sourceDetails") or {}
    if src.get("sourceType") != "image":
        raise bad("sourceDetails.sourceType must be image")
    img = ST.get(src.get("imageId"), "image")
    if img["lifecycleState"] != "AVAILABLE":
        raise conflict(f"Image {img['id']} is {img['lifecycleState']}", "IncorrectState")
    if b["shape"] not in img["_shapes"]:
        raise bad(f"Shape {b['shape']} is not compatible with image {img['id']}")
    pc = b.get("platformConfig")
    if pc:
        opts = shape["pco"]
        if not opts or pc.get("type") != opts["type"]:
            raise bad(f"platformConfig {pc.get('type')} is not supported by shape {b['shape']}")
        for flag, opt in (("isMeasuredBootEnabled", "measuredBootOptions"), ("isSecureBootEnabled", "secureBootOptions"),
                          ("isTrustedPlatformModuleEnabled", "trustedPlatformModuleOptions"),
                          ("isMemoryEncryptionEnabled", "memoryEncryptionOptions")):
            if pc.get(flag) and not opts[opt]["isSupported"]:
                raise bad(f"{flag} is not supported by shape {b['shape']}")
        if pc.get("isMemoryEncryptionEnabled") and (pc.get("isMeasuredBootEnabled") or pc.get("isSecureBootEnabled")
                                                    or pc.get("isTrustedPlatformModuleEnabled")):
            raise bad("A confidential instance cannot also be a shielded instance")
        if pc.get("isMemoryEncryptionEnabled") and not (img.get("_capabilities") or {}).get(
                "Compute.AMD_SecureEncryptedVirtualization", {}).get("defaultValue"):
            raise bad("The image does not support AMD SEV (capability Compute.AMD_SecureEncryptedVirtualization)")
    lo = b.get("launchOptions") or {}
    caps = img.get("_capabilities") or {}
    fw = caps.get("Compute.Firmware", {}).get("values", ["BIOS", "UEFI_64"])
    if lo.get("firmware") and lo["firmware"] not in fw:
        raise bad(f"Firmware {lo['firmware']} is not allowed by the image's capabilities")
    md = b.get("metadata") or {}
    if not all(isinstance(v, str) for v in md.values()) or len(json.dumps(md)) > 32000:
        raise bad("metadata values must be strings, 32000 bytes in total at most")
    vd = b["createVnicDetails"]
    need(vd, "subnetId")
    sn = ST.get(vd["subnetId"], "subnet")
    if not live(sn):
        raise nf(vd["subnetId"])
    if vd.get("assignPublicIp", True) and sn["prohibitPublicIpOnVnic"]:
        raise bad("The subnet prohibits public IPs on VNICs: set assignPublicIp to false")
    net_ = ipaddress.ip_network(sn["cidrBlock"])
    ip = vd.get("privateIp")
    hosts = list(net_.hosts())
    if ip:
        try:
            a = ipaddress.ip_address(ip)
        except ValueError:
            raise bad(f"Invalid private IP {ip}")
        if a not in net_:
            raise bad(f"The private IP {ip} is not in the subnet's CIDR {sn['cidrBlock']}")
        if a in (net_.network_address, net_.network_address + 1, net_.network_address + 2, net_.broadcast_address):
            raise bad(f"The private IP {ip} is reserved by OCI in {sn['cidrBlock']}")
    else:
        taken = {v["privateIp"] for v in ST.all("vnic") if live(v)}
        ip = next(str(h) for h in hosts[2:] if str(h) not in taken)
    for v in ST.all("vnic"):
        if v["subnetId"] == sn["id"] and v["privateIp"] == ip and live(v):
            raise conflict(f"The private IP {ip} is already assigned to VNIC {v['id']}")
    inst = ST.new("instance", dict(compartmentId=b["compartmentId"], availabilityDomain=AD,
                                   displayName=b.get("displayName", "instance"), shape=b["shape"],
                                   shapeConfig=dict(ocpus=float((b.get("shapeConfig") or shape)["ocpus"]),
                                                    memoryInGBs=float((b.get("shapeConfig") or shape)["memoryInGBs"])),
                                   imageId=img["id"],
                                   sourceDetails=src, metadata=md, platformConfig=pc, launchOptions=lo,
                                   instanceOptions=b.get("instanceOptions"), agentConfig=b.get("agentConfig"),
                                   region=REGION, **tags(b)),
                  ["PROVISIONING", "STARTING", "RUNNING"])
    vnic = ST.new("vnic", dict(compartmentId=b["compartmentId"], subnetId=sn["id"], privateIp=ip,
                               publicIp="1.2.3.4" if vd.get("assignPublicIp", True) else None,
                               displayName=vd.get("displayName", "vnic"), isPrimary=True,
                               freeformTags=vd.get("freeformTags") or {}), ["PROVISIONING", "AVAILABLE"])
    vnic["publicIp"] = vnic["publicIp"] and next(ST.ip_pool)
    att = ST.new("vnicattachment", dict(compartmentId=b["compartmentId"], instanceId=inst["id"], vnicId=vnic["id"],
                                        subnetId=sn["id"], availabilityDomain=AD), ["ATTACHING", "ATTACHED"])
    inst["_vnic"], inst["_att"] = vnic["id"], att["id"]
    return 200, public(inst), [("opc-work-request-id", work_request("instance", inst["id"], "LaunchInstance"))]


@api("GET", r"/20160918/instances")
def list_instances(q, b, **_):
    return listing("instance", q, ("compartmentId", "availabilityDomain"))


@api("GET", r"/20160918/instances/([^/]+)")
def get_instance(q, b, rid, **_):
    return 200, public(ST.get(rid, "instance"))


@api("PUT", r"/20160918/instances/([^/]+)")
def update_instance(q, b, rid, **_):
    o = ST.get(rid, "instance")
    if not live(o):
        raise nf(rid)
    if "metadata" in b:
        if not all(isinstance(v, str) for v in b["metadata"].values()):
            raise bad("metadata values must be strings")
        o["metadata"] = b["metadata"]
    o.update({k: v for k, v in b.items() if k in ("displayName", "freeformTags")})
    return 200, public(o)


@api("POST", r"/20160918/instances/([^/]+)")
def instance_action(q, b, rid, **_):
    o = ST.get(rid, "instance")
    act = q.get("action")
    if act not in ("STOP", "START", "SOFTSTOP", "RESET", "SOFTRESET"):
        raise bad(f"Invalid action {act}", "InvalidParameter")
    st = o["lifecycleState"]
    if act in ("STOP", "SOFTSTOP"):
        if st != "RUNNING":
            raise conflict(f"Instance {rid} is {st}: it can be stopped only when RUNNING", "IncorrectState")
        ST.sched(o, "STOPPING", "STOPPED")
    elif act == "START":
        if st != "STOPPED":
            raise conflict(f"Instance {rid} is {st}: it can be started only when STOPPED", "IncorrectState")
        ST.sched(o, "STARTING", "RUNNING")
    return 200, public(o)


@api("DELETE", r"/20160918/instances/([^/]+)")
def terminate(q, b, rid, **_):
    o = ST.get(rid, "instance")
    if not live(o):
        raise nf(rid)
    vnic, att = ST.get(o["_vnic"]), ST.get(o["_att"])
    ST.sched(o, "TERMINATING", "TERMINATED")
    ST.sched(vnic, "TERMINATING", "TERMINATED")
    ST.sched(att, "DETACHING", "DETACHED")
    return 204, b""


@api("GET", r"/20160918/vnicAttachments")
def list_atts(q, b, **_):
    return listing("vnicattachment", q, ("compartmentId", "instanceId", "vnicId"))


@api("GET", r"/20160918/vnics/([^/]+)")
def get_vnic(q, b, rid, **_):
    return 200, public(ST.get(rid, "vnic"))


# ---- object storage ----------------------------------------------------------------------------

@api("GET", r"/n/")
def get_ns(q, b, **_):
    return 200, json.dumps(NAMESPACE).encode()


def bucket(ns, name):
    if ns != NAMESPACE:
        raise ApiError(404, "NamespaceNotFound", f"You do not have authorization to perform this request, or the "
                       f"requested resource could not be found.")
    if name not in ST.buckets:
        raise ApiError(404, "BucketNotFound", f"Either the bucket named '{name}' does not exist in the namespace "
                       f"'{ns}' or you are not authorized to access it")
    return ST.buckets[name]


PUBLIC_ACCESS = ("NoPublicAccess", "ObjectRead", "ObjectReadWithoutList")
BUCKET_FIELDS = {"name", "compartmentId", "metadata", "publicAccessType", "storageTier", "objectEventsEnabled",
                 "freeformTags", "definedTags", "kmsKeyId", "versioning", "autoTiering"}      # CreateBucketDetails


@api("POST", r"/n/([^/]+)/b/")
def create_bucket(q, b, ns, **_):
    need(b, "name", "compartmentId")
    unknown = set(b) - BUCKET_FIELDS
    if unknown:
        raise bad(f"Unknown field(s) in CreateBucketDetails: {', '.join(sorted(unknown))}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,256}", b["name"]):
        raise bad("Bucket names may contain letters, digits, '-', '_' and '.' (1-256)", "InvalidBucketName")
    comp_ok(b["compartmentId"])
    if ns != NAMESPACE:
        raise ApiError(404, "NamespaceNotFound", "namespace not found")
    if b["name"] in ST.buckets:     # names are unique in the namespace, whatever the compartment
        raise ApiError(409, "BucketAlreadyExists", "Either the bucket already exists or you are not authorized to create it")
    if b.get("publicAccessType", "NoPublicAccess") not in PUBLIC_ACCESS:
        raise bad("Invalid publicAccessType")
    if b.get("versioning", "Disabled") not in ("Enabled", "Disabled"):
        raise bad(f"Invalid versioning {b.get('versioning')!r}: Enabled or Disabled")
    if b.get("storageTier", "Standard") not in ("Standard", "Archive"):
        raise bad("Invalid storageTier")
    if not isinstance(b.get("objectEventsEnabled", False), bool):
        raise bad("objectEventsEnabled must be a boolean")
    o = dict(name=b["name"], namespace=ns, compartmentId=b["compartmentId"],
             publicAccessType=b.get("publicAccessType", "NoPublicAccess"), storageTier=b.get("storageTier", "Standard"),
             versioning=b.get("versioning", "Disabled"), objectEventsEnabled=b.get("objectEventsEnabled", False),
             etag=uuid.uuid4().hex, timeCreated=iso(ST.now()), id=f"ocid1.bucket.oc1.phx.{uuid.uuid4().hex}",
             createdBy=ST.user, **tags(b))
    ST.buckets[b["name"]] = o
    return 200, o, [("etag", o["etag"])]


@api("GET", r"/n/([^/]+)/b/([^/]+)")
def get_bucket(q, b, ns, name, **_):
    o = bucket(ns, name)
    out = dict(o)
    if "approximateCount" in (q.get("fields") or ""):
        out["approximateCount"] = sum(1 for k in ST.objects if k[0] == name)
    return 200, out, [("etag", o["etag"])]


@api("POST", r"/n/([^/]+)/b/([^/]+)")
def update_bucket(q, b, ns, name, headers, **_):
    """UpdateBucket: only what UpdateBucketDetails has; versioning can be enabled or suspended, never
    disabled again once it was on."""
    o = bucket(ns, name)
    unknown = set(b) - {"namespace", "compartmentId", "name", "metadata", "publicAccessType", "objectEventsEnabled",
                        "freeformTags", "definedTags", "kmsKeyId", "versioning", "autoTiering"}
    if unknown:
        raise bad(f"Unknown field(s) in UpdateBucketDetails: {', '.join(sorted(unknown))}")
    if "publicAccessType" in b and b["publicAccessType"] not in PUBLIC_ACCESS:
        raise bad("Invalid publicAccessType")
    if "versioning" in b:
        if b["versioning"] not in ("Enabled", "Suspended"):
            raise bad(f"Invalid versioning {b['versioning']!r}: Enabled or Suspended")
        if b["versioning"] == "Suspended" and o["versioning"] == "Disabled":
            raise bad("Versioning cannot be suspended on a bucket where it was never enabled")
    if headers.get("if-match") and headers["if-match"] != o["etag"]:
        raise ApiError(412, "IfMatchFailed", "The If-Match header does not match the bucket's ETag")
    o.update({k: v for k, v in b.items() if k in ("publicAccessType", "objectEventsEnabled", "freeformTags",
                                                  "definedTags", "versioning", "metadata")})
    o["etag"] = uuid.uuid4().hex
    return 200, dict(o), [("etag", o["etag"])]


@api("GET", r"/n/([^/]+)/b/")
def list_buckets(q, b, ns, **_):
    if not q.get("compartmentId"):
        raise bad("Missing required parameter: compartmentId", "MissingParameter")
    out = []
    for x in sorted(ST.buckets.values(), key=lambda x: x["name"]):
        if x["compartmentId"] == q["compartmentId"]:
            s = {k: x[k] for k in ("name", "namespace", "compartmentId", "etag", "timeCreated")}
            if "tags" in (q.get("fields") or ""):
                s["freeformTags"], s["definedTags"] = x["freeformTags"], x["definedTags"]
            out.append(s)
    return page(out, q)


@api("DELETE", r"/n/([^/]+)/b/([^/]+)")
def del_bucket(q, b, ns, name, **_):
    bucket(ns, name)
    if any(k[0] == name for k in ST.objects) or any(u["bucket"] == name for u in ST.uploads.values()):
        raise ApiError(409, "BucketNotEmpty", f"Bucket named '{name}' is not empty. Delete all objects and "
                       "uncommitted multipart uploads first.")
    del ST.buckets[name]
    return 204, b""


def meta_of(headers):
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("opc-meta-")}


@api("PUT", r"/n/([^/]+)/b/([^/]+)/o/(.+)")
def put_object(q, b, ns, name, obj, raw, headers, **_):
    bucket(ns, name)
    have = ST.objects.get((name, obj))
    im, inm = headers.get("if-match"), headers.get("if-none-match")
    if im and (not have or have["etag"] != im):
        raise ApiError(412, "IfMatchFailed", f"The If-Match header '{im}' does not match the ETag of '{obj}'")
    if inm == "*" and have:
        raise ApiError(412, "IfNoneMatchFailed", f"The If-None-Match header is '*' but there is an object '{obj}'")
    ST.objects[(name, obj)] = {"data": raw, "meta": meta_of(headers), "etag": uuid.uuid4().hex}
    return 200, b"", [("etag", ST.objects[(name, obj)]["etag"]),
                      ("opc-content-md5", base64.b64encode(hashlib.md5(raw).digest()).decode())]


@api("HEAD", r"/n/([^/]+)/b/([^/]+)/o/(.+)")
def head_object(q, b, ns, name, obj, **_):
    bucket(ns, name)
    o = ST.objects.get((name, obj))
    if not o:
        raise ApiError(404, "ObjectNotFound", f"The object '{obj}' was not found in the bucket '{name}'")
    return 200, b"", [("etag", o["etag"]), ("Content-Length", str(len(o["data"])))] + list(o["meta"].items())


@api("GET", r"/n/([^/]+)/b/([^/]+)/o")
def list_objects(q, b, ns, name, **_):
    bucket(ns, name)
    objs = sorted(k[1] for k in ST.objects if k[0] == name and k[1] >= (q.get("start") or "")
                  and k[1].startswith(q.get("prefix") or ""))
    limit = int(q.get("limit") or 1)      # one object a page here (OCI: 1000), so paging is exercised
    fields = set((q.get("fields") or "name").split(","))
    bad_fields = fields - {"name", "size", "etag", "timeCreated", "md5", "timeModified", "storageTier", "archivalState"}
    if bad_fields:
        raise bad(f"Invalid fields: {', '.join(sorted(bad_fields))}")

    def summary(n):     # ObjectSummary: the name, and only the fields asked for
        o = ST.objects[(name, n)]
        full = {"name": n, "size": len(o["data"]), "etag": o["etag"],
                "md5": base64.b64encode(hashlib.md5(o["data"]).digest()).decode()}
        return {k: v for k, v in full.items() if k in fields | {"name"}}
    out = {"objects": [summary(n) for n in objs[:limit]]}
    if len(objs) > limit:
        out["nextStartWith"] = objs[limit]
    return 200, out


@api("DELETE", r"/n/([^/]+)/b/([^/]+)/o/(.+)")
def del_object(q, b, ns, name, obj, **_):
    bucket(ns, name)
    if (name, obj) not in ST.objects:
        raise ApiError(404, "ObjectNotFound", f"The object '{obj}' was not found in the bucket '{name}'")
    del ST.objects[(name, obj)]
    return 204, b""


@api("POST", r"/n/([^/]+)/b/([^/]+)/u")
def create_upload(q, b, ns, name, **_):
    bucket(ns, name)
    need(b, "object")
    for k in (b.get("metadata") or {}):
        if not k.startswith("opc-meta-"):
            raise bad(f"Metadata key {k} must start with opc-meta-")
    uid = uuid.uuid4().hex
    ST.uploads[uid] = {"bucket": name, "object": b["object"], "meta": b.get("metadata") or {}, "parts": {}}
    return 200, {"namespace": ns, "bucket": name, "object": b["object"], "uploadId": uid, "timeCreated": iso(ST.now())}


@api("GET", r"/n/([^/]+)/b/([^/]+)/u")
def list_uploads(q, b, ns, name, **_):
    bucket(ns, name)
    return page([{"namespace": ns, "bucket": name, "object": u["object"], "uploadId": k}
                 for k, u in ST.uploads.items() if u["bucket"] == name], q)


def upload_of(q, name, obj):
    u = ST.uploads.get(q.get("uploadId"))
    if not u or u["bucket"] != name or u["object"] != obj:
        raise ApiError(404, "NoSuchUpload", f"No such upload {q.get('uploadId')}")
    return u


@api("PUT", r"/n/([^/]+)/b/([^/]+)/u/(.+)")
def upload_part(q, b, ns, name, obj, raw, **_):
    bucket(ns, name)
    u = upload_of(q, name, obj)
    n = int(q.get("uploadPartNum") or 0)
    if not 1 <= n <= 10000:
        raise bad("uploadPartNum must be 1..10000")
    etag = uuid.uuid4().hex
    u["parts"][n] = (etag, raw)
    return 200, b"", [("etag", etag), ("opc-content-md5", base64.b64encode(hashlib.md5(raw).digest()).decode())]


@api("POST", r"/n/([^/]+)/b/([^/]+)/u/(.+)")
def commit_upload(q, b, ns, name, obj, **_):
    bucket(ns, name)
    u = upload_of(q, name, obj)
    parts = sorted(b.get("partsToCommit") or [], key=lambda p: p["partNum"])
    if not parts:
        raise bad("partsToCommit is empty", "MissingParameter")
    data = b""
    for i, p in enumerate(parts):
        have = u["parts"].get(p["partNum"])
        if not have or have[0] != p.get("etag"):
            raise bad(f"Part {p['partNum']} was not uploaded or its etag does not match", "InvalidParameter")
        if i < len(parts) - 1 and len(have[1]) < MIN_PART:
            raise bad(f"Part {p['partNum']} is smaller than the 10 MiB minimum", "InvalidParameter")
        data += have[1]
    ST.objects[(name, obj)] = {"data": data, "meta": dict(u["meta"]), "etag": uuid.uuid4().hex}
    del ST.uploads[q["uploadId"]]
    return 200, b"", [("etag", ST.objects[(name, obj)]["etag"])]


@api("DELETE", r"/n/([^/]+)/b/([^/]+)/u/(.+)")
def abort_upload(q, b, ns, name, obj, **_):
    upload_of(q, name, obj)
    del ST.uploads[q["uploadId"]]
    return 204, b""


# ---- KMS vaults and keys, Vault secrets ----------------------------------------------------------

def scheduled(kind, states_back):
    @api("POST", r"/20180608/" + kind[1] + r"/([^/]+)/actions/scheduleDeletion")
    def _sched(q, b, rid, **_):
        o = ST.get(rid, kind[0])
        if o["lifecycleState"] not in states_back:
            raise conflict(f"{rid} is {o['lifecycleState']}", "IncorrectState")
        o["_before_deletion"] = o["lifecycleState"]
        ST.sched(o, "SCHEDULING_DELETION", "PENDING_DELETION")
        o["timeOfDeletion"] = iso(ST.now() + 30 * 86400)
        return 200, public(o)

    @api("POST", r"/20180608/" + kind[1] + r"/([^/]+)/actions/cancelDeletion")
    def _cancel(q, b, rid, **_):
        o = ST.get(rid, kind[0])
        if o["lifecycleState"] != "PENDING_DELETION":
            raise conflict(f"{rid} is {o['lifecycleState']}, not PENDING_DELETION", "IncorrectState")
        ST.sched(o, "CANCELLING_DELETION", o.pop("_before_deletion"))
        o["timeOfDeletion"] = None
        return 200, public(o)


def base_url(headers):
    return f"{SCHEME}://{headers.get('host')}"


@api("POST", r"/20180608/vaults")
def create_vault(q, b, headers, **_):
    need(b, "compartmentId", "displayName", "vaultType")
    comp_ok(b["compartmentId"])
    if b["vaultType"] not in ("DEFAULT", "VIRTUAL_PRIVATE"):
        raise bad(f"Invalid vaultType {b['vaultType']}")
    o = ST.new("vault", dict(compartmentId=b["compartmentId"], displayName=b["displayName"], vaultType=b["vaultType"],
                             managementEndpoint=base_url(headers), cryptoEndpoint=base_url(headers), **tags(b)),
               ["CREATING", "ACTIVE"])
    return 200, public(o)


@api("GET", r"/20180608/vaults")
def list_vaults(q, b, **_):
    return listing("vault", q, ("compartmentId",))


@api("GET", r"/20180608/vaults/([^/]+)")
def get_vault(q, b, rid, **_):
    return 200, public(ST.get(rid, "vault"))


scheduled(("vault", "vaults"), ("ACTIVE",))


@api("POST", r"/20180608/keys")
def create_key(q, b, headers, **_):
    need(b, "compartmentId", "displayName", "keyShape")
    comp_ok(b["compartmentId"])
    vaults = [v for v in ST.all("vault") if v["managementEndpoint"] == base_url(headers) and v["lifecycleState"] == "ACTIVE"]
    if not vaults:
        raise conflict("The vault is not ACTIVE", "IncorrectState")
    ks = b["keyShape"]
    if ks.get("algorithm") != "AES" or ks.get("length") not in (16, 24, 32):
        raise bad(f"Invalid keyShape {ks}")
    o = ST.new("key", dict(compartmentId=b["compartmentId"], displayName=b["displayName"], keyShape=ks,
                           protectionMode=b.get("protectionMode", "HSM"), vaultId=vaults[-1]["id"],
                           _vault=vaults[-1]["id"], **tags(b)), ["CREATING", "ENABLED"])
    return 200, public(o)


@api("GET", r"/20180608/keys")
def list_keys(q, b, **_):
    return listing("key", q, ("compartmentId",))


@api("GET", r"/20180608/keys/([^/]+)")
def get_key(q, b, rid, **_):
    return 200, public(ST.get(rid, "key"))


scheduled(("key", "keys"), ("ENABLED", "DISABLED"))


@api("POST", r"/20180608/secrets")
def create_secret(q, b, **_):
    need(b, "compartmentId", "vaultId", "keyId", "secretName", "secretContent")
    comp_ok(b["compartmentId"])
    v = ST.get(b["vaultId"], "vault")
    k = ST.get(b["keyId"], "key")
    if v["lifecycleState"] != "ACTIVE" or k["lifecycleState"] != "ENABLED" or k["_vault"] != v["id"]:
        raise conflict("The vault must be ACTIVE and the key ENABLED and in that vault", "IncorrectState")
    if any(s["secretName"] == b["secretName"] and s["vaultId"] == v["id"] and s["lifecycleState"] != "DELETED"
           for s in ST.all("vaultsecret")):
        raise conflict(f"A secret named {b['secretName']} already exists in the vault")
    content = secret_content(b["secretContent"])
    o = ST.new("vaultsecret", dict(compartmentId=b["compartmentId"], vaultId=v["id"], keyId=k["id"],
                                   secretName=b["secretName"], description=b.get("description"),
                                   currentVersionNumber=1, _content=content, **tags(b)), ["CREATING", "ACTIVE"])
    return 200, public(o)


def secret_content(c):
    if c.get("contentType") != "BASE64":
        raise bad("secretContent.contentType must be BASE64")
    try:
        raw = base64.b64decode(c.get("content") or "", validate=True)
    except ValueError:
        raise bad("secretContent.content is not valid base64")
    if not raw or len(raw) > 25 * 1024:
        raise bad("secretContent.content must be 1 byte to 25 KiB")
    return c["content"]


@api("GET", r"/20180608/secrets")
def list_secrets(q, b, **_):
    return listing("vaultsecret", q, ("compartmentId", "vaultId"), name_key="secretName")


@api("GET", r"/20180608/secrets/([^/]+)")
def get_secret(q, b, rid, **_):
    return 200, public(ST.get(rid, "vaultsecret"))


@api("PUT", r"/20180608/secrets/([^/]+)")
def update_secret(q, b, rid, **_):
    o = ST.get(rid, "vaultsecret")
    if o["lifecycleState"] != "ACTIVE":
        raise conflict(f"Secret {rid} is {o['lifecycleState']}", "IncorrectState")
    if "secretContent" in b:
        o["_content"] = secret_content(b["secretContent"])
        o["currentVersionNumber"] += 1
        ST.sched(o, "UPDATING", "ACTIVE")
    return 200, public(o)


scheduled(("vaultsecret", "secrets"), ("ACTIVE",))


@api("GET", r"/20190301/secretbundles/([^/]+)")
def get_bundle(q, b, rid, **_):
    o = ST.get(rid, "vaultsecret")
    if o["lifecycleState"] not in ("ACTIVE", "UPDATING"):
        raise nf(rid)
    return 200, {"secretId": rid, "versionNumber": o["currentVersionNumber"], "stages": ["CURRENT", "LATEST"],
                 "secretBundleContent": {"contentType": "BASE64", "content": o["_content"]}}


# ---- network load balancer ---------------------------------------------------------------------

def check_nlb_parts(nlb_vcn, listeners, bsets):
    for name, bs in bsets.items():
        need(bs, "healthChecker")
        if "name" in bs and bs["name"] != name:
            raise bad(f"Backend set key {name} differs from its name {bs.get('name')}")
        if bs.get("policy") not in ("FIVE_TUPLE", "THREE_TUPLE", "TWO_TUPLE"):
            raise bad(f"Invalid or missing policy {bs.get('policy')}", "InvalidParameter")
        if bs["healthChecker"].get("protocol") not in ("TCP", "HTTP", "HTTPS", "UDP", "DNS"):
            raise bad("Invalid health checker protocol")
        for be in bs.get("backends", []):
            check_backend(nlb_vcn, be, bs)
    for name, ls in listeners.items():
        need(ls, "defaultBackendSetName", "protocol")
        unknown = set(ls) - {"name", "defaultBackendSetName", "port", "protocol", "ipVersion", "isPpv2Enabled",
                             "tcpIdleTimeout", "udpIdleTimeout", "l3IpIdleTimeout"}
        if unknown:
            raise bad(f"Listener {name}: unknown field(s) {', '.join(sorted(unknown))}")
        if ls["defaultBackendSetName"] not in bsets:
            raise bad(f"Listener {name}: backend set {ls['defaultBackendSetName']} does not exist")
        if ls["protocol"] not in ("TCP", "UDP", "TCP_AND_UDP", "ANY") or not 0 <= ls.get("port", -1) <= 65535:
            raise bad(f"Listener {name}: invalid protocol or port")
        if ls.get("isPpv2Enabled") and ls["protocol"] not in ("TCP", "TCP_AND_UDP"):   # proxy protocol: TCP listeners
            raise bad(f"Listener {name}: PROXY protocol v2 needs a TCP-based listener")


def check_backend(vcn_id, be, bs):
    if not be.get("ipAddress") and not be.get("targetId"):
        raise bad("A backend needs ipAddress or targetId", "MissingParameter")
    if bs.get("isPreserveSource", True) and not be.get("targetId"):
        raise bad("With isPreserveSource the backend must be given by targetId (the instance OCID)")
    if be.get("targetId"):
        inst = ST.res.get(be["targetId"])
        if not inst or inst["_kind"] != "instance" or not live(inst):
            raise bad(f"Backend target {be['targetId']} is not a live instance")
        ip = ST.res[inst["_vnic"]]["privateIp"]
        if be.get("ipAddress") and be["ipAddress"] != ip:
            raise bad(f"Backend ipAddress {be['ipAddress']} is not the private IP of {be['targetId']} ({ip})")
    if be.get("ipAddress"):
        a = ipaddress.ip_address(be["ipAddress"])
        if not any(s["vcnId"] == vcn_id and live(s) and a in ipaddress.ip_network(s["cidrBlock"]) for s in ST.all("subnet")):
            raise bad(f"Backend {be['ipAddress']} is not in a subnet of the load balancer's VCN")
    if not 0 <= be.get("port", -1) <= 65535:
        raise bad("Invalid backend port")


def nlb_ready(o):
    if o["lifecycleState"] != "ACTIVE":
        raise conflict(f"Network load balancer {o['id']} is {o['lifecycleState']}", "IncorrectState")


def nlb_work(o, op):
    ST.sched(o, "UPDATING", "ACTIVE")
    return [("opc-work-request-id", work_request("nlb", o["id"], op, "nlb"))]


@api("POST", r"/20200501/networkLoadBalancers")
def create_nlb(q, b, **_):
    need(b, "compartmentId", "displayName", "subnetId")
    comp_ok(b["compartmentId"])
    sn = ST.get(b["subnetId"], "subnet")
    if b.get("isPrivate") is False and sn["prohibitPublicIpOnVnic"]:
        raise bad("A public network load balancer needs a public subnet")
    if b.get("isPreserveSourceDestination") and not b.get("isPrivate"):
        raise bad("isPreserveSourceDestination is only for private network load balancers")
    listeners, bsets = b.get("listeners") or {}, b.get("backendSets") or {}
    check_nlb_parts(sn["vcnId"], listeners, bsets)
    bsets = {k: dict(v, name=k) for k, v in bsets.items()}      # a BackendSet names itself
    ips = []
    for r in b.get("reservedIps") or []:
        pip = ST.get(r.get("id"), "publicip")
        if pip["lifecycleState"] != "AVAILABLE":
            raise conflict(f"Reserved public IP {pip['id']} is {pip['lifecycleState']}", "IncorrectState")
        ips.append(pip)
    if b.get("isPrivate") is False and not ips:
        ips = [None]
    o = ST.new("networkloadbalancer", dict(compartmentId=b["compartmentId"], displayName=b["displayName"],
                                           subnetId=sn["id"], vcnId=None, isPrivate=bool(b.get("isPrivate")),
                                           isPreserveSourceDestination=bool(b.get("isPreserveSourceDestination")),
                                           listeners=listeners, backendSets=bsets, ipAddresses=[], **tags(b)),
               ["CREATING", "ACTIVE"])
    o["_vcn"] = sn["vcnId"]
    for pip in ips:
        if pip:
            pip["lifecycleState"], pip["assignedEntityId"] = "ASSIGNED", o["id"]
            pip["assignedEntityType"] = "NETWORK_LOAD_BALANCER"
            o["ipAddresses"].append({"ipAddress": pip["ipAddress"], "isPublic": True, "ipVersion": "IPV4",
                                     "reservedIp": {"id": pip["id"]}})
        else:
            o["ipAddresses"].append({"ipAddress": next(ST.ip_pool), "isPublic": True, "ipVersion": "IPV4"})
    return 200, public(o), [("opc-work-request-id", work_request("nlb", o["id"], "CREATE_NETWORK_LOAD_BALANCER", "nlb"))]


@api("GET", r"/20200501/networkLoadBalancers")
def list_nlbs(q, b, **_):
    return listing("networkloadbalancer", q, ("compartmentId",), wrap=True)


@api("GET", r"/20200501/networkLoadBalancers/([^/]+)")
def get_nlb(q, b, rid, **_):
    return 200, public(ST.get(rid, "networkloadbalancer"))


@api("DELETE", r"/20200501/networkLoadBalancers/([^/]+)")
def del_nlb(q, b, rid, **_):
    o = ST.get(rid, "networkloadbalancer")
    if not live(o):
        raise nf(rid)

    def release():
        for ip in o["ipAddresses"]:
            pid = (ip.get("reservedIp") or {}).get("id")
            if pid:
                ST.res[pid]["lifecycleState"], ST.res[pid]["assignedEntityId"] = "AVAILABLE", None
    o["_on_DELETED"] = release
    ST.sched(o, "DELETING", "DELETED")
    return 204, b"", [("opc-work-request-id", work_request("nlb", rid, "DELETE_NETWORK_LOAD_BALANCER", "nlb"))]


@api("POST", r"/20200501/networkLoadBalancers/([^/]+)/backendSets")
def add_bs(q, b, rid, **_):
    o = ST.get(rid, "networkloadbalancer")
    nlb_ready(o)
    need(b, "name")
    if b["name"] in o["backendSets"]:
        raise conflict(f"Backend set {b['name']} already exists")
    check_nlb_parts(o["_vcn"], {}, {b["name"]: b})
    o["backendSets"][b["name"]] = b
    return 202, b"", nlb_work(o, "CREATE_BACKEND_SET")


@api("PUT", r"/20200501/networkLoadBalancers/([^/]+)/backendSets/([^/]+)")
def put_bs(q, b, rid, name, **_):
    o = ST.get(rid, "networkloadbalancer")
    nlb_ready(o)
    if name not in o["backendSets"]:
        raise nf(name)
    bs = dict(b, name=name)
    check_nlb_parts(o["_vcn"], {}, {name: bs})
    o["backendSets"][name] = bs
    return 202, b"", nlb_work(o, "UPDATE_BACKEND_SET")


@api("GET", r"/20200501/networkLoadBalancers/([^/]+)/backendSets/([^/]+)/health")
def bs_health(q, b, rid, name, **_):
    o = ST.get(rid, "networkloadbalancer")
    if name not in o["backendSets"]:
        raise nf(name)
    bad_ = []
    for be in o["backendSets"][name].get("backends", []):
        inst = ST.res.get(be.get("targetId"))
        if not inst or ST.tick(inst)["lifecycleState"] != "RUNNING":
            bad_.append(f"{be.get('ipAddress')}:{be.get('port')}")
    total = len(o["backendSets"][name].get("backends", []))
    status = "UNKNOWN" if not total else "OK" if not bad_ else "CRITICAL" if len(bad_) == total else "WARNING"
    return 200, {"status": status, "criticalStateBackendNames": bad_, "warningStateBackendNames": [],
                 "unknownStateBackendNames": [], "totalBackendCount": total}


@api("POST", r"/20200501/networkLoadBalancers/([^/]+)/listeners")
def add_listener(q, b, rid, **_):
    o = ST.get(rid, "networkloadbalancer")
    nlb_ready(o)
    need(b, "name")
    if b["name"] in o["listeners"]:
        raise conflict(f"Listener {b['name']} already exists")
    check_nlb_parts(o["_vcn"], {b["name"]: b}, o["backendSets"])
    o["listeners"][b["name"]] = b
    return 202, b"", nlb_work(o, "CREATE_LISTENER")


@api("PUT", r"/20200501/networkLoadBalancers/([^/]+)/listeners/([^/]+)")
def put_listener(q, b, rid, name, **_):
    o = ST.get(rid, "networkloadbalancer")
    nlb_ready(o)
    if name not in o["listeners"]:
        raise nf(name)
    ls = dict(b, name=name)
    check_nlb_parts(o["_vcn"], {name: ls}, o["backendSets"])
    o["listeners"][name] = ls
    return 202, b"", nlb_work(o, "UPDATE_LISTENER")


@api("DELETE", r"/20200501/networkLoadBalancers/([^/]+)/listeners/([^/]+)")
def del_listener(q, b, rid, name, **_):
    o = ST.get(rid, "networkloadbalancer")
    nlb_ready(o)
    if name not in o["listeners"]:
        raise nf(name)
    del o["listeners"][name]
    return 202, b"", nlb_work(o, "DELETE_LISTENER")


@api("GET", r"/20200501/workRequests/([^/]+)")
def get_nlb_wr(q, b, rid, **_):
    wr = ST.get(rid, "workrequest")
    return 200, public(wr)


@api("GET", r"/20200501/workRequests/([^/]+)/errors")
def nlb_wr_errors(q, b, rid, **_):
    ST.get(rid, "workrequest")
    return 200, {"items": []}


# ---- notifications -----------------------------------------------------------------------------

@api("POST", r"/20181201/topics")
def create_topic(q, b, **_):
    need(b, "name", "compartmentId")
    comp_ok(b["compartmentId"])
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", b["name"]):
        raise bad("Topic names use letters, digits, hyphens and underscores")
    if any(t["name"] == b["name"] and t["lifecycleState"] != "DELETING" for t in ST.all("onstopic")):
        raise conflict(f"A topic named {b['name']} already exists in the tenancy")
    o = ST.new("onstopic", dict(name=b["name"], compartmentId=b["compartmentId"], description=b.get("description"),
                                apiEndpoint="https://notification.us-phoenix-1.oci.oraclecloud.com", **tags(b)),
               ["CREATING", "ACTIVE"])
    o["topicId"] = o.pop("id")
    ST.res[o["topicId"]] = o
    return 200, public(o)


def topic(rid):
    return ST.get(rid, "onstopic")


@api("GET", r"/20181201/topics")
def list_topics(q, b, **_):
    return listing("onstopic", q, ("compartmentId",), name_key="name")


@api("GET", r"/20181201/topics/([^/]+)")
def get_topic(q, b, rid, **_):
    return 200, public(topic(rid))


@api("DELETE", r"/20181201/topics/([^/]+)")
def del_topic(q, b, rid, **_):
    o = topic(rid)
    o["_on_DELETED"] = lambda: ST.res.pop(rid, None)     # a deleted topic disappears (404)
    ST.sched(o, "DELETING", "DELETED")
    for s in ST.all("onssubscription"):
        if s["topicId"] == rid:
            ST.sched(s, "DELETED")
    return 204, b""


@api("POST", r"/20181201/topics/([^/]+)/messages")
def publish(q, b, rid, **_):
    t = topic(rid)
    if t["lifecycleState"] != "ACTIVE":
        raise conflict(f"Topic {rid} is {t['lifecycleState']}", "IncorrectState")
    need(b, "body")
    ST.messages.append({"topicId": rid, "title": b.get("title"), "body": b["body"]})
    return 202, {"messageId": uuid.uuid4().hex, "timeStamp": iso(ST.now())}


@api("POST", r"/20181201/subscriptions")
def create_sub(q, b, **_):
    need(b, "topicId", "compartmentId", "protocol", "endpoint")
    t = topic(b["topicId"])
    if t["lifecycleState"] != "ACTIVE":
        raise conflict(f"Topic {t['topicId']} is {t['lifecycleState']}", "IncorrectState")
    if b["protocol"] not in ("EMAIL", "HTTPS", "PAGERDUTY", "SLACK", "ORACLE_FUNCTIONS", "SMS"):
        raise bad(f"Invalid protocol {b['protocol']}")
    if b["protocol"] == "EMAIL" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", b["endpoint"]):
        raise bad(f"Invalid email address {b['endpoint']}")
    o = ST.new("onssubscription", dict(topicId=t["topicId"], compartmentId=b["compartmentId"], protocol=b["protocol"],
                                       endpoint=b["endpoint"], **tags(b)), ["PENDING"])
    return 200, public(o)


@api("GET", r"/20181201/subscriptions")
def list_subs(q, b, **_):
    return listing("onssubscription", q, ("compartmentId", "topicId"))


@api("GET", r"/20181201/subscriptions/([^/]+)")
def get_sub(q, b, rid, **_):
    return 200, public(ST.get(rid, "onssubscription"))


@api("DELETE", r"/20181201/subscriptions/([^/]+)")
def del_sub(q, b, rid, **_):
    o = ST.get(rid, "onssubscription")
    if o["lifecycleState"] == "DELETED":
        raise nf(rid)
    return deleted(o, "DELETED")


# ---- monitoring --------------------------------------------------------------------------------

# Monitoring Query Language as far as these tools use it (docs.oracle.com .../Monitoring/Reference/mql.htm):
# Metric[interval]{dim = "value", ...}.grouping().statistic() and, for alarms, a trailing condition.
MQL = re.compile(r'^(?P<metric>[A-Za-z][A-Za-z0-9_]*)\[(?P<interval>\d+[mhd])\]'
                 r'(?:\{(?P<dims>[^}]*)\})?(?P<grouping>\.grouping\(\))?'
                 r'\.(?P<stat>absent|count|first|increment|last|max|mean|min|rate|sum|percentile)\((?P<arg>[0-9.]*)\)'
                 r'(?P<cond> *(?:[<>]=?|==|!=) *[0-9.eE+]+)?$')
# oci_vcn "VNIC Metrics" (docs.oracle.com .../Network/Reference/vnicmetrics.htm): names and the one dimension.
VCN_METRICS = {"VnicConntrackIsFull", "VnicConntrackUtilPercent", "VnicEgressDropsConntrackFull",
               "VnicEgressDropsSecurityList", "VnicEgressDropsThrottle", "VnicFromNetworkBytes",
               "VnicFromNetworkPackets", "VnicIngressDropsConntrackFull", "VnicIngressDropsSecurityList",
               "VnicIngressDropsThrottle", "VnicToNetworkBytes", "VnicToNetworkPackets"}
VCN_DIMENSIONS = {"resourceId"}
SUMMARIZE_FIELDS = {"namespace", "resourceGroup", "query", "startTime", "endTime", "resolution"}


def mql_duration(text, what):
    """1m-60m, 1h-24h or 1d (MQL interval; resolution takes the same values), in seconds."""
    m = re.fullmatch(r"(\d+)([mhd])", text or "")
    n = int(m.group(1)) if m else 0
    ok = m and ((m.group(2) == "m" and 1 <= n <= 60) or (m.group(2) == "h" and 1 <= n <= 24)
                or (m.group(2) == "d" and n == 1))
    if not ok:
        raise bad(f"Invalid {what} {text!r}: use 1m-60m, 1h-24h or 1d")
    return n * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]


def mql_parse(query, alarm=False):
    m = MQL.match(query or "")
    if not m:
        raise bad(f"Invalid query: {query}")
    if bool(m.group("cond")) != alarm and alarm:
        raise bad(f"An alarm query needs a condition: {query}")
    if m.group("cond") and not alarm:
        raise bad(f"A metric query takes no condition: {query}")
    if (m.group("stat") == "percentile") != bool(m.group("arg")):
        raise bad(f"Invalid statistic in query: {query}")
    dims = {}
    for part in filter(None, (x.strip() for x in (m.group("dims") or "").split(","))):
        d = re.fullmatch(r'([A-Za-z][A-Za-z0-9_.]*) *= *"([^"]*)"', part)
        if not d:
            raise bad(f"Invalid dimension filter {part!r} in query: {query}")
        dims[d.group(1)] = d.group(2)
    return m.group("metric"), mql_duration(m.group("interval"), "interval"), dims, m.group("stat")


def iso_parse(t, what):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", t or "")
    if not m:
        raise bad(f"Invalid {what} {t!r} (RFC 3339, UTC)")
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def check_alarm(b):
    mql_parse(b.get("query", ""), alarm=True)
    if b.get("resolution", "1m") != "1m":     # "The only valid value of the resolution for an alarm query request is 1m"
        raise bad(f"Invalid resolution {b.get('resolution')} for an alarm: only 1m")
    if not re.fullmatch(r"oci_[a-z_]+", b.get("namespace", "oci_x")):
        raise bad(f"Invalid namespace {b.get('namespace')}")
    if b.get("severity", "CRITICAL") not in ("CRITICAL", "ERROR", "WARNING", "INFO"):
        raise bad(f"Invalid severity {b.get('severity')}")
    for d in b.get("destinations", []):
        t = ST.res.get(d)
        if not t or t["_kind"] != "onstopic" or t["lifecycleState"] != "ACTIVE":
            raise bad(f"Destination {d} is not an active topic")


@api("POST", r"/20180401/alarms")
def create_alarm(q, b, **_):
    need(b, "displayName", "compartmentId", "metricCompartmentId", "namespace", "query", "severity", "destinations",
         "isEnabled")
    comp_ok(b["compartmentId"])
    check_alarm(b)
    fields = {k: b.get(k) for k in ("displayName", "compartmentId", "metricCompartmentId", "namespace", "query",
                                    "severity", "destinations", "isEnabled", "body", "pendingDuration",
                                    "repeatNotificationDuration", "resolution")}
    return 200, public(ST.new("alarm", dict(fields, **tags(b)), ["ACTIVE"]))


crud("alarm", r"/20180401/alarms", None, del_states=("DELETED",), filters=("compartmentId",),
     updatable=("query", "destinations", "body", "isEnabled", "displayName", "severity", "freeformTags"))


@api("POST", r"/20180401/metrics/actions/summarizeMetricsData")
def summarize(q, b, **_):
    """As OCI: malformed MQL, intervals and resolutions are 400 InvalidParameter; a metric, namespace or
    dimension that matches no data is 200 with no series (OCI does not know which names exist); the
    data returned reaches back at most 7 days at 1m resolution, 30 days at <1h, 90 days otherwise."""
    need(q, "compartmentId")
    comp_ok(q["compartmentId"])
    unknown = set(b) - SUMMARIZE_FIELDS
    if unknown:
        raise bad(f"Unknown field(s) in SummarizeMetricsDataDetails: {', '.join(sorted(unknown))}")
    need(b, "namespace", "query")
    metric, interval, dims, stat = mql_parse(b["query"])
    res = mql_duration(b["resolution"], "resolution") if b.get("resolution") is not None else interval
    now = time.time()
    end = iso_parse(b["endTime"], "endTime") if b.get("endTime") else now
    start = iso_parse(b["startTime"], "startTime") if b.get("startTime") else end - 3 * 3600
    if start >= end:
        raise bad("startTime must be before endTime")
    reach = 7 * 86400 if res < 300 else 30 * 86400 if res < 3600 else 90 * 86400
    start = max(start, now - reach)
    if ST.metrics_outage == "empty":
        return 200, []
    if ST.metrics_outage:
        raise ApiError(int(ST.metrics_outage), "InternalServerError", "Internal Server Error")
    if b["namespace"] != "oci_vcn" or metric not in VCN_METRICS or set(dims) - VCN_DIMENSIONS:
        return 200, []
    vnics = sorted((v for v in ST.res.values() if v["_kind"] == "vnic" and v["compartmentId"] == q["compartmentId"]),
                   key=lambda v: v["timeCreated"])
    vnics = [v for v in vnics if not dims.get("resourceId") or v["id"] == dims["resourceId"]]
    if not vnics:
        return 200, []
    # ST.egress bytes sent since the month began, evenly, by the oldest VNIC; the others send nothing
    month0 = calendar.timegm(time.gmtime(now)[:2] + (1, 0, 0, 0))
    rate = ST.egress / max(now - month0, 1) if metric == "VnicToNetworkBytes" else 0.0
    out = []
    for i, v in enumerate(vnics):
        born = iso_parse(v["timeCreated"], "timeCreated") if i else month0
        pts, t = [], start
        while t < end:
            w0, w1 = max(t, born, month0), min(t + interval, now)
            value = rate * max(w1 - w0, 0) if i == 0 else 0.0
            if t + interval > born:
                pts.append({"timestamp": iso(t + interval), "value": value if stat in ("sum", "increment") else
                            (value / max(interval / 60, 1) if stat == "mean" else value)})
            t += res
        out.append({"namespace": "oci_vcn", "name": metric, "compartmentId": q["compartmentId"],
                    "dimensions": {"resourceId": v["id"]}, "metadata": {"unit": "bytes" if "Bytes" in metric else "count"},
                    "resolution": b.get("resolution") or f"{interval // 60}m", "aggregatedDatapoints": pts})
    return 200, out


def main():
    global ST, SCHEME
    ap = argparse.ArgumentParser()
    ap.add_argument("--api-key-pub", required=True, help="the operator's registered API public key (PEM)")
    ap.add_argument("--tenancy", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--compartment", required=True)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds between lifecycle states")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--free-tier", action="store_true", help="an Always Free account: no NAT or service gateways")
    ap.add_argument("--tls-dir", help="serve HTTPS with a CA and certificate minted here (ca_file in the ready line)")
    a = ap.parse_args()
    ST = State(a)
    ready = {"fingerprint": ST.fingerprint, "namespace": NAMESPACE}
    tls = None
    if a.tls_dir:
        os.makedirs(a.tls_dir, exist_ok=True)
        m = fc.Minter(a.tls_dir)
        ca_key, ca_pem = m.ca("oci-ca", "/CN=fake OCI root CA")
        key, pem = m.issue("oci-api", "/CN=127.0.0.1", ca_key, ca_pem, san="IP:127.0.0.1,DNS:localhost")
        tls = httpfake.tls_context(pem, key)
        SCHEME = "https"
        ready["ca_file"] = ca_pem
    srv = httpfake.Server(("127.0.0.1", a.port), Handler, tls=tls, name="fake-oci")
    ready["url"] = srv.url
    httpfake.ready(ready)
    srv.serve_forever()


if __name__ == "__main__":
    main()
