/* acme_driver: runs the ACME client the way the service does (one event loop, http_client, a tls
 * context) so the Pebble suites and the benchmark can drive it before and besides the full
 * service. Port --http-port answers HTTP-01 challenges through acme_http01_keyauth, GET /status
 * with acme_status, and 301s everything else; --https-port is bound once the first certificate
 * is installed and answers "ok generation=N". Test tool only: never part of the image. */
#include "login/acme/acme.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/tls.h"
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
    struct event_base *base;
    struct tls *tls;
    struct acme *acme;
    struct evhttp *https;
    int https_port, challenge_404;
    unsigned exit_after;
    const char *addr;
    struct timespec t0;
} d;

static double since_start_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - d.t0.tv_sec) * 1000.0 + (double)(t.tv_nsec - d.t0.tv_nsec) / 1e6;
}

static void reply(struct evhttp_request *req, int code, const char *ctype, const char *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Moved Permanently", b);
    evbuffer_free(b);
}

static void on_http(struct evhttp_request *req, void *arg)
{
    const char *uri = evhttp_request_get_uri(req);
    static const char pfx[] = "/.well-known/acme-challenge/";
    if (!strncmp(uri, pfx, sizeof pfx - 1)) {
        const char *tok = uri + sizeof pfx - 1;
        const char *ka = d.challenge_404 ? NULL : acme_http01_keyauth(d.acme, tok, strlen(tok));
        if (ka)
            reply(req, 200, "text/plain", ka, strlen(ka));
        else
            reply(req, 404, "text/plain", "not found\n", 10);
        return;
    }
    if (!strcmp(uri, "/status")) {
        json_t *s = acme_status(d.acme);
        char *t = s ? json_dumps(s, JSON_COMPACT) : NULL;
        json_decref(s);
        if (t)
            reply(req, 200, "application/json", t, strlen(t));
        free(t);
        return;
    }
    char loc[512];
    snprintf(loc, sizeof loc, "https://localhost:%d%s", d.https_port, uri);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
    reply(req, 301, "text/plain", "", 0);
}

static void on_https(struct evhttp_request *req, void *arg)
{
    char body[64];
    int n = snprintf(body, sizeof body, "ok generation=%u\n", tls_generation(d.tls));
    reply(req, 200, "text/plain", body, (size_t)n);
}

static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
    SSL *ssl = tls_ssl_new(d.tls);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* Binds :https once a certificate is there; exits after --exit-after certificates. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    static unsigned seen;
    if (!d.https && tls_ready(d.tls)) {
        d.https = evhttp_new(d.base);
        evhttp_set_bevcb(d.https, make_tls_bev, NULL);
        evhttp_set_gencb(d.https, on_https, NULL);
        if (evhttp_bind_socket(d.https, d.addr, (ev_uint16_t)d.https_port)) {
            fprintf(stderr, "driver: cannot bind https port %d\n", d.https_port);
            exit(2);
        }
        printf("HTTPS_READY ms=%.1f\n", since_start_ms());
        fflush(stdout);
    }
    if (tls_generation(d.tls) != seen) {
        seen = tls_generation(d.tls);
        printf("CERT generation=%u not_after=%lld ms=%.1f\n", seen, (long long)tls_not_after(d.tls), since_start_ms());
        fflush(stdout);
        if (d.exit_after && seen >= d.exit_after)
            event_base_loopexit(d.base, NULL);
    }
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopexit(d.base, NULL);
}

