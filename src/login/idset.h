/* idset: the set of PayPal accounts that already received their result this boot. It stores
 * HMAC-SHA-256(per-boot random key, user_id) truncated to 128 bits, never the raw ids, in one
 * open-addressing table sized at start for the configured capacity; it fails closed when full
 * (refuses new ids, never forgets one). The HMAC's message is an injective encoding of user_id
 * that drops PayPal's constant prefix; the saved state's IDS records hold these keys, so
 * changing the encoding needs a new state format version. Single-threaded: event loop only. */
#ifndef SEALED_IDSET_H
#define SEALED_IDSET_H
#include <stddef.h>
#include <stdint.h>

struct idset;
struct idset_key { uint64_t lo, hi; };   /* the truncated HMAC, never zero */

typedef enum {
    IDSET_INSERTED = 0,  /* was absent, now present */
    IDSET_PRESENT,       /* already there: this account already got its result */
    IDSET_FULL,          /* capacity reached: refused, nothing changed */
} idset_result;

/* A set for up to capacity ids with a fresh random HMAC key. NULL on allocation failure. */
struct idset *idset_new(uint64_t capacity);
/* The same with a given HMAC key (the saved state's, so hashes match across restarts). */
struct idset *idset_new_keyed(uint64_t capacity, const uint8_t key[32]);
/* Frees (and wipes the key). NULL is fine. */
void idset_free(struct idset *s);

/* The keyed hash of an id (bytes as received). */
void idset_key_of(const struct idset *s, const void *id, size_t len, struct idset_key *out);

/* Atomically tests and inserts. */
idset_result idset_insert_once(struct idset *s, const struct idset_key *k);
/* 1 if present. */
int idset_contains(const struct idset *s, const struct idset_key *k);
uint64_t idset_count(const struct idset *s);
uint64_t idset_capacity(const struct idset *s);
/* Bytes the table reserves (its address space; pages are touched as it fills). */
size_t idset_table_bytes(const struct idset *s);
/* Iterates the stored keys: *i starts at 0; returns 0 and fills *out, or -1 at the end. */
int idset_next(const struct idset *s, uint64_t *i, struct idset_key *out);
/* 8 hex characters of the key, safe for logs (the key is already a keyed hash). */
void idset_key_tag(const struct idset_key *k, char out[9]);
#endif
