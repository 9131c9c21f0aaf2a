/* paypal_jwks: the service's copy of PayPal's published id_token keys (JWKS), fetched over TLS
 * from the compiled-in jwks_uri (config: paypal_jwks_url, settable only for the local stand-in),
 * kept in memory, fetched again when a token names a key it does not hold or the copy is older
 * than PAYPAL_JWKS_MAX_AGE_S, never more often than every PAYPAL_JWKS_MIN_REFRESH_S, at most
 * ID_TOKEN_JWKS_MAX_BYTES / ID_TOKEN_JWKS_MAX_KEYS. One fetch at a time; logins needing it wait
 * in a queue. Owns the cached set; borrows the HTTP client and config. Event loop only. */
#ifndef SEALED_PAYPAL_JWKS_H
#define SEALED_PAYPAL_JWKS_H
#include <jansson.h>

struct config;
struct http_client;
struct paypal_jwks;

/* Called once with the set after a fetch (borrowed, valid during the call) or NULL and a reason. */
typedef void (*paypal_jwks_fn)(void *arg, const json_t *jwks, const char *why);

/* A waiter, embedded in the caller's object; zero it before first use. */
struct paypal_jwks_wait {
    paypal_jwks_fn fn;
    void *arg;
    struct paypal_jwks_wait *next;   /* queue link, owned by paypal_jwks while queued */
    int queued;
};

struct paypal_jwks *paypal_jwks_new(struct http_client *hc, const struct config *cfg);
/* Frees the set and cancels a fetch in flight; queued waiters are dropped unanswered. NULL ok. */
void paypal_jwks_free(struct paypal_jwks *j);

/* The cached set when it is fresh and holds kid (borrowed until the set is replaced, which
 * happens only inside a fetch's answer). Otherwise NULL, and either w is queued (w->queued set;
 * w->fn runs once the fetch answers) or, when a fetch is not allowed yet, *why says so. */
const json_t *paypal_jwks_lookup(struct paypal_jwks *j, const char *kid, struct paypal_jwks_wait *w,
                                 const char **why);
/* Takes w out of the queue (its fn will not run). Not queued is fine. */
void paypal_jwks_cancel(struct paypal_jwks *j, struct paypal_jwks_wait *w);
/* Counters for /status: fetches, failures, keys held, age. New reference. */
json_t *paypal_jwks_status(const struct paypal_jwks *j);
#endif
