"""Faithful in-memory fakes of the two object stores the service keeps its sealed state in, as
the documented APIs behave (test code only). Mounted by tests/fakes/fake_cloud.py on its API
listener, which authenticates the caller first the way the real service does (OCI: request
signature v1 with an instance-principal session token; GCS: the OAuth bearer token the metadata
server handed out), then calls handle():

  OCI Object Storage  /n/{namespace}/b/{bucket}/o/{object}          GetObject, PutObject, HeadObject
      ETag (opaque), if-match / if-none-match: * (412 IfMatchFailed / IfNoneMatchFailed),
      Content-MD5 checked on upload (400 InvalidContentMD5 on a mismatch) and returned with
      opc-content-md5 / Content-MD5, 404 BucketNotFound / ObjectNotFound, JSON error bodies.
  Google Cloud Storage, XML API  /gcs/{bucket}/{object}  (the test's base URL ends in /gcs)
      x-goog-generation, x-goog-if-generation-match (0 = must not exist; 412 PreconditionFailed),
      Content-MD5 and x-goog-hash crc32c=/md5= checked on upload (400 BadDigest / InvalidDigest),
      x-goog-hash on download, XML error bodies (NoSuchKey, NoSuchBucket).

Control (fake_cloud's metadata listener): objects() lists, put_raw() replaces an object the way
an operator with bucket access could (a new version: an old blob restored = a rollback attempt),
faults: put_fail / get_fail (next N answer 503), put_lost (next N PUTs are stored but answered
503: the answer is lost after the commit), deny (403 / 404 NotAuthorizedOrNotFound), put_delay_ms
(every PUT waits this long before it is applied: a slow store, or a save still in flight when the
client gives up, which then lands anyway)."""
import base64
import hashlib
import json
import os
import re
import struct
import threading
import time


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def b64(b):
    return base64.b64encode(b).decode()


def gcs_error(status, code, message):
    body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message>"
            f"</Error>").encode()
    return status, [("Content-Type", "application/xml; charset=UTF-8")], body


def oci_error(status, code, message):
    return status, [("Content-Type", "application/json")], json.dumps({"code": code, "message": message}).encode()


