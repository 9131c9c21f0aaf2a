/* sd_jwt: Selective Disclosure for JWTs (RFC 9901) with the SD-JWT VC profile
 * (draft-ietf-oauth-sd-jwt-vc): making disclosures and the `_sd` digests an issuer signs, and
 * parsing, processing and checking an SD-JWT or an SD-JWT+KB presentation (issuer signature,
 * every disclosure's digest referenced exactly once, key-binding JWT with nonce, aud and
 * sd_hash). Shared by the service (issuing) and sealed-verify (checking) so the two cannot drift.
 * ES256 and sha-256 only. Holds no keys: callers own every EVP_PKEY they pass in. */
#ifndef SEALED_SD_JWT_H
#define SEALED_SD_JWT_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/dynbuf.h"
#include "common/jose.h"

#define SD_JWT_MAX_LEN          (256 * 1024) /* a whole SD-JWT(+KB) we parse */
#define SD_JWT_MAX_DISCLOSURES  64
#define SD_JWT_MAX_DEPTH        8            /* nesting of objects/arrays walked for digests */
#define SD_JWT_SALT_BYTES       16           /* 128 bits, RFC 9901 §9.3 */
#define SD_JWT_DIGEST_LEN       43           /* base64url SHA-256, no padding */
#define SD_JWT_KB_MAX_AGE_S     300          /* a key-binding JWT's iat at most this old ... */
#define SD_JWT_KB_SKEW_S        60           /* ... and at most this far in the future */
#define SD_JWT_VC_TYP           "dc+sd-jwt"  /* draft-ietf-oauth-sd-jwt-vc §3.2.1 */
#define SD_JWT_KB_TYP           "kb+jwt"     /* RFC 9901 §4.3 */
/* The vct of sealed-login's own credential (docs/credential.md): issued by the service, checked by
 * sealed-verify. A URN, so that no verifier is sent to fetch type metadata. */
#define SD_JWT_SEALED_VCT       "urn:sealed-login:vct:paypal-login:1"

typedef enum {
    SD_JWT_OK = 0,
    SD_JWT_ERR_NOMEM,
    SD_JWT_ERR_FORMAT,          /* not JWT~disclosures~[KB-JWT], or the JWT is malformed */
    SD_JWT_ERR_TOOBIG,          /* over SD_JWT_MAX_LEN, _DISCLOSURES or _DEPTH */
    SD_JWT_ERR_DISCLOSURE,      /* a disclosure is not base64url JSON [salt, name, value] / [salt, value] */
    SD_JWT_ERR_UNREFERENCED,    /* a disclosure whose digest the payload does not contain (or a tampered one) */
    SD_JWT_ERR_REPEATED,        /* a digest appears twice, or a disclosure is given twice */
    SD_JWT_ERR_CLAIM,           /* a disclosed name clashes, is "_sd" or "...", or an _sd/... member is malformed */
    SD_JWT_ERR_SD_ALG,          /* _sd_alg other than sha-256 */
    SD_JWT_ERR_HEADER,          /* issuer JWT: alg not ES256, typ not dc+sd-jwt, crit present */
    SD_JWT_ERR_SIGNATURE,       /* issuer signature does not verify */
    SD_JWT_ERR_NO_KEY,          /* no issuer key given has the JWT's kid */
    SD_JWT_ERR_KB_MISSING,      /* a key-binding JWT was required and there is none */
    SD_JWT_ERR_KB_FORMAT,       /* KB-JWT malformed: typ, alg, claims missing */
    SD_JWT_ERR_KB_CNF,          /* the credential has no usable cnf.jwk (EC P-256) */
    SD_JWT_ERR_KB_SIGNATURE,    /* KB-JWT signature does not verify with cnf.jwk */
    SD_JWT_ERR_KB_SD_HASH,      /* sd_hash is not the hash of this SD-JWT */
    SD_JWT_ERR_KB_NONCE,
    SD_JWT_ERR_KB_AUD,
    SD_JWT_ERR_KB_TIME,         /* iat too old or in the future */
    SD_JWT_ERR_EXPIRED,         /* exp passed or nbf in the future */
} sd_jwt_err;

