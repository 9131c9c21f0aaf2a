/* The SEV-SNP launch digest as the AMD secure processor accumulates it during SNP_LAUNCH_UPDATE:
 * each page folds into the running SHA-384 through a PAGE_INFO structure (SNP ABI spec, "Layout
 * of the PAGE_INFO structure"). Pure computation on caller memory; knows nothing of OVMF. */
#ifndef SEALED_MEASURE_SNP_GCTX_H
#define SEALED_MEASURE_SNP_GCTX_H
#include "measure/measure.h"

#define SNP_LD_LEN 48u

/* PAGE_INFO.PAGE_TYPE values. */
#define SNP_PAGE_NORMAL      0x01u
#define SNP_PAGE_VMSA        0x02u
#define SNP_PAGE_ZERO        0x03u
#define SNP_PAGE_UNMEASURED  0x04u
#define SNP_PAGE_SECRETS     0x05u
#define SNP_PAGE_CPUID       0x06u

/* The RMP records a VMSA at GPA (u64)-1, page-aligned and with bits above 51 cleared. */
#define SNP_VMSA_GPA 0xFFFFFFFFF000ull

typedef struct {
    uint8_t ld[SNP_LD_LEN];
    uint64_t pages;               /* PAGE_INFO updates folded in so far */
} snp_gctx;

/* Starts from zeros, or from a previously computed digest (seed, SNP_LD_LEN bytes). */
void snp_gctx_init(snp_gctx *g, const uint8_t *seed);

/* Folds one PAGE_INFO (contents = SHA-384 of the page for normal/VMSA pages, zeros otherwise). */
measure_err snp_gctx_update(snp_gctx *g, uint8_t page_type, uint64_t gpa, const uint8_t contents[SNP_LD_LEN]);

/* Normal pages: len must be a multiple of 4 KiB. */
measure_err snp_gctx_normal_pages(snp_gctx *g, uint64_t gpa, const uint8_t *data, size_t len);
/* Zero / unmeasured pages covering len bytes (a multiple of 4 KiB) from gpa. */
measure_err snp_gctx_zero_pages(snp_gctx *g, uint64_t gpa, uint64_t len);
measure_err snp_gctx_unmeasured_pages(snp_gctx *g, uint64_t gpa, uint64_t len);
measure_err snp_gctx_secrets_page(snp_gctx *g, uint64_t gpa);
measure_err snp_gctx_cpuid_page(snp_gctx *g, uint64_t gpa);
/* One 4 KiB VMSA page. */
measure_err snp_gctx_vmsa_page(snp_gctx *g, const uint8_t page[MEASURE_PAGE]);
#endif
