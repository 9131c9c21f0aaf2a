/* OVMF firmware layout as AMD SEV guests use it: the footer GUID table that ends 32 bytes before
 * the end of the image, the SEV-ES reset block, the SEV hashes table location and the SEV metadata
 * ("ASEV") section list. Parses an untrusted image held in memory; never hashes, never does I/O. */
#ifndef SEALED_MEASURE_OVMF_H
#define SEALED_MEASURE_OVMF_H
#include "measure/measure.h"

/* SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm). */
#define OVMF_SECTION_SNP_SEC_MEM        1u
#define OVMF_SECTION_SNP_SECRETS        2u
#define OVMF_SECTION_CPUID              3u
#define OVMF_SECTION_SVSM_CAA           4u
#define OVMF_SECTION_SNP_KERNEL_HASHES  0x10u

typedef struct {
    uint32_t gpa;
    uint32_t size;
    uint32_t type;
} ovmf_section;

typedef struct {
    const uint8_t *data;          /* borrowed: the whole image */
    size_t len;
    uint64_t gpa;                 /* where the image is mapped: it ends at 4 GiB */
    int has_footer_table;
    int has_reset_eip;
    uint32_t reset_eip;           /* SEV-ES AP reset address */
    int has_hash_table;           /* SEV_HASH_TABLE_RV_GUID present */
    uint32_t hash_table_gpa;
    size_t nsections;
    ovmf_section sections[MEASURE_MAX_SECTIONS];
} ovmf_info;

/* Parses data[0..len) (borrowed; must outlive *out). An image without the footer table or
 * without SEV metadata parses fine (with no entries), as sev-snp-measure treats it; a table or
 * metadata block that is present but inconsistent is MEASURE_ERR_OVMF_FORMAT, and a section of an
 * unknown type is MEASURE_ERR_OVMF_SECTION. */
measure_err ovmf_parse(const uint8_t *data, size_t len, ovmf_info *out);

/* 1 when the metadata lists a section of this type. */
int ovmf_has_section(const ovmf_info *ovmf, uint32_t type);

/* 1 when SEV/SEV-ES measured direct boot is possible (hashes table entry with a non-zero GPA). */
int ovmf_supports_hash_table(const ovmf_info *ovmf);
#endif
