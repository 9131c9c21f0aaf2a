/* cloud_driver: runs the cloud boot flow (login/cloud) alone on an event loop, configured like the
 * service (config defaults + SEALED_* environment), for tests/cloud/test_cloud_*.py against the
 * fakes. Prints "READY <status json> paypal_secret_sha256=<hex> signing_key_sha256=<hex>" when ready,
 * "STATUS <json>" at the end, and "LOOP max_gap_ms=<n>" (how long the loop was ever blocked: a
 * 50 ms ticker stands for the /healthz the service keeps answering meanwhile). Test code only. */
#include "login/cloud/cloud.h"
#include "login/config.h"
#include "login/http_client.h"
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct drv {
    struct event_base *base;
    struct config cfg;
    struct cloud *cloud;
    double stay_s;
    const char *notes[16][2];
    int n_notes;
    struct event *stop, *tick, *deadline;
    double last_tick_ms, max_gap_ms;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void sha_hex(const char *s, char out[65])
{
    unsigned char d[32];
    if (!s) {
        snprintf(out, 65, "none");
        return;
    }
    EVP_Digest(s, strlen(s), d, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void print_status(const char *tag, struct drv *d)
{
    json_t *s = cloud_status(d->cloud);
    char *j = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    printf("%s %s\n", tag, j ? j : "null");
    fflush(stdout);
    free(j);
    json_decref(s);
}

static void on_stop(evutil_socket_t fd, short w, void *arg)
{
    struct drv *d = arg;
    event_base_loopexit(d->base, NULL);
}

static void on_tick(evutil_socket_t fd, short w, void *arg)
{
    struct drv *d = arg;
    double t = now_ms();
    if (d->last_tick_ms && t - d->last_tick_ms > d->max_gap_ms)
        d->max_gap_ms = t - d->last_tick_ms;
    d->last_tick_ms = t;
}

static char *daily(void *arg) { return strdup("logins=0 results=0"); }

static void on_ready(void *arg)
{
    struct drv *d = arg;
    char a[65], b[65];
    sha_hex(d->cfg.paypal_secret, a);
    sha_hex(d->cfg.signing_key_pem, b);
    json_t *s = cloud_status(d->cloud);
    char *j = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    printf("READY %s paypal_secret_sha256=%s signing_key_sha256=%s paypal_client_id=%s domain=%s\n", j ? j : "null",
           a, b, d->cfg.paypal_client_id ? d->cfg.paypal_client_id : "-", d->cfg.domain ? d->cfg.domain : "-");
    fflush(stdout);
    free(j);
    json_decref(s);
    for (int i = 0; i < d->n_notes; i++)
        cloud_notify(d->cloud, d->notes[i][0], d->notes[i][1]);
    event_del(d->deadline);   /* from now on only --stay counts */
    struct timeval tv = {(time_t)d->stay_s, (suseconds_t)((d->stay_s - (time_t)d->stay_s) * 1e6)};
    event_add(d->stop, &tv);
}

int main(int argc, char **argv)
{
    struct drv d = {0};
    double timeout_s = 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stay") && i + 1 < argc)
            d.stay_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--notify") && i + 2 < argc && d.n_notes < 16) {
            d.notes[d.n_notes][0] = argv[++i];
            d.notes[d.n_notes++][1] = argv[++i];
        } else {
            fprintf(stderr, "usage: cloud_driver [--stay S] [--timeout S] [--notify TITLE BODY]...\n");
            return 2;
        }
    }
    char err[256];
    if (config_defaults(&d.cfg) || config_load_env(&d.cfg, err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return 2;
    }
    d.base = event_base_new();
    struct http_client *http = http_client_new(d.base);
    d.cloud = cloud_new(d.base, http, &d.cfg);
    d.stop = evtimer_new(d.base, on_stop, &d);
    d.tick = event_new(d.base, -1, EV_PERSIST, on_tick, &d);
    struct timeval tick = {0, 50000}, to = {(time_t)timeout_s, 0};
    event_add(d.tick, &tick);
    d.deadline = evtimer_new(d.base, on_stop, &d);
    event_add(d.deadline, &to);
    cloud_set_daily_summary(d.cloud, daily, &d);
    if (cloud_start(d.cloud, on_ready, &d)) {
        fprintf(stderr, "cloud_start failed\n");
        return 2;
    }
    event_base_dispatch(d.base);
    int rc = cloud_is_ready(d.cloud) ? 0 : 3;
    print_status("STATUS", &d);
    printf("LOOP max_gap_ms=%.0f\n", d.max_gap_ms);
    cloud_free(d.cloud);
    http_client_free(http);
    event_free(d.stop);
    event_free(d.tick);
    event_free(d.deadline);
    config_clear(&d.cfg);
    event_base_free(d.base);
    return rc;
}
