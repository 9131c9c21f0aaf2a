/* Unit tests for common/id_token (PayPal's id_token: parse, RS256 against a JWKS, HS256, OIDC
 * claim checks) and binding_oidc_nonce, with tokens made here (OpenSSL RSA key, HMAC). */
#include "test.h"
#include "common/binding.h"
#include "common/codec.h"
#include "common/id_token.h"
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

static EVP_PKEY *rsa;

static char *b64u_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    char *o = codec_b64url_encode_alloc((const uint8_t *)s, strlen(s));
    free(s);
    json_decref(j);
    return o;
}

/* A compact JWT of claims signed with alg (RS256 with rsa, HS256 with key "secret"). */
static char *make_token(const char *alg, const char *kid, json_t *claims)
{
    json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
    if (kid)
        json_object_set_new(h, "kid", json_string(kid));
    char *hb = b64u_json(h), *pb = b64u_json(claims);
    size_t n = strlen(hb) + strlen(pb) + 2;
    char *si = malloc(n);
    snprintf(si, n, "%s.%s", hb, pb);
    uint8_t sig[512];
    size_t sl = sizeof sig;
    if (!strcmp(alg, "HS256")) {
        unsigned int ml = 0;
        HMAC(EVP_sha256(), "secret", 6, (const uint8_t *)si, strlen(si), sig, &ml);
        sl = ml;
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, rsa);
        EVP_DigestSign(md, sig, &sl, (const uint8_t *)si, strlen(si));
        EVP_MD_CTX_free(md);
    }
    char *sb = codec_b64url_encode_alloc(sig, sl);
    n = strlen(si) + strlen(sb) + 2;
    char *t = malloc(n);
    snprintf(t, n, "%s.%s", si, sb);
    free(hb); free(pb); free(si); free(sb);
    return t;
}

static json_t *jwks_of(EVP_PKEY *k, const char *kid)
{
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
    uint8_t nb[512], eb[8];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    char *ns = codec_b64url_encode_alloc(nb, (size_t)nl), *es = codec_b64url_encode_alloc(eb, (size_t)el);
    json_t *j = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys", "kty", "RSA", "use", "sig", "alg", "RS256",
                          "kid", kid, "n", ns, "e", es);
    free(ns); free(es); BN_free(n); BN_free(e);
    return j;
}

static char nonce[BINDING_OIDC_NONCE_LEN + 1];

static json_t *claims(time_t now)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", "https://www.paypal.com", "aud", "cid",
                     "sub", "https://www.paypal.com/webapps/auth/identity/user/abc", "user_id",
                     "https://www.paypal.com/webapps/auth/identity/user/abc", "iat", (json_int_t)now,
                     "exp", (json_int_t)now + 3600, "nonce", nonce);
}

static struct id_token_expect expect(time_t now)
{
    static const char sub[] = "https://www.paypal.com/webapps/auth/identity/user/abc";
    return (struct id_token_expect){.iss = "https://www.paypal.com", .client_id = "cid", .nonce = nonce,
                                    .subject = sub, .subject_len = sizeof sub - 1, .at = now};
}

TEST(oidc_nonce_is_derived_from_the_result_nonce)
{
    char out[BINDING_OIDC_NONCE_LEN + 1];
    CHECK(binding_oidc_nonce("00112233445566778899aabbccddeeff", out) == 0 && strlen(out) == 43);
    uint8_t h[32];
    const char m[] = "SEALED_LOGIN_V1|OIDC_NONCE=00112233445566778899aabbccddeeff";
    EVP_Digest(m, sizeof m - 1, h, NULL, EVP_sha256(), NULL);
    char want[44];
    codec_b64url_encode(h, 32, want, sizeof want);
    CHECK_STR(out, want);
    CHECK(binding_oidc_nonce("00112233445566778899AABBCCDDEEFF", out) == -1);
    CHECK(binding_oidc_nonce("0011", out) == -1);
}

