/* attest: provider detection, the evidence worker thread and its bounded queue, per-request
 * deadlines, and the "none" evidence when no hardware provider exists. Completions cross back to
 * the event loop through a pipe, so libevent needs no thread support. */
#include "login/attest.h"
#include "login/evidence.h"
#include "common/trust.h"
#include "login/attest/attest_util.h"
#include "login/config.h"
#include "login/fault.h"
#include "login/limits.h"
#include "login/log.h"
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROVIDERS 8

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_ABANDONED };

struct job {
    uint8_t report_data[64];
    attest_done_fn cb;
    void *arg;
    enum job_state state;        /* guarded by attest.mu */
    json_t *evidence;            /* result, owned until delivered */
    attest_err err;
    char why[160];
    struct event *deadline;      /* owned, loop thread only */
    struct attest *a;
    struct timespec queued;
    struct job *next;            /* queue or done list */
};

struct attest {
    struct event_base *base;     /* borrowed */
    const struct attest_provider *prov[MAX_PROVIDERS];
    void *state[MAX_PROVIDERS];
    struct attest_util_stats pstats[MAX_PROVIDERS];   /* each provider's cost, timed here once */
    int nprov;
    char kind[64];
    char none_reason[256];
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *queue_head, *queue_tail, *done;  /* guarded by mu */
    unsigned queued;
    int stopping;
    int pipefd[2];
    struct event *wake;          /* owned */
    /* stats, loop thread only */
    uint64_t served, failed;
    double last_ms, total_ms;
};

static double ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

static json_t *none_evidence(const struct attest *a)
{
    return json_pack("[{s:s, s:s}]", "type", "none", "reason", a->none_reason);
}

/* Worker thread: runs every provider for each job, in order. */
static void *worker(void *arg)
{
    struct attest *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->queue_head && !a->stopping)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->stopping)
            break;
        struct job *j = a->queue_head;
        a->queue_head = j->next;
        if (!a->queue_head)
            a->queue_tail = NULL;
        a->queued--;
        int abandoned = j->state == JOB_ABANDONED;
        if (!abandoned)
            j->state = JOB_RUNNING;
        pthread_mutex_unlock(&a->mu);

        json_t *ev = NULL;
        attest_err err = ATTEST_OK;
        char why[160] = "";
        if (!abandoned && FAULT("attest_slow"))
            sleep(ATTEST_TIMEOUT_MS / 1000 + 2);
        if (!abandoned && FAULT("attest_fail")) {
            err = ATTEST_ERR_PROVIDER;
            snprintf(why, sizeof why, "injected failure");
        } else if (!abandoned) {
            if (a->nprov == 0) {
                ev = none_evidence(a);
                if (!ev) err = ATTEST_ERR_NOMEM;
            } else {
                ev = json_array();
                for (int i = 0; ev && i < a->nprov; i++) {
                    json_t *one = NULL;
                    double t0 = attest_util_now_ms();
                    int prc = a->prov[i]->evidence(a->state[i], j->report_data, &one, why, sizeof why);
                    attest_util_stats_add(&a->pstats[i], prc == 0 && one, attest_util_now_ms() - t0, why);
                    if (prc || !one) {
                        err = ATTEST_ERR_PROVIDER;
                        if (!why[0]) snprintf(why, sizeof why, "%s provider failed", a->prov[i]->type);
                        json_decref(one);
                        break;
                    }
                    json_array_append_new(ev, one);
                }
                if (!ev) err = ATTEST_ERR_NOMEM;
                if (err) {
                    json_decref(ev);
                    ev = NULL;
                }
            }
        }
        pthread_mutex_lock(&a->mu);
        j->evidence = ev;
        j->err = err;
        memcpy(j->why, why, sizeof why);
        if (j->state != JOB_ABANDONED)
            j->state = JOB_DONE;
        j->next = a->done;
        a->done = j;
        pthread_mutex_unlock(&a->mu);
        ssize_t w = write(a->pipefd[1], "x", 1);
        (void)w;
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void job_free(struct job *j)
{
    if (j->deadline)
        event_free(j->deadline);
    json_decref(j->evidence);
    free(j);
}

