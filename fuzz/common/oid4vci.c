/* libFuzzer target: the OID4VCI request parsers (common/oid4vci), every input through each: the
 * token request form, the credential request and a JWT proof. Properties: a token request's code
 * is 1..OID4VCI_CODE_MAX bytes; a credential request names its configuration and one proof JWT,
 * both inside the parsed document; a proof the fuzzer makes never verifies (it cannot carry a
 * valid ES256 signature), and a refused proof hands out no key. */
#include "fuzz.h"
#include "common/oid4vci.h"

static int any_nonce(void *arg, const char *n) { (void)arg; (void)n; return 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct oid4vci_token_request tr;
    if (oid4vci_token_request_parse(s, size, &tr) == OID4VCI_OK) {
        size_t n = strnlen(tr.code, sizeof tr.code);
        FUZZ_REQUIRE(n >= 1 && n <= OID4VCI_CODE_MAX);
    }
    struct oid4vci_credential_request cr;
    if (oid4vci_credential_request_parse(s, size, &cr) == OID4VCI_OK) {
        FUZZ_REQUIRE(cr.root && cr.config_id && cr.proof_jwt);
        oid4vci_credential_request_clear(&cr);
    }
    json_t *jwk = NULL;
    oid4vci_err e = oid4vci_proof_verify(s, size, "https://issuer.test", any_nonce, NULL, 0, &jwk);
    FUZZ_REQUIRE(e != OID4VCI_OK && jwk == NULL);
    FUZZ_REQUIRE(oid4vci_strerror(e) && oid4vci_error_code(e));
    return 0;
}
