#!/usr/bin/env python3
"""Faithful local fakes of the cloud services sealed-login talks to (Python 3 stdlib + the openssl
command to mint keys once). Two listeners on loopback:

  metadata (plain HTTP, stands for 169.254.169.254):
    OCI  /opc/v2/instance/[field/...]   needs "Authorization: Bearer Oracle"
         /opc/v2/identity/cert.pem, key.pem, intermediate.pem   (instance identity, own CA)
    GCP  /computeMetadata/v1/...        needs "Metadata-Flavor: Google", answers with it
         instance/attributes/?recursive=true, project/project-id, instance/service-accounts/default/token
    control /__fake/config (POST JSON: faults), /__fake/state (GET: what the fakes saw)
  api (HTTPS with its own test CA, stands for *.oraclecloud.com and secretmanager.googleapis.com):
    POST /v1/x509                                   OCI auth: X.509 federation -> {"token": JWT}
    GET  /20190301/secretbundles/{secretId}         OCI Vault secrets: GetSecretBundle
    POST /20181201/topics/{topicId}/messages        OCI Notifications: PublishMessage
    POST /20180401/metrics/actions/summarizeMetricsData   OCI Monitoring (MQL and oci_vcn names as
                                                    tests/fakes/fake_oci_control.py checks them)
    POST /20160918/instances/{id}?action=...        OCI Compute InstanceAction (only this instance)
    GET  /v1/projects/{p}/secrets/{s}/versions/{v}:access   GCP Secret Manager
    GET  /v3/projects/{p}/timeSeries                GCP Cloud Monitoring timeSeries.list (filter, interval and
                                                    aggregation checked by fake_gcp_control.timeseries_query)
    POST /compute/v1/projects/{p}/zones/{z}/instances/{n}/stop   GCP Compute (only this instance)
    POST /v1/projects/{p}/topics/{t}:publish        GCP Pub/Sub (topics given with --topics)

What they verify, as the real services do: OCI signature v1 (rsa-sha256 over the listed headers,
required header sets per method, x-content-sha256 and content-length against the body, date within
5 minutes of the service clock); federation: the certificate chains to this fake's own CA through
the intermediate, keyId is "<opc-tenant>/fed-x509-sha256/<sha256 fingerprint>", request signed by
the leaf key; Vault/Notifications: keyId "ST$<token>", token signed by this fake's auth service and
not expired, request signed by the session key bound in the token's jwk claim; GCP: the metadata
flavor header, the bearer token handed out by the metadata server and not expired, the token's
scopes (403 ACCESS_TOKEN_SCOPE_INSUFFICIENT) and the service account's permissions (gcp_denied: 403
PERMISSION_DENIED as IAM answers), instances.stop only on this instance.

Faults (POST /__fake/config): skew_s (service clock offset: requests get OCI's 401 clock-skew
error), fail5xx (next N API calls answer 500), metadata_fail (next N metadata calls answer 500),
slow_s (API answers delayed), secret404 (every secret is missing), deny (policy denies: 404 like
OCI's NotAuthorizedOrNotFound / GCP 403), token_ttl_s, bad_crc (GCP dataCrc32c wrong), revoke
(every OCI token issued so far is refused with 401 from now on), egress_bytes (this month's
VnicToNetworkBytes of the instance's VNIC / sent_bytes_count of the GCE instance), metrics_outage (null,
"empty": no series, or a status), gcp_scopes (the scopes of tokens issued from now on), gcp_denied
(permissions the VM's service account lacks, e.g. ["compute.instances.stop"]).

Run: fake_cloud.py --platform oci|gcp [--metadata JSON] [--secrets JSON]; prints one JSON line
{"metadata": url, "api": url, "ca_file": path, ...} when ready. Test code only."""
import argparse
import base64
import hashlib
import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from email.utils import formatdate

import fakecrypto as fc
import httpfake
from fake_object_store import ObjectStore

TENANCY = "ocid1.tenancy.oc1..aaaaaaaafaketenancyfaketenancyfaketenancyfaketenancy"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaafakecompartmentfakecompartmentfakecomp"
INSTANCE = "ocid1.instance.oc1.phx.anyhqljrfakeinstancefakeinstancefakeinstancefakeins"
MAX_BODY = 1024 * 1024            # request-body cap: the service sends small JSON bodies
OBJECT_MAX_BODY = 256 << 20       # object uploads (the sealed state, up to STATE_REMOTE_MAX_BYTES): a
                                  # single PutObject / XML API PUT takes far more; the fake holds it in RAM
