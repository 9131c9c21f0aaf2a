/* attest/providers: the ordered list of hardware evidence providers (DESIGN.md "Where it runs"):
 * SEV-SNP (configfs-tsm, then /dev/sev-guest), TDX, TPM 2.0. The "none" case is attest.c's. */
#include "login/attest.h"
#include "login/attest/providers.h"

const struct attest_provider *const attest_providers[] = {
    &attest_provider_tpm2,
    NULL,
};
