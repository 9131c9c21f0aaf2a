/* jose: the JOSE pieces sealed-login uses: JWK (EC P-256 public keys; RSA public keys for
 * PayPal's RS256 id_tokens; OKP only for RFC 7638 thumbprints), ES256 signatures in JWS form (raw
 * R||S, RFC 7518 §3.4), RS256 and HS256 verification (RFC 7518 §3.3, §3.2), and compact /
 * flattened JWS serialisation (RFC 7515). Shared by the service, the ACME client and the verifier.
 * Holds no keys: callers own every EVP_PKEY they pass in. */
#ifndef SEALED_JOSE_H
#define SEALED_JOSE_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>

#define JOSE_THUMBPRINT_LEN 43          /* base64url of SHA-256, no padding */
#define JOSE_ES256_SIG_LEN  64
#define JOSE_MAX_SIG_LEN    512         /* RS256 with RSA-4096, the largest key we accept */
#define JOSE_RSA_MIN_BITS   2048
#define JOSE_RSA_MAX_BITS   4096
#define JOSE_MAX_COMPACT    (4 * 1024 * 1024) /* cap on a compact JWS: parsed by the verifier, never exceeded by the service */

typedef enum {
    JOSE_OK = 0,
    JOSE_ERR_NOMEM,
    JOSE_ERR_FORMAT,      /* not a well-formed JWS / JWK */
    JOSE_ERR_UNSUPPORTED, /* alg, kty or curve we do not accept */
    JOSE_ERR_KEY,         /* key unusable (wrong type, not on curve, ...) */
    JOSE_ERR_SIGNATURE,   /* signature does not verify */
    JOSE_ERR_KID,         /* header kid is not the embedded key's thumbprint */
    JOSE_ERR_CRYPTO,      /* OpenSSL failure while signing */
} jose_err;

const char *jose_strerror(jose_err e);

/* RFC 7638 thumbprint of a JWK object (EC: crv,kty,x,y; RSA: e,kty,n; OKP: crv,kty,x), written
 * as NUL-terminated base64url into out. */
jose_err jose_jwk_thumbprint(const json_t *jwk, char out[JOSE_THUMBPRINT_LEN + 1]);

/* Public JWK {"kty":"EC","crv":"P-256","x","y"} of a P-256 key (public or private). New reference. */
json_t *jose_jwk_from_pkey(EVP_PKEY *key);
/* P-256 public key from a JWK; NULL (and *err set) if it is not a valid EC P-256 public JWK. */
EVP_PKEY *jose_pkey_from_jwk(const json_t *jwk, jose_err *err);

/* RSA public key from a JWK {"kty":"RSA","n","e"} (n of JOSE_RSA_MIN_BITS..JOSE_RSA_MAX_BITS
 * bits, e odd and at most 32 bits); NULL (and *err set) otherwise. A JWK with a private member
 * ("d") is JOSE_ERR_KEY. */
EVP_PKEY *jose_rsa_pkey_from_jwk(const json_t *jwk, jose_err *err);
/* RS256 (RSASSA-PKCS1-v1_5 with SHA-256): JOSE_OK, JOSE_ERR_SIGNATURE, or JOSE_ERR_KEY for a
 * key that is not RSA. */
jose_err jose_rs256_verify(EVP_PKEY *key, const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen);
/* HS256 (HMAC-SHA-256 keyed with key), compared in constant time. */
jose_err jose_hs256_verify(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
                           const uint8_t *sig, size_t siglen);

/* ES256 over data: 64-byte R||S. */
jose_err jose_es256_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t sig[JOSE_ES256_SIG_LEN]);
/* Verifies a 64-byte R||S ES256 signature; any other length is JOSE_ERR_SIGNATURE. */
jose_err jose_es256_verify(EVP_PKEY *key, const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen);

/* Signs payload under the given protected header (its "alg" must be ES256; the header object is
 * serialised compactly with sorted keys). Returns a malloc'd compact JWS, or NULL. */
char *jose_jws_compact_sign(EVP_PKEY *key, const json_t *protected_hdr, const uint8_t *payload, size_t len);
/* Same, as a flattened JSON serialisation {"protected","payload","signature"} (RFC 8555 uses it). */
json_t *jose_jws_flat_sign(EVP_PKEY *key, const json_t *protected_hdr, const uint8_t *payload, size_t len);

/* A parsed compact JWS. Owned fields are freed by jose_jws_clear. */
struct jose_jws {
    json_t  *header;          /* owned: decoded protected header */
    uint8_t *payload;         /* owned: decoded payload, NUL after payload_len */
    size_t   payload_len;
    uint8_t  sig[JOSE_MAX_SIG_LEN];
    size_t   sig_len;
    char    *signing_input;   /* owned: "b64(header).b64(payload)" */
    size_t   signing_input_len;
};

/* Splits and decodes a compact JWS of len bytes (no trailing whitespace). */
jose_err jose_jws_parse(const char *s, size_t len, struct jose_jws *out);
/* Verifies an ES256 JWS whose header carries its own "jwk" and "kid": the signature must verify
 * with that key and kid must be its RFC 7638 thumbprint. If pinned is non-NULL the embedded key
 * must also equal it. On success *key_out (if non-NULL) gets a new reference to the key. */
jose_err jose_jws_verify_embedded(const struct jose_jws *jws, EVP_PKEY *pinned, EVP_PKEY **key_out);
void jose_jws_clear(struct jose_jws *jws);
#endif
