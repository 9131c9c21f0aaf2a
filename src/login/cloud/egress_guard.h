/* egress_guard: the VM guards its own egress. Every poll interval it reads this month's bytes sent
 * with the instance's own identity (OCI: Monitoring oci_vcn VnicToNetworkBytes, instance
 * principal; GCP: Cloud Monitoring compute.googleapis.com/instance/network/sent_bytes_count of this
 * instance, service account) and, at the cap, notifies, stops serving (on_cap) and, a minute later,
 * asks the cloud to stop its own instance (OCI SOFTSTOP, GCP instances.stop: both an ACPI shutdown
 * that PID 1 turns into a clean power-off). Missing data never counts as zero: the guard then does
 * nothing and says so (log line, /status). Owns its timer and calls; borrows the cloud state
 * machine (identity, notifications) and the config. */
#ifndef SEALED_EGRESS_GUARD_H
#define SEALED_EGRESS_GUARD_H
#include <jansson.h>
#include <stdint.h>

struct event_base;
struct cloud;
struct config;
struct egress_guard;

/* cfg->egress_cap_bytes 0 disables the guard (egress_guard_new returns NULL). The cap is read at
 * every reading (instance metadata may lower it after start: config.c). on_cap(arg) runs once, on
 * the loop, when the cap is reached (main.c stops offering logins). NULL also on allocation
 * failure. */
struct egress_guard *egress_guard_new(struct event_base *base, struct cloud *cloud, const struct config *cfg,
                                      void (*on_cap)(void *arg), void *arg);
/* The /status section: state ("waiting", "ok", "unknown", "capped", "stopping", "stop_requested"),
 * platform, last reading, cap, and why the last reading is unknown. */
json_t *egress_guard_status(const struct egress_guard *g);
/* Cancels the timer and calls. Accepts NULL. */
void egress_guard_free(struct egress_guard *g);
#endif
