/* gcp_monitoring: the egress guard's and the notifications' Google Cloud requests and answers
 * (see gcp_monitoring.h). Nothing here talks to the network or reads the clock. */
#include "common/gcp_monitoring.h"
#include "common/codec.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rfc1035(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int project_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > 30 || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int zone_ok(const char *s, size_t n)
{
    /* region-zone: lowercase letters, digits and '-' (us-central1-b, europe-west4-a) */
    return rfc1035(s, n) && memchr(s, '-', n) != NULL;
}

static void put(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

cloud_err gcp_instance_field(struct gcp_instance *in, char which, const char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    switch (which) {
    case 'i':
        if (n == 0 || n > 20)
            return CLOUD_ERR_FORMAT;
        for (size_t i = 0; i < n; i++)
            if (s[i] < '0' || s[i] > '9')
                return CLOUD_ERR_FORMAT;
        put(in->id, sizeof in->id, s, n);
        return CLOUD_OK;
    case 'z': {
        /* projects/NUMBER/zones/ZONE */
        const char *p = s, *end = s + n;
        if (n < 16 || memcmp(p, "projects/", 9))
            return CLOUD_ERR_FORMAT;
        p += 9;
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash || slash == p || (size_t)(end - slash) < 8 || memcmp(slash, "/zones/", 7))
            return CLOUD_ERR_FORMAT;
        for (const char *q = p; q < slash; q++)
            if (*q < '0' || *q > '9')
                return CLOUD_ERR_FORMAT;
        const char *z = slash + 7;
        if (!zone_ok(z, (size_t)(end - z)) || (size_t)(end - z) >= sizeof in->zone)
            return CLOUD_ERR_FORMAT;
        put(in->zone, sizeof in->zone, z, (size_t)(end - z));
        return CLOUD_OK;
    }
    case 'n':
        if (!rfc1035(s, n))
            return CLOUD_ERR_FORMAT;
        put(in->name, sizeof in->name, s, n);
        return CLOUD_OK;
    }
    return CLOUD_ERR_ARG;
}

static int complete(const struct gcp_instance *in)
{
    return in && project_ok(in->project) && in->id[0] && in->zone[0] && in->name[0];
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap, aq;
    va_start(ap, f);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, f, aq);
    va_end(aq);
    return s;
}

static void iso(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t month_start(time_t now)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return timegm(&tm);
}

char *gcp_egress_query_url(const char *api_base, const struct gcp_instance *in, time_t now)
{
    if (!complete(in))
        return NULL;
    /* One alignment period from the month's start to now (at least the 60 s Monitoring allows:
     * in the first minute of a month it reaches back into the last one, which only over-counts). */
    time_t start = month_start(now);
    long period = (long)(now - start);
    if (period < GCP_ALIGN_MIN_S)
        period = GCP_ALIGN_MIN_S;
    char s[32], e[32];
    iso(s, now - period);
    iso(e, now);
    /* the filter, URL-encoded: metric.type="..." AND resource.type="gce_instance" AND
     * resource.labels.instance_id="ID" (ids are digits; names below are [a-z0-9-]) */
    return fmt("%s/v3/projects/%s/timeSeries?filter=metric.type%%3D%%22" GCP_EGRESS_METRIC "%%22%%20AND%%20"
               "resource.type%%3D%%22gce_instance%%22%%20AND%%20resource.labels.instance_id%%3D%%22%s%%22"
               "&interval.startTime=%s&interval.endTime=%s&aggregation.alignmentPeriod=%lds"
               "&aggregation.perSeriesAligner=ALIGN_DELTA&aggregation.crossSeriesReducer=REDUCE_SUM&view=FULL",
               api_base ? api_base : GCP_MONITORING_BASE, in->project, in->id, s, e, period);
}

