/* The initial VMSA (SEV-ES save area) a VMM gives each vCPU of an SEV-ES/SNP guest, as measured
 * into the launch digest: register reset state per VMM (QEMU/KVM, AWS EC2, Google GCE), RDX (QEMU:
 * the vCPU's CPUID signature; EC2 and GCE: a fixed 0x600), and the SEV features word. Also QEMU's
 * vCPU model -> signature table. Follows virtee/sev-snp-measure 8f2b337 (docs/measure.md). */
#ifndef SEALED_MEASURE_VMSA_H
#define SEALED_MEASURE_VMSA_H
#include "measure/measure.h"

typedef enum { VMSA_VMM_QEMU, VMSA_VMM_EC2, VMSA_VMM_GCE } vmsa_vmm;

#define VMSA_BSP_EIP 0xFFFFFFF0u

/* Fills a 4 KiB VMSA page for a vCPU starting at eip (VMSA_BSP_EIP for the boot CPU, the OVMF
 * SEV-ES reset address for the others). sev_features is the guest features word (SNP) or 0.
 * vcpu_sig is used on QEMU only; EC2 and GCE ignore it. */
void vmsa_build(uint8_t page[MEASURE_PAGE], uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
                vmsa_vmm vmm);

/* CPUID(1).EAX from family/model/stepping (AMD CPUID spec, Fn0000_0001_EAX). */
uint32_t vmsa_cpu_sig(unsigned family, unsigned model, unsigned stepping);

/* QEMU CPU model name (EPYC, EPYC-v4, EPYC-Rome, EPYC-Milan-v2, EPYC-Genoa, EPYC-Turin, ...) to
 * its signature, case-insensitively. Returns 0 and sets *sig, or -1 when unknown. */
int vmsa_vcpu_sig_from_name(const char *name, uint32_t *sig);

/* The known names, NULL-terminated (for help text). */
extern const char *const vmsa_vcpu_names[];

/* "qemu", "ec2", "gce" (case-insensitive) to the enum; 0 or -1. */
int vmsa_vmm_from_name(const char *name, vmsa_vmm *out);
const char *vmsa_vmm_name(vmsa_vmm vmm);
#endif