/* Loop thread: delivers finished jobs. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct attest *a = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&a->mu);
    struct job *done = a->done;
    a->done = NULL;
    pthread_mutex_unlock(&a->mu);
    while (done) {
        struct job *j = done;
        done = j->next;
        if (j->state == JOB_ABANDONED) {   /* its caller already got ATTEST_ERR_TIMEOUT */
            job_free(j);
            continue;
        }
        double ms = ms_since(&j->queued);
        a->last_ms = ms;
        a->total_ms += ms;
        if (j->err) {
            a->failed++;
            log_warn("attest.failed", "kind=%s ms=%.1f reason=\"%s\"", a->kind, ms, j->why);
        } else {
            a->served++;
        }
        json_t *ev = j->evidence;
        j->evidence = NULL;
        j->cb(j->arg, ev, j->err, j->err ? j->why : NULL);
        job_free(j);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    struct attest *a = j->a;
    pthread_mutex_lock(&a->mu);
    int deliver = j->state == JOB_QUEUED || j->state == JOB_RUNNING;
    if (deliver)
        j->state = JOB_ABANDONED;   /* the worker (or on_wake) frees it later */
    pthread_mutex_unlock(&a->mu);
    if (deliver) {
        a->failed++;
        log_warn("attest.timeout", "kind=%s limit_ms=%d", a->kind, ATTEST_TIMEOUT_MS);
        j->cb(j->arg, NULL, ATTEST_ERR_TIMEOUT, "the hardware did not produce evidence in time");
    }
}

struct attest *attest_new(struct event_base *base, const struct config *cfg)
{
    struct attest *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->base = base;
    a->pipefd[0] = a->pipefd[1] = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    size_t kl = 0;
    for (int i = 0; attest_providers[i] && a->nprov < MAX_PROVIDERS; i++) {
        void *st = NULL;
        int r = attest_providers[i]->probe(cfg, &st);
        if (r < 0)
            log_warn("attest.probe_failed", "provider=%s", attest_providers[i]->type);
        if (r != 1)
            continue;
        a->prov[a->nprov] = attest_providers[i];
        attest_util_stats_init(&a->pstats[a->nprov]);
        a->state[a->nprov++] = st;
        kl += (size_t)snprintf(a->kind + kl, sizeof a->kind - kl, "%s%s", kl ? "+" : "", attest_providers[i]->type);
        if (kl >= sizeof a->kind) kl = sizeof a->kind - 1;
    }
    if (!a->nprov) {
        snprintf(a->kind, sizeof a->kind, "none");
        snprintf(a->none_reason, sizeof a->none_reason,
                 "no hardware attestation on this platform (no SEV-SNP or TDX report interface at %s or %s, "
                 "no TPM at %s): this result is signed but not hardware-attested",
                 cfg->tsm_report_dir, cfg->sev_guest_dev, cfg->tpm_dev);
    }
    if (pipe2(a->pipefd, O_NONBLOCK | O_CLOEXEC) ||
        !(a->wake = event_new(base, a->pipefd[0], EV_READ | EV_PERSIST, on_wake, a)) ||
        event_add(a->wake, NULL) || pthread_create(&a->thread, NULL, worker, a)) {
        attest_free(a);
        return NULL;
    }
    a->thread_started = 1;
    log_info("attest.ready", "kind=%s", a->kind);
    return a;
}

