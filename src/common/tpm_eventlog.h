/* TCG PC Client event log: parse (TCG2 crypto-agile and legacy TCG 1.2 SHA-1 formats) and replay
 * into PCR banks. Shared by sealed-verify (checking a log against quoted PCRs) and sealed-measure
 * (predicting PCRs). Owns only the log format and the extend arithmetic; it never decides what a
 * PCR value means and never touches a TPM. Input is untrusted: every length is checked against the
 * buffer and against the caps below. */
#ifndef SEALED_TPM_EVENTLOG_H
#define SEALED_TPM_EVENTLOG_H
#include <stddef.h>
#include <stdint.h>

/* Caps (hostile logs must not make us allocate or loop without bound). */
#define TPM_EVENTLOG_MAX_LOG_BYTES   (8u * 1024u * 1024u)  /* whole log */
#define TPM_EVENTLOG_MAX_EVENTS      20000u                /* records, header included */
#define TPM_EVENTLOG_MAX_EVENT_DATA  (1024u * 1024u)       /* one event's data */
#define TPM_EVENTLOG_MAX_ALGS        8u                    /* algorithms in a Spec ID header */
#define TPM_EVENTLOG_MAX_DIGEST      64u                   /* bytes (SHA-512) */
#define TPM_EVENTLOG_NUM_PCRS        24u

/* TPM_ALG_ID values (TPM 2.0 Part 2). */
#define TPM_EVENTLOG_ALG_SHA1    0x0004u
#define TPM_EVENTLOG_ALG_SHA256  0x000Bu
#define TPM_EVENTLOG_ALG_SHA384  0x000Cu
#define TPM_EVENTLOG_ALG_SHA512  0x000Du

/* Event types used by callers (TCG PC Client Platform Firmware Profile). */
#define TPM_EVENTLOG_EV_POST_CODE                      0x00000001u
#define TPM_EVENTLOG_EV_NO_ACTION                      0x00000003u
#define TPM_EVENTLOG_EV_SEPARATOR                      0x00000004u
#define TPM_EVENTLOG_EV_ACTION                         0x00000005u
#define TPM_EVENTLOG_EV_EFI_VARIABLE_DRIVER_CONFIG     0x80000001u
#define TPM_EVENTLOG_EV_EFI_VARIABLE_BOOT              0x80000002u
#define TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION  0x80000003u
#define TPM_EVENTLOG_EV_EFI_ACTION                     0x80000007u

typedef enum {
    TPM_EVENTLOG_OK = 0,
    TPM_EVENTLOG_ERR_ARG,          /* NULL pointer or bad parameter */
    TPM_EVENTLOG_ERR_TRUNCATED,    /* a record runs past the end of the buffer */
    TPM_EVENTLOG_ERR_FORMAT,       /* malformed header, PCR index or digest list */
    TPM_EVENTLOG_ERR_TOO_BIG,      /* a cap above was exceeded */
    TPM_EVENTLOG_ERR_UNKNOWN_ALG,  /* digest for an algorithm not declared in the header */
    TPM_EVENTLOG_ERR_NO_BANK,      /* the log has no digests for the requested bank */
    TPM_EVENTLOG_ERR_UNSUPPORTED,  /* bank we cannot compute (hash not available) */
    TPM_EVENTLOG_ERR_NOMEM,
    TPM_EVENTLOG_ERR_CRYPTO,
} tpm_eventlog_err;

typedef struct {
    uint16_t alg;                 /* TPM_ALG_ID */
    uint16_t len;                 /* digest bytes */
    const uint8_t *digest;        /* borrowed from the log buffer */
} tpm_eventlog_digest;

typedef struct {
    uint32_t pcr;
    uint32_t type;
    size_t ndigests;
    tpm_eventlog_digest digests[TPM_EVENTLOG_MAX_ALGS];
    const uint8_t *data;          /* borrowed from the log buffer */
    size_t data_len;
    size_t offset;                /* byte offset of the record in the log */
} tpm_eventlog_event;

typedef struct {
    int crypto_agile;             /* 1: TCG2 format after a Spec ID Event03 header; 0: legacy SHA-1 */
    size_t nalgs;                 /* banks declared by the header (legacy: sha1 only) */
    struct { uint16_t alg; uint16_t size; } algs[TPM_EVENTLOG_MAX_ALGS];
    uint8_t startup_locality;     /* from a StartupLocality EV_NO_ACTION event (0 if none) */
    size_t nevents;               /* all records, the Spec ID header included */
    tpm_eventlog_event *events;   /* owned; digests/data borrow from the caller's buffer */
} tpm_eventlog;

typedef struct {
    uint16_t alg;
    size_t digest_len;
    uint32_t extended_mask;       /* bit i set when at least one event extended PCR i */
    uint8_t pcr[TPM_EVENTLOG_NUM_PCRS][TPM_EVENTLOG_MAX_DIGEST];
} tpm_eventlog_bank;

/* Parses a whole log held in buf[0..len). The result borrows from buf, which must outlive it.
 * Trailing zero or 0xFF padding (logs read from ACPI tables) ends the log. On success *out is a
 * new log to release with tpm_eventlog_free; on error *out is NULL. */
tpm_eventlog_err tpm_eventlog_parse(const uint8_t *buf, size_t len, tpm_eventlog **out);

/* Frees a parsed log (NULL is fine). */
void tpm_eventlog_free(tpm_eventlog *log);

/* Replays every measured event (EV_NO_ACTION is skipped) into the bank `alg`, starting from zeros
 * (PCR 0 from the startup locality). Fails with ERR_NO_BANK when the log carries no digest of that
 * algorithm for some measured event. */
tpm_eventlog_err tpm_eventlog_replay(const tpm_eventlog *log, uint16_t alg, tpm_eventlog_bank *out);

/* The event's digest for `alg`, or NULL. */
const tpm_eventlog_digest *tpm_eventlog_event_digest(const tpm_eventlog_event *ev, uint16_t alg);

/* pcr = H(pcr || digest) for alg; pcr and digest are tpm_eventlog_alg_size(alg) bytes. */
tpm_eventlog_err tpm_eventlog_extend(uint16_t alg, uint8_t *pcr, const uint8_t *digest);

/* H(data) into out (tpm_eventlog_alg_size(alg) bytes). */
tpm_eventlog_err tpm_eventlog_hash(uint16_t alg, const void *data, size_t len, uint8_t *out);

/* Digest size of a known algorithm, 0 if unknown. */
size_t tpm_eventlog_alg_size(uint16_t alg);

/* "sha1", "sha256", "sha384", "sha512" or NULL; and the reverse (0 when unknown). */
const char *tpm_eventlog_alg_name(uint16_t alg);
uint16_t tpm_eventlog_alg_from_name(const char *name);

/* A short name for an event type ("EV_SEPARATOR", ...) or NULL when unknown. */
const char *tpm_eventlog_event_type_name(uint32_t type);

/* A static English description of an error. */
const char *tpm_eventlog_strerror(tpm_eventlog_err err);

#endif
