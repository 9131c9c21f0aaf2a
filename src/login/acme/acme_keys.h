/* acme_keys: the ACME client's only holder of private keys. The account key (ES256, made in RAM
 * at start, never exported) signs every request as a flattened JWS (RFC 8555 §6.2, through
 * common/jose); the TLS key of the order in flight is made and kept here, put into a CSR (RFC 2986,
 * P-256, SAN dNSName), and handed over by reference to the TLS context when its certificate is
 * installed; the installed key stays here for the saved state. acme.c only holds the handle.
 * Never parses network input, never logs. */
#ifndef SEALED_ACME_KEYS_H
#define SEALED_ACME_KEYS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/jose.h"
#include "login/tls.h"

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

/* The order's TLS key. acme_keys_order_csr makes a fresh P-256 key for the order in flight
 * (dropping any earlier one) and returns its DER CSR for domain, base64url-encoded as finalize
 * wants it: malloc'd, NULL on failure (then no key is pending). */
char *acme_keys_order_csr(struct acme_keys *k, const char *domain);
/* 1 if an order key is pending (a CSR was made and not yet installed or dropped), else 0. */
int acme_keys_order_pending(const struct acme_keys *k);
/* Forgets the pending order key (the order was abandoned). */
void acme_keys_order_drop(struct acme_keys *k);
/* 1 if leaf certifies the pending order key, else 0 (also when none is pending). */
int acme_keys_order_matches(const struct acme_keys *k, X509 *leaf);
/* Installs leaf and chain with the pending order key into t (tls_install: t takes its own
 * references). On success the order key becomes the installed key and 0 is returned; on failure
 * -1 and the order key stays pending. */
int acme_keys_order_install(struct acme_keys *k, struct tls *t, X509 *leaf, STACK_OF(X509) *chain);
/* Installs a saved certificate: key must be leaf's key (else -1, nothing changes); tls_install
 * into t; on success k keeps a reference to key as the installed key and 0 is returned. */
int acme_keys_install_saved(struct acme_keys *k, struct tls *t, EVP_PKEY *key, X509 *leaf,
                            STACK_OF(X509) *chain);
/* The installed certificate's private key, borrowed, for the saved state only; NULL if none. */
const EVP_PKEY *acme_keys_installed(const struct acme_keys *k);

/* New P-256 key for a TLS certificate (tests and the account key; the service's TLS keys are
 * made by acme_keys_order_csr). Caller owns it. */
EVP_PKEY *acme_keys_new_tls_key(void);
/* DER CSR for domain signed by key (subject CN=domain, SAN dNSName:domain), base64url-encoded as
 * newOrder finalize wants it. malloc'd, NULL on failure. */
char *acme_keys_csr_b64url(EVP_PKEY *key, const char *domain);
#endif
