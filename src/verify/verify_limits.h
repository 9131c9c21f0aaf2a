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
#endif
