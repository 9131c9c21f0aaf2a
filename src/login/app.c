/* app: the site's routes (/, /login, /callback, /result, /status, /healthz; on plain HTTP the
 * ACME HTTP-01 answers and the redirect to https) and the login flow, one state machine per
 * visitor: sealed state cookie -> PayPal (paypal.c) -> the account's id reserved -> evidence
 * (attest.c) -> result signed (signer.c) -> id committed with the kept result (service state) as
 * the page is queued. Owns the flows, the counters behind /status and the status hooks others
 * register; borrows the server, HTTP client, signer, service state, attestation, TLS and config.
 * Never holds a private key and never parses network bytes itself (http_parse.c, paypal.c do). */
#include "login/app.h"
#include "common/trust.h"
#include "login/attest.h"
#include "login/config.h"
#include "login/evidence.h"
#include "login/fault.h"
#include "login/credential.h"
#include "login/html.h"
#include "login/issuer.h"
#include "login/http_client.h"
#include "login/http_parse.h"
#include "login/http_server.h"
#include "login/idset.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/login_state.h"
#include "login/pages.h"
#include "login/paypal.h"
#include "login/rate_limit.h"
#include "login/service_state.h"
#include "login/state_sync.h"
#include "login/signer.h"
#include "login/tls.h"
#include "common/binding.h"
#include "common/codec.h"
#include "common/jose.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAX_STATUS_HOOKS 4
#define SERVICE_VERSION "1.0.0"

enum flow_phase { FLOW_PAYPAL, FLOW_EVIDENCE, FLOW_SAVING };

struct flow {
    struct app *app;               /* borrowed */
    struct http_exchange *x;       /* borrowed; NULL once the client has gone */
    struct paypal_call *paypal;    /* owned while in FLOW_PAYPAL */
    enum flow_phase phase;
    struct login_pending lp;       /* wiped on free */
    json_t *userinfo;              /* owned */
    char *id_token;                /* owned: PayPal's RS256 id_token for the result, or NULL */
    struct idset_key key;
    int reserved;                  /* key counts against capacity and blocks a twin */
    struct evidence_input ein;
    uint8_t rs_hash[32];           /* SHA-256 of the browser's retrieval secret */
    char rs[LOGIN_TOKEN_LEN + 1];  /* the retrieval secret: the browser's, or made here if it had none;
                                      set again with the result so it lasts as long as the result */
    char iss[300];
    uint8_t report_data[64];
    struct timespec started;
    /* FLOW_SAVING: the rendered result waits for the save outside the VM (state_sync) */
    struct html page;              /* owned while saving */
    char setrs[LOGIN_TOKEN_LEN + 128];
    struct flow *next, *prev;
};

struct app {
    struct app_deps d;
    struct paypal *paypal;               /* owned */
    const struct login_state_keys *keys; /* borrowed from the state: cookies outlive a restart */
    struct rate_limit *rl;               /* owned: /callback limits */
    struct issuer *issuer;               /* owned: SD-JWT VC metadata and the OID4VCI routes */
    uint64_t rate_limited, spent_refused, retrievals;
    int draining;                        /* SIGTERM: no new logins */
    char guarantee[400];
    struct flow *flows;                  /* owned list */
    unsigned nflows, nreserved;
    time_t started;
    uint64_t results, replays, failures;
    struct { const char *name; json_t *(*fn)(void *); void *arg; } hooks[MAX_STATUS_HOOKS];
    int nhooks;
    const char *(*acme_keyauth)(void *arg, const char *token, size_t len);
    void *acme_arg;
    const char *unavailable_why;
    const char *certificate_why;   /* borrowed: login closed until the ACME certificate */
    char instance[33];             /* random per process: a restart (new used-id set) shows */
    const char *platform;          /* "none", "oci", "gcp": set once the cloud is known */
    char trust[TRUST_MAX_LEN + 1]; /* the trust statement results here carry (common/trust.h) */
};

/* 1 when every item of a trust statement is vendor-rooted hardware evidence. */
static int trust_rooted(const char *stmt)
{
    trust_item items[TRUST_MAX_ITEMS];
    int n = trust_split(stmt, strlen(stmt), items, TRUST_MAX_ITEMS);
    for (int i = 0; i < n; i++)
        if (!trust_item_is_rooted(items[i]))
            return 0;
    return n > 0;
}

/* "https://DOMAIN" for the domain configured now (metadata may set it after start). */
static void app_iss(const struct app *a, char *out, size_t cap)
{
    snprintf(out, cap, "https://%s", a->d.cfg->domain);
}

static const char *env_name(enum paypal_env e)
{
    return e == PAYPAL_ENV_LIVE ? "live" : e == PAYPAL_ENV_SANDBOX ? "sandbox" : "local";
}

static void page_info(const struct app *a, struct page_info *pi)
{
    memset(pi, 0, sizeof *pi);
    pi->dev_mode = a->d.cfg->paypal_env == PAYPAL_ENV_LOCAL_FAKE;
    pi->paypal_env = env_name(a->d.cfg->paypal_env);
    pi->domain = a->d.cfg->domain;
    pi->measurement = a->d.cfg->measurement;
    pi->source_commit = a->d.cfg->source_commit;
    pi->kernel_cmdline = a->d.cfg->kernel_cmdline;
    pi->evidence_kind = attest_kind(a->d.attest);
    pi->trust = a->trust;
    pi->hardware_attested = trust_rooted(a->trust);
    pi->ephemeral_key = signer_is_ephemeral(a->d.signer);
    pi->kid = signer_kid(a->d.signer);
    pi->client_id = a->d.cfg->paypal_client_id;
    pi->guarantee = a->guarantee;
    pi->paypal_scope = a->d.cfg->paypal_scope;
    pi->state_scope = service_state_scope(a->d.state);
}

