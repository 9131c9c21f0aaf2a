/* attest/snp_common: what the two SEV-SNP providers (configfs-tsm and /dev/sev-guest) share on
 * top of common/snp_report (the report and certificate-table decoder): the checks a provider
 * must make before handing a report on (our REPORT_DATA and VMPL came back, a VCEK/VLEK signed
 * it), the VCEK/ASK/ARK cache with the AMD KDS fallback, and the sev-snp evidence object of
 * DESIGN.md. Trusting a chain is the verifier's job, not this module's. Never talks to the
 * kernel itself. */
#ifndef SEALED_SNP_COMMON_H
#define SEALED_SNP_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <jansson.h>
#include "common/snp_report.h"
#include "login/attest/attest_limits.h"
#include "login/attest/attest_util.h"

struct config;

/* Checks a report the kernel returned for us: one whole report (common/snp_report), a version
 * whose layout is known, our REPORT_DATA, the VMPL we asked for, ECDSA P-384 and a VCEK or VLEK
 * signer. Fills *r. 0 or -1 with the reason in err. */
int snp_ev_check(const uint8_t *rep, size_t len, const uint8_t report_data[64], uint32_t vmpl,
                 struct snp_report *r, char *err, size_t errlen);

/* 1 when the report's signature verifies with the key of the DER certificate, else 0. Spots a
 * stale host VCEK; the verifier does the real check. */
int snp_ev_signed_by(const uint8_t *rep, size_t len, const uint8_t *der, size_t der_len);

/* The chain a provider attaches: from the host's table, else fetched once from AMD KDS. */
struct snp_ev_cache {
    pthread_mutex_t mu;
    char    *kds_url;             /* owned; base such as https://kdsintf.amd.com */
    uint8_t *vcek, *ask, *ark;    /* owned DER from KDS (NULL until fetched) */
    size_t   vcek_len, ask_len, ark_len;
    uint8_t  chip_id[64];         /* what the cached VCEK was fetched for */
    uint64_t tcb;
    int      fetched;
};
int snp_ev_cache_init(struct snp_ev_cache *c, const struct config *cfg);
void snp_ev_cache_clear(struct snp_ev_cache *c);

/* Builds {"type":"sev-snp","report":b64,"vcek"|"vlek":PEM,"ask":PEM,"ark":PEM,"via","certs_from"}
 * from a checked report and the host's certificate table (may be empty); fetches the VCEK and
 * chain from KDS when the host gave none or a stale one (a VLEK cannot be fetched: error). via
 * names the interface ("configfs-tsm", "sev-guest"). 0 with *out a new object, or -1, err set. */
int snp_ev_build(struct snp_ev_cache *cache, const char *via, const uint8_t *rep, size_t len,
                 const struct snp_report *r, const uint8_t *table, size_t table_len,
                 json_t **out, char *err, size_t errlen);
#endif
