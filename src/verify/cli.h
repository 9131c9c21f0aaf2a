/* cli: sealed-verify's command-line options, shared by every command (each command reads the ones
 * it uses and rejects none of the others' so a script can pass one flag set). Parsing only. */
#ifndef SEALED_VERIFY_CLI_H
#define SEALED_VERIFY_CLI_H
#include <time.h>
#include "verify/snp_check.h"

struct verify_opts {
    const char *file;                 /* the positional argument */
    int json;                         /* --json */
    int help;                         /* --help / -h after the command */
    /* result */
    const char *expect_measurement;   /* --expect-measurement HEX (SNP launch digest) */
    const char *manifest;             /* --manifest FILE */
    const char *client_id;            /* --client-id ID */
    const char *signer_key;           /* --signer-key FILE|JWK */
    const char *paypal_jwks;          /* --paypal-jwks FILE: PayPal's JWKS, to check a result's id_token */
    int allow_unattested;             /* --allow-unattested: evidence type none may pass */
    int allow_report_data_mismatch;   /* --allow-report-data-mismatch */
    int allow_kid_mismatch;           /* --allow-kid-mismatch */
    int allow_future_iat;             /* --allow-future-iat */
    int allow_unsigned;               /* --allow-unsigned: a bare payload (no JWS) may pass */
    int skip_measurement;             /* --skip-measurement */
    int allow_dirty;                  /* --allow-dirty: an image from a tree with uncommitted changes may pass */
    int allow_option_roms;            /* --allow-option-roms: drivers/events in PCR 2, 3, 6 warn, not fail */
    int allow_unrooted_ak;            /* --allow-unrooted-ak: a TPM AK with no vendor-rooted certificate may pass */
    long max_skew;                    /* --max-skew SECONDS */
    time_t at;                        /* --at TIME (default now) */
    int at_given;
    /* sd-jwt */
    const char *issuer_jwks;          /* --issuer-jwks FILE: a JWKS or /.well-known/jwt-vc-issuer metadata */
    const char *result;               /* --result FILE: the result JWS the credential was made from */
    const char *aud;                  /* --aud A: the audience a presentation's KB-JWT must name */
    int require_kb;                   /* --require-kb: only a presentation with a key-binding JWT passes */
    int generic;                      /* --generic: any SD-JWT VC (RFC 9901 + typ dc+sd-jwt), not only sealed-login's */
    /* snp-report */
    const char *vcek, *vlek, *chain, *certs, *trust_root;
    struct snp_policy snp;
    /* tpm-quote */
    const char *quote, *signature, *ak, *pcrs, *eventlog, *nonce, *report_data, *ak_ca;
    const char *bank;                 /* eventlog --bank */
    const char *ccel;                 /* tdx-quote --ccel */
    /* SNP collateral (amd_collateral.h) */
    const char *crl;                  /* --crl FILE: AMD's CRL for the product (snp.crl_* checks) */
    const char *kds_cache;            /* --kds-cache DIR (default ~/.cache/sealed-verify/kds) */
    int no_kds_cache;                 /* --no-kds-cache: never read the cache */
    X509_CRL *crl_loaded;             /* --crl loaded by main for the life of the process; o->snp.crl borrows it */
};

/* Parses argv after the command name. Returns 0, or -1 after printing a message to stderr. */
int cli_parse(int argc, char **argv, struct verify_opts *o);
void cli_usage(FILE *out);
/* The source commit this binary was built from ("+dirty" for a tree with changes). */
extern const char sealed_source_commit[];

/* Commands: each returns the process exit code (0 all checks passed, 1 a check failed, 2 usage or
 * unreadable input). */
int cmd_snp_report(struct verify_opts *o);
int cmd_result(struct verify_opts *o);
int cmd_tpm_quote(struct verify_opts *o);
int cmd_eventlog(struct verify_opts *o);
int cmd_tdx_quote(struct verify_opts *o);
int cmd_tpm_ak_cert(struct verify_opts *o);
int cmd_sd_jwt(struct verify_opts *o);
/* `fetch`: the only command that uses the network (AMD KDS); see cmd_fetch.c. */
int cmd_fetch(struct verify_opts *o);
/* Loads --crl into o->crl_loaded and o->snp: 0 (also when --crl is absent), or -1 after a message. */
int cli_load_crl(struct verify_opts *o);
/* The cached VCEK for a raw report when the evidence carries none (NULL if not cached or
 * --no-kds-cache); path receives the file. */
X509 *cli_cached_vek(const struct verify_opts *o, const uint8_t *report, size_t len, char *path, size_t cap);
/* The cached chain for the report (count of new references in out, 0 if none or --no-kds-cache). */
int cli_cached_chain(const struct verify_opts *o, const uint8_t *report, size_t len, X509 **out, int max);

/* The result checks on a buffer instead of o->file, with no manifest, pinned key or trust root
 * (for fuzzing): fills *out (caller frees with steps_free) and returns its failed-step count, or -1
 * on allocation failure. */
int result_verify_buffer(struct verify_opts *o, const uint8_t *buf, size_t len, struct steps *out);

/* Loads up to max certificates (PEM bundle or one DER) from a file; count or -1 (message in err). */
int cli_load_certs_file(const char *path, X509 **out, int max, char *err, size_t errlen);
/* Loads --trust-root into o->snp (certificates kept in store, count returned; -1 on error). */
int cli_load_trust_roots(struct verify_opts *o, X509 **store, int max);
/* Prints the fields object as indented "name: value" lines (nested objects flattened). */
void cli_print_fields(const json_t *fields, FILE *out, int indent);
#endif
