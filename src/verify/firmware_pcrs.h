/* firmware_pcrs: what the firmware measured into PCRs 0-7, read from an event log that has already
 * been replayed to the quoted values (tpm_check does that first): option ROM code and configuration
 * (PCR 2, 3), platform-specific events (PCR 6), EFI applications or drivers outside PCR 4 / 2, the
 * Secure Boot state (PCR 7), boot variables (PCR 1). A separator counts only when its data is the
 * standard 4 bytes and its digest is their hash, so a log cannot disguise a driver as one. Each
 * finding is one step; nothing else is decided here. */
#ifndef SEALED_VERIFY_FIRMWARE_PCRS_H
#define SEALED_VERIFY_FIRMWARE_PCRS_H
#include <stdint.h>
#include "common/tpm_eventlog.h"
#include "verify/steps.h"

struct firmware_pcrs_out {
    int secure_boot;          /* 1 on, 0 off, -1 not stated by the log */
    unsigned unexpected;      /* events the policy does not expect (failed or warned steps) */
};

/* Checks the events of PCRs 0-7 in log for bank alg. allow_option_roms turns the option-ROM and
 * platform-event findings (PCR 2, 3, 6 and drivers) into warnings named after the flag. Returns the
 * number of failed steps it added. */
int firmware_pcrs_check(const tpm_eventlog *log, uint16_t alg, int allow_option_roms, struct steps *st,
                        struct firmware_pcrs_out *out);
#endif
