/* id_token: PayPal's id_token and JWKS on jose.c: parse, signature, OIDC Core claim checks. */
#include "common/id_token.h"
#include <string.h>
#include <openssl/crypto.h>

const char *id_token_strerror(id_token_err e)
{
    switch (e) {
    case ID_TOKEN_OK: return "ok";
    case ID_TOKEN_ERR_NOMEM: return "out of memory";
    case ID_TOKEN_ERR_FORMAT: return "the id_token is not a well-formed JWT";
    case ID_TOKEN_ERR_ALG: return "the id_token is signed with an algorithm other than RS256 or HS256";
    case ID_TOKEN_ERR_KID: return "the id_token is signed with a key that is not in PayPal's published key set";
    case ID_TOKEN_ERR_SIGNATURE: return "the id_token's signature does not verify";
    case ID_TOKEN_ERR_NOKEY: return "there is no key to check the id_token's signature with";
    case ID_TOKEN_ERR_JWKS: return "PayPal's key set (JWKS) is malformed or too large";
    case ID_TOKEN_ERR_ISS: return "the id_token was not issued by PayPal (wrong iss)";
    case ID_TOKEN_ERR_AUD: return "the id_token was issued for another app (aud is not this client id)";
    case ID_TOKEN_ERR_EXPIRED: return "the id_token has expired";
    case ID_TOKEN_ERR_IAT: return "the id_token was issued in the future or too long ago";
    case ID_TOKEN_ERR_NONCE: return "the id_token's nonce is not the one of this login";
    case ID_TOKEN_ERR_SUB: return "the id_token names another account than PayPal's user info";
    }
    return "unknown error";
}

static const char *str_member(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void id_token_clear(struct id_token *t)
{
    jose_jws_clear(&t->jws);
    json_decref(t->claims);
    memset(t, 0, sizeof *t);
}

id_token_err id_token_parse(const char *s, size_t len, struct id_token *out)
{
    memset(out, 0, sizeof *out);
    if (!s || len == 0 || len > ID_TOKEN_MAX_LEN)
        return ID_TOKEN_ERR_FORMAT;
    jose_err je = jose_jws_parse(s, len, &out->jws);
    if (je)
        return je == JOSE_ERR_NOMEM ? ID_TOKEN_ERR_NOMEM : ID_TOKEN_ERR_FORMAT;
    id_token_err e = ID_TOKEN_ERR_FORMAT;
    json_error_t jerr;
    out->claims = json_loadb((const char *)out->jws.payload, out->jws.payload_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(out->claims))
        goto fail;
    out->alg = str_member(out->jws.header, "alg");
    json_t *kid = json_object_get(out->jws.header, "kid");
    if (kid && !json_is_string(kid))
        goto fail;
    out->kid = json_string_value(kid);
    e = ID_TOKEN_ERR_ALG;
    if (!out->alg || (strcmp(out->alg, "RS256") && strcmp(out->alg, "HS256")) || json_object_get(out->jws.header, "crit"))
        goto fail;
    return ID_TOKEN_OK;
fail:
    id_token_clear(out);
    return e;
}

/* 1 when k is an RSA key usable for RS256 signatures (use and alg absent or matching). */
static int jwk_usable(const json_t *k)
{
    const char *kty = str_member(k, "kty"), *use = str_member(k, "use"), *alg = str_member(k, "alg");
    return kty && !strcmp(kty, "RSA") && (!use || !strcmp(use, "sig")) && (!alg || !strcmp(alg, "RS256"));
}

id_token_err id_token_jwks_parse(const void *body, size_t len, json_t **out)
{
    *out = NULL;
    if (len > ID_TOKEN_JWKS_MAX_BYTES)
        return ID_TOKEN_ERR_JWKS;
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    json_t *keys = json_object_get(j, "keys"), *k;
    size_t i;
    if (!json_is_object(j) || !json_is_array(keys) || json_array_size(keys) > ID_TOKEN_JWKS_MAX_KEYS)
        goto bad;
    json_array_foreach(keys, i, k) {
        if (!json_is_object(k) || !str_member(k, "kty"))
            goto bad;
        json_t *kid = json_object_get(k, "kid");
        if (kid && !json_is_string(kid))
            goto bad;
    }
    *out = j;
    return ID_TOKEN_OK;
bad:
    json_decref(j);
    return ID_TOKEN_ERR_JWKS;
}

/* The usable key with this kid (kid NULL: the only usable key), or NULL. */
static const json_t *jwks_find(const json_t *jwks, const char *kid)
{
    json_t *keys = json_object_get(jwks, "keys"), *k;
    const json_t *found = NULL;
    size_t i, usable = 0;
    json_array_foreach(keys, i, k) {
        if (!jwk_usable(k))
            continue;
        usable++;
        const char *kk = str_member(k, "kid");
        if (kid && kk && !strcmp(kid, kk))
            return k;
        if (!kid)
            found = k;
    }
    return !kid && usable == 1 ? found : NULL;
}

int id_token_jwks_has(const json_t *jwks, const char *kid)
{
    return jwks && jwks_find(jwks, kid) != NULL;
}

id_token_err id_token_verify_jwks(const struct id_token *t, const json_t *jwks)
{
    if (strcmp(t->alg, "RS256"))
        return ID_TOKEN_ERR_NOKEY;
    if (!jwks)
        return ID_TOKEN_ERR_NOKEY;
    const json_t *k = jwks_find(jwks, t->kid);
    if (!k)
        return ID_TOKEN_ERR_KID;
    jose_err je;
    EVP_PKEY *key = jose_rsa_pkey_from_jwk(k, &je);
    if (!key)
        return je == JOSE_ERR_NOMEM ? ID_TOKEN_ERR_NOMEM : ID_TOKEN_ERR_JWKS;
    je = jose_rs256_verify(key, (const uint8_t *)t->jws.signing_input, t->jws.signing_input_len,
                           t->jws.sig, t->jws.sig_len);
    EVP_PKEY_free(key);
    return je == JOSE_OK ? ID_TOKEN_OK : je == JOSE_ERR_NOMEM ? ID_TOKEN_ERR_NOMEM : ID_TOKEN_ERR_SIGNATURE;
}

id_token_err id_token_verify_hs256(const struct id_token *t, const char *secret, size_t secret_len)
{
    if (strcmp(t->alg, "HS256") || !secret || !secret_len)
        return ID_TOKEN_ERR_NOKEY;
    jose_err je = jose_hs256_verify((const uint8_t *)secret, secret_len, (const uint8_t *)t->jws.signing_input,
                                    t->jws.signing_input_len, t->jws.sig, t->jws.sig_len);
    return je == JOSE_OK ? ID_TOKEN_OK : ID_TOKEN_ERR_SIGNATURE;
}

static int str_eq(const json_t *v, const char *s, size_t len)
{
    return json_is_string(v) && json_string_length(v) == len && !memcmp(json_string_value(v), s, len);
}

/* A NumericDate (RFC 7519 §2): a non-negative number; *out in whole seconds. */
static int numeric_date(const json_t *v, long long *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (long long)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e15) {
        *out = (long long)json_real_value(v);
        return 1;
    }
    return 0;
}

