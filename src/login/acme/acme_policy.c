/* acme_policy: backoff arithmetic and the rate-limit ledger. No clock, no I/O. */
#include "login/acme/acme_policy.h"
#include "login/limits.h"
#include <string.h>

void acme_policy_defaults(struct acme_policy *p)
{
    memset(p, 0, sizeof *p);
    p->backoff_initial_ms = ACME_BACKOFF_INITIAL_MS;
    p->backoff_max_ms = ACME_BACKOFF_MAX_MS;
    p->transient_retry_ms = ACME_TRANSIENT_RETRY_MS;
    p->poll_ms = ACME_POLL_MS;
    p->poll_max_ms = ACME_POLL_MAX_DELAY_MS;
    p->ari_poll_default_ms = ACME_ARI_POLL_DEFAULT_MS;
    p->ari_poll_min_ms = ACME_ARI_POLL_MIN_MS;
    p->fail_window_ms = ACME_FAILED_VALIDATIONS_WINDOW_S * 1000LL;
    p->fail_max = ACME_FAILED_VALIDATIONS_MAX;
    p->cert_window_ms = ACME_CERTS_PER_NAMESET_WINDOW_S * 1000LL;
    p->cert_max = ACME_CERTS_PER_NAMESET_MAX;
    p->account_window_ms = ACME_ACCOUNTS_WINDOW_S * 1000LL;
    p->account_max = ACME_ACCOUNTS_MAX;
}

int64_t acme_policy_backoff_ms(const struct acme_policy *p, unsigned failures, uint32_t rnd)
{
    int64_t d = p->backoff_initial_ms;
    for (unsigned i = 1; i < failures && d < p->backoff_max_ms; i++)
        d *= 2;
    if (d > p->backoff_max_ms)
        d = p->backoff_max_ms;
    /* jitter factor 0.8 + 0.4 * rnd / 2^32, in integer thousandths */
    int64_t milli = 800 + (int64_t)(((uint64_t)rnd * 400u) >> 32);
    return d * milli / 1000;
}

int64_t acme_policy_poll_ms(const struct acme_policy *p, unsigned polls, long retry_after_s)
{
    if (retry_after_s >= 0)
        return retry_after_s * 1000LL;
    int64_t d = p->poll_ms;
    for (unsigned i = 0; i < polls && d < p->poll_max_ms; i++)
        d *= 2;
    return d > p->poll_max_ms ? p->poll_max_ms : d;
}

void acme_ledger_add(struct acme_ledger *l, int64_t now_ms)
{
    if (l->n == ACME_LEDGER_SLOTS) {
        memmove(l->at, l->at + 1, sizeof l->at[0] * (ACME_LEDGER_SLOTS - 1));
        l->n--;
    }
    l->at[l->n++] = now_ms;
}

unsigned acme_ledger_count(const struct acme_ledger *l, int64_t now_ms, int64_t window_ms)
{
    unsigned c = 0;
    for (unsigned i = 0; i < l->n; i++)
        if (l->at[i] > now_ms - window_ms && l->at[i] <= now_ms)
            c++;
    return c;
}

int64_t acme_ledger_next_allowed(const struct acme_ledger *l, int64_t now_ms, int64_t window_ms, unsigned max)
{
    if (max == 0)
        return INT64_MAX;
    unsigned c = acme_ledger_count(l, now_ms, window_ms);
    if (c < max)
        return now_ms;
    /* the (c - max + 1)-th oldest event inside the window must leave it first */
    unsigned skip = c - max, seen = 0;
    for (unsigned i = 0; i < l->n; i++) {
        if (l->at[i] <= now_ms - window_ms || l->at[i] > now_ms)
            continue;
        if (seen++ == skip)
            return l->at[i] + window_ms;
    }
    return now_ms;
}
