/* Unit tests for common/gcp_monitoring: the instance's metadata fields, the egress query URL, the
 * ListTimeSeriesResponse sum (no series is not zero, other metrics and further pages are refused),
 * the stop URL and the Pub/Sub publish request. */
#include "test.h"
#include "common/gcp_monitoring.h"
#include <stdlib.h>

static struct gcp_instance inst(void)
{
    struct gcp_instance in = {0};
    snprintf(in.project, sizeof in.project, "sealed-test-project");
    if (gcp_instance_field(&in, 'i', "4567890123456789012\n", 20) ||
        gcp_instance_field(&in, 'z', "projects/123456789012/zones/us-central1-b", 41) ||
        gcp_instance_field(&in, 'n', "sealed-login", 12))
        in.name[0] = 0;
    return in;
}

TEST(instance_fields)
{
    struct gcp_instance in = inst();
    CHECK(!strcmp(in.id, "4567890123456789012") && !strcmp(in.zone, "us-central1-b") && !strcmp(in.name, "sealed-login"));
    CHECK(gcp_instance_field(&in, 'i', "12a", 3) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'i', "123456789012345678901", 21) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'z', "us-central1-b", 13) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'z', "projects/p/zones/us-central1-b", 30) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'z', "projects/1/zones/US/../x", 24) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'n', "Sealed", 6) == CLOUD_ERR_FORMAT);
    CHECK(gcp_instance_field(&in, 'n', "a/b", 3) == CLOUD_ERR_FORMAT);
    CHECK(!strcmp(in.zone, "us-central1-b"));   /* a refused value changes nothing */
}

TEST(query_url)
{
    struct gcp_instance in = inst();
    time_t now = 1796083200 + 86400 * 3 + 3600;   /* 2026-12-04 01:00:00 UTC */
    char *u = gcp_egress_query_url(NULL, &in, now);
    CHECK(u && !strncmp(u, "https://monitoring.googleapis.com/v3/projects/sealed-test-project/timeSeries?filter=", 84));
    CHECK(strstr(u, "metric.type%3D%22compute.googleapis.com%2Finstance") == NULL);   /* '/' stays as is */
    CHECK(strstr(u, "metric.type%3D%22compute.googleapis.com/instance/network/sent_bytes_count%22%20AND%20"
                    "resource.type%3D%22gce_instance%22%20AND%20resource.labels.instance_id%3D%224567890123456789012%22"));
    CHECK(strstr(u, "&interval.startTime=2026-12-01T00:00:00Z&interval.endTime=2026-12-04T01:00:00Z"));
    CHECK(strstr(u, "&aggregation.alignmentPeriod=262800s&aggregation.perSeriesAligner=ALIGN_DELTA"
                    "&aggregation.crossSeriesReducer=REDUCE_SUM"));
    free(u);
    u = gcp_egress_query_url("http://127.0.0.1:9", &in, 1796083200 + 10);   /* 10 s into the month */
    CHECK(u && !strncmp(u, "http://127.0.0.1:9/v3/", 22) && strstr(u, "alignmentPeriod=60s"));
    CHECK(strstr(u, "interval.startTime=2026-11-30T23:59:10Z"));
    free(u);
    struct gcp_instance half = in;
    half.id[0] = 0;
    CHECK(gcp_egress_query_url(NULL, &half, now) == NULL);
}

TEST(parse)
{
    double b;
    unsigned s, p;
    const char *one = "{\"timeSeries\":[{\"metric\":{\"type\":\"" GCP_EGRESS_METRIC "\"},\"resource\":{\"type\":"
                      "\"gce_instance\"},\"metricKind\":\"DELTA\",\"valueType\":\"INT64\",\"points\":[{\"interval\":{},"
                      "\"value\":{\"int64Value\":\"193273528320\"}},{\"value\":{\"int64Value\":\"7\"}}]}],\"unit\":\"By\"}";
    CHECK(gcp_egress_parse(one, strlen(one), &b, &s, &p) == CLOUD_OK && s == 1 && p == 2 && b == 193273528327.0);
    CHECK(gcp_egress_parse("{}", 2, &b, &s, &p) == CLOUD_OK && s == 0 && b == 0);   /* no data: the caller decides */
    CHECK(gcp_egress_parse("{\"unit\":\"By\"}", 13, &b, &s, &p) == CLOUD_OK && s == 0);
    const char *other = "{\"timeSeries\":[{\"metric\":{\"type\":\"compute.googleapis.com/instance/network/received_bytes_count\"},"
                        "\"points\":[]}]}";
    CHECK(gcp_egress_parse(other, strlen(other), &b, &s, &p) == CLOUD_ERR_FORMAT);
    const char *neg = "{\"timeSeries\":[{\"metric\":{\"type\":\"" GCP_EGRESS_METRIC "\"},\"points\":[{\"value\":{\"int64Value\":\"-1\"}}]}]}";
    CHECK(gcp_egress_parse(neg, strlen(neg), &b, &s, &p) == CLOUD_ERR_FORMAT && s == 0 && b == 0);
    const char *paged = "{\"timeSeries\":[],\"nextPageToken\":\"abc\"}";
    CHECK(gcp_egress_parse(paged, strlen(paged), &b, &s, &p) == CLOUD_ERR_FORMAT);
    const char *dbl = "{\"timeSeries\":[{\"metric\":{\"type\":\"" GCP_EGRESS_METRIC "\"},\"points\":[{\"value\":{\"doubleValue\":1.5e3}}]}]}";
    CHECK(gcp_egress_parse(dbl, strlen(dbl), &b, &s, &p) == CLOUD_OK && b == 1500);
    CHECK(gcp_egress_parse("[]", 2, &b, &s, &p) == CLOUD_ERR_FORMAT);
    CHECK(gcp_egress_parse("{\"timeSeries\":{}}", 17, &b, &s, &p) == CLOUD_ERR_FORMAT);
}

TEST(stop_and_publish)
{
    struct gcp_instance in = inst();
    char *u = gcp_instance_stop_url(NULL, &in);
    CHECK(u && !strcmp(u, "https://compute.googleapis.com/compute/v1/projects/sealed-test-project/zones/us-central1-b/"
                          "instances/sealed-login/stop"));
    free(u);
    u = gcp_pubsub_publish_url(NULL, "sealed-test-project", "sealed-login-notify");
    CHECK(u && !strcmp(u, "https://pubsub.googleapis.com/v1/projects/sealed-test-project/topics/sealed-login-notify:publish"));
    free(u);
    u = gcp_pubsub_publish_url("http://x", NULL, "projects/other-project/topics/t-1");
    CHECK(u && !strcmp(u, "http://x/v1/projects/other-project/topics/t-1:publish"));
    free(u);
    CHECK(gcp_pubsub_publish_url(NULL, "sealed-test-project", "goog-x") == NULL);
    CHECK(gcp_pubsub_publish_url(NULL, "sealed-test-project", "a/b") == NULL);
    CHECK(gcp_pubsub_publish_url(NULL, NULL, "topic") == NULL);
    CHECK(gcp_pubsub_publish_url(NULL, "p", "projects/x/subscriptions/y") == NULL);
    char *b = gcp_pubsub_publish_body("title \"q\"", "hello");
    CHECK(b && !strcmp(b, "{\"messages\":[{\"data\":\"aGVsbG8=\",\"attributes\":{\"title\":\"title \\\"q\\\"\"}}]}"));
    free(b);
}

int main(void)
{
    RUN(instance_fields);
    RUN(query_url);
    RUN(parse);
    RUN(stop_and_publish);
    return test_done();
}
