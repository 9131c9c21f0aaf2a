/* pcr4_policy: PCR 4 holds exactly the expected EFI applications; see pcr4_policy.h. */
#include "verify/pcr4_policy.h"
#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char CALLING[] = "Calling EFI Application from Boot Option";
static const char RETURNING[] = "Returning from EFI Application from Boot Option";

__attribute__((format(printf, 2, 3)))
static int fail(struct pcr4_policy_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
    return -1;
}

int pcr4_policy_check(const uint8_t *log, size_t len, const uint8_t quoted_pcr4[32],
                      const uint8_t (*apps)[32], size_t napps, struct pcr4_policy_result *out)
{
    memset(out, 0, sizeof *out);
    if (!log || !quoted_pcr4 || (!apps && napps) || napps > PCR4_POLICY_MAX_APPS)
        return fail(out, "no event log or bad arguments (%zu applications)", napps);
    tpm_eventlog *el = NULL;
    tpm_eventlog_bank bank;
    tpm_eventlog_err e = tpm_eventlog_parse(log, len, &el);
    if (e == TPM_EVENTLOG_OK)
        e = tpm_eventlog_replay(el, TPM_EVENTLOG_ALG_SHA256, &bank);
    if (e != TPM_EVENTLOG_OK) {
        tpm_eventlog_free(el);
        return fail(out, "the event log cannot be replayed: %s", tpm_eventlog_strerror(e));
    }
    int rc = -1;
    if (memcmp(bank.pcr[4], quoted_pcr4, 32) != 0) {
        fail(out, "the event log's PCR 4 replay differs from the quoted PCR 4");
        goto out;
    }
    uint8_t calling[32], returning[32];
    tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, CALLING, sizeof CALLING - 1, calling);
    tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, RETURNING, sizeof RETURNING - 1, returning);
    size_t seen = 0, separators = 0;
    for (size_t i = 0; i < el->nevents; i++) {
        const tpm_eventlog_event *ev = &el->events[i];
        if (ev->pcr != 4 || ev->type == TPM_EVENTLOG_EV_NO_ACTION)
            continue;
        const tpm_eventlog_digest *d = tpm_eventlog_event_digest(ev, TPM_EVENTLOG_ALG_SHA256);
        if (!d || d->len != 32) {
            fail(out, "a PCR 4 event (record %zu) has no SHA-256 digest", i);
            goto out;
        }
        char hex[65];
        codec_hex_encode(d->digest, 32, hex, sizeof hex);
        switch (ev->type) {
        case TPM_EVENTLOG_EV_EFI_ACTION:
            if (!memcmp(d->digest, returning, 32)) {
                out->failed_attempts++;
            } else if (memcmp(d->digest, calling, 32) != 0) {
                fail(out, "PCR 4 records an EFI action (digest %s, record %zu) other than a boot attempt", hex, i);
                goto out;
            }
            break;
        case TPM_EVENTLOG_EV_SEPARATOR:
            if (++separators > 1 || seen) {
                fail(out, "PCR 4 has a separator out of place (record %zu)", i);
                goto out;
            }
            break;
        case TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION:
            if (seen >= napps) {
                fail(out, "PCR 4 records an EFI application (Authenticode %s) beyond the %zu expected", hex, napps);
                goto out;
            }
            if (memcmp(d->digest, apps[seen], 32) != 0) {
                fail(out, "PCR 4 records an EFI application (Authenticode %s) where the manifest expects its application %zu",
                     hex, seen + 1);
                goto out;
            }
            seen++;
            break;
        default: {
            const char *name = tpm_eventlog_event_type_name(ev->type);
            fail(out, "PCR 4 records an event of type %s (record %zu), not a boot attempt or an application",
                 name ? name : "unknown", i);
            goto out;
        }
        }
    }
    if (seen != napps || separators != 1) {
        fail(out, "PCR 4 records %zu of the %zu expected EFI applications and %zu separators", seen, napps, separators);
        goto out;
    }
    rc = 0;
out:
    tpm_eventlog_free(el);
    return rc;
}