class ObjectStore:
    def __init__(self, namespace="fakenamespace", buckets=("sealed-state",)):
        self.lock = threading.Lock()
        self.namespace = namespace
        self.buckets = set(buckets)
        self.objects = {}     # (bucket, name) -> {"data", "generation", "etag", "updated"}
        self.gen = int(time.time() * 1000000)
        self.faults = {"put_fail": 0, "get_fail": 0, "put_lost": 0, "deny": False, "put_delay_ms": 0}
        self.log = []         # (api, method, bucket/object, status, note)

    # ---- control -------------------------------------------------------------------------
    def config(self, **kw):
        with self.lock:
            for k, v in kw.items():
                if k in self.faults:
                    self.faults[k] = v
                elif k == "buckets":
                    self.buckets = set(v)

    def listing(self):
        with self.lock:
            return {f"{b}/{n}": {"data_b64": b64(o["data"]), "generation": o["generation"], "etag": o["etag"],
                                 "size": len(o["data"])} for (b, n), o in self.objects.items()}

    def put_raw(self, bucket, name, data):
        with self.lock:
            return self._store(bucket, name, data)

    def delete_raw(self, bucket, name):
        with self.lock:
            self.objects.pop((bucket, name), None)

    def _store(self, bucket, name, data):
        self.gen += 1
        o = {"data": data, "generation": self.gen, "etag": os.urandom(16).hex(), "updated": time.time()}
        self.objects[(bucket, name)] = o
        return o

    def _fault(self, name):
        if self.faults[name] > 0:
            self.faults[name] -= 1
            return True
        return False

    # ---- dispatch --------------------------------------------------------------------------
    def handle(self, api, method, path, headers, body):
        """api "oci" or "gcs"; headers: a case-insensitive mapping; returns (status, headers, body)."""
        if method == "PUT":
            with self.lock:
                delay = self.faults["put_delay_ms"]
            if delay:
                time.sleep(delay / 1000)   # outside the lock: reads go on meanwhile
        with self.lock:
            out = (self.oci if api == "oci" else self.gcs)(method, path, headers, body)
            self.log.append((api, method, path, out[0], ""))
            return out

    def oci(self, method, path, h, body):
        m = re.fullmatch(r"/n/([^/]+)/b/([^/]+)/o/([^?]+)", path)
        if not m:
            return oci_error(404, "NotFound", "Not Found")
        ns, bucket, name = m.groups()
        if self.faults["deny"] or ns != self.namespace:
            return oci_error(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.")
        if bucket not in self.buckets:
            return oci_error(404, "BucketNotFound", f"Either the bucket named '{bucket}' does not exist in the "
                             f"namespace '{ns}' or you are not authorized to access it")
        o = self.objects.get((bucket, name))
        if method in ("GET", "HEAD"):
            if self._fault("get_fail"):
                return oci_error(503, "ServiceUnavailable", "Service Unavailable")
            if not o:
                return oci_error(404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'")
            md5 = b64(hashlib.md5(o["data"]).digest())
            return 200, [("Content-Type", "application/octet-stream"), ("ETag", o["etag"]), ("Content-MD5", md5),
                         ("opc-content-md5", md5)], o["data"] if method == "GET" else b""
        if method != "PUT":
            return oci_error(405, "MethodNotAllowed", "Method Not Allowed")
        if self._fault("put_fail"):
            return oci_error(503, "ServiceUnavailable", "Service Unavailable")
        want = h.get("content-md5")
        got = b64(hashlib.md5(body).digest())
        if want is not None and want != got:
            return oci_error(400, "InvalidContentMD5" if not re.fullmatch(r"[A-Za-z0-9+/]{22}==", want)
                             else "UnmatchedContentMD5",
                             f"The computed MD5 of the request body ({got}) does not match the Content-MD5 "
                             f"header ({want})")
        im, inm = h.get("if-match"), h.get("if-none-match")
        if im is not None and (not o or o["etag"] != im):
            return oci_error(412, "IfMatchFailed", f"The If-Match header '{im}' does not match the ETag "
                             f"'{o['etag'] if o else ''}'")
        if inm is not None:
            if inm != "*":
                return oci_error(400, "InvalidParameter", "If-None-Match accepts only '*' for PutObject")
            if o:
                return oci_error(412, "IfNoneMatchFailed", f"The If-None-Match header is '*' but there is an "
                                 f"existing entity")
        n = self._store(bucket, name, body)
        if self._fault("put_lost"):
            return oci_error(503, "ServiceUnavailable", "Service Unavailable")
        return 200, [("ETag", n["etag"]), ("opc-content-md5", got),
                     ("last-modified", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))], b""

    def gcs(self, method, path, h, body):
        m = re.fullmatch(r"/gcs/([^/]+)/([^?]+)", path)
        if not m:
            return gcs_error(404, "NoSuchKey", "The specified key does not exist.")
        bucket, name = m.groups()
        if self.faults["deny"]:
            return gcs_error(403, "AccessDenied", "Access denied.")
        if bucket not in self.buckets:
            return gcs_error(404, "NoSuchBucket", "The specified bucket does not exist.")
        o = self.objects.get((bucket, name))
        if method in ("GET", "HEAD"):
            if self._fault("get_fail"):
                return gcs_error(503, "ServiceUnavailable", "We encountered an internal error. Please try again.")
            if not o:
                return gcs_error(404, "NoSuchKey", "The specified key does not exist.")
            d = o["data"]
            return 200, [("Content-Type", "application/octet-stream"), ("x-goog-generation", str(o["generation"])),
                         ("x-goog-metageneration", "1"), ("x-goog-stored-content-length", str(len(d))),
                         ("x-goog-hash", f"crc32c={b64(struct.pack('>I', crc32c(d)))}"),
                         ("x-goog-hash", f"md5={b64(hashlib.md5(d).digest())}"),
                         ("ETag", '"' + hashlib.md5(d).hexdigest() + '"')], d if method == "GET" else b""
        if method != "PUT":
            return gcs_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if self._fault("put_fail"):
            return gcs_error(503, "ServiceUnavailable", "We encountered an internal error. Please try again.")
        md5 = b64(hashlib.md5(body).digest())
        crc = b64(struct.pack(">I", crc32c(body)))
        if h.get("content-md5") is not None and h.get("content-md5") != md5:
            return gcs_error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        for part in ",".join(h.get_all("x-goog-hash") or []).split(","):
            k, _, v = part.strip().partition("=")
            if (k == "crc32c" and v != crc) or (k == "md5" and v != md5):
                return gcs_error(400, "BadDigest", f"Provided {k} \"{v}\" doesn't match calculated {k} "
                                 f"\"{crc if k == 'crc32c' else md5}\".")
        pre = h.get("x-goog-if-generation-match")
        if pre is not None:
            if not pre.isdigit():
                return gcs_error(400, "InvalidArgument", "Invalid argument.")
            if (int(pre) == 0 and o) or (int(pre) != 0 and (not o or o["generation"] != int(pre))):
                return gcs_error(412, "PreconditionFailed", "At least one of the pre-conditions you specified "
                                 "did not hold.")
        n = self._store(bucket, name, body)
        if self._fault("put_lost"):
            return gcs_error(503, "ServiceUnavailable", "We encountered an internal error. Please try again.")
        return 200, [("x-goog-generation", str(n["generation"])), ("x-goog-metageneration", "1"),
                     ("x-goog-hash", f"crc32c={crc},md5={md5}"), ("ETag", '"' + hashlib.md5(body).hexdigest() + '"')], b""
