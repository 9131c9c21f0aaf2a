/* service_state: record types of state format v1 (little-endian):
 *   1 KEYS   idset HMAC key[32] | login-cookie key[32]            (first record, exactly once)
 *   2 IDS    n x (lo u64 | hi u64)                                 used ids
 *   3 RESULT created u64 | lo u64 | hi u64 | code[10] | secret_hash[32] | JWS   (also marks the id used)
 *   4 SPENT  hash[16] | expires u64                                a spent login state
 *   5 ACME, 6 TLS   opaque blobs; the last one wins
 *   7 VC_OFFER, 8 VC_REDEEM, 9 VC_ISSUED   OID4VCI redemption (vc_offers.h; since issue 14)
 * Any other type, or a record out of place, fails the load (fail closed). */
#include "login/service_state.h"
#include "login/fault.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/login_state.h"
#include "login/state_store.h"
#include "login/vc_offers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define TMPFS_MAGIC_ 0x01021994

enum { R_KEYS = 1, R_IDS = 2, R_RESULT = 3, R_SPENT = 4, R_ACME = 5, R_TLS = 6 };
#define RESULT_FIXED (8 + 16 + RESULT_CODE_LEN + 32)

struct service_state {
    struct state_store *store;             /* owned; NULL: this process only (or broken) */
    struct idset *ids;                     /* owned */
    struct login_state_keys *cookie_keys;  /* owned */
    struct result_store *results;          /* owned */
    struct login_spent *spent;             /* owned */
    struct vc_offers *offers;              /* owned: OID4VCI redemption state */
    uint8_t *blob[SS_BLOB_COUNT];          /* owned */
    size_t blob_len[SS_BLOB_COUNT];
    uint64_t capacity, epoch, now;
    const char *scope;
    char broken[300];                      /* "" = usable */
    void (*on_change)(void *arg);          /* something was appended (state_sync saves it) */
    void *on_change_arg;
    uint8_t *keys;                         /* owned (secure heap): the KEYS record, for rewrites */
    int have_keys;
};

static void set_broken(struct service_state *ss, const char *why);
static void changed(struct service_state *ss);
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static void key_get(const uint8_t *p, struct idset_key *k) { k->lo = get64(p); k->hi = get64(p + 8); }
static void key_put(uint8_t *p, const struct idset_key *k) { put64(p, k->lo); put64(p + 8, k->hi); }

static int set_keys(struct service_state *ss, const uint8_t idkey[32], const uint8_t cookie_key[32])
{
    if (!(ss->keys = OPENSSL_secure_malloc(64)))
        return -1;
    memcpy(ss->keys, idkey, 32);
    memcpy(ss->keys + 32, cookie_key, 32);
    ss->ids = idset_new_keyed(ss->capacity, idkey);
    ss->cookie_keys = login_state_keys_from(cookie_key);
    ss->have_keys = 1;
    return ss->ids && ss->cookie_keys ? 0 : -1;
}

static int blob_set(struct service_state *ss, enum ss_blob w, const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        return -1;
    memcpy(c, p, len);
    if (ss->blob[w])
        OPENSSL_clear_free(ss->blob[w], ss->blob_len[w]);
    ss->blob[w] = c;
    ss->blob_len[w] = len;
    return 0;
}

