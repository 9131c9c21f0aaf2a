/* config: the one settings struct of the service, filled in this order: compiled defaults, a
 * config file (key = value lines), environment variables (SEALED_*, PAYPAL_*), and in the sealed
 * image instance metadata, which may set only the keys DESIGN.md's trust rule lists
 * (config_apply_metadata). Owns every string in the struct; config_clear wipes secrets. */
#ifndef SEALED_CONFIG_H
#define SEALED_CONFIG_H
#include <stddef.h>
#include <stdint.h>

enum paypal_env { PAYPAL_ENV_LIVE, PAYPAL_ENV_SANDBOX, PAYPAL_ENV_LOCAL_FAKE };
/* PayPal's OpenID issuer and JWKS are compiled in: common/id_token.h (the verifier shares them). */

struct config {
    /* site */
    char    *domain;            /* host[:port] used in https://DOMAIN/callback and iss */
    char     domain_host[256];  /* domain's host part, split and checked once when domain is set */
    int      domain_port;       /* domain's :port, 0 when none (443) */
    char    *listen_addr;       /* bind address, default "0.0.0.0" */
    char    *proxy_v2_from;     /* address range of the load balancer that sends PROXY v2 headers; NULL = none */
    int      https_port;        /* 443 in the image, 8443 locally */
    int      http_port;         /* 80 in the image (ACME + redirect); 0 = off */
    char    *measurement;       /* hex launch measurement of this build, NULL = unmeasured */
    char    *source_commit;     /* git commit the image was built from (baked by the image build) */
    char    *kernel_cmdline_file; /* /proc/cmdline: read when source_commit is set */
    char    *kernel_cmdline;    /* what it held (measured with the image), or NULL; not a key */

    /* PayPal */
    enum paypal_env paypal_env;
    char    *paypal_client_id;  /* instance metadata `paypal_client_id` or PAYPAL_CLIENT_ID */
    char    *paypal_secret;     /* secret store or PAYPAL_SECRET; wiped by config_clear */
    char    *paypal_authorize_url; /* derived from env unless overridden (non-sealed builds) */
    char    *paypal_api_base;      /* https://api-m.paypal.com, sandbox, or the local fake */
    char    *paypal_scope;         /* "openid profile email" */
    char    *paypal_userinfo_path; /* "/v1/identity/oauth2/userinfo?schema=paypalv1.1" */
    char    *paypal_ca_file;       /* CA bundle for outbound TLS to PayPal; NULL = system */
    char    *paypal_issuer;        /* id_token iss: PAYPAL_ISSUER_* by env; local: settable (tests) */
    char    *paypal_jwks_url;      /* PayPal's JWKS: PAYPAL_JWKS_* by env; local: settable (tests) */

    /* evidence */
    char    *signing_key_pem;   /* SEALED_SIGNING_KEY (P-256 PEM) or NULL = per-boot key; wiped */
    uint64_t idset_capacity;    /* max PayPal ids served per boot */
    uint64_t egress_cap_bytes;  /* egress guard: the VM stops itself at this month's egress; 0 = off */
    uint64_t egress_poll_s;     /* egress guard: seconds between readings (0 = CLOUD_EGRESS_POLL_S) */

    /* state outside the process (issue 12) */
    char    *state_dir;         /* SEALED_STATE_DIR: where the state file lives; NULL = this process only */
    char    *state_store;       /* gcs:BUCKET/OBJECT, oci:NAMESPACE/BUCKET/OBJECT, or NULL/"none" (per boot) */
    char    *state_store_base;  /* tests: the object store's base URL (a fake); NULL = the real host */
    char    *state_seal;        /* auto, tpm, snp, none */
    char    *state_tpm_dev;     /* the TPM that seals the state; NULL = tpm_dev (tests: a second swtpm
                                   connection cannot share the provider's, which stays open) */
    uint64_t state_seal_pcrs;   /* SHA-256 PCRs the TPM key is sealed to (bit i = PCR i) */
    uint64_t callback_rate_per_addr; /* /callback per client address (IPv6: /64) per minute */
    uint64_t callback_rate_global;   /* /callback for everyone per second */

    /* ACME (issue 3) */
    char    *acme_directory;    /* NULL = self-signed certificate (local runs) */
    char    *acme_contact;      /* optional mailto: */
    char    *acme_profile;      /* optional profile name */
    char    *acme_ca_file;      /* CA bundle for the directory connection (Pebble in tests) */

    /* cloud (issue 4) */
    char    *platform;          /* "auto", "oci", "gcp", "none" */
    char    *secret_ocid;       /* OCI Vault secret OCID, or GCP secret resource name */
    char    *signing_key_secret_ocid;
    char    *notification_topic_id;
    char    *metadata_base;     /* override of the metadata endpoint (tests against fakes) */
    char    *cloud_api_base;    /* override of every cloud API host (auth, Vault, Notifications,
                                   Secret Manager) for tests against fakes (http:// allowed there,
                                   as for paypal_api_base); NULL = the real hosts */
    char    *cloud_ca_file;     /* CA bundle for cloud API TLS; NULL = system roots */

    /* attestation (issue 5): device paths, overridable for emulated devices in tests */
    char    *tsm_report_dir;    /* /sys/kernel/config/tsm/report */
    char    *sev_guest_dev;     /* /dev/sev-guest */
    char    *tpm_dev;           /* /dev/tpmrm0; tests: "unix:PATH" or "tcp:HOST:PORT" (swtpm) */
    char    *tpm_eventlog;      /* /sys/kernel/security/tpm0/binary_bios_measurements */
    char    *acpi_tables_dir;   /* /sys/firmware/acpi/tables (TDX CCEL table and its log) */
    char    *amd_kds_url;       /* https://kdsintf.amd.com (VCEK fetch when the host gives none) */
};

/* Fills compiled defaults. Returns 0, -1 on allocation failure. */
int config_defaults(struct config *c);
/* Splits c->domain into domain_host and domain_port: letters, digits, '.', '-', and one optional
 * ":port" (1-65535). config_finish and config_apply_metadata call it, so the domain is split once,
 * where it is set; 0, or -1 with a message in err. */
int config_domain_split(struct config *c, char *err, size_t errlen);
/* Applies "key = value" lines from path ('#' comments). Unknown keys and bad values are errors:
 * returns -1 and writes "file:line: reason" into err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* Applies environment variables (see docs/configuration.md). Returns -1 with err set on a bad value. */
int config_load_env(struct config *c, char *err, size_t errlen);
/* Applies one instance-metadata key; only the trust rule's keys are accepted (returns -1 for any
 * other key). */
int config_apply_metadata(struct config *c, const char *key, const char *value);
/* Sets endpoints derived from paypal_env that were not given explicitly; checks consistency.
 * Returns -1 with err set when the configuration cannot run. */
int config_finish(struct config *c, char *err, size_t errlen);
/* With source_commit set: reads kernel_cmdline_file into kernel_cmdline, the command line the image
 * booted with (it is measured, and a visitor needs it to rebuild the same bytes). Only one line of
 * printable ASCII without quotes, up to LIMIT_KERNEL_CMDLINE_BYTES, is kept; anything else leaves
 * it NULL. Returns 0 (an unreadable file is not an error: local runs have no image). */
int config_load_cmdline(struct config *c);
/* Frees every string; wipes secret ones first. */
void config_clear(struct config *c);
/* Replaces *slot with a copy of value (NULL clears); wipes the old value. Returns -1 on ENOMEM. */
int config_set_str(char **slot, const char *value);
#endif
