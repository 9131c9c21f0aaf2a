/* app: the website. Routes requests (/, /login, /callback, /healthz, /status; on plain HTTP the
 * ACME challenge and the redirect to https) and runs each login: state cookie check → PayPal
 * (code exchange, userinfo) → used-id reservation → evidence → signature → commit the id and
 * answer; /result hands a kept result to the browser that holds its retrieval secret. An id is marked used only together with producing its result; any failure or a client
 * gone before the result releases it. Owns the flows in progress; borrows every service object. */
#ifndef SEALED_APP_H
#define SEALED_APP_H
#include <jansson.h>

struct app;
struct config;
struct tls;
struct http_server;
struct http_client;
struct http_exchange;
struct signer;
struct idset;
struct attest;
struct service_state;

struct state_sync;
struct app_deps {
    struct config *cfg;
    struct event_base *base;
    struct tls *tls;
    struct http_server *server;
    struct http_client *http;
    struct signer *signer;
    struct idset *ids;             /* service_state_ids(state) */
    struct attest *attest;
    struct service_state *state;   /* used ids, cookie key, spent states, kept results */
    struct state_sync *sync;       /* NULL or inactive: a commit is delivered once saved locally */
};

/* NULL on allocation failure. */
struct app *app_new(const struct app_deps *deps);
/* Aborts flows in progress (their ids stay unused) and frees. Call after attest_free, which
 * drops pending evidence callbacks, and before freeing the other dependencies. */
void app_free(struct app *a);

/* http_handler_fn for the HTTPS listener. */
void app_handle_https(void *app, struct http_exchange *x);
/* http_handler_fn for the plain-HTTP listener (ACME challenges, else 301 to https). */
void app_handle_http(void *app, struct http_exchange *x);

/* Plug-ins (ACME, cloud): a named /status section, and the HTTP-01 responder. */
void app_add_status(struct app *a, const char *name, json_t *(*fn)(void *arg), void *arg);
void app_set_acme_responder(struct app *a, const char *(*keyauth)(void *arg, const char *token, size_t len), void *arg);
/* Why login is not offered yet (e.g. "waiting for the PayPal secret from the secret store"), or
 * NULL to derive it from the config. Borrowed; the caller keeps it alive. */
void app_set_unavailable_reason(struct app *a, const char *why);
/* The platform the cloud flow found ("none", "oci", "gcp"; a static string): results' trust
 * statements and the pages follow it. */
void app_set_platform(struct app *a, const char *platform);

/* Swaps the service key (the cloud's secret store delivered it after start) and returns the old
 * one for the caller to free. Only while login is unavailable: no flow may hold the old key's kid. */
struct signer *app_replace_signer(struct app *a, struct signer *s);

/* While why is non-NULL, login is not offered and why is shown (ACME: the real certificate is not
 * there yet, and a result must not bind the throwaway start-up key). Checked before the reason
 * above. Borrowed. */
void app_set_certificate_pending(struct app *a, const char *why);

/* Graceful stop: /login and /callback answer 503 from now on; returns the logins still in
 * progress (the caller waits, bounded, until 0). */
unsigned app_drain(struct app *a);

/* The /status object (new reference). */
json_t *app_status(struct app *a);
/* The daily-counts notification body (numbers only: results, replays refused, failures, ids served,
 * uptime), malloc'd, for cloud_set_daily_summary (arg is the struct app); NULL on ENOMEM. */
char *app_daily_counts(void *app);
#endif
