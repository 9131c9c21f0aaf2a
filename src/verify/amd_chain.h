/* amd_chain: the AMD certificate side of SEV-SNP verification: reads VCEK/VLEK certificate
 * extensions (1.3.6.1.4.1.3704.1.*: productName, TCB SPLs, hwID, cspID), checks one RSA-PSS
 * link (SHA-384, MGF1-SHA-384, salt 48, as AMD signs ARK, ASK, ASVK, VCEK and VLEK), validity at a
 * given time, AMD's CRLs (signed by the ARK with the same RSA-PSS parameters), and loads PEM/DER
 * certificates and CRLs from buffers. Decides nothing about policy; never fetches anything. */
#ifndef SEALED_VERIFY_AMD_CHAIN_H
#define SEALED_VERIFY_AMD_CHAIN_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

typedef enum {
    AMD_CHAIN_OK = 0,
    AMD_CHAIN_ERR_NOMEM,
    AMD_CHAIN_ERR_FORMAT,     /* not a certificate / malformed extension */
    AMD_CHAIN_ERR_SIGALG,     /* not RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48 */
    AMD_CHAIN_ERR_ISSUER,     /* issuer name does not match the parent's subject */
    AMD_CHAIN_ERR_KEY,        /* parent key is not RSA >= 2048 bits */
    AMD_CHAIN_ERR_SIGNATURE,  /* signature does not verify */
} amd_chain_err;

/* Values from a VCEK/VLEK certificate's AMD extensions; has_* say which were present. */
struct vek_info {
    int has_product;  char product[32];     /* productName, e.g. "Milan-B0" */
    int has_bl, has_tee, has_snp, has_ucode, has_fmc;
    uint8_t bl, tee, snp, ucode, fmc;       /* blSPL .3.1, teeSPL .3.2, snpSPL .3.3, ucodeSPL .3.8, fmcSPL .3.9 */
    int has_hwid;     uint8_t hwid[64];  size_t hwid_len;   /* .4: 64 bytes, Turin 8 */
    int has_csp_id;   char csp_id[128];     /* .5, VLEK only */
    char subject_cn[64], issuer_cn[64];
};

const char *amd_chain_strerror(amd_chain_err e);

/* Reads the AMD extensions of cert into *out. ERR_FORMAT if one is present but malformed. */
amd_chain_err amd_chain_vek_info(X509 *cert, struct vek_info *out);

/* Checks that child is signed by parent's RSA key with RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48
 * (the parameters in child's signatureAlgorithm must say exactly that) and that child's issuer is
 * parent's subject. A self-signed root passes with child == parent. */
amd_chain_err amd_chain_verify_link(X509 *child, X509 *parent);

/* 1 if at lies within the certificate's notBefore..notAfter, else 0. */
int amd_chain_valid_at(X509 *cert, time_t at);

/* Loads up to max certificates (PEM, one or more; or a single DER) from a buffer. Returns the
 * count (>= 1), or -1 if nothing parses; certs are new references for the caller. */
int amd_chain_load_certs(const uint8_t *buf, size_t len, X509 **out, int max);

/* The CN of a name into out (cap bytes, NUL-terminated, "?" when absent). */
void amd_chain_cn(const X509_NAME *name, char *out, size_t cap);
/* Lowercase hex SHA-256 of the DER encoding into out[65]; "" on failure. */
void amd_chain_fingerprint(X509 *cert, char out[65]);
/* 1 if a and b have identical DER encodings. */
int amd_chain_same_cert(X509 *a, X509 *b);

/* Checks that crl is signed by issuer's RSA key with RSASSA-PSS SHA-384/salt 48 (as AMD's KDS CRLs
 * are, by the ARK) and that its issuer name is issuer's subject. */
amd_chain_err amd_chain_verify_crl(X509_CRL *crl, X509 *issuer);
/* 1 if crl was issued by cert's issuer and lists cert's serial number, else 0. */
int amd_chain_crl_revokes(X509_CRL *crl, X509 *cert);
/* One CRL (PEM or DER filling the buffer) as a new reference, or NULL. */
X509_CRL *amd_chain_load_crl(const uint8_t *buf, size_t len);
#endif
