/* acme: the ACME client's state machine on the event loop (RFC 8555 order flow, RFC 9773
 * renewal timing, backoff). Talks to the CA only through http_client; asks acme_keys for every
 * signature, key authorization and CSR, and to install each certificate with the key it made.
 * Holds no private key: only the acme_keys handle and public certificates. */
#include "login/acme/acme.h"
#include "login/acme/acme_keys.h"
#include "login/acme/acme_log.h"
#include "login/acme/acme_parse.h"
#include "login/acme/acme_persist.h"
#include "login/acme/acme_policy.h"
#include "login/acme/acme_problem.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/tls.h"
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum acme_state {
    ST_IDLE, ST_DIRECTORY, ST_ACCOUNT, ST_ORDER, ST_AUTHZ, ST_CHALLENGE, ST_FINALIZE,
    ST_ORDER_POLL, ST_CERT, ST_ARI, ST_WAIT_RENEWAL, ST_BACKOFF,
};
static const char *state_names[] = {
    "idle", "directory", "account", "order", "authorization", "challenge", "finalize",
    "order-poll", "certificate", "renewal-info", "waiting-renewal", "backoff",
};

struct acme;
/* Continuation of a request: runs with the response (2xx) and its JSON body if it had one. */
typedef void (*acme_next_fn)(struct acme *a, const struct http_response *r, json_t *body);
typedef void (*acme_timer_fn)(struct acme *a);

/* The request in flight, kept whole so it can be re-signed and retried. */
struct acme_req {
    char *url;                     /* owned */
    char *payload;                 /* owned; NULL = POST-as-GET */
    int use_jwk;                   /* sign with "jwk" (newAccount) instead of "kid" */
    int plain_get;                 /* unauthenticated GET (directory, renewalInfo) */
    int want_pem;                  /* Accept: application/pem-certificate-chain */
    unsigned badnonce, transient;  /* retries used */
    acme_next_fn next;
};

struct acme {
    struct event_base *base;       /* borrowed */
    struct http_client *http;      /* borrowed */
    struct tls *tls;               /* borrowed */
    char *directory, *ca_file, *domain, *contact, *profile;  /* owned copies of the config */
    struct acme_policy pol;
    struct acme_keys *keys;        /* owned: account key */

    /* directory */
    char *u_nonce, *u_account, *u_order, *u_renewal;   /* owned */
    json_t *profiles;              /* owned: meta.profiles or NULL */
    int have_directory;

    char *nonce;                   /* owned: next Replay-Nonce to use */
    char *kid;                     /* owned: account URL */

    /* current order */
    char *order_url, *finalize_url, *cert_url;         /* owned */
    char *authz[ACME_MAX_AUTHZ];   /* owned authorization URLs */
    unsigned nauthz, authz_i, polls;
    char *chal_url;                /* owned */
    char *live_token, *live_keyauth;                   /* owned: the challenge being answered */
    char *replaces;                /* owned: ARI id put into this order, NULL = none */
    int order_profile;             /* the order asked for a.profile */
    int64_t order_started_ms;

    /* installed certificate */
    X509 *cert;                    /* owned reference to the leaf (public) */
    char *cert_id;                 /* owned: RFC 9773 identifier */
    time_t not_before, not_after;
    unsigned certificates;
    struct acme_ari_window ari_win;
    time_t ari_pick;               /* chosen time inside ari_win */
    time_t next_renewal;
    const char *renewal_basis;     /* "ari", "lifetime" or NULL */

    /* scheduling and errors */
    enum acme_state state;
    struct acme_req req;
    struct http_call *call;        /* in flight, or NULL */
    struct event *timer;           /* owned */
    acme_timer_fn timer_fn;
    int64_t next_attempt_ms;
    unsigned failures;             /* consecutive failed attempts */
    char last_error[512];
    time_t last_error_at;
    struct acme_ledger failed_validations, new_certs, new_accounts;
    int started;
    void (*installed_fn)(void *arg);   /* borrowed hook */
    void *installed_arg;
    STACK_OF(X509) *inst_chain;    /* owned: its intermediates */
    void (*persist_fn)(void *arg); /* borrowed hook: save acme_export() */
    void *persist_arg;
    int restored;                  /* the certificate came from the saved state */
    void (*failed_fn)(void *arg, const char *domain, const char *error);   /* attempt_fail's hook */
    void *failed_arg;
};

static void persist(struct acme *a)
{
    if (a->persist_fn)
        a->persist_fn(a->persist_arg);
}

static void send_req(struct acme *a);
static void step_directory(struct acme *a);
static void step_order(struct acme *a);
static void step_authz(struct acme *a);
static void step_finalize(struct acme *a);
static void step_ari(struct acme *a);
static void schedule_renewal(struct acme *a);
static void poll_order(struct acme *a);
static void on_cert(struct acme *a, const struct http_response *r, json_t *unused);

const char *acme_strerror(acme_err e)
{
    switch (e) {
    case ACME_OK: return "ok";
    case ACME_ERR_NOMEM: return "out of memory";
    case ACME_ERR_CONFIG: return "bad configuration";
    case ACME_ERR_NETWORK: return "CA unreachable";
    case ACME_ERR_PROBLEM: return "CA reported an error";
    case ACME_ERR_PROTOCOL: return "unexpected answer from the CA";
    case ACME_ERR_VALIDATION: return "challenge validation failed";
    case ACME_ERR_CRYPTO: return "key or certificate handling failed";
    case ACME_ERR_TLS: return "TLS context refused the certificate";
    }
    return "unknown error";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t rnd32(void)
{
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = 0x80000000u;
    return r;
}

static void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

static int set_url(char **slot, const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) > ACME_URL_MAX || strncmp(s, "https://", 8))
        return -1;
    set_str(slot, s);
    return *slot ? 0 : -1;
}

static void set_state(struct acme *a, enum acme_state s)
{
    a->state = s;
}

