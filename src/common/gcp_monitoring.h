/* gcp_monitoring: the Google Cloud calls of the in-VM egress guard and of notifications, as pure
 * functions on (ptr, len): Cloud Monitoring's projects.timeSeries.list for this month's
 * compute.googleapis.com/instance/network/sent_bytes_count of one instance and its answer,
 * Compute's instances.stop URL for the VM itself, Pub/Sub's topics.publish request, and the
 * metadata server's instance id and zone. No network, no clock (times are passed in), no logs. */
#ifndef SEALED_COMMON_GCP_MONITORING_H
#define SEALED_COMMON_GCP_MONITORING_H
#include "common/cloud_wire.h"
#include <stddef.h>
#include <time.h>

#define GCP_MONITORING_BASE   "https://monitoring.googleapis.com"
#define GCP_COMPUTE_BASE      "https://compute.googleapis.com"
#define GCP_PUBSUB_BASE       "https://pubsub.googleapis.com"
#define GCP_EGRESS_METRIC     "compute.googleapis.com/instance/network/sent_bytes_count"
#define GCP_ALIGN_MIN_S       60            /* Aggregation.alignmentPeriod: at least 60 s */

/* Who the VM is, from the metadata server (project/project-id, instance/id, instance/zone,
 * instance/name). Fixed buffers: nothing to free. */
struct gcp_instance {
    char project[64];
    char id[24];          /* decimal, up to 20 digits (a uint64) */
    char zone[64];        /* the zone's name, e.g. us-central1-b */
    char name[64];
};

/* Checks one metadata answer and copies it into the matching field of in: which is 'i' (id:
 * digits only), 'z' (zone: "projects/NUMBER/zones/ZONE", ZONE kept) or 'n' (name: RFC 1035).
 * Returns CLOUD_OK or CLOUD_ERR_FORMAT. */
cloud_err gcp_instance_field(struct gcp_instance *in, char which, const char *s, size_t n);

/* GET {base}/v3/projects/{project}/timeSeries?filter=metric.type="sent_bytes_count" AND
 * resource.type="gce_instance" AND resource.labels.instance_id="ID" with one alignment period
 * covering this month so far (ALIGN_DELTA, then REDUCE_SUM across series): one point whose value
 * is the month's bytes sent. api_base (tests) replaces the host. malloc'd; NULL when in is not
 * complete or on allocation failure. */
char *gcp_egress_query_url(const char *api_base, const struct gcp_instance *in, time_t now);

/* Sums the points of a ListTimeSeriesResponse ({"timeSeries":[{"metric":{"type"},"points":[{
 * "value":{"int64Value":"N"}}]}], "unit", "nextPageToken"}). No timeSeries is not an error: 0
 * series (the caller must not read it as zero bytes). A series of another metric, a negative or
 * malformed value, or a further page is CLOUD_ERR_FORMAT: the sum would not be the whole month. */
cloud_err gcp_egress_parse(const char *json, size_t len, double *bytes, unsigned *series, unsigned *points);

/* POST {base}/compute/v1/projects/{p}/zones/{z}/instances/{name}/stop. malloc'd or NULL. */
char *gcp_instance_stop_url(const char *api_base, const struct gcp_instance *in);

/* POST {base}/v1/projects/{p}/topics/{t}:publish, where topic is "projects/P/topics/T" or a bare
 * topic id T (then in project). malloc'd; NULL when not well formed. */
char *gcp_pubsub_publish_url(const char *api_base, const char *project, const char *topic);
/* {"messages":[{"data": base64(body), "attributes": {"title": title}}]}; malloc'd or NULL. */
char *gcp_pubsub_publish_body(const char *title, const char *body);
#endif
