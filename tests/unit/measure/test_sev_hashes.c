/* Unit tests for measure/sev_hashes: the hashes of empty inputs, the table's GUIDs, lengths and
 * order, its page placement, and a missing file. */
#include "test.h"
#include "measure/sev_hashes.h"

TEST(sev_hashes_layout)
{
    sev_hashes h;
    uint8_t t[SEV_HASHES_TABLE_PADDED], page[MEASURE_PAGE];
    CHECK(sev_hashes_compute("/dev/null", NULL, NULL, &h) == MEASURE_OK);
    /* SHA-256("") for kernel and initrd, SHA-256("\0") for the empty command line */
    CHECK(test_hex_eq(h.kernel, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(memcmp(h.kernel, h.initrd, 32) == 0);
    CHECK(test_hex_eq(h.cmdline, 32, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    sev_hashes h2;
    CHECK(sev_hashes_compute("/dev/null", NULL, "", &h2) == MEASURE_OK);
    CHECK(memcmp(h.cmdline, h2.cmdline, 32) == 0);
    sev_hashes_table(&h, t);
    /* header GUID 9438d606-4f22-4cc9-b479-a793d411fd21 in bytes_le, length 168 */
    CHECK(t[0] == 0x06 && t[1] == 0xd6 && t[2] == 0x38 && t[3] == 0x94 && t[15] == 0x21);
    CHECK(t[16] == 168 && t[17] == 0);
    CHECK(t[18] == 0xd8 && t[34] == 50);              /* cmdline entry first */
    CHECK(memcmp(t + 18 + 18, h.cmdline, 32) == 0);
    CHECK(memcmp(t + 18 + 2 * 50 + 18, h.kernel, 32) == 0);
    for (size_t i = 168; i < SEV_HASHES_TABLE_PADDED; i++)
        CHECK(t[i] == 0);
    CHECK(sev_hashes_page(&h, 0xc00, page) == MEASURE_OK);
    CHECK(memcmp(page + 0xc00, t, sizeof(t)) == 0 && page[0xbff] == 0);
    CHECK(sev_hashes_page(&h, 4096 - 175, page) == MEASURE_ERR_OVMF_FORMAT);
    CHECK(sev_hashes_compute("/nonexistent", NULL, NULL, &h) == MEASURE_ERR_IO);
}

int main(void)
{
    RUN(sev_hashes_layout);
    return test_done();
}
