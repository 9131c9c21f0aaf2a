/* result_store: the signed results handed out in the last RESULT_KEEP_S, in memory, so that the
 * visitor who got one can fetch the same bytes again (a dropped connection loses nothing). Each is
 * found by its short code and released only to the holder of its retrieval secret, compared as
 * SHA-256 in constant time. Holds no PayPal id (only the used-id set's keyed hash); never writes
 * the state file itself (service_state.c does, before calling result_store_add). */
#ifndef SEALED_RESULT_STORE_H
#define SEALED_RESULT_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "login/idset.h"
#include "login/limits.h"

struct result_store;

struct stored_result {
    char code[RESULT_CODE_LEN + 1];   /* base32, shown on the page */
    uint8_t secret_hash[32];          /* SHA-256 of the retrieval secret (the cookie's bytes) */
    struct idset_key key;
    uint64_t created;                 /* unix seconds */
    char *jws;                        /* owned, NUL-terminated */
    size_t jws_len;
};

struct result_store *result_store_new(void);
void result_store_free(struct result_store *r);   /* NULL is fine; wipes */

/* 1 if one more result of jws_len bytes fits under RESULT_STORE_MAX_BYTES / _COUNT (after dropping
 * expired ones as of now). */
int result_store_fits(struct result_store *r, size_t jws_len, uint64_t now);
/* Copies jws in; 0, or -1 on allocation failure or when full. */
int result_store_add(struct result_store *r, const char code[RESULT_CODE_LEN + 1], const uint8_t secret_hash[32],
                     const struct idset_key *key, uint64_t created, const char *jws, size_t jws_len);
/* Removes the result added last (a save that failed after result_store_add). */
void result_store_pop_last(struct result_store *r);
/* Drops results older than RESULT_KEEP_S. */
void result_store_expire(struct result_store *r, uint64_t now);

/* The result with this code whose secret hashes to secret_hash, or NULL. Borrowed until the next
 * add or expire. */
const struct stored_result *result_store_find(const struct result_store *r, const char *code, size_t code_len,
                                              const uint8_t secret_hash[32]);
/* Iterates: i starts at 0; returns the next result held for secret_hash (or every result when
 * secret_hash is NULL), or NULL at the end. */
const struct stored_result *result_store_next(const struct result_store *r, size_t *i, const uint8_t *secret_hash);
size_t result_store_count(const struct result_store *r);
size_t result_store_bytes(const struct result_store *r);

/* A fresh random code (RESULT_CODE_LEN base32 characters + NUL); 0 or -1. */
int result_code_new(char out[RESULT_CODE_LEN + 1]);
#endif