/* Loading: one record. Non-zero = the state is invalid. */
static int on_record(void *arg, uint32_t type, const uint8_t *p, size_t len)
{
    struct service_state *ss = arg;
    struct idset_key k;
    if (type != R_KEYS && !ss->have_keys)
        return -1;
    switch (type) {
    case R_KEYS:
        return ss->have_keys || len != 64 || set_keys(ss, p, p + 32);
    case R_IDS:
        if (len % 16)
            return -1;
        for (size_t i = 0; i < len; i += 16) {
            key_get(p + i, &k);
            if (idset_insert_once(ss->ids, &k) == IDSET_FULL)
                return -1;   /* more ids than this build's capacity: never drop one */
        }
        return 0;
    case R_RESULT: {
        if (len <= RESULT_FIXED)
            return -1;
        uint64_t created = get64(p);
        key_get(p + 8, &k);
        if (idset_insert_once(ss->ids, &k) == IDSET_FULL)
            return -1;
        if (created + RESULT_KEEP_S <= ss->now)
            return 0;   /* expired: the id stays used, the result is gone */
        char code[RESULT_CODE_LEN + 1];
        memcpy(code, p + 24, RESULT_CODE_LEN);
        code[RESULT_CODE_LEN] = 0;
        const uint8_t *jws = p + RESULT_FIXED;
        size_t jl = len - RESULT_FIXED;
        if (memchr(jws, 0, jl) || memchr(code, 0, RESULT_CODE_LEN))
            return -1;
        /* over the memory cap (a build with smaller caps): refused rather than dropped silently */
        return result_store_add(ss->results, code, p + 24 + RESULT_CODE_LEN, &k, created, (const char *)jws, jl);
    }
    case R_SPENT: {
        if (len != 24)
            return -1;
        struct login_spent_entry e;
        memcpy(e.h, p, 16);
        e.expires = get64(p + 16);
        return login_spent_insert(ss->spent, &e, ss->now) == LOGIN_SPENT_FULL;
    }
    case R_ACME:
    case R_TLS:
        return blob_set(ss, type == R_ACME ? SS_BLOB_ACME : SS_BLOB_TLS, p, len);
    case VC_REC_OFFER:
    case VC_REC_REDEEM:
    case VC_REC_ISSUED:
        return vc_offers_load(ss->offers, type, p, len, ss->now);
    }
    return -1;
}

/* Compaction: every live record. */
static int emit_all(void *arg, struct state_writer *w)
{
    struct service_state *ss = arg;
    uint64_t now = (uint64_t)time(NULL), it = 0;
    if (state_store_put(w, R_KEYS, ss->keys, 64))
        return -1;
    uint8_t *batch = malloc(STATE_IDS_PER_RECORD * 16);
    if (!batch)
        return -1;
    size_t n = 0;
    struct idset_key k;
    int rc = 0;
    /* ids with a live result are written by their RESULT record; the rest in batches */
    result_store_expire(ss->results, now);
    while (!rc && !idset_next(ss->ids, &it, &k)) {
        key_put(batch + 16 * n++, &k);
        if (n == STATE_IDS_PER_RECORD) {
            rc = state_store_put(w, R_IDS, batch, 16 * n);
            n = 0;
        }
    }
    if (!rc && n)
        rc = state_store_put(w, R_IDS, batch, 16 * n);
    free(batch);
    size_t ri = 0;
    const struct stored_result *r;
    while (!rc && (r = result_store_next(ss->results, &ri, NULL))) {
        uint8_t *rec = malloc(RESULT_FIXED + r->jws_len);
        if (!rec)
            return -1;
        put64(rec, r->created);
        key_put(rec + 8, &r->key);
        memcpy(rec + 24, r->code, RESULT_CODE_LEN);
        memcpy(rec + 24 + RESULT_CODE_LEN, r->secret_hash, 32);
        memcpy(rec + RESULT_FIXED, r->jws, r->jws_len);
        rc = state_store_put(w, R_RESULT, rec, RESULT_FIXED + r->jws_len);
        OPENSSL_clear_free(rec, RESULT_FIXED + r->jws_len);
    }
    size_t si = 0;
    const struct login_spent_entry *e;
    while (!rc && (e = login_spent_next(ss->spent, &si, now))) {
        uint8_t rec[24];
        memcpy(rec, e->h, 16);
        put64(rec + 16, e->expires);
        rc = state_store_put(w, R_SPENT, rec, sizeof rec);
    }
    for (int b = 0; !rc && b < SS_BLOB_COUNT; b++)
        if (ss->blob[b])
            rc = state_store_put(w, b == SS_BLOB_ACME ? R_ACME : R_TLS, ss->blob[b], ss->blob_len[b]);
    if (!rc)
        rc = vc_offers_emit(ss->offers, w, now);
    return rc;
}

