/* acme_policy: when the ACME client may try again. Exponential backoff with jitter after a failed
 * attempt, Retry-After taking precedence, and a ledger of events (failed validations, new
 * certificates, new accounts) that keeps the client under Let's Encrypt's rate limits. Pure
 * arithmetic on times the caller passes in; no clock, no I/O, no keys. */
#ifndef SEALED_ACME_POLICY_H
#define SEALED_ACME_POLICY_H
#include <stdint.h>

/* Durations in milliseconds. acme_policy_defaults() gives the limits.h values; tests shrink
 * them (the image always runs the defaults). */
struct acme_policy {
    int64_t backoff_initial_ms, backoff_max_ms;
    int64_t transient_retry_ms;
    int64_t poll_ms, poll_max_ms;
    int64_t ari_poll_default_ms, ari_poll_min_ms;
    int64_t fail_window_ms;   unsigned fail_max;    /* failed validations per identifier */
    int64_t cert_window_ms;   unsigned cert_max;    /* new certificates per name set (non-ARI) */
    int64_t account_window_ms; unsigned account_max;
};
void acme_policy_defaults(struct acme_policy *p);

/* Delay before attempt number `failures` (1 = after the first failure): initial * 2^(n-1),
 * capped at max, then scaled by a jitter factor in [0.8, 1.2] taken from rnd. */
int64_t acme_policy_backoff_ms(const struct acme_policy *p, unsigned failures, uint32_t rnd);

/* Delay before poll number `polls` (0-based) of a pending authorization or order: the CA's
 * Retry-After (seconds, -1 = none) when given, else poll_ms * 2^polls capped at poll_max_ms. */
int64_t acme_policy_poll_ms(const struct acme_policy *p, unsigned polls, long retry_after_s);

#define ACME_LEDGER_SLOTS 16
/* Times (ms) of recent events of one kind, oldest first; older ones fall out of the window. */
struct acme_ledger {
    int64_t at[ACME_LEDGER_SLOTS];
    unsigned n;
};
void acme_ledger_add(struct acme_ledger *l, int64_t now_ms);
/* Events inside (now - window, now]. */
unsigned acme_ledger_count(const struct acme_ledger *l, int64_t now_ms, int64_t window_ms);
/* Earliest time >= now at which one more event keeps the count within max per window. */
int64_t acme_ledger_next_allowed(const struct acme_ledger *l, int64_t now_ms, int64_t window_ms, unsigned max);
#endif
