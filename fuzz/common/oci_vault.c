/* libFuzzer target: Vault's GetSecretBundle answer (common/oci_vault: oci_vault_parse). Properties:
 * a decoded secret is shorter than the answer and NUL-terminated; a refused answer yields no buffer. */
#include "fuzz.h"
#include "common/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    if (oci_vault_parse((const char *)data, len, &out, &outlen) == CLOUD_OK)
        FUZZ_REQUIRE(out && outlen < len && out[outlen] == 0);
    else
        FUZZ_REQUIRE(out == NULL);
    free(out);
    return 0;
}
