/* sealed-login: the service process. Reads the configuration, creates the service objects in
 * dependency order, listens, runs the event loop until SIGTERM/SIGINT, and tears down in reverse.
 * PID-1 duties (mounts, restarts) are not here: in the sealed image an init starts this. */
#include "login/app.h"
#include "login/acme/acme.h"
#include "login/attest.h"
#include "login/cloud/cloud.h"
#include "login/cloud/egress_guard.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/http_server.h"
#include "login/idset.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/service_state.h"
#include "login/state_sync.h"
#include "login/signer.h"
#include "login/tls.h"
#include <event2/event.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

static void usage(FILE *f)
{
    fputs("usage: sealed-login [--config FILE] [--check-config]\n"
          "Serves the sealed-login website. Settings come from compiled defaults, FILE (key = value),\n"
          "then environment variables (PAYPAL_CLIENT_ID, PAYPAL_SECRET, PAYPAL_ENV, SEALED_SIGNING_KEY,\n"
          "SEALED_DOMAIN, SEALED_HTTPS_PORT, ...; see docs/configuration.md).\n", f);
}

/* Graceful stop: no new connections or logins; logins in flight finish (at most STOP_DRAIN_MS);
 * with a sealed state, the changes since the last save go outside the VM (at most STOP_SAVE_MS:
 * otherwise a reboot would come back to an older state, and a save cancelled mid-way would make
 * the next start see a version it did not write); the pages get a moment to flush, then the loop
 * ends and main saves the local state. */
struct stop_ctx {
    struct event_base *base;
    struct app *app;
    struct http_server *srv;
    struct state_sync *sync;   /* borrowed; NULL without a sealed state */
    struct event *tick;        /* owned */
    long long deadline_ms;
    long long save_start_ms, save_deadline_ms;   /* 0 until the logins are done */
    int flushing;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
    struct stop_ctx *st = arg;
    unsigned left = app_drain(st->app);
    if (st->flushing || (left && mono_ms() < st->deadline_ms)) {
        if (st->flushing)
            event_base_loopexit(st->base, NULL);
        return;
    }
    if (left && !st->save_deadline_ms)
        log_warn("service.drain_timeout", "logins_in_progress=%u", left);
    long long now = mono_ms();
    if (!st->save_deadline_ms) {
        st->save_start_ms = now;
        st->save_deadline_ms = now + STOP_SAVE_MS;
    }
    enum sync_settle ss = state_sync_settle(st->sync);
    if (ss == SYNC_SAVING && now < st->save_deadline_ms)
        return;   /* a result still waiting for this save is delivered by it, or fails with it */
    if (ss == SYNC_SETTLED && state_sync_active(st->sync))
        log_info("state_sync.final_save", "result=saved ms=%lld", now - st->save_start_ms);
    else if (ss == SYNC_REFUSED)   /* the saved copy stays as it was: this process never owned it */
        log_warn("state_sync.final_save", "result=skipped reason=\"the state is refused or owned elsewhere\"");
    else if (ss != SYNC_SETTLED)   /* what changed since the last save is only in this boot's copy */
        log_error("state_sync.final_save", "result=%s ms=%lld", ss == SYNC_SAVING ? "timeout" : "failed",
                  now - st->save_start_ms);
    st->flushing = 1;   /* one more tick for the last pages to leave */
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct stop_ctx *st = arg;
    log_info("service.stopping", "signal=%d logins_in_progress=%u", (int)sig, app_drain(st->app));
    if (st->tick)
        return;   /* a second signal while draining: keep draining (PID 1 escalates to SIGKILL) */
    http_server_stop_listening(st->srv);
    st->deadline_ms = mono_ms() + STOP_DRAIN_MS;
    struct timeval tv = {0, 200000};
    if (!(st->tick = event_new(st->base, -1, EV_PERSIST, on_stop_tick, st)) || event_add(st->tick, &tv))
        event_base_loopexit(st->base, NULL);
}

/* Cloud boot flow (login/cloud): the secrets, and on a cloud the domain, are in the config once it
 * is ready; ACME can only start then. */
