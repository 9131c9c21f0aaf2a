/* common/oid4vci: the OID4VCI pre-authorized code token request (grant type, repeated or NUL-bearing
 * parameters, tx_code), the credential request (exactly one JWT proof), and the JWT proof checks
 * (nonce, aud, iat window, a key other than the jwk it shows, typ). */
#include "test.h"
#include "jwt_sign.h"
#include "common/jose.h"
#include "common/oid4vci.h"
#include <openssl/ec.h>

static EVP_PKEY *issuer, *holder;

static int nonce_is_good(void *arg, const char *n) { return !strcmp(n, (const char *)arg); }

TEST(oid4vci_requests_and_proofs)
{
    struct oid4vci_token_request tr;
    const char *ok = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc-_1";
    CHECK(oid4vci_token_request_parse(ok, strlen(ok), &tr) == OID4VCI_OK);
    CHECK_STR(tr.code, "abc-_1");
    const char *auth = "grant_type=authorization_code&code=x";
    CHECK(oid4vci_token_request_parse(auth, strlen(auth), &tr) == OID4VCI_ERR_GRANT_TYPE);
    const char *twice = "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=a&pre-authorized_code=b";
    CHECK(oid4vci_token_request_parse(twice, strlen(twice), &tr) == OID4VCI_ERR_FORMAT);
    const char *tx = "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=a&tx_code=1";
    CHECK(oid4vci_token_request_parse(tx, strlen(tx), &tr) == OID4VCI_ERR_TX_CODE);
    const char *nul = "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=a%00b";
    CHECK(oid4vci_token_request_parse(nul, strlen(nul), &tr) == OID4VCI_ERR_FORMAT);

    struct oid4vci_credential_request cr;
    const char *cj = "{\"credential_configuration_id\":\"c\",\"proofs\":{\"jwt\":[\"a.b.c\"]}}";
    CHECK(oid4vci_credential_request_parse(cj, strlen(cj), &cr) == OID4VCI_OK);
    CHECK_STR(cr.proof_jwt, "a.b.c");
    oid4vci_credential_request_clear(&cr);
    const char *two = "{\"credential_configuration_id\":\"c\",\"proofs\":{\"jwt\":[\"a\",\"b\"]}}";
    CHECK(oid4vci_credential_request_parse(two, strlen(two), &cr) == OID4VCI_ERR_PROOF_MISSING);

    json_t *jwk = NULL;
    uint64_t now = 1800000000;
    char *proof = sign_jwt(holder, json_pack("{s:s, s:s, s:o}", "alg", "ES256", "typ", OID4VCI_PROOF_TYP, "jwk",
                                             jose_jwk_from_pkey(holder)),
                           json_pack("{s:s, s:I, s:s}", "aud", "https://issuer.test", "iat", (json_int_t)now, "nonce", "n1"));
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://issuer.test", nonce_is_good, "n1", now, &jwk) == OID4VCI_OK);
    CHECK(jwk && json_object_get(jwk, "x") && !json_object_get(jwk, "d"));
    json_decref(jwk);
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://issuer.test", nonce_is_good, "n2", now, &jwk) ==
          OID4VCI_ERR_PROOF_NONCE);
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://other.test", nonce_is_good, "n1", now, &jwk) ==
          OID4VCI_ERR_PROOF_AUD);
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://issuer.test", nonce_is_good, "n1", now + 3600, &jwk) ==
          OID4VCI_ERR_PROOF_TIME);
    free(proof);
    /* signed by another key than the jwk it shows */
    proof = sign_jwt(issuer, json_pack("{s:s, s:s, s:o}", "alg", "ES256", "typ", OID4VCI_PROOF_TYP, "jwk",
                                       jose_jwk_from_pkey(holder)),
                     json_pack("{s:s, s:I, s:s}", "aud", "https://issuer.test", "iat", (json_int_t)now, "nonce", "n1"));
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://issuer.test", nonce_is_good, "n1", now, &jwk) ==
          OID4VCI_ERR_PROOF_SIGNATURE);
    free(proof);
    proof = sign_jwt(holder, json_pack("{s:s, s:s, s:o}", "alg", "ES256", "typ", "JWT", "jwk", jose_jwk_from_pkey(holder)),
                     json_pack("{s:s, s:I, s:s}", "aud", "https://issuer.test", "iat", (json_int_t)now, "nonce", "n1"));
    CHECK(oid4vci_proof_verify(proof, strlen(proof), "https://issuer.test", nonce_is_good, "n1", now, &jwk) ==
          OID4VCI_ERR_PROOF_FORMAT);
    free(proof);
}

int main(void)
{
    issuer = EVP_EC_gen("P-256");
    holder = EVP_EC_gen("P-256");
    RUN(oid4vci_requests_and_proofs);
    EVP_PKEY_free(issuer);
    EVP_PKEY_free(holder);
    return test_done();
}
