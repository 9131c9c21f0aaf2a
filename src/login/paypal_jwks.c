/* paypal_jwks: one cached JWKS, one fetch in flight, a FIFO of waiting logins. */
#include "login/paypal_jwks.h"
#include "common/id_token.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/log.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct paypal_jwks {
    struct http_client *hc;          /* borrowed */
    const struct config *cfg;        /* borrowed */
    json_t *set;                     /* owned: the last good JWKS, or NULL */
    struct timespec fetched;         /* monotonic time of the last good fetch */
    struct timespec attempted;       /* monotonic time the last fetch started */
    int ever_attempted;
    struct http_call *http;          /* borrowed handle of the fetch in flight */
    struct paypal_jwks_wait *head, *tail;
    unsigned long long fetches, failures;
};

static double since_s(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

struct paypal_jwks *paypal_jwks_new(struct http_client *hc, const struct config *cfg)
{
    struct paypal_jwks *j = calloc(1, sizeof *j);
    if (j) {
        j->hc = hc;
        j->cfg = cfg;
    }
    return j;
}

void paypal_jwks_free(struct paypal_jwks *j)
{
    if (!j)
        return;
    http_call_cancel(j->http);
    json_decref(j->set);
    free(j);
}

static void answer_all(struct paypal_jwks *j, const char *why)
{
    struct paypal_jwks_wait *w = j->head;
    j->head = j->tail = NULL;
    while (w) {   /* each fn may free its owner (and so w): take next first */
        struct paypal_jwks_wait *next = w->next;
        w->queued = 0;
        w->next = NULL;
        w->fn(w->arg, why ? NULL : j->set, why);
        w = next;
    }
}

static void on_fetch(void *arg, const struct http_response *r)
{
    struct paypal_jwks *j = arg;
    j->http = NULL;
    const char *why = NULL;
    json_t *set = NULL;
    if (r->err) {
        why = "PayPal's key set could not be fetched";
        log_warn("paypal.jwks", "result=unreachable reason=\"%s\" ms=%.0f", http_client_strerror(r->err), r->total_ms);
    } else if (r->status != 200) {
        why = "PayPal's key set could not be fetched";
        log_warn("paypal.jwks", "result=status status=%ld", r->status);
    } else if (id_token_jwks_parse(r->body, r->body_len, &set)) {
        why = id_token_strerror(ID_TOKEN_ERR_JWKS);
        log_warn("paypal.jwks", "result=malformed bytes=%zu", r->body_len);
    }
    if (why) {
        j->failures++;
    } else {
        json_decref(j->set);
        j->set = set;
        clock_gettime(CLOCK_MONOTONIC, &j->fetched);
        log_info("paypal.jwks", "result=ok keys=%zu ms=%.0f", json_array_size(json_object_get(set, "keys")), r->total_ms);
    }
    answer_all(j, why);
}

static int fetch_start(struct paypal_jwks *j)
{
    const char *hdrs[] = {"Accept: application/json", NULL};
    struct http_request req = {
        .method = "GET", .url = j->cfg->paypal_jwks_url, .headers = hdrs, .timeout_ms = PAYPAL_TIMEOUT_MS,
        .max_response = ID_TOKEN_JWKS_MAX_BYTES, .ca_file = j->cfg->paypal_ca_file,
        .allow_plain_http = j->cfg->paypal_env == PAYPAL_ENV_LOCAL_FAKE,
    };
    clock_gettime(CLOCK_MONOTONIC, &j->attempted);
    j->ever_attempted = 1;
    j->fetches++;
    j->http = http_client_start(j->hc, &req, on_fetch, j);
    return j->http ? 0 : -1;
}

const json_t *paypal_jwks_lookup(struct paypal_jwks *j, const char *kid, struct paypal_jwks_wait *w,
                                 const char **why)
{
    *why = NULL;
    int fresh = j->set && since_s(&j->fetched) < PAYPAL_JWKS_MAX_AGE_S;
    if (fresh && id_token_jwks_has(j->set, kid))
        return j->set;
    if (!j->http) {
        if (j->ever_attempted && since_s(&j->attempted) < PAYPAL_JWKS_MIN_REFRESH_S) {
            /* refreshed a moment ago: a key still unknown is not PayPal's (the cap on refreshes
             * also keeps forged kids from making us fetch on every callback) */
            *why = id_token_strerror(ID_TOKEN_ERR_KID);
            return NULL;
        }
        if (fetch_start(j)) {
            *why = "PayPal's key set could not be fetched (out of memory)";
            return NULL;
        }
    }
    w->next = NULL;
    w->queued = 1;
    if (j->tail)
        j->tail->next = w;
    else
        j->head = w;
    j->tail = w;
    return NULL;
}

void paypal_jwks_cancel(struct paypal_jwks *j, struct paypal_jwks_wait *w)
{
    if (!j || !w->queued)
        return;
    struct paypal_jwks_wait **pp = &j->head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = w->next;
        if (j->tail == w)
            j->tail = prev;
    }
    w->queued = 0;
    w->next = NULL;
}

json_t *paypal_jwks_status(const struct paypal_jwks *j)
{
    return json_pack("{s:I, s:I, s:i, s:I}", "fetches", (json_int_t)j->fetches, "failures", (json_int_t)j->failures,
                     "keys", j->set ? (int)json_array_size(json_object_get(j->set, "keys")) : 0,
                     "age_s", j->set ? (json_int_t)since_s(&j->fetched) : (json_int_t)-1);
}
