/* state_sync: the boot restore, the claim and the batched saves of the sealed state (state_sync.h).
 * Local companions in the state directory (PID 1's tmpfs in the image): sealed.last (the last
 * blob the object store took; its header holds the sealed key material, so a restarted service
 * recovers the key without the network) and sealed.version (that object's ETag/generation). */
#include "login/state_sync.h"
#include "login/cloud/cloud.h"
#include "login/config.h"
#include "login/fault.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/state_remote.h"
#include "login/state_seal.h"
#include "login/state_store.h"
#include "common/file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

struct waiter {
    struct ss_pending p;       /* p.jws owned */
    void (*done)(void *arg, ss_err r);
    void *arg;
    struct waiter *next;
};

struct state_sync {
    struct event_base *base;        /* borrowed */
    struct cloud *cloud;            /* borrowed */
    struct service_state *ss;       /* borrowed after attach */
    const char *dir;                /* borrowed (config) */
    const struct config *cfg;       /* borrowed */
    int candidate;                  /* a sealing device is there: active once a store is configured */
    struct state_seal *seal;        /* owned */
    struct state_remote *remote;    /* owned */
    struct event *timer;            /* owned */
    int active, in_flight, dirty, timer_on, lost;
    int settling;                   /* the graceful stop began (state_sync_settle) */
    uint64_t settle_failures;       /* failures when it began: a failed save at stop is not retried */
    char version[160];              /* object version we own, "" = none yet (create) */
    struct waiter *queue, **tail;   /* waiting for the next save */
    struct waiter *batch;           /* in the save in flight */
    uint8_t *blob;                  /* owned: the blob in flight / last saved */
    srem_err put_err;               /* the last PUT's error, while its outcome is checked */
    uint8_t unsure[32];             /* SHA-256 of a blob whose PUT may or may not have landed */
    int has_unsure;
    size_t blob_len;
    /* boot restore */
    int rdone;
    srem_err rerr;
    uint8_t *rbody;
    size_t rlen;
    /* status */
    uint64_t saves, failures;
    struct timespec flush_start;
    double last_save_ms;
    time_t last_save;
    char last_error[300];
};

static void flush(struct state_sync *s);

static void path_of(const struct state_sync *s, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", s->dir, name);
}

