/* Unit tests for measure/ovmf: the layout of real AmdSev and OvmfX64 firmware tails, and hostile
 * variants (every single-byte corruption of the footer and metadata, lying sizes, short images). */
#include "test.h"
#include "snp_testdata.h"
#include "measure/ovmf.h"

TEST(ovmf_amdsev_layout)
{
    size_t len;
    uint8_t *fw = amdsev_tail(&len);
    CHECK(fw != NULL);
    if (!fw) return;
    ovmf_info o;
    CHECK(ovmf_parse(fw, len, &o) == MEASURE_OK);
    CHECK(o.gpa == 0x100000000ull - 4096);
    CHECK(o.has_reset_eip && o.reset_eip == 0x80b004);
    CHECK(o.has_hash_table && o.hash_table_gpa == 0x810c00);
    CHECK(o.nsections == 7);
    CHECK(ovmf_has_section(&o, OVMF_SECTION_SNP_KERNEL_HASHES));
    CHECK(o.sections[5].type == OVMF_SECTION_SNP_KERNEL_HASHES && o.sections[5].gpa == 0x810000 &&
          o.sections[5].size == 0x1000);
    CHECK(o.sections[2].type == OVMF_SECTION_SNP_SECRETS && o.sections[3].type == OVMF_SECTION_CPUID);
    free(fw);

    fw = test_read_file(SNPDIR "fixtures/ovmf_OvmfX64_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    CHECK(ovmf_parse(fw, len, &o) == MEASURE_OK);
    CHECK(o.has_reset_eip);
    CHECK(!ovmf_has_section(&o, OVMF_SECTION_SNP_KERNEL_HASHES));
    CHECK(!ovmf_supports_hash_table(&o));
    free(fw);
}

/* Hostile firmware: every single-byte corruption of the footer/metadata area and every lie in
 * the sizes must parse or fail cleanly (run under ASan for the out-of-bounds part). */
TEST(ovmf_hostile)
{
    size_t len;
    uint8_t *fw = amdsev_tail(&len);
    CHECK(fw != NULL);
    if (!fw) return;
    uint8_t *copy = malloc(len);
    ovmf_info o;
    static const uint8_t vals[] = { 0x00, 0x01, 0x11, 0x12, 0x7f, 0x80, 0xff };
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t v = 0; v < sizeof(vals); v++) {
            memcpy(copy, fw, len);
            copy[pos] = vals[v];
            measure_err rc = ovmf_parse(copy, len, &o);
            if (rc == MEASURE_OK) {
                CHECK(o.nsections <= MEASURE_MAX_SECTIONS);
            } else {
                CHECK(rc == MEASURE_ERR_OVMF_FORMAT || rc == MEASURE_ERR_OVMF_SECTION ||
                      rc == MEASURE_ERR_TOO_BIG);
            }
        }
    }
    /* footer table length larger than the image */
    memcpy(copy, fw, len);
    copy[len - 50] = 0xff;
    copy[len - 49] = 0xff;
    CHECK(ovmf_parse(copy, len, &o) == MEASURE_ERR_OVMF_FORMAT);
    /* metadata offset-from-end smaller than the metadata header (found by fuzz_ovmf) */
    for (uint32_t off = 0; off < 16; off++) {
        memcpy(copy, fw, len);
        ovmf_info ref;
        CHECK(ovmf_parse(fw, len, &ref) == MEASURE_OK);
        /* the metadata entry's data is the 4 bytes before its 18-byte header; find it via parse */
        for (size_t pos = len - 50 - 200; pos < len - 50; pos++) {
            static const uint8_t g[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                           0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
            if (memcmp(copy + pos, g, 16) == 0) {
                copy[pos - 6] = (uint8_t)off;
                copy[pos - 5] = copy[pos - 4] = copy[pos - 3] = 0;
            }
        }
        CHECK(ovmf_parse(copy, len, &o) == MEASURE_ERR_OVMF_FORMAT);
    }
    /* a short image: every length below the footer's fixed offset */
    for (size_t n = 0; n < 50; n++)
        CHECK(ovmf_parse(fw + len - n, n, &o) == MEASURE_ERR_OVMF_FORMAT);
    CHECK(ovmf_parse(NULL, 0, &o) == MEASURE_ERR_ARG);
    free(copy);
    free(fw);
}

int main(void)
{
    RUN(ovmf_amdsev_layout);
    RUN(ovmf_hostile);
    return test_done();
}