struct cloud_ctx {
    struct config *cfg;
    struct app *app;
    struct cloud *cloud;
    struct signer **signer;
    struct event_base *base;
    struct http_client *hc;
    struct tls *tls;
    struct acme **acme;
    struct service_state *state; /* ACME account, ledger and certificate outlive the process */
    char start_domain[256];     /* cfg->domain when the service started */
    char served_domain[256];    /* the saved certificate served before the domain was known, or "" */
    int acme_held;              /* ACME kept off because the state is refused (logged once) */
};

static json_t *cloud_status_hook(void *arg) { return cloud_status(arg); }
static json_t *egress_status_hook(void *arg) { return egress_guard_status(arg); }
static void on_egress_cap(void *app)
{
    app_set_unavailable_reason(app, "this month's network egress reached the operator's cap; the VM is stopping");
}

/* ACME's hooks: login opens with the first certificate; every certificate and every failed
 * attempt becomes a notification. */
static void on_acme_installed(void *arg)
{
    struct cloud_ctx *cc = arg;
    char body[512], until[32] = "?";
    struct tm tm;
    time_t na = tls_not_after(cc->tls);
    app_set_certificate_pending(cc->app, NULL);
    if (na && gmtime_r(&na, &tm))
        strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof body, "A certificate for %s was installed; valid until %s.", cc->cfg->domain_host, until);
    cloud_notify(cc->cloud, "certificate issued", body);
}

static void on_acme_failed(void *arg, const char *domain, const char *error)
{
    struct cloud_ctx *cc = arg;
    char body[512];
    snprintf(body, sizeof body, "Obtaining a certificate for %s failed: %s", domain, error);
    cloud_notify(cc->cloud, "certificate failing", body);
}

/* ACME changed something worth keeping (account, certificate, ledger): into the saved state. */
static void on_acme_persist(void *arg)
{
    struct cloud_ctx *cc = arg;
    size_t len = 0;
    char *blob = *cc->acme ? acme_export(*cc->acme, &len) : NULL;
    if (!blob || service_state_put_blob(cc->state, SS_BLOB_ACME, blob, len))
        log_error("service.acme_state", "reason=\"ACME state not saved: a restart may create a new account or order\"");
    if (blob)
        OPENSSL_clear_free(blob, len);
}

/* Creates the ACME client for cfg->domain (when an ACME directory is configured) and, when start is
 * set, starts it. 0, or -1 when it cannot run. */
