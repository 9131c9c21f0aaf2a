/* libFuzzer target: OCI instance metadata v2 (common/oci_metadata: oci_instance_parse and the trust
 * rule's keys). Properties: a parsed document has region, tenancy, id and compartment, the region
 * is a plain host label, and at most the five trusted user-metadata keys are handed out; a failed
 * parse leaves nothing allocated in *out. */
#include "fuzz.h"
#include "common/oci.h"

static int count(void *arg, const char *k, const char *v)
{
    FUZZ_REQUIRE(k && v);
    (*(int *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct oci_instance in;
    if (oci_instance_parse((const char *)data, len, &in) == CLOUD_OK) {
        FUZZ_REQUIRE(in.region && in.tenancy && in.id && in.compartment);
        for (const char *c = in.region; *c; c++)
            FUZZ_REQUIRE((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
        unsigned ignored;
        int k = 0;
        int r = oci_instance_each_trusted(&in, count, &k, &ignored);
        FUZZ_REQUIRE(r == k && r <= 5);
    } else {
        FUZZ_REQUIRE(in.region == NULL && in.user == NULL);
    }
    oci_instance_clear(&in);
    return 0;
}
