/* Unit tests for measure/snp_gctx: the SNP page accumulator against sev-snp-measure's published
 * OVMF hash, and its argument checks. */
#include "test.h"
#include "snp_testdata.h"
#include "measure/snp_gctx.h"

/* sev-snp-measure test_snp_ovmf_hash_full_*: calc_snp_ovmf_hash(AmdSev tail). */
TEST(snp_ovmf_hash_published_vector)
{
    size_t len;
    uint8_t *fw = amdsev_tail(&len);
    CHECK(fw != NULL);
    if (!fw) return;
    snp_gctx g;
    snp_gctx_init(&g, NULL);
    CHECK(snp_gctx_normal_pages(&g, 0x100000000ull - len, fw, len) == MEASURE_OK);
    CHECK(test_hex_eq(g.ld, SNP_LD_LEN, "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2"
                                   "c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"));
    CHECK(g.pages == 1);
    CHECK(snp_gctx_normal_pages(&g, 0, fw, 100) == MEASURE_ERR_ARG);
    CHECK(snp_gctx_zero_pages(&g, 0, 4095) == MEASURE_ERR_ARG);
    free(fw);
}

int main(void)
{
    RUN(snp_ovmf_hash_published_vector);
    return test_done();
}
