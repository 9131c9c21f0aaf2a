/* login_spent: the login states already used at /callback, remembered until they expire, so that
 * each state is good for one callback (one token request to PayPal) only. Stores SHA-256 of the
 * state truncated to 128 bits, never the state. Bounded by LOGIN_USED_STATES_MAX; full of live
 * entries, it refuses (fails closed). Persisting is service_state.c's job. */
#ifndef SEALED_LOGIN_SPENT_H
#define SEALED_LOGIN_SPENT_H
#include <stddef.h>
#include <stdint.h>

struct login_spent;
struct login_spent_entry { uint8_t h[16]; uint64_t expires; };

typedef enum { LOGIN_SPENT_NEW = 0, LOGIN_SPENT_SEEN, LOGIN_SPENT_FULL } login_spent_result;

struct login_spent *login_spent_new(void);
void login_spent_free(struct login_spent *s);   /* NULL is fine */

/* The entry for a state token (state, len) that expires at expires. */
void login_spent_entry_of(const char *state, size_t len, uint64_t expires, struct login_spent_entry *out);
/* 1 if e's hash is remembered (and not expired as of now). */
int login_spent_contains(const struct login_spent *s, const struct login_spent_entry *e, uint64_t now);
/* 1 if one more live entry fits (as of now). */
int login_spent_has_room(const struct login_spent *s, uint64_t now);
/* Remembers e unless already there; drops expired entries when full. */
login_spent_result login_spent_insert(struct login_spent *s, const struct login_spent_entry *e, uint64_t now);
/* Iterates the live entries: i starts at 0; NULL at the end. */
const struct login_spent_entry *login_spent_next(const struct login_spent *s, size_t *i, uint64_t now);
size_t login_spent_count(const struct login_spent *s);
#endif
