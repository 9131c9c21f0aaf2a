/* id_token: PayPal's OpenID Connect id_token (a JWT, RS256 or HS256) and PayPal's JWKS, parsed
 * and checked once here for the service (which checks every login's token) and for sealed-verify
 * (which re-checks the token a result carries): the signature (RS256 against a JWKS, HS256 with
 * the client secret), and the claims per OpenID Connect Core 1.0 §3.1.3.7 (iss, aud, exp, iat,
 * nonce, and the subject against the account the caller recorded). Holds no keys and no state;
 * never logs (callers print id_token_strerror once). */
#ifndef SEALED_ID_TOKEN_H
#define SEALED_ID_TOKEN_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "common/jose.h"

#define ID_TOKEN_MAX_LEN        8192        /* bytes of a compact id_token we parse */
#define ID_TOKEN_JWKS_MAX_BYTES (64 * 1024) /* a JWKS document */
#define ID_TOKEN_JWKS_MAX_KEYS  16          /* keys in it */
#define ID_TOKEN_SKEW_S         120         /* clock difference tolerated on exp and iat */
#define ID_TOKEN_MAX_AGE_S      900         /* iat no older than this at the reference time */
#define ID_TOKEN_NONCE_LEN      43          /* binding_oidc_nonce: base64url of SHA-256 */

/* PayPal's OpenID issuer and JWKS per environment (its discovery document; docs/paypal.md says
 * where each value comes from and what is uncertain). Compiled in: the trust rule. */
#define PAYPAL_ISSUER_LIVE    "https://www.paypal.com"
#define PAYPAL_ISSUER_SANDBOX "https://www.sandbox.paypal.com"
#define PAYPAL_JWKS_LIVE      "https://api.paypal.com/v1/oauth2/certs"
#define PAYPAL_JWKS_SANDBOX   "https://api.sandbox.paypal.com/v1/oauth2/certs"

typedef enum {
    ID_TOKEN_OK = 0,
    ID_TOKEN_ERR_NOMEM,
    ID_TOKEN_ERR_FORMAT,     /* not a JWT with a JSON header and claims, or above the size cap */
    ID_TOKEN_ERR_ALG,        /* alg other than RS256 / HS256 (or "crit" present) */
    ID_TOKEN_ERR_KID,        /* RS256 key id not in the JWKS */
    ID_TOKEN_ERR_SIGNATURE,  /* signature does not verify */
    ID_TOKEN_ERR_NOKEY,      /* no key to check it with (HS256 without the secret, no JWKS) */
    ID_TOKEN_ERR_JWKS,       /* the JWKS is malformed, too large or holds an unusable key */
    ID_TOKEN_ERR_ISS,        /* iss is not the expected issuer */
    ID_TOKEN_ERR_AUD,        /* aud (or azp) is not the client id */
    ID_TOKEN_ERR_EXPIRED,    /* exp is past (beyond the skew) */
    ID_TOKEN_ERR_IAT,        /* iat in the future or older than ID_TOKEN_MAX_AGE_S */
    ID_TOKEN_ERR_NONCE,      /* nonce missing or not the login's */
    ID_TOKEN_ERR_SUB,        /* sub / user_id missing or not the recorded account */
} id_token_err;

/* A sentence fit for a person (the visitor's error page, the verifier's step line). */
const char *id_token_strerror(id_token_err e);

/* A parsed id_token. Owned members are freed by id_token_clear. */
struct id_token {
    struct jose_jws jws;       /* owned: header, payload bytes, signature, signing input */
    json_t *claims;            /* owned: the payload as a JSON object */
    const char *alg;           /* borrowed from the header: "RS256" or "HS256" */
    const char *kid;           /* borrowed from the header, or NULL */
};

/* Parses a compact id_token of len bytes: a JWS whose header names RS256 or HS256 (and no
 * "crit") and whose payload is a JSON object. Nothing is verified yet. */
id_token_err id_token_parse(const char *s, size_t len, struct id_token *out);
void id_token_clear(struct id_token *t);

/* Parses and checks a JWKS document {"keys":[...]} (at most ID_TOKEN_JWKS_MAX_BYTES and
 * ID_TOKEN_JWKS_MAX_KEYS keys). *out is a new reference. */
id_token_err id_token_jwks_parse(const void *body, size_t len, json_t **out);
/* 1 when the JWKS (from id_token_jwks_parse) has an RS256 signing key with this kid. */
int id_token_jwks_has(const json_t *jwks, const char *kid);

/* Verifies an RS256 token against a JWKS: the key whose kid is the header's (a token without
 * kid needs a JWKS of exactly one usable key). HS256 tokens are ID_TOKEN_ERR_NOKEY here. */
id_token_err id_token_verify_jwks(const struct id_token *t, const json_t *jwks);
/* Verifies an HS256 token keyed with the client secret (RFC 7518 §3.2, OIDC Core §10.1). */
id_token_err id_token_verify_hs256(const struct id_token *t, const char *secret, size_t secret_len);

/* What the claims must say. Strings are compared as bytes. */
struct id_token_expect {
    const char *iss;           /* PayPal's issuer for this environment */
    const char *client_id;     /* aud must be (or contain, with azp) exactly this */
    const char *nonce;         /* the login's OIDC nonce (binding_oidc_nonce) */
    const char *subject;       /* the account id recorded (userinfo user_id); NULL: not checked yet */
    size_t subject_len;
    time_t at;                 /* reference time: now for the service, the result's iat for a verifier */
};
/* Checks iss, aud/azp, exp (at <= exp + skew), iat (iat <= at + skew and at - iat <=
 * ID_TOKEN_MAX_AGE_S), nonce, and the subject (sub and user_id, each when present, at least one). */
id_token_err id_token_check_claims(const struct id_token *t, const struct id_token_expect *x);
/* The token's subject: sub, else user_id (borrowed), or NULL. */
const char *id_token_subject(const struct id_token *t);
#endif
