/* oci: Oracle Cloud wire formats, pure functions on (ptr, len) with no network and no clock:
 * instance metadata v2 (oci_metadata.c), instance-principal identity and X.509 federation
 * (oci_federation.c), Vault GetSecretBundle (oci_vault.c), Notifications PublishMessage and OCI
 * error bodies (oci_notify.c). login/cloud/cloud.c drives them over http_client (sealed-oci-request over libcurl). Nothing here logs. */
#ifndef SEALED_COMMON_OCI_H
#define SEALED_COMMON_OCI_H
#include "common/cloud_wire.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define OCI_METADATA_V4     "http://169.254.169.254"
#define OCI_METADATA_V6     "http://[fd00:c1::a9fe:a9fe]"
#define OCI_METADATA_AUTH   "Authorization: Bearer Oracle"
#define OCI_REALM_DOMAIN    "oraclecloud.com"   /* the only realm this build talks to (oc1) */

/* ---- instance metadata (oci_metadata.c) ---------------------------------------------------- */

/* What the service takes from GET /opc/v2/instance/. Strings are owned (oci_instance_clear). */
struct oci_instance {
    char *region;        /* canonicalRegionName, checked to be [a-z0-9-]+ (it becomes a host name) */
    char *tenancy;       /* tenantId */
    char *id;            /* id (instance OCID) */
    char *compartment;   /* compartmentId */
    json_t *user;        /* the "metadata" object (user keys), owned reference; may be NULL */
};

/* Parses the instance document. CLOUD_ERR_FORMAT when a required field is missing or the region
 * is not a plain region name. */
cloud_err oci_instance_parse(const char *json, size_t len, struct oci_instance *out);
void oci_instance_clear(struct oci_instance *in);

/* Calls apply(arg, key, value) for every trusted key whose value is a string in in->user, in the
 * order of cloud_trusted_metadata_keys; counts the other keys into *ignored. Returns the number of
 * keys applied, or -1 when apply fails. */
int oci_instance_each_trusted(const struct oci_instance *in, int (*apply)(void *arg, const char *k, const char *v),
                              void *arg, unsigned *ignored);

/* ---- instance principal and federation (oci_federation.c) ---------------------------------- */

#define OCI_MAX_INTERMEDIATES 4

/* The instance identity from /opc/v2/identity/: leaf certificate, its key, intermediates. */
struct oci_identity {
    X509 *leaf;                              /* owned */
    X509 *inter[OCI_MAX_INTERMEDIATES];      /* owned */
    int n_inter;
    EVP_PKEY *key;                           /* owned: the leaf's private key */
    char *tenancy;                           /* owned: from the leaf subject "opc-tenant:" (or "opc-identity:") */
    char *fingerprint;                       /* owned: SHA-256 of the leaf DER, colon-separated lowercase hex */
    time_t not_after;                        /* the leaf's expiry */
};

/* Loads and cross-checks the three PEM documents: the key must be the leaf's, the leaf must name a
 * tenancy. On failure *out holds nothing. */
cloud_err oci_identity_load(struct oci_identity *out, const char *cert_pem, size_t cert_len,
                            const char *key_pem, size_t key_len, const char *inter_pem, size_t inter_len);
void oci_identity_clear(struct oci_identity *id);

/* "{tenancy}/fed-x509-sha256/{fingerprint}", malloc'd. */
char *oci_federation_key_id(const struct oci_identity *id);
/* The POST /v1/x509 body {certificate, publicKey, intermediateCertificates, fingerprintAlgorithm}
 * with base64 DER (the PEM bodies without header lines), malloc'd compact JSON. */
char *oci_federation_body(const struct oci_identity *id, EVP_PKEY *session_key);
/* Parses the federation answer {"token": JWT}: *token (malloc'd) and its "exp" claim. */
cloud_err oci_federation_parse(const char *json, size_t len, char **token, int64_t *exp);
/* The "exp" claim of a JWT (payload not verified: it came over TLS from the auth service). */
cloud_err oci_jwt_exp(const char *jwt, size_t len, int64_t *exp);

/* ---- Vault secrets and endpoints (oci_vault.c) ---------------------------------------------- */

/* An OCID or another id that goes into a URL path or query: 1-255 of [A-Za-z0-9._-]. */
int oci_id_ok(const char *id);
/* "{base}{path}{id}{suffix}", base being api_base (tests) or "https://{prefix}.{region}.{domain}";
 * malloc'd, NULL when the base does not fit or allocation fails. The caller checks id. */
char *oci_endpoint_url(const char *api_base, const char *prefix, const char *region, const char *domain,
                       const char *path, const char *id, const char *suffix);

/* Vault, Notifications and auth endpoints; api_base (tests) replaces "https://{svc}.{region}...".
 * id must be an OCID ([A-Za-z0-9._-]+). malloc'd, NULL on a bad id or allocation failure. */
char *oci_vault_url(const char *api_base, const char *region, const char *secret_id);
char *oci_notify_url(const char *api_base, const char *region, const char *topic_id);
char *oci_auth_url(const char *api_base, const char *region);

/* Decodes secretBundleContent.content (contentType BASE64) of a GetSecretBundle answer into a
 * malloc'd buffer (NUL after *outlen; the caller wipes and frees it). */
cloud_err oci_vault_parse(const char *json, size_t len, uint8_t **out, size_t *outlen);

/* ---- Monitoring and instance actions for the egress guard (oci_monitoring.c) ---------------- */

/* POST .../20180401/metrics/actions/summarizeMetricsData?compartmentId=...; malloc'd, NULL on a bad id. */
char *oci_monitoring_url(const char *api_base, const char *region, const char *compartment_id);
/* POST .../20160918/instances/{id}?action=ACTION (e.g. SOFTSTOP); malloc'd, NULL on a bad id. */
char *oci_instance_action_url(const char *api_base, const char *region, const char *instance_id, const char *action);
/* 00:00:00 UTC on the first of now's month. */
time_t oci_month_start(time_t now);
/* SummarizeMetricsDataDetails for oci_vcn VnicToNetworkBytes[1h].sum() from the month's start to now,
 * resolution 1h, limited to one VNIC when vnic_id is given (else every VNIC of the compartment). */
char *oci_egress_query_body(const char *vnic_id, time_t now);
/* Sums the answer's datapoints. *series == 0 means Monitoring had no data: never read that as zero.
 * CLOUD_ERR_FORMAT for anything but an array of VnicToNetworkBytes series with numeric values. */
cloud_err oci_egress_parse(const char *json, size_t len, double *bytes, unsigned *series, unsigned *points);

/* ---- Notifications and errors (oci_notify.c) ------------------------------------------------ */

/* {"title": title, "body": body} with title cut to CLOUD_NOTIFY_MAX_TITLE and body to
 * CLOUD_NOTIFY_MAX_BODY bytes (on a UTF-8 boundary). malloc'd. */
char *oci_notify_body(const char *title, const char *body);

/* An OCI error answer {"code": "...", "message": "..."}: copies code and message (cut) into the
 * buffers; empty strings when the body is not one. */
void oci_error_parse(const char *json, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap);
/* 1 when a 401 answer is OCI's clock-skew rejection ("... is not within allowed clock skew ..."). */
int oci_error_is_clock_skew(long status, const char *msg);
#endif
