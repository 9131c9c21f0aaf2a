/* login_spent: a fixed array scanned linearly (LOGIN_USED_STATES_MAX entries of 24 bytes; /callback
 * is rate-limited, so a scan per callback is cheap). Expired entries are reused. */
#include "login/login_spent.h"
#include "login/limits.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

struct login_spent {
    struct login_spent_entry *v;   /* owned, LOGIN_USED_STATES_MAX entries */
    size_t n;                      /* slots in use (live or expired) */
};

struct login_spent *login_spent_new(void)
{
    struct login_spent *s = calloc(1, sizeof *s);
    if (s && !(s->v = calloc(LOGIN_USED_STATES_MAX, sizeof *s->v))) {
        free(s);
        s = NULL;
    }
    return s;
}

void login_spent_free(struct login_spent *s)
{
    if (!s)
        return;
    free(s->v);
    free(s);
}

void login_spent_entry_of(const char *state, size_t len, uint64_t expires, struct login_spent_entry *out)
{
    uint8_t h[32];
    EVP_Digest(state, len, h, NULL, EVP_sha256(), NULL);
    memcpy(out->h, h, sizeof out->h);
    out->expires = expires;
}

int login_spent_contains(const struct login_spent *s, const struct login_spent_entry *e, uint64_t now)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].expires >= now && !memcmp(s->v[i].h, e->h, sizeof e->h))
            return 1;
    return 0;
}

int login_spent_has_room(const struct login_spent *s, uint64_t now)
{
    if (s->n < LOGIN_USED_STATES_MAX)
        return 1;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].expires < now)
            return 1;
    return 0;
}

login_spent_result login_spent_insert(struct login_spent *s, const struct login_spent_entry *e, uint64_t now)
{
    if (login_spent_contains(s, e, now))
        return LOGIN_SPENT_SEEN;
    if (e->expires < now)
        return LOGIN_SPENT_NEW;   /* already expired: the cookie check refuses it anyway */
    size_t slot = s->n;
    if (slot == LOGIN_USED_STATES_MAX) {
        for (slot = 0; slot < s->n && s->v[slot].expires >= now; slot++)
            ;
        if (slot == s->n)
            return LOGIN_SPENT_FULL;
    } else {
        s->n++;
    }
    s->v[slot] = *e;
    return LOGIN_SPENT_NEW;
}

const struct login_spent_entry *login_spent_next(const struct login_spent *s, size_t *i, uint64_t now)
{
    while (*i < s->n) {
        const struct login_spent_entry *e = &s->v[(*i)++];
        if (e->expires >= now)
            return e;
    }
    return NULL;
}

size_t login_spent_count(const struct login_spent *s) { return s->n; }
