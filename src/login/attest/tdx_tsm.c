/* attest/tdx_tsm: Intel TDX evidence through configfs-tsm (provider "tdx_guest"): the quote for
 * REPORT_DATA from outblob, plus the firmware's RTMR event log from the ACPI CCEL table (table
 * and log area as sysfs exposes them), since the RTMRs are what bind the boot chain. Touches only
 * its own configfs-tsm entry and reads the two CCEL files. */
#include "login/attest.h"
#include "login/config.h"
#include "login/log.h"
#include "login/attest/attest_util.h"
#include "login/attest/tsm.h"
#include "common/tpm_eventlog.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ACPI_TABLES "/sys/firmware/acpi/tables"
/* TDX DCAP quote (Intel TDX DCAP Quoting Library API, appendix A): 48-byte header, then the TD
 * report body (v4) or a body descriptor {type u16, size u32} and the body (v5). */
#define TDX_HDR_LEN        48
#define TDX_TEE_TYPE       0x00000081u
#define TDX_BODY_RD_OFF    520     /* REPORT_DATA within the TD report body (1.0 and 1.5) */

struct tdx_state {
    struct attest_tsm tsm;
    char *ccel_table_path, *ccel_log_path;    /* owned */
    int   have_ccel;                          /* set at probe */
};

static void tdx_free(void *arg)
{
    struct tdx_state *s = arg;
    if (!s)
        return;
    attest_tsm_close(&s->tsm);
    free(s->ccel_table_path);
    free(s->ccel_log_path);
    free(s);
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Checks the quote's header and that its TD report carries our REPORT_DATA. */
static int quote_check(const uint8_t *q, size_t len, const uint8_t rd[64], char *err, size_t errlen)
{
    if (len < TDX_HDR_LEN + 6) {
        snprintf(err, errlen, "TDX quote too short (%zu bytes)", len);
        return -1;
    }
    uint32_t ver = le(q, 2), tee = le(q + 4, 4);
    size_t body = TDX_HDR_LEN;
    if (ver == 5)
        body += 6;
    else if (ver != 4) {
        snprintf(err, errlen, "TDX quote version %u is not known", ver);
        return -1;
    }
    if (tee != TDX_TEE_TYPE) {
        snprintf(err, errlen, "quote TEE type 0x%x is not TDX", tee);
        return -1;
    }
    if (len < body + TDX_BODY_RD_OFF + 64 || memcmp(q + body + TDX_BODY_RD_OFF, rd, 64) != 0) {
        snprintf(err, errlen, "TDX quote does not carry our REPORT_DATA");
        return -1;
    }
    return 0;
}

/* Length of the log proper inside the CCEL log area (the unused rest is 0xFF-filled): the end of
 * its last event as common/tpm_eventlog parses it. An area that does not parse is kept whole, so
 * nothing the firmware wrote is ever cut off. */
static size_t ccel_log_end(const uint8_t *area, size_t len)
{
    tpm_eventlog *lg = NULL;
    size_t end = len;
    if (tpm_eventlog_parse(area, len, &lg) == TPM_EVENTLOG_OK && lg->nevents > 0) {
        const tpm_eventlog_event *last = &lg->events[lg->nevents - 1];
        end = (size_t)(last->data - area) + last->data_len;
    }
    tpm_eventlog_free(lg);
    return end;
}

static int tdx_probe(const struct config *cfg, void **state)
{
    char err[256] = "";
    const char *dir = cfg && cfg->tsm_report_dir ? cfg->tsm_report_dir : ATTEST_TSM_DEFAULT_DIR;
    const char *acpi = cfg && cfg->acpi_tables_dir ? cfg->acpi_tables_dir : DEFAULT_ACPI_TABLES;
    char p[ATTEST_PATH_MAX];
    *state = NULL;
    struct tdx_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    int r = attest_tsm_open(&s->tsm, dir, "tdx", "tdx_guest", err, sizeof err);
    if (r <= 0) {
        if (r < 0)
            log_warn("attest.provider", "provider=tdx reason=\"%s\"", err);
        tdx_free(s);
        return r;
    }
    if (attest_util_path(p, sizeof p, acpi, "CCEL") != 0 || !(s->ccel_table_path = strdup(p)) ||
        attest_util_path(p, sizeof p, acpi, "data/CCEL") != 0 || !(s->ccel_log_path = strdup(p))) {
        tdx_free(s);
        return -1;
    }
    size_t n;
    uint8_t *t = attest_util_read_file(s->ccel_table_path, 4096, &n);
    s->have_ccel = t != NULL && n >= 4 && memcmp(t, "CCEL", 4) == 0;
    free(t);
    if (!s->have_ccel)
        log_warn("attest.provider", "provider=tdx reason=\"no CCEL table at %s: evidence will carry no RTMR event log\"",
                s->ccel_table_path);
    *state = s;
    return 1;
}

static int tdx_evidence(void *arg, const uint8_t report_data[64], json_t **out, char *err, size_t errlen)
{
    struct tdx_state *s = arg;
    uint8_t *q = NULL, *table = NULL, *log = NULL;
    size_t ql = 0, tl = 0, ll = 0;
    json_t *ev = NULL;
    int rc = -1;
    *out = NULL;
    if (attest_tsm_report(&s->tsm, report_data, &q, &ql, ATTEST_TDX_QUOTE_MAX, NULL, NULL, err, errlen) != 0)
        goto done;
    if (quote_check(q, ql, report_data, err, errlen) != 0)
        goto done;
    if (s->have_ccel) {
        if (!(table = attest_util_read_file(s->ccel_table_path, 4096, &tl)) ||
            !(log = attest_util_read_file(s->ccel_log_path, ATTEST_CCEL_AREA_MAX, &ll))) {
            snprintf(err, errlen, "CCEL: %s", strerror(errno));
            goto done;
        }
        ll = ccel_log_end(log, ll);
        if (ll > ATTEST_EVENTLOG_MAX) {
            snprintf(err, errlen, "CCEL log of %zu bytes is over the %u-byte cap", ll, ATTEST_EVENTLOG_MAX);
            goto done;
        }
    }
    if (!(ev = json_object()) ||
        json_object_set_new(ev, "type", json_string("tdx")) ||
        json_object_set_new(ev, "quote", attest_util_b64_json(q, ql)) ||
        json_object_set_new(ev, "ccel_log", log ? attest_util_b64_json(log, ll) : json_null()) ||
        json_object_set_new(ev, "ccel_table", table ? attest_util_b64_json(table, tl) : json_null()) ||
        json_object_set_new(ev, "via", json_string("configfs-tsm"))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    *out = ev;
    ev = NULL;
    rc = 0;
done:
    json_decref(ev);
    free(q);
    free(table);
    free(log);
    return rc;
}

static json_t *tdx_status(void *arg)
{
    struct tdx_state *s = arg;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string("tdx"));
    json_object_set_new(o, "via", json_string("configfs-tsm"));
    json_object_set_new(o, "ccel_log", json_boolean(s->have_ccel));
    return o;
}

const struct attest_provider attest_provider_tdx_tsm = {
    .type = "tdx",
    .probe = tdx_probe,
    .evidence = tdx_evidence,
    .status = tdx_status,
    .free = tdx_free,
};
