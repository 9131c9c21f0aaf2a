/* rate_limit: buckets hold milli-tokens refilled by elapsed milliseconds; the table index is the
 * first 8 bytes of SHA-256(random key | prefix length | prefix). */
#include "login/rate_limit.h"
#include "login/limits.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

struct bucket {
    uint8_t prefix[8];
    uint8_t len;          /* 0 = unused */
    uint64_t milli;       /* milli-tokens */
    uint64_t last_ms;
};

struct rate_limit {
    uint8_t key[16];
    uint64_t addr_cap, addr_per_ms_num;   /* cap in milli-tokens; refill milli-tokens per ms = num/60000*1000 */
    uint64_t glob_cap, glob_rate;         /* glob_rate tokens per second */
    struct bucket global;
    struct bucket *table;                 /* owned, CALLBACK_RATE_TABLE entries */
};

struct rate_limit *rate_limit_new(uint64_t per_addr_per_min, uint64_t global_per_s)
{
    struct rate_limit *r = calloc(1, sizeof *r);
    if (!r || !(r->table = calloc(CALLBACK_RATE_TABLE, sizeof *r->table)) || RAND_bytes(r->key, sizeof r->key) != 1) {
        rate_limit_free(r);
        return NULL;
    }
    if (per_addr_per_min > 1000000) per_addr_per_min = 1000000;
    if (global_per_s > 1000000) global_per_s = 1000000;
    r->addr_per_ms_num = per_addr_per_min;
    r->addr_cap = per_addr_per_min * 1000;
    r->glob_rate = global_per_s;
    r->glob_cap = global_per_s * 5 * 1000;
    r->global.len = 1;
    r->global.milli = r->glob_cap;
    return r;
}

void rate_limit_free(struct rate_limit *r)
{
    if (!r)
        return;
    free(r->table);
    OPENSSL_cleanse(r, sizeof *r);
    free(r);
}

size_t rate_limit_prefix(const char *addr, uint8_t out[16])
{
    struct in_addr v4;
    struct in6_addr v6;
    if (addr && inet_pton(AF_INET, addr, &v4) == 1) {
        memcpy(out, &v4, 4);
        return 4;
    }
    if (addr && inet_pton(AF_INET6, addr, &v6) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(v6.s6_addr, mapped, 12)) {
            memcpy(out, v6.s6_addr + 12, 4);
            return 4;
        }
        memcpy(out, v6.s6_addr, 8);
        return 8;
    }
    return 0;
}

/* Refills b at rate milli-tokens per 1000*per ms and takes one token; 0 or the ms to wait. */
static uint64_t take(struct bucket *b, uint64_t cap, uint64_t tokens, uint64_t per_ms, uint64_t now)
{
    uint64_t dt = now > b->last_ms ? now - b->last_ms : 0;
    b->last_ms = now;
    /* tokens per per_ms milliseconds = tokens*1000 milli-tokens per per_ms ms */
    if (dt > 5 * per_ms)
        dt = 5 * per_ms;   /* enough to refill any bucket (burst <= 5x rate); no overflow */
    uint64_t add = dt * tokens * 1000 / per_ms;
    b->milli = b->milli + add > cap ? cap : b->milli + add;
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return 0;
    }
    uint64_t need = 1000 - b->milli;
    return tokens ? need * per_ms / (tokens * 1000) + 1 : per_ms;
}

rate_result rate_limit_take(struct rate_limit *r, const char *addr, uint64_t now_ms, unsigned *retry_s)
{
    uint8_t p[16] = {0}, h[32];
    size_t len = rate_limit_prefix(addr, p);
    uint8_t in[16 + 1 + 16];
    memcpy(in, r->key, 16);
    in[16] = (uint8_t)len;
    memcpy(in + 17, p, 16);
    EVP_Digest(in, sizeof in, h, NULL, EVP_sha256(), NULL);
    uint64_t idx;
    memcpy(&idx, h, 8);
    struct bucket *b = &r->table[idx % CALLBACK_RATE_TABLE];
    uint64_t wait;
    *retry_s = 0;
    if (b->len != len + 1 || memcmp(b->prefix, p, 8)) {
        /* another address: take the slot over only once its owner's bucket has refilled */
        uint64_t idle = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
        if (!b->len || idle >= 60000) {
            b->len = (uint8_t)(len + 1);
            memcpy(b->prefix, p, 8);
            b->milli = r->addr_cap;
            b->last_ms = now_ms;
        }
    }
    if ((wait = take(b, r->addr_cap, r->addr_per_ms_num, 60000, now_ms))) {
        *retry_s = (unsigned)(wait / 1000 + 1);
        return RATE_ADDR;
    }
    if ((wait = take(&r->global, r->glob_cap, r->glob_rate, 1000, now_ms))) {
        b->milli += 1000;   /* not this address's fault: give its token back */
        *retry_s = (unsigned)(wait / 1000 + 1);
        return RATE_GLOBAL;
    }
    return RATE_OK;
}
