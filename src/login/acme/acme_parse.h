/* acme_parse: parsers for the CA's untrusted bytes other than problem documents: capped JSON,
 * Retry-After (RFC 9110 §10.2.3), RFC 3339 timestamps, ARI renewalInfo (RFC 9773 §4.2), the
 * ARI certificate identifier (§4.1), and PEM certificate chains. (ptr, len) in, fixed results
 * out; no state, no keys, no network. */
#ifndef SEALED_ACME_PARSE_H
#define SEALED_ACME_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <openssl/x509.h>

/* JSON object of at most ACME_MAX_JSON_BYTES and ACME_JSON_MAX_DEPTH nesting; NULL otherwise.
 * New reference. */
json_t *acme_json_load(const uint8_t *body, size_t len);

/* Retry-After: delta-seconds or an IMF-fixdate. Returns the seconds to wait from now (0 for a
 * date in the past), clamped to ACME_RETRY_AFTER_MAX_S, or -1 when absent or malformed. */
long acme_retry_after_parse(const char *v, size_t len, time_t now);

/* RFC 3339 date-time ("2025-01-02T04:00:00Z", fraction and numeric offset allowed). 0 or -1. */
int acme_rfc3339_parse(const char *s, size_t len, time_t *out);

/* RFC 9773 §4.1 identifier: base64url(AKI keyIdentifier) "." base64url(serial DER content
 * octets). Returns a malloc'd string, NULL if the certificate has no AKI key identifier. */
char *acme_ari_cert_id(X509 *cert);

struct acme_ari_window {
    time_t start, end;
    char explanation[256];        /* explanationURL, sanitised, "" if none */
};
/* Decodes a renewalInfo body: suggestedWindow.start < end required. 0 or -1. */
int acme_ari_parse(const uint8_t *body, size_t len, struct acme_ari_window *out);
/* A uniformly random time in [start, end] (RFC 9773 §4.3), from a caller-supplied random word. */
time_t acme_ari_pick(const struct acme_ari_window *w, uint32_t rnd);

/* Splits a PEM chain (leaf first) of len bytes into the leaf and the rest. At most
 * ACME_MAX_CHAIN_CERTS; anything but CERTIFICATE blocks is an error. 0 or -1; on success the
 * caller owns *leaf and *chain (sk_X509_pop_free). */
int acme_pem_chain_parse(const char *pem, size_t len, X509 **leaf, STACK_OF(X509) **chain);
#endif