/* int64Value is a decimal string in JSON (proto3 mapping); doubleValue a number */
static int point_value(json_t *v, double *out)
{
    json_t *i = json_object_get(v, "int64Value"), *d = json_object_get(v, "doubleValue");
    uint64_t u;
    if (json_is_string(i) && !codec_parse_u64(json_string_value(i), json_string_length(i), 0, UINT64_MAX, &u)) {
        *out = (double)u;
        return 0;
    }
    if (json_is_integer(i) && json_integer_value(i) >= 0) {
        *out = (double)json_integer_value(i);
        return 0;
    }
    if (json_is_number(d) && json_number_value(d) >= 0) {
        *out = json_number_value(d);
        return 0;
    }
    return -1;
}

cloud_err gcp_egress_parse(const char *json, size_t len, double *bytes, unsigned *series, unsigned *points)
{
    *bytes = 0;
    *series = *points = 0;
    if (len > CLOUD_METRICS_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (!json_is_object(root))
        goto fail;
    const char *next = json_string_value(json_object_get(root, "nextPageToken"));
    if (next && *next)
        goto fail;   /* more pages: what is here is not the whole month */
    json_t *ts = json_object_get(root, "timeSeries");
    if (ts && !json_is_array(ts))
        goto fail;
    size_t i, j;
    json_t *s, *p;
    json_array_foreach(ts, i, s) {
        const char *type = json_string_value(json_object_get(json_object_get(s, "metric"), "type"));
        json_t *pts = json_object_get(s, "points");
        if (!type || strcmp(type, GCP_EGRESS_METRIC) || !json_is_array(pts))
            goto fail;
        (*series)++;
        json_array_foreach(pts, j, p) {
            double v;
            if (point_value(json_object_get(p, "value"), &v))
                goto fail;
            *bytes += v;
            (*points)++;
        }
    }
    rc = CLOUD_OK;
fail:
    if (rc) {
        *bytes = 0;
        *series = *points = 0;
    }
    json_decref(root);
    return rc;
}

char *gcp_instance_stop_url(const char *api_base, const struct gcp_instance *in)
{
    if (!complete(in))
        return NULL;
    return fmt("%s/compute/v1/projects/%s/zones/%s/instances/%s/stop", api_base ? api_base : GCP_COMPUTE_BASE,
               in->project, in->zone, in->name);
}

static int topic_ok(const char *s, size_t n)
{
    /* Pub/Sub topic ids: 3-255 characters, a letter first; letters, digits, - _ . ~ + % */
    if (n < 3 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '~' || c == '+'))
            return 0;
    }
    return strncmp(s, "goog", 4) != 0;
}

char *gcp_pubsub_publish_url(const char *api_base, const char *project, const char *topic)
{
    char p[64];
    const char *t = topic;
    if (!topic)
        return NULL;
    if (!strncmp(topic, "projects/", 9)) {
        const char *e = strchr(topic + 9, '/');
        if (!e || (size_t)(e - topic - 9) >= sizeof p || strncmp(e, "/topics/", 8))
            return NULL;
        put(p, sizeof p, topic + 9, (size_t)(e - topic - 9));
        t = e + 8;
    } else if (!project || strlen(project) >= sizeof p) {
        return NULL;
    } else {
        put(p, sizeof p, project, strlen(project));
    }
    if (!project_ok(p) || !topic_ok(t, strlen(t)))
        return NULL;
    return fmt("%s/v1/projects/%s/topics/%s:publish", api_base ? api_base : GCP_PUBSUB_BASE, p, t);
}

char *gcp_pubsub_publish_body(const char *title, const char *body)
{
    size_t bl = body ? strlen(body) : 0, tl = title ? strlen(title) : 0;
    if (bl > CLOUD_NOTIFY_MAX_BODY || tl > CLOUD_NOTIFY_MAX_TITLE)
        return NULL;
    char *b64 = bl ? codec_b64_encode_alloc((const uint8_t *)body, bl) : strdup("");
    if (!b64)
        return NULL;
    /* data must not be empty and attributes carry the title: a message is never empty */
    json_t *o = json_pack("{s:[{s:s, s:{s:s}}]}", "messages", "data", b64, "attributes", "title", title ? title : "");
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    free(b64);
    return out;
}
