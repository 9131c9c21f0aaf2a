/* tpm_check: verifies a TPM 2.0 quote and records each step: TPMS_ATTEST layout, the signature
 * with the attestation key (AK), qualifying data against the expected value, the PCR digest
 * against the given PCR values, the event log replayed against those PCRs, and the AK certificate
 * against the AK and a pinned vendor root (or a --tpm-ca test root). Owns no keys; reads no files. */
#ifndef SEALED_VERIFY_TPM_CHECK_H
#define SEALED_VERIFY_TPM_CHECK_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "verify/steps.h"
#include "common/tpm_ak_root.h"

struct tpm_check_in {
    const uint8_t *quote; size_t quote_len;          /* TPMS_ATTEST */
    const uint8_t *sig; size_t sig_len;              /* TPMT_SIGNATURE */
    EVP_PKEY *ak;                                    /* borrowed; NULL = failed step */
    X509 *ak_cert;                                   /* borrowed; may be NULL */
    X509 *const *ak_chain; int nak_chain;            /* borrowed: intermediates sent with the evidence */
    X509 *const *ca; int nca;                        /* borrowed: --tpm-ca (TEST roots) */
    int allow_unrooted;                              /* --allow-unrooted-ak: an unrooted AK warns, not fails */
    int allow_option_roms;                           /* --allow-option-roms: firmware PCR findings warn */
    const json_t *pcrs;                              /* {"sha256":{"0":"hex",...}}; may be NULL */
    const uint8_t *eventlog; size_t eventlog_len;    /* may be NULL */
    const uint8_t *expected_extra; size_t expected_extra_len;  /* NULL: printed, not checked */
    const char *expected_extra_what;                 /* e.g. "SHA-256(REPORT_DATA)" */
    time_t at;
};

/* Runs every step; parsed quote fields go to st->fields[key]; where the AK is rooted goes to *root
 * (kind NONE unless a certificate for this very AK chains to a pinned or test root). An unrooted AK
 * is a failed step unless in->allow_unrooted. Returns the failed-step count. */
int tpm_check_run(const struct tpm_check_in *in, struct steps *st, const char *key, struct tpm_ak_root_result *root);

/* Loads a PCR JSON object's value: pcrs[bank][index] as bytes into out (cap), length or -1. */
int tpm_check_pcr_value(const json_t *pcrs, const char *bank, unsigned index, uint8_t *out, size_t cap);
#endif
