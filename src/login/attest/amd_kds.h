/* attest/amd_kds: fetches a VCEK certificate and the ASK/ARK chain from AMD's Key Distribution
 * Service (KDS interface spec 57230: /vcek/v1/{product}/{hwid}?...SPL=.. and
 * /vcek/v1/{product}/cert_chain) when the host supplies none. Honours the service's rate limit:
 * at most one request per ATTEST_KDS_MIN_GAP_S from this process, and 429/503 answers are retried
 * after their Retry-After (bounded). Blocking: call at probe or on the attestation worker only. */
#ifndef SEALED_AMD_KDS_H
#define SEALED_AMD_KDS_H
#include <stddef.h>
#include <stdint.h>
#include "login/attest/snp_common.h"

typedef enum {
    AMD_KDS_OK = 0,
    AMD_KDS_ERR_INVAL,      /* unknown product, bad base URL */
    AMD_KDS_ERR_NET,        /* connection/TLS/timeout */
    AMD_KDS_ERR_NOTFOUND,   /* 404: no such chip/TCB (or wrong product) */
    AMD_KDS_ERR_RATELIMIT,  /* still 429/503 after ATTEST_KDS_TRIES, or Retry-After too long */
    AMD_KDS_ERR_HTTP,       /* any other status */
    AMD_KDS_ERR_BODY,       /* body too large or not the certificate(s) expected */
    AMD_KDS_ERR_NOMEM,
} amd_kds_err;

/* Writes the VCEK URL for chip_id and reported TCB into out (cap bytes). Milan/Genoa: hwid is
 * the 64-byte chip id and the TCB is blSPL/teeSPL/snpSPL/ucodeSPL; Turin: hwid is its first 8
 * bytes and fmcSPL is added (Turin's TCB layout differs). 0 or -1. */
int amd_kds_vcek_url(char *out, size_t cap, const char *base, snp_product p,
                     const uint8_t chip_id[64], uint64_t tcb);
/* Fetches the VCEK (DER, malloc'd, caller frees). */
amd_kds_err amd_kds_fetch_vcek(const char *base, snp_product p, const uint8_t chip_id[64],
                               uint64_t tcb, uint8_t **der, size_t *len, char *err, size_t errlen);
/* Fetches the ASK and ARK (DER, malloc'd) from the product's cert_chain (PEM: ASK then ARK). */
amd_kds_err amd_kds_fetch_chain(const char *base, snp_product p, uint8_t **ask, size_t *ask_len,
                                uint8_t **ark, size_t *ark_len, char *err, size_t errlen);
#endif
