/* cloud: the boot-flow state machine (detect → metadata → identity → token → secrets → ready) and
 * the notification queue, on the event loop over http_client. Owns the session key, tokens and
 * every timer and call it starts; writes into the config only through config_apply_metadata (the
 * trust rule's keys) and the two secret slots. Logs one line per event, never a value it fetched. */
#include "login/cloud/cloud.h"
#include "common/gcp.h"
#include "common/gcp_monitoring.h"
#include "login/cloud/keygen.h"
#include "common/oci.h"
#include "login/cloud/platform.h"
#include "common/oci_sign.h"
#include "login/config.h"
#include "login/http_client.h"
#include "login/limits.h"
#include "login/log.h"
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum step {
    S_IDLE,
    S_DETECT,        /* probing metadata servers (platform "auto") */
    S_METADATA,      /* OCI instance document / GCP attributes */
    S_PROJECT,       /* GCP project id */
    S_GCP_INSTANCE,  /* GCP instance id, zone, name (sub-step gcp_part) */
    S_IDENTITY,      /* OCI identity cert/key/intermediate (sub-step ident_part) */
    S_FEDERATE,      /* OCI /v1/x509 */
    S_GCP_TOKEN,     /* GCP service-account token */
    S_SECRET,        /* PAYPAL_SECRET */
    S_SIGNING_KEY,   /* the optional signing key */
    S_READY,
};

static const char *const STEP_NAMES[] = {"idle", "detect", "metadata", "project", "instance", "identity", "federation",
                                         "sa_token", "secret", "signing_key", "ready"};

struct note {
    char *title, *body;   /* owned */
};

struct cloud {
    struct event_base *base;         /* borrowed */
    struct http_client *http;        /* borrowed */
    struct config *cfg;              /* borrowed; we set metadata keys and the secret slots */
    cloud_platform platform;
    int is_auto;
    enum step step;
    void (*ready)(void *arg);
    void *ready_arg;
    int is_ready;

    struct event *retry_timer;       /* owned: the step's backoff, and the "none" kick */
    struct event *refresh_timer;     /* owned: OCI token renewal */
    struct event *notify_timer;      /* owned: notification backoff */
    struct event *daily_timer;       /* owned */
    struct http_call *call;          /* the step's call in flight */
    struct http_call *probe[2];      /* detection probes: OCI, GCP */
    int probe_ok[2], probe_done[2];
    unsigned probe_round;
    unsigned attempt;                /* consecutive failures of the current step */
    unsigned secret_attempt;         /* consecutive failed secret fetches (across detours) */
    unsigned retries;                /* total retries since start */
    char reason[192];                /* cloud_unavailable_reason */
    char last_error[256];
    long clock_offset_s;             /* service clock minus ours (from a clock-skew rejection) */
    int md_v6;                       /* OCI: use the IPv6 metadata address */

    /* OCI */
    struct oci_instance inst;        /* owned */
    int ident_part;                  /* 0 cert, 1 key, 2 intermediate */
    char *pem[3];                    /* owned; [1] is the instance key: wiped */
    size_t pem_len[3];
    struct oci_identity ident;       /* owned */
    EVP_PKEY *session_key;           /* owned: the key bound to key_id's token */
    EVP_PKEY *pending_key;           /* owned: the key of a federation in flight */
    EVP_PKEY *spare_key;             /* owned: made ahead on the keygen thread */
    struct cloud_keygen *keygen;     /* owned */
    char *key_id;                    /* owned: "ST$" token, wiped */
    int64_t token_exp;               /* service-clock seconds */
    int refreshing;

    /* GCP */
    char *project_id;                /* owned */
    struct gcp_instance gce;         /* id, zone, name: the egress guard stops this instance */
    int gcp_part;                    /* 0 id, 1 zone, 2 name */
    char *gcp_token;                 /* owned, wiped */
    int64_t gcp_token_exp;           /* our clock */
    int crc_checked;

    unsigned secret_failures;
    int secret_fail_noted;
    int secret_fetched, signing_key_fetched;

    struct note queue[CLOUD_NOTIFY_QUEUE_MAX];
    unsigned qlen;
    struct http_call *notify_call;
    unsigned notify_attempt;
    unsigned notify_sent, notify_failed, notify_dropped;
    char *(*daily)(void *arg);
    void *daily_arg;
};

static void step_start(struct cloud *c);
static void notify_pump(struct cloud *c);

cloud_platform cloud_get_platform(const struct cloud *c)
{
    return c->platform;
}

const char *cloud_platform_name(cloud_platform p)
{
    return p == CLOUD_PLATFORM_OCI ? "oci" : p == CLOUD_PLATFORM_GCP ? "gcp" : "none";
}

