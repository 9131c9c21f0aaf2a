/* cloud_wire: what the pure cloud wire parsers (common/oci*.c, common/gcp.c) share with the
 * service's cloud state machine (login/cloud/cloud.c) and sealed-oci-request: the one error enum
 * of the cloud subsystem, the caps on answers from a cloud, and the instance-metadata keys
 * DESIGN.md's trust rule lets change behaviour (the same names on OCI and GCP). No code that
 * talks to the network. */
#ifndef SEALED_COMMON_CLOUD_WIRE_H
#define SEALED_COMMON_CLOUD_WIRE_H
#include <jansson.h>

#define CLOUD_METADATA_MAX           (128 * 1024) /* instance document or identity PEM */
#define CLOUD_TOKEN_MAX              (32 * 1024)  /* federation / access-token answer */
#define CLOUD_METRICS_MAX            (1024 * 1024) /* SummarizeMetricsData answer (~750 hourly points/VNIC) */
#define CLOUD_SECRET_MAX             (64 * 1024)  /* secret answer (OCI caps secrets at 25 KiB) */
#define CLOUD_NOTIFY_MAX_TITLE       255    /* bytes */
#define CLOUD_NOTIFY_MAX_BODY        4096   /* bytes; OCI allows 64 KiB, we send counts */
#define CLOUD_SESSION_KEY_BITS       2048   /* OCI session key (RSA) */
#define CLOUD_API_TIMEOUT_MS         10000  /* auth, Vault, Notifications, Secret Manager (service and sealed-oci-request) */

/* The one error enum of the cloud subsystem (login/cloud/, oci_*, gcp_*). */
typedef enum {
    CLOUD_OK = 0,
    CLOUD_ERR_NOMEM,
    CLOUD_ERR_ARG,        /* a caller's argument is unusable (e.g. an id with '/' in it) */
    CLOUD_ERR_FORMAT,     /* a peer's answer is malformed or misses a required field */
    CLOUD_ERR_TOOBIG,     /* over a named cap above */
    CLOUD_ERR_CRYPTO,     /* OpenSSL failed, or a key/certificate is unusable */
    CLOUD_ERR_INTEGRITY,  /* a checksum does not match (GCP dataCrc32c) */
} cloud_err;

const char *cloud_strerror(cloud_err e);

/* The user-metadata keys DESIGN.md's trust rule lets change behaviour; NULL-terminated. */
extern const char *const cloud_trusted_metadata_keys[];
/* 1 when k is one of them. */
int cloud_metadata_key_trusted(const char *k);
/* Calls apply(arg, key, value) for every trusted key whose value is a string in the JSON object
 * user (borrowed; NULL = none), in the order of cloud_trusted_metadata_keys; counts the other
 * keys into *ignored. Returns the number of keys applied, or -1 when apply fails. The one walk
 * behind OCI's user metadata and GCP's instance attributes. */
int cloud_metadata_each_trusted(const json_t *user, int (*apply)(void *arg, const char *k, const char *v), void *arg,
                                unsigned *ignored);
#endif