/* Bytes a compact rewrite would take, about: batched ids, results, spent states, blobs. */
static uint64_t live_estimate(struct service_state *ss)
{
    uint64_t now = (uint64_t)time(NULL), n = 0, per = 16 + 8 + 32;   /* record framing */
    uint64_t est = 80 + per + 64 + (idset_count(ss->ids) / STATE_IDS_PER_RECORD + 1) * per + idset_count(ss->ids) * 16;
    size_t i = 0;
    const struct stored_result *r;
    while ((r = result_store_next(ss->results, &i, NULL)))
        est += per + RESULT_FIXED + r->jws_len;
    i = 0;
    while (login_spent_next(ss->spent, &i, now))
        n++;
    est += n * (per + 24);
    for (int b = 0; b < SS_BLOB_COUNT; b++)
        est += ss->blob[b] ? per + ss->blob_len[b] : 0;
    return est;
}

static const char *scope_of(const char *dir)
{
    struct statfs sf;
    if (!dir)
        return "process";
    if (!statfs(dir, &sf) && (unsigned long)sf.f_type == TMPFS_MAGIC_)
        return "boot";
    return "directory";
}

uint64_t service_state_epoch(const struct service_state *ss) { return ss->epoch; }
const char *service_state_scope(const struct service_state *ss) { return ss->scope; }
const char *service_state_broken(const struct service_state *ss) { return ss->broken[0] ? ss->broken : NULL; }
struct idset *service_state_ids(struct service_state *ss) { return ss->ids; }
const struct login_state_keys *service_state_cookie_keys(const struct service_state *ss) { return ss->cookie_keys; }
struct result_store *service_state_results(struct service_state *ss) { return ss->results; }

void service_state_guarantee(const struct service_state *ss, char *out, size_t cap)
{
    char when[32] = "?";
    time_t t = (time_t)ss->epoch;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!strcmp(ss->scope, "sealed-vtpm"))
        snprintf(out, cap, "once per PayPal account since %s, across reboots of this VM: the state is sealed to "
                 "this VM's TPM and image and kept outside the VM, with the TPM's monotonic counter refusing an "
                 "older copy", when);
    else if (!strcmp(ss->scope, "sealed-snp"))
        snprintf(out, cap, "once per PayPal account since %s, across reboots of this VM on the same AMD chip: "
                 "the state is sealed with an SEV-SNP key bound to the image and kept outside the VM; SNP has no "
                 "monotonic counter, so only the object store's version check guards against an older copy", when);
    else if (!strcmp(ss->scope, "boot"))
        snprintf(out, cap, "once per PayPal account since %s, within this boot of the VM (the used-id set is held "
                 "by PID 1 and survives a restart of the service, not a reboot)", when);
    else if (!strcmp(ss->scope, "directory"))
        snprintf(out, cap, "once per PayPal account since %s, as long as this service's state directory is kept", when);
    else
        snprintf(out, cap, "once per PayPal account since %s, within this service process only (no state "
                 "directory: a restart starts a new used-id set)", when);
}

