/* intel_root: the pinned Intel SGX Root CA, the trust anchor of every TDX (and SGX) DCAP quote's
 * PCK certificate chain (https://certificates.trustedservices.intel.com/IntelSGXRootCA.der;
 * SHA-256 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3, valid 2018-05-21 ..
 * 2049-12-31). Intel reissued the same key earlier with a shorter validity; a chain is anchored by
 * the key (SubjectPublicKeyInfo), so both issues verify. Constant data only. */
#ifndef SEALED_VERIFY_INTEL_ROOT_H
#define SEALED_VERIFY_INTEL_ROOT_H
#include <openssl/x509.h>

#define INTEL_ROOT_SHA256 "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

/* A new X509 of the pinned root (caller frees), NULL on allocation failure. */
X509 *intel_root_load(void);
/* 1 if cert carries the pinned root's public key (either issue of Intel's root). */
int intel_root_is(X509 *cert);
#endif
