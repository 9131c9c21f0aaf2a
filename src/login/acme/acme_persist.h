/* acme_persist: the ACME client's saved state as one blob (JSON text) for the service state
 * (service_state.c, record ACME): the account key and URL, the rate-limit ledgers, and the installed
 * TLS key with its chain, so that a restarted service reuses its account and certificate instead of
 * spending Let's Encrypt's limits. Encoding and decoding only: no I/O, no network, no logging of
 * keys. The decoder takes (ptr, len) and checks every field it keeps. */
#ifndef SEALED_ACME_PERSIST_H
#define SEALED_ACME_PERSIST_H
#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "login/acme/acme_policy.h"

#define ACME_PERSIST_MAX_BYTES (128 * 1024)

struct acme_saved {
    char *directory, *domain;        /* owned: what the blob was made for (must match to be used) */
    EVP_PKEY *account_key;           /* owned */
    char *kid;                       /* owned: account URL, or NULL */
    struct acme_ledger failed_validations, new_certs, new_accounts;
    EVP_PKEY *tls_key;               /* owned, or NULL: the installed certificate's key */
    X509 *leaf;                      /* owned, or NULL */
    STACK_OF(X509) *chain;           /* owned, or NULL: intermediates */
};

/* JSON text of s (malloc'd, NUL-terminated; the caller wipes and frees it), or NULL. */
char *acme_saved_encode(const struct acme_saved *s);
/* Decodes (ptr, len) into *out (zeroed first). 0, or -1 with out cleared. */
int acme_saved_decode(const char *p, size_t len, struct acme_saved *out);
/* Frees every owned member and zeroes s. */
void acme_saved_clear(struct acme_saved *s);
#endif
