/* egress_guard: reads the month's egress with the instance's own identity and stops the VM at the
 * cap (see egress_guard.h). One state machine for both clouds; what differs (the reading's call
 * and answer, the stop call, the words) is in struct guard_cloud. Owns one timer and at most one
 * call; never acts on missing data. */
#include "login/cloud/egress_guard.h"
#include "login/cloud/cloud.h"
#include "common/gcp_monitoring.h"
#include "common/oci.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/log.h"
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum gstate { G_WAITING, G_OK, G_UNKNOWN, G_CAPPED, G_STOPPING, G_STOPPED };
static const char *const GSTATE[] = {"waiting", "ok", "unknown", "capped", "stopping", "stop_requested"};

struct egress_guard;
typedef void (*done_fn)(void *arg, const struct http_response *r);

/* What one cloud needs: start the reading, parse it, start the stop; and what to tell people. */
struct guard_cloud {
    const char *monitoring;          /* the service, for messages */
    const char *no_data;             /* an answer without series */
    const char *stop_action;         /* log: what was asked */
    const char *stop_hint;           /* log: when the stop is refused */
    const char *restart;             /* the notification: how to start it again */
    int (*read)(struct egress_guard *g, done_fn done);
    cloud_err (*parse)(const char *json, size_t len, double *bytes, unsigned *series, unsigned *points);
    int (*stop)(struct egress_guard *g, done_fn done);
};

struct egress_guard {
    struct cloud *cloud;             /* borrowed */
    const struct config *cfg;        /* borrowed: cloud_api_base, egress_cap_bytes, egress_poll_s */
    const struct guard_cloud *gc;    /* the platform's, once known */
    unsigned poll_s;
    void (*on_cap)(void *arg);
    void *arg;
    struct event *timer;             /* owned */
    struct http_call *call;          /* in flight */
    enum gstate state;
    double used;                     /* last reading, bytes */
    unsigned series, points, readings, unknowns;
    char why[160];                   /* why the last reading is unknown */
};

/* ---- OCI -------------------------------------------------------------------------------------- */

static int oci_read(struct egress_guard *g, done_fn done)
{
    const struct oci_instance *in = cloud_oci_instance(g->cloud);
    char *url = in ? oci_monitoring_url(g->cfg->cloud_api_base, in->region, in->compartment) : NULL;
    char *body = in ? oci_egress_query_body(NULL, time(NULL)) : NULL;
    int rc = !url || !body || cloud_oci_call(g->cloud, &g->call, "POST", url, body, CLOUD_METRICS_MAX, done, g);
    free(url);
    free(body);
    return rc ? -1 : 0;
}

static int oci_stop(struct egress_guard *g, done_fn done)
{
    const struct oci_instance *in = cloud_oci_instance(g->cloud);
    char *url = in ? oci_instance_action_url(g->cfg->cloud_api_base, in->region, in->id, "SOFTSTOP") : NULL;
    int rc = !url || cloud_oci_call(g->cloud, &g->call, "POST", url, NULL, CLOUD_METRICS_MAX, done, g);
    free(url);
    return rc ? -1 : 0;
}

static const struct guard_cloud OCI = {
    .monitoring = "OCI Monitoring",
    .no_data = "no VnicToNetworkBytes data for this instance's compartment",
    .stop_action = "SOFTSTOP",
    .stop_hint = "the policy needs use instances (INSTANCE_POWER_ACTIONS) on this instance",
    .restart = "sealed-deploy-oci start",
    .read = oci_read, .parse = oci_egress_parse, .stop = oci_stop,
};

/* ---- GCP -------------------------------------------------------------------------------------- */

static int gcp_call(struct egress_guard *g, const char *method, char *url, done_fn done)
{
    struct http_request rq = {.method = method, .url = url, .timeout_ms = CLOUD_API_TIMEOUT_MS,
                              .max_response = CLOUD_METRICS_MAX};
    int rc = !url || cloud_authed_call(g->cloud, &g->call, &rq, done, g);
    free(url);
    return rc ? -1 : 0;
}

static int gcp_read(struct egress_guard *g, done_fn done)
{
    const struct gcp_instance *in = cloud_gcp_instance(g->cloud);
    return in ? gcp_call(g, "GET", gcp_egress_query_url(g->cfg->cloud_api_base, in, time(NULL)), done) : -1;
}

static int gcp_stop(struct egress_guard *g, done_fn done)
{
    const struct gcp_instance *in = cloud_gcp_instance(g->cloud);
    return in ? gcp_call(g, "POST", gcp_instance_stop_url(g->cfg->cloud_api_base, in), done) : -1;
}

static const struct guard_cloud GCP = {
    .monitoring = "Cloud Monitoring",
    .no_data = "no sent_bytes_count data for this instance",
    .stop_action = "instances.stop",
    .stop_hint = "the service account needs compute.instances.stop on this instance (deploy/gcp grants it there only)",
    .restart = "deploy/gcp/egress-guard.sh --restore (or POST .../instances/NAME/start)",
    .read = gcp_read, .parse = gcp_egress_parse, .stop = gcp_stop,
};

/* ---- the state machine ------------------------------------------------------------------------ */

static void arm(struct egress_guard *g, unsigned s)
{
    struct timeval tv = {(time_t)s, 0};
    evtimer_add(g->timer, &tv);
}

static void on_stopped(void *arg, const struct http_response *r)
{
    struct egress_guard *g = arg;
    g->call = NULL;
    if (!r->err && r->status >= 200 && r->status < 300) {
        g->state = G_STOPPED;
        log_warn("cloud.egress", "status=stop_requested action=%s", g->gc->stop_action);
        return;
    }
    log_error("cloud.egress", "status=stop_failed http_status=%ld err=%d retry_in_s=%u hint=\"%s\"", r->status, r->err,
              g->poll_s, g->gc->stop_hint);
    arm(g, g->poll_s);
}

