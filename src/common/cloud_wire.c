/* cloud_wire: the cloud error strings and the trust rule's metadata keys; see cloud_wire.h. */
#include "common/cloud_wire.h"
#include <string.h>

const char *const cloud_trusted_metadata_keys[] = {
    "paypal_client_id", "domain", "secret_ocid", "signing_key_secret_ocid", "notification_topic_id",
    "state_store",       /* where the sealed state lives (config.c T_METADATA) */
    "egress_cap_bytes",  /* may only lower the measured cap (config.c T_LOWER) */
    NULL,
};

int cloud_metadata_key_trusted(const char *k)
{
    for (const char *const *t = cloud_trusted_metadata_keys; *t; t++)
        if (!strcmp(*t, k))
            return 1;
    return 0;
}

int cloud_metadata_each_trusted(const json_t *user, int (*apply)(void *arg, const char *k, const char *v), void *arg,
                                unsigned *ignored)
{
    int n = 0;
    *ignored = 0;
    if (!user)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)user, k, v) {
        if (!cloud_metadata_key_trusted(k) || !json_is_string(v))
            (*ignored)++;
    }
    for (const char *const *t = cloud_trusted_metadata_keys; *t; t++) {
        const char *v2 = json_string_value(json_object_get(user, *t));
        if (!v2)
            continue;
        if (apply(arg, *t, v2))
            return -1;
        n++;
    }
    return n;
}

const char *cloud_strerror(cloud_err e)
{
    switch (e) {
    case CLOUD_OK: return "ok";
    case CLOUD_ERR_NOMEM: return "out of memory";
    case CLOUD_ERR_ARG: return "bad argument";
    case CLOUD_ERR_FORMAT: return "malformed answer";
    case CLOUD_ERR_TOOBIG: return "answer over the size cap";
    case CLOUD_ERR_CRYPTO: return "unusable key or certificate";
    case CLOUD_ERR_INTEGRITY: return "checksum mismatch";
    }
    return "unknown error";
}
