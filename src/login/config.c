/* config: compiled defaults, "key = value" file, environment and trust-rule metadata keys, all
 * through one table so that a key's name, type, env variable and trust class are stated once. */
#include "login/config.h"
#include "common/id_token.h"
#include "login/limits.h"
#include "common/codec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

enum kind { K_STR, K_PORT, K_U64, K_ENV };
enum trust {
    T_MEASURED,   /* compiled in or baked into the image: file and env only */
    T_METADATA,   /* may also come from instance metadata (DESIGN.md trust rule) */
    T_SECRET,     /* secret store / env only; wiped; never logged */
    T_LOWER,      /* measured; instance metadata may only lower a non-zero value (a cap: acting
                     earlier is all whoever writes the metadata gains, who can stop the VM anyway) */
};

struct key {
    const char *name;    /* config-file and metadata key */
    const char *env;     /* environment variable */
    enum kind kind;
    enum trust trust;
    size_t off;
};

#define S(f) offsetof(struct config, f)
static const struct key KEYS[] = {
    {"domain", "SEALED_DOMAIN", K_STR, T_METADATA, S(domain)},
    {"listen", "SEALED_LISTEN", K_STR, T_MEASURED, S(listen_addr)},
    {"proxy_v2_from", "SEALED_PROXY_V2_FROM", K_STR, T_MEASURED, S(proxy_v2_from)},
    {"https_port", "SEALED_HTTPS_PORT", K_PORT, T_MEASURED, S(https_port)},
    {"http_port", "SEALED_HTTP_PORT", K_PORT, T_MEASURED, S(http_port)},
    {"measurement", "SEALED_MEASUREMENT", K_STR, T_MEASURED, S(measurement)},
    {"source_commit", "SEALED_SOURCE_COMMIT", K_STR, T_MEASURED, S(source_commit)},
    {"kernel_cmdline_file", "SEALED_KERNEL_CMDLINE_FILE", K_STR, T_MEASURED, S(kernel_cmdline_file)},
    {"paypal_env", "PAYPAL_ENV", K_ENV, T_MEASURED, S(paypal_env)},
    {"paypal_client_id", "PAYPAL_CLIENT_ID", K_STR, T_METADATA, S(paypal_client_id)},
    {"paypal_secret", "PAYPAL_SECRET", K_STR, T_SECRET, S(paypal_secret)},
    {"paypal_authorize_url", "PAYPAL_AUTHORIZE_URL", K_STR, T_MEASURED, S(paypal_authorize_url)},
    {"paypal_api_base", "PAYPAL_API_BASE", K_STR, T_MEASURED, S(paypal_api_base)},
    {"paypal_scope", "PAYPAL_SCOPE", K_STR, T_MEASURED, S(paypal_scope)},
    {"paypal_userinfo_path", "PAYPAL_USERINFO_PATH", K_STR, T_MEASURED, S(paypal_userinfo_path)},
    {"paypal_ca_file", "PAYPAL_CA_FILE", K_STR, T_MEASURED, S(paypal_ca_file)},
    {"paypal_issuer", "PAYPAL_ISSUER", K_STR, T_MEASURED, S(paypal_issuer)},
    {"paypal_jwks_url", "PAYPAL_JWKS_URL", K_STR, T_MEASURED, S(paypal_jwks_url)},
    {"signing_key", "SEALED_SIGNING_KEY", K_STR, T_SECRET, S(signing_key_pem)},
    {"idset_capacity", "SEALED_IDSET_CAPACITY", K_U64, T_MEASURED, S(idset_capacity)},
    {"state_dir", "SEALED_STATE_DIR", K_STR, T_MEASURED, S(state_dir)},
    {"state_store", "SEALED_STATE_STORE", K_STR, T_METADATA, S(state_store)},
    {"state_store_base", "SEALED_STATE_STORE_BASE", K_STR, T_MEASURED, S(state_store_base)},
    {"state_seal", "SEALED_STATE_SEAL", K_STR, T_MEASURED, S(state_seal)},
    {"state_tpm_dev", "SEALED_STATE_TPM_DEV", K_STR, T_MEASURED, S(state_tpm_dev)},
    {"state_seal_pcrs", "SEALED_STATE_SEAL_PCRS", K_U64, T_MEASURED, S(state_seal_pcrs)},
    {"callback_rate_per_addr", "SEALED_CALLBACK_RATE_PER_ADDR", K_U64, T_MEASURED, S(callback_rate_per_addr)},
    {"callback_rate_global", "SEALED_CALLBACK_RATE_GLOBAL", K_U64, T_MEASURED, S(callback_rate_global)},
    {"egress_cap_bytes", "SEALED_EGRESS_CAP_BYTES", K_U64, T_LOWER, S(egress_cap_bytes)},
    {"egress_poll_s", "SEALED_EGRESS_POLL_S", K_U64, T_MEASURED, S(egress_poll_s)},
    {"acme_directory", "SEALED_ACME_DIRECTORY", K_STR, T_MEASURED, S(acme_directory)},
    {"acme_contact", "SEALED_ACME_CONTACT", K_STR, T_MEASURED, S(acme_contact)},
    {"acme_profile", "SEALED_ACME_PROFILE", K_STR, T_MEASURED, S(acme_profile)},
    {"acme_ca_file", "SEALED_ACME_CA_FILE", K_STR, T_MEASURED, S(acme_ca_file)},
    {"platform", "SEALED_PLATFORM", K_STR, T_MEASURED, S(platform)},
    {"secret_ocid", "SEALED_SECRET_OCID", K_STR, T_METADATA, S(secret_ocid)},
    {"signing_key_secret_ocid", "SEALED_SIGNING_KEY_SECRET_OCID", K_STR, T_METADATA, S(signing_key_secret_ocid)},
    {"notification_topic_id", "SEALED_NOTIFICATION_TOPIC_ID", K_STR, T_METADATA, S(notification_topic_id)},
    {"metadata_base", "SEALED_METADATA_BASE", K_STR, T_MEASURED, S(metadata_base)},
    {"cloud_api_base", "SEALED_CLOUD_API_BASE", K_STR, T_MEASURED, S(cloud_api_base)},
    {"cloud_ca_file", "SEALED_CLOUD_CA_FILE", K_STR, T_MEASURED, S(cloud_ca_file)},
    {"tsm_report_dir", "SEALED_TSM_REPORT_DIR", K_STR, T_MEASURED, S(tsm_report_dir)},
    {"sev_guest_dev", "SEALED_SEV_GUEST_DEV", K_STR, T_MEASURED, S(sev_guest_dev)},
    {"tpm_dev", "SEALED_TPM_DEV", K_STR, T_MEASURED, S(tpm_dev)},
    {"tpm_eventlog", "SEALED_TPM_EVENTLOG", K_STR, T_MEASURED, S(tpm_eventlog)},
    {"acpi_tables_dir", "SEALED_ACPI_TABLES_DIR", K_STR, T_MEASURED, S(acpi_tables_dir)},
    {"amd_kds_url", "SEALED_AMD_KDS_URL", K_STR, T_MEASURED, S(amd_kds_url)},
};
#undef S
#define NKEYS (sizeof KEYS / sizeof *KEYS)

