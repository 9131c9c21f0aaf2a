/* snp_emu: the "security processor" of the test emulators: builds structurally exact SEV-SNP
 * ATTESTATION_REPORTs (versions 2, 3 and 5 per AMD spec 56860) signed with a test VCEK/VLEK, the
 * GHCB certificate table, and TDX v4 quotes signed by a test attestation key with a test PCK
 * chain. Keys and certificates come from a directory the suite generates with OpenSSL; nothing
 * here is used by the service. Configured by environment variables (see snp_emu.c). */
#ifndef SEALED_SNP_EMU_H
#define SEALED_SNP_EMU_H
#include <stddef.h>
#include <stdint.h>

#define SNP_EMU_REPORT_LEN 1184

/* Loads keys from $SNP_EMU_KEYS (or $TDX_EMU_KEYS for TDX). 0 or -1 (message on stderr). */
int snp_emu_init(void);
int tdx_emu_init(void);

/* Writes a signed report for (report_data, vmpl). 0 or -1. */
int snp_emu_report(const uint8_t report_data[64], uint32_t vmpl, uint8_t out[SNP_EMU_REPORT_LEN]);
/* Writes the certificate table the "host" supplies ($SNP_EMU_CERTS: host|none|chain-only) into a
 * new buffer (*len may be 0). 0 or -1. */
int snp_emu_cert_table(uint8_t **out, size_t *len);
/* Writes a signed TDX v4 quote (new buffer). 0 or -1. */
int tdx_emu_quote(const uint8_t report_data[64], uint8_t **out, size_t *len);
#endif