TEST(rs256_verifies_with_its_jwks_only)
{
    time_t now = time(NULL);
    char *t = make_token("RS256", "k1", claims(now));
    struct id_token it;
    json_t *jw = jwks_of(rsa, "k1"), *other = jwks_of(rsa, "k2");
    CHECK(id_token_parse(t, strlen(t), &it) == ID_TOKEN_OK);
    CHECK(id_token_verify_jwks(&it, jw) == ID_TOKEN_OK);
    CHECK(id_token_verify_jwks(&it, other) == ID_TOKEN_ERR_KID);
    CHECK(id_token_verify_jwks(&it, NULL) == ID_TOKEN_ERR_NOKEY);
    CHECK(id_token_verify_hs256(&it, "secret", 6) == ID_TOKEN_ERR_NOKEY);   /* no alg confusion */
    struct id_token_expect x = expect(now);
    CHECK(id_token_check_claims(&it, &x) == ID_TOKEN_OK);
    id_token_clear(&it);
    t[strlen(t) - 10] = t[strlen(t) - 10] == 'A' ? 'B' : 'A';   /* a signature byte changed */
    CHECK(id_token_parse(t, strlen(t), &it) == ID_TOKEN_OK);
    CHECK(id_token_verify_jwks(&it, jw) == ID_TOKEN_ERR_SIGNATURE);
    id_token_clear(&it);
    free(t);
    json_decref(jw);
    json_decref(other);
}

TEST(hs256_verifies_with_the_secret)
{
    time_t now = time(NULL);
    char *t = make_token("HS256", NULL, claims(now));
    struct id_token it;
    CHECK(id_token_parse(t, strlen(t), &it) == ID_TOKEN_OK);
    CHECK(id_token_verify_hs256(&it, "secret", 6) == ID_TOKEN_OK);
    CHECK(id_token_verify_hs256(&it, "secreT", 6) == ID_TOKEN_ERR_SIGNATURE);
    json_t *jw = jwks_of(rsa, "k1");
    CHECK(id_token_verify_jwks(&it, jw) == ID_TOKEN_ERR_NOKEY);
    json_decref(jw);
    id_token_clear(&it);
    free(t);
}

