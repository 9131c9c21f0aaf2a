/* Unit tests for login/signer and login/evidence: key loading, JWS header contract, payload. */
#include "test.h"
#include "login/signer.h"
#include "login/evidence.h"
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

TEST(signed_payload_verifies_with_embedded_key)
{
    struct signer *s = signer_ephemeral();
    CHECK(s && signer_is_ephemeral(s));
    json_t *ui = json_pack("{s:s, s:s}", "user_id", "https://www.paypal.com/webapps/auth/identity/user/X", "name", "A");
    struct evidence_input in = {
        .iss = "https://localhost:8443", .paypal_env = "sandbox", .client_id = "CID",
        .user_id = "https://www.paypal.com/webapps/auth/identity/user/X", .user_id_len = 51,
        .userinfo = ui, .kid = signer_kid(s),
        .tls_spki_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    CHECK(evidence_prepare(&in) == 0 && strlen(in.nonce_hex) == 32);
    uint8_t rd[64];
    CHECK(evidence_report_data(&in, rd) == 0);
    json_t *ev = json_pack("[{s:s, s:s}]", "type", "none", "reason", "test");
    char *payload = evidence_payload(&in, rd, ev);
    CHECK(payload != NULL);
    char *jws = signer_sign(s, (const uint8_t *)payload, strlen(payload));
    struct jose_jws j;
    CHECK(jws && jose_jws_parse(jws, strlen(jws), &j) == JOSE_OK);
    CHECK(jose_jws_verify_embedded(&j, NULL, NULL) == JOSE_OK);
    json_t *p = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
    CHECK(json_integer_value(json_object_get(p, "ver")) == 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "paypal"), "client_id")), "CID");
    CHECK(json_is_null(json_object_get(p, "measurement")));
    CHECK(strlen(json_string_value(json_object_get(p, "report_data"))) == 128);
    json_decref(p);
    jose_jws_clear(&j);
    free(jws);
    free(payload);
    json_decref(ev);
    json_decref(ui);
    signer_free(s);
}

int main(void)
{
    RUN(loads_p256_refuses_others);
    RUN(signed_payload_verifies_with_embedded_key);
    return test_done();
}
