/* libFuzzer target: the instance-principal federation answer and the security token's expiry
 * (common/oci_federation: oci_federation_parse, oci_jwt_exp). The first byte picks the parser (even:
 * answer, odd: bare token). Properties: a parsed token is shorter than the answer, holds no quote
 * and has a positive expiry; a refused answer yields no token. */
#include "fuzz.h"
#include "common/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = len - 1;
    char *tok = NULL;
    int64_t exp = 0;
    if (data[0] & 1) {
        if (oci_jwt_exp(p, n, &exp) == CLOUD_OK)
            FUZZ_REQUIRE(exp > 0);
    } else if (oci_federation_parse(p, n, &tok, &exp) == CLOUD_OK) {
        FUZZ_REQUIRE(tok && strlen(tok) < n && !strchr(tok, '"') && exp > 0);
    } else {
        FUZZ_REQUIRE(tok == NULL);
    }
    free(tok);
    return 0;
}