static const char *login_unavailable(const struct app *a)
{
    if (service_state_broken(a->d.state))
        return service_state_broken(a->d.state);
    if (a->draining)
        return "the service is stopping for a restart; please try again in a minute";
    if (a->certificate_why)
        return a->certificate_why;
    if (a->unavailable_why)
        return a->unavailable_why;
    if (!a->d.cfg->paypal_client_id)
        return "the PayPal client id is not configured yet";
    if (!a->d.cfg->paypal_secret)
        return "the PayPal secret has not been fetched yet";
    return NULL;
}

static void send_html(struct http_exchange *x, int status, struct html *h, const char *const *extra)
{
    const char *hdrs[8];
    int n = 0;
    hdrs[n++] = PAGES_CSP;
    for (int i = 0; extra && extra[i] && n < 7; i++)
        hdrs[n++] = extra[i];
    hdrs[n] = NULL;
    if (html_failed(h)) {
        static const char oom[] = "503 Service Unavailable: out of memory\n";
        http_respond(x, 503, "text/plain; charset=utf-8", NULL, oom, sizeof oom - 1);
    } else {
        http_respond(x, status, "text/html; charset=utf-8", hdrs, h->b.p, h->b.len);
    }
    html_free(h);
}

static void send_message(struct app *a, struct http_exchange *x, int status, const char *title, const char *text,
                         const char *const *extra)
{
    struct page_info pi;
    struct html h;
    page_info(a, &pi);
    html_init(&h);
    pages_message(&h, &pi, status, title, text);
    send_html(x, status, &h, extra);
}

static const char CLEAR_COOKIE[] = "Set-Cookie: " LOGIN_COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax";
#define RESULT_COOKIE_ATTRS "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"

/* The browser's retrieval secret (the result cookie), hashed; 0 if present and well-formed. */
static int retrieval_hash(struct http_exchange *x, uint8_t out[32])
{
    const char *ch = http_header(x, "Cookie");
    struct http_slice c = http_cookie_get(ch, ch ? strlen(ch) : 0, RESULT_COOKIE_NAME);
    if (!c.p || c.len != LOGIN_TOKEN_LEN)
        return -1;
    EVP_Digest(c.p, c.len, out, NULL, EVP_sha256(), NULL);
    return 0;
}

/* ---- flows ---------------------------------------------------------------------------- */

static void flow_release(struct flow *f)
{
    if (f->reserved) {
        f->reserved = 0;
        f->app->nreserved--;
    }
}

static void flow_free(struct flow *f)
{
    struct app *a = f->app;
    if (f->x)
        http_on_abort(f->x, NULL, NULL);
    paypal_cancel(f->paypal);
    flow_release(f);
    if (f->phase == FLOW_SAVING)
        html_free(&f->page);
    json_decref(f->userinfo);
    free(f->id_token);
    if (f->prev) f->prev->next = f->next;
    else a->flows = f->next;
    if (f->next) f->next->prev = f->prev;
    a->nflows--;
    OPENSSL_cleanse(f, sizeof *f);
    free(f);
}

static double flow_ms(const struct flow *f)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - f->started.tv_sec) * 1e3 + (double)(now.tv_nsec - f->started.tv_nsec) / 1e6;
}

static void flow_fail(struct flow *f, int status, const char *title, const char *text, const char *reason)
{
    struct app *a = f->app;
    a->failures++;
    log_warn("login.failed", "reason=%s status=%d ms=%.0f", reason, status, flow_ms(f));
    if (f->x) {
        struct http_exchange *x = f->x;
        http_on_abort(x, NULL, NULL);
        f->x = NULL;
        send_message(a, x, status, title, text, NULL);
    }
    flow_free(f);
}

/* The client went away: nothing is marked used. */
static void flow_abort(void *arg)
{
    struct flow *f = arg;
    f->x = NULL;
    log_info("login.abandoned", "phase=%s ms=%.0f", f->phase == FLOW_PAYPAL ? "paypal" : "evidence", flow_ms(f));
    if (f->phase == FLOW_PAYPAL)
        flow_free(f);
    /* FLOW_EVIDENCE: the attest callback will find x NULL, release the id and free.
     * FLOW_SAVING: the save goes on (the result stays retrievable once saved), then frees. */
}

static int reserved_elsewhere(const struct app *a, const struct flow *self)
{
    for (const struct flow *f = a->flows; f; f = f->next)
        if (f != self && f->reserved && f->key.lo == self->key.lo && f->key.hi == self->key.hi)
            return 1;
    return 0;
}

/* state_sync's answer for a result waiting in FLOW_SAVING: deliver it, or say nothing was used. */
static void on_saved(void *arg, ss_err r)
{
    struct flow *f = arg;
    struct app *a = f->app;
    char tag[9];
    idset_key_tag(&f->key, tag);
    flow_release(f);
    struct http_exchange *x = f->x;
    if (x)
        http_on_abort(x, NULL, NULL);
    f->x = NULL;
    if (r == SS_OK) {
        a->results++;
        log_info("login.result", "id=%s evidence=%s ms=%.0f served=%llu saved=remote", tag, attest_kind(a->d.attest),
                 flow_ms(f), (unsigned long long)idset_count(a->d.ids));
        if (x) {
            const char *extra[] = {f->setrs, CLEAR_COOKIE, NULL};
            send_html(x, 200, &f->page, extra);
        }
    } else {
        a->failures++;
        log_error("login.save_failed", "id=%s result=%d", tag, (int)r);
        if (x)
            send_message(a, x, 503, "Try again later",
                         r == SS_BROKEN && service_state_broken(a->d.state) ? service_state_broken(a->d.state)
                         : "The service could not save your result outside the VM, so it did not hand it out. Your "
                           "PayPal account has not used up its result: please try again later.", NULL);
    }
    OPENSSL_cleanse(f->setrs, sizeof f->setrs);
    flow_free(f);
}

/* The attestation worker's answer: describe, sign, render, then commit the id with the kept result
 * and send the page, all in this loop turn. Every way out ends at done:, which frees what this
 * step made (a failing step has flow_fail answer the visitor and free the flow). */
