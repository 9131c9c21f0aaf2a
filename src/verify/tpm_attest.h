/* tpm_attest: TPM 2.0 structures a quote travels in (TPM 2.0 Library Part 2): TPMS_ATTEST with
 * TPMS_QUOTE_INFO (TPML_PCR_SELECTION + pcrDigest) and TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA).
 * Big-endian (ptr, len) parsers that decode into fixed structs borrowing from the input, reject
 * trailing bytes and never read past len. No crypto, no policy. */
#ifndef SEALED_VERIFY_TPM_ATTEST_H
#define SEALED_VERIFY_TPM_ATTEST_H
#include <stddef.h>
#include <stdint.h>

#define TPM_GENERATED_VALUE   0xff544347u
#define TPM_ST_ATTEST_QUOTE   0x8018u
#define TPM_ALG_RSASSA        0x0014u
#define TPM_ALG_RSAPSS        0x0016u
#define TPM_ALG_ECDSA         0x0018u
#define TPM_ALG_NULL          0x0010u
#define TPM_ATTEST_MAX_SELECTIONS 8u     /* banks in one TPML_PCR_SELECTION */
#define TPM_ATTEST_MAX_SELECT     4u     /* PCR_SELECT_MAX bytes: 32 PCRs */
#define TPM_ATTEST_MAX_DIGEST     64u
#define TPM_ATTEST_MAX_NAME       (2u + 64u)
#define TPM_ATTEST_MAX_DATA       64u    /* extraData */
#define TPM_ATTEST_MAX_SIG        1024u  /* RSA modulus bytes (8192-bit) */

typedef enum {
    TPM_ATTEST_OK = 0,
    TPM_ATTEST_ERR_TRUNCATED,   /* runs past the end of the buffer */
    TPM_ATTEST_ERR_TRAILING,    /* bytes left after the structure */
    TPM_ATTEST_ERR_MAGIC,       /* not TPM_GENERATED_VALUE */
    TPM_ATTEST_ERR_TYPE,        /* not TPM_ST_ATTEST_QUOTE */
    TPM_ATTEST_ERR_SIZE,        /* a size field above its cap */
    TPM_ATTEST_ERR_ALG,         /* signature algorithm we do not handle */
} tpm_attest_err;

struct tpm_pcr_selection {
    uint16_t hash;                               /* TPM_ALG_ID */
    uint8_t size;                                /* sizeofSelect */
    uint8_t select[TPM_ATTEST_MAX_SELECT];       /* bit i of byte j = PCR 8j+i */
};

struct tpm_quote {
    uint32_t magic;
    uint16_t type;
    const uint8_t *qualified_signer; size_t qualified_signer_len;   /* borrowed */
    const uint8_t *extra_data; size_t extra_data_len;               /* borrowed */
    uint64_t clock;
    uint32_t reset_count, restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    size_t nsel;
    struct tpm_pcr_selection sel[TPM_ATTEST_MAX_SELECTIONS];
    const uint8_t *pcr_digest; size_t pcr_digest_len;               /* borrowed */
};

struct tpm_signature {
    uint16_t sig_alg, hash_alg;
    const uint8_t *rsa; size_t rsa_len;          /* RSASSA / RSAPSS; borrowed */
    const uint8_t *r, *s; size_t r_len, s_len;   /* ECDSA; borrowed */
};

/* Parses a TPMS_ATTEST holding a quote; the whole buffer must be that one structure. */
tpm_attest_err tpm_attest_parse_quote(const uint8_t *buf, size_t len, struct tpm_quote *out);
/* Parses a TPMT_SIGNATURE; the whole buffer must be that one structure. */
tpm_attest_err tpm_attest_parse_signature(const uint8_t *buf, size_t len, struct tpm_signature *out);
const char *tpm_attest_strerror(tpm_attest_err e);
/* "RSASSA", "RSAPSS", "ECDSA" or "?". */
const char *tpm_attest_sig_alg_name(uint16_t alg);
#endif
