/* paypal: URL building, the token → userinfo call chain, and PayPal's two error body shapes
 * ({"error","error_description"} from the OAuth endpoints, {"name","message","debug_id",
 * "details"} from the REST APIs). */
#include "login/paypal.h"
#include "common/id_token.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/http_field.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/paypal_jwks.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

struct paypal {
    struct http_client *hc;        /* borrowed */
    const struct config *cfg;      /* borrowed; domain may change once metadata arrives */
    struct paypal_jwks *jwks;      /* owned: PayPal's id_token keys */
};

struct paypal_call {
    struct paypal *p;              /* borrowed */
    struct http_call *http;        /* borrowed handle of the call in flight */
    char *access_token;            /* owned, wiped */
    char *id_token;                /* owned: the compact id_token as PayPal sent it */
    struct id_token idt;           /* owned: id_token parsed */
    char nonce[ID_TOKEN_NONCE_LEN + 1]; /* the OIDC nonce this login sent */
    struct paypal_jwks_wait jw;    /* queued while PayPal's JWKS is being fetched */
    paypal_done_fn done;
    void *arg;
};

int paypal_err_status(paypal_err e)
{
    switch (e) {
    case PAYPAL_OK: return 200;
    case PAYPAL_ERR_GRANT: return 400;
    case PAYPAL_ERR_TIMEOUT: return 504;
    case PAYPAL_ERR_NOMEM: return 503;
    default: return 502;
    }
}

const char *paypal_err_text(paypal_err e)
{
    switch (e) {
    case PAYPAL_OK: return "ok";
    case PAYPAL_ERR_NOMEM: return "The service is overloaded. Please try again in a moment.";
    case PAYPAL_ERR_GRANT: return "PayPal did not accept this login (the link may have expired or been used already). Please log in again.";
    case PAYPAL_ERR_CLIENT: return "PayPal rejected this service's credentials. The operator has been told; please try again later.";
    case PAYPAL_ERR_UPSTREAM: return "PayPal returned an error. Please try again later.";
    case PAYPAL_ERR_TIMEOUT: return "PayPal did not answer in time. Please try again.";
    case PAYPAL_ERR_NETWORK: return "The service could not reach PayPal. Please try again later.";
    case PAYPAL_ERR_MALFORMED: return "PayPal's answer could not be understood. Please try again later.";
    case PAYPAL_ERR_ID_TOKEN: return "PayPal's signed statement about this login (its id_token) did not pass the "
                                     "checks, so this login was refused. Nothing was used up: your PayPal account "
                                     "can still get its result; please log in again.";
    }
    return "unknown error";
}

struct paypal *paypal_new(struct http_client *hc, const struct config *cfg)
{
    struct paypal *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->hc = hc;
    p->cfg = cfg;
    if (!(p->jwks = paypal_jwks_new(hc, cfg))) {
        free(p);
        return NULL;
    }
    return p;
}

void paypal_free(struct paypal *p)
{
    if (!p)
        return;
    paypal_jwks_free(p->jwks);
    free(p);
}

json_t *paypal_status(const struct paypal *p) { return paypal_jwks_status(p->jwks); }
void paypal_redirect_uri(const struct paypal *p, char out[PAYPAL_REDIRECT_URI_MAX])
{
    snprintf(out, PAYPAL_REDIRECT_URI_MAX, "https://%s/callback", p->cfg->domain);
}

/* Appends the form-urlencoding (RFC 3986 unreserved kept, space as %20) of s. */
static int urlenc(char *out, size_t cap, size_t *o, const char *s)
{
    static const char H[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c);
        if (*o + 4 > cap)
            return -1;
        if (keep) {
            out[(*o)++] = (char)c;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = H[c >> 4];
            out[(*o)++] = H[c & 15];
        }
    }
    out[*o] = 0;
    return 0;
}

/* Builds "k1=v1&k2=v2..." from a NULL-terminated key/value list into a malloc'd string. */
static char *form(const char *const *kv)
{
    size_t cap = 1;
    for (int i = 0; kv[i]; i += 2)
        cap += strlen(kv[i]) + 3 * strlen(kv[i + 1]) + 2;
    char *s = malloc(cap);
    size_t o = 0;
    if (!s)
        return NULL;
    s[0] = 0;
    for (int i = 0; kv[i]; i += 2) {
        if (i) s[o++] = '&';
        if (urlenc(s, cap, &o, kv[i]) || o + 1 >= cap) { free(s); return NULL; }
        s[o++] = '=';
        if (urlenc(s, cap, &o, kv[i + 1])) { free(s); return NULL; }
    }
    s[o] = 0;
    return s;
}

