/* Unit tests for login/signer: key loading (P-256 only), the kid is the key's RFC 7638
 * thumbprint, and an ephemeral signer's JWS carries a key it verifies with. The payload of a
 * result is tests/unit/login/test_evidence.c. */
#include "test.h"
#include "login/signer.h"
#include "common/jose.h"
#include <openssl/pem.h>

static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *d;
    long n = BIO_get_mem_data(b, &d);
    char *s = strndup(d, (size_t)n);
    BIO_free(b);
    return s;
}

TEST(loads_p256_refuses_others)
{
    char err[128];
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *pem = pem_of(k);
    struct signer *s = signer_from_pem(pem, strlen(pem), err, sizeof err);
    CHECK(s && !signer_is_ephemeral(s));
    json_t *jwk = jose_jwk_from_pkey(k);
    char tp[44];
    jose_jwk_thumbprint(jwk, tp);
    CHECK_STR(signer_kid(s), tp);
    signer_free(s);
    json_decref(jwk);
    free(pem);
    EVP_PKEY_free(k);
    EVP_PKEY *r = EVP_RSA_gen(2048);
    pem = pem_of(r);
    CHECK(signer_from_pem(pem, strlen(pem), err, sizeof err) == NULL);
    CHECK(strstr(err, "P-256") != NULL);
    free(pem);
    EVP_PKEY_free(r);
    k = EVP_EC_gen("P-384");
    pem = pem_of(k);
    CHECK(signer_from_pem(pem, strlen(pem), err, sizeof err) == NULL);
    free(pem);
    EVP_PKEY_free(k);
    CHECK(signer_from_pem("garbage", 7, err, sizeof err) == NULL);
}

TEST(ephemeral_signature_verifies_with_embedded_key)
{
    struct signer *s = signer_ephemeral();
    CHECK(s && signer_is_ephemeral(s));
    static const char payload[] = "{\"ver\":1}";
    char *jws = signer_sign(s, (const uint8_t *)payload, sizeof payload - 1);
    struct jose_jws j;
    CHECK(jws && jose_jws_parse(jws, strlen(jws), &j) == JOSE_OK);
    CHECK(jose_jws_verify_embedded(&j, NULL, NULL) == JOSE_OK);
    CHECK_STR(json_string_value(json_object_get(j.header, "kid")), signer_kid(s));
    CHECK(j.payload_len == sizeof payload - 1 && !memcmp(j.payload, payload, j.payload_len));
    jose_jws_clear(&j);
    free(jws);
    signer_free(s);
}

int main(void)
{
    RUN(loads_p256_refuses_others);
    RUN(ephemeral_signature_verifies_with_embedded_key);
    return test_done();
}