const char *sd_jwt_strerror(sd_jwt_err e);

/* One disclosure of a parsed SD-JWT. */
struct sd_jwt_disclosure {
    char digest[SD_JWT_DIGEST_LEN + 1];
    json_t *arr;          /* owned: the decoded array */
    const char *name;     /* borrowed from arr: the claim name, NULL for an array element */
    json_t *value;        /* borrowed from arr */
};

/* A parsed and processed SD-JWT (with its KB-JWT if present). */
struct sd_jwt {
    struct jose_jws jwt;                 /* owned fields: the issuer-signed JWT */
    json_t *payload;                     /* owned: the JWT payload as signed */
    json_t *claims;                      /* owned: the processed payload (disclosures in, _sd/_sd_alg out) */
    struct sd_jwt_disclosure disc[SD_JWT_MAX_DISCLOSURES];
    size_t ndisc;
    int has_kb;
    struct jose_jws kb;                  /* owned fields when has_kb */
    json_t *kb_claims;                   /* owned when has_kb */
    char sd_hash[SD_JWT_DIGEST_LEN + 1]; /* base64url SHA-256 of the input up to its last '~' */
};

/* base64url(SHA-256(text)) of a disclosure (or of any SD-JWT part), NUL-terminated. */
void sd_jwt_digest(const char *text, size_t len, char out[SD_JWT_DIGEST_LEN + 1]);

/* Parses s (len bytes, no whitespace) and processes it per RFC 9901 §7.1 (steps 3-5, not the
 * signature): every disclosure decoded, its digest found exactly once in the payload or in another
 * disclosure, names not clashing; claims holds the result. On error *out is cleared. */
sd_jwt_err sd_jwt_parse(const char *s, size_t len, struct sd_jwt *out);
void sd_jwt_clear(struct sd_jwt *sd);

/* The issuer JWT: alg ES256, typ (if non-NULL) equal, no crit, the signature verifies with key. */
sd_jwt_err sd_jwt_verify_issuer(const struct sd_jwt *sd, EVP_PKEY *key, const char *typ);
/* Finds the key for the JWT's kid in a JWKS object {"keys":[...]} (EC P-256 only; a JWK without
 * "kid" matches by its RFC 7638 thumbprint; a JWT without kid takes the only key of a one-key JWKS
 * that has none either). New key or NULL (SD_JWT_ERR_NO_KEY). */
EVP_PKEY *sd_jwt_issuer_key(const struct sd_jwt *sd, const json_t *jwks, sd_jwt_err *err);
/* The presentation's key binding: a KB-JWT (typ kb+jwt, ES256) signed by the credential's cnf.jwk,
 * whose sd_hash matches, with nonce and aud equal to the given ones (NULL: any, but present) and
 * iat within SD_JWT_KB_MAX_AGE_S / SD_JWT_KB_SKEW_S of now. */
sd_jwt_err sd_jwt_verify_kb(const struct sd_jwt *sd, const char *aud, const char *nonce, uint64_t now);
/* exp / nbf of the processed claims against now (60 s skew); absent ones pass. */
sd_jwt_err sd_jwt_check_time(const struct sd_jwt *sd, uint64_t now);

/* Issuing. Makes one disclosure of name (NULL: an array element) and value with a fresh random
 * salt: appends "<disclosure>~" to out and writes its digest. 0 or -1 (out of memory, no randomness). */
int sd_jwt_disclose(const char *name, const json_t *value, struct dynbuf *out, char digest[SD_JWT_DIGEST_LEN + 1]);
/* Moves each member of sd (borrowed) into payload as a disclosure (appended to out as above),
 * adds ndecoys random decoy digests, sorts the digests into payload's "_sd" and sets "_sd_alg"
 * to sha-256. 0 or -1. */
int sd_jwt_conceal(json_t *payload, const json_t *sd, unsigned ndecoys, struct dynbuf *out);
#endif
