/* gcp_vtpm_roots: Google's public certificate authorities for Shielded VM vTPM endorsement and
 * attestation keys, pinned: the "EK/AK CA Root" with its v3 intermediate, and the older
 * tpm_ek_v1_cloud_host_root with intermediates 2 and 3. GCE writes an AK certificate issued under
 * one of them into the vTPM's NV (0x01c10000 RSA, 0x01c10002 ECC). Constant data only. */
#ifndef SEALED_GCP_VTPM_ROOTS_H
#define SEALED_GCP_VTPM_ROOTS_H
#include <stddef.h>
#include <openssl/x509.h>

#define GCP_VTPM_MAX_CAS 8   /* more pinned certificates than this is a build error */

struct gcp_vtpm_ca {
    const char *name;      /* for display */
    const char *pem;       /* the certificate */
    int is_root;           /* 1: self-signed root (a trust anchor); 0: intermediate (untrusted link) */
    const char *sha256;    /* lowercase hex SHA-256 of the DER */
};

/* The pinned certificates, roots and intermediates; static storage. */
size_t gcp_vtpm_ca_count(void);
const struct gcp_vtpm_ca *gcp_vtpm_ca_at(size_t i);

/* Parses one pinned certificate. New X509 (caller frees), NULL on failure. */
X509 *gcp_vtpm_ca_load(const struct gcp_vtpm_ca *ca);
#endif
