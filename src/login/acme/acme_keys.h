/* acme_keys: the ACME client's only holder of private keys. The account key (ES256, made in RAM
 * at start, never exported) signs every request as a flattened JWS (RFC 8555 §6.2, through
 * common/jose); TLS keys are made here per order, put into a CSR (RFC 2986, P-256, SAN dNSName)
 * and handed over by reference to the TLS context. Never parses network input, never logs. */
#ifndef SEALED_ACME_KEYS_H
#define SEALED_ACME_KEYS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/jose.h"

struct acme_keys;

/* Generates a fresh P-256 account key. NULL on failure. */
struct acme_keys *acme_keys_new(void);
/* Frees the account key (OpenSSL clears EC private scalars on free). Accepts NULL. */
void acme_keys_free(struct acme_keys *k);
/* Uses key as the account key instead (tests; takes a reference). */
struct acme_keys *acme_keys_from_pkey(EVP_PKEY *key);

/* The account private key, borrowed, for the service's saved state only (acme_persist.c): the
 * state is held by PID 1 in RAM so that a restart reuses the account instead of making another. */
const EVP_PKEY *acme_keys_account(const struct acme_keys *k);

/* RFC 7638 thumbprint of the account key (base64url, NUL-terminated). */
const char *acme_keys_thumbprint(const struct acme_keys *k);

/* Key authorization for an HTTP-01 token (RFC 8555 §8.1): token "." thumbprint. The token must be
 * base64url characters only, 1..ACME_TOKEN_MAX bytes. malloc'd, NULL if the token is unfit. */
char *acme_keys_key_authorization(const struct acme_keys *k, const char *token, size_t len);

/* Flattened JWS of payload for url (RFC 8555 §6.2-6.3): header {alg ES256, nonce, url} plus
 * "jwk" when kid is NULL (newAccount) or "kid" otherwise. payload NULL means POST-as-GET (empty
 * payload). Returns the compact JSON text (malloc'd), NULL on failure. */
char *acme_keys_sign_request(const struct acme_keys *k, const char *url, const char *nonce,
                             const char *kid, const char *payload);

/* New P-256 key for a TLS certificate. */
EVP_PKEY *acme_keys_new_tls_key(void);
/* DER CSR for domain signed by key (subject CN=domain, SAN dNSName:domain), base64url-encoded as
 * newOrder finalize wants it. malloc'd, NULL on failure. */
char *acme_keys_csr_b64url(EVP_PKEY *key, const char *domain);
#endif
