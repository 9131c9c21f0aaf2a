/* Launch digest drivers for SNP, SEV-ES and SEV (see launch.h). The SNP order is QEMU's: firmware
 * pages, then the metadata sections in table order (CPUID deferred to the end on EC2), then one
 * VMSA per vCPU. */
#include "measure/launch.h"

#include <string.h>

#include <openssl/evp.h>

static measure_err snp_kernel_hashes(snp_gctx *g, const ovmf_info *o, const launch_params *p,
                                     const ovmf_section *s)
{
    uint8_t page[MEASURE_PAGE];
    measure_err rc;
    if (!p->hashes)
        return snp_gctx_zero_pages(g, s->gpa, s->size);
    if (!o->has_hash_table)
        return MEASURE_ERR_NO_HASH_TABLE;
    if (s->size != MEASURE_PAGE)
        return MEASURE_ERR_OVMF_FORMAT;
    rc = sev_hashes_page(p->hashes, o->hash_table_gpa & (MEASURE_PAGE - 1), page);
    if (rc)
        return rc;
    return snp_gctx_normal_pages(g, s->gpa, page, MEASURE_PAGE);
}

static measure_err snp_digest(const launch_params *p, const ovmf_info *o, launch_result *out)
{
    snp_gctx g;
    measure_err rc;
    uint8_t vmsa[MEASURE_PAGE];

    if (p->hashes && !ovmf_has_section(o, OVMF_SECTION_SNP_KERNEL_HASHES))
        return MEASURE_ERR_NO_KERNEL_HASHES;
    if (p->ovmf_hash) {
        snp_gctx_init(&g, p->ovmf_hash);
    } else {
        if (o->len % MEASURE_PAGE != 0)
            return MEASURE_ERR_OVMF_FORMAT;
        snp_gctx_init(&g, NULL);
        if ((rc = snp_gctx_normal_pages(&g, o->gpa, o->data, o->len)) != MEASURE_OK)
            return rc;
    }
    memcpy(out->ovmf_hash, g.ld, SNP_LD_LEN);

    for (size_t i = 0; i < o->nsections; i++) {
        const ovmf_section *s = &o->sections[i];
        switch (s->type) {
        case OVMF_SECTION_SNP_SEC_MEM:
            rc = p->vmm == VMSA_VMM_GCE ? snp_gctx_unmeasured_pages(&g, s->gpa, s->size)
                                        : snp_gctx_zero_pages(&g, s->gpa, s->size);
            break;
        case OVMF_SECTION_SNP_SECRETS:
            rc = snp_gctx_secrets_page(&g, s->gpa);
            break;
        case OVMF_SECTION_CPUID:
            rc = p->vmm == VMSA_VMM_EC2 ? MEASURE_OK : snp_gctx_cpuid_page(&g, s->gpa);
            break;
        case OVMF_SECTION_SNP_KERNEL_HASHES:
            rc = snp_kernel_hashes(&g, o, p, s);
            break;
        case OVMF_SECTION_SVSM_CAA:
            rc = snp_gctx_zero_pages(&g, s->gpa, s->size);
            break;
        default:
            rc = MEASURE_ERR_OVMF_SECTION;
            break;
        }
        if (rc == MEASURE_ERR_ARG)      /* a section size that is not whole pages */
            rc = MEASURE_ERR_OVMF_FORMAT;
        if (rc)
            return rc;
    }
    if (p->vmm == VMSA_VMM_EC2) {       /* EC2 loads the CPUID page last */
        for (size_t i = 0; i < o->nsections; i++)
            if (o->sections[i].type == OVMF_SECTION_CPUID &&
                (rc = snp_gctx_cpuid_page(&g, o->sections[i].gpa)) != MEASURE_OK)
                return rc;
    }

    for (unsigned i = 0; i < p->vcpus; i++) {
        vmsa_build(vmsa, i == 0 ? VMSA_BSP_EIP : o->reset_eip, p->guest_features, p->vcpu_sig, p->vmm);
        if ((rc = snp_gctx_vmsa_page(&g, vmsa)) != MEASURE_OK)
            return rc;
        unsigned int n = 0;
        if (EVP_Digest(vmsa, MEASURE_PAGE, i == 0 ? out->vmsa_bsp_sha384 : out->vmsa_ap_sha384, &n,
                       EVP_sha384(), NULL) != 1)
            return MEASURE_ERR_CRYPTO;
        if (i > 0)
            out->has_ap_vmsa = 1;
    }
    memcpy(out->digest, g.ld, SNP_LD_LEN);
    out->digest_len = SNP_LD_LEN;
    out->snp_pages = g.pages;
    return MEASURE_OK;
}

