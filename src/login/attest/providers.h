/* attest/providers: the provider objects defined in the attest/ sources, for the ordered list
 * in providers.c and for the tests that drive one provider directly. Declarations only. */
#ifndef SEALED_ATTEST_PROVIDERS_H
#define SEALED_ATTEST_PROVIDERS_H
#include "login/attest.h"

extern const struct attest_provider attest_provider_snp_tsm;    /* attest/snp_tsm.c */
extern const struct attest_provider attest_provider_snp_ioctl;  /* attest/snp_ioctl.c */
extern const struct attest_provider attest_provider_tdx_tsm;    /* attest/tdx_tsm.c */
extern const struct attest_provider attest_provider_tpm2;       /* attest/tpm2.c */
#endif