VNIC = "ocid1.vnic.oc1.phx.abyhqljrfakevnicfakevnicfakevnicfakevnicfakevnicfakevnic"
GCE_ID, GCE_ZONE, GCE_NAME = "4567890123456789012", "us-central1-a", "sealed-login"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def fmt_iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
SKEW_LIMIT_S = 300


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.platform = args.platform
        self.metadata = json.loads(args.metadata) if args.metadata else {}
        self.secrets = json.loads(args.secrets) if args.secrets else {}   # id -> plaintext
        self.topics = set(json.loads(args.topics)) if args.topics else set()
        self.faults = {"skew_s": 0, "fail5xx": 0, "metadata_fail": 0, "slow_s": 0.0, "secret404": False,
                       "deny": False, "token_ttl_s": 1200, "bad_crc": False, "revoke": False,
                       "egress_bytes": 0, "metrics_outage": None, "gcp_scopes": [CLOUD_PLATFORM],
                       "gcp_denied": []}
        self.actions = []      # instance actions asked for
        self.issued = set()       # jti of every token handed out
        self.revoked = set()      # jti refused from now on
        self.log = []          # (service, method, path, status, note)
        self.messages = []     # published notifications
        self.gcp_tokens = {}   # token -> expiry
        self.gcp_scopes = {}   # token -> its scopes
        self.store = ObjectStore()   # OCI Object Storage /n/... and GCS /gcs/... (tests/fakes/fake_object_store.py)
        self.project_id = "sealed-test-project"
        self.project_number = "123456789012"
        m = fc.Minter(args.dir)
        self.minter = m
        # OCI identity: root CA -> intermediate CA -> instance leaf; auth service token key
        self.root_key, self.root_pem = m.ca("oci-root", "/CN=Fake OCI Identity Root/O=fake-oci")
        self.int_key, self.int_pem = m.issue("oci-intermediate", "/CN=Fake OCI PKISVC Intermediate/O=fake-oci",
                                             self.root_key, self.root_pem, ca_flag=True, days=365)
        self.root = fc.Cert(fc.pem_to_der(open(self.root_pem).read()))
        self.leaf_key, self.leaf_pem = self.issue_leaf()
        tk = fc.rsa_private(fc.pem_to_der(open(m.key("auth-token")).read()))
        self.token_n, self.token_e, self.token_d = tk
        # TLS for the api listener
        self.tls_ca_key, self.tls_ca_pem = m.ca("tls-ca", "/CN=Fake Cloud TLS CA")
        self.tls_key, self.tls_pem = m.issue("tls-server", "/CN=localhost", self.tls_ca_key, self.tls_ca_pem,
                                             days=30, san="IP:127.0.0.1,DNS:localhost")

    def issue_leaf(self, tenancy=TENANCY):
        """The instance certificate, as OCI's PKI service issues it (subject OUs longer than 64
        characters, so written with fakecrypto's DER writer and signed by the intermediate)."""
        k = self.minter.key("oci-instance")
        spki = fc.openssl("pkey", "-in", k, "-pubout", "-outform", "DER")
        inter = fc.Cert(fc.pem_to_der(open(self.int_pem).read()))
        n, _, d = fc.rsa_private(fc.pem_to_der(open(self.int_key).read()))
        now = int(time.time())
        ou = "2.5.4.11"
        der = fc.issue_cert_der([("2.5.4.3", INSTANCE), (ou, "opc-certtype:instance"),
                                 (ou, f"opc-compartment:{COMPARTMENT}"), (ou, f"opc-instance:{INSTANCE}"),
                                 (ou, f"opc-tenant:{tenancy}")],
                                spki, inter, n, d, now - 600, now + 86400, int.from_bytes(os.urandom(8), "big"))
        p = self.minter.path("oci-instance.pem")
        with open(p, "w") as f:
            f.write(fc.der_to_pem(der, "CERTIFICATE"))
        return k, p

    def now(self):
        return time.time() + self.faults["skew_s"]

    def record(self, *entry):
        with self.lock:
            self.log.append(entry)


ST = None


def instance_doc():
    md = {"ssh_authorized_keys": "ssh-ed25519 AAAAfake user@example"}
    md.update(ST.metadata)
    return {
        "agentConfig": {"allPluginsDisabled": False, "managementDisabled": False, "monitoringDisabled": False},
        "availabilityDomain": "Uocm:PHX-AD-1",
        "canonicalRegionName": "us-phoenix-1",
        "compartmentId": COMPARTMENT,
        "definedTags": {},
        "displayName": "sealed-login",
        "faultDomain": "FAULT-DOMAIN-2",
        "freeformTags": {},
        "hostname": "sealed-login",
        "id": INSTANCE,
        "image": "ocid1.image.oc1.phx.aaaaaaaafakeimage",
        "metadata": md,
        "ociAdName": "phx-ad-1",
        "region": "phx",
        "regionInfo": {"realmDomainComponent": "oraclecloud.com", "realmKey": "oc1",
                       "regionIdentifier": "us-phoenix-1", "regionKey": "PHX"},
        "shape": "VM.Standard.E4.Flex",
        "state": "Running",
        "tenantId": TENANCY,
        "timeCreated": 1763700000000,
    }


class Handler(httpfake.Handler):
    server_version = "fake-cloud"
    methods = ("GET", "POST", "HEAD", "PUT")
    max_body = MAX_BODY

    def date_time_string(self, timestamp=None):
        return formatdate(ST.now(), usegmt=True)

    def reply(self, status, body, ctype="application/json", headers=()):
        self.send(status, body, ctype, headers)

    def dispatch(self):
        self.route(self.command)


# ---- metadata listener -----------------------------------------------------------------------

