/* state_remote: OCI Object Storage / GCS object reads and conditional writes (state_remote.h).
 * Owns its one HTTP call; borrows the cloud (identity). */
#include "login/state_remote.h"
#include "login/cloud/cloud.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/log.h"
#include "common/codec.h"
#include "common/gcp.h"
#include "common/oci.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

enum kind { GCS, OCI };

struct state_remote {
    struct cloud *cloud;        /* borrowed */
    enum kind kind;
    char *ns, *bucket, *object; /* owned; ns only for OCI */
    char *base;                 /* owned or NULL */
    char name[300];
    struct http_call *call;     /* in flight, or NULL */
    int is_put;
    state_remote_get_fn get_done;
    state_remote_put_fn put_done;
    void *arg;
};

const char *state_remote_strerror(srem_err e)
{
    switch (e) {
    case SREM_OK:            return "ok";
    case SREM_NOT_FOUND:     return "no such object";
    case SREM_PRECONDITION:  return "the object was changed by another writer (precondition failed)";
    case SREM_NO_IDENTITY:   return "no instance identity yet";
    case SREM_ERR_HTTP:      return "the object store could not be reached or answered with an error";
    case SREM_ERR_INTEGRITY: return "the object's content does not match its checksums";
    case SREM_ERR_BUSY:      return "another object store call is in flight";
    }
    return "?";
}

/* bucket and object names become URL path segments: a conservative character set, so nothing
 * needs encoding (deploy tooling uses such names) */
static int name_ok(const char *s, size_t n)
{
    if (!n || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '.'))
            return 0;
    }
    return s[0] != '.';
}

struct state_remote *state_remote_new(struct cloud *cloud, const char *spec, const char *base)
{
    struct state_remote *r = calloc(1, sizeof *r);
    if (!r || !spec)
        goto fail;
    r->cloud = cloud;
    const char *p;
    int parts;
    if (!strncmp(spec, "gcs:", 4)) {
        r->kind = GCS;
        p = spec + 4;
        parts = 2;
    } else if (!strncmp(spec, "oci:", 4)) {
        r->kind = OCI;
        p = spec + 4;
        parts = 3;
    } else
        goto fail;
    char *seg[3] = {0};
    for (int i = 0; i < parts; i++) {
        const char *e = i < parts - 1 ? strchr(p, '/') : p + strlen(p);
        if (!e || !name_ok(p, (size_t)(e - p)) || !(seg[i] = strndup(p, (size_t)(e - p)))) {
            for (int j = 0; j < 3; j++)
                free(seg[j]);
            goto fail;
        }
        p = e + 1;
    }
    if (r->kind == GCS) {
        r->bucket = seg[0];
        r->object = seg[1];
        snprintf(r->name, sizeof r->name, "gcs %s/%s", r->bucket, r->object);
    } else {
        r->ns = seg[0];
        r->bucket = seg[1];
        r->object = seg[2];
        snprintf(r->name, sizeof r->name, "oci %s/%s/%s", r->ns, r->bucket, r->object);
    }
    if (base && !(r->base = strdup(base)))
        goto fail;
    return r;
fail:
    state_remote_free(r);
    return NULL;
}

void state_remote_free(struct state_remote *r)
{
    if (!r)
        return;
    http_call_cancel(r->call);
    free(r->ns);
    free(r->bucket);
    free(r->object);
    free(r->base);
    free(r);
}

const char *state_remote_name(const struct state_remote *r) { return r->name; }

static char *object_url(const struct state_remote *r)
{
    char host[300];
    if (r->base)
        snprintf(host, sizeof host, "%s", r->base);
    else if (r->kind == GCS)
        snprintf(host, sizeof host, "https://storage.googleapis.com");
    else {
        const struct oci_instance *in = cloud_oci_instance(r->cloud);
        if (!in)
            return NULL;
        snprintf(host, sizeof host, "https://objectstorage.%s.oraclecloud.com", in->region);
    }
    size_t n = strlen(host);
    while (n && host[n - 1] == '/')
        host[--n] = 0;
    size_t cap = n + strlen(r->bucket) + strlen(r->object) + (r->ns ? strlen(r->ns) : 0) + 32;
    char *u = malloc(cap);
    if (!u)
        return NULL;
    if (r->kind == GCS)
        snprintf(u, cap, "%s/%s/%s", host, r->bucket, r->object);
    else
        snprintf(u, cap, "%s/n/%s/b/%s/o/%s", host, r->ns, r->bucket, r->object);
    return u;
}

static int md5_b64(const uint8_t *p, size_t n, char out[32])
{
    uint8_t d[16];
    unsigned int l = 0;
    return EVP_Digest(p, n, d, &l, EVP_md5(), NULL) && codec_b64_encode(d, 16, out, 32) ? 0 : -1;
}

static int crc_b64(const uint8_t *p, size_t n, char out[16])
{
    uint32_t c = gcp_crc32c(p, n);
    uint8_t be[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
    return codec_b64_encode(be, 4, out, 16) ? 0 : -1;
}

/* GCS x-goog-hash: "crc32c=...,md5=..." (one header, or several): finds name's value. */
static int goog_hash(const char *h, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > nl + 1 && !strncmp(p, name, nl) && p[nl] == '=' && len - nl - 1 < cap) {
            memcpy(out, p + nl + 1, len - nl - 1);
            out[len - nl - 1] = 0;
            return 0;
        }
        p = e;
    }
    return -1;
}

