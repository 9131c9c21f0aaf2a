/* tdx_quote: Intel TDX DCAP quotes, versions 4 and 5 (Intel "TDX DCAP Quoting Library API", Quote
 * Format): the 48-byte header, the TD report body (TDX 1.0, 584 bytes; v5 also TDX 1.5, 648), and
 * the ECDSA P-256 signature data with its QE report certification data (type 6) holding the QE
 * report, its signature, the QE authentication data and the PCK certificate chain (type 5, PEM).
 * A (ptr, len) parser into a fixed struct that borrows from the input; no crypto, no policy. */
#ifndef SEALED_VERIFY_TDX_QUOTE_H
#define SEALED_VERIFY_TDX_QUOTE_H
#include <stddef.h>
#include <stdint.h>

#define TDX_QUOTE_HEADER_LEN     48u
#define TDX_QUOTE_BODY10_LEN     584u      /* TD report body, TDX 1.0 */
#define TDX_QUOTE_BODY15_LEN     648u      /* TDX 1.5: + TEE_TCB_SVN2, MRSERVICETD */
#define TDX_QUOTE_QE_REPORT_LEN  384u      /* SGX report body of the quoting enclave */
#define TDX_QUOTE_TEE_TDX        0x81u
#define TDX_QUOTE_ATT_ECDSA_P256 2u
#define TDX_QUOTE_MAX_CERTS      (64u * 1024u)   /* PCK chain bytes we accept */
#define TDX_QUOTE_MAX_LEN        (128u * 1024u)  /* whole quote */

typedef enum {
    TDX_QUOTE_OK = 0,
    TDX_QUOTE_ERR_TRUNCATED,   /* a field runs past the end */
    TDX_QUOTE_ERR_TRAILING,    /* bytes after the signature data */
    TDX_QUOTE_ERR_VERSION,     /* not version 4 or 5 */
    TDX_QUOTE_ERR_TEE,         /* TEE type is not TDX */
    TDX_QUOTE_ERR_KEY_TYPE,    /* attestation key type is not ECDSA P-256 */
    TDX_QUOTE_ERR_BODY,        /* v5 body type/size unknown */
    TDX_QUOTE_ERR_CERT_TYPE,   /* certification data is not QE report (6) with a PCK chain (5) */
    TDX_QUOTE_ERR_SIZE,        /* a size field disagrees or exceeds a cap */
} tdx_quote_err;

struct tdx_quote {
    uint16_t version, att_key_type;
    uint32_t tee_type;
    uint16_t qe_svn, pce_svn;
    uint8_t  qe_vendor_id[16], user_data[20];
    uint16_t body_type;                    /* 2 = TDX 1.0, 3 = TDX 1.5 (v4 is always 2) */
    const uint8_t *signed_data;            /* borrowed: header (and v5 body descriptor) and body */
    size_t   signed_len;
    /* TD report body */
    uint8_t  tee_tcb_svn[16], mrseam[48], mrsignerseam[48];
    uint64_t seam_attributes, td_attributes, xfam;
    uint8_t  mrtd[48], mrconfigid[48], mrowner[48], mrownerconfig[48];
    uint8_t  rtmr[4][48];
    uint8_t  report_data[64];
    uint8_t  tee_tcb_svn2[16], mrservicetd[48];   /* body type 3 only */
    /* signature data */
    uint8_t  signature[64];                /* r || s over signed_data, by the attestation key */
    uint8_t  att_key[64];                  /* x || y, P-256 */
    const uint8_t *qe_report;              /* borrowed, TDX_QUOTE_QE_REPORT_LEN bytes */
    uint8_t  qe_report_signature[64];      /* r || s over qe_report, by the PCK key */
    const uint8_t *qe_auth; size_t qe_auth_len;    /* borrowed */
    const uint8_t *pck_chain; size_t pck_chain_len; /* borrowed: PEM, leaf first */
};

/* Parses a whole quote (nothing may follow the signature data). */
tdx_quote_err tdx_quote_parse(const uint8_t *buf, size_t len, struct tdx_quote *out);
const char *tdx_quote_strerror(tdx_quote_err e);

/* TD_ATTRIBUTES bit 0: the TD is debuggable. */
#define TDX_TD_ATTR_DEBUG 1ull
#endif
