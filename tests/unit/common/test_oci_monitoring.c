/* Unit tests for common/oci_monitoring: the egress guard's Monitoring query and its answer
 * (no series is "unknown", never zero), and the instance action URL. */
#include "test.h"
#include "common/oci.h"
#include <time.h>

TEST(query_body_covers_the_month_at_1h)
{
    time_t now = 1796083200 + 5 * 86400 + 3600;       /* 2026-12-06T01:00:00Z */
    char *b = oci_egress_query_body(NULL, now);
    CHECK(b && strstr(b, "\"namespace\":\"oci_vcn\"") && strstr(b, "\"query\":\"VnicToNetworkBytes[1h].sum()\""));
    CHECK(b && strstr(b, "\"startTime\":\"2026-12-01T00:00:00.000Z\"") && strstr(b, "\"endTime\":\"2026-12-06T01:00:00.000Z\""));
    CHECK(b && strstr(b, "\"resolution\":\"1h\""));
    free(b);
    b = oci_egress_query_body("ocid1.vnic.oc1.phx.v", now);
    CHECK(b && strstr(b, "VnicToNetworkBytes[1h]{resourceId = \\\"ocid1.vnic.oc1.phx.v\\\"}.sum()"));
    free(b);
    CHECK(oci_egress_query_body("bad\"id", now) == NULL);
    CHECK(oci_month_start(1796083200 + 86399) == 1796083200);
}

TEST(answer_sums_and_tells_no_data_from_zero)
{
    double used;
    unsigned series, points;
    const char *two = "[{\"name\":\"VnicToNetworkBytes\",\"dimensions\":{\"resourceId\":\"v1\"},"
                      "\"aggregatedDatapoints\":[{\"timestamp\":\"t\",\"value\":1.5e12},{\"timestamp\":\"u\",\"value\":0}]},"
                      "{\"name\":\"VnicToNetworkBytes\",\"aggregatedDatapoints\":[{\"timestamp\":\"t\",\"value\":5e11}]}]";
    CHECK(oci_egress_parse(two, strlen(two), &used, &series, &points) == CLOUD_OK);
    CHECK(used == 2e12 && series == 2 && points == 3);
    CHECK(oci_egress_parse("[]", 2, &used, &series, &points) == CLOUD_OK && series == 0 && used == 0);
    const char *zero = "[{\"name\":\"VnicToNetworkBytes\",\"aggregatedDatapoints\":[{\"timestamp\":\"t\",\"value\":0}]}]";
    CHECK(oci_egress_parse(zero, strlen(zero), &used, &series, &points) == CLOUD_OK && series == 1 && used == 0);
    const char *bad[] = {"{}", "[{\"name\":\"VnicFromNetworkBytes\",\"aggregatedDatapoints\":[]}]",
                         "[{\"name\":\"VnicToNetworkBytes\",\"aggregatedDatapoints\":[{\"value\":\"1\"}]}]",
                         "[{\"name\":\"VnicToNetworkBytes\",\"aggregatedDatapoints\":[{\"value\":-1}]}]",
                         "[{\"name\":\"VnicToNetworkBytes\"}]", "[", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(oci_egress_parse(bad[i], strlen(bad[i]), &used, &series, &points) == CLOUD_ERR_FORMAT);
}

TEST(urls)
{
    char *u = oci_monitoring_url(NULL, "us-phoenix-1", "ocid1.compartment.oc1..c");
    CHECK_STR(u, "https://telemetry.us-phoenix-1.oraclecloud.com/20180401/metrics/actions/summarizeMetricsData"
                 "?compartmentId=ocid1.compartment.oc1..c");
    free(u);
    u = oci_instance_action_url("https://127.0.0.1:9", "us-phoenix-1", "ocid1.instance.oc1.phx.i", "SOFTSTOP");
    CHECK_STR(u, "https://127.0.0.1:9/20160918/instances/ocid1.instance.oc1.phx.i?action=SOFTSTOP");
    free(u);
    u = oci_instance_action_url(NULL, "us-phoenix-1", "ocid1.instance.oc1.phx.i", "SOFTSTOP");
    CHECK_STR(u, "https://iaas.us-phoenix-1.oraclecloud.com/20160918/instances/ocid1.instance.oc1.phx.i?action=SOFTSTOP");
    free(u);
    CHECK(oci_monitoring_url(NULL, "us-phoenix-1", "a/b") == NULL);
    CHECK(oci_instance_action_url(NULL, "r", "ocid1.i", "STOP&x=1") == NULL);
}

int main(void)
{
    RUN(query_body_covers_the_month_at_1h);
    RUN(answer_sums_and_tells_no_data_from_zero);
    RUN(urls);
    return test_done();
}
