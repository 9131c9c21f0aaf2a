/* sealed-login: the service process. Reads the configuration, creates the service objects in
 * dependency order, listens, runs the event loop until SIGTERM/SIGINT, and tears down in reverse.
 * PID-1 duties (mounts, restarts) are not here: in the sealed image an init starts this. */
#include "login/app.h"
#include "login/acme/acme.h"
#include "login/attest.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/http_server.h"
#include "login/idset.h"
#include "login/log.h"
#include "login/signer.h"
#include "login/tls.h"
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

static void usage(FILE *f)
{
    fputs("usage: sealed-login [--config FILE] [--check-config]\n"
          "Serves the sealed-login website. Settings come from compiled defaults, FILE (key = value),\n"
          "then environment variables (PAYPAL_CLIENT_ID, PAYPAL_SECRET, PAYPAL_ENV, SEALED_SIGNING_KEY,\n"
          "SEALED_DOMAIN, SEALED_HTTPS_PORT, ...; see docs/configuration.md).\n", f);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    log_info("service.stopping", "signal=%d", (int)sig);
    event_base_loopexit(arg, NULL);
}

/* Host part of DOMAIN (without :port) for the self-signed certificate. */
static void host_of(const char *domain, char *out, size_t cap)
{
    size_t n = strcspn(domain, ":");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, domain, n);
    out[n] = 0;
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

    struct config cfg;
    char err[512] = "";
    if (config_defaults(&cfg) || (config_path && config_load_file(&cfg, config_path, err, sizeof err)) ||
        config_load_env(&cfg, err, sizeof err) || config_finish(&cfg, err, sizeof err)) {
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
    struct idset *ids = NULL;
    struct http_client *hc = NULL;
    struct attest *att = NULL;
    struct http_server *srv = NULL;
    struct app *app = NULL;
    struct acme *acme = NULL;
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
    char host[256];
    host_of(cfg.domain, host, sizeof host);
    if (!signer || !(tls = tls_new()) || tls_install_self_signed(tls, host, cfg.acme_directory ? 1 : 30) ||
        !(ids = idset_new(cfg.idset_capacity)) || !(base = event_base_new()) ||
        !(hc = http_client_new(base)) || !(att = attest_new(base, &cfg)) || !(srv = http_server_new(base))) {
        log_error("service.start_failed", "reason=\"cannot create service objects\"");
        goto out;
    }
    struct app_deps deps = {.cfg = &cfg, .base = base, .tls = tls, .server = srv, .http = hc,
                            .signer = signer, .ids = ids, .attest = att};
    if (!(app = app_new(&deps)))
        goto out;
    if (cfg.acme_directory) {   /* until its first certificate, :443 keeps the 1-day self-signed one */
        if (!cfg.http_port || !(acme = acme_new(base, hc, tls, &cfg))) {
            log_error("service.start_failed", "reason=\"ACME needs http_port and a domain\"");
            goto out;
        }
        app_set_acme_responder(app, acme_http01_responder, acme);
        app_add_status(app, "acme", acme_status_hook, acme);
    }
    int port = http_server_listen(srv, cfg.listen_addr, cfg.https_port, tls, app_handle_https, app);
    if (port < 0)
        goto out;
    if (cfg.http_port && http_server_listen(srv, cfg.listen_addr, cfg.http_port, NULL, app_handle_http, app) < 0)
        goto out;
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
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
    rc = 0;
out:
    if (sigterm) event_free(sigterm);
    if (sigint) event_free(sigint);
    attest_free(att);      /* first: drops evidence callbacks into app */
    app_free(app);
    acme_free(acme);       /* before the http client: cancels its calls */
    http_server_free(srv);
    http_client_free(hc);
    idset_free(ids);
    tls_free(tls);
    signer_free(signer);
    if (base) event_base_free(base);
    config_clear(&cfg);
    return rc;
}