struct goog_hashes { char crc[40], md5[40]; };

/* GCS sends x-goog-hash once per algorithm ("crc32c=...", "md5=...") or joined by commas */
static void on_goog_hash(void *arg, const char *value)
{
    struct goog_hashes *g = arg;
    goog_hash(value, "crc32c", g->crc, sizeof g->crc);
    goog_hash(value, "md5", g->md5, sizeof g->md5);
}

static srem_err check_body(const struct state_remote *r, const struct http_response *resp)
{
    char md5[32];
    if (md5_b64(resp->body, resp->body_len, md5))
        return SREM_ERR_INTEGRITY;
    if (r->kind == GCS) {
        struct goog_hashes g = {"", ""};
        char crc[16];
        http_response_headers_each(resp, "x-goog-hash", on_goog_hash, &g);
        if (!g.crc[0] || crc_b64(resp->body, resp->body_len, crc) || strcmp(g.crc, crc))
            return SREM_ERR_INTEGRITY;   /* CRC32C is always there for a GCS object */
        if (g.md5[0] && strcmp(g.md5, md5))
            return SREM_ERR_INTEGRITY;
        return SREM_OK;
    }
    const char *h = http_response_header(resp, "content-md5");
    if (h && strcmp(h, md5))
        return SREM_ERR_INTEGRITY;
    return SREM_OK;
}

static const char *version_of(const struct state_remote *r, const struct http_response *resp)
{
    return http_response_header(resp, r->kind == GCS ? "x-goog-generation" : "etag");
}

static void on_done(void *arg, const struct http_response *resp)
{
    struct state_remote *r = arg;
    r->call = NULL;
    srem_err e = SREM_OK;
    const char *ver = NULL;
    if (resp->err) {
        log_warn("state_remote.failed", "store=\"%s\" reason=\"%s\"", r->name, resp->errmsg);
        e = SREM_ERR_HTTP;
    } else if (resp->status == 404 && !r->is_put)
        e = SREM_NOT_FOUND;
    else if (resp->status == 412 || (r->is_put && resp->status == 409))
        e = SREM_PRECONDITION;
    else if (resp->status != 200) {
        log_warn("state_remote.status", "store=\"%s\" op=%s status=%ld", r->name, r->is_put ? "put" : "get",
                 resp->status);
        e = SREM_ERR_HTTP;
    } else if (!(ver = version_of(r, resp)) || !*ver)
        e = SREM_ERR_INTEGRITY;
    else if (!r->is_put)
        e = check_body(r, resp);
    if (e == SREM_ERR_INTEGRITY)
        log_error("state_remote.integrity", "store=\"%s\" op=%s", r->name, r->is_put ? "put" : "get");
    if (r->is_put)
        r->put_done(r->arg, e, e ? NULL : ver);
    else
        r->get_done(r->arg, e, e ? NULL : resp->body, e ? 0 : resp->body_len, e ? NULL : ver);
}

/* Sends req (method, headers, body, size cap filled in) to the state object with the instance's
 * identity; on_done reports to the caller's get_done or put_done. */
static srem_err start_call(struct state_remote *r, struct http_request *req, int is_put, void *arg)
{
    char *url = object_url(r);
    if (!url)
        return SREM_NO_IDENTITY;
    req->url = url;
    req->timeout_ms = STATE_REMOTE_TIMEOUT_MS;
    req->allow_plain_http = r->base && !strncmp(r->base, "http://", 7);
    r->is_put = is_put;
    r->arg = arg;
    int rc = cloud_authed_call(r->cloud, &r->call, req, on_done, r);
    free(url);
    return rc ? SREM_NO_IDENTITY : SREM_OK;
}

srem_err state_remote_get(struct state_remote *r, state_remote_get_fn done, void *arg)
{
    if (r->call)
        return SREM_ERR_BUSY;
    struct http_request req = {.method = "GET", .max_response = STATE_REMOTE_MAX_BYTES};
    r->get_done = done;
    return start_call(r, &req, 0, arg);
}

srem_err state_remote_put(struct state_remote *r, const uint8_t *body, size_t len, const char *if_version,
                          state_remote_put_fn done, void *arg)
{
    if (r->call)
        return SREM_ERR_BUSY;
    char md5[32], crc[16], h_md5[64], h_crc[128], h_pre[200];
    if (md5_b64(body, len, md5) || crc_b64(body, len, crc))
        return SREM_ERR_INTEGRITY;
    if (if_version && (strlen(if_version) > 120 || strpbrk(if_version, "\r\n")))
        return SREM_ERR_INTEGRITY;
    snprintf(h_md5, sizeof h_md5, "Content-MD5: %s", md5);
    snprintf(h_crc, sizeof h_crc, "x-goog-hash: crc32c=%s,md5=%s", crc, md5);
    if (r->kind == GCS)
        snprintf(h_pre, sizeof h_pre, "x-goog-if-generation-match: %s", if_version ? if_version : "0");
    else if (if_version)
        snprintf(h_pre, sizeof h_pre, "if-match: %s", if_version);
    else
        snprintf(h_pre, sizeof h_pre, "if-none-match: *");
    const char *hdrs[] = {h_md5, h_pre, r->kind == GCS ? h_crc : NULL, NULL};
    struct http_request req = {.method = "PUT", .headers = hdrs, .body = body, .body_len = len,
                               .max_response = 64 * 1024};
    r->put_done = done;
    return start_call(r, &req, 1, arg);
}