/* ---- timers ---------------------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct acme *a = arg;
    acme_timer_fn fn = a->timer_fn;
    a->timer_fn = NULL;
    a->next_attempt_ms = 0;
    if (fn)
        fn(a);
}

static void schedule(struct acme *a, int64_t delay_ms, acme_timer_fn fn)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    a->timer_fn = fn;
    a->next_attempt_ms = now_ms() + delay_ms;
    evtimer_add(a->timer, &tv);
}

/* ---- live challenge -------------------------------------------------------------------- */

static void live_clear(struct acme *a)
{
    if (a->live_keyauth)
        OPENSSL_clear_free(a->live_keyauth, strlen(a->live_keyauth));
    free(a->live_token);
    a->live_token = a->live_keyauth = NULL;
}

const char *acme_http01_keyauth(struct acme *a, const char *token, size_t len)
{
    if (!a || !a->live_token || !token)
        return NULL;
    size_t tl = strlen(a->live_token);
    if (tl != len || CRYPTO_memcmp(a->live_token, token, len))
        return NULL;
    return a->live_keyauth;
}

/* ---- failure, backoff and Retry-After -------------------------------------------------- */

static void order_clear(struct acme *a)
{
    live_clear(a);
    for (unsigned i = 0; i < a->nauthz; i++) {
        free(a->authz[i]);
        a->authz[i] = NULL;
    }
    a->nauthz = a->authz_i = a->polls = 0;
    set_str(&a->order_url, NULL);
    set_str(&a->finalize_url, NULL);
    set_str(&a->cert_url, NULL);
    set_str(&a->chal_url, NULL);
    if (a->keys)
        acme_keys_order_drop(a->keys);
}

static void step_account(struct acme *a);

static void restart_attempt(struct acme *a)
{
    if (!a->have_directory)
        step_directory(a);
    else if (!a->kid)          /* never made, or the CA said accountDoesNotExist */
        step_account(a);
    else
        step_order(a);
}

/* Ends the current attempt: logs once, records the error for /status and schedules the next
 * attempt after the backoff, or later if the CA asked for it (retry_after_s >= 0). */
static void attempt_fail(struct acme *a, acme_err e, const char *why, long retry_after_s)
{
    order_clear(a);
    a->failures++;
    int64_t delay = acme_policy_backoff_ms(&a->pol, a->failures, rnd32());
    const char *basis = "backoff";
    if (retry_after_s >= 0 && retry_after_s * 1000LL > delay) {
        delay = retry_after_s * 1000LL;
        basis = "retry-after";
    }
    snprintf(a->last_error, sizeof a->last_error, "%s: %s: %s", state_names[a->state], acme_strerror(e), why);
    a->last_error_at = time(NULL);
    acme_log_error("acme.attempt.failed", "step=%s error=\"%s\" %s failures=%u retry_in_ms=%lld basis=%s",
                   state_names[a->state], acme_strerror(e), why, a->failures, (long long)delay, basis);
    set_state(a, ST_BACKOFF);
    schedule(a, delay, restart_attempt);
    if (a->failed_fn)
        a->failed_fn(a->failed_arg, a->domain, a->last_error);
}

/* ---- requests -------------------------------------------------------------------------- */

static void req_clear(struct acme_req *r)
{
    free(r->url);
    if (r->payload)
        OPENSSL_clear_free(r->payload, strlen(r->payload));
    memset(r, 0, sizeof *r);
}

/* Starts a request; payload NULL means POST-as-GET (or a plain GET with REQ_PLAIN_GET). */
enum { REQ_POST = 0, REQ_PLAIN_GET = 1, REQ_JWK = 2, REQ_PEM = 4 };

static void request(struct acme *a, const char *url, const char *payload, int flags, acme_next_fn next)
{
    req_clear(&a->req);
    a->req.url = strdup(url);
    a->req.payload = payload ? strdup(payload) : NULL;
    a->req.plain_get = !!(flags & REQ_PLAIN_GET);
    a->req.use_jwk = !!(flags & REQ_JWK);
    a->req.want_pem = !!(flags & REQ_PEM);
    a->req.next = next;
    if (!a->req.url || (payload && !a->req.payload)) {
        attempt_fail(a, ACME_ERR_NOMEM, "detail=\"request\"", -1);
        return;
    }
    send_req(a);
}

static void transient_retry(struct acme *a, const char *why)
{
    if (a->req.transient >= ACME_TRANSIENT_RETRIES) {
        attempt_fail(a, ACME_ERR_NETWORK, why, -1);
        return;
    }
    int64_t d = a->pol.transient_retry_ms << a->req.transient;
    a->req.transient++;
    acme_log_warn("acme.request.retry", "step=%s %s retry=%u in_ms=%lld", state_names[a->state], why,
                  a->req.transient, (long long)d);
    schedule(a, d, send_req);
}

