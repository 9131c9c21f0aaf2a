/* verify_limits: every cap sealed-verify applies to untrusted input, in one place. */
#ifndef SEALED_VERIFY_LIMITS_H
#define SEALED_VERIFY_LIMITS_H

#define VERIFY_MAX_INPUT_FILE   (4u * 1024u * 1024u)   /* result file, report, PEM, manifest */
#define VERIFY_MAX_EVENTLOG     (8u * 1024u * 1024u)   /* same as TPM_EVENTLOG_MAX_LOG_BYTES */
#define VERIFY_MAX_EVIDENCE     8u                     /* evidence items in one result */
#define VERIFY_MAX_JSON_DEPTH   32u                    /* nesting accepted in a payload/manifest */
#define VERIFY_MAX_STEPS        256u                   /* printed steps in one run */
#define VERIFY_MAX_STEP_TEXT    512u                   /* bytes of one step's text */
#define VERIFY_MAX_CHAIN_CERTS  8u                     /* certificates read from one PEM file */
#define VERIFY_MAX_MANIFEST_MEASUREMENTS 64u           /* expected values collected from a manifest */
#define VERIFY_DEFAULT_SKEW_S   300                    /* tolerated clock skew for "iat not in the future" */
#define VERIFY_TPM_MAX_PCRS     24u
/* sealed-verify fetch (AMD KDS) */
#define VERIFY_MAX_KDS_CERT     (16u * 1024u)          /* one VCEK (DER, ~1.4 KiB) */
#define VERIFY_MAX_KDS_CHAIN    (64u * 1024u)          /* cert_chain (PEM ASK + ARK, ~4.6 KiB) */
#define VERIFY_MAX_KDS_CRL      (1024u * 1024u)        /* crl (DER) */
#define VERIFY_KDS_CONNECT_TIMEOUT_S 10L
#define VERIFY_KDS_TIMEOUT_S    30L                    /* one whole request */
#define VERIFY_KDS_MAX_ATTEMPTS 4u                     /* per URL, counting 429/503 retries */
#define VERIFY_KDS_MAX_RETRY_AFTER_S 60L               /* a longer Retry-After gives up instead */
#define VERIFY_KDS_DEFAULT_BACKOFF_S 2L                /* 429 without a usable Retry-After */
#endif