static void stop_self(struct egress_guard *g)
{
    if (g->gc->stop(g, on_stopped)) {
        log_warn("cloud.egress", "status=stop_deferred reason=\"no token yet\" retry_in_s=%u", g->poll_s);
        arm(g, g->poll_s);
    }
}

static void unknown(struct egress_guard *g, const char *why)
{
    g->state = G_UNKNOWN;
    g->unknowns++;
    snprintf(g->why, sizeof g->why, "%s", why);
    /* the one thing it must never do: treat no data as no egress */
    log_warn("cloud.egress", "status=unknown action=none reason=\"%s\"", why);
}

static void on_reading(void *arg, const struct http_response *r)
{
    struct egress_guard *g = arg;
    g->call = NULL;
    arm(g, g->poll_s);
    char why[160];
    if (r->err || r->status != 200) {
        snprintf(why, sizeof why, "%s answered %s %ld", g->gc->monitoring, r->err ? "error" : "HTTP",
                 r->err ? (long)r->err : r->status);
        unknown(g, why);
        return;
    }
    double used;
    unsigned series, points;
    cloud_err e = g->gc->parse((const char *)r->body, r->body_len, &used, &series, &points);
    if (e) {
        snprintf(why, sizeof why, "unreadable answer: %s", cloud_strerror(e));
        unknown(g, why);
        return;
    }
    if (!series) {
        unknown(g, g->gc->no_data);
        return;
    }
    uint64_t cap = g->cfg->egress_cap_bytes;
    g->used = used;
    g->series = series;
    g->points = points;
    g->readings++;
    g->why[0] = 0;
    if (used < (double)cap) {
        g->state = G_OK;
        log_info("cloud.egress", "status=ok used_bytes=%.0f cap_bytes=%llu series=%u points=%u", used,
                 (unsigned long long)cap, series, points);
        return;
    }
    g->state = G_CAPPED;
    evtimer_del(g->timer);
    log_error("cloud.egress", "status=cap_reached used_bytes=%.0f cap_bytes=%llu action=notify,stop_serving,stop_instance",
              used, (unsigned long long)cap);
    unsigned delay = g->poll_s < CLOUD_EGRESS_STOP_DELAY_S ? g->poll_s : CLOUD_EGRESS_STOP_DELAY_S;
    char body[512];
    snprintf(body, sizeof body, "This month's egress is %.3f TB, at or above the %.3f TB cap. The VM stopped "
             "serving logins and asks the cloud to stop its own instance in %u s. Start it next month with: %s",
             used / 1e12, (double)cap / 1e12, delay, g->gc->restart);
    cloud_notify(g->cloud, "sealed-login: egress cap reached, the VM stops itself", body);
    if (g->on_cap)
        g->on_cap(g->arg);
    g->state = G_STOPPING;
    arm(g, delay);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct egress_guard *g = arg;
    if (g->call)
        return;
    cloud_platform p = cloud_get_platform(g->cloud);
    g->gc = p == CLOUD_PLATFORM_OCI ? &OCI : p == CLOUD_PLATFORM_GCP ? &GCP : NULL;
    if (!g->gc) {   /* not (yet) on a cloud: platform detection may still be running */
        arm(g, g->state == G_WAITING ? 5 : g->poll_s);
        return;
    }
    if (g->state == G_STOPPING) {
        stop_self(g);
        return;
    }
    if (g->gc->read(g, on_reading)) {
        int known = p == CLOUD_PLATFORM_OCI ? cloud_oci_instance(g->cloud) != NULL : cloud_gcp_instance(g->cloud) != NULL;
        if (g->state != G_WAITING)
            unknown(g, known ? "no fresh token for the monitoring call" : "no instance identity yet");
        arm(g, known ? g->poll_s : 5);
    }
}

struct egress_guard *egress_guard_new(struct event_base *base, struct cloud *cloud, const struct config *cfg,
                                      void (*on_cap)(void *arg), void *arg)
{
    if (!cfg->egress_cap_bytes)
        return NULL;
    struct egress_guard *g = calloc(1, sizeof *g);
    if (!g || !(g->timer = evtimer_new(base, on_timer, g))) {
        free(g);
        return NULL;
    }
    g->cloud = cloud;
    g->cfg = cfg;
    g->poll_s = cfg->egress_poll_s ? (unsigned)cfg->egress_poll_s : CLOUD_EGRESS_POLL_S;
    g->on_cap = on_cap;
    g->arg = arg;
    arm(g, 5);
    return g;
}

json_t *egress_guard_status(const struct egress_guard *g)
{
    if (!g)
        return json_pack("{s:s}", "state", "off");
    json_t *o = json_pack("{s:s, s:I, s:I, s:i, s:i}", "state", GSTATE[g->state], "cap_bytes",
                          (json_int_t)g->cfg->egress_cap_bytes, "poll_s", (json_int_t)g->poll_s, "readings",
                          (int)g->readings, "unknown_readings", (int)g->unknowns);
    if (o && g->gc)
        json_object_set_new(o, "monitoring", json_string(g->gc->monitoring));
    if (o && g->readings)
        json_object_set_new(o, "used_bytes", json_real(g->used));
    if (o && g->why[0])
        json_object_set_new(o, "unknown_reason", json_string(g->why));
    return o;
}

void egress_guard_free(struct egress_guard *g)
{
    if (!g)
        return;
    if (g->call)
        http_call_cancel(g->call);
    event_free(g->timer);
    free(g);
}