static void on_evidence(void *arg, json_t *evidence, attest_err err, const char *why)
{
    struct flow *f = arg;
    struct app *a = f->app;
    char *payload = NULL, *jws = NULL, *cred = NULL, *offer_uri = NULL;
    struct vc_offer offer;
    char tag[9], rdhex[129], code[RESULT_CODE_LEN + 1], trust[TRUST_MAX_LEN + 1];
    char setrs[LOGIN_TOKEN_LEN + 128] = "";
    struct page_info pi;
    struct html h;
    html_init(&h);
    idset_key_tag(&f->key, tag);
    if (!f->x)   /* the visitor left: no result was produced, the id stays unused */
        goto done;
    if (err) {
        flow_fail(f, err == ATTEST_ERR_TIMEOUT ? 504 : 503, "Evidence unavailable",
                  "The hardware could not produce evidence for your result right now. Your PayPal account "
                  "has not used up its result: please try again in a minute.",
                  err == ATTEST_ERR_TIMEOUT ? "attest_timeout" : "attest_failed");
        f = NULL;
        goto done;
    }
    if (evidence_trust(evidence, a->platform, time(NULL), trust, sizeof trust)) {
        flow_fail(f, 503, "Evidence unavailable", "The hardware evidence could not be described. Your PayPal "
                  "account has not used up its result: please try again in a minute.", "attest_failed");
        f = NULL;
        goto done;
    }
    f->ein.trust = trust;
    f->ein.source_commit = a->d.cfg->source_commit;
    f->ein.kernel_cmdline = a->d.cfg->kernel_cmdline;
    payload = evidence_payload(&f->ein, f->report_data, evidence);
    jws = payload && !FAULT("sign") ? signer_sign(a->d.signer, (const uint8_t *)payload, strlen(payload)) : NULL;
    if (jws && strlen(jws) > JOSE_MAX_COMPACT) {   /* a result no verifier would read */
        log_error("login.result_too_large", "bytes=%zu cap=%d", strlen(jws), JOSE_MAX_COMPACT);
        free(jws);
        jws = NULL;
    }
    if (!jws) {
        flow_fail(f, 500, "Signing failed",
                  "The service could not sign your result. Your PayPal account has not used up its result: "
                  "please try again.", "sign_failed");
        f = NULL;
        goto done;
    }
    codec_hex_encode(f->report_data, 64, rdhex, sizeof rdhex);
    page_info(a, &pi);
    pi.trust = trust;                  /* what this result's evidence is, not the platform's default */
    pi.hardware_attested = trust_rooted(trust);
    if (result_code_new(code)) {
        flow_fail(f, 503, "Try again", "The service could not make a retrieval code. Your result was not used up.",
                  "code_failed");
        f = NULL;
        goto done;
    }
    pi.retrieval_code = code;
    /* the same result as an SD-JWT VC, and a wallet offer for it (saved below, after the commit) */
    pi.credential = cred = credential_from_result(a->d.signer, jws, strlen(jws), NULL, (uint64_t)time(NULL));
    pi.credential_offer = offer_uri = issuer_offer_prepare(f->iss, &f->key, code, &offer);
    pages_result(&h, &pi, f->userinfo, jws, evidence, rdhex);
    if (html_failed(&h) || FAULT("render")) {
        flow_fail(f, 503, "Try again", "The service is out of memory. Your result was not used up.", "render_failed");
        f = NULL;
        goto done;
    }
    /* Commit: the id becomes used in the same step that saves the result for retrieval, and only
     * once both are in the state; then the page goes out (if it is lost, /result has it). */
    snprintf(setrs, sizeof setrs, "Set-Cookie: " RESULT_COOKIE_NAME "=%s" RESULT_COOKIE_ATTRS, f->rs);
    if (state_sync_active(a->d.sync)) {
        /* delivered only once a save outside the VM records the id; the reservation holds twins off */
        struct ss_pending p = {.key = f->key, .jws = jws, .jws_len = strlen(jws), .created = (uint64_t)time(NULL)};
        memcpy(p.secret_hash, f->rs_hash, 32);
        memcpy(p.code, code, sizeof p.code);
        ss_err r = state_sync_commit(a->d.sync, &p, on_saved, f);
        if (r == SS_PRESENT) {
            flow_fail(f, 409, "This PayPal account already received its result", "Each PayPal account gets exactly "
                      "one result, and this account has already received it. Nothing new was produced.", "replay");
            f = NULL;
            goto done;
        }
        if (r) {
            flow_fail(f, 503, "Try again later", r == SS_BROKEN ? service_state_broken(a->d.state) ?
                      service_state_broken(a->d.state) : "The service cannot save results now."
                      : "The service could not queue your result for saving. Your PayPal account has not used up "
                        "its result: please try again later.", "save_queue");
            f = NULL;
            goto done;
        }
        f->phase = FLOW_SAVING;
        f->page = h;
        html_init(&h);
        memcpy(f->setrs, setrs, sizeof f->setrs);
        f = NULL;   /* on_saved owns it now */
        goto done;
    }
    flow_release(f);
    ss_err r = service_state_commit(a->d.state, &f->key, f->rs_hash, jws, strlen(jws), code);
    struct http_exchange *x = f->x;
    http_on_abort(x, NULL, NULL);
    f->x = NULL;
    if (r == SS_OK) {
        a->results++;
        if (offer_uri)
            issuer_offer_commit(a->issuer, &offer);
        log_info("login.result", "id=%s evidence=%s ms=%.0f served=%llu", tag, attest_kind(a->d.attest),
                 flow_ms(f), (unsigned long long)idset_count(a->d.ids));
        const char *extra[] = {setrs, CLEAR_COOKIE, NULL};
        send_html(x, 200, &h, extra);   /* frees h's page */
    } else {
        a->failures++;
        log_error("login.commit_refused", "id=%s result=%d", tag, (int)r);
        send_message(a, x, 503, "Try again later",
                     r == SS_FULL ? "The service holds as many results as it can keep right now. Your PayPal account "
                                    "has not used up its result: please try again later."
                                  : "The service could not save your result, so it did not hand it out. Your PayPal "
                                    "account has not used up its result: please try again later.", NULL);
    }
done:
    OPENSSL_cleanse(setrs, sizeof setrs);
    html_free(&h);
    json_decref(evidence);
    free(payload);
    free(jws);
    free(cred);
    if (offer_uri)
        OPENSSL_clear_free(offer_uri, strlen(offer_uri));
    OPENSSL_cleanse(&offer, sizeof offer);
    if (f)
        flow_free(f);
}

