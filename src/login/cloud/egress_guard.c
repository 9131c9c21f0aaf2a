/* egress_guard: reads the month's egress with the instance's own identity and stops the VM at the
 * cap (see egress_guard.h). Owns one timer and at most one call; never acts on missing data. */
#include "login/cloud/egress_guard.h"
#include "login/cloud/cloud.h"
#include "common/oci.h"
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

struct egress_guard {
    struct cloud *cloud;             /* borrowed */
    const char *api_base;            /* borrowed (config), NULL = OCI's hosts */
    uint64_t cap;
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
        log_warn("cloud.egress", "status=stop_requested action=SOFTSTOP");
        return;
    }
    log_error("cloud.egress", "status=stop_failed http_status=%ld err=%d retry_in_s=%u "
              "hint=\"the policy needs use instances (INSTANCE_POWER_ACTIONS) on this instance\"",
              r->status, r->err, g->poll_s);
    arm(g, g->poll_s);
}

static void stop_self(struct egress_guard *g)
{
    const struct oci_instance *in = cloud_oci_instance(g->cloud);
    char *url = in ? oci_instance_action_url(g->api_base, in->region, in->id, "SOFTSTOP") : NULL;
    if (!url || cloud_oci_call(g->cloud, &g->call, "POST", url, NULL, CLOUD_METRICS_MAX, on_stopped, g)) {
        log_warn("cloud.egress", "status=stop_deferred reason=\"no token yet\" retry_in_s=%u", g->poll_s);
        arm(g, g->poll_s);
    }
    free(url);
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
        snprintf(why, sizeof why, "Monitoring answered %s %ld", r->err ? "error" : "HTTP", r->err ? (long)r->err : r->status);
        unknown(g, why);
        return;
    }
    double used;
    unsigned series, points;
    cloud_err e = oci_egress_parse((const char *)r->body, r->body_len, &used, &series, &points);
    if (e) {
        snprintf(why, sizeof why, "unreadable answer: %s", cloud_strerror(e));
        unknown(g, why);
        return;
    }
    if (!series) {
        unknown(g, "no VnicToNetworkBytes data for this instance's compartment");
        return;
    }
    g->used = used;
    g->series = series;
    g->points = points;
    g->readings++;
    g->why[0] = 0;
    if (used < (double)g->cap) {
        g->state = G_OK;
        log_info("cloud.egress", "status=ok used_bytes=%.0f cap_bytes=%llu series=%u points=%u", used,
                 (unsigned long long)g->cap, series, points);
        return;
    }
    g->state = G_CAPPED;
    evtimer_del(g->timer);
    log_error("cloud.egress", "status=cap_reached used_bytes=%.0f cap_bytes=%llu action=notify,stop_serving,stop_instance",
              used, (unsigned long long)g->cap);
    unsigned delay = g->poll_s < CLOUD_EGRESS_STOP_DELAY_S ? g->poll_s : CLOUD_EGRESS_STOP_DELAY_S;
    char body[512];
    snprintf(body, sizeof body, "This month's egress is %.3f TB, at or above the %.3f TB cap. The VM stopped "
             "serving logins and asks OCI to stop its own instance in %u s. Start it next month with: "
             "sealed-deploy-oci start", used / 1e12, (double)g->cap / 1e12, delay);
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
    if (g->state == G_STOPPING) {
        stop_self(g);
        return;
    }
    const struct oci_instance *in = cloud_oci_instance(g->cloud);
    char *url = in ? oci_monitoring_url(g->api_base, in->region, in->compartment) : NULL;
    char *body = in ? oci_egress_query_body(NULL, time(NULL)) : NULL;
    if (!url || !body || cloud_oci_call(g->cloud, &g->call, "POST", url, body, CLOUD_METRICS_MAX, on_reading, g)) {
        if (g->state != G_WAITING)
            unknown(g, "no instance identity yet");
        arm(g, in ? g->poll_s : 5);
    }
    free(url);
    free(body);
}

struct egress_guard *egress_guard_new(struct event_base *base, struct cloud *cloud, const char *api_base,
                                      uint64_t cap_bytes, unsigned poll_s, void (*on_cap)(void *arg), void *arg)
{
    if (!cap_bytes)
        return NULL;
    struct egress_guard *g = calloc(1, sizeof *g);
    if (!g || !(g->timer = evtimer_new(base, on_timer, g))) {
        free(g);
        return NULL;
    }
    g->cloud = cloud;
    g->api_base = api_base;
    g->cap = cap_bytes;
    g->poll_s = poll_s ? poll_s : CLOUD_EGRESS_POLL_S;
    g->on_cap = on_cap;
    g->arg = arg;
    arm(g, 5);
    return g;
}

json_t *egress_guard_status(const struct egress_guard *g)
{
    if (!g)
        return json_pack("{s:s}", "state", "off");
    json_t *o = json_pack("{s:s, s:I, s:I, s:i, s:i}", "state", GSTATE[g->state], "cap_bytes", (json_int_t)g->cap,
                          "poll_s", (json_int_t)g->poll_s, "readings", (int)g->readings, "unknown_readings",
                          (int)g->unknowns);
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