const char *id_token_subject(const struct id_token *t)
{
    const char *s = str_member(t->claims, "sub");
    return s ? s : str_member(t->claims, "user_id");
}

id_token_err id_token_check_claims(const struct id_token *t, const struct id_token_expect *x)
{
    const json_t *c = t->claims;
    if (!x->iss || !str_eq(json_object_get(c, "iss"), x->iss, strlen(x->iss)))
        return ID_TOKEN_ERR_ISS;
    /* OIDC Core §3.1.3.7 items 3-5: aud is our client id or an array holding it; with more than
     * one audience azp must be ours as well */
    json_t *aud = json_object_get(c, "aud"), *a;
    size_t cl = x->client_id ? strlen(x->client_id) : 0, i;
    int ours = 0;
    if (!x->client_id)
        return ID_TOKEN_ERR_AUD;
    if (json_is_array(aud)) {
        if (json_array_size(aud) == 0)
            return ID_TOKEN_ERR_AUD;
        json_array_foreach(aud, i, a) {
            if (!json_is_string(a))
                return ID_TOKEN_ERR_AUD;
            ours |= str_eq(a, x->client_id, cl);
        }
        if (!ours || (json_array_size(aud) > 1 && !str_eq(json_object_get(c, "azp"), x->client_id, cl)))
            return ID_TOKEN_ERR_AUD;
    } else if (!str_eq(aud, x->client_id, cl)) {
        return ID_TOKEN_ERR_AUD;
    }
    json_t *azp = json_object_get(c, "azp");
    if (azp && !str_eq(azp, x->client_id, cl))
        return ID_TOKEN_ERR_AUD;
    long long exp, iat, at = (long long)x->at;
    if (!numeric_date(json_object_get(c, "exp"), &exp))
        return ID_TOKEN_ERR_EXPIRED;
    if (at > exp + ID_TOKEN_SKEW_S)
        return ID_TOKEN_ERR_EXPIRED;
    if (!numeric_date(json_object_get(c, "iat"), &iat) || iat > at + ID_TOKEN_SKEW_S || at - iat > ID_TOKEN_MAX_AGE_S)
        return ID_TOKEN_ERR_IAT;
    json_t *nonce = json_object_get(c, "nonce");
    if (!x->nonce || !json_is_string(nonce) || json_string_length(nonce) != strlen(x->nonce) ||
        CRYPTO_memcmp(json_string_value(nonce), x->nonce, strlen(x->nonce)))
        return ID_TOKEN_ERR_NONCE;
    if (x->subject) {
        /* PayPal's discovery lists user_id among its claims (not sub); OIDC requires sub. Whichever
         * the token carries must be the account recorded, and one must be there. */
        json_t *sub = json_object_get(c, "sub"), *uid = json_object_get(c, "user_id");
        if ((!sub && !uid) || (sub && !str_eq(sub, x->subject, x->subject_len)) ||
            (uid && !str_eq(uid, x->subject, x->subject_len)))
            return ID_TOKEN_ERR_SUB;
    }
    return ID_TOKEN_OK;
}
