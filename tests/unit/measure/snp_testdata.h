/* The SNP launch-digest test data the measure unit tests share (../shared/testdata, made from
 * sev-snp-measure): its directory and the real AmdSev OVMF tail most of them start from. */
#ifndef TESTS_UNIT_MEASURE_SNP_TESTDATA_H
#define TESTS_UNIT_MEASURE_SNP_TESTDATA_H
#include "test.h"

#define SNPDIR "../shared/testdata/snp-measure-sev-snp-measure/"

/* The AmdSev OVMF tail (malloc'd, the caller frees), or NULL. */
static inline uint8_t *amdsev_tail(size_t *len)
{
    return test_read_file(SNPDIR "fixtures/ovmf_AmdSev_suffix.bin", len);
}
#endif
