/* login_state: what binds a PayPal callback to the visitor who started the login: a random
 * `state`, the PKCE S256 code verifier and the OpenID `nonce`, kept client-side in a cookie
 * sealed with AES-256-GCM under a per-boot key (so the server holds no per-visitor memory before
 * PayPal has authenticated anyone), expiring after LOGIN_STATE_TTL_S. Owns the sealing key. */
#ifndef SEALED_LOGIN_STATE_H
#define SEALED_LOGIN_STATE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LOGIN_TOKEN_LEN 43     /* base64url of 32 random bytes */
#define LOGIN_COOKIE_NAME "__Host-sealed_login"

struct login_state_keys;

struct login_pending {
    char state[LOGIN_TOKEN_LEN + 1];
    char verifier[LOGIN_TOKEN_LEN + 1];   /* PKCE code_verifier (RFC 7636 §4.1 charset) */
    char nonce[LOGIN_TOKEN_LEN + 1];      /* the login's secret: the result nonce and the OIDC
                                             nonce are derived from it (login_nonces) */
    uint64_t expires;                     /* unix seconds */
};

/* A fresh per-boot sealing key; NULL on failure. Free wipes it. */
struct login_state_keys *login_state_keys_new(void);
/* The same from a given key (the saved state's, so cookies outlive a restart). */
struct login_state_keys *login_state_keys_from(const uint8_t key[32]);
void login_state_keys_free(struct login_state_keys *k);

/* 32 random bytes, base64url (43 characters and a NUL); -1 if the RNG fails. */
int login_random_token(char out[LOGIN_TOKEN_LEN + 1]);
/* New random state, verifier and nonce expiring at now + LOGIN_STATE_TTL_S. Returns 0 or -1. */
int login_pending_new(struct login_pending *p, time_t now);
/* PKCE S256: base64url(SHA-256(verifier)), 43 chars + NUL. */
void login_pkce_challenge(const char *verifier, char out[LOGIN_TOKEN_LEN + 1]);

/* The nonces of this login, both derived from p->nonce (never sent anywhere itself):
 *   nonce_hex = hex(first 16 bytes of SHA-256("sealed-login result nonce v1|" p->nonce)), the
 *               result's `nonce` (bound into REPORT_DATA);
 *   oidc      = binding_oidc_nonce(nonce_hex), the OpenID nonce sent to PayPal, which PayPal's
 *               id_token repeats: so PayPal's signature commits to this very result.
 * Returns 0 or -1. */
int login_nonces(const struct login_pending *p, char nonce_hex[33], char oidc[44]);

/* Seals p into a cookie value (malloc'd, base64url). NULL on failure. */
char *login_cookie_seal(const struct login_state_keys *k, const struct login_pending *p);

typedef enum {
    LOGIN_STATE_OK = 0,
    LOGIN_STATE_MISSING,    /* no cookie: a different browser, or cookies blocked */
    LOGIN_STATE_INVALID,    /* does not open under this boot's key (tampered, or older boot) */
    LOGIN_STATE_EXPIRED,
    LOGIN_STATE_MISMATCH,   /* state parameter differs from the cookie's: CSRF or a stale tab */
} login_state_err;

/* Opens a cookie value and checks the `state` query parameter against it in constant time.
 * On LOGIN_STATE_OK fills p. */
login_state_err login_cookie_check(const struct login_state_keys *k, const char *cookie, size_t cookie_len,
                                   const char *state, size_t state_len, time_t now, struct login_pending *p);
const char *login_state_strerror(login_state_err e);
#endif