int config_set_str(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -1;
    if (*slot)
        OPENSSL_clear_free(*slot, strlen(*slot));
    *slot = copy;
    return 0;
}

static int parse_env(const char *v, enum paypal_env *out)
{
    if (!strcmp(v, "live")) *out = PAYPAL_ENV_LIVE;
    else if (!strcmp(v, "sandbox")) *out = PAYPAL_ENV_SANDBOX;
    else if (!strcmp(v, "local")) *out = PAYPAL_ENV_LOCAL_FAKE;
    else return -1;
    return 0;
}

/* Sets one key from text; returns 0, or -1 with a reason (no value echoed: it may be secret). */
static int set_key(struct config *c, const struct key *k, const char *v, const char **why)
{
    char *base = (char *)c;
    uint64_t n;
    switch (k->kind) {
    case K_STR:
        if (config_set_str((char **)(base + k->off), *v ? v : NULL)) { *why = "out of memory"; return -1; }
        return 0;
    case K_PORT:
        if (codec_parse_u64(v, strlen(v), 0, 65535, &n)) { *why = "not a port number (0-65535)"; return -1; }
        *(int *)(base + k->off) = (int)n;
        return 0;
    case K_U64:
        if (codec_parse_u64(v, strlen(v), 1, UINT64_MAX / 4, &n)) { *why = "not a positive integer"; return -1; }
        *(uint64_t *)(base + k->off) = n;
        return 0;
    case K_ENV:
        if (parse_env(v, (enum paypal_env *)(base + k->off))) { *why = "must be live, sandbox or local"; return -1; }
        return 0;
    }
    return -1;
}

