/* result_store: one growing array of results kept in creation order, so expiry drops a prefix.
 * Lookups scan it (at most RESULT_STORE_MAX_COUNT entries, and only on /result requests). */
#include "login/result_store.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

struct result_store {
    struct stored_result *v;   /* owned array, creation order */
    size_t n, cap, bytes;
};

struct result_store *result_store_new(void) { return calloc(1, sizeof(struct result_store)); }

static void drop(struct stored_result *e)
{
    if (e->jws)
        OPENSSL_clear_free(e->jws, e->jws_len + 1);
    OPENSSL_cleanse(e, sizeof *e);
}

void result_store_free(struct result_store *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        drop(&r->v[i]);
    free(r->v);
    free(r);
}

void result_store_expire(struct result_store *r, uint64_t now)
{
    size_t k = 0;
    while (k < r->n && r->v[k].created + RESULT_KEEP_S <= now) {
        r->bytes -= r->v[k].jws_len;
        drop(&r->v[k]);
        k++;
    }
    if (k) {
        memmove(r->v, r->v + k, (r->n - k) * sizeof *r->v);
        r->n -= k;
    }
}

int result_store_fits(struct result_store *r, size_t jws_len, uint64_t now)
{
    result_store_expire(r, now);
    return r->n < RESULT_STORE_MAX_COUNT && jws_len <= RESULT_STORE_MAX_BYTES &&
           r->bytes <= RESULT_STORE_MAX_BYTES - jws_len;
}

int result_store_add(struct result_store *r, const char code[RESULT_CODE_LEN + 1], const uint8_t secret_hash[32],
                     const struct idset_key *key, uint64_t created, const char *jws, size_t jws_len)
{
    if (r->n >= RESULT_STORE_MAX_COUNT || jws_len > RESULT_STORE_MAX_BYTES || r->bytes > RESULT_STORE_MAX_BYTES - jws_len)
        return -1;
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        struct stored_result *nv = realloc(r->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        r->v = nv;
        r->cap = nc;
    }
    struct stored_result *e = &r->v[r->n];
    memset(e, 0, sizeof *e);
    if (!(e->jws = malloc(jws_len + 1)))
        return -1;
    memcpy(e->jws, jws, jws_len);
    e->jws[jws_len] = 0;
    e->jws_len = jws_len;
    memcpy(e->code, code, RESULT_CODE_LEN);
    e->code[RESULT_CODE_LEN] = 0;
    memcpy(e->secret_hash, secret_hash, 32);
    e->key = *key;
    e->created = created;
    r->n++;
    r->bytes += jws_len;
    return 0;
}

void result_store_pop_last(struct result_store *r)
{
    if (!r->n)
        return;
    r->n--;
    r->bytes -= r->v[r->n].jws_len;
    drop(&r->v[r->n]);
}

const struct stored_result *result_store_find(const struct result_store *r, const char *code, size_t code_len,
                                              const uint8_t secret_hash[32])
{
    if (code_len != RESULT_CODE_LEN)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (!memcmp(r->v[i].code, code, RESULT_CODE_LEN) && !CRYPTO_memcmp(r->v[i].secret_hash, secret_hash, 32))
            return &r->v[i];
    return NULL;
}

const struct stored_result *result_store_next(const struct result_store *r, size_t *i, const uint8_t *secret_hash)
{
    while (*i < r->n) {
        const struct stored_result *e = &r->v[(*i)++];
        if (!secret_hash || !CRYPTO_memcmp(e->secret_hash, secret_hash, 32))
            return e;
    }
    return NULL;
}

size_t result_store_count(const struct result_store *r) { return r->n; }
size_t result_store_bytes(const struct result_store *r) { return r->bytes; }

int result_code_new(char out[RESULT_CODE_LEN + 1])
{
    static const char B32[] = "ABCDEFGHJKMNPQRSTVWXYZ0123456789";   /* 32 symbols, no I L O U */
    uint8_t r[RESULT_CODE_LEN];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    for (int i = 0; i < RESULT_CODE_LEN; i++)
        out[i] = B32[r[i] & 31];
    out[RESULT_CODE_LEN] = 0;
    return 0;
}