class MetadataHandler(Handler):
    def route(self, method):
        body = self.read_body()
        if body is None:
            return self.reply(411, "Length Required", "text/plain")
        path = self.path
        found = MD_ROUTES.find(method, path)
        if found and found[2] == "control":
            return self.control(method, path, body)
        with ST.lock:
            fail = ST.faults["metadata_fail"] > 0
            if fail:
                ST.faults["metadata_fail"] -= 1
        if fail:
            ST.record("metadata", method, path, 500, "fault")
            return self.reply(500, "Internal Server Error", "text/plain")
        if found:
            return found[0](self, method, path)
        ST.record("metadata", method, path, 404, "")
        self.reply(404, "Not Found", "text/plain")

    def control(self, method, path, body):
        if path == "/__fake/config" and method == "POST":
            with ST.lock:
                for k, v in json.loads(body or b"{}").items():
                    if k == "revoke" and v:
                        ST.revoked |= ST.issued
                    if k in ST.faults:
                        ST.faults[k] = v
                    elif k == "metadata":
                        ST.metadata = v
                    elif k == "secrets":
                        ST.secrets = v
            return self.reply(200, {"ok": True})
        if path == "/__fake/objects" and method == "GET":
            return self.reply(200, ST.store.listing())
        if path == "/__fake/objects" and method == "POST":
            req = json.loads(body)
            b, _, n = req["name"].partition("/")
            if req.get("delete"):
                ST.store.delete_raw(b, n)
            else:
                ST.store.put_raw(b, n, base64.b64decode(req["data_b64"]))
            return self.reply(200, {"ok": True})
        if path == "/__fake/store" and method == "POST":
            ST.store.config(**json.loads(body or b"{}"))
            return self.reply(200, {"ok": True})
        if path == "/__fake/state":
            with ST.lock:
                return self.reply(200, {"log": ST.log, "messages": ST.messages, "faults": ST.faults,
                                        "actions": ST.actions})
        self.reply(404, {"error": "no such control"})

    def oci(self, method, path):
        if ST.platform != "oci" or not path.startswith("/opc/v2/"):
            ST.record("metadata", method, path, 404, "")
            return self.reply(404, "Not Found", "text/plain")
        if self.headers.get("Authorization") != "Bearer Oracle":
            ST.record("metadata", method, path, 401, "no bearer")
            return self.reply(401, "Unauthorized", "text/plain")
        rest = path[len("/opc/v2/"):]
        ident = {"identity/cert.pem": ST.leaf_pem, "identity/key.pem": ST.leaf_key,
                 "identity/intermediate.pem": ST.int_pem}
        if rest in ident:
            ST.record("metadata", method, path, 200, "")
            return self.reply(200, open(ident[rest]).read(), "text/plain")
        if rest == "instance" or rest.startswith("instance/"):
            node = instance_doc()
            for part in [p for p in rest.split("/")[1:] if p]:
                if isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    ST.record("metadata", method, path, 404, "")
                    return self.reply(404, "Not Found", "text/plain")
            ST.record("metadata", method, path, 200, "")
            if isinstance(node, (dict, list)):
                return self.reply(200, node)
            return self.reply(200, str(node), "text/plain")
        ST.record("metadata", method, path, 404, "")
        self.reply(404, "Not Found", "text/plain")

    def gcp(self, method, path):
        if ST.platform != "gcp":
            ST.record("metadata", method, path, 404, "")
            return self.reply(404, "Not Found", "text/plain")
        flavor = [("Metadata-Flavor", "Google")]
        if self.headers.get("Metadata-Flavor") != "Google" or self.headers.get("X-Forwarded-For"):
            ST.record("metadata", method, path, 403, "no flavor")
            return self.reply(403, "Missing required header: Metadata-Flavor\n", "text/html", flavor)
        rest, _, query = path[len("/computeMetadata/v1/"):].partition("?")
        attrs = dict(ST.metadata)
        if rest == "":
            ST.record("metadata", method, path, 200, "")
            return self.reply(200, "instance/\nproject/\n", "application/text", flavor)
        if rest == "instance/attributes/" and "recursive=true" in query:
            ST.record("metadata", method, path, 200, "")
            return self.reply(200, attrs, "application/json", flavor)
        if rest.startswith("instance/attributes/") and rest[20:] in attrs:
            ST.record("metadata", method, path, 200, "")
            return self.reply(200, attrs[rest[20:]], "application/text", flavor)
        if rest == "project/project-id":
            ST.record("metadata", method, path, 200, "")
            return self.reply(200, ST.project_id, "application/text", flavor)
        if rest in ("instance/zone", "instance/id", "instance/name"):
            ST.record("metadata", method, path, 200, "")
            v = {"instance/zone": f"projects/{ST.project_number}/zones/{GCE_ZONE}", "instance/id": GCE_ID,
                 "instance/name": GCE_NAME}[rest]
            return self.reply(200, v, "application/text", flavor)
        if rest == "instance/service-accounts/default/token":
            tok = "ya29.fake-" + uuid.uuid4().hex
            ttl = int(ST.faults["token_ttl_s"])
            with ST.lock:
                ST.gcp_tokens[tok] = time.time() + ttl
                ST.gcp_scopes[tok] = list(ST.faults["gcp_scopes"])
            ST.record("metadata", method, path, 200, "token")
            return self.reply(200, {"access_token": tok, "expires_in": ttl, "token_type": "Bearer"},
                              "application/json", flavor)
        ST.record("metadata", method, path, 404, "")
        self.reply(404, "Not Found", "text/html", flavor)


