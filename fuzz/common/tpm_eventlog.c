/* libFuzzer target: common/tpm_eventlog, as `sealed-verify eventlog`, the tpm2 step and
 * sealed-measure use it (parse, then replay every declared bank). Properties: a failed parse
 * leaves no log and has a message; a parsed log has 1..MAX events in increasing order, 1..MAX
 * banks, events and digests inside the input, PCR indices < 24; replay is deterministic, fails only
 * with NO_BANK/UNSUPPORTED, and marks only PCRs that an event extended; parsing twice agrees. */
#include "common/tpm_eventlog.h"
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpm_eventlog *log = NULL, *again = NULL;
    tpm_eventlog_err rc = tpm_eventlog_parse(data, size, &log);
    if (rc != TPM_EVENTLOG_OK) {
        REQUIRE(log == NULL && tpm_eventlog_strerror(rc) != NULL);
        return 0;
    }
    REQUIRE(log && log->nevents >= 1 && log->nevents <= TPM_EVENTLOG_MAX_EVENTS);
    REQUIRE(log->nalgs >= 1 && log->nalgs <= TPM_EVENTLOG_MAX_ALGS);
    uint32_t used = 0;
    for (size_t i = 0; i < log->nevents; i++) {
        const tpm_eventlog_event *e = &log->events[i];
        REQUIRE(e->offset < size && (i == 0 || e->offset > log->events[i - 1].offset));
        REQUIRE(!e->data_len || (e->data >= data && e->data_len <= size && e->data + e->data_len <= data + size));
        REQUIRE(e->ndigests <= log->nalgs);
        for (size_t k = 0; k < e->ndigests; k++)
            REQUIRE(!e->digests[k].len ||
                    (e->digests[k].digest >= data && e->digests[k].digest + e->digests[k].len <= data + size));
        if (e->type != TPM_EVENTLOG_EV_NO_ACTION) {
            REQUIRE(e->pcr < TPM_EVENTLOG_NUM_PCRS);
            used |= 1u << e->pcr;
        }
    }
    static tpm_eventlog_bank a, b;
    for (size_t k = 0; k < log->nalgs; k++) {
        tpm_eventlog_err ea = tpm_eventlog_replay(log, log->algs[k].alg, &a);
        tpm_eventlog_err eb = tpm_eventlog_replay(log, log->algs[k].alg, &b);
        REQUIRE(ea == eb);
        REQUIRE(ea == TPM_EVENTLOG_OK || ea == TPM_EVENTLOG_ERR_NO_BANK || ea == TPM_EVENTLOG_ERR_UNSUPPORTED);
        if (ea == TPM_EVENTLOG_OK)
            REQUIRE(!memcmp(&a, &b, sizeof a) && !(a.extended_mask & ~used));
    }
    REQUIRE(tpm_eventlog_parse(data, size, &again) == TPM_EVENTLOG_OK && again->nevents == log->nevents);
    tpm_eventlog_free(again);
    tpm_eventlog_free(log);
    return 0;
}
