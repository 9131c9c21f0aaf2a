/* attest/snp_common: what the two SEV-SNP providers (configfs-tsm and /dev/sev-guest) share: the
 * few report fields a provider must look at before handing a report on (REPORT_DATA, VMPL, the
 * signing key, chip id, reported TCB, CPUID for the product), the host's certificate table split
 * by GUID, the VCEK/ASK/ARK cache with the AMD KDS fallback, and the evidence object of
 * DESIGN.md. It checks what a provider must (our REPORT_DATA came back); verifying signatures is
 * the verifier's job. Field offsets: AMD SEV-SNP ABI specification (56860), ATTESTATION_REPORT.
 * When src/common/snp_report lands, the field readers here should become calls into it. */
#ifndef SEALED_SNP_COMMON_H
#define SEALED_SNP_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <jansson.h>
#include "login/attest/attest_limits.h"
#include "login/attest/attest_util.h"

struct config;

#define SNP_OFF_VERSION     0x000
#define SNP_OFF_VMPL        0x030
#define SNP_OFF_SIG_ALGO    0x034
#define SNP_OFF_KEY_INFO    0x048   /* bits 2-4: signing key (0 VCEK, 1 VLEK, 7 none) */
#define SNP_OFF_REPORT_DATA 0x050
#define SNP_OFF_REPORTED_TCB 0x180
#define SNP_OFF_CPUID_FAM   0x188   /* version >= 3 */
#define SNP_OFF_CPUID_MOD   0x189
#define SNP_OFF_CHIP_ID     0x1A0

enum snp_product { SNP_PRODUCT_UNKNOWN = 0, SNP_PRODUCT_MILAN, SNP_PRODUCT_GENOA, SNP_PRODUCT_TURIN };
enum snp_signer { SNP_SIGNER_VCEK = 0, SNP_SIGNER_VLEK = 1, SNP_SIGNER_NONE = 7 };

/* Checks a report the kernel returned for us: exact size, a version this code knows (2..5),
 * our REPORT_DATA, the VMPL we asked for, ECDSA P-384 and a VCEK or VLEK signer. 0 or -1 with
 * the reason in err. */
int snp_report_check(const uint8_t *rep, size_t len, const uint8_t report_data[64], uint32_t vmpl,
                     char *err, size_t errlen);
enum snp_signer snp_report_signer(const uint8_t rep[ATTEST_SNP_REPORT_LEN]);
/* Product from the report's CPUID fields (version 3+); UNKNOWN for version 2 reports. */
enum snp_product snp_report_product(const uint8_t rep[ATTEST_SNP_REPORT_LEN]);
const char *snp_product_name(enum snp_product p);   /* "Milan", "Genoa", "Turin" (KDS spelling) */

/* 1 when the report's signature (ECDSA P-384 over bytes 0x000-0x29F) verifies with the key of
 * the DER certificate, else 0. Used to spot a stale host VCEK; the verifier does the real check. */
int snp_report_signed_by(const uint8_t rep[ATTEST_SNP_REPORT_LEN], const uint8_t *der, size_t len);

/* The host's certificate table (GHCB spec: 24-byte entries {GUID, offset u32, length u32}
 * ending with an all-zero entry, offsets from the table start). Finds the DER blobs by GUID. */
struct snp_certs {
    const uint8_t *vcek, *vlek, *ask, *ark;   /* borrowed from the table, or NULL */
    size_t vcek_len, vlek_len, ask_len, ark_len;
};
/* 0 on success (an empty table is fine), -1 when it is malformed. Never reads past len. */
int snp_cert_table_parse(const uint8_t *tab, size_t len, struct snp_certs *out);

/* The chain a provider attaches: from the host, else fetched once from AMD KDS and kept. */
struct snp_chain_cache {
    pthread_mutex_t mu;
    char    *kds_url;             /* owned; base such as https://kdsintf.amd.com */
    uint8_t *vcek, *ask, *ark;    /* owned DER from KDS (NULL until fetched) */
    size_t   vcek_len, ask_len, ark_len;
    uint8_t  chip_id[64];         /* what the cached VCEK was fetched for */
    uint64_t tcb;
    int      fetched;
};
int snp_chain_cache_init(struct snp_chain_cache *c, const struct config *cfg);
void snp_chain_cache_clear(struct snp_chain_cache *c);

/* Builds {"type":"sev-snp","report":b64,"vcek"|"vlek":PEM,"ask":PEM,"ark":PEM,...} from a checked
 * report and the host's table (may be empty); fetches the VCEK and chain from KDS when the host
 * gave none (a VLEK cannot be fetched: error). via names the interface ("configfs-tsm",
 * "sev-guest"). Returns 0 with *out a new object, or -1 with err set. */
int snp_evidence_build(struct snp_chain_cache *cache, const char *via,
                       const uint8_t rep[ATTEST_SNP_REPORT_LEN], const uint8_t *table, size_t table_len,
                       json_t **out, char *err, size_t errlen);

#endif