void attest_free(struct attest *a)
{
    if (!a)
        return;
    if (a->thread_started) {
        pthread_mutex_lock(&a->mu);
        a->stopping = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        /* A provider stuck in the hardware must not hang shutdown: wait a bounded time, then
         * leave the thread (and the provider state it may still use) to process exit. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ATTEST_SHUTDOWN_WAIT_S;
        if (pthread_timedjoin_np(a->thread, NULL, &until)) {
            log_warn("attest.shutdown_timeout", "wait_s=%d", ATTEST_SHUTDOWN_WAIT_S);
            pthread_detach(a->thread);
            return;
        }
    }
    while (a->queue_head) {
        struct job *j = a->queue_head;
        a->queue_head = j->next;
        job_free(j);
    }
    while (a->done) {
        struct job *j = a->done;
        a->done = j->next;
        job_free(j);
    }
    for (int i = 0; i < a->nprov; i++)
        if (a->prov[i]->free)
            a->prov[i]->free(a->state[i]);
    if (a->wake)
        event_free(a->wake);
    if (a->pipefd[0] >= 0) close(a->pipefd[0]);
    if (a->pipefd[1] >= 0) close(a->pipefd[1]);
    for (int i = 0; i < a->nprov; i++)
        pthread_mutex_destroy(&a->pstats[i].mu);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

const char *attest_kind(const struct attest *a) { return a->kind; }

json_t *attest_status(const struct attest *a)
{
    json_t *prov = json_array();
    for (int i = 0; i < a->nprov; i++) {
        json_t *p = a->prov[i]->status ? a->prov[i]->status(a->state[i]) : NULL;
        if (!p)
            p = json_pack("{s:s}", "type", a->prov[i]->type);
        if (p)
            attest_util_stats_json((struct attest_util_stats *)&a->pstats[i], p);
        json_array_append_new(prov, p);
    }
    pthread_mutex_t *mu = (pthread_mutex_t *)&a->mu;
    pthread_mutex_lock(mu);
    unsigned q = a->queued;
    pthread_mutex_unlock(mu);
    return json_pack("{s:s, s:b, s:o, s:i, s:I, s:I, s:f, s:f}", "kind", a->kind, "hardware_attested",
                     a->nprov > 0, "providers", prov, "queue", (int)q, "served", (json_int_t)a->served,
                     "failed", (json_int_t)a->failed, "last_ms", a->last_ms,
                     "mean_ms", a->served ? a->total_ms / (double)a->served : 0.0);
}

attest_err attest_request(struct attest *a, const uint8_t report_data[64], attest_done_fn cb, void *arg)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return ATTEST_ERR_NOMEM;
    memcpy(j->report_data, report_data, 64);
    j->cb = cb;
    j->arg = arg;
    j->a = a;
    clock_gettime(CLOCK_MONOTONIC, &j->queued);
    j->deadline = evtimer_new(a->base, on_deadline, j);
    if (!j->deadline) {
        free(j);
        return ATTEST_ERR_NOMEM;
    }
    pthread_mutex_lock(&a->mu);
    if (a->queued >= ATTEST_QUEUE_MAX) {
        pthread_mutex_unlock(&a->mu);
        job_free(j);
        return ATTEST_ERR_BUSY;
    }
    struct timeval tv = {ATTEST_TIMEOUT_MS / 1000, (ATTEST_TIMEOUT_MS % 1000) * 1000};
    evtimer_add(j->deadline, &tv);
    if (a->queue_tail)
        a->queue_tail->next = j;
    else
        a->queue_head = j;
    a->queue_tail = j;
    a->queued++;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return ATTEST_OK;
}

int attest_expected_trust(const struct attest *a, const char *platform, char *out, size_t cap)
{
    trust_item items[TRUST_MAX_ITEMS];
    size_t n = 0;
    for (int i = 0; i < a->nprov && n < TRUST_MAX_ITEMS; i++) {
        json_t *st = a->prov[i]->status ? a->prov[i]->status(a->state[i]) : NULL;
        int rooted = json_is_string(json_object_get(st, "ak_root"));
        items[n++] = evidence_trust_item(a->prov[i]->type, rooted, platform);
        json_decref(st);
    }
    if (n == 0)
        items[n++] = TRUST_NONE;
    return trust_join(items, n, out, cap);
}
