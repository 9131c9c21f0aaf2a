/* Unit tests for common/jose (JWK thumbprints, ES256, JWS), against the RFC vectors in
 * ../shared/testdata. (common/codec is tests/unit/common/test_codec.c.) */
#include "test.h"
#include "common/jose.h"
#include <openssl/pem.h>
#include <openssl/ec.h>

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) fprintf(stderr, "  %s: %s\n", path, e.text);
    return j;
}

TEST(thumbprint_rfc7638_rsa)
{
    json_t *jwk = load_json(TESTDATA("jwk-thumbprint-rfc7638/rsa_jwk.json"));
    json_t *exp = load_json(TESTDATA("jwk-thumbprint-rfc7638/expected.json"));
    char tp[JOSE_THUMBPRINT_LEN + 1];
    CHECK(jwk && exp);
    CHECK(jose_jwk_thumbprint(jwk, tp) == JOSE_OK);
    CHECK_STR(tp, json_string_value(json_object_get(exp, "expected_thumbprint_b64url")));
    /* optional members do not change it */
    json_object_del(jwk, "alg");
    json_object_del(jwk, "kid");
    char tp2[JOSE_THUMBPRINT_LEN + 1];
    CHECK(jose_jwk_thumbprint(jwk, tp2) == JOSE_OK);
    CHECK_STR(tp, tp2);
    json_object_del(jwk, "e");
    CHECK(jose_jwk_thumbprint(jwk, tp2) == JOSE_ERR_FORMAT);
    json_decref(jwk);
    json_decref(exp);
}

TEST(thumbprint_ec_a3_key)
{
    json_t *jwk = load_json(TESTDATA("jose-rfc7515-a3-es256/jwk_public.json"));
    json_t *exp = load_json(TESTDATA("jose-rfc7515-a3-es256/expected.json"));
    char tp[JOSE_THUMBPRINT_LEN + 1];
    CHECK(jose_jwk_thumbprint(jwk, tp) == JOSE_OK);
    CHECK_STR(tp, json_string_value(json_object_get(exp, "derived_jwk_thumbprint_rfc7638_sha256")));
    /* JWK round trip through an EVP_PKEY gives the same members */
    jose_err e;
    EVP_PKEY *k = jose_pkey_from_jwk(jwk, &e);
    CHECK(k && e == JOSE_OK);
    json_t *back = k ? jose_jwk_from_pkey(k) : NULL;
    char tp2[JOSE_THUMBPRINT_LEN + 1];
    CHECK(back && jose_jwk_thumbprint(back, tp2) == JOSE_OK);
    CHECK_STR(tp, tp2);
    EVP_PKEY_free(k);
    json_decref(back);
    json_decref(jwk);
    json_decref(exp);
}

static EVP_PKEY *a3_public(void)
{
    json_t *jwk = load_json(TESTDATA("jose-rfc7515-a3-es256/jwk_public.json"));
    jose_err e;
    EVP_PKEY *k = jose_pkey_from_jwk(jwk, &e);
    json_decref(jwk);
    return k;
}

TEST(es256_rfc7515_a3_verifies_and_flips_fail)
{
    size_t len;
    char *compact = (char *)test_read_file(TESTDATA("jose-rfc7515-a3-es256/compact_jws.txt"), &len);
    EVP_PKEY *k = a3_public();
    CHECK(compact && k);
    if (!compact || !k) return;
    struct jose_jws j;
    CHECK(jose_jws_parse(compact, len, &j) == JOSE_OK);
    CHECK(j.payload_len == 70);
    CHECK(jose_es256_verify(k, (uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len) == JOSE_OK);
    /* every single-bit flip of the signing input or the signature fails */
    int all_fail = 1;
    for (size_t i = 0; i < j.signing_input_len * 8; i++) {
        j.signing_input[i / 8] ^= (char)(1 << (i % 8));
        if (jose_es256_verify(k, (uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len) == JOSE_OK) all_fail = 0;
        j.signing_input[i / 8] ^= (char)(1 << (i % 8));
    }
    for (size_t i = 0; i < 64 * 8; i++) {
        j.sig[i / 8] ^= (uint8_t)(1 << (i % 8));
        if (jose_es256_verify(k, (uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len) == JOSE_OK) all_fail = 0;
        j.sig[i / 8] ^= (uint8_t)(1 << (i % 8));
    }
    CHECK(all_fail);
    /* another key fails */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    CHECK(jose_es256_verify(other, (uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len) == JOSE_ERR_SIGNATURE);
    /* a DER signature in place of R||S is rejected */
    size_t dl;
    unsigned char *der = test_read_file(TESTDATA("jose-rfc7515-a3-es256/signature_der.bin"), &dl);
    CHECK(der && jose_es256_verify(k, (uint8_t *)j.signing_input, j.signing_input_len, der, dl) == JOSE_ERR_SIGNATURE);
    free(der);
    EVP_PKEY_free(other);
    jose_jws_clear(&j);
    EVP_PKEY_free(k);
    free(compact);
}

TEST(jws_sign_then_verify_embedded)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    json_t *jwk = jose_jwk_from_pkey(k);
    char kid[JOSE_THUMBPRINT_LEN + 1];
    CHECK(jose_jwk_thumbprint(jwk, kid) == JOSE_OK);
    json_t *hdr = json_pack("{s:s, s:s, s:O}", "alg", "ES256", "kid", kid, "jwk", jwk);
    const char *payload = "{\"ver\":1}";
    char *c = jose_jws_compact_sign(k, hdr, (const uint8_t *)payload, strlen(payload));
    CHECK(c != NULL);
    struct jose_jws j;
    CHECK(c && jose_jws_parse(c, strlen(c), &j) == JOSE_OK);
    EVP_PKEY *got = NULL;
    CHECK(jose_jws_verify_embedded(&j, NULL, &got) == JOSE_OK && got);
    CHECK(jose_jws_verify_embedded(&j, k, NULL) == JOSE_OK);
    EVP_PKEY *other = EVP_EC_gen("P-256");
    CHECK(jose_jws_verify_embedded(&j, other, NULL) == JOSE_ERR_KEY);
    /* a kid that is not the thumbprint fails */
    json_object_set_new(j.header, "kid", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(jose_jws_verify_embedded(&j, NULL, NULL) == JOSE_ERR_KID);
    jose_jws_clear(&j);
    /* flattened form carries the same signature input */
    json_t *flat = jose_jws_flat_sign(k, hdr, (const uint8_t *)payload, strlen(payload));
    CHECK(flat && json_is_string(json_object_get(flat, "signature")));
    json_t *bad = json_pack("{s:s}", "alg", "RS256");
    CHECK(jose_jws_compact_sign(k, bad, (const uint8_t *)"x", 1) == NULL);
    json_decref(bad);
    json_decref(flat);
    EVP_PKEY_free(got);
    EVP_PKEY_free(other);
    free(c);
    json_decref(hdr);
    json_decref(jwk);
    EVP_PKEY_free(k);
}

TEST(jws_parse_rejects_malformed)
{
    struct jose_jws j;
    const char *bad[] = {"", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9..", "!!!.e30.AA", "e30.e30.A"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(jose_jws_parse(bad[i], strlen(bad[i]), &j) == JOSE_ERR_FORMAT);
}

int main(void)
{
    RUN(thumbprint_rfc7638_rsa);
    RUN(thumbprint_ec_a3_key);
    RUN(es256_rfc7515_a3_verifies_and_flips_fail);
    RUN(jws_sign_then_verify_embedded);
    RUN(jws_parse_rejects_malformed);
    return test_done();
}