static void keep_nonce(struct acme *a, const struct http_response *r)
{
    const char *n = http_response_header(r, "Replay-Nonce");
    size_t l = n ? strlen(n) : 0;
    if (!n || !l || l > 256)
        return;
    for (size_t i = 0; i < l; i++)  /* RFC 8555 §6.5.1: base64url */
        if (!((n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') ||
              n[i] == '-' || n[i] == '_'))
            return;
    set_str(&a->nonce, n);
}

static void on_response(void *arg, const struct http_response *r)
{
    struct acme *a = arg;
    a->call = NULL;
    char why[900];
    if (r->err) {
        snprintf(why, sizeof why, "detail=\"%s\"", http_client_strerror(r->err));
        transient_retry(a, why);
        return;
    }
    keep_nonce(a, r);
    const char *ra = http_response_header(r, "Retry-After");
    long retry_after = ra ? acme_retry_after_parse(ra, strlen(ra), time(NULL)) : -1;
    if (r->status >= 400) {
        struct acme_problem p;
        acme_problem_parse(r->body, r->body_len, r->status, &p);
        char line[800];
        acme_problem_format(&p, line, sizeof line);
        if (p.kind == ACME_PROB_BAD_NONCE && !a->req.plain_get) {
            if (a->req.badnonce < ACME_BADNONCE_RETRIES) {
                a->req.badnonce++;
                acme_log_info("acme.nonce.rejected", "step=%s action=retry-with-fresh-nonce", state_names[a->state]);
                send_req(a);
            } else {
                set_str(&a->nonce, NULL);
                a->req.badnonce = 0;
                transient_retry(a, line);
            }
            return;
        }
        if (p.kind == ACME_PROB_RATE_LIMITED || r->status == 429) {
            acme_log_warn("acme.ratelimit.ca", "step=%s %s retry_after_s=%ld", state_names[a->state], line, retry_after);
            attempt_fail(a, ACME_ERR_PROBLEM, line, retry_after);
            return;
        }
        if (p.kind == ACME_PROB_ALREADY_REPLACED && a->state == ST_ORDER && a->replaces) {
            acme_log_warn("acme.order.replaces_refused", "%s action=order-without-replaces", line);
            set_str(&a->replaces, NULL);
            step_order(a);
            return;
        }
        if ((p.kind == ACME_PROB_INVALID_PROFILE || (p.kind == ACME_PROB_MALFORMED && strstr(p.detail, "profile"))) &&
            a->state == ST_ORDER && a->order_profile) {
            acme_log_warn("acme.order.profile_refused", "profile=%s %s action=order-default-profile", a->profile, line);
            set_str(&a->profile, NULL);
            step_order(a);
            return;
        }
        if (p.kind == ACME_PROB_ACCOUNT_DOES_NOT_EXIST)
            set_str(&a->kid, NULL);
        if (r->status >= 500 && retry_after < 0) {
            transient_retry(a, line);
            return;
        }
        attempt_fail(a, ACME_ERR_PROBLEM, line, retry_after);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        snprintf(why, sizeof why, "detail=\"unexpected HTTP status %ld\"", r->status);
        attempt_fail(a, ACME_ERR_PROTOCOL, why, retry_after);
        return;
    }
    json_t *body = NULL;
    const char *ct = http_response_header(r, "Content-Type");
    if (ct && !strncmp(ct, "application/json", 16)) {
        if (!(body = acme_json_load(r->body, r->body_len))) {
            attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"malformed or oversized JSON\"", -1);
            return;
        }
    }
    acme_next_fn next = a->req.next;
    next(a, r, body);
    json_decref(body);
}

static void on_nonce(void *arg, const struct http_response *r)
{
    struct acme *a = arg;
    a->call = NULL;
    if (r->err || r->status < 200 || r->status >= 300) {
        char why[128];
        snprintf(why, sizeof why, "detail=\"newNonce: %s status %ld\"", r->err ? http_client_strerror(r->err) : "http", r->status);
        transient_retry(a, why);
        return;
    }
    keep_nonce(a, r);
    if (!a->nonce) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"newNonce gave no Replay-Nonce\"", -1);
        return;
    }
    send_req(a);
}

static void send_req(struct acme *a)
{
    struct http_request hr = {0};
    hr.timeout_ms = ACME_TIMEOUT_MS;
    hr.ca_file = a->ca_file;
    char *body = NULL;
    if (!a->req.plain_get && !a->nonce) {      /* fetch a nonce first, then come back */
        hr.method = "HEAD";
        hr.url = a->u_nonce;
        hr.max_response = 1024;
        if (!(a->call = http_client_start(a->http, &hr, on_nonce, a)))
            transient_retry(a, "detail=\"could not start newNonce call\"");
        return;
    }
    const char *jose_hdrs[] = {"Content-Type: application/jose+json",
                               a->req.want_pem ? "Accept: application/pem-certificate-chain" : "Accept: application/json",
                               NULL};
    const char *get_hdrs[] = {"Accept: application/json", NULL};
    hr.url = a->req.url;
    hr.max_response = a->req.want_pem ? ACME_MAX_CHAIN_BYTES : ACME_MAX_JSON_BYTES;
    if (a->req.plain_get) {
        hr.method = "GET";
        hr.headers = get_hdrs;
    } else {
        body = acme_keys_sign_request(a->keys, a->req.url, a->nonce, a->req.use_jwk ? NULL : a->kid, a->req.payload);
        set_str(&a->nonce, NULL);              /* a nonce is good for one request */
        if (!body) {
            attempt_fail(a, ACME_ERR_CRYPTO, "detail=\"could not sign request\"", -1);
            return;
        }
        hr.method = "POST";
        hr.headers = jose_hdrs;
        hr.body = (const uint8_t *)body;
        hr.body_len = strlen(body);
    }
    a->call = http_client_start(a->http, &hr, on_response, a);
    if (body)
        OPENSSL_clear_free(body, strlen(body));
    if (!a->call)
        transient_retry(a, "detail=\"could not start call\"");
}

/* ---- directory and account ------------------------------------------------------------- */

static void on_directory(struct acme *a, const struct http_response *r, json_t *d)
{
    if (!d || set_url(&a->u_nonce, json_object_get(d, "newNonce")) ||
        set_url(&a->u_account, json_object_get(d, "newAccount")) ||
        set_url(&a->u_order, json_object_get(d, "newOrder"))) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"directory lacks newNonce/newAccount/newOrder\"", -1);
        return;
    }
    set_str(&a->u_renewal, NULL);
    if (json_object_get(d, "renewalInfo") && set_url(&a->u_renewal, json_object_get(d, "renewalInfo")))
        acme_log_warn("acme.directory", "detail=\"renewalInfo is not an https URL; ignoring ARI\"");
    json_decref(a->profiles);
    a->profiles = NULL;
    json_t *prof = json_object_get(json_object_get(d, "meta"), "profiles");
    if (json_is_object(prof))
        a->profiles = json_incref(prof);
    a->have_directory = 1;
    acme_log_info("acme.directory", "ari=%s profiles=%s", a->u_renewal ? "yes" : "no",
                  a->profiles ? "yes" : "no");
    if (a->profile) {
        if (!a->profiles)
            acme_log_warn("acme.profile", "profile=%s detail=\"the CA lists no profiles; ordering its default\"", a->profile);
        else if (!json_object_get(a->profiles, a->profile))
            acme_log_warn("acme.profile", "profile=%s detail=\"the CA does not list this profile; ordering its default\"", a->profile);
    }
    if (a->kid && a->cert)
        schedule_renewal(a);   /* account and certificate from the saved state */
    else if (a->kid)
        step_order(a);
    else
        step_account(a);
}