char *paypal_authorize_url(const struct paypal *p, const char *state, const char *nonce, const char *challenge)
{
    char redirect_uri[PAYPAL_REDIRECT_URI_MAX];
    paypal_redirect_uri(p, redirect_uri);
    const char *kv[] = {"client_id", p->cfg->paypal_client_id ? p->cfg->paypal_client_id : "",
                        "response_type", "code",
                        "scope", p->cfg->paypal_scope,
                        "redirect_uri", redirect_uri,
                        "state", state,
                        "nonce", nonce,
                        "code_challenge", challenge,
                        "code_challenge_method", "S256",
                        NULL};
    char *q = form(kv);
    if (!q)
        return NULL;
    size_t n = strlen(p->cfg->paypal_authorize_url) + strlen(q) + 2;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s%c%s", p->cfg->paypal_authorize_url,
                 strchr(p->cfg->paypal_authorize_url, '?') ? '&' : '?', q);
    free(q);
    return url;
}

static int depth_ok(const json_t *j, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return 0;
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, k, v) if (!depth_ok(v, depth + 1)) return 0;
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) if (!depth_ok(v, depth + 1)) return 0;
    }
    return 1;
}

json_t *paypal_json_object(const void *body, size_t len)
{
    if (len > PAYPAL_MAX_RESPONSE)
        return NULL;
    json_error_t e;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j) || !depth_ok(j, 0)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static void finish(struct paypal_call *c, paypal_err err, json_t *userinfo, const char *user_id)
{
    struct paypal_result r = {.err = err, .userinfo = userinfo, .user_id = user_id};
    if (!err) {
        r.id_token_alg = c->idt.alg;
        r.id_token = !strcmp(c->idt.alg, "RS256") ? c->id_token : NULL;
    }
    c->done(c->arg, &r);
    paypal_cancel(c);   /* frees; the http call is already finished */
}

/* The id_token failed check e: logged once (the reason and the algorithm, never the token). */
static void id_token_fail(struct paypal_call *c, id_token_err e, const char *why)
{
    log_warn("paypal.id_token", "result=refused alg=%s reason=\"%s\"", c->idt.alg ? c->idt.alg : "-",
             why ? why : id_token_strerror(e));
    struct paypal_result r = {.err = e == ID_TOKEN_ERR_NOMEM ? PAYPAL_ERR_NOMEM : PAYPAL_ERR_ID_TOKEN,
                              .why = why ? why : id_token_strerror(e)};
    c->done(c->arg, &r);
    paypal_cancel(c);
}

/* Classifies a non-2xx answer and logs PayPal's error name and debug_id (neither is personal). */
static paypal_err classify(const char *step, const struct http_response *r)
{
    json_t *j = paypal_json_object(r->body, r->body_len);
    const char *name = json_string_value(json_object_get(j, "error"));
    if (!name)
        name = json_string_value(json_object_get(j, "name"));
    const char *debug_id = json_string_value(json_object_get(j, "debug_id"));
    paypal_err e = PAYPAL_ERR_UPSTREAM;
    if (name && (!strcmp(name, "invalid_grant") || !strcmp(name, "invalid_request")))
        e = PAYPAL_ERR_GRANT;
    else if (r->status == 401 && !strcmp(step, "token"))
        e = PAYPAL_ERR_CLIENT;
    else if (name && !strcmp(name, "invalid_client"))
        e = PAYPAL_ERR_CLIENT;
    char safe_name[48] = "-", safe_dbg[48] = "-";
    for (size_t i = 0; name && name[i] && i < sizeof safe_name - 1; i++)
        safe_name[i] = (name[i] >= 'A' && name[i] <= 'z') || name[i] == '_' ? name[i] : '?', safe_name[i + 1] = 0;
    for (size_t i = 0; debug_id && debug_id[i] && i < sizeof safe_dbg - 1; i++)
        safe_dbg[i] = (debug_id[i] >= '0' && debug_id[i] <= 'z') ? debug_id[i] : '?', safe_dbg[i + 1] = 0;
    log_warn("paypal.error", "step=%s status=%ld error=%s debug_id=%s", step, r->status, safe_name, safe_dbg);
    json_decref(j);
    return e;
}

