/* libFuzzer target: an event log through what `sealed-verify eventlog` and the tpm2 step do with it
 * (common/tpm_eventlog parse + replay of every declared bank). Properties: events and their digests
 * lie inside the input, PCR indices are < 24, replay is deterministic and only marks PCRs that an
 * event extended. */
#include "common/tpm_eventlog.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpm_eventlog *log = NULL;
    if (tpm_eventlog_parse(data, size, &log) != TPM_EVENTLOG_OK)
        return 0;
    uint32_t used = 0;
    for (size_t i = 0; i < log->nevents; i++) {
        const tpm_eventlog_event *e = &log->events[i];
        if (e->data_len && (e->data < data || e->data + e->data_len > data + size))
            abort();
        for (size_t k = 0; k < e->ndigests; k++)
            if (e->digests[k].len && (e->digests[k].digest < data || e->digests[k].digest + e->digests[k].len > data + size))
                abort();
        if (e->type != TPM_EVENTLOG_EV_NO_ACTION) {
            if (e->pcr >= TPM_EVENTLOG_NUM_PCRS)
                abort();
            used |= 1u << e->pcr;
        }
    }
    static tpm_eventlog_bank a, b;
    for (size_t k = 0; k < log->nalgs; k++) {
        tpm_eventlog_err ea = tpm_eventlog_replay(log, log->algs[k].alg, &a);
        tpm_eventlog_err eb = tpm_eventlog_replay(log, log->algs[k].alg, &b);
        if (ea != eb || (ea == TPM_EVENTLOG_OK && memcmp(&a, &b, sizeof a)))
            abort();
        if (ea == TPM_EVENTLOG_OK && (a.extended_mask & ~used))
            abort();
    }
    tpm_eventlog_free(log);
    return 0;
}
