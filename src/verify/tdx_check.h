/* tdx_check: verifies one Intel TDX DCAP quote and records each step: layout, the quote signature
 * with the attestation key, the QE report binding that key, the QE report signature with the PCK
 * key, the PCK chain up to the pinned Intel SGX Root CA (or an explicit test root), TD debug off,
 * and the CCEL event log replayed to the RTMRs. Intel's TCB-info and QE-identity collateral are not
 * consulted (the output says so). Binding REPORTDATA and MRTD to a result is the caller's. Owns
 * no keys; reads no files. */
#ifndef SEALED_VERIFY_TDX_CHECK_H
#define SEALED_VERIFY_TDX_CHECK_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <openssl/x509.h>
#include "verify/steps.h"
#include "verify/tdx_quote.h"

struct tdx_check_in {
    const uint8_t *quote; size_t quote_len;
    const uint8_t *ccel; size_t ccel_len;      /* the CCEL event log; may be NULL */
    const uint8_t *expected_report_data;       /* 64 bytes compared whole; NULL = not compared here */
    X509 *const *trust_roots; int ntrust_roots;   /* borrowed: --trust-root (test roots) */
    const char *trust_root_file;
    time_t at;
    int allow_debug;
};

/* Runs every step; the quote's fields go to st->fields[key]; *q holds the parsed quote when
 * *parsed is set. Returns the failed-step count it added. */
int tdx_check_run(const struct tdx_check_in *in, struct steps *st, const char *key, struct tdx_quote *q, int *parsed);
#endif