/* 1 if host is a name a public CA can validate: not localhost, not an IP literal, has a dot. */
static int acme_public_name(const char *host)
{
    size_t n = strlen(host);
    int letters = 0;
    for (size_t i = 0; i < n; i++)
        letters |= (host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') || host[i] == '-';
    return letters && strchr(host, '.') && strcasecmp(host, "localhost") &&
           !(n >= 10 && !strcasecmp(host + n - 10, ".localhost"));
}

static int acme_begin(struct cloud_ctx *cc, int start)
{
    if (!cc->cfg->acme_directory || *cc->acme)
        return 0;
    const char *host = cc->cfg->domain_host;
    if (!acme_public_name(host)) {
        /* Asking a CA for "localhost" only burns its failed-validation limit. */
        log_error("service.acme", "reason=\"no public domain name configured (metadata key domain)\" domain=%s", host);
        app_set_certificate_pending(cc->app, "no public domain name is configured, so the site has no certificate");
        return 0;
    }
    if (service_state_broken(cc->state)) {
        /* The ACME account, certificate and ledger live in the refused state: ordering now would
         * spend an account and a certificate on every boot or restart of a refused state. */
        if (!cc->acme_held)
            log_error("service.acme", "reason=\"the state that holds the ACME account and ledger is refused\"");
        cc->acme_held = 1;
        app_set_certificate_pending(cc->app, "the state that holds the site's certificate and ACME account is "
                                             "refused, so the site keeps a self-signed certificate");
        return 0;
    }
    if (!cc->cfg->http_port || !(*cc->acme = acme_new(cc->base, cc->hc, cc->tls, cc->cfg))) {
        log_error("service.start_failed", "reason=\"ACME needs http_port and a domain\"");
        return -1;
    }
    app_set_acme_responder(cc->app, acme_http01_responder, *cc->acme);
    app_add_status(cc->app, "acme", acme_status_hook, *cc->acme);
    size_t bl = 0;
    const uint8_t *saved = service_state_get_blob(cc->state, SS_BLOB_ACME, &bl);
    int restored = saved ? acme_restore(*cc->acme, (const char *)saved, bl) : 0;
    acme_set_persist_hook(*cc->acme, on_acme_persist, cc);
    if (restored != 1)   /* a saved certificate serves at once */
        app_set_certificate_pending(cc->app, "the site is starting: its certificate is being obtained");
    acme_set_installed_hook(*cc->acme, on_acme_installed, cc);
    acme_set_failed_hook(*cc->acme, on_acme_failed, cc);
    return start && acme_start(*cc->acme) != ACME_OK ? -1 : 0;
}

/* cloud_start runs before the app exists (the sealed state is restored first): its ready call
 * goes through here to on_cloud_ready once that is set. */
struct ready_tramp {
    void (*fn)(void *arg);
    void *arg;
    int fired;
    struct event *now;
};
static void ready_tramp(void *arg)
{
    struct ready_tramp *t = arg;
    t->fired = 1;
    if (t->fn)
        t->fn(t->arg);
}
static void tramp_fire(evutil_socket_t fd, short ev, void *arg)
{
    struct ready_tramp *t = arg;
    t->fn(t->arg);
}

static void on_cloud_ready(void *arg)
{
    struct cloud_ctx *cc = arg;
    char err[256];
    app_set_platform(cc->app, cloud_platform_name(cloud_get_platform(cc->cloud)));
    if (strcmp(cc->start_domain, cc->cfg->domain)) {   /* the domain came with the metadata */
        /* iss and redirect_uri follow cfg->domain by themselves; the self-signed certificate not,
         * unless the saved certificate served since the start is for this very domain (ACME below
         * takes it over from the saved state) */
        if (strcasecmp(cc->served_domain, cc->cfg->domain_host) &&
            tls_install_self_signed(cc->tls, cc->cfg->domain_host, cc->cfg->acme_directory ? 1 : 30)) {
            log_error("service.domain", "reason=\"cannot switch to the metadata's domain\"");
            app_set_unavailable_reason(cc->app, "the service could not switch to its domain");
            return;
        }
        log_info("service.domain", "source=metadata domain=%s", cc->cfg->domain);
    }
    if (cc->cfg->acme_directory && !*cc->acme && acme_begin(cc, 1))   /* ACME waited for the domain */
        log_error("service.acme", "reason=\"cannot start ACME for the metadata's domain\"");
    if (cc->cfg->signing_key_pem) {   /* fetched from the secret store: replaces the per-boot key */
        struct signer *s = signer_from_pem(cc->cfg->signing_key_pem, strlen(cc->cfg->signing_key_pem), err, sizeof err);
        config_set_str(&cc->cfg->signing_key_pem, NULL);
        if (!s) {
            log_error("service.signing_key", "source=secret-store reason=\"%s\"", err);
            /* login stays unavailable: results must not be signed by a key nobody expects */
            app_set_unavailable_reason(cc->app, "the signing key from the secret store is unusable");
            return;
        }
        signer_free(app_replace_signer(cc->app, s));
        *cc->signer = s;
        log_info("service.signing_key", "source=secret-store kid=%s", signer_kid(s));
    }
    app_set_unavailable_reason(cc->app, NULL);
}

/* Raises the descriptor limit to its hard maximum and returns how many visitor connections fit
 * beside LIMIT_FD_RESERVE descriptors for PayPal, ACME, the cloud and the listeners. */
static unsigned connection_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 64;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned budget = rl.rlim_cur > LIMIT_FD_RESERVE + 64 ? (unsigned)(rl.rlim_cur - LIMIT_FD_RESERVE) : 64;
    log_info("service.fd_budget", "nofile=%llu connections=%u", (unsigned long long)rl.rlim_cur,
             budget < LIMIT_CONNECTIONS_TOTAL ? budget : LIMIT_CONNECTIONS_TOTAL);
    return budget;
}

/* libevent's own warnings go through our log, one line each. */
static void libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_WARN)
        log_warn("libevent", "msg=\"%s\"", msg);
}

