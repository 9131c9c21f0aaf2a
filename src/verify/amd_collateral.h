/* amd_collateral: AMD's SEV-SNP collateral on disk. The AMD KDS request paths for one report (VCEK
 * by chip id and REPORTED_TCB, the product's certificate chain and CRL; KDS interface spec 57230),
 * the local cache `sealed-verify fetch` fills and the offline commands read
 * (<dir>/<product>/<hwid-hex>/<tcb-hex>/vcek.der, <dir>/<product>/{vcek,vlek}/cert_chain.pem and
 * crl.der), and loading --crl. Never touches the network (cmd_fetch.c does); decides no trust: a
 * cached certificate is checked like any other. */
#ifndef SEALED_VERIFY_AMD_COLLATERAL_H
#define SEALED_VERIFY_AMD_COLLATERAL_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include "common/snp_report.h"

#define KDS_DEFAULT_BASE_URL "https://kdsintf.amd.com"
#define KDS_PATH_MAX 1024u

/* What one report needs from KDS. */
struct kds_request {
    snp_product product;
    unsigned signer;              /* SNP_SIGNER_VCEK or SNP_SIGNER_VLEK */
    char hwid_hex[129];           /* CHIP_ID, lowercase hex; Turin: its first 8 bytes */
    struct snp_tcb tcb;           /* REPORTED_TCB decoded for the product */
};

typedef enum {
    KDS_OK = 0,
    KDS_ERR_PRODUCT,    /* product unknown (version 2 report without --product) */
    KDS_ERR_SIGNER,     /* signing key is neither VCEK nor VLEK */
    KDS_ERR_CHIP_ID,    /* CHIP_ID is zero (MASK_CHIP_ID) or, on Turin, bytes past 8 are not zero */
    KDS_ERR_PATH,       /* a path would not fit */
    KDS_ERR_IO,
} kds_err;

const char *kds_strerror(kds_err e);

/* Fills *q from a parsed report; product is the report's (CPUID) unless forced is not UNKNOWN. */
kds_err kds_request_from_report(const struct snp_report *r, snp_product forced, struct kds_request *q);

/* The KDS request paths (to append to the base URL), as documented:
 *   /vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=.. (Turin: fmcSPL first)
 *   /{vcek|vlek}/v1/{product}/cert_chain          /{vcek|vlek}/v1/{product}/crl
 * Each returns 0, or -1 if it does not fit cap (or, for the VEK path, the signer is a VLEK: KDS
 * serves VLEKs only to the cloud provider). */
int kds_vek_path(const struct kds_request *q, char *out, size_t cap);
int kds_chain_path(const struct kds_request *q, char *out, size_t cap);
int kds_crl_path(const struct kds_request *q, char *out, size_t cap);

/* The cache directory: dir if given, else $XDG_CACHE_HOME/sealed-verify/kds, else
 * $HOME/.cache/sealed-verify/kds. -1 if none can be formed. */
int kds_cache_dir(const char *dir, char *out, size_t cap);
/* Files in the cache for q: the VEK (DER), the chain (PEM, ASK/ASVK then ARK), the CRL (DER). */
int kds_cache_vek_file(const char *cache, const struct kds_request *q, char *out, size_t cap);
int kds_cache_chain_file(const char *cache, const struct kds_request *q, char *out, size_t cap);
int kds_cache_crl_file(const char *cache, const struct kds_request *q, char *out, size_t cap);

/* Writes len bytes to path atomically (temporary file in the same directory, fsync, rename),
 * creating the missing directories (mode 0755). 0, or -1 with errno set. */
int kds_cache_store(const char *path, const uint8_t *buf, size_t len);

/* The cached VCEK for a raw report (len bytes), or NULL (not cached, VLEK, unknown product).
 * path (cap bytes) receives the file it came from. New reference for the caller. */
X509 *kds_cache_lookup_vek(const char *cache_dir, const uint8_t *report, size_t len, snp_product forced,
                           char *path, size_t cap);

/* The cached certificate chain (ASK/ASVK, ARK) for a raw report's product and signer into out (at
 * most max, new references); the count, 0 when none is cached. */
int kds_cache_lookup_chain(const char *cache_dir, const uint8_t *report, size_t len, snp_product forced, X509 **out,
                           int max);

/* Loads a CRL file (PEM or DER). NULL with a message in err. New reference for the caller. */
X509_CRL *kds_load_crl_file(const char *path, char *err, size_t errlen);
#endif
