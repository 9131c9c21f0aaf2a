/* common/sd_jwt: conceal/parse round trip, every digest referenced once, tampered, repeated,
 * unreferenced and clashing disclosures, key binding (sd_hash, nonce, aud, iat, cnf). (The
 * OID4VCI requests and proofs are tests/unit/common/test_oid4vci.c.) */
#include "test.h"
#include "jwt_sign.h"
#include "common/codec.h"
#include "common/jose.h"
#include "common/sd_jwt.h"
#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *issuer, *holder;

/* An SD-JWT VC with name and email disclosable, bound to holder; returns "jwt~d1~d2~". */
static char *make_credential(void)
{
    json_t *pl = json_pack("{s:s, s:i, s:s, s:{s:o}}", "iss", "https://issuer.test", "iat", 1800000000, "vct",
                           SD_JWT_SEALED_VCT, "cnf", "jwk", jose_jwk_from_pkey(holder));
    json_t *sd = json_pack("{s:s, s:s}", "name", "Alice", "email", "alice@example.com");
    struct dynbuf d;
    dynbuf_init(&d, 65536, 0);
    if (sd_jwt_conceal(pl, sd, 2, &d))
        return NULL;
    json_decref(sd);
    char *jwt = sign_jwt(issuer, json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", SD_JWT_VC_TYP, "kid", "k1"), pl);
    size_t n = strlen(jwt) + 1 + d.len + 1;
    char *out = malloc(n);
    snprintf(out, n, "%s~%s", jwt, d.p);
    free(jwt);
    dynbuf_free(&d);
    return out;
}

static char *with_kb(const char *sd, const char *aud, const char *nonce, long iat, EVP_PKEY *k)
{
    char h[SD_JWT_DIGEST_LEN + 1];
    sd_jwt_digest(sd, strlen(sd), h);
    char *kb = sign_jwt(k, json_pack("{s:s, s:s}", "alg", "ES256", "typ", "kb+jwt"),
                        json_pack("{s:i, s:s, s:s, s:s}", "iat", (int)iat, "aud", aud, "nonce", nonce, "sd_hash", h));
    size_t n = strlen(sd) + strlen(kb) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%s%s", sd, kb);
    free(kb);
    return out;
}

TEST(conceal_then_parse_round_trips)
{
    char *c = make_credential();
    struct sd_jwt sd;
    CHECK(c && sd_jwt_parse(c, strlen(c), &sd) == SD_JWT_OK);
    CHECK(sd.ndisc == 2);
    CHECK_STR(json_string_value(json_object_get(sd.claims, "name")), "Alice");
    CHECK_STR(json_string_value(json_object_get(sd.claims, "email")), "alice@example.com");
    CHECK(!json_object_get(sd.claims, "_sd") && !json_object_get(sd.claims, "_sd_alg"));
    CHECK(json_array_size(json_object_get(sd.payload, "_sd")) == 4);   /* 2 claims + 2 decoys */
    CHECK(sd_jwt_verify_issuer(&sd, issuer, SD_JWT_VC_TYP) == SD_JWT_OK);
    CHECK(sd_jwt_verify_issuer(&sd, holder, SD_JWT_VC_TYP) == SD_JWT_ERR_SIGNATURE);
    CHECK(sd_jwt_verify_issuer(&sd, issuer, "vc+sd-jwt") == SD_JWT_ERR_HEADER);
    CHECK(sd_jwt_verify_kb(&sd, NULL, NULL, 1800000000) == SD_JWT_ERR_KB_MISSING);
    sd_jwt_clear(&sd);
    /* fewer disclosures: the withheld claim is simply absent */
    char *t = strchr(c, '~'), *t2 = strchr(t + 1, '~');
    memmove(t + 1, t2 + 1, strlen(t2 + 1) + 1);
    CHECK(sd_jwt_parse(c, strlen(c), &sd) == SD_JWT_OK && sd.ndisc == 1 && json_object_size(sd.claims) == 5);
    sd_jwt_clear(&sd);
    free(c);
}

TEST(tampered_repeated_and_malformed_disclosures_fail)
{
    char *c = make_credential();
    struct sd_jwt sd;
    char *t = strchr(c, '~') + 1;
    char saved = t[5];
    t[5] = t[5] == 'A' ? 'B' : 'A';   /* another disclosure: its digest is not in _sd */
    sd_jwt_err e = sd_jwt_parse(c, strlen(c), &sd);
    CHECK(e == SD_JWT_ERR_UNREFERENCED || e == SD_JWT_ERR_DISCLOSURE);
    t[5] = saved;
    /* the same disclosure twice */
    size_t dl = (size_t)(strchr(t, '~') - t) + 1, n = strlen(c);
    char *dup = malloc(n + dl + 1);
    memcpy(dup, c, (size_t)(t - c));
    memcpy(dup + (t - c), t, dl);
    memcpy(dup + (t - c) + dl, t, n - (size_t)(t - c) + 1);
    CHECK(sd_jwt_parse(dup, strlen(dup), &sd) == SD_JWT_ERR_REPEATED);
    free(dup);
    CHECK(sd_jwt_parse("a.b.c", 5, &sd) == SD_JWT_ERR_FORMAT);
    const char *empty = strstr(c, "~");
    char buf[4096];
    snprintf(buf, sizeof buf, "%.*s~~", (int)(empty - c), c);
    CHECK(sd_jwt_parse(buf, strlen(buf), &sd) == SD_JWT_ERR_FORMAT);
    /* a disclosure naming "_sd" */
    char *bad = codec_b64url_encode_alloc((const uint8_t *)"[\"salt\",\"_sd\",1]", 16);
    snprintf(buf, sizeof buf, "%.*s~%s~", (int)(empty - c), c, bad);
    CHECK(sd_jwt_parse(buf, strlen(buf), &sd) == SD_JWT_ERR_CLAIM);
    free(bad);
    free(c);
}

TEST(a_disclosure_must_not_clash_with_a_plain_claim)
{
    json_t *pl = json_pack("{s:s, s:s}", "iss", "https://issuer.test", "name", "Plain");
    json_t *sd = json_pack("{s:s}", "name", "Hidden");
    struct dynbuf d;
    dynbuf_init(&d, 65536, 0);
    CHECK(sd_jwt_conceal(pl, sd, 0, &d) == 0);
    char *jwt = sign_jwt(issuer, json_pack("{s:s}", "alg", "ES256"), pl);
    char buf[4096];
    snprintf(buf, sizeof buf, "%s~%s", jwt, d.p);
    struct sd_jwt s;
    CHECK(sd_jwt_parse(buf, strlen(buf), &s) == SD_JWT_ERR_CLAIM);
    json_decref(sd);
    free(jwt);
    dynbuf_free(&d);
}

TEST(key_binding_checks_sd_hash_nonce_aud_time_and_key)
{
    char *c = make_credential();
    struct sd_jwt sd;
    long now = 1800000100;
    char *p = with_kb(c, "https://rp.test", "n-1", now, holder);
    CHECK(sd_jwt_parse(p, strlen(p), &sd) == SD_JWT_OK && sd.has_kb);
    CHECK(sd_jwt_verify_kb(&sd, "https://rp.test", "n-1", (uint64_t)now) == SD_JWT_OK);
    CHECK(sd_jwt_verify_kb(&sd, "https://rp.test", "n-2", (uint64_t)now) == SD_JWT_ERR_KB_NONCE);
    CHECK(sd_jwt_verify_kb(&sd, "https://other.test", "n-1", (uint64_t)now) == SD_JWT_ERR_KB_AUD);
    CHECK(sd_jwt_verify_kb(&sd, "https://rp.test", "n-1", (uint64_t)now + 3600) == SD_JWT_ERR_KB_TIME);
    sd_jwt_clear(&sd);
    free(p);
    p = with_kb(c, "https://rp.test", "n-1", now, issuer);   /* not the holder's key */
    CHECK(sd_jwt_parse(p, strlen(p), &sd) == SD_JWT_OK);
    CHECK(sd_jwt_verify_kb(&sd, "https://rp.test", "n-1", (uint64_t)now) == SD_JWT_ERR_KB_SIGNATURE);
    sd_jwt_clear(&sd);
    free(p);
    /* a KB-JWT made for the full credential, attached after one disclosure was dropped */
    char *full = with_kb(c, "https://rp.test", "n-1", now, holder);
    char *t = strchr(full, '~'), *t2 = strchr(t + 1, '~');
    memmove(t + 1, t2 + 1, strlen(t2 + 1) + 1);
    CHECK(sd_jwt_parse(full, strlen(full), &sd) == SD_JWT_OK);
    CHECK(sd_jwt_verify_kb(&sd, "https://rp.test", "n-1", (uint64_t)now) == SD_JWT_ERR_KB_SD_HASH);
    sd_jwt_clear(&sd);
    free(full);
    free(c);
}

int main(void)
{
    issuer = EVP_EC_gen("P-256");
    holder = EVP_EC_gen("P-256");
    RUN(conceal_then_parse_round_trips);
    RUN(tampered_repeated_and_malformed_disclosures_fail);
    RUN(a_disclosure_must_not_clash_with_a_plain_claim);
    RUN(key_binding_checks_sd_hash_nonce_aud_time_and_key);
    EVP_PKEY_free(issuer);
    EVP_PKEY_free(holder);
    return test_done();
}
