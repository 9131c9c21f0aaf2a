/* libFuzzer target for measure/pe_hash: any input hashes or fails with a typed error; a hashed
 * image reports a certificate table inside the input and hashes the same way twice. */
#include <stdlib.h>
#include <string.h>

#include "measure/pcr_predict.h"
#include "measure/pe_hash.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    unsigned char d1[64], d2[64];
    size_t l1 = 0, l2 = 0;
    pe_info pi;
    measure_err rc = pe_authenticode_hash(data, size, "sha256", d1, &l1, &pi);
    if (rc != MEASURE_OK) {
        REQUIRE(rc == MEASURE_ERR_PE_FORMAT || rc == MEASURE_ERR_TOO_BIG);
        return 0;
    }
    REQUIRE(l1 == 32);
    REQUIRE(pi.size_of_headers <= size);
    REQUIRE(pi.cert_size == 0 || (unsigned long long)pi.cert_offset + pi.cert_size <= size);
    REQUIRE(pe_authenticode_hash(data, size, "sha256", d2, &l2, NULL) == MEASURE_OK);
    REQUIRE(l2 == 32 && memcmp(d1, d2, 32) == 0);
    pe_section secs[MEASURE_MAX_PE_SECTIONS];
    size_t n = 0;
    if (pe_sections(data, size, secs, MEASURE_MAX_PE_SECTIONS, &n) == MEASURE_OK) {
        REQUIRE(n == pi.nsections);
        for (size_t i = 0; i < n; i++)
            REQUIRE(secs[i].raw_size == 0 || (unsigned long long)secs[i].raw_ptr + secs[i].raw_size <= size);
    }
    pcr_predict_uki_result u1, u2;
    measure_err e1 = pcr_predict_uki_pcr11(data, size, &u1), e2 = pcr_predict_uki_pcr11(data, size, &u2);
    REQUIRE(e1 == e2);
    if (e1 == MEASURE_OK && u1.is_uki)
        REQUIRE(u1.nevents % 2 == 0 && memcmp(u1.pcr11, u2.pcr11, 32) == 0);
    return 0;
}
