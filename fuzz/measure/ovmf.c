/* libFuzzer target for measure/ovmf + launch: any firmware image parses or fails with a typed
 * error; a parsed one only describes sections of known types, and computing its SNP and SEV-ES
 * launch digests either succeeds (deterministically) or fails with a typed error. */
#include <stdlib.h>
#include <string.h>

#include "measure/launch.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    ovmf_info o;
    measure_err rc = ovmf_parse(data, size, &o);
    if (rc != MEASURE_OK) {
        REQUIRE(rc == MEASURE_ERR_OVMF_FORMAT || rc == MEASURE_ERR_OVMF_SECTION ||
                rc == MEASURE_ERR_TOO_BIG || rc == MEASURE_ERR_ARG);
        return 0;
    }
    REQUIRE(o.nsections <= MEASURE_MAX_SECTIONS && o.len == size);
    for (size_t i = 0; i < o.nsections; i++) {
        uint32_t t = o.sections[i].type;
        REQUIRE(t == 1 || t == 2 || t == 3 || t == 4 || t == 0x10);
    }
    static const sev_hashes h = { { 1 }, { 2 }, { 3 } };
    for (int mode = 0; mode < 2; mode++) {
        for (int with_kernel = 0; with_kernel < 2; with_kernel++) {
            launch_params p = { .mode = mode ? LAUNCH_SEV_ES : LAUNCH_SNP, .ovmf = data, .ovmf_len = size,
                                .hashes = with_kernel ? &h : NULL, .vcpus = 2, .vcpu_sig = 0x800f12,
                                .vmm = VMSA_VMM_QEMU, .guest_features = 1 };
            launch_result r1, r2;
            measure_err e1 = launch_digest(&p, &r1), e2 = launch_digest(&p, &r2);
            REQUIRE(e1 == e2);
            if (e1 == MEASURE_OK)
                REQUIRE(memcmp(r1.digest, r2.digest, sizeof(r1.digest)) == 0);
            else
                REQUIRE(e1 != MEASURE_ERR_NOMEM && e1 != MEASURE_ERR_CRYPTO);
        }
    }
    return 0;
}
