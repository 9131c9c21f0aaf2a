/* attest/attest_limits: every cap and timeout the evidence providers use, in one place. Values
 * that come from a kernel ABI or a specification say where they come from; the others are ours.
 * Owns nothing else. */
#ifndef SEALED_ATTEST_LIMITS_H
#define SEALED_ATTEST_LIMITS_H

/* TPM 2.0 */
#define ATTEST_TPM_BUF_MAX        4096    /* command/response buffer (TPM MAX_COMMAND_SIZE is 4096) */
#define ATTEST_TPM_TIMEOUT_MS     30000   /* one command, incl. ECC primary key generation */
#define ATTEST_TPM_NV_CHUNK       512     /* bytes per TPM2_NV_Read (below every MAX_NV_BUFFER_SIZE) */
#define ATTEST_TPM_NV_MAX         4096    /* certificate or template NV index */
#define ATTEST_TPM_RETRY_TRIES    20      /* TPM_RC_RETRY/YIELDED/TESTING: resend */
#define ATTEST_TPM_RETRY_WAIT_MS  20
#define ATTEST_TPM_QUOTE_TRIES    3       /* PCRs changed between read and quote: try again */
#define ATTEST_TPM_PCR_COUNT      16      /* PCRs 0-15 (DESIGN.md tpm2 evidence) */
#define ATTEST_TPM_PCR_READ_LOOPS 8       /* PCR_Read returns at most 8 digests per call */
/* Logs attached to evidence (firmware TCG log, IMA list, trimmed CCEL log), each: keeps a whole
 * result well under sealed-verify's 4 MiB input cap after base64; real logs are 10-200 KiB. */
#define ATTEST_EVENTLOG_MAX       (1u << 20)

/* SEV-SNP (AMD SEV-SNP ABI spec 56860, Linux uapi sev-guest.h and configfs-tsm) */
#define ATTEST_SNP_REPORT_LEN     1184    /* ATTESTATION_REPORT incl. signature */
#define ATTEST_SNP_RESP_LEN       4000    /* snp_report_resp.data (uapi) */
#define ATTEST_SNP_CERTS_MAX      (64u << 10) /* certificate table from the host */
#define ATTEST_SNP_CERT_ENTRIES   32      /* certificate table entries */
#define ATTEST_TSM_BLOB_MAX       (64u << 10) /* configfs-tsm outblob/auxblob read cap */
#define ATTEST_TSM_TRIES          3       /* generation changed under us: try again */
#define ATTEST_SNP_FW_RETRIES     5       /* SNP_GUEST_VMM_ERR_BUSY from the host */

/* TDX */
#define ATTEST_TDX_QUOTE_MAX      (64u << 10)
#define ATTEST_CCEL_AREA_MAX      (4u << 20)  /* ACPI CCEL log area as read (incl. unused tail) */

/* AMD KDS */
#define ATTEST_KDS_TIMEOUT_S      20
#define ATTEST_KDS_BODY_MAX       (64u << 10)
#define ATTEST_KDS_TRIES          4       /* 429/503 with Retry-After, then give up */
#define ATTEST_KDS_RETRY_MAX_S    30      /* longest Retry-After we wait for on the worker */
#define ATTEST_KDS_MIN_GAP_S      10      /* AMD asks for about one request per 10 s per IP */

/* misc */
#define ATTEST_PATH_MAX           512
#endif
