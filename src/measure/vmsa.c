/* Initial VMSA pages and vCPU signatures (see vmsa.h). Field offsets follow the SEV-ES save area
 * layout (AMD APM vol. 2, table B-4; Linux struct sev_es_save_area). */
#include "measure/vmsa.h"

#include <string.h>
#include <strings.h>

/* Offsets into the save area. */
#define O_ES       0x000u
#define O_CS       0x010u
#define O_SS       0x020u
#define O_DS       0x030u
#define O_FS       0x040u
#define O_GS       0x050u
#define O_GDTR     0x060u
#define O_LDTR     0x070u
#define O_IDTR     0x080u
#define O_TR       0x090u
#define O_EFER     0x0D0u
#define O_CR4      0x148u
#define O_CR0      0x158u
#define O_DR7      0x160u
#define O_DR6      0x168u
#define O_RFLAGS   0x170u
#define O_RIP      0x178u
#define O_G_PAT    0x268u
#define O_RDX      0x310u
#define O_SEV_FEAT 0x3B0u
#define O_XCR0     0x3E8u
#define O_MXCSR    0x408u
#define O_X87_FCW  0x410u

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void seg(uint8_t *page, size_t off, uint16_t selector, uint16_t attrib, uint32_t limit, uint64_t base)
{
    put16(page + off, selector);
    put16(page + off + 2, attrib);
    put32(page + off + 4, limit);
    put64(page + off + 8, base);
}

void vmsa_build(uint8_t page[MEASURE_PAGE], uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
                vmsa_vmm vmm)
{
    uint16_t cs_flags = 0x9b, ss_flags = 0x93, tr_flags = 0x8b, fcw = 0;
    uint64_t rdx = 0, g_pat = 0x0007040600070406ull;   /* PAT reset value (APM vol. 2, A.3) */
    uint32_t mxcsr = 0;

    switch (vmm) {
    case VMSA_VMM_QEMU:
        rdx = vcpu_sig;
        mxcsr = 0x1f80;
        fcw = 0x37f;
        break;
    case VMSA_VMM_EC2:
        /* EC2's hypervisor puts a fixed 0x600 in RDX whatever the vCPU model (sev-snp-measure
         * 4a02bf0, 2026-04-28, from Amazon: it was 0 before, which no longer matched live
         * reports); MXCSR and the x87 FCW stay 0, as they have been since 2024. */
        rdx = 0x600;
        cs_flags = eip == VMSA_BSP_EIP ? 0x9a : 0x9b;
        ss_flags = 0x92;
        tr_flags = 0x83;
        break;
    case VMSA_VMM_GCE:
        rdx = 0x600;
        g_pat = 0x00070106;        /* GCE's hypervisor sets its own PAT */
        break;
    }
    memset(page, 0, MEASURE_PAGE);
    seg(page, O_ES, 0, 0x93, 0xffff, 0);
    seg(page, O_CS, 0xf000, cs_flags, 0xffff, eip & 0xffff0000u);
    seg(page, O_SS, 0, ss_flags, 0xffff, 0);
    seg(page, O_DS, 0, 0x93, 0xffff, 0);
    seg(page, O_FS, 0, 0x93, 0xffff, 0);
    seg(page, O_GS, 0, 0x93, 0xffff, 0);
    seg(page, O_GDTR, 0, 0, 0xffff, 0);
    seg(page, O_IDTR, 0, 0, 0xffff, 0);
    seg(page, O_LDTR, 0, 0x82, 0xffff, 0);
    seg(page, O_TR, 0, tr_flags, 0xffff, 0);
    put64(page + O_EFER, 0x1000);       /* KVM sets EFER.SVME */
    put64(page + O_CR4, 0x40);          /* KVM sets CR4.MCE */
    put64(page + O_CR0, 0x10);
    put64(page + O_DR7, 0x400);
    put64(page + O_DR6, 0xffff0ff0);
    put64(page + O_RFLAGS, 0x2);
    put64(page + O_RIP, eip & 0xffffu);
    put64(page + O_G_PAT, g_pat);
    put64(page + O_RDX, rdx);
    put64(page + O_SEV_FEAT, sev_features);
    put64(page + O_XCR0, 0x1);
    put32(page + O_MXCSR, mxcsr);
    put16(page + O_X87_FCW, fcw);
}

uint32_t vmsa_cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
    unsigned fam_low = family > 0xf ? 0xf : family;
    unsigned fam_high = family > 0xf ? (family - 0xf) & 0xff : 0;
    return (uint32_t)(fam_high << 20 | ((model >> 4) & 0xf) << 16 | fam_low << 8 |
                      (model & 0xf) << 4 | (stepping & 0xf));
}

static const struct { const char *name; unsigned family, model, stepping; } VCPU_TYPES[] = {
    { "EPYC", 23, 1, 2 },          { "EPYC-v1", 23, 1, 2 },       { "EPYC-v2", 23, 1, 2 },
    { "EPYC-IBPB", 23, 1, 2 },     { "EPYC-v3", 23, 1, 2 },       { "EPYC-v4", 23, 1, 2 },
    { "EPYC-Rome", 23, 49, 0 },    { "EPYC-Rome-v1", 23, 49, 0 }, { "EPYC-Rome-v2", 23, 49, 0 },
    { "EPYC-Rome-v3", 23, 49, 0 }, { "EPYC-Milan", 25, 1, 1 },    { "EPYC-Milan-v1", 25, 1, 1 },
    { "EPYC-Milan-v2", 25, 1, 1 }, { "EPYC-Genoa", 25, 17, 0 },   { "EPYC-Genoa-v1", 25, 17, 0 },
    { "EPYC-Turin", 26, 0, 0 },
};

const char *const vmsa_vcpu_names[] = {
    "EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-Rome", "EPYC-Rome-v1",
    "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Milan", "EPYC-Milan-v1", "EPYC-Milan-v2", "EPYC-Genoa",
    "EPYC-Genoa-v1", "EPYC-Turin", NULL,
};

int vmsa_vcpu_sig_from_name(const char *name, uint32_t *sig)
{
    if (!name || !sig)
        return -1;
    for (size_t i = 0; i < sizeof(VCPU_TYPES) / sizeof(VCPU_TYPES[0]); i++) {
        if (strcasecmp(name, VCPU_TYPES[i].name) == 0) {
            *sig = vmsa_cpu_sig(VCPU_TYPES[i].family, VCPU_TYPES[i].model, VCPU_TYPES[i].stepping);
            return 0;
        }
    }
    return -1;
}

int vmsa_vmm_from_name(const char *name, vmsa_vmm *out)
{
    if (!name || !out)
        return -1;
    if (strcasecmp(name, "qemu") == 0) *out = VMSA_VMM_QEMU;
    else if (strcasecmp(name, "ec2") == 0) *out = VMSA_VMM_EC2;
    else if (strcasecmp(name, "gce") == 0) *out = VMSA_VMM_GCE;
    else return -1;
    return 0;
}

const char *vmsa_vmm_name(vmsa_vmm vmm)
{
    switch (vmm) {
    case VMSA_VMM_QEMU: return "qemu";
    case VMSA_VMM_EC2:  return "ec2";
    case VMSA_VMM_GCE:  return "gce";
    }
    return "?";
}