static void free_str(char **s)
{
    if (*s) {
        OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

static void set_reason(struct cloud *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct cloud *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

static int64_t service_now(const struct cloud *c) { return (int64_t)time(NULL) + c->clock_offset_s; }

static unsigned backoff_ms(unsigned attempt)
{
    unsigned ms = CLOUD_BACKOFF_MIN_MS;
    for (unsigned i = 1; i < attempt && ms < CLOUD_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > CLOUD_BACKOFF_MAX_MS)
        ms = CLOUD_BACKOFF_MAX_MS;
    uint16_t r = 0;
    RAND_bytes((unsigned char *)&r, sizeof r);
    return ms - ms / 5 + (unsigned)(r % (ms / 5 + 1));   /* 80-100 %: spread the herd */
}

static void arm(struct event *ev, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* One log line and a retry of the current step after the backoff. */
static void step_fail(struct cloud *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step_fail(struct cloud *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
    va_end(ap);
    /* a failing secret fetch detours through metadata or identity, which succeed and reset
     * attempt: its own counter keeps that loop's backoff growing */
    int secret = c->step == S_SECRET || c->step == S_SIGNING_KEY;
    unsigned n = secret ? ++c->secret_attempt : ++c->attempt;
    c->retries++;
    unsigned ms = backoff_ms(n);
    log_warn("cloud.retry", "platform=%s step=%s attempt=%u retry_in_ms=%u reason=\"%s\"",
             cloud_platform_name(c->platform), STEP_NAMES[c->step], n, ms, c->last_error);
    if (!c->is_ready)
        set_reason(c, "waiting for the cloud (%s): %s; retrying", STEP_NAMES[c->step], c->last_error);
    arm(c->retry_timer, ms);
}

static void goto_step(struct cloud *c, enum step s)
{
    c->step = s;
    c->attempt = 0;
    step_start(c);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct cloud *c = arg;
    if (c->step == S_IDLE) {   /* platform none: the deferred ready */
        c->step = S_READY;
        c->is_ready = 1;
        c->reason[0] = 0;
        if (c->ready)
            c->ready(c->ready_arg);
        return;
    }
    if (c->step == S_READY && c->platform == CLOUD_PLATFORM_NONE) {   /* configured none */
        if (c->ready)
            c->ready(c->ready_arg);
        return;
    }
    step_start(c);
}

/* Describes a failed HTTP answer for the log: transport error, or status + OCI/GCP error code. */
static void describe(const struct cloud *c, const struct http_response *r, char *out, size_t cap, char *msg,
                     size_t msg_cap)
{
    char code[64];
    msg[0] = 0;
    if (r->err) {
        snprintf(out, cap, "%s", http_client_strerror(r->err));
        return;
    }
    if (c->platform == CLOUD_PLATFORM_GCP)
        gcp_error_parse((const char *)r->body, r->body_len, code, sizeof code, msg, msg_cap);
    else
        oci_error_parse((const char *)r->body, r->body_len, code, sizeof code, msg, msg_cap);
    snprintf(out, cap, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
}

/* The 401 clock-skew rejection: take the service's clock from its Date header. Returns 1 when the
 * offset was corrected (retry at once), 0 otherwise. */
static int handle_skew(struct cloud *c, const struct http_response *r, const char *msg)
{
    if (!oci_error_is_clock_skew(r->status, msg))
        return 0;
    const char *d = http_response_header(r, "date");
    time_t server;
    if (!d || oci_sign_parse_date(d, strlen(d), &server))
        return 0;
    long off = (long)((int64_t)server - (int64_t)time(NULL));
    if (off > CLOUD_MAX_CLOCK_OFFSET_S || off < -CLOUD_MAX_CLOCK_OFFSET_S || off == c->clock_offset_s)
        return 0;
    log_warn("cloud.clock_skew", "offset_s=%ld step=%s note=\"our clock is more than 5 minutes off the "
             "service's; signing with the service's time\"", off, STEP_NAMES[c->step]);
    c->clock_offset_s = off;
    return 1;
}

/* ---- HTTP helpers --------------------------------------------------------------------------- */

/* Plain HTTP to the cloud APIs only for a test build whose measured config points cloud_api_base
 * at fakes over http:// (as paypal_api_base may point at the fake PayPal); never for real hosts. */
static int api_plain_ok(const struct cloud *c)
{
    return c->cfg->cloud_api_base && !strncmp(c->cfg->cloud_api_base, "http://", 7);
}

static int start_get(struct cloud *c, struct http_call **slot, const char *url, const char *const *hdrs, long timeout,
                     size_t cap, int metadata, http_done_fn done)
{
    struct http_request rq = {
        .method = "GET", .url = url, .headers = hdrs, .timeout_ms = timeout, .max_response = cap,
        .allow_plain_http = metadata || api_plain_ok(c), .ca_file = metadata ? NULL : c->cfg->cloud_ca_file,
    };
    *slot = http_client_start(c->http, &rq, done, c);
    return *slot ? 0 : -1;
}

static int oci_call_arg(struct cloud *c, struct http_call **slot, const char *method, const char *url, const char *body,
                        const char *extra_header, size_t cap, http_done_fn done, void *arg);

/* Signs and starts an OCI API call with the session key and "ST$token". */
static int oci_call(struct cloud *c, struct http_call **slot, const char *method, const char *url, const char *body,
                    const char *extra_header, size_t cap, http_done_fn done)
{
    return oci_call_arg(c, slot, method, url, body, extra_header, cap, done, c);
}

int cloud_oci_call(struct cloud *c, struct http_call **slot, const char *method, const char *url, const char *body,
                   size_t cap, http_done_fn done, void *arg)
{
    if (!c || c->platform != CLOUD_PLATFORM_OCI || !c->key_id || !c->session_key || c->token_exp - service_now(c) < 30)
        return -1;
    return oci_call_arg(c, slot, method, url, body, NULL, cap, done, arg);
}

int cloud_authed_call(struct cloud *c, struct http_call **slot, const struct http_request *req, http_done_fn done,
                      void *arg)
{
    const char *hdrs[OCI_SIGN_MAX_HEADERS + 12];
    int n = 0;
    char *bearer = NULL;
    struct oci_sign_result sr = {0};
    int signed_oci = 0;
    if (!c)
        return -1;
    if (c->platform == CLOUD_PLATFORM_OCI && c->key_id && c->session_key && c->token_exp - service_now(c) >= 30) {
        struct oci_sign_request rq = {.method = req->method, .url = req->url, .clock_offset_s = c->clock_offset_s,
                                      .body = req->body, .body_len = req->body_len,
                                      .content_type = "application/octet-stream"};
        if (oci_sign_request(c->session_key, c->key_id, &rq, &sr))
            return -1;
        signed_oci = 1;
        for (; sr.headers[n]; n++)
            hdrs[n] = sr.headers[n];
    } else if (c->platform == CLOUD_PLATFORM_GCP && c->gcp_token && c->gcp_token_exp - (int64_t)time(NULL) >= 30) {
        size_t hl = strlen(c->gcp_token) + 32;
        if (!(bearer = malloc(hl)))
            return -1;
        snprintf(bearer, hl, "Authorization: Bearer %s", c->gcp_token);
        hdrs[n++] = bearer;
    } else
        return -1;
    for (int i = 0; req->headers && req->headers[i] && n < (int)(sizeof hdrs / sizeof *hdrs) - 1; i++)
        hdrs[n++] = req->headers[i];
    hdrs[n] = NULL;
    struct http_request hr = *req;
    hr.headers = hdrs;
    hr.ca_file = c->cfg->cloud_ca_file;
    hr.allow_plain_http = req->allow_plain_http || api_plain_ok(c);
    *slot = http_client_start(c->http, &hr, done, arg);
    if (signed_oci)
        oci_sign_result_clear(&sr);
    if (bearer)
        OPENSSL_clear_free(bearer, strlen(bearer));
    return *slot ? 0 : -1;
}

const struct gcp_instance *cloud_gcp_instance(const struct cloud *c)
{
    return c && c->platform == CLOUD_PLATFORM_GCP && c->gce.name[0] ? &c->gce : NULL;
}

const char *cloud_gcp_project(const struct cloud *c)
{
    return c && c->platform == CLOUD_PLATFORM_GCP ? c->project_id : NULL;
}

const struct oci_instance *cloud_oci_instance(const struct cloud *c)
{
    return c && c->platform == CLOUD_PLATFORM_OCI && c->inst.id ? &c->inst : NULL;
}

static int oci_call_arg(struct cloud *c, struct http_call **slot, const char *method, const char *url, const char *body,
                        const char *extra_header, size_t cap, http_done_fn done, void *arg)
{
    struct oci_sign_result sr;
    const char *hdrs[OCI_SIGN_MAX_HEADERS + 2];
    struct oci_sign_request rq = {.method = method, .url = url, .clock_offset_s = c->clock_offset_s,
                                  .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0};
    if (oci_sign_request(c->session_key, c->key_id, &rq, &sr))
        return -1;
    int n = 0;
    for (; sr.headers[n]; n++)
        hdrs[n] = sr.headers[n];
    if (extra_header)
        hdrs[n++] = extra_header;   /* sent, not signed */
    hdrs[n] = NULL;
    struct http_request hr = {
        .method = method, .url = url, .headers = hdrs,
        .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0,
        .timeout_ms = CLOUD_API_TIMEOUT_MS, .max_response = cap, .ca_file = c->cfg->cloud_ca_file,
        .allow_plain_http = api_plain_ok(c),
    };
    *slot = http_client_start(c->http, &hr, done, arg);
    oci_sign_result_clear(&sr);
    return *slot ? 0 : -1;
}

/* The metadata server: OCI's IPv4 or IPv6 address (md_v6 flips after a connection failure), GCP's,
 * or metadata_base ("primary" or "primary,fallback": tests exercise the OCI fallback with it). */
static void md_base(const struct cloud *c, const char **b, size_t *len)
{
    const char *m = c->cfg->metadata_base;
    if (m) {
        const char *comma = strchr(m, ',');
        if (comma && c->md_v6) {
            *b = comma + 1;
            *len = strlen(comma + 1);
        } else {
            *b = m;
            *len = comma ? (size_t)(comma - m) : strlen(m);
        }
        return;
    }
    *b = c->platform == CLOUD_PLATFORM_GCP ? GCP_METADATA_BASE : c->md_v6 ? OCI_METADATA_V6 : OCI_METADATA_V4;
    *len = strlen(*b);
}

static char *md_url(const struct cloud *c, const char *path)
{
    const char *b;
    size_t bl;
    md_base(c, &b, &bl);
    size_t n = bl + strlen(path) + 1;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%.*s%s", (int)bl, b, path);
    return u;
}

static const char *const OCI_MD_HDRS[] = {OCI_METADATA_AUTH, NULL};
static const char *const GCP_MD_HDRS[] = {GCP_METADATA_FLAVOR, NULL};

/* ---- detection ------------------------------------------------------------------------------ */

static void probe_settle(struct cloud *c)
{
    if (!c->probe_done[0] || !c->probe_done[1])
        return;
    if (c->probe_ok[0] || c->probe_ok[1]) {
        c->platform = c->probe_ok[0] ? CLOUD_PLATFORM_OCI : CLOUD_PLATFORM_GCP;
        log_info("cloud.platform", "platform=%s source=metadata-probe", cloud_platform_name(c->platform));
        goto_step(c, S_METADATA);
        return;
    }
    if (++c->probe_round < CLOUD_PROBE_ROUNDS) {
        step_fail(c, "no metadata server answered (round %u of %u)", c->probe_round, CLOUD_PROBE_ROUNDS);
        return;
    }
    c->platform = CLOUD_PLATFORM_NONE;
    log_info("cloud.platform", "platform=none source=metadata-probe note=\"no metadata server answered\"");
    c->step = S_IDLE;
    arm(c->retry_timer, 0);
}

static void on_probe(void *arg, const struct http_response *r, int which)
{
    struct cloud *c = arg;
    c->probe[which] = NULL;
    c->probe_done[which] = 1;
    if (!r->err) {
        if (which == 0)
            c->probe_ok[0] = r->status == 200;
        else {
            const char *f = http_response_header(r, "metadata-flavor");
            c->probe_ok[1] = f && !strcmp(f, "Google");
        }
    }
    probe_settle(c);
}

static void on_probe_oci(void *arg, const struct http_response *r) { on_probe(arg, r, 0); }
static void on_probe_gcp(void *arg, const struct http_response *r) { on_probe(arg, r, 1); }

static void detect(struct cloud *c)
{
    int known;
    if (!c->cfg->metadata_base) {
        cloud_platform p = cloud_platform_from_dmi(CLOUD_DMI_DIR, &known);
        if (p != CLOUD_PLATFORM_NONE) {
            c->platform = p;
            log_info("cloud.platform", "platform=%s source=dmi", cloud_platform_name(p));
            goto_step(c, S_METADATA);
            return;
        }
    }
    /* DMI names no cloud (or a test's metadata_base): a firmware string is a hint, the metadata
     * server is the proof, so ask both before settling on none. */
    c->probe_ok[0] = c->probe_ok[1] = c->probe_done[0] = c->probe_done[1] = 0;
    const char *b;
    size_t bl;
    char u1[512], u2[512];
    c->platform = CLOUD_PLATFORM_OCI;   /* md_base: OCI's address (or the test's primary) */
    md_base(c, &b, &bl);
    snprintf(u1, sizeof u1, "%.*s/opc/v2/instance/", (int)bl, b);
    c->platform = CLOUD_PLATFORM_GCP;
    md_base(c, &b, &bl);
    snprintf(u2, sizeof u2, "%.*s/computeMetadata/v1/", (int)bl, b);
    c->platform = CLOUD_PLATFORM_NONE;
    if (start_get(c, &c->probe[0], u1, OCI_MD_HDRS, CLOUD_PROBE_TIMEOUT_MS, CLOUD_METADATA_MAX, 1, on_probe_oci))
        c->probe_done[0] = 1;
    if (start_get(c, &c->probe[1], u2, GCP_MD_HDRS, CLOUD_PROBE_TIMEOUT_MS, 4096, 1, on_probe_gcp))
        c->probe_done[1] = 1;
    probe_settle(c);
}

/* ---- metadata ------------------------------------------------------------------------------- */

/* Metadata is unmeasured input: a trust-rule value must still look like what it names before it
 * reaches the config (printable ASCII, no quotes or spaces; domain as config_finish allows it). */
static int md_value_ok(const char *k, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 255)
        return 0;
    int domain = !strcmp(k, "domain");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '<' || ch == '>' || ch == '\'')
            return 0;
        if (domain && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                        ch == '.' || ch == '-' || ch == ':'))
            return 0;
    }
    return 1;
}

static int apply_md(void *arg, const char *k, const char *v)
{
    struct cloud *c = arg;
    if (!md_value_ok(k, v)) {
        snprintf(c->last_error, sizeof c->last_error, "%s", k);   /* names the key for step_fail */
        return -1;
    }
    return config_apply_metadata(c->cfg, k, v);
}

/* Checks every trust-rule value before any is applied, so a bad one changes nothing. */
static int check_md(void *arg, const char *k, const char *v)
{
    struct cloud *c = arg;
    if (md_value_ok(k, v))
        return 0;
    snprintf(c->last_error, sizeof c->last_error, "%s", k);
    return -1;
}

static int metadata_http_failed(struct cloud *c, const struct http_response *r, const char *what)
{
    if (!r->err && r->status == 200)
        return 0;
    char d[96], msg[8];
    describe(c, r, d, sizeof d, msg, sizeof msg);
    /* OCI: the link-local IPv4 address may be unreachable while IPv6 works, and the other way round */
    if (r->err && c->platform == CLOUD_PLATFORM_OCI &&
        (!c->cfg->metadata_base || strchr(c->cfg->metadata_base, ',')))
        c->md_v6 = !c->md_v6;
    step_fail(c, "metadata server: %s: %s", what, d);
    return 1;
}

static void after_metadata(struct cloud *c, int applied, unsigned ignored)
{
    log_info("cloud.metadata", "platform=%s applied=%d ignored=%u%s%s", cloud_platform_name(c->platform), applied,
             ignored, c->inst.region ? " region=" : "", c->inst.region ? c->inst.region : "");
    if (!c->cfg->secret_ocid) {
        step_fail(c, "instance metadata has no secret_ocid (set it on the instance; it is re-read)");
        return;
    }
    if (!c->cfg->paypal_client_id)
        log_warn("cloud.metadata", "missing=paypal_client_id note=\"login needs it; set it in instance metadata\"");
    /* a re-read after a missing secret: keep a token that is still good */
    if (c->platform == CLOUD_PLATFORM_OCI && c->key_id && c->token_exp - service_now(c) > 60)
        goto_step(c, S_SECRET);
    else if (c->platform == CLOUD_PLATFORM_GCP && c->project_id && c->gcp_token &&
             c->gcp_token_exp - (int64_t)time(NULL) > 60)
        goto_step(c, S_SECRET);
    else
        goto_step(c, c->platform == CLOUD_PLATFORM_OCI ? S_IDENTITY : S_PROJECT);
}

static void on_metadata(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (metadata_http_failed(c, r, c->platform == CLOUD_PLATFORM_OCI ? "instance document" : "attributes"))
        return;
    unsigned ignored = 0;
    int applied;
    if (c->platform == CLOUD_PLATFORM_OCI) {
        oci_instance_clear(&c->inst);
        cloud_err e = oci_instance_parse((const char *)r->body, r->body_len, &c->inst);
        if (e) {
            step_fail(c, "instance document: %s", cloud_strerror(e));
            return;
        }
        c->last_error[0] = 0;
        applied = oci_instance_each_trusted(&c->inst, check_md, c, &ignored) < 0
                      ? -1 : oci_instance_each_trusted(&c->inst, apply_md, c, &ignored);
    } else {
        c->last_error[0] = 0;
        applied = gcp_attributes_each_trusted((const char *)r->body, r->body_len, check_md, c, &ignored) < 0
                      ? -1 : gcp_attributes_each_trusted((const char *)r->body, r->body_len, apply_md, c, &ignored);
    }
    if (applied < 0) {
        char key[64];
        snprintf(key, sizeof key, "%.40s", c->last_error[0] ? c->last_error : "(document)");
        step_fail(c, "instance metadata: the value of %s is malformed or not acceptable", key);
        return;
    }
    after_metadata(c, applied, ignored);
}

static void on_project(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (metadata_http_failed(c, r, "project-id"))
        return;
    free(c->project_id);
    c->project_id = strndup((const char *)r->body, r->body_len);
    if (!c->project_id || !*c->project_id || strpbrk(c->project_id, "/ \r\n")) {
        step_fail(c, "project-id: malformed");
        return;
    }
    snprintf(c->gce.project, sizeof c->gce.project, "%s", c->project_id);
    c->gcp_part = 0;
    goto_step(c, S_GCP_INSTANCE);
}

static const char *const GCE_PATHS[3] = {"/computeMetadata/v1/instance/id", "/computeMetadata/v1/instance/zone",
                                         "/computeMetadata/v1/instance/name"};

static void on_gce_instance(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (metadata_http_failed(c, r, GCE_PATHS[c->gcp_part] + 19)) {
        c->gcp_part = 0;
        return;
    }
    if (gcp_instance_field(&c->gce, "izn"[c->gcp_part], (const char *)r->body, r->body_len)) {
        step_fail(c, "%s: malformed", GCE_PATHS[c->gcp_part] + 19);
        c->gcp_part = 0;
        return;
    }
    if (++c->gcp_part < 3) {
        step_start(c);
        return;
    }
    c->gcp_part = 0;
    log_info("cloud.instance", "platform=gcp zone=%s name=%s", c->gce.zone, c->gce.name);
    goto_step(c, S_GCP_TOKEN);
}

/* ---- OCI identity and federation ------------------------------------------------------------ */

static const char *const IDENT_PATHS[3] = {"/opc/v2/identity/cert.pem", "/opc/v2/identity/key.pem",
                                           "/opc/v2/identity/intermediate.pem"};

static void clear_pems(struct cloud *c)
{
    for (int i = 0; i < 3; i++) {
        if (c->pem[i])
            OPENSSL_clear_free(c->pem[i], c->pem_len[i] + 1);
        c->pem[i] = NULL;
        c->pem_len[i] = 0;
    }
}

static void on_identity(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (metadata_http_failed(c, r, IDENT_PATHS[c->ident_part] + 8)) {
        c->ident_part = 0;
        clear_pems(c);
        return;
    }
    int i = c->ident_part;
    if (!(c->pem[i] = OPENSSL_malloc(r->body_len + 1))) {
        step_fail(c, "out of memory");
        return;
    }
    memcpy(c->pem[i], r->body, r->body_len);
    c->pem[i][r->body_len] = 0;
    c->pem_len[i] = r->body_len;
    if (++c->ident_part < 3) {
        step_start(c);
        return;
    }
    c->ident_part = 0;
    struct oci_identity id;
    cloud_err e = oci_identity_load(&id, c->pem[0], c->pem_len[0], c->pem[1], c->pem_len[1], c->pem[2], c->pem_len[2]);
    clear_pems(c);
    if (e) {
        step_fail(c, "instance identity: %s", cloud_strerror(e));
        return;
    }
    oci_identity_clear(&c->ident);
    c->ident = id;
    if (c->inst.tenancy && strcmp(c->inst.tenancy, id.tenancy))
        log_warn("cloud.identity", "note=\"certificate tenancy differs from the instance document's; using the certificate's\"");
    log_info("cloud.identity", "cert_expires_in_s=%lld intermediates=%d",
             (long long)((int64_t)id.not_after - (int64_t)time(NULL)), id.n_inter);
    goto_step(c, S_FEDERATE);
}

static void schedule_refresh(struct cloud *c)
{
    int64_t left = c->token_exp - service_now(c);
    int64_t in = left - CLOUD_TOKEN_REFRESH_EARLY_S;
    if (in < left / 2)
        in = left / 2;   /* short-lived tokens (tests): renew at half-life */
    if (in < 1)
        in = 1;
    struct timeval tv = {(time_t)in, 0};
    evtimer_add(c->refresh_timer, &tv);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    struct cloud *c = arg;
    if (c->step != S_READY) {   /* the boot flow is still running: it will get a fresh token anyway */
        return;
    }
    c->refreshing = 1;
    if (c->platform == CLOUD_PLATFORM_GCP) {   /* the metadata server hands out a fresh token */
        log_info("cloud.token", "event=renew kind=service-account expires_in_s=%lld",
                 (long long)(c->gcp_token_exp - (int64_t)time(NULL)));
        goto_step(c, S_GCP_TOKEN);
        return;
    }
    log_info("cloud.token", "event=renew expires_in_s=%lld", (long long)(c->token_exp - service_now(c)));
    goto_step(c, S_IDENTITY);   /* OCI rotates the instance certificate: fetch it again too */
}

static void on_federation(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (r->err || r->status != 200) {
        char d[96], msg[256];
        describe(c, r, d, sizeof d, msg, sizeof msg);
        if (!r->err && handle_skew(c, r, msg)) {
            step_start(c);
            return;
        }
        step_fail(c, "federation (auth service): %s%s", d,
                  r->status == 401 ? " (instance certificate refused, or the clock is off)" : "");
        return;
    }
    char *tok;
    int64_t exp;
    cloud_err e = oci_federation_parse((const char *)r->body, r->body_len, &tok, &exp);
    if (e || exp - service_now(c) < CLOUD_TOKEN_MIN_LIFETIME_S) {
        if (!e)
            free_str(&tok);
        step_fail(c, "federation answer: %s", e ? cloud_strerror(e) : "token already (nearly) expired");
        return;
    }
    size_t n = strlen(tok);
    char *kid = malloc(n + 4);
    if (!kid) {
        free_str(&tok);
        step_fail(c, "out of memory");
        return;
    }
    memcpy(kid, "ST$", 3);
    memcpy(kid + 3, tok, n + 1);
    free_str(&tok);
    free_str(&c->key_id);
    c->key_id = kid;
    c->token_exp = exp;
    EVP_PKEY_free(c->session_key);
    c->session_key = c->pending_key;
    c->pending_key = NULL;
    log_info("cloud.token", "event=issued expires_in_s=%lld", (long long)(exp - service_now(c)));
    schedule_refresh(c);
    if (!c->spare_key && !cloud_keygen_busy(c->keygen))
        cloud_keygen_start(c->keygen);   /* the renewal's key, made ahead */
    if (c->refreshing) {
        c->refreshing = 0;
        c->step = S_READY;
        c->attempt = 0;
        notify_pump(c);
        return;
    }
    goto_step(c, S_SECRET);
}

static void federate(struct cloud *c);

static void on_keygen(void *arg, EVP_PKEY *key)
{
    struct cloud *c = arg;
    EVP_PKEY_free(c->spare_key);
    c->spare_key = key;
    if (c->step != S_FEDERATE || c->call || evtimer_pending(c->retry_timer, NULL))
        return;   /* made ahead: kept for the next federation */
    if (!key)
        step_fail(c, "cannot generate the session key");
    else
        federate(c);
}

static void federate(struct cloud *c)
{
    char *url = oci_auth_url(c->cfg->cloud_api_base, c->inst.region);
    char *kid = oci_federation_key_id(&c->ident);
    char *body = NULL;
    struct oci_sign_result sr = {0};
    /* the session key comes from the keygen thread (made ahead after each federation); an unused
     * key of a failed attempt is used again */
    EVP_PKEY *k = c->spare_key ? c->spare_key : c->pending_key;
    if (k == c->spare_key)
        c->spare_key = NULL;
    else
        c->pending_key = NULL;
    if (!k) {
        if (!cloud_keygen_busy(c->keygen) && cloud_keygen_start(c->keygen))
            step_fail(c, "cannot start the session key generation");
        goto done;   /* on_keygen calls federate again */
    }
    if (!url || !kid || !(body = oci_federation_body(&c->ident, k))) {
        step_fail(c, "cannot build the federation request (out of memory?)");
        goto done;
    }
    struct oci_sign_request rq = {.method = "POST", .url = url, .clock_offset_s = c->clock_offset_s,
                                  .body = (const uint8_t *)body, .body_len = strlen(body),
                                  .which = OCI_SIGN_HEADERS_FEDERATION};
    if (oci_sign_request(c->ident.key, kid, &rq, &sr)) {
        step_fail(c, "cannot sign the federation request");
        goto done;
    }
    struct http_request hr = {
        .method = "POST", .url = url, .headers = (const char *const *)sr.headers, .body = (const uint8_t *)body,
        .body_len = strlen(body), .timeout_ms = CLOUD_API_TIMEOUT_MS, .max_response = CLOUD_TOKEN_MAX,
        .ca_file = c->cfg->cloud_ca_file, .allow_plain_http = api_plain_ok(c),
    };
    if (!(c->call = http_client_start(c->http, &hr, on_federation, c))) {
        step_fail(c, "cannot start the federation call");
        goto done;
    }
    /* a token is bound to its session key: the old pair stays in use until the new token arrives */
    EVP_PKEY_free(c->pending_key);
    c->pending_key = k;
    k = NULL;
done:
    oci_sign_result_clear(&sr);
    EVP_PKEY_free(k);
    free(url);
    free(kid);
    free(body);
}

/* ---- secrets -------------------------------------------------------------------------------- */

static void trim_secret(uint8_t *s, size_t *n)
{
    while (*n && (s[*n - 1] == '\n' || s[*n - 1] == '\r' || s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        s[--(*n)] = 0;
}

static void become_ready(struct cloud *c)
{
    c->step = S_READY;
    c->attempt = 0;
    c->last_error[0] = 0;
    c->reason[0] = 0;
    log_info("cloud.ready", "platform=%s secret=fetched signing_key=%s retries=%u", cloud_platform_name(c->platform),
             c->signing_key_fetched ? "fetched" : "not-configured", c->retries);
    if (!c->is_ready) {
        c->is_ready = 1;
        char body[256];
        snprintf(body, sizeof body, "sealed-login is up on %s%s%s; login is available.",
                 cloud_platform_name(c->platform), c->inst.region ? " in " : "", c->inst.region ? c->inst.region : "");
        cloud_notify(c, "sealed-login started", body);
        if (c->ready)
            c->ready(c->ready_arg);
    }
    notify_pump(c);
}

static void on_secret(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    int signing = c->step == S_SIGNING_KEY;
    const char *what = signing ? "signing key" : "PayPal secret";
    const char *store = c->platform == CLOUD_PLATFORM_OCI ? "OCI Vault" : "Secret Manager";
    c->call = NULL;
    if (r->err || r->status != 200) {
        char d[96], msg[256];
        describe(c, r, d, sizeof d, msg, sizeof msg);
        if (!r->err && handle_skew(c, r, msg)) {
            step_start(c);
            return;
        }
        const char *hint = "";
        if (r->status == 404 || r->status == 403)
            hint = c->platform == CLOUD_PLATFORM_OCI
                       ? " (no such secret, or the dynamic group's policy lacks 'read secret-bundles')"
                       : " (no such secret, or the service account lacks secretmanager.versions.access)";
        else if (r->status == 401)
            hint = " (token refused: getting a new one)";
        c->secret_failures++;
        if (c->secret_failures == CLOUD_SECRET_FAIL_NOTIFY && !c->secret_fail_noted) {
            char body[256];
            c->secret_fail_noted = 1;
            snprintf(body, sizeof body, "sealed-login cannot read the %s from %s (%s); login stays unavailable "
                     "until it can.", what, store, d);
            cloud_notify(c, "secret fetch failing", body);
        }
        if (r->status == 401) {   /* expired or revoked token: back to the identity step */
            step_fail(c, "%s from %s: %s%s", what, store, d, hint);
            c->step = c->platform == CLOUD_PLATFORM_OCI ? S_IDENTITY : S_GCP_TOKEN;
            return;
        }
        if (r->status == 404 || r->status == 403) {   /* the operator may fix the metadata's id */
            step_fail(c, "%s from %s: %s%s", what, store, d, hint);
            c->step = S_METADATA;
            return;
        }
        step_fail(c, "%s from %s: %s%s", what, store, d, hint);
        return;
    }
    uint8_t *s = NULL;
    size_t n = 0;
    cloud_err e = c->platform == CLOUD_PLATFORM_OCI
                      ? oci_vault_parse((const char *)r->body, r->body_len, &s, &n)
                      : gcp_secret_parse((const char *)r->body, r->body_len, &s, &n, &c->crc_checked);
    if (!e && (n == 0 || memchr(s, 0, n)))
        e = CLOUD_ERR_FORMAT;   /* empty, or binary: neither is a PayPal secret or a PEM key */
    if (e) {
        if (s)
            OPENSSL_clear_free(s, n + 1);
        step_fail(c, "%s from %s: %s", what, store, cloud_strerror(e));
        return;
    }
    size_t full = n;
    trim_secret(s, &n);
    int rc = config_set_str(signing ? &c->cfg->signing_key_pem : &c->cfg->paypal_secret, (const char *)s);
    OPENSSL_clear_free(s, full + 1);
    if (rc) {
        step_fail(c, "out of memory");
        return;
    }
    c->secret_failures = 0;
    c->secret_attempt = 0;
    log_info("cloud.secret", "what=%s source=%s%s", signing ? "signing_key" : "paypal_secret", store,
             c->crc_checked && c->platform == CLOUD_PLATFORM_GCP ? " crc32c=ok" : "");
    if (signing) {
        c->signing_key_fetched = 1;
        become_ready(c);
        return;
    }
    c->secret_fetched = 1;
    if (c->cfg->signing_key_secret_ocid)
        goto_step(c, S_SIGNING_KEY);
    else
        become_ready(c);
}

static void fetch_secret(struct cloud *c)
{
    const char *id = c->step == S_SIGNING_KEY ? c->cfg->signing_key_secret_ocid : c->cfg->secret_ocid;
    char *url;
    int rc;
    if (c->platform == CLOUD_PLATFORM_OCI) {
        if (!(url = oci_vault_url(c->cfg->cloud_api_base, c->inst.region, id))) {
            step_fail(c, "%s is not an OCID", c->step == S_SIGNING_KEY ? "signing_key_secret_ocid" : "secret_ocid");
            return;
        }
        rc = oci_call(c, &c->call, "GET", url, NULL, NULL, CLOUD_SECRET_MAX, on_secret);
    } else {
        if (!(url = gcp_secret_url(c->cfg->cloud_api_base, c->project_id, id))) {
            step_fail(c, "%s is not a secret name", c->step == S_SIGNING_KEY ? "signing_key_secret_ocid" : "secret_ocid");
            return;
        }
        size_t hl = strlen(c->gcp_token) + 32;
        char *h = malloc(hl);
        if (!h) {
            free(url);
            step_fail(c, "out of memory");
            return;
        }
        snprintf(h, hl, "Authorization: Bearer %s", c->gcp_token);
        const char *hdrs[] = {h, NULL};
        rc = start_get(c, &c->call, url, hdrs, CLOUD_API_TIMEOUT_MS, CLOUD_SECRET_MAX, 0, on_secret);
        OPENSSL_clear_free(h, hl);
    }
    free(url);
    if (rc)
        step_fail(c, "cannot start the secret call");
}

/* ---- GCP token ------------------------------------------------------------------------------ */

static void on_gcp_token(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->call = NULL;
    if (metadata_http_failed(c, r, "service-account token"))
        return;
    char *tok;
    int64_t in;
    cloud_err e = gcp_token_parse((const char *)r->body, r->body_len, &tok, &in);
    if (e) {
        step_fail(c, "service-account token: %s", cloud_strerror(e));
        return;
    }
    free_str(&c->gcp_token);
    c->gcp_token = tok;
    c->gcp_token_exp = (int64_t)time(NULL) + in;
    log_info("cloud.token", "event=issued kind=service-account expires_in_s=%lld", (long long)in);
    /* renewed like OCI's: five minutes before it expires (half-life for short test tokens), so
     * the state store, the egress guard and notifications never meet an expired one */
    int64_t when = in - CLOUD_TOKEN_REFRESH_EARLY_S;
    if (when < in / 2)
        when = in / 2;
    struct timeval tv = {(time_t)(when > 0 ? when : 1), 0};
    evtimer_add(c->refresh_timer, &tv);
    if (c->refreshing) {
        c->refreshing = 0;
        c->step = S_READY;
        c->attempt = 0;
        notify_pump(c);
        return;
    }
    goto_step(c, S_SECRET);
}

/* ---- the step dispatcher -------------------------------------------------------------------- */

static void step_start(struct cloud *c)
{
    char *u = NULL;
    int rc = 0;
    if (!c->is_ready)
        set_reason(c, "waiting for the cloud: %s", STEP_NAMES[c->step]);
    switch (c->step) {
    case S_IDLE:
    case S_READY:
        return;
    case S_DETECT:
        detect(c);
        return;
    case S_METADATA:
        u = md_url(c, c->platform == CLOUD_PLATFORM_OCI ? "/opc/v2/instance/"
                                                        : "/computeMetadata/v1/instance/attributes/?recursive=true");
        rc = !u || start_get(c, &c->call, u, c->platform == CLOUD_PLATFORM_OCI ? OCI_MD_HDRS : GCP_MD_HDRS,
                             CLOUD_METADATA_TIMEOUT_MS, CLOUD_METADATA_MAX, 1, on_metadata);
        break;
    case S_PROJECT:
        u = md_url(c, "/computeMetadata/v1/project/project-id");
        rc = !u || start_get(c, &c->call, u, GCP_MD_HDRS, CLOUD_METADATA_TIMEOUT_MS, 1024, 1, on_project);
        break;
    case S_GCP_INSTANCE:
        u = md_url(c, GCE_PATHS[c->gcp_part]);
        rc = !u || start_get(c, &c->call, u, GCP_MD_HDRS, CLOUD_METADATA_TIMEOUT_MS, 1024, 1, on_gce_instance);
        break;
    case S_IDENTITY:
        u = md_url(c, IDENT_PATHS[c->ident_part]);
        rc = !u || start_get(c, &c->call, u, OCI_MD_HDRS, CLOUD_METADATA_TIMEOUT_MS, CLOUD_METADATA_MAX, 1, on_identity);
        break;
    case S_FEDERATE:
        federate(c);
        return;
    case S_GCP_TOKEN:
        u = md_url(c, "/computeMetadata/v1/instance/service-accounts/default/token");
        rc = !u || start_get(c, &c->call, u, GCP_MD_HDRS, CLOUD_METADATA_TIMEOUT_MS, CLOUD_TOKEN_MAX, 1, on_gcp_token);
        break;
    case S_SECRET:
    case S_SIGNING_KEY:
        if (c->platform == CLOUD_PLATFORM_OCI && (!c->key_id || c->token_exp - service_now(c) < 30)) {
            goto_step(c, S_IDENTITY);
            return;
        }
        if (c->platform == CLOUD_PLATFORM_GCP && (!c->gcp_token || c->gcp_token_exp - (int64_t)time(NULL) < 30)) {
            goto_step(c, S_GCP_TOKEN);
            return;
        }
        fetch_secret(c);
        return;
    }
    free(u);
    if (rc)
        step_fail(c, "cannot start the call (out of memory?)");
}

/* ---- notifications -------------------------------------------------------------------------- */

static void note_pop(struct cloud *c)
{
    free(c->queue[0].title);
    free(c->queue[0].body);
    memmove(&c->queue[0], &c->queue[1], (c->qlen - 1) * sizeof c->queue[0]);
    c->qlen--;
    c->notify_attempt = 0;
}

static void on_notify_timer(evutil_socket_t fd, short what, void *arg) { notify_pump(arg); }

static void on_notified(void *arg, const struct http_response *r)
{
    struct cloud *c = arg;
    c->notify_call = NULL;
    if (!r->err && r->status >= 200 && r->status < 300) {
        c->notify_sent++;
        log_info("cloud.notify", "status=sent title=\"%s\"", c->queue[0].title);
        note_pop(c);
        notify_pump(c);
        return;
    }
    char d[96], msg[256];
    describe(c, r, d, sizeof d, msg, sizeof msg);
    if (!r->err && handle_skew(c, r, msg)) {
        notify_pump(c);
        return;
    }
    int transient = r->err || r->status >= 500 || r->status == 429 || r->status == 401;
    if (!transient || ++c->notify_attempt >= 5) {
        c->notify_failed++;
        log_warn("cloud.notify", "status=dropped title=\"%s\" reason=\"%s%s\"", c->queue[0].title, d,
                 r->status != 404 && r->status != 403 ? ""
                 : c->platform == CLOUD_PLATFORM_GCP ? " (no such topic, or the service account lacks pubsub.topics.publish on it)"
                 : " (no such topic, or the policy lacks 'use ons-topics')");
        note_pop(c);
        notify_pump(c);
        return;
    }
    unsigned ms = backoff_ms(c->notify_attempt);
    log_warn("cloud.notify", "status=retry title=\"%s\" reason=\"%s\" retry_in_ms=%u", c->queue[0].title, d, ms);
    arm(c->notify_timer, ms);
}

/* Pub/Sub topics.publish with the service account's token; the token's renewal pumps again. */
static void gcp_notify_start(struct cloud *c)
{
    if (!c->gcp_token || c->gcp_token_exp - (int64_t)time(NULL) < 30)
        return;
    char *url = gcp_pubsub_publish_url(c->cfg->cloud_api_base, c->project_id, c->cfg->notification_topic_id);
    char *body = gcp_pubsub_publish_body(c->queue[0].title, c->queue[0].body);
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    struct http_request rq = {.method = "POST", .url = url, .headers = hdrs, .body = (const uint8_t *)body,
                              .body_len = body ? strlen(body) : 0, .timeout_ms = CLOUD_API_TIMEOUT_MS,
                              .max_response = CLOUD_NOTIFY_ANSWER_MAX};
    int bad_topic = !url;
    int rc = !url || !body || cloud_authed_call(c, &c->notify_call, &rq, on_notified, c);
    free(url);
    free(body);
    if (rc) {
        c->notify_failed++;
        log_warn("cloud.notify", "status=dropped title=\"%s\" reason=\"%s\"", c->queue[0].title,
                 bad_topic ? "notification_topic_id is not a Pub/Sub topic" : "cannot start the call");
        note_pop(c);
    }
}

static void notify_pump(struct cloud *c)
{
    if (!c->qlen || c->notify_call || evtimer_pending(c->notify_timer, NULL))
        return;
    if (c->platform == CLOUD_PLATFORM_GCP) {
        gcp_notify_start(c);
        return;
    }
    /* needs a token that is not about to expire; the refresh calls notify_pump again */
    if (c->platform != CLOUD_PLATFORM_OCI || !c->key_id || !c->session_key || c->token_exp - service_now(c) < 30)
        return;
    char *url = oci_notify_url(c->cfg->cloud_api_base, c->inst.region, c->cfg->notification_topic_id);
    char *body = oci_notify_body(c->queue[0].title, c->queue[0].body);
    /* RAW_TEXT: the body is plain text (the JSON message type wants per-protocol keys) */
    int rc = !url || !body || oci_call(c, &c->notify_call, "POST", url, body, "messageType: RAW_TEXT",
                                       CLOUD_NOTIFY_ANSWER_MAX, on_notified);
    free(url);
    free(body);
    if (rc) {
        c->notify_failed++;
        log_warn("cloud.notify", "status=dropped title=\"%s\" reason=\"cannot build or start the call\"", c->queue[0].title);
        note_pop(c);
    }
}

void cloud_notify(struct cloud *c, const char *title, const char *body)
{
    if (!c || (c->platform != CLOUD_PLATFORM_OCI && c->platform != CLOUD_PLATFORM_GCP) ||
        !c->cfg->notification_topic_id)
        return;
    if (c->qlen == CLOUD_NOTIFY_QUEUE_MAX) {
        c->notify_dropped++;
        return;
    }
    struct note n = {strdup(title ? title : ""), strdup(body ? body : "")};
    if (!n.title || !n.body) {
        free(n.title);
        free(n.body);
        c->notify_dropped++;
        return;
    }
    c->queue[c->qlen++] = n;
    notify_pump(c);
}

static void on_daily(evutil_socket_t fd, short what, void *arg)
{
    struct cloud *c = arg;
    char *body = c->daily ? c->daily(c->daily_arg) : NULL;
    if (body) {
        cloud_notify(c, "daily counts", body);
        free(body);
    }
    arm(c->daily_timer, CLOUD_DAILY_INTERVAL_S * 1000u);
}

void cloud_set_daily_summary(struct cloud *c, char *(*summary)(void *arg), void *arg)
{
    c->daily = summary;
    c->daily_arg = arg;
    evtimer_del(c->daily_timer);
    if (summary)
        arm(c->daily_timer, CLOUD_DAILY_INTERVAL_S * 1000u);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

struct cloud *cloud_new(struct event_base *base, struct http_client *http, struct config *cfg)
{
    struct cloud *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->http = http;
    c->cfg = cfg;
    c->retry_timer = evtimer_new(base, on_retry, c);
    c->refresh_timer = evtimer_new(base, on_refresh, c);
    c->notify_timer = evtimer_new(base, on_notify_timer, c);
    c->daily_timer = evtimer_new(base, on_daily, c);
    c->keygen = cloud_keygen_new(base, CLOUD_SESSION_KEY_BITS, on_keygen, c);
    if (!c->retry_timer || !c->refresh_timer || !c->notify_timer || !c->daily_timer || !c->keygen) {
        cloud_free(c);
        return NULL;
    }
    set_reason(c, "waiting for the cloud: not started");
    return c;
}

int cloud_start(struct cloud *c, void (*ready)(void *arg), void *arg)
{
    c->ready = ready;
    c->ready_arg = arg;
    if (cloud_platform_parse(c->cfg->platform, &c->platform, &c->is_auto)) {
        log_error("cloud.platform", "error=\"platform must be auto, oci, gcp or none\"");
        return -1;
    }
    if (c->is_auto) {
        goto_step(c, S_DETECT);
        return 0;
    }
    log_info("cloud.platform", "platform=%s source=config", cloud_platform_name(c->platform));
    if (c->platform == CLOUD_PLATFORM_NONE) {   /* ready at once; the callback on the loop */
        c->step = S_READY;
        c->is_ready = 1;
        c->reason[0] = 0;
        arm(c->retry_timer, 0);
        return 0;
    }
    goto_step(c, S_METADATA);
    return 0;
}

int cloud_is_ready(const struct cloud *c) { return c->is_ready; }

const char *cloud_unavailable_reason(const struct cloud *c) { return c->reason; }

json_t *cloud_status(struct cloud *c)
{
    json_t *s = json_object();
    if (!s)
        return NULL;
    json_object_set_new(s, "platform", json_string(cloud_platform_name(c->platform)));
    json_object_set_new(s, "state", json_string(c->is_ready && c->step == S_READY ? "ready" : STEP_NAMES[c->step]));
    json_object_set_new(s, "ready", json_boolean(c->is_ready));
    if (c->inst.region)
        json_object_set_new(s, "region", json_string(c->inst.region));
    json_object_set_new(s, "paypal_secret", json_string(c->cfg->paypal_secret ? "present" : "missing"));
    json_object_set_new(s, "signing_key", json_string(!c->cfg->signing_key_secret_ocid ? "not-configured"
                                                      : c->signing_key_fetched ? "fetched" : "missing"));
    if (c->platform == CLOUD_PLATFORM_OCI && c->key_id)
        json_object_set_new(s, "token_expires_in_s", json_integer(c->token_exp - service_now(c)));
    if (c->platform == CLOUD_PLATFORM_GCP && c->gcp_token)
        json_object_set_new(s, "token_expires_in_s", json_integer(c->gcp_token_exp - (int64_t)time(NULL)));
    if (c->platform == CLOUD_PLATFORM_GCP && c->secret_fetched)
        json_object_set_new(s, "crc32c_checked", json_boolean(c->crc_checked));
    json_object_set_new(s, "retries", json_integer(c->retries));
    json_object_set_new(s, "clock_offset_s", json_integer(c->clock_offset_s));
    if (c->last_error[0])
        json_object_set_new(s, "last_error", json_string(c->last_error));
    json_object_set_new(s, "notifications",
                        json_pack("{s:b, s:I, s:I, s:I, s:I}", "configured",
                                  c->platform != CLOUD_PLATFORM_NONE && c->cfg->notification_topic_id != NULL,
                                  "sent", (json_int_t)c->notify_sent, "failed", (json_int_t)c->notify_failed,
                                  "dropped", (json_int_t)c->notify_dropped, "queued", (json_int_t)c->qlen));
    return s;
}

void cloud_free(struct cloud *c)
{
    if (!c)
        return;
    cloud_keygen_free(c->keygen);   /* joins a generation in flight */
    http_call_cancel(c->call);
    http_call_cancel(c->probe[0]);
    http_call_cancel(c->probe[1]);
    http_call_cancel(c->notify_call);
    if (c->retry_timer) event_free(c->retry_timer);
    if (c->refresh_timer) event_free(c->refresh_timer);
    if (c->notify_timer) event_free(c->notify_timer);
    if (c->daily_timer) event_free(c->daily_timer);
    oci_instance_clear(&c->inst);
    clear_pems(c);
    oci_identity_clear(&c->ident);
    EVP_PKEY_free(c->session_key);
    EVP_PKEY_free(c->pending_key);
    EVP_PKEY_free(c->spare_key);
    free_str(&c->key_id);
    free_str(&c->gcp_token);
    free(c->project_id);
    for (unsigned i = 0; i < c->qlen; i++) {
        free(c->queue[i].title);
        free(c->queue[i].body);
    }
    free(c);
}