/* SEV and SEV-ES: SHA-256 over the firmware, the hashes table, and (SEV-ES) the VMSAs. */
static measure_err sev_digest(const launch_params *p, const ovmf_info *o, launch_result *out)
{
    measure_err rc = MEASURE_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t vmsa[MEASURE_PAGE];
    if (!ctx)
        return MEASURE_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, o->data, o->len) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    if (p->hashes) {
        if (!ovmf_supports_hash_table(o)) {
            rc = MEASURE_ERR_NO_HASH_TABLE;
            goto out;
        }
        if (EVP_DigestUpdate(ctx, out->hashes_table, SEV_HASHES_TABLE_PADDED) != 1) {
            rc = MEASURE_ERR_CRYPTO;
            goto out;
        }
    }
    if (p->mode == LAUNCH_SEV_ES) {
        for (unsigned i = 0; i < p->vcpus; i++) {
            /* SEV-ES guests carry no SEV features word. */
            vmsa_build(vmsa, i == 0 ? VMSA_BSP_EIP : o->reset_eip, 0, p->vcpu_sig, p->vmm);
            if (EVP_DigestUpdate(ctx, vmsa, MEASURE_PAGE) != 1) {
                rc = MEASURE_ERR_CRYPTO;
                goto out;
            }
            unsigned int n = 0;
            if (EVP_Digest(vmsa, MEASURE_PAGE, i == 0 ? out->vmsa_bsp_sha384 : out->vmsa_ap_sha384,
                           &n, EVP_sha384(), NULL) != 1) {
                rc = MEASURE_ERR_CRYPTO;
                goto out;
            }
            if (i > 0)
                out->has_ap_vmsa = 1;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out->digest, NULL) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    out->digest_len = 32;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

measure_err launch_digest(const launch_params *p, launch_result *out)
{
    ovmf_info o;
    measure_err rc;

    if (!p || !out || !p->ovmf)
        return MEASURE_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (p->ovmf_hash && p->mode != LAUNCH_SNP)
        return MEASURE_ERR_ARG;
    if (p->mode != LAUNCH_SEV && (p->vcpus == 0 || p->vcpus > MEASURE_MAX_VCPUS))
        return MEASURE_ERR_ARG;
    if ((rc = ovmf_parse(p->ovmf, p->ovmf_len, &o)) != MEASURE_OK)
        return rc;
    out->reset_eip = o.reset_eip;
    out->hashes_table_gpa = o.hash_table_gpa;
    /* Refuse a kernel the firmware cannot measure before anything else (sev-snp-measure's order). */
    if (p->hashes && p->mode == LAUNCH_SNP && !ovmf_has_section(&o, OVMF_SECTION_SNP_KERNEL_HASHES))
        return MEASURE_ERR_NO_KERNEL_HASHES;
    if (p->hashes && p->mode != LAUNCH_SNP && !ovmf_supports_hash_table(&o))
        return MEASURE_ERR_NO_HASH_TABLE;
    /* SEV-ES and SNP need the reset block: application processors start at its address (and
     * sev-snp-measure refuses a firmware without it even for one vCPU). */
    if (p->mode != LAUNCH_SEV && (!o.has_reset_eip || (p->vcpus > 1 && o.reset_eip == 0)))
        return MEASURE_ERR_NO_RESET_EIP;
    if (p->hashes) {
        sev_hashes_table(p->hashes, out->hashes_table);
        out->has_hashes_table = 1;
    }
    return p->mode == LAUNCH_SNP ? snp_digest(p, &o, out) : sev_digest(p, &o, out);
}
