/* Unit tests for measure/vmsa: vCPU signatures (published table and formula cases) and the
 * initial VMSA's fields per VMM (QEMU, EC2, GCE). */
#include "test.h"
#include "measure/vmsa.h"

TEST(vcpu_signatures)
{
    /* cases.json cpu_sig.tests and table */
    CHECK(vmsa_cpu_sig(14, 1, 2) == 0xe12);
    CHECK(vmsa_cpu_sig(23, 1, 2) == 0x800f12);
    struct { const char *name; uint32_t sig; } t[] = {
        { "EPYC", 0x800f12 }, { "EPYC-v1", 0x800f12 }, { "EPYC-v4", 0x800f12 }, { "EPYC-IBPB", 0x800f12 },
        { "EPYC-Rome", 0x830f10 }, { "EPYC-Rome-v2", 0x830f10 }, { "EPYC-Milan", 0xa00f11 },
        { "epyc-milan-v2", 0xa00f11 }, { "EPYC-Genoa", 0xa10f10 }, { "EPYC-Turin", 0xb00f00 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t sig = 0;
        CHECK(vmsa_vcpu_sig_from_name(t[i].name, &sig) == 0 && sig == t[i].sig);
    }
    uint32_t sig;
    CHECK(vmsa_vcpu_sig_from_name("EPYC-v5", &sig) == -1);
    CHECK(vmsa_vcpu_sig_from_name(NULL, &sig) == -1);
    for (size_t i = 0; vmsa_vcpu_names[i]; i++)
        CHECK(vmsa_vcpu_sig_from_name(vmsa_vcpu_names[i], &sig) == 0);
}

TEST(vmsa_fields)
{
    uint8_t page[MEASURE_PAGE];
    vmsa_build(page, 0x80b004, 0x21, 0x800f12, VMSA_VMM_QEMU);
    CHECK(page[0x10 + 2] == 0x9b);                    /* CS attrib */
    CHECK(page[0x10 + 8 + 2] == 0x80);                /* CS base = eip & 0xffff0000 */
    CHECK(page[0x178] == 0x04 && page[0x179] == 0xb0); /* RIP = eip & 0xffff */
    CHECK(page[0x310] == 0x12 && page[0x311] == 0x0f && page[0x312] == 0x80);  /* RDX */
    CHECK(page[0x3b0] == 0x21);                       /* SEV_FEATURES */
    CHECK(page[0x408] == 0x80 && page[0x409] == 0x1f); /* MXCSR */
    /* EC2: RDX is a fixed 0x600 since sev-snp-measure 4a02bf0 (2026; it was 0), whatever the
     * vCPU signature; MXCSR and the x87 FCW stay 0. CS is 0x9a on the boot CPU, 0x9b on the APs. */
    vmsa_build(page, VMSA_BSP_EIP, 1, 0x800f12, VMSA_VMM_EC2);
    CHECK(page[0x10 + 2] == 0x9a && page[0x20 + 2] == 0x92 && page[0x90 + 2] == 0x83);
    CHECK(page[0x310] == 0x00 && page[0x311] == 0x06 && page[0x312] == 0 && page[0x313] == 0);
    CHECK(page[0x408] == 0 && page[0x409] == 0 && page[0x410] == 0 && page[0x411] == 0);
    CHECK(page[0x268] == 0x06 && page[0x269] == 0x04 && page[0x26a] == 0x07); /* default PAT */
    uint8_t other[MEASURE_PAGE];
    vmsa_build(other, VMSA_BSP_EIP, 1, 0xb00f00, VMSA_VMM_EC2);
    CHECK(memcmp(page, other, MEASURE_PAGE) == 0);
    vmsa_build(page, 0x80b004, 1, 0x800f12, VMSA_VMM_EC2);
    CHECK(page[0x10 + 2] == 0x9b && page[0x311] == 0x06);
    vmsa_build(page, 0x80b004, 0x21, 0x800f12, VMSA_VMM_QEMU);
    CHECK(page[0x410] == 0x7f && page[0x411] == 0x03);  /* x87 FCW on QEMU */
    vmsa_build(page, VMSA_BSP_EIP, 1, 0x800f12, VMSA_VMM_GCE);
    CHECK(page[0x310] == 0x00 && page[0x311] == 0x06); /* RDX = 0x600 */
    CHECK(page[0x268] == 0x06 && page[0x269] == 0x01 && page[0x26a] == 0x07 && page[0x26b] == 0);
    CHECK(page[0x408] == 0 && page[0x410] == 0);
    vmsa_build(other, VMSA_BSP_EIP, 1, 0xa10f10, VMSA_VMM_GCE);
    CHECK(memcmp(page, other, MEASURE_PAGE) == 0);
    vmsa_vmm v;
    CHECK(vmsa_vmm_from_name("QEMU", &v) == 0 && v == VMSA_VMM_QEMU);
    CHECK(vmsa_vmm_from_name("gce", &v) == 0 && v == VMSA_VMM_GCE);
    CHECK(vmsa_vmm_from_name("kvm", &v) == -1);
}

int main(void)
{
    RUN(vcpu_signatures);
    RUN(vmsa_fields);
    return test_done();
}
