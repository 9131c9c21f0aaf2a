/* amd_roots: AMD's public SEV-SNP certificates, pinned: the ARK (root), ASK (VCEK intermediate)
 * and ASVK (VLEK intermediate) of Milan, Genoa and Turin, as served by AMD's Key Distribution
 * Service (kdsintf.amd.com/{vcek,vlek}/v1/<product>/cert_chain). Embedding them is the point: a
 * verifier then needs no network and no trust in whatever chain travels with the evidence.
 * Holds only constant data; never accepts another root (test roots are the caller's decision). */
#ifndef SEALED_AMD_ROOTS_H
#define SEALED_AMD_ROOTS_H
#include <stddef.h>
#include <openssl/x509.h>
#include "common/snp_report.h"

struct amd_roots {
    snp_product product;
    const char *ark_pem;    /* ARK-<product>, self-signed */
    const char *ask_pem;    /* SEV-<product>, signs VCEKs */
    const char *asvk_pem;   /* SEV-VLEK-<product>, signs VLEKs */
    const char *ark_sha256; /* lowercase hex SHA-256 of the ARK's DER, for display */
};

/* The pinned set for a product, or NULL for SNP_PRODUCT_UNKNOWN. Static storage. */
const struct amd_roots *amd_roots_for(snp_product p);

/* Parses one PEM certificate from a pinned string. New X509 (caller frees), NULL on failure. */
X509 *amd_roots_load(const char *pem);
#endif
