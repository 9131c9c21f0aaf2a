/* libFuzzer target: Monitoring's SummarizeMetricsData answer (common/oci_monitoring:
 * oci_egress_parse), which decides whether the egress guard stops the VM. Properties: an accepted
 * answer sums to a non-negative number of bytes that is the same on a second parse; no series
 * means no points and zero bytes (never "unknown" read as zero); an accepted answer re-serialised
 * by jansson parses to the same sums. */
#include "fuzz.h"
#include "common/oci.h"
#include <jansson.h>
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    double bytes, b2;
    unsigned series, points, s2, p2;
    if (oci_egress_parse((const char *)data, len, &bytes, &series, &points) != CLOUD_OK)
        return 0;
    FUZZ_REQUIRE(!isnan(bytes) && bytes >= 0);
    FUZZ_REQUIRE(series || (!points && bytes == 0));
    FUZZ_REQUIRE(oci_egress_parse((const char *)data, len, &b2, &s2, &p2) == CLOUD_OK);
    FUZZ_REQUIRE(s2 == series && p2 == points && (b2 == bytes || (isinf(b2) && isinf(bytes))));
    json_t *j = json_loadb((const char *)data, len, 0, NULL);
    char *again = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (again && strlen(again) <= len + 64) {
        cloud_err e = oci_egress_parse(again, strlen(again), &b2, &s2, &p2);
        FUZZ_REQUIRE(e == CLOUD_OK && s2 == series && p2 == points);
    }
    free(again);
    return 0;
}