int main(int argc, char **argv)
{
    const char *config_path = getenv("SEALED_CONFIG");
    int check_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--check-config"))
            check_only = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    event_set_log_callback(libevent_log);

    struct config cfg;
    char err[512] = "";
    if (config_defaults(&cfg) || (config_path && config_load_file(&cfg, config_path, err, sizeof err)) ||
        config_load_env(&cfg, err, sizeof err) || config_finish(&cfg, err, sizeof err) ||
        config_load_cmdline(&cfg)) {
        fprintf(stderr, "sealed-login: configuration: %s\n", err[0] ? err : "out of memory");
        config_clear(&cfg);
        return 2;
    }
    if (check_only) {
        printf("configuration ok\n");
        config_clear(&cfg);
        return 0;
    }

    int rc = 1;
    struct event_base *base = NULL;
    struct signer *signer = NULL;
    struct tls *tls = NULL;
    struct idset *ids = NULL;      /* borrowed from state */
    struct service_state *state = NULL;
    struct stop_ctx stop = {0};
    struct http_client *hc = NULL;
    struct attest *att = NULL;
    struct http_server *srv = NULL;
    struct app *app = NULL;
    struct acme *acme = NULL;
    struct cloud *cloud = NULL;
    struct egress_guard *guard = NULL;
    struct cloud_ctx cc = {0};
    struct state_sync *sync = NULL;
    struct ready_tramp tramp = {0};
    struct event *sigterm = NULL, *sigint = NULL;

    if (cfg.signing_key_pem) {
        signer = signer_from_pem(cfg.signing_key_pem, strlen(cfg.signing_key_pem), err, sizeof err);
        config_set_str(&cfg.signing_key_pem, NULL);   /* wipes the PEM: only signer.c keeps the key */
        if (!signer) {
            log_error("service.signing_key", "reason=\"%s\"", err);
            goto out;
        }
    } else {
        signer = signer_ephemeral();
        log_warn("service.signing_key", "source=per-boot reason=\"SEALED_SIGNING_KEY not set\"");
    }
    /* the cloud starts first: a sealed state outside the VM is read with the instance's identity
     * before the state is opened (state_sync_restore runs the loop until then) */
    if (!signer || !(tls = tls_new()) || tls_install_self_signed(tls, cfg.domain_host, cfg.acme_directory ? 1 : 30) ||
        !(base = http_server_event_base_new()) || !(hc = http_client_new(base)) ||
        !(cloud = cloud_new(base, hc, &cfg)) || cloud_start(cloud, ready_tramp, &tramp) ||
        !(sync = state_sync_new(base, cloud, &cfg))) {
        log_error("service.start_failed", "reason=\"cannot create service objects\"");
        goto out;
    }
    const char *refuse = state_sync_restore(sync);
    if (!(state = service_state_open(refuse ? NULL : cfg.state_dir, cfg.idset_capacity)) ||
        !(att = attest_new(base, &cfg)) || !(srv = http_server_new(base))) {
        log_error("service.start_failed", "reason=\"cannot create service objects\"");
        goto out;
    }
    if (refuse)
        service_state_set_broken(state, refuse);
    state_sync_attach(sync, state);
    ids = service_state_ids(state);
    http_server_set_max_connections(srv, connection_budget());
    struct app_deps deps = {.cfg = &cfg, .base = base, .tls = tls, .server = srv, .http = hc,
                            .signer = signer, .ids = ids, .attest = att, .state = state, .sync = sync};
    if (!(app = app_new(&deps)))
        goto out;
    /* platform auto/oci/gcp/none: metadata, identity and secrets arrive while the site already
     * answers (/healthz, a "temporarily unavailable" home page) */
    cc = (struct cloud_ctx){.cfg = &cfg, .app = app, .cloud = cloud, .signer = &signer, .base = base, .hc = hc,
                            .tls = tls, .acme = &acme, .state = state};
    snprintf(cc.start_domain, sizeof cc.start_domain, "%s", cfg.domain);
    if (cfg.acme_directory && !cloud_is_ready(cloud) && !service_state_broken(state)) {
        /* a restart while the domain still comes from the metadata: serve the certificate the
         * process before this one served (PID 1's copy of the state) rather than a self-signed one */
        size_t bl = 0;
        const uint8_t *saved = service_state_get_blob(state, SS_BLOB_ACME, &bl);
        if (saved)
            acme_serve_saved(tls, cfg.acme_directory, (const char *)saved, bl, cc.served_domain,
                             sizeof cc.served_domain);
    }
    app_add_status(app, "cloud", cloud_status_hook, cloud);
    app_add_status(app, "tls", tls_status_hook, tls);
    if (cfg.egress_cap_bytes) {
        guard = egress_guard_new(base, cloud, &cfg, on_egress_cap, app);
        if (!guard)
            goto out;
        app_add_status(app, "egress_guard", egress_status_hook, guard);
    }
    cloud_set_daily_summary(cloud, app_daily_counts, app);
    tramp.fn = on_cloud_ready;
    tramp.arg = &cc;
    if (tramp.fired)   /* the identity arrived during the restore: its ready step runs now */
        event_active(tramp.now = evtimer_new(base, tramp_fire, &tramp), EV_TIMEOUT, 1);
    if (!cloud_is_ready(cloud))
        app_set_unavailable_reason(app, cloud_unavailable_reason(cloud));   /* ACME waits for the domain */
    else if (acme_begin(&cc, 0))   /* until its first certificate, :443 keeps the 1-day self-signed one */
        goto out;
    int port = http_server_listen(srv, cfg.listen_addr, cfg.https_port, tls, app_handle_https, app);
    if (port < 0)
        goto out;
    int hport = cfg.http_port ? http_server_listen(srv, cfg.listen_addr, cfg.http_port, NULL, app_handle_http, app) : 0;
    if (hport < 0)
        goto out;
    if (cfg.proxy_v2_from && (http_server_expect_proxy_v2(srv, port, cfg.proxy_v2_from) ||
                              (hport && http_server_expect_proxy_v2(srv, hport, cfg.proxy_v2_from))))
        goto out;
    stop = (struct stop_ctx){.base = base, .app = app, .srv = srv, .sync = sync};
    sigterm = evsignal_new(base, SIGTERM, on_signal, &stop);
    sigint = evsignal_new(base, SIGINT, on_signal, &stop);
    if (!sigterm || !sigint || event_add(sigterm, NULL) || event_add(sigint, NULL))
        goto out;

    if (acme && acme_start(acme) != ACME_OK)
        goto out;
    const char *mode = cfg.paypal_env == PAYPAL_ENV_LOCAL_FAKE ? "development mode: not PayPal"
                       : cfg.paypal_env == PAYPAL_ENV_SANDBOX ? "PayPal sandbox" : "PayPal live";
    log_info("service.ready", "https_port=%d http_port=%d paypal=%s evidence=%s idset_capacity=%llu kid=%s", port,
             cfg.http_port, cfg.paypal_env == PAYPAL_ENV_LOCAL_FAKE ? "local" : cfg.paypal_env == PAYPAL_ENV_SANDBOX ? "sandbox" : "live",
             attest_kind(att), (unsigned long long)cfg.idset_capacity, signer_kid(signer));
    printf("sealed-login: serving https://%s/ on port %d (%s)\n", cfg.domain, port, mode);
    fflush(stdout);
    event_base_dispatch(base);
    if (service_state_save(state))
        log_error("service.state_save_failed", "reason=\"the journal is kept as it is\"");
    rc = 0;
out:
    if (sigterm) event_free(sigterm);
    if (sigint) event_free(sigint);
    if (stop.tick) event_free(stop.tick);
    if (tramp.now) event_free(tramp.now);
    attest_free(att);      /* first: drops evidence callbacks into app */
    egress_guard_free(guard);
    state_sync_free(sync);   /* results still waiting for a save fail (nothing used), answered by app */
    app_free(app);
    cloud_free(cloud);
    acme_free(acme);       /* before the http client: cancels its calls */
    http_server_free(srv);
    http_client_free(hc);
    service_state_close(state);
    tls_free(tls);
    signer_free(signer);
    if (base) event_base_free(base);
    config_clear(&cfg);
    return rc;
}