static void on_paypal(void *arg, const struct paypal_result *pr)
{
    struct flow *f = arg;
    struct app *a = f->app;
    f->paypal = NULL;   /* paypal.c frees its call after this returns */
    if (pr->err == PAYPAL_ERR_ID_TOKEN) {
        /* checked before any account id is reserved: nothing is used up */
        char text[600];
        snprintf(text, sizeof text, "%s (%s.)", paypal_err_text(pr->err), pr->why ? pr->why : "no reason given");
        flow_fail(f, paypal_err_status(pr->err), "PayPal's id_token was refused", text, "id_token");
        return;
    }
    if (pr->err) {
        flow_fail(f, paypal_err_status(pr->err), "PayPal login did not complete", paypal_err_text(pr->err), "paypal");
        return;
    }
    const char *user_id = pr->user_id;
    f->userinfo = pr->userinfo;
    if (pr->id_token && !(f->id_token = strdup(pr->id_token))) {
        flow_fail(f, 503, "Try again", "The service is out of memory. Nothing was used up.", "nomem");
        return;
    }
    idset_key_of(a->d.ids, user_id, strlen(user_id), &f->key);
    char tag[9];
    idset_key_tag(&f->key, tag);
    if (idset_contains(a->d.ids, &f->key) || reserved_elsewhere(a, f)) {
        int in_progress = !idset_contains(a->d.ids, &f->key);
        a->replays++;
        log_info("login.replay", "id=%s in_progress=%d", tag, in_progress);
        struct http_exchange *x = f->x;
        http_on_abort(x, NULL, NULL);
        f->x = NULL;
        const char *extra[] = {CLEAR_COOKIE, NULL};
        send_message(a, x, 409, "This PayPal account already received its result",
                     in_progress ? "A result for this PayPal account is being produced in another request right now. "
                                   "Each PayPal account gets exactly one result."
                                 : "Each PayPal account gets exactly one result, and this account has already "
                                   "received it. Nothing new was produced. The browser that received it can fetch "
                                   "the same result again at /result for 24 hours.",
                     extra);
        flow_free(f);
        return;
    }
    if (idset_count(a->d.ids) + a->nreserved >= idset_capacity(a->d.ids)) {
        flow_fail(f, 503, "The service is full",
                  "This service has produced as many results as it can hold in memory for this boot, and it "
                  "never forgets an account, so it accepts no new accounts now.", "idset_full");
        return;
    }
    f->reserved = 1;
    a->nreserved++;
    f->phase = FLOW_EVIDENCE;
    app_iss(a, f->iss, sizeof f->iss);
    f->ein.iss = f->iss;
    f->ein.instance = a->instance;
    f->ein.paypal_env = env_name(a->d.cfg->paypal_env);
    f->ein.client_id = a->d.cfg->paypal_client_id;
    f->ein.user_id = user_id;
    f->ein.user_id_len = strlen(user_id);
    f->ein.userinfo = f->userinfo;
    f->ein.id_token = f->id_token;
    char oidc_unused[BINDING_OIDC_NONCE_LEN + 1];
    if (login_nonces(&f->lp, f->ein.nonce_hex, oidc_unused)) {   /* the nonce PayPal's id_token commits to */
        flow_fail(f, 500, "Evidence unavailable", "The service could not prepare your result. Please try again.",
                  "nonce");
        return;
    }
    f->ein.kid = signer_kid(a->d.signer);
    f->ein.measurement = a->d.cfg->measurement;
    f->ein.state_epoch = service_state_epoch(a->d.state);
    f->ein.state_scope = service_state_scope(a->d.state);
    if (evidence_prepare(&f->ein) || evidence_report_data(&f->ein, f->report_data)) {
        flow_fail(f, 500, "Evidence unavailable", "The service could not prepare your result. Please try again.",
                  "report_data");
        return;
    }
    attest_err ae = attest_request(a->d.attest, f->report_data, on_evidence, f);
    if (ae) {
        flow_fail(f, 503, "Busy", "The evidence queue is full. Your PayPal account has not used up its result: "
                                  "please try again in a minute.", "attest_busy");
        return;
    }
}

/* ---- routes ---------------------------------------------------------------------------- */

static void route_home(struct app *a, struct http_exchange *x)
{
    struct page_info pi;
    struct html h;
    page_info(a, &pi);
    html_init(&h);
    const char *why = login_unavailable(a);
    pages_home(&h, &pi, why == NULL, why);
    send_html(x, 200, &h, NULL);
}

/* /privacy and /terms: the pages PayPal's consent screen links to (pages_legal.c). */
static void route_legal(struct app *a, struct http_exchange *x, int privacy)
{
    struct page_info pi;
    struct html h;
    page_info(a, &pi);
    html_init(&h);
    if (privacy)
        pages_privacy(&h, &pi);
    else
        pages_terms(&h, &pi);
    send_html(x, 200, &h, NULL);
}