static int write_local(const struct state_sync *s, const char *name, const void *p, size_t n)
{
    char path[4096], tmp[4200];
    path_of(s, name, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, (const uint8_t *)p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int rc = off == n && !fsync(fd) ? 0 : -1;
    close(fd);
    if (rc || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

struct state_sync *state_sync_new(struct event_base *base, struct cloud *cloud, const struct config *cfg)
{
    struct state_sync *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->cloud = cloud;
    s->cfg = cfg;
    s->dir = cfg->state_dir;
    s->tail = &s->queue;
    int local = !cfg->platform || !strcmp(cfg->platform, "none");
    /* the object may still come with the metadata (image: platform auto), not on a local run */
    if (!cfg->state_dir || (local && (!cfg->state_store || !strcmp(cfg->state_store, "none"))) ||
        (cfg->state_store && !strcmp(cfg->state_store, "none")))
        return s;
    if (!(s->seal = state_seal_new(cfg->state_seal, cfg->state_tpm_dev ? cfg->state_tpm_dev : cfg->tpm_dev,
                                   cfg->sev_guest_dev, (uint32_t)cfg->state_seal_pcrs)))
        goto oom;
    if (state_seal_kind_of(s->seal) == STATE_SEAL_NONE) {
        log_warn("state_sync.off", "reason=\"nothing on this machine can seal the state: it stays within this boot\"");
        return s;
    }
    s->candidate = 1;
    return s;
oom:
    state_sync_free(s);
    return NULL;
}

/* The object client, once cfg->state_store is known (it may come with the metadata). */
static int ensure_remote(struct state_sync *s)
{
    if (s->remote)
        return 0;
    if (!s->cfg->state_store)
        return -1;
    if (!(s->remote = state_remote_new(s->cloud, s->cfg->state_store, s->cfg->state_store_base))) {
        log_error("state_sync.bad_store", "reason=\"state_store is not gcs:BUCKET/OBJECT or oci:NAMESPACE/BUCKET/OBJECT\"");
        return -1;
    }
    log_info("state_sync.on", "seal=%s store=\"%s\"", state_seal_scope(s->seal), state_remote_name(s->remote));
    return 0;
}

int state_sync_active(const struct state_sync *s) { return s && s->active; }

static void fail_list(struct waiter *w, ss_err r)
{
    while (w) {
        struct waiter *n = w->next;
        w->done(w->arg, r);
        OPENSSL_clear_free((char *)w->p.jws, w->p.jws_len + 1);
        free(w);
        w = n;
    }
}

void state_sync_free(struct state_sync *s)
{
    if (!s)
        return;
    state_remote_free(s->remote);   /* cancels the call in flight: its batch fails below */
    fail_list(s->batch, SS_SAVE_FAILED);
    fail_list(s->queue, SS_SAVE_FAILED);
    if (s->timer)
        event_free(s->timer);
    state_seal_free(s->seal);
    if (s->blob)
        OPENSSL_clear_free(s->blob, s->blob_len);
    if (s->rbody)
        OPENSSL_clear_free(s->rbody, s->rlen);
    free(s);
}

/* ---- boot ------------------------------------------------------------------------------------ */

static void on_restore_get(void *arg, srem_err e, const uint8_t *body, size_t len, const char *version)
{
    struct state_sync *s = arg;
    s->rerr = e;
    s->rdone = 1;
    if (!e) {
        if ((s->rbody = malloc(len ? len : 1))) {
            memcpy(s->rbody, body, len);
            s->rlen = len;
        }
        snprintf(s->version, sizeof s->version, "%s", version);
    }
}

static int local_exists(const struct state_sync *s, const char *name)
{
    char path[4096];
    struct stat st;
    path_of(s, name, path, sizeof path);
    return !stat(path, &st);
}

static const char *refuse(struct state_sync *s, const char *why)
{
    snprintf(s->last_error, sizeof s->last_error, "%s", why);
    s->lost = 1;
    log_error("state_sync.refusing_logins", "reason=\"%s\"", why);
    return s->last_error;
}

const char *state_sync_restore(struct state_sync *s)
{
    static char why[300];
    if (!s->candidate)
        return NULL;
    char path[4096];
    /* a restart within this boot: the state is here; the key comes from the last blob saved */
    if (local_exists(s, STATE_STORE_FILE) && local_exists(s, "sealed.last")) {
        s->active = 1;
        ensure_remote(s);   /* else at the first save, once the metadata is there */
        uint8_t *b = NULL, *plain = NULL, *ver = NULL;
        size_t bl = 0, pl = 0, vl = 0;
        path_of(s, "sealed.last", path, sizeof path);
        if (file_read_all(path, STATE_REMOTE_MAX_BYTES, 0, &b, &bl))
            return refuse(s, "the last sealed copy of the state in the state directory cannot be read");
        sseal_err e = state_seal_unwrap(s->seal, b, bl, &plain, &pl);
        s->blob = b;
        s->blob_len = bl;
        if (plain)
            OPENSSL_clear_free(plain, pl);
        path_of(s, "sealed.version", path, sizeof path);
        if (!e && !file_read_all(path, sizeof s->version - 1, 0, &ver, &vl)) {
            memcpy(s->version, ver, vl);
            s->version[vl] = 0;
        }
        free(ver);
        if (e) {
            snprintf(why, sizeof why, "the sealed state cannot be opened after a restart: %s", state_seal_strerror(e));
            return refuse(s, why);
        }
        log_info("state_sync.restart", "counter=%llu", (unsigned long long)state_seal_counter(s->seal));
        return NULL;
    }
    /* a boot: the object store has the state (or nothing, for a new lineage); whether there is
     * one is known once the metadata is */
    log_info("state_sync.waiting", "for=\"the instance identity and metadata\"");
    while (!cloud_is_ready(s->cloud))
        if (event_base_loop(s->base, EVLOOP_ONCE) < 0)
            return refuse(s, "the event loop failed while waiting for the instance identity");
    if (!s->cfg->state_store || !strcmp(s->cfg->state_store, "none")) {
        log_warn("state_sync.off", "reason=\"no state_store configured: the state stays within this boot\"");
        return NULL;
    }
    s->active = 1;
    if (ensure_remote(s))
        return refuse(s, "state_store is not gcs:BUCKET/OBJECT or oci:NAMESPACE/BUCKET/OBJECT");
    srem_err ge = FAULT("state_restore") ? SREM_ERR_HTTP : state_remote_get(s->remote, on_restore_get, s);
    if (ge == SREM_OK)
        while (!s->rdone)
            if (event_base_loop(s->base, EVLOOP_ONCE) < 0)
                break;
    if (ge == SREM_OK && !s->rdone)
        ge = SREM_ERR_HTTP;
    else if (ge == SREM_OK)
        ge = s->rerr;
    if (ge == SREM_NOT_FOUND) {
        log_info("state_sync.new_lineage", "store=\"%s\"", state_remote_name(s->remote));
        s->version[0] = 0;
        return NULL;
    }
    if (ge || !s->rbody) {
        snprintf(why, sizeof why, "the sealed state could not be read from the object store (%s); logins stay "
                 "closed rather than start over with an empty used-id set", state_remote_strerror(ge));
        return refuse(s, why);
    }
    uint8_t *plain = NULL;
    size_t pl = 0;
    sseal_err e = state_seal_unwrap(s->seal, s->rbody, s->rlen, &plain, &pl);
    if (e) {
        snprintf(why, sizeof why, "the sealed state in the object store is refused: %s", state_seal_strerror(e));
        return refuse(s, why);
    }
    state_err ie = state_store_install(s->dir, plain, pl);
    OPENSSL_clear_free(plain, pl);
    if (ie)
        return refuse(s, "the restored state could not be written to the state directory");
    s->blob = s->rbody;   /* what the store holds now */
    s->blob_len = s->rlen;
    s->rbody = NULL;
    write_local(s, "sealed.last", s->blob, s->blob_len);
    write_local(s, "sealed.version", s->version, strlen(s->version));
    log_info("state_sync.restored", "counter=%llu bytes=%zu", (unsigned long long)state_seal_counter(s->seal), pl);
    return NULL;
}

/* ---- saves ----------------------------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short ev, void *arg)
{
    struct state_sync *s = arg;
    s->timer_on = 0;
    flush(s);
}

static void schedule(struct state_sync *s, long ms)
{
    if (s->timer_on || s->in_flight || s->lost)
        return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (!s->timer && !(s->timer = evtimer_new(s->base, on_timer, s)))
        return;
    if (!evtimer_add(s->timer, &tv))
        s->timer_on = 1;
}

static void on_change(void *arg)
{
    struct state_sync *s = arg;
    s->dirty = 1;
    schedule(s, STATE_SYNC_BATCH_MS);
}

void state_sync_attach(struct state_sync *s, struct service_state *ss)
{
    if (!s->active)
        return;
    s->ss = ss;
    if (s->lost) {
        service_state_set_broken(ss, s->last_error);
        return;
    }
    service_state_set_scope(ss, state_seal_scope(s->seal));
    service_state_on_change(ss, on_change, s);
    s->dirty = 1;
    schedule(s, 0);   /* the claim */
}

static void lose(struct state_sync *s, const char *why)
{
    s->lost = 1;
    snprintf(s->last_error, sizeof s->last_error, "%s", why);
    service_state_set_broken(s->ss, why);
}

static void batch_done(struct state_sync *s, int ok)
{
    struct waiter *w = s->batch;
    s->batch = NULL;
    s->in_flight = 0;
    if (!ok)
        s->dirty = 1;   /* what that save carried is still not outside: the next one must (retried) */
    while (w) {
        struct waiter *n = w->next;
        ss_err r = s->lost ? SS_BROKEN : SS_SAVE_FAILED;
        if (ok) {
            r = service_state_commit(s->ss, &w->p.key, w->p.secret_hash, w->p.jws, w->p.jws_len, w->p.code);
            if (r)   /* saved outside, not here: keep the id used (never doubled), deliver nothing */
                log_error("state_sync.local_commit_failed", "result=%d", (int)r);
        }
        w->done(w->arg, r);
        OPENSSL_clear_free((char *)w->p.jws, w->p.jws_len + 1);
        free(w);
        w = n;
    }
    if (s->queue)
        schedule(s, 0);
    else if (s->dirty)
        schedule(s, ok ? STATE_SYNC_BATCH_MS : STATE_SYNC_RETRY_MS);
}

static void saved(struct state_sync *s, const char *version)
{
    sseal_err e = state_seal_saved(s->seal);
    if (e) {   /* without the increment an older blob would still open: not delivered */
        s->failures++;
        snprintf(s->last_error, sizeof s->last_error, "%s", state_seal_strerror(e));
        log_error("state_sync.counter_failed", "reason=\"%s\"", state_seal_strerror(e));
        lose(s, "the TPM's monotonic counter could not be advanced, so saves can no longer be protected against rollback");
        batch_done(s, 0);
        return;
    }
    snprintf(s->version, sizeof s->version, "%s", version);
    if (write_local(s, "sealed.last", s->blob, s->blob_len) ||
        write_local(s, "sealed.version", s->version, strlen(s->version)))
        log_warn("state_sync.local_copy_failed", "errno=%d", errno);
    s->saves++;
    s->last_save = time(NULL);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    s->last_save_ms = (double)(now.tv_sec - s->flush_start.tv_sec) * 1e3 + (double)(now.tv_nsec - s->flush_start.tv_nsec) / 1e6;
    size_t nb = 0;
    for (struct waiter *w = s->batch; w; w = w->next)
        nb++;
    log_info("state_sync.saved", "counter=%llu bytes=%zu results=%zu ms=%.1f", (unsigned long long)state_seal_counter(s->seal),
             s->blob_len, nb, s->last_save_ms);
    s->last_error[0] = 0;
    batch_done(s, 1);
}

static void blob_hash(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    if (!EVP_Digest(p, n, out, &l, EVP_sha256(), NULL))
        memset(out, 0, 32);
}

/* Puts the batch back at the head of the queue and saves again (after adopting a landed write). */
static void requeue(struct state_sync *s)
{
    struct waiter **t = &s->batch;
    while (*t)
        t = &(*t)->next;
    *t = s->queue;
    if (!s->queue)
        s->tail = t;
    s->queue = s->batch;
    s->batch = NULL;
    s->in_flight = 0;
    s->dirty = 1;
    schedule(s, 0);
}

/* After a PUT refused by its precondition (412) or whose answer never came: what does the
 * object hold now? s->put_err is the PUT's error. */
static void on_check_get(void *arg, srem_err e, const uint8_t *body, size_t len, const char *version)
{
    struct state_sync *s = arg;
    srem_err put_err = s->put_err;
    uint8_t h[32];
    if (!e)
        blob_hash(body, len, h);
    if (!e && len == s->blob_len && !CRYPTO_memcmp(body, s->blob, len)) {
        /* the PUT whose answer was lost landed */
        log_info("state_sync.own_write_found", "version=%s", version);
        s->has_unsure = 0;
        saved(s, version);
        return;
    }
    if (!e && s->has_unsure && !CRYPTO_memcmp(h, s->unsure, 32)) {
        /* an earlier PUT whose outcome was unknown landed after all: it is ours; its counter is the
         * NV value + 1, so advance the counter, take its version, and save this batch again */
        log_info("state_sync.earlier_write_found", "version=%s", version);
        s->has_unsure = 0;
        if (state_seal_saved(s->seal)) {
            lose(s, "the TPM's monotonic counter could not be advanced, so saves can no longer be protected against rollback");
            batch_done(s, 0);
            return;
        }
        snprintf(s->version, sizeof s->version, "%s", version);
        requeue(s);
        return;
    }
    if (!e && put_err != SREM_PRECONDITION && !strcmp(version, s->version)) {
        /* unchanged: the PUT did not land; a plain failure, nothing was used */
        s->failures++;
        snprintf(s->last_error, sizeof s->last_error, "%s", state_remote_strerror(put_err));
        batch_done(s, 0);
        return;
    }
    if ((e && e != SREM_NOT_FOUND) || (e == SREM_NOT_FOUND && put_err != SREM_PRECONDITION && !s->version[0])) {
        /* cannot tell whether the PUT landed (or, creating, it plainly did not): the batch fails (its
         * visitors may retry); if it did land, the next save's 412 finds it by this hash */
        if (e) {
            blob_hash(s->blob, s->blob_len, s->unsure);
            s->has_unsure = 1;
        }
        s->failures++;
        snprintf(s->last_error, sizeof s->last_error, "%s", state_remote_strerror(put_err));
        batch_done(s, 0);
        return;
    }
    s->failures++;
    log_error("state_sync.ownership_lost", "store=\"%s\"", state_remote_name(s->remote));
    lose(s, "another instance of the service wrote the shared state after this one read it, so this instance no "
            "longer owns it and refuses logins (two VMs must never hand out results from the same state)");
    batch_done(s, 0);
}

static void on_put(void *arg, srem_err e, const char *version)
{
    struct state_sync *s = arg;
    if (!e) {
        s->has_unsure = 0;
        saved(s, version);
        return;
    }
    s->put_err = e;
    if (state_remote_get(s->remote, on_check_get, s) != SREM_OK)
        on_check_get(s, SREM_ERR_HTTP, NULL, 0, NULL);
}

static void flush(struct state_sync *s)
{
    if (s->in_flight || s->lost || !s->ss || (!s->queue && !s->dirty) || service_state_broken(s->ss))
        return;   /* a broken state is never saved over the good copy outside */
    if (ensure_remote(s)) {
        s->failures++;
        snprintf(s->last_error, sizeof s->last_error, "no object store is configured yet");
        s->in_flight = 1;
        s->batch = s->queue;
        s->queue = NULL;
        s->tail = &s->queue;
        batch_done(s, 0);
        return;
    }
    size_t n = 0;
    for (struct waiter *w = s->queue; w; w = w->next)
        n++;
    struct ss_pending *p = calloc(n ? n : 1, sizeof *p);
    uint8_t *plain = NULL, *blob = NULL;
    size_t pl = 0, bl = 0;
    n = 0;
    for (struct waiter *w = s->queue; p && w; w = w->next)
        p[n++] = w->p;
    /* the batch leaves the queue now: what arrives meanwhile goes in the next save */
    s->batch = s->queue;
    s->queue = NULL;
    s->tail = &s->queue;
    s->dirty = 0;
    s->in_flight = 1;
    clock_gettime(CLOCK_MONOTONIC, &s->flush_start);
    int rc = !p || service_state_snapshot(s->ss, p, n, &plain, &pl);
    free(p);
    sseal_err se = SSEAL_ERR_NOMEM;
    if (!rc) {
        se = state_seal_wrap(s->seal, plain, pl, &blob, &bl);
        OPENSSL_clear_free(plain, pl);
    }
    if (rc || se) {
        snprintf(s->last_error, sizeof s->last_error, "%s", rc ? "the state could not be read for saving"
                                                                : state_seal_strerror(se));
        log_error("state_sync.seal_failed", "reason=\"%s\"", s->last_error);
        s->failures++;
        s->dirty = 1;
        batch_done(s, 0);
        return;
    }
    if (s->blob)
        OPENSSL_clear_free(s->blob, s->blob_len);
    s->blob = blob;
    s->blob_len = bl;
    srem_err e = FAULT("state_save") ? SREM_ERR_HTTP
                 : state_remote_put(s->remote, blob, bl, s->version[0] ? s->version : NULL, on_put, s);
    if (e) {
        s->failures++;
        snprintf(s->last_error, sizeof s->last_error, "%s", state_remote_strerror(e));
        log_warn("state_sync.save_not_started", "reason=\"%s\"", s->last_error);
        s->dirty = 1;
        batch_done(s, 0);
    }
}

ss_err state_sync_commit(struct state_sync *s, const struct ss_pending *p, void (*done)(void *arg, ss_err r), void *arg)
{
    if (s->lost)
        return SS_BROKEN;
    ss_err r = service_state_check_commit(s->ss, &p->key, p->jws_len);
    if (r)
        return r;
    struct waiter *w = calloc(1, sizeof *w);
    char *j = malloc(p->jws_len + 1);
    if (!w || !j) {
        free(w);
        free(j);
        return SS_FULL;
    }
    memcpy(j, p->jws, p->jws_len);
    j[p->jws_len] = 0;
    w->p = *p;
    w->p.jws = j;
    w->done = done;
    w->arg = arg;
    *s->tail = w;
    s->tail = &w->next;
    if (!s->in_flight) {   /* a short gather: results arriving together share a save (sooner than a
                            * background save of other changes that may be waiting) */
        struct timeval tv = {0, 20 * 1000};
        if (!s->timer && !(s->timer = evtimer_new(s->base, on_timer, s)))
            return SS_OK;   /* saved with the next change; cannot happen short of memory */
        if (!evtimer_add(s->timer, &tv))
            s->timer_on = 1;
    }
    return SS_OK;
}

enum sync_settle state_sync_settle(struct state_sync *s)
{
    if (!s || !s->active || !s->ss)
        return SYNC_SETTLED;   /* nothing to save */
    if (s->lost || service_state_broken(s->ss))
        return SYNC_REFUSED;   /* nothing that may be saved */
    if (!s->settling) {
        s->settling = 1;
        s->settle_failures = s->failures;
    }
    if (s->in_flight)
        return SYNC_SAVING;
    if (!s->queue && !s->dirty)
        return SYNC_SETTLED;
    if (s->failures > s->settle_failures)
        return SYNC_UNSAVED;   /* one attempt at stop: a store that is down is not hammered until SIGKILL */
    if (s->timer_on) {         /* the batch delay (or a retry's back-off) would outlive the process */
        evtimer_del(s->timer);
        s->timer_on = 0;
    }
    flush(s);
    return s->in_flight ? SYNC_SAVING : s->dirty || s->queue ? SYNC_UNSAVED : SYNC_SETTLED;
}

json_t *state_sync_status(struct state_sync *s)
{
    if (!s->active || !s->remote)
        return json_pack("{s:b}", "sealed", 0);
    return json_pack("{s:b, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:f, s:s?}", "sealed", 1, "seal", state_seal_scope(s->seal),
                     "store", state_remote_name(s->remote), "owner", !s->lost, "counter",
                     (json_int_t)state_seal_counter(s->seal), "saves", (json_int_t)s->saves, "failures",
                     (json_int_t)s->failures, "last_save", (json_int_t)s->last_save, "last_save_ms", s->last_save_ms,
                     "last_error",
                     s->last_error[0] ? s->last_error : NULL);
}