static const struct key *find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(KEYS[i].name) == len && !memcmp(KEYS[i].name, name, len))
            return &KEYS[i];
    return NULL;
}

int config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    c->https_port = 8443;
    c->http_port = 0;
    c->paypal_env = PAYPAL_ENV_SANDBOX;
    c->idset_capacity = IDSET_DEFAULT_CAPACITY;
    c->callback_rate_per_addr = CALLBACK_RATE_PER_ADDR_PER_MIN;
    c->callback_rate_global = CALLBACK_RATE_GLOBAL_PER_S;
    c->state_seal_pcrs = (1u << 4) | (1u << 9) | (1u << 11);   /* the UKI's PCRs the manifest predicts */
    if (config_set_str(&c->listen_addr, "0.0.0.0") ||
        config_set_str(&c->paypal_scope, "openid profile email") ||
        config_set_str(&c->paypal_userinfo_path, "/v1/identity/oauth2/userinfo?schema=paypalv1.1") ||
        config_set_str(&c->platform, "none") ||
        config_set_str(&c->state_seal, "auto") ||
        config_set_str(&c->tsm_report_dir, "/sys/kernel/config/tsm/report") ||
        config_set_str(&c->sev_guest_dev, "/dev/sev-guest") ||
        config_set_str(&c->tpm_dev, "/dev/tpmrm0") ||
        config_set_str(&c->kernel_cmdline_file, "/proc/cmdline"))
        return -1;
    return 0;
}

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = 0;
    *end = 0;
    return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        else if (len == sizeof line - 1) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line, line + strlen(line));
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *k = trim(s, eq), *v = trim(eq + 1, eq + 1 + strlen(eq + 1));
        const struct key *key = find_key(k, strlen(k));
        const char *why = NULL;
        if (!key) {
            snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, k);
            rc = -1;
            break;
        }
        if (set_key(c, key, v, &why)) {
            snprintf(err, errlen, "%s:%d: %s: %s", path, lineno, k, why);
            rc = -1;
            break;
        }
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    return rc;
}

int config_load_env(struct config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char *v = getenv(KEYS[i].env);
        const char *why = NULL;
        if (v && set_key(c, &KEYS[i], v, &why)) {
            snprintf(err, errlen, "environment %s: %s", KEYS[i].env, why);
            return -1;
        }
        if (v && KEYS[i].trust == T_SECRET) {   /* the config holds the only copy from now on */
            OPENSSL_cleanse(v, strlen(v));
            unsetenv(KEYS[i].env);
        }
    }
    return 0;
}

int config_domain_split(struct config *c, char *err, size_t errlen)
{
    const char *d = c->domain, *colon = strchr(d, ':');
    size_t hl = colon ? (size_t)(colon - d) : strlen(d);
    uint64_t port = 0;
    for (size_t i = 0; i < hl; i++)
        if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z') || (d[i] >= '0' && d[i] <= '9') ||
              d[i] == '.' || d[i] == '-')) {
            snprintf(err, errlen, "domain: only letters, digits, '.', '-' and ':port' are allowed");
            return -1;
        }
    if (hl == 0 || hl >= sizeof c->domain_host ||
        (colon && codec_parse_u64(colon + 1, strlen(colon + 1), 1, 65535, &port))) {
        snprintf(err, errlen, "domain: a host name of 1-255 characters and an optional :port (1-65535)");
        return -1;
    }
    memcpy(c->domain_host, d, hl);
    c->domain_host[hl] = 0;
    c->domain_port = (int)port;
    return 0;
}

int config_apply_metadata(struct config *c, const char *key, const char *value)
{
    const struct key *k = find_key(key, strlen(key));
    const char *why;
    if (k && k->trust == T_LOWER && k->kind == K_U64) {
        uint64_t *cur = (uint64_t *)((char *)c + k->off), n;
        if (codec_parse_u64(value, strlen(value), 1, UINT64_MAX / 4, &n))
            return -1;
        if (*cur && n < *cur)
            *cur = n;   /* never raised, never turned on or off */
        return 0;
    }
    if (!k || k->trust != T_METADATA)
        return -1;   /* the trust rule: metadata sets only data that ends up bound in evidence */
    if (set_key(c, k, value, &why))
        return -1;
    char err[128];
    return k->off == offsetof(struct config, domain) && c->domain && config_domain_split(c, err, sizeof err) ? -1 : 0;
}