/* A fresh state: new random keys, saved as the first record. */
static int fresh_keys(struct service_state *ss)
{
    uint8_t k[64];
    int rc = RAND_bytes(k, sizeof k) != 1 || set_keys(ss, k, k + 32) ||
             (ss->store && state_store_append(ss->store, R_KEYS, k, sizeof k)) ? -1 : 0;
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

void service_state_set_broken(struct service_state *ss, const char *why)
{
    if (!ss->broken[0])
        set_broken(ss, why);
}

void service_state_set_scope(struct service_state *ss, const char *scope) { ss->scope = scope; }

void service_state_on_change(struct service_state *ss, void (*fn)(void *arg), void *arg)
{
    ss->on_change = fn;
    ss->on_change_arg = arg;
}

static void changed(struct service_state *ss)
{
    if (ss->on_change)
        ss->on_change(ss->on_change_arg);
}

ss_err service_state_check_commit(struct service_state *ss, const struct idset_key *key, size_t jws_len)
{
    if (ss->broken[0])
        return SS_BROKEN;
    if (idset_contains(ss->ids, key))
        return SS_PRESENT;
    if (idset_count(ss->ids) >= idset_capacity(ss->ids) || !result_store_fits(ss->results, jws_len, (uint64_t)time(NULL)) ||
        RESULT_FIXED + jws_len > STATE_RECORD_MAX_BYTES)
        return SS_FULL;
    return SS_OK;
}

int service_state_snapshot(struct service_state *ss, const struct ss_pending *p, size_t n, uint8_t **out, size_t *len)
{
    *out = NULL;
    if (!ss->store || ss->broken[0])
        return -1;
    struct state_extra *ex = calloc(n ? n : 1, sizeof *ex);
    uint8_t **recs = calloc(n ? n : 1, sizeof *recs);
    int rc = -1;
    if (!ex || !recs)
        goto done;
    for (size_t i = 0; i < n; i++) {
        size_t rl = RESULT_FIXED + p[i].jws_len;
        if (!(recs[i] = malloc(rl)))
            goto done;
        put64(recs[i], p[i].created);
        key_put(recs[i] + 8, &p[i].key);
        memcpy(recs[i] + 24, p[i].code, RESULT_CODE_LEN);
        memcpy(recs[i] + 24 + RESULT_CODE_LEN, p[i].secret_hash, 32);
        memcpy(recs[i] + RESULT_FIXED, p[i].jws, p[i].jws_len);
        ex[i] = (struct state_extra){R_RESULT, recs[i], rl};
    }
    rc = state_store_snapshot(ss->store, ex, n, out, len) ? -1 : 0;
done:
    for (size_t i = 0; recs && i < n; i++)
        if (recs[i])
            OPENSSL_clear_free(recs[i], RESULT_FIXED + p[i].jws_len);
    free(recs);
    free(ex);
    return rc;
}

static void set_broken(struct service_state *ss, const char *why)
{
    snprintf(ss->broken, sizeof ss->broken, "%s", why);
    log_error("state.logins_refused", "reason=\"%s\"", why);
}

struct service_state *service_state_open(const char *dir, uint64_t capacity)
{
    struct service_state *ss = calloc(1, sizeof *ss);
    if (!ss)
        return NULL;
    ss->capacity = capacity;
    ss->now = (uint64_t)time(NULL);
    ss->epoch = ss->now;
    ss->scope = scope_of(dir);
    if (!(ss->results = result_store_new()) || !(ss->spent = login_spent_new()) || !(ss->offers = vc_offers_new()))
        goto oom;
    if (dir) {
        state_err e = state_store_open(dir, on_record, ss, STATE_LOCK_WAIT_MS, &ss->store);
        if (e) {
            /* start with throwaway in-memory objects so pages still render; logins stay refused */
            idset_free(ss->ids);
            login_state_keys_free(ss->cookie_keys);
            if (ss->keys)
                OPENSSL_secure_clear_free(ss->keys, 64);
            ss->ids = NULL;
            ss->cookie_keys = NULL;
            ss->keys = NULL;
            ss->have_keys = 0;
            result_store_free(ss->results);
            login_spent_free(ss->spent);
            vc_offers_free(ss->offers);
            ss->results = result_store_new();
            ss->spent = login_spent_new();
            ss->offers = vc_offers_new();
            char why[200];
            snprintf(why, sizeof why, "the saved service state cannot be used (%s), so logins are refused rather "
                     "than started over with an empty used-id set", state_strerror(e));
            set_broken(ss, why);
            if (!ss->results || !ss->spent || !ss->offers || fresh_keys(ss))
                goto oom;
            return ss;
        }
        ss->epoch = state_store_meta(ss->store)->epoch;
    }
    if (ss->have_keys) {
        /* loaded: rewrite compactly when the file is well over what it holds (expired results and
         * states, one-id records); failure is harmless */
        if (state_store_bytes(ss->store) > live_estimate(ss) / 4 * 5 + STATE_COMPACT_MIN_BYTES / 16)
            state_store_rewrite(ss->store, emit_all, ss);
    } else if (fresh_keys(ss)) {
        set_broken(ss, "the service state could not be created, so logins are refused");
        if (!ss->ids || !ss->cookie_keys)
            goto oom;
        return ss;
    }
    log_info("state.ready", "scope=%s epoch=%llu ids=%llu results=%zu", ss->scope, (unsigned long long)ss->epoch,
             (unsigned long long)idset_count(ss->ids), result_store_count(ss->results));
    return ss;
oom:
    service_state_close(ss);
    return NULL;
}

int service_state_save(struct service_state *ss)
{
    if (!ss->store || ss->broken[0])
        return 0;
    return state_store_rewrite(ss->store, emit_all, ss) ? -1 : 0;
}

void service_state_close(struct service_state *ss)
{
    if (!ss)
        return;
    state_store_close(ss->store);
    idset_free(ss->ids);
    login_state_keys_free(ss->cookie_keys);
    result_store_free(ss->results);
    login_spent_free(ss->spent);
    vc_offers_free(ss->offers);
    for (int b = 0; b < SS_BLOB_COUNT; b++)
        if (ss->blob[b])
            OPENSSL_clear_free(ss->blob[b], ss->blob_len[b]);
    if (ss->keys)
        OPENSSL_secure_clear_free(ss->keys, 64);
    free(ss);
}

/* After an append: rewrite when the file is more than twice its compacted size (plus a margin). */
static void maybe_compact(struct service_state *ss)
{
    uint64_t base = state_store_base_bytes(ss->store), now = state_store_bytes(ss->store);
    if (now > 2 * base + STATE_COMPACT_MIN_BYTES)
        state_store_rewrite(ss->store, emit_all, ss);
}

ss_err service_state_spend_login(struct service_state *ss, const struct login_spent_entry *e)
{
    uint64_t now = (uint64_t)time(NULL);
    if (ss->broken[0])
        return SS_BROKEN;
    if (login_spent_contains(ss->spent, e, now))
        return SS_SEEN;
    if (!login_spent_has_room(ss->spent, now))
        return SS_FULL;   /* checked before saving: the file never holds more than a load accepts */
    if (ss->store) {
        uint8_t rec[24];
        memcpy(rec, e->h, 16);
        put64(rec + 16, e->expires);
        if (state_store_append(ss->store, R_SPENT, rec, sizeof rec))
            return SS_SAVE_FAILED;
    }
    login_spent_insert(ss->spent, e, now);   /* room was checked above */
    if (ss->store) {
        maybe_compact(ss);
        changed(ss);
    }
    return SS_OK;
}

ss_err service_state_commit(struct service_state *ss, const struct idset_key *key, const uint8_t secret_hash[32],
                            const char *jws, size_t jws_len, const char code[RESULT_CODE_LEN + 1])
{
    uint64_t now = (uint64_t)time(NULL);
    if (ss->broken[0])
        return SS_BROKEN;
    if (idset_contains(ss->ids, key))
        return SS_PRESENT;
    if (idset_count(ss->ids) >= idset_capacity(ss->ids) || !result_store_fits(ss->results, jws_len, now) ||
        RESULT_FIXED + jws_len > STATE_RECORD_MAX_BYTES)
        return SS_FULL;
    if (result_store_add(ss->results, code, secret_hash, key, now, jws, jws_len))
        return SS_FULL;
    if (ss->store) {
        uint8_t *rec = malloc(RESULT_FIXED + jws_len);
        state_err e = STATE_ERR_NOMEM;
        if (rec) {
            put64(rec, now);
            key_put(rec + 8, key);
            memcpy(rec + 24, code, RESULT_CODE_LEN);
            memcpy(rec + 24 + RESULT_CODE_LEN, secret_hash, 32);
            memcpy(rec + RESULT_FIXED, jws, jws_len);
            e = FAULT("state_commit") ? STATE_ERR_IO : state_store_append(ss->store, R_RESULT, rec, RESULT_FIXED + jws_len);
            OPENSSL_clear_free(rec, RESULT_FIXED + jws_len);
        }
        if (e) {
            result_store_pop_last(ss->results);
            return SS_SAVE_FAILED;
        }
    }
    idset_insert_once(ss->ids, key);   /* cannot fail: absent and under capacity, checked above */
    if (ss->store)
        maybe_compact(ss);
    return SS_OK;
}

ss_err service_state_vc_offer(struct service_state *ss, const struct vc_offer *e)
{
    uint8_t rec[VC_OFFER_REC_LEN];
    if (ss->broken[0])
        return SS_BROKEN;
    if (!vc_offers_can_add(ss->offers, &e->key, (uint64_t)time(NULL)))
        return vc_offers_count(ss->offers) >= VC_OFFERS_MAX ? SS_FULL : SS_PRESENT;
    vc_offer_record(e, rec);
    if (ss->store && (FAULT("vc_offer") || state_store_append(ss->store, VC_REC_OFFER, rec, sizeof rec)))
        return SS_SAVE_FAILED;
    return vc_offers_add(ss->offers, e) ? SS_FULL : SS_OK;   /* room was checked above */
}

ss_err service_state_vc_redeem(struct service_state *ss, const uint8_t code_hash[16], const uint8_t token_hash[16],
                               uint64_t token_expires, struct vc_offer *out)
{
    uint64_t now = (uint64_t)time(NULL);
    if (ss->broken[0])
        return SS_BROKEN;
    struct vc_offer *e = vc_offers_find(ss->offers, code_hash, 0, now);
    if (!e)
        return SS_UNKNOWN;
    if (e->phase != VC_OFFERED)
        return SS_SEEN;
    struct vc_offer next = *e;
    uint8_t rec[VC_REDEEM_REC_LEN];
    memcpy(next.token_hash, token_hash, VC_HASH_LEN);
    next.expires = token_expires;
    next.phase = VC_REDEEMED;
    vc_redeem_record(&next, rec);
    if (ss->store && (FAULT("vc_redeem") || state_store_append(ss->store, VC_REC_REDEEM, rec, sizeof rec)))
        return SS_SAVE_FAILED;
    *e = next;
    *out = next;
    if (ss->store)
        maybe_compact(ss);
    return SS_OK;
}

ss_err service_state_vc_token(struct service_state *ss, const uint8_t token_hash[16], struct vc_offer *out)
{
    struct vc_offer *e = vc_offers_find(ss->offers, token_hash, 1, (uint64_t)time(NULL));
    if (ss->broken[0])
        return SS_BROKEN;
    if (!e)
        return SS_UNKNOWN;
    *out = *e;
    return e->phase == VC_ISSUED ? SS_SEEN : SS_OK;
}

ss_err service_state_vc_issued(struct service_state *ss, const uint8_t token_hash[16])
{
    struct vc_offer *e = vc_offers_find(ss->offers, token_hash, 1, (uint64_t)time(NULL));
    if (ss->broken[0])
        return SS_BROKEN;
    if (!e)
        return SS_UNKNOWN;
    if (e->phase != VC_REDEEMED)
        return SS_SEEN;
    if (ss->store && (FAULT("vc_issued") || state_store_append(ss->store, VC_REC_ISSUED, e->code_hash, VC_HASH_LEN)))
        return SS_SAVE_FAILED;
    e->phase = VC_ISSUED;
    return SS_OK;
}

int service_state_put_blob(struct service_state *ss, enum ss_blob which, const void *p, size_t len)
{
    if (which >= SS_BLOB_COUNT || ss->broken[0])
        return -1;
    if (ss->store && state_store_append(ss->store, which == SS_BLOB_ACME ? R_ACME : R_TLS, p, len))
        return -1;
    int rc = blob_set(ss, which, p, len);
    if (ss->store)
        changed(ss);
    return rc;
}

const uint8_t *service_state_get_blob(const struct service_state *ss, enum ss_blob which, size_t *len)
{
    if (which >= SS_BLOB_COUNT || !ss->blob[which])
        return NULL;
    *len = ss->blob_len[which];
    return ss->blob[which];
}

json_t *service_state_status(struct service_state *ss)
{
    char g[400];
    service_state_guarantee(ss, g, sizeof g);
    return json_pack("{s:s, s:I, s:s, s:b, s:s?, s:I, s:I, s:I, s:I}", "scope", ss->scope,
                     "epoch", (json_int_t)ss->epoch, "guarantee", g, "ok", !ss->broken[0],
                     "refusing_logins_because", ss->broken[0] ? ss->broken : NULL,
                     "results_kept", (json_int_t)result_store_count(ss->results),
                     "results_bytes", (json_int_t)result_store_bytes(ss->results),
                     "file_bytes", (json_int_t)(ss->store ? state_store_bytes(ss->store) : 0),
                     "generation", (json_int_t)(ss->store ? state_store_meta(ss->store)->generation : 0));
}
