/* cloud: the service's boot-time cloud duties as one asynchronous state machine on the event loop,
 * so the site keeps answering (/healthz, a "temporarily unavailable" page) meanwhile:
 *   detect the platform (OCI, GCP, none) → read instance metadata (only DESIGN.md's trust-rule keys
 *   reach the config, through config_apply_metadata) → obtain the instance identity (OCI instance-
 *   principal security token / GCP service-account token) → fetch PAYPAL_SECRET and, when
 *   configured, the signing key into the config → ready → notifications (OCI Notifications).
 * Every failing step logs one line and is retried with capped exponential backoff; the OCI token is
 * renewed five minutes before it expires. Owns its HTTP calls, timers, the session key and tokens;
 * borrows the event base, the HTTP client and the config. Never logs secrets, tokens or metadata
 * values. */
#ifndef SEALED_CLOUD_H
#define SEALED_CLOUD_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/cloud_wire.h"   /* cloud_err, cloud_strerror */

struct event_base;
struct http_client;
struct config;
struct cloud;

typedef enum {
    CLOUD_PLATFORM_NONE = 0,
    CLOUD_PLATFORM_OCI,
    CLOUD_PLATFORM_GCP,
} cloud_platform;

/* "none", "oci", "gcp". */
const char *cloud_platform_name(cloud_platform p);

/* Creates the state machine; nothing happens until cloud_start. NULL on allocation failure. */
struct cloud *cloud_new(struct event_base *base, struct http_client *http, struct config *cfg);

/* Starts the boot flow per cfg->platform ("auto", "oci", "gcp", "none"). ready(arg) runs once, on
 * the loop, when the PayPal secret (and the signing key, when one is configured) is in the config.
 * For "none" (local runs: secrets from the environment) cloud_is_ready is 1 on return and ready
 * runs on the first loop turn. Returns 0, or -1 for an unknown platform value. */
int cloud_start(struct cloud *c, void (*ready)(void *arg), void *arg);

/* The platform found (valid once ready). */
cloud_platform cloud_get_platform(const struct cloud *c);

/* 1 once ready has been called. */
int cloud_is_ready(const struct cloud *c);

/* Why login is not offered yet, for the "temporarily unavailable" page: a stable pointer into c
 * whose text follows the state; "" once ready. */
const char *cloud_unavailable_reason(const struct cloud *c);

/* The /status section: platform, state, region, secret present or not, token lifetime, retries,
 * last error, clock offset, notification counts. New reference; NULL on allocation failure. */
json_t *cloud_status(struct cloud *c);

/* Publishes a notification (OCI Notifications, or GCP Pub/Sub topics.publish with the title as
 * the message's "title" attribute, when notification_topic_id is set; otherwise nothing). Asynchronous and best effort: queued (capped) until a token is at hand, retried with
 * backoff, failures logged once. Never pass personal data. */
void cloud_notify(struct cloud *c, const char *title, const char *body);

/* Daily counts: every CLOUD_DAILY_INTERVAL_S, summary(arg) is called for a malloc'd body (or
 * NULL to skip) that is published under the title "daily counts". */
void cloud_set_daily_summary(struct cloud *c, char *(*summary)(void *arg), void *arg);

/* For other modules that act with the instance's own identity (egress_guard.c): signs an OCI API
 * call with the current session token and starts it on the HTTP client; done(arg, response) runs
 * once. Returns -1 (nothing started) when not on OCI or no fresh token is at hand yet. */
struct http_call;
struct http_response;
struct oci_instance;
int cloud_oci_call(struct cloud *c, struct http_call **slot, const char *method, const char *url, const char *body,
                   size_t cap, void (*done)(void *arg, const struct http_response *r), void *arg);
/* Any call made with the instance's own identity (state_remote.c: the object store): on OCI the
 * request is signed (body included, content type application/octet-stream), on GCP the service
 * account's bearer token is added; req's own headers follow. Returns -1 (nothing started) off
 * the clouds or while no fresh token is at hand. */
struct http_request;
int cloud_authed_call(struct cloud *c, struct http_call **slot, const struct http_request *req,
                      void (*done)(void *arg, const struct http_response *r), void *arg);
/* GCP: the instance read at boot (project, id, zone, name), or NULL off GCP or before. */
struct gcp_instance;
const struct gcp_instance *cloud_gcp_instance(const struct cloud *c);
/* GCP: the project id, or NULL off GCP or before. */
const char *cloud_gcp_project(const struct cloud *c);
/* The instance document read at boot (region, compartment, instance id), or NULL off OCI or before. */
const struct oci_instance *cloud_oci_instance(const struct cloud *c);

/* Cancels calls and timers, wipes the session key and tokens, frees. Accepts NULL. */
void cloud_free(struct cloud *c);
#endif
