/* Launch digests of an AMD SEV guest booted by a VMM from OVMF, optionally with measured direct
 * boot: SEV-SNP (SHA-384 launch digest, the report's MEASUREMENT), SEV-ES and SEV (SHA-256 launch
 * digests). Ties ovmf, sev_hashes, vmsa and snp_gctx together in the order the VMM loads pages. No
 * I/O: the caller supplies the firmware bytes and the kernel/initrd/cmdline hashes. */
#ifndef SEALED_MEASURE_LAUNCH_H
#define SEALED_MEASURE_LAUNCH_H
#include "measure/measure.h"
#include "measure/ovmf.h"
#include "measure/sev_hashes.h"
#include "measure/snp_gctx.h"
#include "measure/vmsa.h"

typedef enum { LAUNCH_SNP, LAUNCH_SEV_ES, LAUNCH_SEV } launch_mode;

typedef struct {
    launch_mode mode;
    const uint8_t *ovmf;          /* firmware image (borrowed) */
    size_t ovmf_len;
    const uint8_t *ovmf_hash;     /* SNP only: SNP_LD_LEN bytes replacing the firmware pages, or NULL */
    const sev_hashes *hashes;     /* measured direct boot (kernel given), or NULL */
    unsigned vcpus;               /* SNP/SEV-ES: 1..MEASURE_MAX_VCPUS */
    uint32_t vcpu_sig;            /* CPUID(1).EAX put in RDX (QEMU) */
    vmsa_vmm vmm;
    uint64_t guest_features;      /* SNP: VMSA SEV_FEATURES (0x1 = SNP active) */
} launch_params;

typedef struct {
    uint8_t digest[SNP_LD_LEN];   /* the result (SHA-384 for SNP, first 32 bytes for SEV/SEV-ES) */
    size_t digest_len;
    uint8_t ovmf_hash[SNP_LD_LEN];/* SNP: digest after the firmware pages */
    uint64_t snp_pages;           /* SNP: PAGE_INFO updates */
    uint8_t hashes_table[SEV_HASHES_TABLE_PADDED];
    int has_hashes_table;
    uint32_t hashes_table_gpa;
    uint32_t reset_eip;
    int has_ap_vmsa;
    uint8_t vmsa_bsp_sha384[SNP_LD_LEN];
    uint8_t vmsa_ap_sha384[SNP_LD_LEN];
} launch_result;

/* Computes the launch digest. Errors: MEASURE_ERR_NO_KERNEL_HASHES (SNP, kernel with a firmware
 * without the SNP_KERNEL_HASHES section), MEASURE_ERR_NO_HASH_TABLE (SEV/SEV-ES, kernel with a
 * firmware without the hashes table), MEASURE_ERR_NO_RESET_EIP (more than one vCPU and no SEV-ES
 * reset block), MEASURE_ERR_OVMF_* (bad firmware), MEASURE_ERR_ARG (bad parameters). */
measure_err launch_digest(const launch_params *p, launch_result *out);
#endif