static void route_login(struct app *a, struct http_exchange *x)
{
    const char *why = login_unavailable(a);
    if (why) {
        const char *extra[] = {"Retry-After: 60", NULL};
        send_message(a, x, 503, "Temporarily unavailable", why, extra);
        return;
    }
    struct login_pending lp;
    char challenge[LOGIN_TOKEN_LEN + 1], nonce_hex[2 * BINDING_NONCE_LEN + 1], oidc[BINDING_OIDC_NONCE_LEN + 1];
    char *cookie = NULL, *url = NULL;
    if (login_pending_new(&lp, time(NULL)) == 0 && login_nonces(&lp, nonce_hex, oidc) == 0) {
        login_pkce_challenge(lp.verifier, challenge);
        cookie = login_cookie_seal(a->keys, &lp);
        url = paypal_authorize_url(a->paypal, lp.state, oidc, challenge);
    }
    OPENSSL_cleanse(&lp, sizeof lp);
    if (!cookie || !url) {
        free(cookie);
        free(url);
        send_message(a, x, 503, "Try again", "The service could not start a login. Please try again.", NULL);
        return;
    }
    size_t cl = strlen(cookie) + 200, ll = strlen(url) + 16;
    char *set = malloc(cl), *loc = malloc(ll);
    /* the retrieval secret is set before the login, so that a result page lost on the way still has
     * its secret in the browser; a browser that already holds one keeps it */
    uint8_t have[32];
    char rs[LOGIN_TOKEN_LEN + 1], setrs[LOGIN_TOKEN_LEN + 128] = "";
    if (retrieval_hash(x, have) && !login_random_token(rs))
        snprintf(setrs, sizeof setrs, "Set-Cookie: " RESULT_COOKIE_NAME "=%s" RESULT_COOKIE_ATTRS, rs);
    OPENSSL_cleanse(rs, sizeof rs);
    if (set && loc) {
        snprintf(set, cl, "Set-Cookie: %s=%s; Path=/; Max-Age=%d; HttpOnly; Secure; SameSite=Lax",
                 LOGIN_COOKIE_NAME, cookie, LOGIN_STATE_TTL_S);
        snprintf(loc, ll, "Location: %s", url);
        const char *hdrs[4];
        int nh = 0;
        if (setrs[0])
            hdrs[nh++] = setrs;
        hdrs[nh++] = set;   /* the login cookie last */
        hdrs[nh++] = loc;
        hdrs[nh] = NULL;
        static const char body[] = "Redirecting to PayPal\n";
        http_respond(x, 302, "text/plain; charset=utf-8", hdrs, body, sizeof body - 1);
    } else {
        send_message(a, x, 503, "Try again", "The service is out of memory.", NULL);
    }
    free(set);
    free(loc);
    OPENSSL_cleanse(setrs, sizeof setrs);
    OPENSSL_clear_free(cookie, strlen(cookie));
    free(url);
}

