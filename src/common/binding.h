/* binding: Evidence format v1's REPORT_DATA (docs/evidence.md, DESIGN.md "Evidence format v1"):
 *   binding_a   = "PAYPAL_CLIENT_ID=" client_id "|PAYPAL_USER_ID=" user_id
 *   binding_b   = "SEALED_LOGIN_V1|SIGNER_JWK_THUMBPRINT=" kid "|TLS_SPKI_SHA256=" hex
 *                 "|IAT=" decimal "|NONCE=" hex(16 bytes)
 *   REPORT_DATA = SHA-256(binding_a) || SHA-256(binding_b)
 * The service computes it to request evidence; the verifier recomputes it from the payload.
 * Strings are bytes as received (ptr, len), no normalisation. Pure functions, no state. */
#ifndef SEALED_BINDING_H
#define SEALED_BINDING_H
#include <stddef.h>
#include <stdint.h>

#define BINDING_REPORT_DATA_LEN 64
#define BINDING_NONCE_LEN 16

struct binding_input {
    const char *client_id; size_t client_id_len;   /* borrowed */
    const char *user_id;   size_t user_id_len;     /* borrowed */
    const char *kid;                               /* borrowed: 43-char RFC 7638 thumbprint */
    const char *tls_spki_sha256_hex;               /* borrowed: 64 lowercase hex chars */
    uint64_t    iat;                               /* unix seconds */
    const char *nonce_hex;                         /* borrowed: 32 lowercase hex chars */
};

/* Returns a malloc'd binding_a / binding_b string (NUL-terminated; *len excludes the NUL, and
 * binding_a may contain NUL bytes if the ids do), or NULL on allocation failure. */
char *binding_a_string(const struct binding_input *in, size_t *len);
char *binding_b_string(const struct binding_input *in, size_t *len);

/* The OpenID Connect nonce a login sends to PayPal, derived from the result's own nonce so that
 * PayPal's id_token commits to this very result (REPORT_DATA binds the same nonce):
 *   oidc_nonce = base64url(SHA-256("SEALED_LOGIN_V1|OIDC_NONCE=" nonce_hex))   (43 chars)
 * Returns 0, or -1 when nonce_hex is not 32 lowercase hex characters. */
#define BINDING_OIDC_NONCE_LEN 43
int binding_oidc_nonce(const char *nonce_hex, char out[BINDING_OIDC_NONCE_LEN + 1]);

/* Computes REPORT_DATA. Returns 0, or -1 on allocation/hash failure or malformed kid/hex fields. */
int binding_report_data(const struct binding_input *in, uint8_t out[BINDING_REPORT_DATA_LEN]);
#endif
