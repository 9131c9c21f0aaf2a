/* oci_vault: OCI endpoints by region and the Vault GetSecretBundle answer. Decodes the secret into
 * a buffer the caller wipes; never keeps or logs it. */
#include "common/oci.h"
#include "common/codec.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oci_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

char *oci_endpoint_url(const char *api_base, const char *prefix, const char *region, const char *domain,
                      const char *path, const char *id, const char *suffix)
{
    char base[256];
    if (api_base) {
        if (strlen(api_base) >= sizeof base)
            return NULL;
        snprintf(base, sizeof base, "%s", api_base);
    } else {
        if (!region || !*region || snprintf(base, sizeof base, "https://%s.%s.%s", prefix, region, domain) >= (int)sizeof base)
            return NULL;
    }
    int n = snprintf(NULL, 0, "%s%s%s%s", base, path, id, suffix);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        snprintf(s, (size_t)n + 1, "%s%s%s%s", base, path, id, suffix);
    return s;
}

char *oci_vault_url(const char *api_base, const char *region, const char *secret_id)
{
    if (!oci_id_ok(secret_id))
        return NULL;
    return oci_endpoint_url(api_base, "secrets.vaults", region, "oci." OCI_REALM_DOMAIN, "/20190301/secretbundles/",
                    secret_id, "");
}

char *oci_notify_url(const char *api_base, const char *region, const char *topic_id)
{
    if (!oci_id_ok(topic_id))
        return NULL;
    return oci_endpoint_url(api_base, "notification", region, OCI_REALM_DOMAIN, "/20181201/topics/", topic_id, "/messages");
}

char *oci_auth_url(const char *api_base, const char *region)
{
    return oci_endpoint_url(api_base, "auth", region, OCI_REALM_DOMAIN, "/v1/x509", "", "");
}

cloud_err oci_vault_parse(const char *json, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (len > CLOUD_SECRET_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *doc = json_loadb(json, len, 0, NULL);
    json_t *content = json_object_get(doc, "secretBundleContent");
    const char *type = json_string_value(json_object_get(content, "contentType"));
    json_t *c = json_object_get(content, "content");
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (type && !strcmp(type, "BASE64") && json_is_string(c)) {
        size_t n = json_string_length(c);
        *out = codec_b64_decode_alloc(json_string_value(c), n, outlen);
        rc = *out ? CLOUD_OK : CLOUD_ERR_FORMAT;
        /* the base64 text is the secret too: wipe jansson's copy */
        OPENSSL_cleanse((char *)json_string_value(c), n);
    }
    json_decref(doc);
    return rc;
}