int main(int argc, char **argv)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct acme_policy pol;
    acme_policy_defaults(&pol);
    int http_port = 5002, fast = 0;
    d.addr = "127.0.0.1";
    d.https_port = 5443;
    enum { O_DIR = 1, O_CA, O_DOMAIN, O_HTTP, O_HTTPS, O_PROFILE, O_CONTACT, O_FAST, O_404, O_EXIT,
           O_FAILWIN, O_CERTWIN, O_CERTMAX, O_BACKOFF };
    static const struct option opts[] = {
        {"directory", 1, 0, O_DIR}, {"ca-file", 1, 0, O_CA}, {"domain", 1, 0, O_DOMAIN},
        {"http-port", 1, 0, O_HTTP}, {"https-port", 1, 0, O_HTTPS}, {"profile", 1, 0, O_PROFILE},
        {"contact", 1, 0, O_CONTACT}, {"fast", 0, 0, O_FAST}, {"challenge-404", 0, 0, O_404},
        {"exit-after", 1, 0, O_EXIT}, {"fail-window-ms", 1, 0, O_FAILWIN},
        {"cert-window-ms", 1, 0, O_CERTWIN}, {"cert-max", 1, 0, O_CERTMAX},
        {"backoff-ms", 1, 0, O_BACKOFF}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DIR: cfg.acme_directory = optarg; break;
        case O_CA: cfg.acme_ca_file = optarg; break;
        case O_DOMAIN: cfg.domain = optarg; break;
        case O_HTTP: http_port = atoi(optarg); break;
        case O_HTTPS: d.https_port = atoi(optarg); break;
        case O_PROFILE: cfg.acme_profile = optarg; break;
        case O_CONTACT: cfg.acme_contact = optarg; break;
        case O_FAST: fast = 1; break;
        case O_404: d.challenge_404 = 1; break;
        case O_EXIT: d.exit_after = (unsigned)atoi(optarg); break;
        case O_FAILWIN: pol.fail_window_ms = atoll(optarg); break;
        case O_CERTWIN: pol.cert_window_ms = atoll(optarg); break;
        case O_CERTMAX: pol.cert_max = (unsigned)atoi(optarg); break;
        case O_BACKOFF: pol.backoff_initial_ms = atoll(optarg); break;
        default: fprintf(stderr, "usage: acme-driver --directory URL --domain D [options]\n"); return 2;
        }
    }
    if (fast) {   /* test timing: poll quickly, short transient retries, ARI rechecks in seconds */
        pol.poll_ms = 100;
        pol.poll_max_ms = 1000;
        pol.transient_retry_ms = 200;
        pol.ari_poll_min_ms = 500;
        pol.ari_poll_default_ms = 5000;
        if (pol.backoff_initial_ms == ACME_BACKOFF_INITIAL_MS)
            pol.backoff_initial_ms = 1000;
        pol.backoff_max_ms = 30000;
    }
    clock_gettime(CLOCK_MONOTONIC, &d.t0);
    signal(SIGPIPE, SIG_IGN);
    d.base = event_base_new();
    struct http_client *hc = http_client_new(d.base);
    d.tls = tls_new();
    char derr[128];
    d.acme = cfg.domain && !config_domain_split(&cfg, derr, sizeof derr) ? acme_new(d.base, hc, d.tls, &cfg) : NULL;
    if (!d.base || !hc || !d.tls || !d.acme) {
        fprintf(stderr, "driver: setup failed (directory and domain are required)\n");
        return 2;
    }
    acme_set_policy(d.acme, &pol);
    struct evhttp *http = evhttp_new(d.base);
    evhttp_set_gencb(http, on_http, NULL);
    if (evhttp_bind_socket(http, d.addr, (ev_uint16_t)http_port)) {
        fprintf(stderr, "driver: cannot bind http port %d\n", http_port);
        return 2;
    }
    struct event *tick = event_new(d.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    struct event *sig = evsignal_new(d.base, SIGTERM, on_signal, NULL);
    struct event *sigi = evsignal_new(d.base, SIGINT, on_signal, NULL);
    event_add(sig, NULL);
    event_add(sigi, NULL);
    if (acme_start(d.acme) != ACME_OK) {
        fprintf(stderr, "driver: acme_start failed\n");
        return 2;
    }
    event_base_dispatch(d.base);
    acme_free(d.acme);
    http_client_free(hc);
    evhttp_free(http);
    if (d.https)
        evhttp_free(d.https);
    tls_free(d.tls);
    event_free(tick);
    event_free(sig);
    event_free(sigi);
    event_base_free(d.base);
    return 0;
}
