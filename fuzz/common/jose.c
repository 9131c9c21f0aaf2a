/* libFuzzer target: compact JWS and JWK parsing (common/jose), every input through each. Properties:
 * a parsed JWS has an object header, a signature of at most JOSE_MAX_SIG_LEN bytes and a signing
 * input that is exactly the input up to its last '.'; a JWS whose embedded key verifies it has
 * kid = that key's RFC 7638 thumbprint and its signature checks again with the key handed out; a
 * JWK that gives an EC or RSA key has the same thumbprint as the key's own JWK (EC), and a refused
 * JWK hands out no key. */
#include "fuzz.h"
#include "common/jose.h"

static void jws(const char *s, size_t size)
{
    struct jose_jws j;
    if (jose_jws_parse(s, size, &j) != JOSE_OK)
        return;
    const char *dot = memrchr(s, '.', size);
    FUZZ_REQUIRE(dot && json_is_object(j.header) && j.sig_len <= JOSE_MAX_SIG_LEN);
    FUZZ_REQUIRE(j.signing_input_len == (size_t)(dot - s) && !memcmp(j.signing_input, s, j.signing_input_len));
    FUZZ_REQUIRE(j.payload && j.payload[j.payload_len] == 0);
    EVP_PKEY *key = NULL;
    if (jose_jws_verify_embedded(&j, NULL, &key) == JOSE_OK) {
        char tp[JOSE_THUMBPRINT_LEN + 1];
        const char *kid = json_string_value(json_object_get(j.header, "kid"));
        FUZZ_REQUIRE(key && kid);
        FUZZ_REQUIRE(jose_jwk_thumbprint(json_object_get(j.header, "jwk"), tp) == JOSE_OK && !strcmp(tp, kid));
        FUZZ_REQUIRE(jose_es256_verify(key, (const uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len) ==
                     JOSE_OK);
    } else {
        FUZZ_REQUIRE(key == NULL);
    }
    EVP_PKEY_free(key);
    jose_jws_clear(&j);
}

static void jwk(const char *s, size_t size)
{
    json_t *doc = json_loadb(s, size, 0, NULL);
    if (!doc)
        return;
    jose_err e = JOSE_OK;
    EVP_PKEY *ec = jose_pkey_from_jwk(doc, &e);
    FUZZ_REQUIRE(ec ? e == JOSE_OK : e != JOSE_OK);
    if (ec) {
        char a[JOSE_THUMBPRINT_LEN + 1], b[JOSE_THUMBPRINT_LEN + 1];
        json_t *again = jose_jwk_from_pkey(ec);
        FUZZ_REQUIRE(again && jose_jwk_thumbprint(doc, a) == JOSE_OK && jose_jwk_thumbprint(again, b) == JOSE_OK);
        FUZZ_REQUIRE(!strcmp(a, b));
        json_decref(again);
        EVP_PKEY_free(ec);
    }
    e = JOSE_OK;
    EVP_PKEY *rsa = jose_rsa_pkey_from_jwk(doc, &e);
    FUZZ_REQUIRE(rsa ? e == JOSE_OK : e != JOSE_OK);
    if (rsa) {
        char a[JOSE_THUMBPRINT_LEN + 1];
        FUZZ_REQUIRE(!json_object_get(doc, "d") && jose_jwk_thumbprint(doc, a) == JOSE_OK);
        FUZZ_REQUIRE(EVP_PKEY_get_bits(rsa) >= JOSE_RSA_MIN_BITS && EVP_PKEY_get_bits(rsa) <= JOSE_RSA_MAX_BITS);
        EVP_PKEY_free(rsa);
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jws((const char *)data, size);
    jwk((const char *)data, size);
    return 0;
}