TEST(each_claim_is_checked)
{
    time_t now = time(NULL);
    struct { const char *k; json_t *v; id_token_err want; } cases[] = {
        {"iss", json_string("https://evil.example"), ID_TOKEN_ERR_ISS},
        {"aud", json_string("other"), ID_TOKEN_ERR_AUD},
        {"aud", json_pack("[s,s]", "cid", "other"), ID_TOKEN_ERR_AUD},   /* two audiences, no azp */
        {"aud", json_pack("[s]", "cid"), ID_TOKEN_OK},
        {"azp", json_string("other"), ID_TOKEN_ERR_AUD},
        {"exp", json_integer((json_int_t)now - ID_TOKEN_SKEW_S - 1), ID_TOKEN_ERR_EXPIRED},
        {"exp", json_integer((json_int_t)now - ID_TOKEN_SKEW_S + 5), ID_TOKEN_OK},   /* within the skew */
        {"iat", json_integer((json_int_t)now + ID_TOKEN_SKEW_S + 5), ID_TOKEN_ERR_IAT},
        {"iat", json_integer((json_int_t)now - ID_TOKEN_MAX_AGE_S - 5), ID_TOKEN_ERR_IAT},
        {"iat", json_string("now"), ID_TOKEN_ERR_IAT},
        {"nonce", json_string("x"), ID_TOKEN_ERR_NONCE},
        {"sub", json_string("https://www.paypal.com/webapps/auth/identity/user/abd"), ID_TOKEN_ERR_SUB},
        {"user_id", json_string("someone-else"), ID_TOKEN_ERR_SUB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *c = claims(now);
        json_object_set_new(c, cases[i].k, cases[i].v);
        char *t = make_token("HS256", NULL, c);
        struct id_token it;
        struct id_token_expect x = expect(now);
        CHECK(id_token_parse(t, strlen(t), &it) == ID_TOKEN_OK);
        id_token_err e = id_token_check_claims(&it, &x);
        if (e != cases[i].want)
            fprintf(stderr, "  case %zu (%s): got %d want %d\n", i, cases[i].k, e, cases[i].want);
        CHECK(e == cases[i].want);
        id_token_clear(&it);
        free(t);
    }
    /* neither sub nor user_id */
    json_t *c = claims(now);
    json_object_del(c, "sub");
    json_object_del(c, "user_id");
    char *t = make_token("HS256", NULL, c);
    struct id_token it;
    struct id_token_expect x = expect(now);
    CHECK(id_token_parse(t, strlen(t), &it) == ID_TOKEN_OK && id_token_check_claims(&it, &x) == ID_TOKEN_ERR_SUB);
    id_token_clear(&it);
    free(t);
}

TEST(parse_refuses_other_algorithms_and_malformed_input)
{
    struct id_token it;
    char *t = make_token("HS256", NULL, claims(time(NULL)));
    char *dot = strchr(t, '.');
    /* header {"alg":"none"} with the same claims and an empty signature */
    char buf[4096];
    snprintf(buf, sizeof buf, "eyJhbGciOiJub25lIn0%.*s.", (int)(strrchr(t, '.') - dot), dot);
    CHECK(id_token_parse(buf, strlen(buf), &it) == ID_TOKEN_ERR_FORMAT);
    snprintf(buf, sizeof buf, "eyJhbGciOiJub25lIn0%.*s.AAAA", (int)(strrchr(t, '.') - dot), dot);
    CHECK(id_token_parse(buf, strlen(buf), &it) == ID_TOKEN_ERR_ALG);
    CHECK(id_token_parse("a.b", 3, &it) == ID_TOKEN_ERR_FORMAT);
    CHECK(id_token_parse(t, ID_TOKEN_MAX_LEN + 1, &it) == ID_TOKEN_ERR_FORMAT);
    free(t);
}

TEST(jwks_caps_and_shape)
{
    json_t *j;
    CHECK(id_token_jwks_parse("{\"keys\":[]}", 11, &j) == ID_TOKEN_OK);
    json_decref(j);
    CHECK(id_token_jwks_parse("{\"keys\":{}}", 11, &j) == ID_TOKEN_ERR_JWKS);
    CHECK(id_token_jwks_parse("[]", 2, &j) == ID_TOKEN_ERR_JWKS);
    CHECK(id_token_jwks_parse("{\"keys\":[{\"kid\":1,\"kty\":\"RSA\"}]}", 32, &j) == ID_TOKEN_ERR_JWKS);
    char big[2048];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"keys\":[");
    for (int i = 0; i <= ID_TOKEN_JWKS_MAX_KEYS; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s{\"kty\":\"RSA\"}", i ? "," : "");
    snprintf(big + o, sizeof big - o, "]}");
    CHECK(id_token_jwks_parse(big, strlen(big), &j) == ID_TOKEN_ERR_JWKS);
    /* a short RSA key is refused when used */
    EVP_PKEY *small = EVP_RSA_gen(1024);
    json_t *sj = jwks_of(small, "s");
    jose_err e;
    EVP_PKEY *k = jose_rsa_pkey_from_jwk(json_array_get(json_object_get(sj, "keys"), 0), &e);
    CHECK(!k && e == JOSE_ERR_KEY);
    json_decref(sj);
    EVP_PKEY_free(small);
}

int main(void)
{
    rsa = EVP_RSA_gen(2048);
    binding_oidc_nonce("00112233445566778899aabbccddeeff", nonce);
    RUN(oidc_nonce_is_derived_from_the_result_nonce);
    RUN(rs256_verifies_with_its_jwks_only);
    RUN(hs256_verifies_with_the_secret);
    RUN(each_claim_is_checked);
    RUN(parse_refuses_other_algorithms_and_malformed_input);
    RUN(jwks_caps_and_shape);
    EVP_PKEY_free(rsa);
    return test_done();
}
