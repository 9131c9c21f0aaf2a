/* PCR 4 prediction (see pcr_predict.h). */
#include "measure/pcr_predict.h"

#include <string.h>

#include "common/tpm_eventlog.h"

static measure_err add(pcr_predict_pcr4_result *r, uint32_t type, const uint8_t digest[PCR_PREDICT_SHA256])
{
    pcr_predict_event *e = &r->events[r->nevents++];
    e->type = type;
    memcpy(e->digest, digest, PCR_PREDICT_SHA256);
    if (tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, r->pcr4, digest) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    memcpy(e->pcr_after, r->pcr4, PCR_PREDICT_SHA256);
    return MEASURE_OK;
}

static measure_err add_action(pcr_predict_pcr4_result *r, const char *text)
{
    uint8_t d[PCR_PREDICT_SHA256];
    if (tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, text, strlen(text), d) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    measure_err rc = add(r, TPM_EVENTLOG_EV_EFI_ACTION, d);
    if (rc == MEASURE_OK)
        r->events[r->nevents - 1].action = text;
    return rc;
}

measure_err pcr_predict_pcr4(const uint8_t (*app_sha256)[PCR_PREDICT_SHA256], size_t napps,
                             unsigned failed_boots, pcr_predict_pcr4_result *out)
{
    static const uint8_t separator[4] = { 0, 0, 0, 0 };
    uint8_t d[PCR_PREDICT_SHA256];
    measure_err rc;

    if (!app_sha256 || !out || napps == 0 || napps > PCR_PREDICT_MAX_APPS ||
        failed_boots > PCR_PREDICT_MAX_FAILED_BOOTS)
        return MEASURE_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if ((rc = add_action(out, PCR_PREDICT_CALLING_EFI_APP)) != MEASURE_OK)
        return rc;
    if (tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, separator, sizeof(separator), d) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    if ((rc = add(out, TPM_EVENTLOG_EV_SEPARATOR, d)) != MEASURE_OK)
        return rc;
    for (unsigned i = 0; i < failed_boots; i++) {
        if ((rc = add_action(out, PCR_PREDICT_RETURNING_EFI_APP)) != MEASURE_OK ||
            (rc = add_action(out, PCR_PREDICT_CALLING_EFI_APP)) != MEASURE_OK)
            return rc;
    }
    for (size_t i = 0; i < napps; i++)
        if ((rc = add(out, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, app_sha256[i])) != MEASURE_OK)
            return rc;
    return MEASURE_OK;
}
