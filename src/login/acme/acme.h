/* acme: the service's RFC 8555 ACME client. It obtains a certificate for the configured domain
 * over HTTP-01 (directory, nonce, ES256 account, newOrder, challenge, finalize, chain download),
 * installs it into the TLS context with tls_install (connections in flight keep their context),
 * and renews it for as long as the service runs: at the time RFC 9773 renewal information (ARI)
 * suggests, with "replaces", or at two thirds of the lifetime when the CA offers no ARI. Every
 * key lives only in RAM (acme_keys.c). Failures back off exponentially with jitter, Retry-After
 * is honoured, and Let's Encrypt's rate limits are never approached (acme_policy.c). Runs on
 * the service's event loop; all calls go through http_client. Never writes anything to disk and
 * never logs keys, nonces, key authorizations or request bodies. */
#ifndef SEALED_ACME_H
#define SEALED_ACME_H
#include <stddef.h>
#include <jansson.h>
#include "login/acme/acme_policy.h"

struct event_base;
struct http_client;
struct tls;
struct config;
struct acme;

typedef enum {
    ACME_OK = 0,
    ACME_ERR_NOMEM,
    ACME_ERR_CONFIG,     /* no directory or domain configured, or a bad value */
    ACME_ERR_NETWORK,    /* the CA could not be reached (after retries) */
    ACME_ERR_PROBLEM,    /* the CA answered with an error document */
    ACME_ERR_PROTOCOL,   /* the CA's answer did not follow RFC 8555 */
    ACME_ERR_VALIDATION, /* the CA could not validate the HTTP-01 challenge */
    ACME_ERR_CRYPTO,     /* key, CSR or certificate handling failed */
    ACME_ERR_TLS,        /* the TLS context refused the new certificate */
} acme_err;

const char *acme_strerror(acme_err e);

/* Creates the client. base, http and tls are borrowed and must outlive it; the strings it needs
 * (acme_directory, acme_ca_file, acme_contact, acme_profile, domain without ":port") are copied.
 * Generates the account key. NULL when cfg has no acme_directory or domain, or on ENOMEM. */
struct acme *acme_new(struct event_base *base, struct http_client *http, struct tls *tls,
                      const struct config *cfg);
/* Replaces the timing policy (tests shrink backoffs and windows; the service keeps the
 * limits.h defaults). Call before acme_start. */
void acme_set_policy(struct acme *a, const struct acme_policy *p);
/* Begins: directory, account, first order. Returns at once; progress happens on the loop and in
 * the log; the client then renews forever. ACME_OK, or ACME_ERR_* if it cannot begin. */
acme_err acme_start(struct acme *a);
/* The key authorization to serve at /.well-known/acme-challenge/<token> on port 80, or NULL
 * when token (len bytes, not NUL-terminated) is not a challenge this client is answering right
 * now. Borrowed; valid until the next return to the event loop. */
const char *acme_http01_keyauth(struct acme *a, const char *token, size_t len);
/* Snapshot for /status: {"state", "domain", "directory", "ari", "profile", "not_before",
 * "not_after", "next_renewal", "renewal_basis", "certificates", "last_error", "last_error_at",
 * "next_attempt", "failed_validations_window"} (times as unix seconds, 0 = none). New reference,
 * NULL on ENOMEM. */
json_t *acme_status(struct acme *a);
/* Calls fn(arg) on the loop after every certificate installed (the service opens login once the
 * first one is there). One hook; fn NULL clears it. */
void acme_set_installed_hook(struct acme *a, void (*fn)(void *arg), void *arg);
/* Calls fn(arg, domain, error) on the loop after every failed attempt (error is the text /status
 * shows as last_error; both borrowed for the call). One hook; fn NULL clears it. */
void acme_set_failed_hook(struct acme *a, void (*fn)(void *arg, const char *domain, const char *error), void *arg);
/* Adapters for app_set_acme_responder and app_add_status (arg is the struct acme). */
const char *acme_http01_responder(void *acme, const char *token, size_t len);
json_t *acme_status_hook(void *acme);
/* Saved state (issue 12): acme_export gives the account key and URL, the rate-limit ledgers and
 * the installed key and chain as one blob (acme_persist.h; malloc'd, the caller wipes and frees),
 * NULL on ENOMEM. acme_restore, before acme_start, takes such a blob: when it was made for the same
 * directory and domain, the account is reused (no newAccount), the ledgers continue, and a
 * certificate still valid for the domain is installed at once (then renewed as usual). Returns 1
 * when a certificate was installed, 0 when only the account was taken, -1 when the blob was not
 * used (logged). The hook runs after every change worth saving (account, certificate, ledger). */
char *acme_export(const struct acme *a, size_t *len);
int acme_restore(struct acme *a, const char *blob, size_t len);
/* Before there is an ACME client (a restarted service whose domain still comes from the cloud's
 * metadata): installs the certificate such a blob holds, when it was made for directory, is valid
 * for more than a minute and names the blob's domain, so that a restart serves what the process
 * before it served. Nothing else of the blob is used: acme_restore does that once the domain is
 * known. 1 with the domain copied into domain (dlen bytes), 0 when nothing was installed. */
int acme_serve_saved(struct tls *t, const char *directory, const char *blob, size_t len, char *domain,
                     size_t dlen);
void acme_set_persist_hook(struct acme *a, void (*fn)(void *arg), void *arg);
/* Cancels calls and timers in flight and frees everything, wiping the account key. NULL ok. */
void acme_free(struct acme *a);
#endif