static void step_directory(struct acme *a)
{
    set_state(a, ST_DIRECTORY);
    request(a, a->directory, NULL, REQ_PLAIN_GET, on_directory);
}

static void on_account(struct acme *a, const struct http_response *r, json_t *acct)
{
    const char *loc = http_response_header(r, "Location");
    const char *st = json_string_value(json_object_get(acct, "status"));
    if (!loc || strncmp(loc, "https://", 8) || strlen(loc) > ACME_URL_MAX || !st) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"account answer lacks Location or status\"", -1);
        return;
    }
    if (strcmp(st, "valid")) {
        char why[96];
        snprintf(why, sizeof why, "detail=\"account status %.20s\"", st);
        attempt_fail(a, ACME_ERR_PROTOCOL, why, -1);
        return;
    }
    set_str(&a->kid, loc);
    if (r->status == 201)
        acme_ledger_add(&a->new_accounts, now_ms());
    acme_log_info("acme.account", "created=%s", r->status == 201 ? "yes" : "existing");
    persist(a);
    if (a->cert)
        schedule_renewal(a);   /* a saved certificate is installed: renew it when due, no new order */
    else
        step_order(a);
}

static void step_account(struct acme *a)
{
    set_state(a, ST_ACCOUNT);
    int64_t now = now_ms();
    int64_t at = acme_ledger_next_allowed(&a->new_accounts, now, a->pol.account_window_ms, a->pol.account_max);
    if (at > now) {
        acme_log_warn("acme.ratelimit.self", "limit=new-accounts max=%u window_s=%lld action=wait wait_ms=%lld",
                      a->pol.account_max, (long long)(a->pol.account_window_ms / 1000), (long long)(at - now));
        set_state(a, ST_BACKOFF);
        schedule(a, at - now + 5, step_account);
        return;
    }
    json_t *p = json_pack("{s:b}", "termsOfServiceAgreed", 1);
    if (p && a->contact)
        json_object_set_new(p, "contact", json_pack("[s]", a->contact));
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!s) {
        attempt_fail(a, ACME_ERR_NOMEM, "detail=\"account payload\"", -1);
        return;
    }
    request(a, a->u_account, s, REQ_JWK, on_account);
    free(s);
}

/* ---- order, authorizations, challenge ---------------------------------------------------- */

/* Takes an order object: stores its URLs and continues with what its status asks for. */
static void order_continue(struct acme *a, json_t *o, long retry_after)
{
    const char *st = json_string_value(json_object_get(o, "status"));
    if (!st) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"order without status\"", -1);
        return;
    }
    if (json_object_get(o, "finalize") && set_url(&a->finalize_url, json_object_get(o, "finalize"))) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"order finalize URL\"", -1);
        return;
    }
    if (!strcmp(st, "valid")) {
        if (set_url(&a->cert_url, json_object_get(o, "certificate"))) {
            attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"valid order without certificate URL\"", -1);
            return;
        }
        set_state(a, ST_CERT);
        request(a, a->cert_url, NULL, REQ_PEM, on_cert);
        return;
    }
    if (!strcmp(st, "ready")) {
        step_finalize(a);
        return;
    }
    if (!strcmp(st, "pending")) {
        step_authz(a);
        return;
    }
    if (!strcmp(st, "processing")) {
        if (++a->polls > ACME_POLL_MAX) {
            attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"order stayed processing\"", -1);
            return;
        }
        set_state(a, ST_ORDER_POLL);
        schedule(a, acme_policy_poll_ms(&a->pol, a->polls - 1, retry_after), poll_order);
        return;
    }
    struct acme_problem p;
    char why[800] = "detail=\"order invalid\"";
    if (!acme_problem_from_json(json_object_get(o, "error"), 0, &p))
        acme_problem_format(&p, why, sizeof why);
    attempt_fail(a, ACME_ERR_PROBLEM, why, -1);
}

static long retry_after_of(const struct http_response *r)
{
    const char *ra = http_response_header(r, "Retry-After");
    return ra ? acme_retry_after_parse(ra, strlen(ra), time(NULL)) : -1;
}

static void on_order(struct acme *a, const struct http_response *r, json_t *o)
{
    const char *loc = http_response_header(r, "Location");
    json_t *az = json_object_get(o, "authorizations");
    if (!o || !loc || strncmp(loc, "https://", 8) || strlen(loc) > ACME_URL_MAX || !json_is_array(az) ||
        json_array_size(az) > ACME_MAX_AUTHZ) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"newOrder answer lacks Location or authorizations\"", -1);
        return;
    }
    set_str(&a->order_url, loc);
    size_t i;
    json_t *u;
    json_array_foreach(az, i, u) {
        if (set_url(&a->authz[i], u)) {
            attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"authorization URL\"", -1);
            return;
        }
        a->nauthz = (unsigned)i + 1;
    }
    a->authz_i = 0;
    const char *prof = json_string_value(json_object_get(o, "profile"));
    acme_log_info("acme.order", "status=%s authorizations=%u replaces=%s profile=%s",
                  json_string_value(json_object_get(o, "status")) ? json_string_value(json_object_get(o, "status")) : "?",
                  a->nauthz, a->replaces ? "yes" : "no", prof ? prof : (a->order_profile ? a->profile : "default"));
    order_continue(a, o, retry_after_of(r));
}

