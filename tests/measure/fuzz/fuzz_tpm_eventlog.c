/* libFuzzer target for common/tpm_eventlog: any input parses or fails with a typed error; a parsed
 * log only points inside the input, replays deterministically into its declared banks, and parses
 * the same way twice. */
#include <stdlib.h>
#include <string.h>

#include "common/tpm_eventlog.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    tpm_eventlog *log = NULL, *again = NULL;
    tpm_eventlog_err rc = tpm_eventlog_parse(data, size, &log);
    if (rc != TPM_EVENTLOG_OK) {
        REQUIRE(log == NULL);
        REQUIRE(tpm_eventlog_strerror(rc) != NULL);
        return 0;
    }
    REQUIRE(log && log->nevents >= 1 && log->nevents <= TPM_EVENTLOG_MAX_EVENTS);
    REQUIRE(log->nalgs >= 1 && log->nalgs <= TPM_EVENTLOG_MAX_ALGS);
    for (size_t i = 0; i < log->nevents; i++) {
        const tpm_eventlog_event *ev = &log->events[i];
        REQUIRE(ev->offset < size);
        REQUIRE(ev->data_len <= size && ev->data >= data && ev->data + ev->data_len <= data + size);
        REQUIRE(ev->ndigests <= log->nalgs);
        for (size_t d = 0; d < ev->ndigests; d++)
            REQUIRE(ev->digests[d].digest >= data && ev->digests[d].digest + ev->digests[d].len <= data + size);
        if (ev->type != TPM_EVENTLOG_EV_NO_ACTION)
            REQUIRE(ev->pcr < TPM_EVENTLOG_NUM_PCRS);
        if (i > 0)
            REQUIRE(ev->offset > log->events[i - 1].offset);
    }
    for (size_t a = 0; a < log->nalgs; a++) {
        tpm_eventlog_bank b1, b2;
        tpm_eventlog_err r1 = tpm_eventlog_replay(log, log->algs[a].alg, &b1);
        tpm_eventlog_err r2 = tpm_eventlog_replay(log, log->algs[a].alg, &b2);
        REQUIRE(r1 == r2);
        REQUIRE(r1 == TPM_EVENTLOG_OK || r1 == TPM_EVENTLOG_ERR_NO_BANK || r1 == TPM_EVENTLOG_ERR_UNSUPPORTED);
        if (r1 == TPM_EVENTLOG_OK)
            REQUIRE(memcmp(&b1, &b2, sizeof(b1)) == 0);
    }
    REQUIRE(tpm_eventlog_parse(data, size, &again) == TPM_EVENTLOG_OK && again->nevents == log->nevents);
    tpm_eventlog_free(again);
    tpm_eventlog_free(log);
    return 0;
}
