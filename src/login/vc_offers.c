/* vc_offers: a small array of live offers (at most VC_OFFERS_MAX), scanned linearly: offers live
 * minutes and are made at most once per login. */
#include "login/vc_offers.h"
#include "login/state_store.h"
#include "common/byteorder.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

struct vc_offers {
    struct vc_offer *v;   /* owned */
    size_t n, cap;
};


struct vc_offers *vc_offers_new(void)
{
    return calloc(1, sizeof(struct vc_offers));
}

void vc_offers_free(struct vc_offers *o)
{
    if (!o)
        return;
    if (o->v)
        OPENSSL_clear_free(o->v, o->cap * sizeof *o->v);
    free(o);
}

void vc_hash(const char *s, size_t len, uint8_t out[VC_HASH_LEN])
{
    uint8_t h[32];
    EVP_Digest(s, len, h, NULL, EVP_sha256(), NULL);
    memcpy(out, h, VC_HASH_LEN);
}

static void expire(struct vc_offers *o, uint64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].expires > now)
            o->v[j++] = o->v[i];
    o->n = j;
}

static struct vc_offer *by_code(struct vc_offers *o, const uint8_t h[VC_HASH_LEN])
{
    for (size_t i = 0; i < o->n; i++)
        if (!CRYPTO_memcmp(o->v[i].code_hash, h, VC_HASH_LEN))
            return &o->v[i];
    return NULL;
}

int vc_offers_can_add(struct vc_offers *o, const struct idset_key *key, uint64_t now)
{
    expire(o, now);
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].key.lo == key->lo && o->v[i].key.hi == key->hi)
            return 0;
    return o->n < VC_OFFERS_MAX;
}

int vc_offers_add(struct vc_offers *o, const struct vc_offer *e)
{
    if (o->n >= VC_OFFERS_MAX)
        return -1;
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        struct vc_offer *nv = calloc(nc, sizeof *nv);
        if (!nv)
            return -1;
        if (o->v) {
            memcpy(nv, o->v, o->n * sizeof *nv);
            OPENSSL_clear_free(o->v, o->cap * sizeof *o->v);
        }
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = *e;
    return 0;
}

struct vc_offer *vc_offers_find(struct vc_offers *o, const uint8_t h[VC_HASH_LEN], int by_token, uint64_t now)
{
    for (size_t i = 0; i < o->n; i++) {
        struct vc_offer *e = &o->v[i];
        if (e->expires <= now)
            continue;
        if (!CRYPTO_memcmp(by_token ? e->token_hash : e->code_hash, h, VC_HASH_LEN) &&
            (!by_token || e->phase != VC_OFFERED))
            return e;
    }
    return NULL;
}

size_t vc_offers_count(const struct vc_offers *o) { return o->n; }

void vc_offer_record(const struct vc_offer *e, uint8_t rec[VC_OFFER_REC_LEN])
{
    memcpy(rec, e->code_hash, VC_HASH_LEN);
    put_le64(rec + VC_HASH_LEN, e->key.lo);
    put_le64(rec + VC_HASH_LEN + 8, e->key.hi);
    memcpy(rec + VC_HASH_LEN + 16, e->result_code, RESULT_CODE_LEN);
    put_le64(rec + VC_HASH_LEN + 16 + RESULT_CODE_LEN, e->expires);
}

void vc_redeem_record(const struct vc_offer *e, uint8_t rec[VC_REDEEM_REC_LEN])
{
    memcpy(rec, e->code_hash, VC_HASH_LEN);
    memcpy(rec + VC_HASH_LEN, e->token_hash, VC_HASH_LEN);
    put_le64(rec + 2 * VC_HASH_LEN, e->expires);
}

int vc_offers_load(struct vc_offers *o, uint32_t type, const uint8_t *p, size_t len, uint64_t now)
{
    struct vc_offer e, *f;
    switch (type) {
    case VC_REC_OFFER:
        if (len != VC_OFFER_REC_LEN)
            return -1;
        memset(&e, 0, sizeof e);
        memcpy(e.code_hash, p, VC_HASH_LEN);
        e.key.lo = get_le64(p + VC_HASH_LEN);
        e.key.hi = get_le64(p + VC_HASH_LEN + 8);
        memcpy(e.result_code, p + VC_HASH_LEN + 16, RESULT_CODE_LEN);
        if (memchr(e.result_code, 0, RESULT_CODE_LEN))
            return -1;
        e.expires = get_le64(p + VC_HASH_LEN + 16 + RESULT_CODE_LEN);
        e.phase = VC_OFFERED;
        if (by_code(o, e.code_hash))
            return -1;   /* one offer per code */
        if (e.expires <= now)
            return 0;
        expire(o, now);
        return vc_offers_add(o, &e);   /* over the cap: refused, never dropped */
    case VC_REC_REDEEM:
        if (len != VC_REDEEM_REC_LEN)
            return -1;
        if (!(f = by_code(o, p)))
            return 0;   /* its offer had expired: nothing to redeem any more */
        if (f->phase != VC_OFFERED)
            return -1;
        memcpy(f->token_hash, p + VC_HASH_LEN, VC_HASH_LEN);
        f->expires = get_le64(p + 2 * VC_HASH_LEN);
        f->phase = VC_REDEEMED;
        return 0;
    case VC_REC_ISSUED:
        if (len != VC_HASH_LEN)
            return -1;
        if (!(f = by_code(o, p)))
            return 0;
        if (f->phase != VC_REDEEMED)
            return -1;
        f->phase = VC_ISSUED;
        return 0;
    }
    return -1;
}

int vc_offers_emit(struct vc_offers *o, struct state_writer *w, uint64_t now)
{
    expire(o, now);
    for (size_t i = 0; i < o->n; i++) {
        const struct vc_offer *e = &o->v[i];
        uint8_t rec[VC_OFFER_REC_LEN], red[VC_REDEEM_REC_LEN];
        vc_offer_record(e, rec);
        if (state_store_put(w, VC_REC_OFFER, rec, sizeof rec))
            return -1;
        if (e->phase == VC_OFFERED)
            continue;
        vc_redeem_record(e, red);
        if (state_store_put(w, VC_REC_REDEEM, red, sizeof red) ||
            (e->phase == VC_ISSUED && state_store_put(w, VC_REC_ISSUED, e->code_hash, VC_HASH_LEN)))
            return -1;
    }
    return 0;
}
