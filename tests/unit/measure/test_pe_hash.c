/* Unit tests for measure/pe_hash: the Authenticode digest skips the checksum and covers the
 * sections; every truncation and single-byte header corruption parses or fails cleanly. */
#include "test.h"
#include "measure/pe_hash.h"
#include "pe_build.h"

TEST(pe_hash_structure_and_hostile)
{
    uint8_t b[0x400], copy[0x400], d1[64], d2[64];
    size_t n = build_pe(b, sizeof(b)), dl = 0;
    pe_info pi;
    CHECK(pe_authenticode_hash(b, n, "sha256", d1, &dl, &pi) == MEASURE_OK && dl == 32);
    CHECK(pi.pe32plus && pi.subsystem == 10 && pi.nsections == 1 && pi.cert_size == 0);
    /* the checksum field is not hashed */
    memcpy(copy, b, n);
    copy[0x58 + 64] ^= 0xff;
    CHECK(pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL) == MEASURE_OK && memcmp(d1, d2, 32) == 0);
    /* section bytes are */
    memcpy(copy, b, n);
    copy[0x300] ^= 1;
    CHECK(pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL) == MEASURE_OK && memcmp(d1, d2, 32) != 0);
    /* every truncation and every single-byte corruption of the headers parses or fails cleanly */
    for (size_t len = 0; len < n; len++) {
        uint8_t *t = malloc(len ? len : 1);
        memcpy(t, b, len);
        measure_err rc = pe_authenticode_hash(t, len, "sha256", d2, &dl, NULL);
        CHECK(rc == MEASURE_OK || rc == MEASURE_ERR_PE_FORMAT);
        free(t);
    }
    for (size_t pos = 0; pos < 0x200; pos++) {
        for (int v = 0; v < 256; v += 51) {
            memcpy(copy, b, n);
            copy[pos] = (uint8_t)v;
            measure_err rc = pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL);
            CHECK(rc == MEASURE_OK || rc == MEASURE_ERR_PE_FORMAT || rc == MEASURE_ERR_TOO_BIG);
        }
    }
    CHECK(pe_authenticode_hash(b, n, "nosuchhash", d2, &dl, NULL) == MEASURE_ERR_ARG);
}

int main(void)
{
    RUN(pe_hash_structure_and_hostile);
    return test_done();
}