static paypal_err transport_err(const char *step, const struct http_response *r)
{
    log_warn("paypal.unreachable", "step=%s reason=\"%s\" ms=%.0f", step, http_client_strerror(r->err), r->total_ms);
    if (r->err == HTTP_CLIENT_ERR_TIMEOUT) return PAYPAL_ERR_TIMEOUT;
    if (r->err == HTTP_CLIENT_ERR_NOMEM) return PAYPAL_ERR_NOMEM;
    if (r->err == HTTP_CLIENT_ERR_TOOBIG || r->err == HTTP_CLIENT_ERR_PROTOCOL) return PAYPAL_ERR_MALFORMED;
    return PAYPAL_ERR_NETWORK;
}

static void on_userinfo(void *arg, const struct http_response *r)
{
    struct paypal_call *c = arg;
    c->http = NULL;
    if (r->err) {
        finish(c, transport_err("userinfo", r), NULL, NULL);
        return;
    }
    if (r->status != 200) {
        finish(c, classify("userinfo", r), NULL, NULL);
        return;
    }
    json_t *info = paypal_json_object(r->body, r->body_len);
    /* Both the paypalv1.1 and the openid schema carry user_id. No fallback to another field:
     * the one-result rule keys on exactly this string, so a second spelling of the same account
     * must not exist. */
    json_t *uid = json_object_get(info, "user_id");
    if (!info || !json_is_string(uid) || json_string_length(uid) == 0 || json_string_length(uid) > 512) {
        log_warn("paypal.malformed", "step=userinfo has_object=%d has_user_id=%d", info != NULL, json_is_string(uid));
        json_decref(info);
        finish(c, PAYPAL_ERR_MALFORMED, NULL, NULL);
        return;
    }
    /* OIDC Core §5.3.2: the userinfo must be about the id_token's subject */
    struct id_token_expect x = {
        .iss = c->p->cfg->paypal_issuer, .client_id = c->p->cfg->paypal_client_id, .nonce = c->nonce,
        .subject = json_string_value(uid), .subject_len = json_string_length(uid), .at = time(NULL),
    };
    id_token_err e = id_token_check_claims(&c->idt, &x);
    if (e) {
        json_decref(info);
        id_token_fail(c, e, NULL);
        return;
    }
    finish(c, PAYPAL_OK, info, json_string_value(uid));
}

static void userinfo_start(struct paypal_call *c)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->p->cfg->paypal_api_base, c->p->cfg->paypal_userinfo_path);
    const char *hdrs[] = {c->access_token, "Accept: application/json", NULL};
    struct http_request req = {
        .method = "GET", .url = url, .headers = hdrs, .timeout_ms = PAYPAL_TIMEOUT_MS,
        .max_response = PAYPAL_MAX_RESPONSE, .ca_file = c->p->cfg->paypal_ca_file,
        .allow_plain_http = c->p->cfg->paypal_env == PAYPAL_ENV_LOCAL_FAKE,
    };
    c->http = http_client_start(c->p->hc, &req, on_userinfo, c);
    if (!c->http)
        finish(c, PAYPAL_ERR_NOMEM, NULL, NULL);
}

/* PayPal's key set arrived (or could not be had): check the RS256 signature, then userinfo. */
static void on_jwks(void *arg, const json_t *jwks, const char *why)
{
    struct paypal_call *c = arg;
    if (!jwks) {
        id_token_fail(c, ID_TOKEN_ERR_KID, why);
        return;
    }
    id_token_err e = id_token_verify_jwks(&c->idt, jwks);
    if (e) {
        id_token_fail(c, e, NULL);
        return;
    }
    userinfo_start(c);
}