static void step_order(struct acme *a)
{
    order_clear(a);
    set_state(a, ST_ORDER);
    int64_t now = now_ms();
    /* our own ledger first: never let the CA's limit be the one that stops us */
    int64_t at = acme_ledger_next_allowed(&a->failed_validations, now, a->pol.fail_window_ms, a->pol.fail_max);
    const char *limit = "failed-validations";
    unsigned max = a->pol.fail_max;
    int64_t win = a->pol.fail_window_ms;
    if (!a->replaces) {
        int64_t c = acme_ledger_next_allowed(&a->new_certs, now, a->pol.cert_window_ms, a->pol.cert_max);
        if (c > at) {
            at = c;
            limit = "certificates-per-name-set";
            max = a->pol.cert_max;
            win = a->pol.cert_window_ms;
        }
    }
    if (at > now) {
        acme_log_warn("acme.ratelimit.self",
                      "limit=%s max=%u window_s=%lld action=wait wait_ms=%lld serving=%s current_not_after=%lld",
                      limit, max, (long long)(win / 1000), (long long)(at - now),
                      a->cert ? "current-certificate" : "nothing-yet", (long long)a->not_after);
        set_state(a, ST_BACKOFF);
        schedule(a, at - now + 5, step_order);   /* +5 ms: the timer may fire a hair early */
        return;
    }
    a->order_started_ms = now;
    a->order_profile = a->profile && a->profiles && json_object_get(a->profiles, a->profile);
    json_t *p = json_pack("{s:[{s:s, s:s}]}", "identifiers", "type", "dns", "value", a->domain);
    if (p && a->order_profile)
        json_object_set_new(p, "profile", json_string(a->profile));
    if (p && a->replaces)
        json_object_set_new(p, "replaces", json_string(a->replaces));
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!s) {
        attempt_fail(a, ACME_ERR_NOMEM, "detail=\"order payload\"", -1);
        return;
    }
    request(a, a->u_order, s, REQ_POST, on_order);
    free(s);
}

static void on_challenge(struct acme *a, const struct http_response *r, json_t *c);
static void on_authz(struct acme *a, const struct http_response *r, json_t *az);

static void poll_authz(struct acme *a)
{
    request(a, a->authz[a->authz_i], NULL, REQ_POST, on_authz);
}

static void authz_failed(struct acme *a, json_t *az)
{
    /* the CA's reason sits in the http-01 challenge's "error" */
    char why[800] = "detail=\"authorization invalid\"";
    struct acme_problem p;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(az, "challenges"), i, c) {
        if (!acme_problem_from_json(json_object_get(c, "error"), 0, &p)) {
            acme_problem_format(&p, why, sizeof why);
            break;
        }
    }
    acme_ledger_add(&a->failed_validations, now_ms());
    persist(a);
    unsigned n = acme_ledger_count(&a->failed_validations, now_ms(), a->pol.fail_window_ms);
    acme_log_error("acme.challenge.invalid", "type=http-01 failed_in_window=%u max=%u %s", n, a->pol.fail_max, why);
    live_clear(a);
    attempt_fail(a, ACME_ERR_VALIDATION, why, -1);
}

static void on_authz(struct acme *a, const struct http_response *r, json_t *az)
{
    const char *st = json_string_value(json_object_get(az, "status"));
    if (!st) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"authorization without status\"", -1);
        return;
    }
    if (!strcmp(st, "valid")) {
        if (a->live_token)
            acme_log_info("acme.challenge.valid", "type=http-01 took_ms=%lld", (long long)(now_ms() - a->order_started_ms));
        live_clear(a);
        a->authz_i++;
        a->polls = 0;
        step_authz(a);
        return;
    }
    if (strcmp(st, "pending")) {
        authz_failed(a, az);
        return;
    }
    if (a->live_token) {   /* we answered: still being validated */
        if (++a->polls > ACME_POLL_MAX) {
            live_clear(a);
            attempt_fail(a, ACME_ERR_VALIDATION, "detail=\"validation did not finish\"", -1);
            return;
        }
        schedule(a, acme_policy_poll_ms(&a->pol, a->polls, retry_after_of(r)), poll_authz);
        return;
    }
    /* pick the http-01 challenge */
    size_t i;
    json_t *c, *h = NULL;
    json_array_foreach(json_object_get(az, "challenges"), i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, "http-01"))
            h = c;
    }
    const char *tok = json_string_value(json_object_get(h, "token"));
    if (!h || !tok || set_url(&a->chal_url, json_object_get(h, "url"))) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"no usable http-01 challenge offered\"", -1);
        return;
    }
    char *ka = acme_keys_key_authorization(a->keys, tok, json_string_length(json_object_get(h, "token")));
    if (!ka) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"challenge token is not base64url or too long\"", -1);
        return;
    }
    live_clear(a);
    a->live_token = strdup(tok);
    a->live_keyauth = ka;
    if (!a->live_token) {
        attempt_fail(a, ACME_ERR_NOMEM, "detail=\"token\"", -1);
        return;
    }
    set_state(a, ST_CHALLENGE);
    acme_log_info("acme.challenge", "type=http-01 action=serving-and-responding");
    request(a, a->chal_url, "{}", REQ_POST, on_challenge);
}

static void on_challenge(struct acme *a, const struct http_response *r, json_t *c)
{
    const char *st = json_string_value(json_object_get(c, "status"));
    if (st && !strcmp(st, "invalid")) {
        json_t *az = json_pack("{s:[O]}", "challenges", c);
        authz_failed(a, az);
        json_decref(az);
        return;
    }
    a->polls = 0;
    set_state(a, ST_AUTHZ);
    schedule(a, acme_policy_poll_ms(&a->pol, 0, retry_after_of(r)), poll_authz);
}

