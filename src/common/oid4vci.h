/* oid4vci: the wallet's bytes in OpenID for Verifiable Credential Issuance 1.0 (final, 2025-09):
 * the pre-authorized code token request (application/x-www-form-urlencoded, §6.1), the
 * credential request (JSON, §8.2) and its JWT proof of possession (Appendix F.1: typ
 * openid4vci-proof+jwt, ES256, the wallet's public key in "jwk", aud = the credential issuer,
 * nonce = one the issuer's nonce endpoint handed out). Parsed once here for the service and the
 * tests' tools. Holds no state and no keys; never decides whether a code or nonce is still good
 * (the service's redemption state does). */
#ifndef SEALED_OID4VCI_H
#define SEALED_OID4VCI_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define OID4VCI_GRANT_PRE_AUTH   "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#define OID4VCI_PROOF_TYP        "openid4vci-proof+jwt"
#define OID4VCI_MAX_BODY         4096   /* a token or credential request (login/limits.h LIMIT_BODY_BYTES) */
#define OID4VCI_CODE_MAX         64     /* a pre-authorized code or access token we accept */
#define OID4VCI_PROOF_MAX_AGE_S  300    /* a proof's iat at most this old ... */
#define OID4VCI_PROOF_SKEW_S     60     /* ... and at most this far ahead */

typedef enum {
    OID4VCI_OK = 0,
    OID4VCI_ERR_NOMEM,
    OID4VCI_ERR_FORMAT,          /* not a well-formed request (invalid_request) */
    OID4VCI_ERR_GRANT_TYPE,      /* grant_type is not the pre-authorized code (unsupported_grant_type) */
    OID4VCI_ERR_TX_CODE,         /* a tx_code was sent: our offers never ask for one */
    OID4VCI_ERR_CONFIG,          /* credential_configuration_id missing or not a string */
    OID4VCI_ERR_PROOF_MISSING,   /* no proofs.jwt with exactly one JWT */
    OID4VCI_ERR_PROOF_FORMAT,    /* proof JWT malformed: typ, alg, jwk, claims */
    OID4VCI_ERR_PROOF_KEY,       /* the jwk is not an EC P-256 public key */
    OID4VCI_ERR_PROOF_SIGNATURE,
    OID4VCI_ERR_PROOF_AUD,       /* aud is not the credential issuer */
    OID4VCI_ERR_PROOF_NONCE,     /* nonce is not the one given (invalid_nonce) */
    OID4VCI_ERR_PROOF_TIME,      /* iat too old or in the future */
} oid4vci_err;

const char *oid4vci_strerror(oid4vci_err e);
/* The OAuth / OID4VCI error code a response carries for e ("invalid_request", "invalid_grant",
 * "unsupported_grant_type", "invalid_proof", "invalid_nonce", ...). */
const char *oid4vci_error_code(oid4vci_err e);

struct oid4vci_token_request {
    char code[OID4VCI_CODE_MAX + 1];     /* pre-authorized_code */
};
/* Parses a form body: grant_type must be the pre-authorized code grant, pre-authorized_code present
 * (1..OID4VCI_CODE_MAX bytes), no tx_code. */
oid4vci_err oid4vci_token_request_parse(const char *body, size_t len, struct oid4vci_token_request *out);

struct oid4vci_credential_request {
    json_t *root;                        /* owned */
    const char *config_id;               /* borrowed from root */
    const char *proof_jwt;               /* borrowed from root */
};
/* Parses {"credential_configuration_id": s, "proofs": {"jwt": [one JWT]}}. */
oid4vci_err oid4vci_credential_request_parse(const char *body, size_t len, struct oid4vci_credential_request *out);
void oid4vci_credential_request_clear(struct oid4vci_credential_request *r);

/* Verifies a JWT proof: typ openid4vci-proof+jwt, alg ES256, header jwk (public EC P-256, no kid
 * or x5c needed), signature, aud equal to issuer (a string, or an array holding it), a nonce that
 * nonce_ok(arg, nonce) accepts (returns 1; the issuer's own check), iat within the window around
 * now. On success *jwk_out gets a new reference to the wallet's public JWK (only crv, kty, x, y),
 * for the credential's cnf. */
oid4vci_err oid4vci_proof_verify(const char *jwt, size_t len, const char *issuer,
                                 int (*nonce_ok)(void *arg, const char *nonce), void *arg, uint64_t now,
                                 json_t **jwk_out);
#endif