static void on_token(void *arg, const struct http_response *r)
{
    struct paypal_call *c = arg;
    c->http = NULL;
    if (r->err) {
        finish(c, transport_err("token", r), NULL, NULL);
        return;
    }
    if (r->status != 200) {
        finish(c, classify("token", r), NULL, NULL);
        return;
    }
    json_t *j = paypal_json_object(r->body, r->body_len);
    const char *tok = json_string_value(json_object_get(j, "access_token"));
    const char *type = json_string_value(json_object_get(j, "token_type"));
    if (!tok || !*tok || strlen(tok) > 4096 || (type && strcasecmp(type, "Bearer"))) {
        log_warn("paypal.malformed", "step=token has_object=%d has_token=%d", j != NULL, tok != NULL);
        json_decref(j);
        finish(c, PAYPAL_ERR_MALFORMED, NULL, NULL);
        return;
    }
    /* The token goes into the userinfo call's Authorization header: anything but an RFC 6750
     * b64token (CR/LF would add header lines) ends the login here, before any account is known. */
    if (!http_field_b64token_ok(tok, strlen(tok))) {
        log_warn("paypal.malformed", "step=token reason=\"access_token is not an RFC 6750 b64token\"");
        json_t *t = json_object_get(j, "access_token");
        OPENSSL_cleanse((void *)json_string_value(t), strlen(tok));
        json_decref(j);
        finish(c, PAYPAL_ERR_MALFORMED, NULL, NULL);
        return;
    }
    size_t n = strlen(tok) + 32;
    c->access_token = malloc(n);
    if (c->access_token)
        snprintf(c->access_token, n, "Authorization: Bearer %s", tok);
    json_t *t = json_object_get(j, "access_token");
    if (t) OPENSSL_cleanse((void *)json_string_value(t), strlen(tok));
    /* The id_token (we always ask for openid): checked before anything else is asked of PayPal. */
    json_t *it = json_object_get(j, "id_token");
    int fits = json_is_string(it) && json_string_length(it) <= ID_TOKEN_MAX_LEN;   /* it dies with j */
    if (fits)
        c->id_token = strndup(json_string_value(it), json_string_length(it));
    json_decref(j);
    if (!c->access_token || (fits && !c->id_token)) {
        finish(c, PAYPAL_ERR_NOMEM, NULL, NULL);
        return;
    }
    if (!c->id_token) {
        id_token_fail(c, ID_TOKEN_ERR_FORMAT, "PayPal's token answer holds no id_token (or one above the size cap)");
        return;
    }
    id_token_err e = id_token_parse(c->id_token, strlen(c->id_token), &c->idt);
    if (e) {
        id_token_fail(c, e, NULL);
        return;
    }
    /* claims first (cheap, and a wrong nonce or audience needs no key); the subject once userinfo names it */
    struct id_token_expect x = {
        .iss = c->p->cfg->paypal_issuer, .client_id = c->p->cfg->paypal_client_id, .nonce = c->nonce, .at = time(NULL),
    };
    if ((e = id_token_check_claims(&c->idt, &x))) {
        id_token_fail(c, e, NULL);
        return;
    }
    if (!strcmp(c->idt.alg, "HS256")) {
        const char *sec = c->p->cfg->paypal_secret;
        if ((e = id_token_verify_hs256(&c->idt, sec, sec ? strlen(sec) : 0))) {
            id_token_fail(c, e, NULL);
            return;
        }
        userinfo_start(c);
        return;
    }
    const char *why = NULL;
    const json_t *set = paypal_jwks_lookup(c->p->jwks, c->idt.kid, &c->jw, &why);
    if (set)
        on_jwks(c, set, NULL);
    else if (!c->jw.queued)
        id_token_fail(c, ID_TOKEN_ERR_KID, why);
    /* else on_jwks runs when PayPal's key set has been fetched */
}

struct paypal_call *paypal_login(struct paypal *p, const char *code, const char *verifier, const char *oidc_nonce,
                                 paypal_done_fn done, void *arg)
{
    struct paypal_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->done = done;
    c->arg = arg;
    c->jw.fn = on_jwks;
    c->jw.arg = c;
    snprintf(c->nonce, sizeof c->nonce, "%s", oidc_nonce);
    char redirect_uri[PAYPAL_REDIRECT_URI_MAX];
    paypal_redirect_uri(p, redirect_uri);
    const char *kv[] = {"grant_type", "authorization_code", "code", code, "redirect_uri", redirect_uri,
                        "code_verifier", verifier, NULL};
    char *body = form(kv);
    char url[1024];
    snprintf(url, sizeof url, "%s/v1/oauth2/token", p->cfg->paypal_api_base);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL};
    struct http_request req = {
        .method = "POST", .url = url, .headers = hdrs,
        .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0,
        .basic_user = p->cfg->paypal_client_id, .basic_pass = p->cfg->paypal_secret,
        .timeout_ms = PAYPAL_TIMEOUT_MS, .max_response = PAYPAL_MAX_RESPONSE,
        .ca_file = p->cfg->paypal_ca_file, .allow_plain_http = p->cfg->paypal_env == PAYPAL_ENV_LOCAL_FAKE,
    };
    if (body)
        c->http = http_client_start(p->hc, &req, on_token, c);
    if (body)
        OPENSSL_clear_free(body, strlen(body));
    if (!c->http) {
        free(c);
        return NULL;
    }
    return c;
}

void paypal_cancel(struct paypal_call *c)
{
    if (!c)
        return;
    http_call_cancel(c->http);
    paypal_jwks_cancel(c->p->jwks, &c->jw);
    if (c->access_token)
        OPENSSL_clear_free(c->access_token, strlen(c->access_token));
    id_token_clear(&c->idt);
    free(c->id_token);
    free(c);
}