static void step_authz(struct acme *a)
{
    if (a->authz_i >= a->nauthz) {
        step_finalize(a);
        return;
    }
    set_state(a, ST_AUTHZ);
    poll_authz(a);
}

/* ---- finalize, certificate -------------------------------------------------------------- */

static void on_finalize(struct acme *a, const struct http_response *r, json_t *o)
{
    if (!o) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"finalize answer is not an order\"", -1);
        return;
    }
    a->polls = 0;
    order_continue(a, o, retry_after_of(r));
}

static void on_order_poll(struct acme *a, const struct http_response *r, json_t *o)
{
    if (!o) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"order answer is not JSON\"", -1);
        return;
    }
    const char *st = json_string_value(json_object_get(o, "status"));
    if (st && (!strcmp(st, "ready") || !strcmp(st, "pending")) && acme_keys_order_pending(a->keys)) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"order went back after finalize\"", -1);
        return;
    }
    order_continue(a, o, retry_after_of(r));
}

static void poll_order(struct acme *a)
{
    request(a, a->order_url, NULL, REQ_POST, on_order_poll);
}

static void step_finalize(struct acme *a)
{
    set_state(a, ST_FINALIZE);
    if (!a->finalize_url) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"no finalize URL\"", -1);
        return;
    }
    char *csr = acme_keys_order_csr(a->keys, a->domain);
    json_t *p = csr ? json_pack("{s:s}", "csr", csr) : NULL;
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    free(csr);
    json_decref(p);
    if (!s) {
        attempt_fail(a, ACME_ERR_CRYPTO, "detail=\"could not make key or CSR\"", -1);
        return;
    }
    a->polls = 0;
    request(a, a->finalize_url, s, REQ_POST, on_finalize);
    free(s);
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

static void on_cert(struct acme *a, const struct http_response *r, json_t *unused)
{
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    if (acme_pem_chain_parse((const char *)r->body, r->body_len, &leaf, &chain)) {
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"certificate chain is not PEM certificates\"", -1);
        return;
    }
    if (!acme_keys_order_matches(a->keys, leaf) || X509_check_host(leaf, a->domain, 0, 0, NULL) != 1) {
        X509_free(leaf);
        sk_X509_pop_free(chain, X509_free);
        attempt_fail(a, ACME_ERR_PROTOCOL, "detail=\"certificate does not match our key or domain\"", -1);
        return;
    }
    if (acme_keys_order_install(a->keys, a->tls, leaf, chain)) {
        X509_free(leaf);
        sk_X509_pop_free(chain, X509_free);
        attempt_fail(a, ACME_ERR_TLS, "detail=\"tls_install refused\"", -1);
        return;
    }
    sk_X509_pop_free(a->inst_chain, X509_free);
    a->inst_chain = chain;               /* kept for the saved state; acme_keys keeps the key */
    a->restored = 0;
    X509_free(a->cert);
    a->cert = leaf;
    a->not_before = asn1_to_time(X509_get0_notBefore(leaf));
    a->not_after = asn1_to_time(X509_get0_notAfter(leaf));
    free(a->cert_id);
    a->cert_id = acme_ari_cert_id(leaf);
    a->certificates++;
    if (!a->replaces)
        acme_ledger_add(&a->new_certs, now_ms());
    a->failures = 0;
    memset(&a->ari_win, 0, sizeof a->ari_win);
    a->ari_pick = 0;
    const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    acme_log_info("acme.certificate.installed",
                  "serial=%s not_before=%lld not_after=%lld lifetime_s=%lld replaces=%s tls_generation=%u took_ms=%lld",
                  hex ? hex : "?", (long long)a->not_before, (long long)a->not_after,
                  (long long)(a->not_after - a->not_before), a->replaces ? "yes" : "no", tls_generation(a->tls),
                  (long long)(now_ms() - a->order_started_ms));
    OPENSSL_free(hex);
    BN_free(bn);
    set_str(&a->replaces, NULL);
    order_clear(a);
    persist(a);
    schedule_renewal(a);
    if (a->installed_fn)
        a->installed_fn(a->installed_arg);
}

/* ---- renewal ------------------------------------------------------------------------------ */

static void renew_now(struct acme *a)
{
    set_str(&a->replaces, NULL);
    if (a->u_renewal && a->cert_id)
        set_str(&a->replaces, a->cert_id);
    acme_log_info("acme.renewal.start", "basis=%s replaces=%s", a->renewal_basis ? a->renewal_basis : "?",
                  a->replaces ? "yes" : "no");
    step_order(a);
}

static time_t lifetime_point(const struct acme *a)
{
    return a->not_before + (a->not_after - a->not_before) * ACME_RENEW_FRACTION_NUM / ACME_RENEW_FRACTION_DEN;
}

static void wait_until(struct acme *a, time_t renew_at, const char *basis, int64_t recheck_ms)
{
    int64_t now = now_ms();
    int64_t until = (int64_t)renew_at * 1000 - now;
    a->next_renewal = renew_at;
    a->renewal_basis = basis;
    set_state(a, ST_WAIT_RENEWAL);
    if (until <= 0) {
        renew_now(a);
        return;
    }
    if (recheck_ms > 0 && recheck_ms < until) {
        acme_log_info("acme.renewal.scheduled", "basis=%s renew_at=%lld recheck_in_ms=%lld", basis,
                      (long long)renew_at, (long long)recheck_ms);
        schedule(a, recheck_ms, step_ari);
    } else {
        acme_log_info("acme.renewal.scheduled", "basis=%s renew_at=%lld in_ms=%lld", basis, (long long)renew_at,
                      (long long)until);
        schedule(a, until, renew_now);
    }
}

