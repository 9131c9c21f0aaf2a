/* tpm2_struct: the TPM 2.0 structures (TPM 2.0 Library Part 2) that cross our trust boundary, one
 * parser each, shared by the service's tpm2 provider (checking what its TPM answered) and by
 * sealed-verify (checking a stranger's evidence): TPMS_ATTEST holding a quote, TPMT_SIGNATURE,
 * TPMT_PUBLIC -> EVP_PKEY, and the signature check of a quote with its key. One set of TPM
 * constants for the tree. Big-endian (ptr, len) parsers on common/reader.h that decode into fixed
 * structs borrowing from the input, cap every size field, reject trailing bytes and never read
 * past len. No policy (which PCRs, which AK, which root): that stays with the callers. */
#ifndef SEALED_COMMON_TPM2_STRUCT_H
#define SEALED_COMMON_TPM2_STRUCT_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

/* ---- constants (Part 2) ------------------------------------------------------------------ */
#define TPM2_GENERATED_VALUE  0xff544347u
#define TPM2_ST_ATTEST_QUOTE  0x8018u
#define TPM2_RH_OWNER         0x40000001u
#define TPM2_RH_ENDORSEMENT   0x4000000Bu
#define TPM2_ALG_RSA          0x0001u
#define TPM2_ALG_SHA1         0x0004u
#define TPM2_ALG_SHA256       0x000Bu
#define TPM2_ALG_SHA384       0x000Cu
#define TPM2_ALG_SHA512       0x000Du
#define TPM2_ALG_NULL         0x0010u
#define TPM2_ALG_RSASSA       0x0014u
#define TPM2_ALG_RSAPSS       0x0016u
#define TPM2_ALG_ECDSA        0x0018u
#define TPM2_ALG_ECDAA        0x001Au
#define TPM2_ALG_ECC          0x0023u
#define TPM2_ECC_NIST_P256    0x0003u
#define TPM2_ECC_NIST_P384    0x0004u
#define TPM2_NV_PPREAD        0x00010000u
#define TPM2_NV_OWNERREAD     0x00020000u
#define TPM2_NV_AUTHREAD      0x00040000u

/* ---- caps -------------------------------------------------------------------------------- */
#define TPM2_MAX_SELECTIONS   8u           /* banks in one TPML_PCR_SELECTION */
#define TPM2_MAX_SELECT       4u           /* PCR_SELECT_MAX bytes: 32 PCRs */
#define TPM2_MAX_DIGEST       64u          /* TPM2B_DIGEST, ECDSA r and s */
#define TPM2_MAX_NAME         (2u + 64u)   /* TPM2B_NAME: nameAlg + digest */
#define TPM2_MAX_DATA         64u          /* extraData (TPM2B_DATA) */
#define TPM2_MAX_SIG          1024u        /* RSA modulus and signature bytes (8192-bit) */
#define TPM2_MIN_RSA_BYTES    128u         /* smallest RSA modulus accepted for a key (1024-bit) */

typedef enum {
    TPM2_OK = 0,
    TPM2_ERR_TRUNCATED,   /* runs past the end of the buffer */
    TPM2_ERR_TRAILING,    /* bytes left after the structure */
    TPM2_ERR_MAGIC,       /* not TPM_GENERATED_VALUE */
    TPM2_ERR_TYPE,        /* not TPM_ST_ATTEST_QUOTE */
    TPM2_ERR_SIZE,        /* a size field above its cap, or a key size that does not fit */
    TPM2_ERR_ALG,         /* signature, key type or curve we do not handle */
    TPM2_ERR_HASH,        /* signature hash algorithm we do not handle */
    TPM2_ERR_KEY,         /* the key's type does not match the signature's algorithm */
    TPM2_ERR_SIGNATURE,   /* well-formed, but does not verify */
    TPM2_ERR_CRYPTO,      /* OpenSSL failed (out of memory, unusable key) */
} tpm2_err;

struct tpm2_pcr_selection {
    uint16_t hash;                        /* TPM_ALG_ID of the bank */
    uint8_t size;                         /* sizeofSelect */
    uint8_t select[TPM2_MAX_SELECT];      /* bit i of byte j = PCR 8j+i */
};

/* A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE; pointers borrow from the parsed buffer. */
struct tpm2_quote {
    uint32_t magic;
    uint16_t type;
    const uint8_t *qualified_signer; size_t qualified_signer_len;   /* TPM2B_NAME */
    const uint8_t *extra_data; size_t extra_data_len;               /* qualifying data */
    uint64_t clock;
    uint32_t reset_count, restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    size_t nsel;
    struct tpm2_pcr_selection sel[TPM2_MAX_SELECTIONS];
    const uint8_t *pcr_digest; size_t pcr_digest_len;
};

/* A TPMT_SIGNATURE; pointers borrow from the parsed buffer. */
struct tpm2_signature {
    uint16_t sig_alg, hash_alg;
    const uint8_t *rsa; size_t rsa_len;          /* RSASSA / RSAPSS */
    const uint8_t *r, *s; size_t r_len, s_len;   /* ECDSA */
};

/* Parses a TPMS_ATTEST holding a quote; the whole buffer must be that one structure. */
tpm2_err tpm2_quote_parse(const uint8_t *buf, size_t len, struct tpm2_quote *out);
/* The PCRs one selection names as a mask (bit i = PCR i). */
uint32_t tpm2_pcr_selection_mask(const struct tpm2_pcr_selection *s);
/* Parses a TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA); the whole buffer must be that one structure. */
tpm2_err tpm2_signature_parse(const uint8_t *buf, size_t len, struct tpm2_signature *out);
/* Checks a parsed signature over msg with key (borrowed). TPM2_OK only when it verifies. */
tpm2_err tpm2_signature_verify(EVP_PKEY *key, const struct tpm2_signature *s, const uint8_t *msg, size_t len);
/* Converts a marshalled TPMT_PUBLIC (RSA, or ECC NIST P-256/P-384) into a new EVP_PKEY, which the
 * caller frees; *out stays NULL on failure. */
tpm2_err tpm2_public_to_pkey(const uint8_t *buf, size_t len, EVP_PKEY **out);

/* The OpenSSL digest of a TPM_ALG_ID hash, or NULL. */
const EVP_MD *tpm2_md(uint16_t hash_alg);
const char *tpm2_strerror(tpm2_err e);
/* "RSASSA", "RSAPSS", "ECDSA" or "?". */
const char *tpm2_sig_alg_name(uint16_t alg);
#endif
