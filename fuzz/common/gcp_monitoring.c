/* libFuzzer target: Cloud Monitoring's ListTimeSeriesResponse (common/gcp_monitoring:
 * gcp_egress_parse), which decides whether the GCP egress guard stops the VM, and the metadata
 * server's answers (gcp_instance_field). Properties: an accepted answer sums to a non-negative
 * number of bytes, the same on a second parse; no series means no points and zero bytes (the
 * guard reads that as "unknown", never as zero); an accepted answer re-serialised by jansson
 * parses to the same sums; an accepted metadata field is NUL-terminated inside its buffer and
 * holds only the characters its check allows. */
#include "fuzz.h"
#include "common/gcp_monitoring.h"
#include <jansson.h>
#include <math.h>

static void metadata_field(const uint8_t *data, size_t len)
{
    struct gcp_instance in;
    static const char which[] = "izn";
    for (size_t w = 0; w < 3; w++) {
        memset(&in, 0x5a, sizeof in);
        if (gcp_instance_field(&in, which[w], (const char *)data, len) != CLOUD_OK)
            continue;
        const char *f = which[w] == 'i' ? in.id : which[w] == 'z' ? in.zone : in.name;
        size_t cap = which[w] == 'i' ? sizeof in.id : which[w] == 'z' ? sizeof in.zone : sizeof in.name;
        size_t n = strnlen(f, cap);
        FUZZ_REQUIRE(n > 0 && n < cap);
        for (size_t i = 0; i < n; i++)
            FUZZ_REQUIRE(f[i] > 0x20 && f[i] < 0x7f && f[i] != '/' && f[i] != '"' && f[i] != '\\');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    metadata_field(data, len);
    double bytes, b2;
    unsigned series, points, s2, p2;
    if (gcp_egress_parse((const char *)data, len, &bytes, &series, &points) != CLOUD_OK)
        return 0;
    FUZZ_REQUIRE(!isnan(bytes) && bytes >= 0);
    FUZZ_REQUIRE(series || (!points && bytes == 0));
    FUZZ_REQUIRE(gcp_egress_parse((const char *)data, len, &b2, &s2, &p2) == CLOUD_OK);
    FUZZ_REQUIRE(s2 == series && p2 == points && b2 == bytes);
    json_t *j = json_loadb((const char *)data, len, 0, NULL);
    char *again = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (again && strlen(again) <= len + 64) {
        cloud_err e = gcp_egress_parse(again, strlen(again), &b2, &s2, &p2);
        FUZZ_REQUIRE(e == CLOUD_OK && s2 == series && p2 == points && b2 == bytes);
    }
    free(again);
    return 0;
}
