/* SNP launch digest accumulator (see snp_gctx.h). Builds each 0x70-byte PAGE_INFO on the stack
 * and hashes it; no allocation, no I/O. */
#include "measure/snp_gctx.h"

#include <string.h>

#include <openssl/evp.h>

#define PAGE_INFO_LEN 0x70u

static measure_err sha384(const uint8_t *data, size_t len, uint8_t out[SNP_LD_LEN])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha384(), NULL) != 1 || n != SNP_LD_LEN)
        return MEASURE_ERR_CRYPTO;
    return MEASURE_OK;
}

void snp_gctx_init(snp_gctx *g, const uint8_t *seed)
{
    memset(g, 0, sizeof(*g));
    if (seed)
        memcpy(g->ld, seed, SNP_LD_LEN);
}

measure_err snp_gctx_update(snp_gctx *g, uint8_t page_type, uint64_t gpa, const uint8_t contents[SNP_LD_LEN])
{
    uint8_t pi[PAGE_INFO_LEN];
    memset(pi, 0, sizeof(pi));
    memcpy(pi, g->ld, SNP_LD_LEN);                /* DIGEST_CUR */
    memcpy(pi + 48, contents, SNP_LD_LEN);        /* CONTENTS */
    pi[96] = PAGE_INFO_LEN & 0xff;                /* LENGTH (u16) */
    pi[97] = PAGE_INFO_LEN >> 8;
    pi[98] = page_type;                           /* PAGE_TYPE */
    pi[99] = 0;                                   /* IMI_PAGE */
    /* 100..102: VMPL3/2/1 permissions (0), 103 reserved */
    for (int i = 0; i < 8; i++)                   /* GPA (u64) */
        pi[104 + i] = (uint8_t)(gpa >> (8 * i));
    g->pages++;
    return sha384(pi, sizeof(pi), g->ld);
}

measure_err snp_gctx_normal_pages(snp_gctx *g, uint64_t gpa, const uint8_t *data, size_t len)
{
    uint8_t h[SNP_LD_LEN];
    measure_err rc;
    if (len % MEASURE_PAGE != 0)
        return MEASURE_ERR_ARG;
    for (size_t off = 0; off < len; off += MEASURE_PAGE) {
        if ((rc = sha384(data + off, MEASURE_PAGE, h)) != MEASURE_OK)
            return rc;
        if ((rc = snp_gctx_update(g, SNP_PAGE_NORMAL, gpa + off, h)) != MEASURE_OK)
            return rc;
    }
    return MEASURE_OK;
}

static measure_err blank_pages(snp_gctx *g, uint8_t type, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[SNP_LD_LEN];
    measure_err rc;
    if (len % MEASURE_PAGE != 0)
        return MEASURE_ERR_ARG;
    if (len > MEASURE_MAX_SECTION_BYTES)
        return MEASURE_ERR_TOO_BIG;
    for (uint64_t off = 0; off < len; off += MEASURE_PAGE)
        if ((rc = snp_gctx_update(g, type, gpa + off, zeros)) != MEASURE_OK)
            return rc;
    return MEASURE_OK;
}

measure_err snp_gctx_zero_pages(snp_gctx *g, uint64_t gpa, uint64_t len)
{
    return blank_pages(g, SNP_PAGE_ZERO, gpa, len);
}

measure_err snp_gctx_unmeasured_pages(snp_gctx *g, uint64_t gpa, uint64_t len)
{
    return blank_pages(g, SNP_PAGE_UNMEASURED, gpa, len);
}

measure_err snp_gctx_secrets_page(snp_gctx *g, uint64_t gpa)
{
    return blank_pages(g, SNP_PAGE_SECRETS, gpa, MEASURE_PAGE);
}

measure_err snp_gctx_cpuid_page(snp_gctx *g, uint64_t gpa)
{
    return blank_pages(g, SNP_PAGE_CPUID, gpa, MEASURE_PAGE);
}

measure_err snp_gctx_vmsa_page(snp_gctx *g, const uint8_t page[MEASURE_PAGE])
{
    uint8_t h[SNP_LD_LEN];
    measure_err rc = sha384(page, MEASURE_PAGE, h);
    if (rc)
        return rc;
    return snp_gctx_update(g, SNP_PAGE_VMSA, SNP_VMSA_GPA, h);
}
