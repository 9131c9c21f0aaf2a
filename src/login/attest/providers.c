/* attest/providers: the ordered list of hardware evidence providers (DESIGN.md "Where it runs"):
 * SEV-SNP (configfs-tsm, else /dev/sev-guest: the second stands down when the first is there),
 * TDX (configfs-tsm), TPM 2.0. Evidence is attached in this order. The "none" case is attest.c's. */
#include "login/attest.h"
#include "login/attest/providers.h"

const struct attest_provider *const attest_providers[] = {
    &attest_provider_snp_tsm,
    &attest_provider_snp_ioctl,
    &attest_provider_tdx_tsm,
    &attest_provider_tpm2,
    NULL,
};
