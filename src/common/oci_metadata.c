/* oci_metadata: parses OCI instance metadata v2 (GET /opc/v2/instance/) into the few fields the
 * service uses, and hands out only the trust rule's user-metadata keys. Never applies anything
 * itself and never sees a secret. */
#include "common/oci.h"
#include <stdlib.h>
#include <string.h>

static int region_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return 0;
    return 1;
}

static int take(json_t *doc, const char *name, char **out)
{
    const char *v = json_string_value(json_object_get(doc, name));
    if (!v || !*v)
        return -1;
    return (*out = strdup(v)) ? 0 : -2;
}

cloud_err oci_instance_parse(const char *json, size_t len, struct oci_instance *out)
{
    cloud_err rc = CLOUD_ERR_FORMAT;
    memset(out, 0, sizeof *out);
    if (len > CLOUD_METADATA_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc))
        goto fail;
    int r;
    if ((r = take(doc, "canonicalRegionName", &out->region)) || (r = take(doc, "tenantId", &out->tenancy)) ||
        (r = take(doc, "id", &out->id)) || (r = take(doc, "compartmentId", &out->compartment))) {
        rc = r == -2 ? CLOUD_ERR_NOMEM : CLOUD_ERR_FORMAT;
        goto fail;
    }
    if (!region_ok(out->region))
        goto fail;
    json_t *user = json_object_get(doc, "metadata");
    if (user && !json_is_object(user))
        goto fail;
    out->user = json_incref(user);
    json_decref(doc);
    return CLOUD_OK;
fail:
    json_decref(doc);
    oci_instance_clear(out);
    return rc;
}

void oci_instance_clear(struct oci_instance *in)
{
    free(in->region);
    free(in->tenancy);
    free(in->id);
    free(in->compartment);
    json_decref(in->user);
    memset(in, 0, sizeof *in);
}

int oci_instance_each_trusted(const struct oci_instance *in, int (*apply)(void *arg, const char *k, const char *v),
                              void *arg, unsigned *ignored)
{
    return cloud_metadata_each_trusted(in->user, apply, arg, ignored);
}