int config_finish(struct config *c, char *err, size_t errlen)
{
    const char *auth = NULL, *api = NULL;
    if (c->paypal_env == PAYPAL_ENV_LIVE) {
        auth = "https://www.paypal.com/signin/authorize";
        api = "https://api-m.paypal.com";
    } else if (c->paypal_env == PAYPAL_ENV_SANDBOX) {
        auth = "https://www.sandbox.paypal.com/signin/authorize";
        api = "https://api-m.sandbox.paypal.com";
    }
    if ((!c->paypal_authorize_url && auth && config_set_str(&c->paypal_authorize_url, auth)) ||
        (!c->paypal_api_base && api && config_set_str(&c->paypal_api_base, api)))
        goto nomem;
    if (!c->paypal_authorize_url || !c->paypal_api_base) {
        snprintf(err, errlen, "paypal_env local needs paypal_authorize_url and paypal_api_base");
        return -1;
    }
    /* Whom PayPal's id_tokens must come from and where its keys are (PayPal's discovery document,
     * docs/paypal.md): compiled in for live and sandbox; only the local stand-in may name others. */
    if (c->paypal_env != PAYPAL_ENV_LOCAL_FAKE && (c->paypal_issuer || c->paypal_jwks_url)) {
        snprintf(err, errlen, "paypal_issuer and paypal_jwks_url are compiled in for live and sandbox; "
                              "only paypal_env local (tests) may set them");
        return -1;
    }
    if (c->paypal_env == PAYPAL_ENV_LIVE) {
        if (config_set_str(&c->paypal_issuer, PAYPAL_ISSUER_LIVE) || config_set_str(&c->paypal_jwks_url, PAYPAL_JWKS_LIVE))
            goto nomem;
    } else if (c->paypal_env == PAYPAL_ENV_SANDBOX) {
        if (config_set_str(&c->paypal_issuer, PAYPAL_ISSUER_SANDBOX) ||
            config_set_str(&c->paypal_jwks_url, PAYPAL_JWKS_SANDBOX))
            goto nomem;
    } else {
        char u[1024];
        snprintf(u, sizeof u, "%s/v1/oauth2/certs", c->paypal_api_base);   /* the stand-in's own */
        if ((!c->paypal_issuer && config_set_str(&c->paypal_issuer, c->paypal_api_base)) ||
            (!c->paypal_jwks_url && config_set_str(&c->paypal_jwks_url, u)))
            goto nomem;
    }
    if (!c->domain) {
        char d[64];
        if (c->https_port == 443)
            snprintf(d, sizeof d, "localhost");
        else
            snprintf(d, sizeof d, "localhost:%d", c->https_port);
        if (config_set_str(&c->domain, d))
            goto nomem;
    }
    if (config_domain_split(c, err, errlen))
        return -1;
    if (c->source_commit) {
        /* a git object id (7-64 hex digits), "+dirty" when the build tree had changes */
        size_t n = strspn(c->source_commit, "0123456789abcdef");
        const char *rest = c->source_commit + n;
        if (n < 7 || n > 64 || (*rest && strcmp(rest, "+dirty"))) {
            snprintf(err, errlen, "source_commit: a git commit id (7-64 lowercase hex digits), optionally +dirty");
            return -1;
        }
    }
    if (c->idset_capacity < 1) {
        snprintf(err, errlen, "idset_capacity must be at least 1");
        return -1;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int config_load_cmdline(struct config *c)
{
    config_set_str(&c->kernel_cmdline, NULL);
    if (!c->source_commit || !c->kernel_cmdline_file)
        return 0;
    FILE *f = fopen(c->kernel_cmdline_file, "re");
    if (!f)
        return 0;
    char buf[LIMIT_KERNEL_CMDLINE_BYTES + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    if (n == 0 || n > LIMIT_KERNEL_CMDLINE_BYTES)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] < 0x20 || buf[i] > 0x7e || buf[i] == '\'' || buf[i] == '"' || buf[i] == '\\')
            return 0;
    buf[n] = 0;
    config_set_str(&c->kernel_cmdline, buf);
    return 0;
}

void config_clear(struct config *c)
{
    config_set_str(&c->kernel_cmdline, NULL);
    for (size_t i = 0; i < NKEYS; i++)
        if (KEYS[i].kind == K_STR)
            config_set_str((char **)((char *)c + KEYS[i].off), NULL);
    memset(c, 0, sizeof *c);
}