static void on_ari(void *arg, const struct http_response *r)
{
    struct acme *a = arg;
    a->call = NULL;
    struct acme_ari_window w;
    const char *ra = r->err ? NULL : http_response_header(r, "Retry-After");
    long ras = ra ? acme_retry_after_parse(ra, strlen(ra), time(NULL)) : -1;
    int64_t recheck = ras >= 0 ? ras * 1000LL : a->pol.ari_poll_default_ms;
    if (recheck < a->pol.ari_poll_min_ms)
        recheck = a->pol.ari_poll_min_ms;
    if (r->err || r->status != 200 || acme_ari_parse(r->body, r->body_len, &w)) {
        acme_log_warn("acme.ari.failed", "status=%ld error=\"%s\" action=lifetime-fallback-and-recheck",
                      r->status, r->err ? http_client_strerror(r->err) : "bad renewalInfo answer");
        if (recheck < a->pol.ari_poll_default_ms)
            recheck = a->pol.ari_poll_default_ms;
        wait_until(a, lifetime_point(a), "lifetime", recheck);
        return;
    }
    if (w.start != a->ari_win.start || w.end != a->ari_win.end || !a->ari_pick) {
        a->ari_win = w;
        a->ari_pick = acme_ari_pick(&w, rnd32());
        acme_log_info("acme.ari.window", "start=%lld end=%lld picked=%lld retry_after_s=%ld%s%s%s",
                      (long long)w.start, (long long)w.end, (long long)a->ari_pick, ras,
                      w.explanation[0] ? " explanation=\"" : "", w.explanation, w.explanation[0] ? "\"" : "");
    }
    wait_until(a, a->ari_pick, "ari", recheck);
}

static void step_ari(struct acme *a)
{
    set_state(a, ST_ARI);
    size_t ul = strlen(a->u_renewal), il = strlen(a->cert_id);
    char *url = malloc(ul + 1 + il + 1);
    if (!url) {
        wait_until(a, lifetime_point(a), "lifetime", a->pol.ari_poll_default_ms);
        return;
    }
    memcpy(url, a->u_renewal, ul);
    size_t o = ul;
    if (!ul || a->u_renewal[ul - 1] != '/')
        url[o++] = '/';
    memcpy(url + o, a->cert_id, il + 1);
    struct http_request hr = {0};
    const char *hdrs[] = {"Accept: application/json", NULL};
    hr.method = "GET";
    hr.url = url;
    hr.headers = hdrs;
    hr.timeout_ms = ACME_TIMEOUT_MS;
    hr.max_response = ACME_MAX_JSON_BYTES;
    hr.ca_file = a->ca_file;
    a->call = http_client_start(a->http, &hr, on_ari, a);
    free(url);
    if (!a->call)
        wait_until(a, lifetime_point(a), "lifetime", a->pol.ari_poll_default_ms);
}

static void schedule_renewal(struct acme *a)
{
    if (a->u_renewal && a->cert_id)
        step_ari(a);
    else
        wait_until(a, lifetime_point(a), "lifetime", 0);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

struct acme *acme_new(struct event_base *base, struct http_client *http, struct tls *tls,
                      const struct config *cfg)
{
    if (!cfg || !cfg->acme_directory || !cfg->domain || !cfg->domain[0])
        return NULL;
    struct acme *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->base = base;
    a->http = http;
    a->tls = tls;
    acme_policy_defaults(&a->pol);
    set_str(&a->directory, cfg->acme_directory);
    set_str(&a->ca_file, cfg->acme_ca_file);
    set_str(&a->contact, cfg->acme_contact);
    set_str(&a->profile, cfg->acme_profile && cfg->acme_profile[0] ? cfg->acme_profile : NULL);
    /* the identifier is the host, split from cfg->domain once at load (no ":port") */
    a->domain = strdup(cfg->domain_host);
    a->keys = acme_keys_new();
    a->timer = evtimer_new(base, on_timer, a);
    if (!a->directory || !a->domain || !a->keys || !a->timer || (cfg->acme_ca_file && !a->ca_file) ||
        (cfg->acme_contact && !a->contact) || !a->domain[0]) {
        acme_free(a);
        return NULL;
    }
    return a;
}

void acme_set_policy(struct acme *a, const struct acme_policy *p)
{
    a->pol = *p;
}

acme_err acme_start(struct acme *a)
{
    if (!a)
        return ACME_ERR_CONFIG;
    if (a->started)
        return ACME_OK;
    if (strncmp(a->directory, "https://", 8))
        return ACME_ERR_CONFIG;
    if (a->contact && strncmp(a->contact, "mailto:", 7)) {
        acme_log_error("acme.config", "detail=\"acme_contact must be a mailto: URI\"");
        return ACME_ERR_CONFIG;
    }
    a->started = 1;
    acme_log_info("acme.start", "domain=%s profile=%s", a->domain, a->profile ? a->profile : "default");
    step_directory(a);
    return ACME_OK;
}

json_t *acme_status(struct acme *a)
{
    if (!a)
        return NULL;
    int64_t now = now_ms();
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:I, s:I, s:I, s:s?, s:I, s:s?, s:I, s:I, s:I}",
                          "state", state_names[a->state], "domain", a->domain, "directory", a->directory,
                          "ari", a->u_renewal != NULL, "profile", a->profile,
                          "not_before", (json_int_t)a->not_before, "not_after", (json_int_t)a->not_after,
                          "next_renewal", (json_int_t)(a->cert ? a->next_renewal : 0),
                          "renewal_basis", a->cert ? a->renewal_basis : NULL,
                          "certificates", (json_int_t)a->certificates,
                          "last_error", a->last_error[0] ? a->last_error : NULL,
                          "last_error_at", (json_int_t)a->last_error_at,
                          "next_attempt", (json_int_t)(a->next_attempt_ms ? a->next_attempt_ms / 1000 : 0),
                          "failed_validations_window",
                          (json_int_t)acme_ledger_count(&a->failed_validations, now, a->pol.fail_window_ms));
    if (o) {
        json_object_set_new(o, "certificate_from_saved_state", json_boolean(a->restored));
        json_object_set_new(o, "accounts_created_window",
                            json_integer((json_int_t)acme_ledger_count(&a->new_accounts, now, a->pol.account_window_ms)));
        json_object_set_new(o, "new_certificates_window",
                            json_integer((json_int_t)acme_ledger_count(&a->new_certs, now, a->pol.cert_window_ms)));
    }
    return o;
}