# ---- api listener ----------------------------------------------------------------------------

def oci_error(status, code, message):
    return status, {"code": code, "message": message}


def parse_signature(auth):
    if not auth or not auth.startswith("Signature "):
        return None
    return dict(re.findall(r'(\w+)="([^"]*)"', auth[len("Signature "):]))


def fmt_oci_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(t))


class ApiHandler(Handler):
    def route(self, method):
        obj = self.path.startswith("/n/") or self.path.startswith("/gcs/")
        body = self.read_body(OBJECT_MAX_BODY if obj and method == "PUT" else None)
        if body is None:
            return self.reply(411, {"code": "LengthRequired", "message": "A valid Content-Length is required"})
        path = self.path
        found = API_ROUTES.find(method, path)
        with ST.lock:
            slow = float(ST.faults["slow_s"])
            fail = ST.faults["fail5xx"] > 0
            if fail:
                ST.faults["fail5xx"] -= 1
        if slow:
            time.sleep(slow)
        if path.startswith("/n/") or path.startswith("/gcs/"):
            return self.object_store(method, path, body)
        svc = found[2] if found else "unknown"
        if fail:
            ST.record(svc, method, path, 500, "fault")
            if svc in ("secretmanager", "pubsub") or svc.startswith("gcp-"):
                return self.reply(500, {"error": {"code": 500, "message": "Internal error encountered.",
                                                  "status": "INTERNAL"}})
            return self.reply(500, {"code": "InternalServerError", "message": "Internal Server Error"},
                              headers=[("opc-request-id", uuid.uuid4().hex.upper())])
        if not found:
            status, out = oci_error(404, "NotFound", "Not Found")
        else:
            status, out = found[0](self, method, path, body)
        ST.record(svc, method, path, status, out.get("code", "") if isinstance(out, dict) else "")
        self.reply(status, out, headers=[("opc-request-id", uuid.uuid4().hex.upper())])

    def object_store(self, method, path, body):
        """The sealed state's bucket: authenticated here as the real services do, then the store."""
        api = "oci" if path.startswith("/n/") else "gcs"
        if api == "oci":
            # Object Storage requires date (request-target) host; signed body headers are checked
            _, err = self.check_signature(method, body, ["date", "(request-target)", "host"], self.session_key_for)
            if err:
                ST.record("objectstorage", method, path, err[0], err[1].get("code", ""))
                return self.reply(err[0], err[1], headers=[("opc-request-id", uuid.uuid4().hex.upper())])
        else:
            auth = self.headers.get("Authorization", "")
            tok = auth[7:] if auth.startswith("Bearer ") else ""
            with ST.lock:
                exp = ST.gcp_tokens.get(tok)
            if not exp or exp < time.time():
                ST.record("storage", method, path, 401, "AuthenticationRequired")
                return self.reply(401, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthenticationRequired"
                                  "</Code><Message>Authentication required.</Message></Error>", "application/xml")
        status, hdrs, out = ST.store.handle(api, method, path, self.headers, body)
        ST.record("objectstorage" if api == "oci" else "storage", method, path, status, "")
        ctype = dict((k.lower(), v) for k, v in hdrs).get("content-type", "application/octet-stream")
        self.reply(status, out, ctype, [(k, v) for k, v in hdrs if k.lower() != "content-type"])

    # OCI signature v1 as the services check it; returns (params, error or None)
    def check_signature(self, method, body, required, key_for):
        p = parse_signature(self.headers.get("Authorization"))
        if not p or p.get("algorithm") != "rsa-sha256" or p.get("version", "1") != "1" or "signature" not in p:
            return None, oci_error(401, "NotAuthenticated", "The required information to complete authentication was not provided.")
        names = p.get("headers", "date").split()
        for r in required:
            if r not in names:
                return None, oci_error(401, "NotAuthenticated", f"Missing required header to sign: {r}")
        date = self.headers.get("date") or self.headers.get("x-date")
        try:
            from email.utils import parsedate_to_datetime
            t = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return None, oci_error(401, "NotAuthenticated", "Invalid date header")
        now = ST.now()
        if abs(t - now) > SKEW_LIMIT_S:
            return None, oci_error(401, "NotAuthenticated",
                                   f"Date '{fmt_oci_date(t)}' is not within allowed clock skew. Current "
                                   f"'{fmt_oci_date(now)}', valid datetime range: ['{fmt_oci_date(now - SKEW_LIMIT_S)}', "
                                   f"'{fmt_oci_date(now + SKEW_LIMIT_S)}']")
        if "x-content-sha256" in names:
            if self.headers.get("x-content-sha256") != base64.b64encode(hashlib.sha256(body).digest()).decode():
                return None, oci_error(400, "InvalidParameter", "x-content-sha256 does not match the body")
            if self.headers.get("content-length") != str(len(body)):
                return None, oci_error(400, "InvalidParameter", "content-length does not match the body")
        signing, missing = fc.oci_signing_string(self.headers, names, method, self.path)
        if missing:
            return None, oci_error(401, "NotAuthenticated", f"Signed header {missing} is missing")
        key, err = key_for(p.get("keyId", ""))
        if err:
            return None, err
        try:
            sig = base64.b64decode(p["signature"], validate=True)
        except ValueError:
            sig = b""
        if not fc.rsa_verify(key[0], key[1], signing, sig):
            return None, oci_error(401, "NotAuthenticated", "The required information to complete authentication was not provided or was incorrect.")
        return p, None

    def federation(self, method, path, body):
        if method != "POST" or path != "/v1/x509":
            return oci_error(404, "NotFound", "Not Found")
        try:
            req = json.loads(body)
            leaf = fc.Cert(base64.b64decode(req["certificate"], validate=True))
            inters = [fc.Cert(base64.b64decode(c, validate=True)) for c in req.get("intermediateCertificates", [])]
            session_n, session_e = fc.spki_rsa(base64.b64decode(req["publicKey"], validate=True))
        except (ValueError, KeyError, TypeError, IndexError):
            return oci_error(400, "InvalidParameter", "Malformed X509 federation request")
        if req.get("fingerprintAlgorithm") != "SHA256":
            return oci_error(400, "InvalidParameter", "fingerprintAlgorithm must be SHA256")
        if session_n.bit_length() < 2048:
            return oci_error(400, "InvalidParameter", "session key too small")
        now = ST.now()
        chain_ok = any(i.is_ca and i.signed_by(ST.root) and leaf.signed_by(i) and
                       i.not_before <= now <= i.not_after for i in inters)
        if not chain_ok or not (leaf.not_before <= now <= leaf.not_after):
            return oci_error(401, "NotAuthenticated", "Certificate does not chain to a trusted root")
        tenancy = next((v.split(":", 1)[1] for v in leaf.ou_values()
                        if v.startswith("opc-tenant:") or v.startswith("opc-identity:")), None)
        instance = next((v.split(":", 1)[1] for v in leaf.ou_values() if v.startswith("opc-instance:")), None)

        def key_for(key_id):
            want = f"{tenancy}/fed-x509-sha256/{leaf.sha256_fingerprint()}"
            if key_id != want:
                return None, oci_error(401, "NotAuthenticated", "keyId does not match the certificate")
            return (leaf.n, leaf.e), None

        _, err = self.check_signature("POST", body, ["date", "(request-target)", "content-length", "content-type",
                                                     "x-content-sha256"], key_for)
        if err:
            return err
        ttl = int(ST.faults["token_ttl_s"])
        jwk = {"kid": "sealed-session", "n": fc.b64u(session_n.to_bytes((session_n.bit_length() + 7) // 8, "big")),
               "e": fc.b64u(session_e.to_bytes((session_e.bit_length() + 7) // 8, "big")),
               "kty": "RSA", "alg": "RS256", "use": "sig"}
        claims = {"sub": instance, "opc-certtype": "instance", "iss": "authService.oracle.com", "ptype": "instance",
                  "sess_exp": fmt_oci_date(now + 86400), "aud": "oci", "pstype": "natv", "ttype": "x509",
                  "exp": int(now) + ttl, "opc-instance": instance, "iat": int(now), "jti": str(uuid.uuid4()),
                  "tenant": tenancy, "jwk": json.dumps(jwk, separators=(",", ":")), "opc-tenant": tenancy,
                  "opc-compartment": COMPARTMENT}
        with ST.lock:
            ST.issued.add(claims["jti"])
        return 200, {"token": fc.jwt_sign(ST.token_n, ST.token_d, claims)}

    def session_key_for(self, key_id):
        if not key_id.startswith("ST$"):
            return None, oci_error(401, "NotAuthenticated", "The required information to complete authentication was not provided or was incorrect.")
        claims = fc.jwt_verify(ST.token_n, ST.token_e, key_id[3:])
        if not claims:
            return None, oci_error(401, "NotAuthenticated", "Invalid security token")
        if claims.get("exp", 0) < ST.now():
            return None, oci_error(401, "NotAuthenticated", "Security token has expired")
        if claims.get("jti") in ST.revoked:
            return None, oci_error(401, "NotAuthenticated", "The required information to complete authentication was not provided or was incorrect.")
        jwk = json.loads(claims["jwk"])
        return (int.from_bytes(fc.b64u_dec(jwk["n"]), "big"), int.from_bytes(fc.b64u_dec(jwk["e"]), "big")), None

    def vault(self, method, path, body):
        m = re.fullmatch(r"/20190301/secretbundles/([A-Za-z0-9._\-]+)(\?.*)?", path)
        if method != "GET" or not m:
            return oci_error(404, "NotFound", "Not Found")
        _, err = self.check_signature(method, body, ["date", "(request-target)", "host"], self.session_key_for)
        if err:
            return err
        sid = m.group(1)
        if ST.faults["deny"] or ST.faults["secret404"] or sid not in ST.secrets:
            return oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        content = base64.b64encode(ST.secrets[sid].encode()).decode()
        return 200, {"secretId": sid, "versionNumber": 1, "versionName": None, "stages": ["CURRENT", "LATEST"],
                     "timeCreated": "2026-11-01T00:00:00.000Z", "timeOfDeletion": None, "timeOfExpiry": None,
                     "metadata": None, "secretBundleContent": {"contentType": "BASE64", "content": content}}

    def notify(self, method, path, body):
        m = re.fullmatch(r"/20181201/topics/([A-Za-z0-9._\-]+)/messages", path)
        if method != "POST" or not m:
            return oci_error(404, "NotFound", "Not Found")
        _, err = self.check_signature(method, body, ["date", "(request-target)", "host", "content-length",
                                                     "content-type", "x-content-sha256"], self.session_key_for)
        if err:
            return err
        if ST.faults["deny"] or m.group(1) not in ST.topics:
            return oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        try:
            msg = json.loads(body)
            assert isinstance(msg.get("body"), str) and len(msg["body"]) <= 65536
        except (ValueError, AssertionError):
            return oci_error(400, "InvalidParameter", "body is required")
        # a missing messageType is read as JSON, the stricter reading; the service always sends RAW_TEXT
        mtype = self.headers.get("messageType", "JSON")
        if mtype not in ("JSON", "RAW_TEXT"):
            return oci_error(400, "InvalidParameter", "messageType must be JSON or RAW_TEXT")
        if mtype == "JSON":   # the body must then be a JSON object with a "default" key
            try:
                assert "default" in json.loads(msg["body"])
            except (ValueError, TypeError, AssertionError):
                return oci_error(400, "InvalidParameter", "For messageType JSON, a default key-value pair is required")
        with ST.lock:
            ST.messages.append({"topic": m.group(1), "title": msg.get("title"), "body": msg["body"], "type": mtype})
        return 202, {"messageId": "ocid1.onsmessage.oc1.phx." + uuid.uuid4().hex,
                     "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}

    BODY_HEADERS = ["date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"]

    def monitoring(self, method, path, body):
        import fake_oci_control as foc        # one MQL/metric-name checker for both fakes
        u = urllib.parse.urlsplit(path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if method != "POST" or u.path != "/20180401/metrics/actions/summarizeMetricsData":
            return oci_error(404, "NotFound", "Not Found")
        _, err = self.check_signature(method, body, self.BODY_HEADERS, self.session_key_for)
        if err:
            return err
        if ST.faults["deny"] or q.get("compartmentId") != COMPARTMENT:
            return oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        try:
            b = json.loads(body)
            if set(b) - foc.SUMMARIZE_FIELDS:
                return oci_error(400, "InvalidParameter", f"Unknown field(s): {sorted(set(b) - foc.SUMMARIZE_FIELDS)}")
            metric, interval, dims, stat = foc.mql_parse(b.get("query"))
            if b.get("resolution"):
                foc.mql_duration(b["resolution"], "resolution")
            start, end = foc.iso_parse(b["startTime"], "startTime"), foc.iso_parse(b["endTime"], "endTime")
        except foc.ApiError as e:
            return oci_error(e.status, e.code, e.message)
        except (ValueError, KeyError, TypeError):
            return oci_error(400, "InvalidParameter", "Invalid request body")
        outage = ST.faults["metrics_outage"]
        if outage == "empty":
            return 200, []
        if outage:
            return oci_error(int(outage), "InternalServerError", "Internal Server Error")
        if b.get("namespace") != "oci_vcn" or metric not in foc.VCN_METRICS or set(dims) - foc.VCN_DIMENSIONS \
                or dims.get("resourceId", VNIC) != VNIC:
            return 200, []
        v = float(ST.faults["egress_bytes"]) if metric == "VnicToNetworkBytes" else 0.0
        pts = [{"timestamp": fmt_iso(start + interval), "value": v / 2}, {"timestamp": fmt_iso(end), "value": v / 2}]
        return 200, [{"namespace": "oci_vcn", "name": metric, "compartmentId": COMPARTMENT,
                      "dimensions": {"resourceId": VNIC}, "aggregatedDatapoints": pts}]

    def compute(self, method, path, body):
        m = re.fullmatch(r"/20160918/instances/([A-Za-z0-9._\-]+)\?action=([A-Z]+)", path)
        if method != "POST" or not m:
            return oci_error(404, "NotFound", "Not Found")
        _, err = self.check_signature(method, body, self.BODY_HEADERS, self.session_key_for)
        if err:
            return err
        if ST.faults["deny"] or m.group(1) != INSTANCE:      # the policy lets it act on itself only
            return oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        if m.group(2) not in ("STOP", "START", "SOFTSTOP", "RESET", "SOFTRESET"):
            return oci_error(400, "InvalidParameter", f"Invalid action {m.group(2)}")
        with ST.lock:
            ST.actions.append(m.group(2))
        return 200, {"id": INSTANCE, "lifecycleState": "STOPPING", "compartmentId": COMPARTMENT}

    def gcp_access(self, method, path):
        def err(code, status, message):
            return code, {"error": {"code": code, "message": message, "status": status}}
        m = re.fullmatch(r"/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access", path)
        if method != "GET" or not m:
            return err(404, "NOT_FOUND", "Method not found.")
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with ST.lock:
            exp = ST.gcp_tokens.get(tok)
        if not exp or exp < time.time():
            return err(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
                       "access token, login cookie or other valid authentication credential.")
        project, secret, _ = m.groups()
        if project not in (ST.project_id, ST.project_number):
            return err(403, "PERMISSION_DENIED", f"Permission denied on resource project {project}.")
        if ST.faults["deny"]:
            return err(403, "PERMISSION_DENIED", f"Permission 'secretmanager.versions.access' denied for resource "
                       f"'projects/{project}/secrets/{secret}/versions/latest' (or it may not exist).")
        if ST.faults["secret404"] or secret not in ST.secrets:
            return err(404, "NOT_FOUND", f"Secret [projects/{ST.project_number}/secrets/{secret}] not found or has no versions.")
        data = ST.secrets[secret].encode()
        crc = fc.crc32c(data) ^ (1 if ST.faults["bad_crc"] else 0)
        return 200, {"name": f"projects/{ST.project_number}/secrets/{secret}/versions/1",
                     "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}}


    # ---- GCP: the VM's own calls (egress guard, notifications) ----------------------------------
    def gcp_caller(self, scopes, perm, resource):
        """None, or the (status, body) Google answers: the token (401), its scopes (403), IAM (403)."""
        def err(code, status, message, reason=None):
            e = {"code": code, "message": message, "status": status}
            if reason:
                e["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                                 "domain": "googleapis.com"}]
            return code, {"error": e}
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with ST.lock:
            exp, have = ST.gcp_tokens.get(tok), ST.gcp_scopes.get(tok, [])
        if not exp or exp < time.time():
            return err(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
                       "access token, login cookie or other valid authentication credential.", "ACCESS_TOKEN_EXPIRED")
        if not set(have) & (set(scopes) | {CLOUD_PLATFORM}):
            return err(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                       "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        if ST.faults["deny"] or perm in ST.faults["gcp_denied"]:
            return err(403, "PERMISSION_DENIED", f"Permission '{perm}' denied on resource '{resource}' (or it may not "
                       "exist).", "IAM_PERMISSION_DENIED")
        return None

    def gcp_monitoring(self, method, path, body):
        import fake_gcp_control as fgc       # one timeSeries.list checker for both GCP fakes
        u = urllib.parse.urlsplit(path)
        m = re.fullmatch(r"/v3/projects/([^/]+)/timeSeries", u.path)
        if method != "GET" or not m:
            return 404, {"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}}
        if m.group(1) not in (ST.project_id, ST.project_number):
            return 403, {"error": {"code": 403, "message": f"Permission denied on resource project {m.group(1)}.",
                                   "status": "PERMISSION_DENIED"}}
        no = self.gcp_caller(["https://www.googleapis.com/auth/monitoring.read",
                              "https://www.googleapis.com/auth/monitoring"], "monitoring.timeSeries.list",
                             f"projects/{m.group(1)}")
        if no:
            return no
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        try:
            metric, iid = fgc.timeseries_query(lambda k, d=None: q.get(k, [d])[0])
        except fgc.ApiError as e:
            return e.code, e.body()
        outage = ST.faults["metrics_outage"]
        if outage == "empty":
            return 200, {}
        if outage:
            return int(outage), {"error": {"code": int(outage), "message": "The service is currently unavailable.",
                                           "status": "UNAVAILABLE"}}
        if metric != fgc.EGRESS_METRIC or iid != GCE_ID:
            return 200, {}                   # no such series: an empty answer, not a zero
        return 200, fgc.timeseries_answer(metric, ST.project_id, iid, lambda k, d=None: q.get(k, [d])[0],
                                          ST.faults["egress_bytes"])

    def gcp_compute(self, method, path, body):
        m = re.fullmatch(r"/compute/v1/projects/([^/]+)/zones/([^/]+)/instances/([^/]+)/(stop|start)", path)
        if method != "POST" or not m:
            return 404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}
        proj, zone, name, verb = m.groups()
        res = f"projects/{proj}/zones/{zone}/instances/{name}"
        no = self.gcp_caller(["https://www.googleapis.com/auth/compute"], f"compute.instances.{verb}", res)
        if no:
            return no
        # the custom role is bound on this instance only: any other is a 403, as Compute words it
        if proj != ST.project_id or zone != GCE_ZONE or name != GCE_NAME or verb != "stop":
            return 403, {"error": {"code": 403, "message": f"Required 'compute.instances.{verb}' permission for '{res}'",
                                   "errors": [{"message": f"Required 'compute.instances.{verb}' permission for '{res}'",
                                               "domain": "global", "reason": "forbidden"}]}}
        with ST.lock:
            ST.actions.append("stop")
        op = "operation-" + uuid.uuid4().hex
        base = f"https://compute.googleapis.com/compute/v1/projects/{proj}/zones/{zone}"
        return 200, {"kind": "compute#operation", "id": str(uuid.uuid4().int % 10**19), "name": op,
                     "zone": base, "operationType": "stop", "targetLink": f"{base}/instances/{name}",
                     "targetId": GCE_ID, "status": "RUNNING", "progress": 0, "selfLink": f"{base}/operations/{op}"}

    def gcp_pubsub(self, method, path, body):
        m = re.fullmatch(r"/v1/projects/([^/]+)/topics/([^/:]+):publish", path)
        if method != "POST" or not m:
            return 404, {"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}}
        proj, topic = m.groups()
        import fake_gcp_control as fgc       # one topic-name rule for both GCP fakes
        try:
            fgc.Api.ps_name_ok("topics", proj, topic)
        except fgc.ApiError as e:
            return e.code, e.body()
        full = f"projects/{proj}/topics/{topic}"
        no = self.gcp_caller(["https://www.googleapis.com/auth/pubsub"], "pubsub.topics.publish", full)
        if no:
            return no
        if proj != ST.project_id or (topic not in ST.topics and full not in ST.topics):
            return 404, {"error": {"code": 404, "message": f"Resource not found (resource={topic}).", "status": "NOT_FOUND"}}
        try:
            req = json.loads(body)
            unknown = set(req) - {"messages"} or {k for msg in req["messages"] for k in msg} - {"data", "attributes", "orderingKey"}
            if unknown:
                return 400, {"error": {"code": 400, "message": f"Invalid JSON payload received. Unknown name "
                                       f"\"{sorted(unknown)[0]}\": Cannot find field.", "status": "INVALID_ARGUMENT"}}
            msgs = req["messages"]
            assert isinstance(msgs, list) and msgs
            out = []
            for msg in msgs:
                data = base64.b64decode(msg.get("data", ""), validate=True)
                attrs = msg.get("attributes") or {}
                if not data and not attrs:
                    return 400, {"error": {"code": 400, "message": "Some messages are empty: a message must contain "
                                           "either a non-empty data field or at least one attribute.",
                                           "status": "INVALID_ARGUMENT"}}
                out.append({"topic": topic, "title": attrs.get("title"), "body": data.decode(), "type": "pubsub"})
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, {"error": {"code": 400, "message": "Invalid JSON payload received.", "status": "INVALID_ARGUMENT"}}
        with ST.lock:
            ST.messages.extend(out)
        return 200, {"messageIds": [str(uuid.uuid4().int % 10**16) for _ in out]}


# Each listener routes on a path prefix (the query stays in the path) to the service that answers.
MD_ROUTES = httpfake.Routes()
MD_ROUTES.add("*", r"(?s)/__fake/.*", None, "control")
MD_ROUTES.add("*", r"(?s)/opc/.*", MetadataHandler.oci, "oci")
MD_ROUTES.add("*", r"(?s)/computeMetadata/.*", MetadataHandler.gcp, "gcp")
API_ROUTES = httpfake.Routes()
API_ROUTES.add("*", r"(?s)/v1/projects/[^/]+/topics/.*", ApiHandler.gcp_pubsub, "pubsub")
for _prefix, _svc, _fn in (
        ("/v1/x509", "auth", ApiHandler.federation),
        ("/20190301/", "vault", ApiHandler.vault),
        ("/20181201/", "notification", ApiHandler.notify),
        ("/v3/projects/", "gcp-monitoring", ApiHandler.gcp_monitoring),
        ("/compute/v1/projects/", "gcp-compute", ApiHandler.gcp_compute),
        ("/v1/projects/", "secretmanager", lambda h, method, path, _body: h.gcp_access(method, path)),
        ("/20180401/", "monitoring", ApiHandler.monitoring),
        ("/20160918/", "compute", ApiHandler.compute)):
    API_ROUTES.add("*", "(?s)" + re.escape(_prefix) + ".*", _fn, _svc)


def main():
    global ST
    ap = argparse.ArgumentParser()
    ap.add_argument("--platform", choices=["oci", "gcp"], required=True)
    ap.add_argument("--metadata", help="JSON object: user metadata (OCI) / instance attributes (GCP)")
    ap.add_argument("--secrets", help="JSON object: secret id -> plaintext")
    ap.add_argument("--topics", help="JSON array of notification topic ids")
    ap.add_argument("--dir", help="scratch directory for keys and certificates")
    ap.add_argument("--ipv6", action="store_true", help="metadata listener on [::1] instead of 127.0.0.1")
    ap.add_argument("--api-plain", action="store_true", help="API listener without TLS (the image test's guest)")
    args = ap.parse_args()
    ST = State(args)
    # OCI's metadata server also answers on [fd00:c1::a9fe:a9fe]: with --ipv6 here [::1]
    md = httpfake.Server(("::1" if args.ipv6 else "127.0.0.1", 0), MetadataHandler, name="fake-cloud").start()
    tls = None if args.api_plain else httpfake.tls_context(ST.tls_pem, ST.tls_key)
    api = httpfake.Server(("127.0.0.1", 0), ApiHandler, tls=tls, name="fake-cloud").start()
    httpfake.ready({"metadata": md.url, "api": api.url,
                    "api_port": api.server_address[1], "metadata_port": md.server_address[1],
                    "ca_file": ST.tls_ca_pem, "root_pem": ST.root_pem, "tenancy": TENANCY,
                    "instance": INSTANCE, "leaf_pem": ST.leaf_pem, "leaf_key": ST.leaf_key,
                    "intermediate_pem": ST.int_pem, "project_id": ST.project_id})
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
