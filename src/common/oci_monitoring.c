/* oci_monitoring: the two OCI calls of the in-VM egress guard, as pure functions: the Monitoring
 * SummarizeMetricsData request for this month's oci_vcn VnicToNetworkBytes and its answer, and the
 * Compute InstanceAction URL that stops the VM itself. No network, no clock (times are passed in). */
#include "common/oci.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *oci_monitoring_url(const char *api_base, const char *region, const char *compartment_id)
{
    if (!oci_id_ok(compartment_id))
        return NULL;
    return oci_endpoint_url(api_base, "telemetry", region, OCI_REALM_DOMAIN,
                            "/20180401/metrics/actions/summarizeMetricsData?compartmentId=",
                            compartment_id, "");
}

char *oci_instance_action_url(const char *api_base, const char *region, const char *instance_id, const char *action)
{
    if (!oci_id_ok(instance_id) || !oci_id_ok(action))
        return NULL;
    char suffix[64];
    snprintf(suffix, sizeof suffix, "?action=%s", action);
    return oci_endpoint_url(api_base, "iaas", region, OCI_REALM_DOMAIN, "/20160918/instances/", instance_id, suffix);
}

static void iso(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

time_t oci_month_start(time_t now)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return timegm(&tm);
}

char *oci_egress_query_body(const char *vnic_id, time_t now)
{
    char start[32], end[32], query[384];
    iso(start, oci_month_start(now));
    iso(end, now);
    if (vnic_id && !oci_id_ok(vnic_id))
        return NULL;
    if (vnic_id)
        snprintf(query, sizeof query, "VnicToNetworkBytes[1h]{resourceId = \"%s\"}.sum()", vnic_id);
    else
        snprintf(query, sizeof query, "VnicToNetworkBytes[1h].sum()");
    /* 1h resolution: OCI returns up to 90 days of it (1m only 7 days), so the whole month is in */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "oci_vcn", "query", query, "startTime", start,
                          "endTime", end, "resolution", "1h");
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return out;
}

cloud_err oci_egress_parse(const char *json, size_t len, double *bytes, unsigned *series, unsigned *points)
{
    *bytes = 0;
    *series = *points = 0;
    if (len > CLOUD_METRICS_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (!json_is_array(root))
        goto fail;
    size_t i, j;
    json_t *s, *p;
    json_array_foreach(root, i, s) {
        json_t *name = json_object_get(s, "name"), *dps = json_object_get(s, "aggregatedDatapoints");
        if (!json_is_string(name) || strcmp(json_string_value(name), "VnicToNetworkBytes") || !json_is_array(dps))
            goto fail;
        (*series)++;
        json_array_foreach(dps, j, p) {
            json_t *v = json_object_get(p, "value");
            if (!json_is_number(v) || json_number_value(v) < 0)
                goto fail;
            *bytes += json_number_value(v);
            (*points)++;
        }
    }
    rc = CLOUD_OK;
fail:
    json_decref(root);
    return rc;
}
