/* Authenticode digest of a PE/COFF image (an EFI application), computed the way UEFI firmware
 * (edk2 DxeTpm2MeasureBootLib / Tcg2Dxe) hashes an EV_EFI_BOOT_SERVICES_APPLICATION before it
 * extends PCR 4: headers without the checksum and the certificate-table entry, then the sections
 * in file order, then any trailing data except the attribute certificates. Parses untrusted bytes
 * held in memory; no I/O. */
#ifndef SEALED_MEASURE_PE_HASH_H
#define SEALED_MEASURE_PE_HASH_H
#include "measure/measure.h"

typedef struct {
    uint16_t machine;
    int pe32plus;                 /* 1: PE32+ (64-bit), 0: PE32 */
    uint16_t subsystem;           /* 10 = EFI application */
    uint32_t size_of_headers;
    uint16_t nsections;
    uint32_t cert_offset, cert_size;   /* attribute certificate table (0 when unsigned) */
} pe_info;

typedef struct {
    char name[9];                 /* NUL-terminated (PE names are at most 8 bytes) */
    uint32_t virtual_size, virtual_address;
    uint32_t raw_size, raw_ptr;   /* validated: raw_ptr + raw_size <= len */
} pe_section;

/* Lists the section table of image[0..len) into out (cap entries), *n set to the count. Same
 * header validation as pe_authenticode_hash. */
measure_err pe_sections(const uint8_t *image, size_t len, pe_section *out, size_t cap, size_t *n);

/* Hashes image[0..len) with the EVP digest named by alg ("sha256", "sha1", "sha384"); out must
 * hold that digest's size, *out_len is set. info may be NULL. */
measure_err pe_authenticode_hash(const uint8_t *image, size_t len, const char *alg, uint8_t *out,
                                 size_t *out_len, pe_info *info);
#endif
