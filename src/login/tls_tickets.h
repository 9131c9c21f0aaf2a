/* tls_tickets: TLS session resumption without server-side session state. Stateless tickets
 * (RFC 8446 §4.6.1, RFC 5077 for TLS 1.2) sealed with AES-256-CBC + HMAC-SHA-256 under keys that
 * are drawn at random, live only in this process's memory, rotate every TLS_TICKET_ROTATE_S and
 * are kept for TLS_TICKET_KEYS periods (the current one seals, older ones only open, then they
 * are wiped). OpenSSL's own session cache is switched off, so memory does not grow with visitors.
 * Owns the keys; never writes, logs or exports them. Event loop only (no locking). */
#ifndef SEALED_TLS_TICKETS_H
#define SEALED_TLS_TICKETS_H
#include <stdint.h>
#include <openssl/ssl.h>

struct tls_tickets;

/* A ring with one fresh key. NULL on allocation or randomness failure. */
struct tls_tickets *tls_tickets_new(void);
/* Wipes every key and frees. NULL is fine. Contexts using it must be freed first. */
void tls_tickets_free(struct tls_tickets *t);

/* Makes ctx seal and open tickets with t (borrowed: must outlive ctx), turns the server session
 * cache off, and sets the session lifetime to TLS_SESSION_LIFETIME_S. Returns 0 or -1. */
int tls_tickets_attach(struct tls_tickets *t, SSL_CTX *ctx);

/* Starts a new period now: a fresh key seals from now on, the oldest key is wiped. Called by the
 * clock every TLS_TICKET_ROTATE_S; exported for tests. Returns 0, or -1 if no randomness (then
 * the old keys stay). */
int tls_tickets_rotate(struct tls_tickets *t);

/* Counters for /status and benchmarks. */
struct tls_tickets_stats {
    uint64_t sealed;        /* tickets issued */
    uint64_t key_hits;      /* tickets naming a live key (OpenSSL then checks their HMAC) */
    uint64_t renewed;       /* of those, an older key: a new ticket is issued after resuming */
    uint64_t unknown_key;   /* tickets whose key was rotated out (or forged): full handshake */
    uint64_t rotations;
};
void tls_tickets_stats(const struct tls_tickets *t, struct tls_tickets_stats *out);
#endif
