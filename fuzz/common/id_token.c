/* libFuzzer target: PayPal's id_token and JWKS (common/id_token). The first byte picks (even: token,
 * odd: JWKS), the rest is the peer's bytes. Properties, checked against the claims independently of
 * id_token.c: a parsed token names RS256 or HS256, has no "crit" and an object of claims; claims
 * accepted for the expectations below have exactly that iss, our client id as aud (or in it, with
 * azp ours when there are several), that nonce, that subject, and exp/iat around the reference
 * time; an HS256 signature verifies only with the key it was made with (the seed's, "fuzz-secret");
 * a parsed JWKS has 1..ID_TOKEN_JWKS_MAX_KEYS keys, and a kid it claims to have is in it. */
#include "fuzz.h"
#include "common/id_token.h"
#include <openssl/hmac.h>

#define AT 1900000000LL
static const struct id_token_expect X = {
    .iss = "https://www.paypal.com", .client_id = "client", .nonce = "n0nce",
    .subject = "user", .subject_len = 4, .at = (time_t)AT,
};

static int is(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s) && !memcmp(json_string_value(v), s, strlen(s));
}

static void token(const char *s, size_t n)
{
    struct id_token t;
    if (id_token_parse(s, n, &t) != ID_TOKEN_OK)
        return;
    FUZZ_REQUIRE(t.alg && (!strcmp(t.alg, "RS256") || !strcmp(t.alg, "HS256")));
    FUZZ_REQUIRE(json_is_object(t.claims) && !json_object_get(t.jws.header, "crit"));
    const char *sub = id_token_subject(&t);
    FUZZ_REQUIRE(!sub || sub == json_string_value(json_object_get(t.claims, "sub")) ||
                 sub == json_string_value(json_object_get(t.claims, "user_id")));
    if (id_token_check_claims(&t, &X) == ID_TOKEN_OK) {
        const json_t *c = t.claims, *aud = json_object_get(c, "aud");
        FUZZ_REQUIRE(is(json_object_get(c, "iss"), X.iss) && is(json_object_get(c, "nonce"), X.nonce));
        if (json_is_array(aud)) {
            int ours = 0;
            for (size_t i = 0; i < json_array_size(aud); i++)
                ours |= is(json_array_get(aud, i), X.client_id);
            FUZZ_REQUIRE(ours && (json_array_size(aud) == 1 || is(json_object_get(c, "azp"), X.client_id)));
        } else {
            FUZZ_REQUIRE(is(aud, X.client_id));
        }
        FUZZ_REQUIRE(!json_object_get(c, "azp") || is(json_object_get(c, "azp"), X.client_id));
        FUZZ_REQUIRE(sub && !strcmp(sub, X.subject));
        json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat");
        FUZZ_REQUIRE(json_is_number(exp) && json_is_number(iat));
        FUZZ_REQUIRE(json_number_value(exp) + ID_TOKEN_SKEW_S >= AT && json_number_value(iat) <= AT + ID_TOKEN_SKEW_S &&
                     AT - json_number_value(iat) <= ID_TOKEN_MAX_AGE_S);
    }
    if (id_token_verify_hs256(&t, "fuzz-secret", 11) == ID_TOKEN_OK) {
        uint8_t mac[32];
        unsigned ml = 0;
        HMAC(EVP_sha256(), "fuzz-secret", 11, (const uint8_t *)t.jws.signing_input, t.jws.signing_input_len, mac, &ml);
        FUZZ_REQUIRE(!strcmp(t.alg, "HS256") && t.jws.sig_len == ml && !memcmp(mac, t.jws.sig, ml));
        FUZZ_REQUIRE(id_token_verify_hs256(&t, "fuzz-secreT", 11) != ID_TOKEN_OK);
    }
    id_token_clear(&t);
}

static void jwks(const char *s, size_t n)
{
    json_t *j = NULL;
    if (id_token_jwks_parse(s, n, &j) != ID_TOKEN_OK) {
        FUZZ_REQUIRE(j == NULL);
        return;
    }
    json_t *keys = json_object_get(j, "keys");
    /* an empty set is a JWKS (RFC 7517 5.1): it verifies nothing, which id_token_jwks_has shows */
    FUZZ_REQUIRE(json_is_array(keys) && json_array_size(keys) <= ID_TOKEN_JWKS_MAX_KEYS);
    FUZZ_REQUIRE(json_array_size(keys) || !id_token_jwks_has(j, "k1"));
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *kid = json_string_value(json_object_get(json_array_get(keys, i), "kid"));
        (void)(kid && id_token_jwks_has(j, kid));
    }
    FUZZ_REQUIRE(!id_token_jwks_has(j, "no such kid \x01"));
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        jwks((const char *)data + 1, size - 1);
    else
        token((const char *)data + 1, size - 1);
    return 0;
}
