/* gcp: Google Cloud metadata attributes, the service-account token answer and Secret Manager's
 * versions.access answer (base64 payload, CRC32C integrity check). Decoded secrets go to buffers
 * the caller wipes; nothing is kept here. */
#include "common/gcp.h"
#include "common/codec.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t gcp_crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

int gcp_attributes_each_trusted(const char *json, size_t len, int (*apply)(void *arg, const char *k, const char *v),
                                void *arg, unsigned *ignored)
{
    *ignored = 0;
    if (len > CLOUD_METADATA_MAX)
        return -1;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return -1;
    }
    int n = cloud_metadata_each_trusted(doc, apply, arg, ignored);
    json_decref(doc);
    return n;
}

cloud_err gcp_token_parse(const char *json, size_t len, char **token, int64_t *expires_in)
{
    *token = NULL;
    if (len > CLOUD_TOKEN_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *doc = json_loadb(json, len, 0, NULL);
    json_t *t = json_object_get(doc, "access_token");
    json_t *e = json_object_get(doc, "expires_in");
    const char *type = json_string_value(json_object_get(doc, "token_type"));
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (json_is_string(t) && json_string_length(t) > 0 && json_is_integer(e) && json_integer_value(e) > 0 &&
        type && !strcmp(type, "Bearer")) {
        const char *s = json_string_value(t);
        int clean = 1;
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c <= ' ' || *c == 0x7f)
                clean = 0;   /* it goes into a header line */
        if (clean) {
            *expires_in = json_integer_value(e);
            rc = (*token = strdup(s)) ? CLOUD_OK : CLOUD_ERR_NOMEM;
        }
        OPENSSL_cleanse((char *)s, json_string_length(t));
    }
    json_decref(doc);
    return rc;
}

static int seg_ok(const char *s, size_t n, int project)
{
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              (!project && ((c >= 'A' && c <= 'Z') || c == '_'))))
            return 0;
    }
    return 1;
}

char *gcp_secret_url(const char *api_base, const char *project, const char *name)
{
    char path[768];
    const char *base = api_base ? api_base : GCP_SECRETMANAGER_BASE;
    if (!name)
        return NULL;
    if (!strncmp(name, "projects/", 9)) {
        /* projects/P/secrets/S[/versions/V] */
        const char *p = name + 9, *e = strchr(p, '/');
        if (!e || !seg_ok(p, (size_t)(e - p), 1) || strncmp(e, "/secrets/", 9))
            return NULL;
        const char *s = e + 9, *se = strchr(s, '/');
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (!seg_ok(s, sl, 0))
            return NULL;
        if (se) {
            const char *v = se + 10;
            if (strncmp(se, "/versions/", 10) || !seg_ok(v, strlen(v), 0))
                return NULL;
            if (snprintf(path, sizeof path, "%s", name) >= (int)sizeof path)
                return NULL;
        } else if (snprintf(path, sizeof path, "%s/versions/latest", name) >= (int)sizeof path) {
            return NULL;
        }
    } else {
        if (!project || !seg_ok(project, strlen(project), 1) || !seg_ok(name, strlen(name), 0))
            return NULL;
        if (snprintf(path, sizeof path, "projects/%s/secrets/%s/versions/latest", project, name) >= (int)sizeof path)
            return NULL;
    }
    int n = snprintf(NULL, 0, "%s/v1/%s:access", base, path);
    char *u = malloc((size_t)n + 1);
    if (u)
        snprintf(u, (size_t)n + 1, "%s/v1/%s:access", base, path);
    return u;
}

cloud_err gcp_secret_parse(const char *json, size_t len, uint8_t **out, size_t *outlen, int *crc_checked)
{
    *out = NULL;
    *outlen = 0;
    *crc_checked = 0;
    if (len > CLOUD_SECRET_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *doc = json_loadb(json, len, 0, NULL);
    json_t *payload = json_object_get(doc, "payload");
    json_t *data = json_object_get(payload, "data");
    json_t *crc = json_object_get(payload, "dataCrc32c");
    cloud_err rc = CLOUD_ERR_FORMAT;
    uint64_t want = 0;
    if (!json_is_string(data))
        goto done;
    /* dataCrc32c is an int64 in JSON, i.e. a decimal string (a bare number is accepted too) */
    if (crc && !(json_is_string(crc) && !codec_parse_u64(json_string_value(crc), json_string_length(crc), 0,
                                                          UINT32_MAX, &want)) &&
        !(json_is_integer(crc) && json_integer_value(crc) >= 0 && json_integer_value(crc) <= (json_int_t)UINT32_MAX &&
          (want = (uint64_t)json_integer_value(crc), 1)))
        goto done;
    if (!(*out = codec_b64_decode_alloc(json_string_value(data), json_string_length(data), outlen)))
        goto done;
    if (crc) {
        if (gcp_crc32c(*out, *outlen) != (uint32_t)want) {
            OPENSSL_clear_free(*out, *outlen);
            *out = NULL;
            *outlen = 0;
            rc = CLOUD_ERR_INTEGRITY;
            goto done;
        }
        *crc_checked = 1;
    }
    rc = CLOUD_OK;
done:
    if (json_is_string(data))
        OPENSSL_cleanse((char *)json_string_value(data), json_string_length(data));
    json_decref(doc);
    return rc;
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] >= 0x80)
            dst[i] = '?';
}

void gcp_error_parse(const char *json, size_t len, char *status, size_t status_cap, char *msg, size_t msg_cap)
{
    json_t *doc = len <= CLOUD_TOKEN_MAX ? json_loadb(json, len, 0, NULL) : NULL;
    json_t *e = json_object_get(doc, "error");
    copy_cut(status, status_cap, json_string_value(json_object_get(e, "status")));
    copy_cut(msg, msg_cap, json_string_value(json_object_get(e, "message")));
    json_decref(doc);
}
