/* paypal: the PayPal side of "Log in with PayPal" (OpenID Connect authorization-code flow with
 * PKCE): the authorize URL, the code exchange at /v1/oauth2/token (Basic client_id:secret, form
 * body), the id_token in its answer checked (common/id_token.c: RS256 against PayPal's JWKS from
 * paypal_jwks.c, HS256 with the client secret; iss, aud, exp, iat, the login's nonce) and the
 * userinfo call, whose user_id must be the id_token's subject; on the non-blocking http_client.
 * Borrows the client secret from the config for each exchange; wipes the access token after use.
 * Logs PayPal's error name and debug_id, never tokens, codes or user data. */
#ifndef SEALED_PAYPAL_H
#define SEALED_PAYPAL_H
#include <stddef.h>
#include <jansson.h>

struct config;
struct http_client;
struct paypal;
struct paypal_call;

typedef enum {
    PAYPAL_OK = 0,
    PAYPAL_ERR_NOMEM,
    PAYPAL_ERR_GRANT,      /* PayPal refused the code (expired, reused, wrong redirect): user retries */
    PAYPAL_ERR_CLIENT,     /* PayPal refused our credentials: a configuration problem */
    PAYPAL_ERR_UPSTREAM,   /* PayPal answered with another error status */
    PAYPAL_ERR_TIMEOUT,    /* PayPal did not answer in time */
    PAYPAL_ERR_NETWORK,    /* could not reach PayPal */
    PAYPAL_ERR_MALFORMED,  /* PayPal's answer was not the JSON we expect */
    PAYPAL_ERR_ID_TOKEN,   /* the id_token is missing or fails a check (paypal_result.why) */
} paypal_err;

/* HTTP status the service answers with for this error, and a sentence for the visitor. */
int paypal_err_status(paypal_err e);
const char *paypal_err_text(paypal_err e);

struct paypal *paypal_new(struct http_client *hc, const struct config *cfg);
void paypal_free(struct paypal *p);

/* The authorize URL to redirect the visitor to (malloc'd), or NULL. */
char *paypal_authorize_url(const struct paypal *p, const char *state, const char *nonce,
                           const char *code_challenge);
/* "https://DOMAIN/callback" for the domain configured now (metadata may set it after start). */
#define PAYPAL_REDIRECT_URI_MAX 300
void paypal_redirect_uri(const struct paypal *p, char out[PAYPAL_REDIRECT_URI_MAX]);

/* What a login call ends with. */
struct paypal_result {
    paypal_err err;
    const char *why;          /* static: for PAYPAL_ERR_ID_TOKEN, which check failed; else NULL */
    json_t *userinfo;         /* on success a new reference the callee owns; else NULL */
    const char *user_id;      /* borrowed from userinfo (equal to the id_token's subject) */
    const char *id_token;     /* borrowed, valid during the callback: the verified id_token when
                                 it is RS256 (anyone can check it with PayPal's JWKS); NULL for HS256 */
    const char *id_token_alg; /* "RS256" or "HS256" on success */
};

/* Runs exactly once on the loop, unless cancelled first. */
typedef void (*paypal_done_fn)(void *arg, const struct paypal_result *r);

/* Exchanges code (with the PKCE verifier), checks the id_token against oidc_nonce (copied) and
 * fetches the user's info. NULL on allocation failure. */
struct paypal_call *paypal_login(struct paypal *p, const char *code, const char *verifier, const char *oidc_nonce,
                                 paypal_done_fn done, void *arg);
/* /status: PayPal's key set cache (paypal_jwks_status). New reference. */
json_t *paypal_status(const struct paypal *p);
/* Cancels a call in flight; its callback will not run. NULL is fine. */
void paypal_cancel(struct paypal_call *c);

/* Parses a JSON object of at most max bytes and JSON_MAX_DEPTH nesting; NULL if it is not one. */
json_t *paypal_json_object(const void *body, size_t len);
#endif