static void route_callback(struct app *a, struct http_exchange *x)
{
    const char *q = http_query(x);
    size_t ql = q ? strlen(q) : 0;
    char code[1024], state[128], err[128];
    const char *extra[] = {CLEAR_COOKIE, NULL};
    long sl = http_form_get(q, ql, "state", state, sizeof state);
    long el = http_form_get(q, ql, "error", err, sizeof err);
    long cl = el >= 0 ? 0 : http_form_get(q, ql, "code", code, sizeof code);
    if (sl <= 0 || (el < 0 && cl <= 0)) {
        send_message(a, x, 400, "Incomplete callback",
                     "This address must be reached from PayPal with a code and a state. Please start from the home page.",
                     NULL);
        return;
    }
    const char *ch = http_header(x, "Cookie");
    struct http_slice c = http_cookie_get(ch, ch ? strlen(ch) : 0, LOGIN_COOKIE_NAME);
    struct login_pending lp;
    login_state_err le = login_cookie_check(a->keys, c.p, c.len, state, (size_t)sl, time(NULL), &lp);
    if (le) {
        /* The cookie is left alone: a cross-site request must not cancel a login in progress. */
        log_info("login.state_rejected", "reason=\"%s\"", login_state_strerror(le));
        int status = le == LOGIN_STATE_MISMATCH ? 403 : 400;
        const char *text =
            le == LOGIN_STATE_MISSING ? "This browser has no login in progress (cookies may be blocked, or the "
                                        "login was started in another browser). Please start again."
            : le == LOGIN_STATE_EXPIRED ? "This login took longer than 10 minutes and expired. Please start again."
            : le == LOGIN_STATE_MISMATCH ? "This callback does not belong to the login this browser started "
                                           "(possible cross-site request). Nothing was done."
                                         : "This login could not be checked (it may come from before a restart). "
                                           "Please start again.";
        send_message(a, x, status, "Login could not be verified", text, NULL);
        OPENSSL_cleanse(code, sizeof code);
        return;
    }
    if (el >= 0) {
        OPENSSL_cleanse(&lp, sizeof lp);
        log_info("login.declined", "reason=paypal_error");
        send_message(a, x, 400, "Login cancelled",
                     "PayPal did not complete the login (it was cancelled or refused). Nothing was used up; you "
                     "can start again.", extra);
        return;
    }
    const char *why = login_unavailable(a);
    if (why || a->nflows >= LOGIN_MAX_PENDING) {
        send_message(a, x, 503, "Temporarily unavailable", why ? why : "Too many logins in progress; please retry.", NULL);
        OPENSSL_cleanse(code, sizeof code);
        OPENSSL_cleanse(&lp, sizeof lp);
        return;
    }
    /* Every callback from here on may cost a token request at PayPal: rate-limited, and each login
     * state spends itself (saved) before PayPal is asked. */
    struct timespec mono;
    unsigned retry = 0;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    rate_result rr = rate_limit_take(a->rl, http_peer_addr(x),
                                     (uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000, &retry);
    if (rr) {
        char ra[48];
        snprintf(ra, sizeof ra, "Retry-After: %u", retry);
        const char *rh[] = {ra, NULL};
        a->rate_limited++;
        log_warn("login.rate_limited", "scope=%s retry_s=%u", rr == RATE_ADDR ? "address" : "global", retry);
        send_message(a, x, 429, "Too many login attempts",
                     rr == RATE_ADDR ? "Too many logins were completed from your network in the last minute. Nothing "
                                       "was used up; please wait a minute and start again from the home page."
                                     : "The service is receiving too many logins right now. Nothing was used up; "
                                       "please wait a few seconds and start again from the home page.", rh);
        OPENSSL_cleanse(code, sizeof code);
        OPENSSL_cleanse(&lp, sizeof lp);
        return;
    }
    struct login_spent_entry se;
    login_spent_entry_of(lp.state, LOGIN_TOKEN_LEN, lp.expires, &se);
    ss_err sr = service_state_spend_login(a->d.state, &se);
    if (sr) {
        OPENSSL_cleanse(code, sizeof code);
        OPENSSL_cleanse(&lp, sizeof lp);
        if (sr == SS_SEEN) {
            a->spent_refused++;
            log_info("login.state_reused", "reason=already_spent");
            send_message(a, x, 409, "This login was already used",
                         "This login link was already used once; PayPal was not asked again. If it gave you a "
                         "result, this browser can fetch it again at /result. Otherwise please start again from "
                         "the home page.", extra);
        } else {
            log_error("login.state_spend_failed", "result=%d", (int)sr);
            send_message(a, x, 503, "Temporarily unavailable",
                         "The service could not record this login. Nothing was used up; please try again in a minute.",
                         NULL);
        }
        return;
    }
    struct flow *f = calloc(1, sizeof *f);
    if (!f) {
        send_message(a, x, 503, "Try again", "The service is out of memory.", NULL);
        return;
    }
    f->app = a;
    f->x = x;
    f->lp = lp;
    OPENSSL_cleanse(&lp, sizeof lp);
    clock_gettime(CLOCK_MONOTONIC, &f->started);
    f->next = a->flows;
    if (a->flows)
        a->flows->prev = f;
    a->flows = f;
    a->nflows++;
    const char *ck = http_header(x, "Cookie");
    struct http_slice rc = http_cookie_get(ck, ck ? strlen(ck) : 0, RESULT_COOKIE_NAME);
    int b64 = rc.p && rc.len == LOGIN_TOKEN_LEN;
    for (size_t i = 0; b64 && i < rc.len; i++)   /* it goes back into a Set-Cookie: our alphabet only */
        b64 = (rc.p[i] >= 'A' && rc.p[i] <= 'Z') || (rc.p[i] >= 'a' && rc.p[i] <= 'z') ||
              (rc.p[i] >= '0' && rc.p[i] <= '9') || rc.p[i] == '-' || rc.p[i] == '_';
    if (b64) {
        memcpy(f->rs, rc.p, LOGIN_TOKEN_LEN);
        f->rs[LOGIN_TOKEN_LEN] = 0;
    } else if (login_random_token(f->rs)) {   /* none yet (a login started before this version) */
        OPENSSL_cleanse(code, sizeof code);
        flow_fail(f, 503, "Try again", "The service could not start a login. Please try again.", "rs_new");
        return;
    }
    EVP_Digest(f->rs, LOGIN_TOKEN_LEN, f->rs_hash, NULL, EVP_sha256(), NULL);
    SSL *ssl = http_ssl(x);
    if (!ssl || tls_spki_sha256_hex_of(ssl, f->ein.tls_spki_sha256)) {
        OPENSSL_cleanse(code, sizeof code);
        flow_fail(f, 500, "TLS key unavailable", "The service could not identify its TLS key.", "tls_spki");
        return;
    }
    char nonce_hex[2 * BINDING_NONCE_LEN + 1], oidc[BINDING_OIDC_NONCE_LEN + 1];
    if (login_nonces(&f->lp, nonce_hex, oidc)) {
        OPENSSL_cleanse(code, sizeof code);
        flow_fail(f, 503, "Try again", "The service could not start a login. Please try again.", "nonce");
        return;
    }
    f->paypal = paypal_login(a->paypal, code, f->lp.verifier, oidc, on_paypal, f);
    OPENSSL_cleanse(code, sizeof code);
    if (!f->paypal) {
        flow_fail(f, 503, "Try again", "The service could not contact PayPal. Please try again.", "paypal_start");
        return;
    }
    http_on_abort(x, flow_abort, f);
}

/* /result: with ?code=, the kept JWS itself (byte-identical); without, the list of this browser's
 * results. Both need the browser's retrieval secret; neither spends anything. */
static void route_result(struct app *a, struct http_exchange *x)
{
    uint8_t hsh[32];
    char code[32];
    const char *q = http_query(x);
    long cl = q ? http_form_get(q, strlen(q), "code", code, sizeof code) : -1;
    int have = retrieval_hash(x, hsh) == 0;
    struct result_store *rs = service_state_results(a->d.state);
    result_store_expire(rs, (uint64_t)time(NULL));
    if (cl >= 0) {
        const struct stored_result *r = have && cl > 0 ? result_store_find(rs, code, (size_t)cl, hsh) : NULL;
        if (!r) {
            log_info("result.not_found", "secret=%d", have);
            send_message(a, x, 404, "No such result here",
                         "This browser holds no result with this code from the last 24 hours. A result can only be "
                         "fetched again from the browser that logged in, with the code its page showed.", NULL);
            return;
        }
        a->retrievals++;
        log_info("result.fetched", "age_s=%llu", (unsigned long long)((uint64_t)time(NULL) - r->created));
        char fmt[16] = "";
        if (http_form_get(q, strlen(q), "format", fmt, sizeof fmt) > 0 && !strcmp(fmt, "sd-jwt")) {
            /* the result as an SD-JWT VC, made again from the kept result (same claims, new salts) */
            char *cred = credential_from_result(a->d.signer, r->jws, r->jws_len, NULL, r->created);
            const char *ch[] = {"Content-Disposition: attachment; filename=\"sealed-login-result.sd-jwt\"",
                                "Cache-Control: no-store", NULL};
            if (cred)
                http_respond(x, 200, "application/dc+sd-jwt", ch, cred, strlen(cred));
            else
                send_message(a, x, 503, "Try again", "The credential could not be made right now.", NULL);
            free(cred);
            return;
        }
        const char *hdrs[] = {"Content-Disposition: attachment; filename=\"sealed-login-result.jws\"",
                              "Cache-Control: no-store", NULL};
        http_respond(x, 200, "application/jose", hdrs, r->jws, r->jws_len);
        return;
    }
    const char *codes[16];
    size_t n = 0, i = 0;
    const struct stored_result *r;
    while (have && n < 16 && (r = result_store_next(rs, &i, hsh)))
        codes[n++] = r->code;
    struct page_info pi;
    struct html h;
    page_info(a, &pi);
    html_init(&h);
    pages_results_list(&h, &pi, codes, n);
    const char *extra[] = {"Cache-Control: no-store", NULL};
    send_html(x, 200, &h, extra);
}

unsigned app_drain(struct app *a)
{
    if (!a->draining)
        log_info("service.draining", "logins_in_progress=%u", a->nflows);
    a->draining = 1;
    return a->nflows;
}

char *app_daily_counts(void *app)
{
    struct app *a = app;
    char *out = malloc(256);
    if (out)
        snprintf(out, 256, "results=%lld replays_refused=%lld failures=%lld ids_served=%lld uptime_s=%lld",
                 (long long)a->results, (long long)a->replays, (long long)a->failures,
                 (long long)idset_count(a->d.ids), (long long)(time(NULL) - a->started));
    return out;
}

json_t *app_status(struct app *a)
{
    struct http_server_stats hs;
    http_server_stats(a->d.server, &hs);
    char spki[65] = "";
    tls_spki_sha256_hex(a->d.tls, spki);
    time_t na = tls_not_after(a->d.tls);
    char nabuf[32] = "";
    struct tm tm;
    if (na && gmtime_r(&na, &tm))
        strftime(nabuf, sizeof nabuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *why = login_unavailable(a);
    json_t *s = json_pack(
        "{s:s, s:s, s:I, s:s, s:b, s:b, s:s?, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:o, s:s?, s:s?, s:{s:s?, s:s, s:i}, s:o,"
        " s:s, s:s, s:b, s:{s:I, s:I, s:i, s:I}}",
        "service", "sealed-login", "version", SERVICE_VERSION,
        "uptime_s", (json_int_t)(time(NULL) - a->started),
        "paypal_env", env_name(a->d.cfg->paypal_env),
        "development_mode", a->d.cfg->paypal_env == PAYPAL_ENV_LOCAL_FAKE,
        "login_available", why == NULL, "login_unavailable_reason", why,
        "ids_served", (json_int_t)idset_count(a->d.ids),
        "idset_capacity", (json_int_t)idset_capacity(a->d.ids),
        "idset_table_bytes", (json_int_t)idset_table_bytes(a->d.ids),
        "logins_in_progress", (int)a->nflows,
        "results", (json_int_t)a->results, "replays_refused", (json_int_t)a->replays,
        "failures", (json_int_t)a->failures,
        "measurement", a->d.cfg->measurement ? json_string(a->d.cfg->measurement)
                       : json_string(a->d.cfg->source_commit ? "in each result's hardware evidence"
                                                             : "unmeasured: development build"),
        "source_commit", a->d.cfg->source_commit, "kernel_cmdline", a->d.cfg->kernel_cmdline,
        "certificate", "not_after", nabuf[0] ? nabuf : NULL, "spki_sha256", spki,
        "generation", (int)tls_generation(a->d.tls),
        "evidence", attest_status(a->d.attest),
        "trust", a->trust,
        "signing_kid", signer_kid(a->d.signer), "signing_key_ephemeral", signer_is_ephemeral(a->d.signer),
        "http", "connections_total", (json_int_t)hs.connections_total, "requests_total", (json_int_t)hs.requests_total,
        "connections_open", (int)hs.connections_open, "rejected_limits", (json_int_t)hs.rejected_limits);
    if (s) {
        json_t *http = json_object_get(s, "http");
        json_t *by[3] = {json_object(), json_object(), json_object()};
        for (int k = 0; k < HTTP_WAIT_KINDS; k++) {
            json_object_set_new(by[0], http_wait_name(k), json_integer(hs.waiting[k]));
            json_object_set_new(by[1], http_wait_name(k), json_integer((json_int_t)hs.evicted[k]));
            json_object_set_new(by[2], http_wait_name(k), json_integer((json_int_t)hs.timed_out[k]));
        }
        json_object_set_new(http, "waiting", by[0]);     /* connections waiting for a request head, by progress */
        json_object_set_new(http, "evicted", by[1]);     /* closed to take a new connection when full */
        json_object_set_new(http, "timed_out", by[2]);
        json_object_set_new(http, "refused_full", json_integer((json_int_t)hs.refused_full));
        json_object_set_new(http, "refused_per_address", json_integer((json_int_t)hs.refused_per_address));
        json_object_set_new(s, "instance", json_string(a->instance));
        json_t *st = service_state_status(a->d.state);
        if (st && state_sync_active(a->d.sync))
            json_object_set_new(st, "sealed", state_sync_status(a->d.sync));
        json_object_set_new(s, "state", st);
        json_object_set_new(s, "callbacks_rate_limited", json_integer((json_int_t)a->rate_limited));
        json_object_set_new(s, "login_states_reused", json_integer((json_int_t)a->spent_refused));
        json_object_set_new(s, "results_fetched_again", json_integer((json_int_t)a->retrievals));
        json_object_set_new(s, "draining", json_boolean(a->draining));
        json_object_set_new(s, "paypal_jwks", paypal_status(a->paypal));
        json_object_set_new(s, "credential_issuer", issuer_status(a->issuer));
    }
    for (int i = 0; s && i < a->nhooks; i++) {
        json_t *v = a->hooks[i].fn(a->hooks[i].arg);
        json_object_set_new(s, a->hooks[i].name, v ? v : json_null());
    }
    return s;
}

static void route_status(struct app *a, struct http_exchange *x)
{
    json_t *s = app_status(a);
    const char *q = http_query(x), *acc = http_header(x, "Accept");
    char fmt[16] = "";
    int want_json = (q && http_form_get(q, strlen(q), "format", fmt, sizeof fmt) > 0 && !strcmp(fmt, "json")) ||
                    (acc && strstr(acc, "application/json") && !strstr(acc, "text/html"));
    if (!s) {
        send_message(a, x, 503, "Status unavailable", "Out of memory.", NULL);
        return;
    }
    if (want_json) {
        char *body = json_dumps(s, JSON_INDENT(1));
        if (body)
            http_respond(x, 200, "application/json", NULL, body, strlen(body));
        else
            send_message(a, x, 503, "Status unavailable", "Out of memory.", NULL);
        free(body);
    } else {
        struct page_info pi;
        struct html h;
        page_info(a, &pi);
        html_init(&h);
        pages_status(&h, &pi, s);
        send_html(x, 200, &h, NULL);
    }
    json_decref(s);
}

void app_handle_https(void *arg, struct http_exchange *x)
{
    struct app *a = arg;
    const char *m = http_method(x), *p = http_path(x);
    char iss[300];
    FAULT_CRASH(p);   /* the test build's /__fault/crash/HOW (fault.h); nothing in a release build */
    app_iss(a, iss, sizeof iss);
    if (issuer_route(a->issuer, a->d.signer, iss, x))
        return;
    if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
        const char *extra[] = {"Allow: GET, HEAD", NULL};
        send_message(a, x, 405, "Method not allowed", "This site only answers GET requests.", extra);
        return;
    }
    int head = !strcmp(m, "HEAD");
    if ((!strcmp(p, "/login") || !strcmp(p, "/callback")) && head) {
        /* a HEAD never starts a login or spends a result it could not deliver */
        const char *extra[] = {"Allow: GET", NULL};
        send_message(a, x, 405, "Method not allowed", "Use GET for this address.", extra);
        return;
    }
    if (!strcmp(p, "/"))
        route_home(a, x);
    else if (!strcmp(p, "/login"))
        route_login(a, x);
    else if (!strcmp(p, "/callback"))
        route_callback(a, x);
    else if (!strcmp(p, "/result"))
        route_result(a, x);
    else if (!strcmp(p, "/healthz")) {
        static const char ok[] = "ok\n";
        http_respond(x, 200, "text/plain; charset=utf-8", NULL, ok, sizeof ok - 1);
    } else if (!strcmp(p, "/status"))
        route_status(a, x);
    else if (!strcmp(p, "/privacy") || !strcmp(p, "/terms"))
        route_legal(a, x, p[1] == 'p');
    else
        send_message(a, x, 404, "Not found", "There is no such page here.", NULL);
}

void app_handle_http(void *arg, struct http_exchange *x)
{
    struct app *a = arg;
    const char *p = http_path(x);
    static const char prefix[] = "/.well-known/acme-challenge/";
    if (!strncmp(p, prefix, sizeof prefix - 1)) {
        const char *tok = p + sizeof prefix - 1;
        const char *ka = a->acme_keyauth ? a->acme_keyauth(a->acme_arg, tok, strlen(tok)) : NULL;
        if (ka)
            http_respond(x, 200, "text/plain", NULL, ka, strlen(ka));
        else
            http_respond(x, 404, "text/plain", NULL, "not found\n", 10);
        return;
    }
    if (!strcmp(p, "/healthz")) {
        http_respond(x, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
        return;
    }
    const char *q = http_query(x);
    char iss[300];
    app_iss(a, iss, sizeof iss);
    size_t n = strlen(iss) + strlen(p) + (q ? strlen(q) : 0) + 16;
    char *loc = malloc(n);
    if (!loc) {
        http_respond(x, 503, "text/plain", NULL, "busy\n", 5);
        return;
    }
    snprintf(loc, n, "Location: %s%s%s%s", iss, p, q ? "?" : "", q ? q : "");
    const char *hdrs[] = {loc, NULL};
    http_respond(x, 301, "text/plain; charset=utf-8", hdrs, "moved to https\n", 15);
    free(loc);
}

void app_add_status(struct app *a, const char *name, json_t *(*fn)(void *), void *arg)
{
    if (a->nhooks < MAX_STATUS_HOOKS) {
        a->hooks[a->nhooks].name = name;
        a->hooks[a->nhooks].fn = fn;
        a->hooks[a->nhooks++].arg = arg;
    }
}

void app_set_acme_responder(struct app *a, const char *(*keyauth)(void *, const char *, size_t), void *arg)
{
    a->acme_keyauth = keyauth;
    a->acme_arg = arg;
}

void app_set_unavailable_reason(struct app *a, const char *why) { a->unavailable_why = why; }

void app_set_platform(struct app *a, const char *platform)
{
    a->platform = platform;
    if (attest_expected_trust(a->d.attest, platform, a->trust, sizeof a->trust))
        snprintf(a->trust, sizeof a->trust, "none");
    log_info("service.trust", "platform=%s trust=%s", platform, a->trust);
}
void app_set_certificate_pending(struct app *a, const char *why) { a->certificate_why = why; }

struct signer *app_replace_signer(struct app *a, struct signer *s)
{
    struct signer *old = a->d.signer;
    a->d.signer = s;
    return old;
}

struct app *app_new(const struct app_deps *d)
{
    struct app *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->d = *d;
    a->started = time(NULL);
    uint8_t inst[16];
    if (RAND_bytes(inst, sizeof inst) != 1) {
        free(a);
        return NULL;
    }
    codec_hex_encode(inst, sizeof inst, a->instance, sizeof a->instance);
    a->platform = "none";
    if (attest_expected_trust(a->d.attest, a->platform, a->trust, sizeof a->trust))
        snprintf(a->trust, sizeof a->trust, "none");
    a->paypal = paypal_new(d->http, d->cfg);
    a->keys = service_state_cookie_keys(d->state);
    a->rl = rate_limit_new(d->cfg->callback_rate_per_addr, d->cfg->callback_rate_global);
    a->issuer = issuer_new(d->state);
    service_state_guarantee(d->state, a->guarantee, sizeof a->guarantee);
    if (!a->paypal || !a->keys || !a->rl || !a->issuer) {
        app_free(a);
        return NULL;
    }
    return a;
}

void app_free(struct app *a)
{
    if (!a)
        return;
    while (a->flows) {
        struct flow *f = a->flows;
        flow_free(f);   /* attest_free ran first (see app.h), so no evidence callback is pending */
    }
    paypal_free(a->paypal);
    rate_limit_free(a->rl);
    issuer_free(a->issuer);
    free(a);
}