void acme_set_installed_hook(struct acme *a, void (*fn)(void *arg), void *arg)
{
    a->installed_fn = fn;
    a->installed_arg = arg;
}

void acme_set_failed_hook(struct acme *a, void (*fn)(void *arg, const char *domain, const char *error), void *arg)
{
    a->failed_fn = fn;
    a->failed_arg = arg;
}

const char *acme_http01_responder(void *acme, const char *token, size_t len)
{
    return acme_http01_keyauth(acme, token, len);
}

json_t *acme_status_hook(void *acme)
{
    return acme_status(acme);
}

void acme_free(struct acme *a)
{
    if (!a)
        return;
    http_call_cancel(a->call);
    if (a->timer)
        event_free(a->timer);
    order_clear(a);
    req_clear(&a->req);
    acme_keys_free(a->keys);
    X509_free(a->cert);
    sk_X509_pop_free(a->inst_chain, X509_free);
    json_decref(a->profiles);
    char **strs[] = {&a->directory, &a->ca_file, &a->domain, &a->contact, &a->profile, &a->u_nonce,
                     &a->u_account, &a->u_order, &a->u_renewal, &a->nonce, &a->kid, &a->replaces, &a->cert_id};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    free(a);
}

/* ---- saved state (issue 12) --------------------------------------------------------------- */

int acme_serve_saved(struct tls *t, const char *directory, const char *blob, size_t len, char *domain,
                     size_t dlen)
{
    struct acme_saved sv;
    if (!directory || acme_saved_decode(blob, len, &sv))
        return 0;
    time_t na = sv.leaf ? asn1_to_time(X509_get0_notAfter(sv.leaf)) : 0;
    int ok = !strcmp(sv.directory, directory) && sv.leaf && sv.tls_key && na > time(NULL) + 60 &&
             strlen(sv.domain) < dlen && X509_check_host(sv.leaf, sv.domain, 0, 0, NULL) == 1 &&
             X509_check_private_key(sv.leaf, sv.tls_key) == 1 && !tls_install(t, sv.tls_key, sv.leaf, sv.chain);
    if (ok) {
        snprintf(domain, dlen, "%s", sv.domain);
        acme_log_info("acme.restore", "result=served_saved domain=%s not_after=%lld detail=\"the certificate "
                      "saved before this restart, until the domain is known\"", sv.domain, (long long)na);
    }
    acme_saved_clear(&sv);
    return ok;
}

void acme_set_persist_hook(struct acme *a, void (*fn)(void *arg), void *arg)
{
    a->persist_fn = fn;
    a->persist_arg = arg;
}

char *acme_export(const struct acme *a, size_t *len)
{
    struct acme_saved sv = {
        .directory = a->directory, .domain = a->domain, .account_key = (EVP_PKEY *)acme_keys_account(a->keys),
        .kid = a->kid, .failed_validations = a->failed_validations, .new_certs = a->new_certs,
        .new_accounts = a->new_accounts, .tls_key = a->cert ? (EVP_PKEY *)acme_keys_installed(a->keys) : NULL, .leaf = a->cert,
        .chain = a->inst_chain,
    };
    char *out = acme_saved_encode(&sv);   /* borrows every member: no acme_saved_clear here */
    if (out)
        *len = strlen(out);
    return out;
}

int acme_restore(struct acme *a, const char *blob, size_t len)
{
    struct acme_saved sv;
    if (a->started || acme_saved_decode(blob, len, &sv)) {
        acme_log_warn("acme.restore", "result=unusable detail=\"saved ACME state does not decode\"");
        return -1;
    }
    int rc = -1;
    struct acme_keys *k = NULL;
    if (strcmp(sv.directory, a->directory) || strcmp(sv.domain, a->domain)) {
        acme_log_info("acme.restore", "result=ignored detail=\"saved for another directory or domain\"");
        goto done;
    }
    if (!(k = acme_keys_from_pkey(sv.account_key)))
        goto done;
    acme_keys_free(a->keys);
    a->keys = k;
    set_str(&a->kid, sv.kid);
    a->failed_validations = sv.failed_validations;
    a->new_certs = sv.new_certs;
    a->new_accounts = sv.new_accounts;
    rc = 0;
    time_t na = sv.leaf ? asn1_to_time(X509_get0_notAfter(sv.leaf)) : 0;
    if (sv.leaf && na > time(NULL) + 60 && X509_check_host(sv.leaf, a->domain, 0, 0, NULL) == 1 &&
        !acme_keys_install_saved(a->keys, a->tls, sv.tls_key, sv.leaf, sv.chain)) {
        X509_free(a->cert);
        a->cert = sv.leaf;
        sv.leaf = NULL;
        sk_X509_pop_free(a->inst_chain, X509_free);
        a->inst_chain = sv.chain;
        sv.chain = NULL;
        a->not_before = asn1_to_time(X509_get0_notBefore(a->cert));
        a->not_after = na;
        free(a->cert_id);
        a->cert_id = acme_ari_cert_id(a->cert);
        a->restored = 1;
        rc = 1;
    }
    acme_log_info("acme.restore", "result=ok account=%s certificate=%s not_after=%lld", a->kid ? "reused" : "key-only",
                  rc == 1 ? "installed" : sv.leaf ? "unusable" : "none", (long long)(rc == 1 ? a->not_after : 0));
done:
    acme_saved_clear(&sv);
    return rc;
}
