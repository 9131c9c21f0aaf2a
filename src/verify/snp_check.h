/* snp_check: verifies one SEV-SNP report end to end and records each step: report layout and
 * version, signer (VCEK/VLEK) and product, the certificate chain VEK -> ASK/ASVK -> ARK ending at a
 * pinned AMD root (or an explicit test root), the report signature, TCB and hwID against the
 * certificate, the TCBs among themselves (reported <= current, committed == current, the VEK's TCB
 * == reported), an optional AMD CRL, and the guest policy (debug, migration agent, VMPL, minimum
 * reported and launch TCB per product from snp_tcb_floor). Binding the report to a result
 * (REPORT_DATA, measurement) is the caller's. Owns no keys; reads no files. */
#ifndef SEALED_VERIFY_SNP_CHECK_H
#define SEALED_VERIFY_SNP_CHECK_H
#include <time.h>
#include <jansson.h>
#include <openssl/x509.h>
#include "common/snp_report.h"
#include "verify/steps.h"

#define SNP_CHECK_SIGNER_VCEK 1u
#define SNP_CHECK_SIGNER_VLEK 2u

struct snp_policy {
    int allow_debug;              /* --allow-debug */
    int allow_migration_agent;    /* --allow-migration-agent */
    int vmpl;                     /* --vmpl N (default 0); -1 accepts any */
    unsigned signers;             /* --signer vcek,vlek (default both) */
    int allow_unknown_version;    /* --allow-unknown-version */
    int min_tcb_given;            /* --min-tcb given: overrides the product's default floor */
    struct snp_tcb min_tcb;
    int min_launch_tcb_given;     /* --min-launch-tcb given (default: the same floor as REPORTED_TCB) */
    struct snp_tcb min_launch_tcb;
    int allow_provisional_firmware; /* --allow-provisional-firmware: COMMITTED may be below CURRENT */
    X509_CRL *crl;                /* borrowed: --crl, AMD's CRL for the product (NULL: not checked) */
    const char *crl_file;         /* for the message */
    time_t at;                    /* --at: certificate validity time */
    snp_product product;          /* --product, or UNKNOWN to take it from the report/certificate */
    X509 **trust_roots;           /* borrowed: certificates from --trust-root (test roots) */
    int ntrust_roots;
    const char *trust_root_file;  /* for the message */
};

/* Fills the strict defaults (VMPL 0, both signers, no test root, at = now). */
void snp_policy_defaults(struct snp_policy *p);

/* Parses "bl=2,tee=0,snp=5,ucode=68[,fmc=0]" into *out; 0 or -1. */
int snp_policy_parse_tcb(const char *s, struct snp_tcb *out);

/* The built-in minimum TCB for a product's classic line (snp_tcb_floor.c says where each value
 * comes from; the check itself picks the report's silicon line). */
void snp_policy_default_min_tcb(snp_product p, struct snp_tcb *out);

/* PLATFORM_INFO as a JSON object of named booleans (SEV-SNP ABI: bit 0 SMT enabled, 1 TSME, 2 ECC,
 * 3 RAPL disabled, 4 ciphertext hiding, 5 alias check complete, 7 SEV-TIO) plus "unknown_bits"
 * (hex) for any other bit. */
json_t *snp_check_platform_info_json(uint64_t platform_info);

/* Verifies a report (len bytes) with the given VEK (may be NULL: a failed step) and supplied
 * certificates (ASK/ASVK/ARK in any order, may be empty). Adds steps to st and the parsed fields as
 * st->fields[field_key]. On return *parsed holds the decoded report if it parsed (parsed_ok = 1).
 * Returns the number of failed steps it added. */
int snp_check_run(const struct snp_policy *pol, const uint8_t *report, size_t len, X509 *vek,
                  X509 *const *supplied, int nsupplied, struct steps *st, const char *field_key,
                  struct snp_report *parsed, int *parsed_ok);

/* The report's fields as a JSON object (hex for byte fields, TCBs decoded for product p). */
json_t *snp_check_report_json(const struct snp_report *r, snp_product p);
#endif
