/* pcr4_policy: decides from a TPM event log whether PCR 4 records exactly the expected EFI
 * applications, in order, and nothing else that ran. UEFI firmware extends PCR 4 with
 *   EV_EFI_ACTION "Calling EFI Application from Boot Option"   (each boot attempt)
 *   EV_EFI_ACTION "Returning from EFI Application from Boot Option" (each attempt that came back)
 *   EV_SEPARATOR                                                 (once, at the first attempt)
 *   EV_EFI_BOOT_SERVICES_APPLICATION                              (Authenticode digest of each image loaded)
 * so the exact PCR 4 value also depends on how many boot options the platform tried before ours
 * (a NIC's PXE, an empty DVD drive). This policy accepts any number of such failed attempts but
 * refuses any application other than the expected ones, any other event type in PCR 4, and a log
 * whose PCR 4 replay differs from the value the TPM quoted (the log is only trusted through that).
 * Reads the log only (common/tpm_eventlog); owns no key and decides nothing about other PCRs. */
#ifndef SEALED_VERIFY_PCR4_POLICY_H
#define SEALED_VERIFY_PCR4_POLICY_H
#include <stddef.h>
#include <stdint.h>

#define PCR4_POLICY_MAX_APPS 8u     /* expected applications (a UKI and its kernel: 2) */

struct pcr4_policy_result {
    unsigned failed_attempts;       /* "Returning from EFI Application" actions before ours */
    char why[256];                  /* on failure: what the log shows that the policy refuses */
};

/* 0 when log[0..len) replays (SHA-256 bank) to quoted_pcr4 and its PCR 4 events are boot-attempt
 * actions, one separator, and exactly apps[0..napps) as EV_EFI_BOOT_SERVICES_APPLICATION digests
 * in that order; -1 otherwise, with out->why set. */
int pcr4_policy_check(const uint8_t *log, size_t len, const uint8_t quoted_pcr4[32],
                      const uint8_t (*apps)[32], size_t napps, struct pcr4_policy_result *out);
#endif
