/* attest: the one interface between the login flow and hardware evidence. It detects at start
 * every provider the platform has (the attest/ folder: SEV-SNP via configfs-tsm or /dev/sev-guest, TDX,
 * TPM 2.0; else "none"), and turns 64 bytes of REPORT_DATA into the evidence array of
 * DESIGN.md "Evidence format v1". Providers block (the security processor serialises reports), so
 * they run on one worker thread with a bounded queue; completions come back on the event loop.
 * Never sees PayPal secrets or the signing key. */
#ifndef SEALED_ATTEST_H
#define SEALED_ATTEST_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct config;
struct attest;

typedef enum {
    ATTEST_OK = 0,
    ATTEST_ERR_NOMEM,
    ATTEST_ERR_BUSY,      /* queue full: try later (page says so, id stays unused) */
    ATTEST_ERR_TIMEOUT,   /* provider did not answer within ATTEST_TIMEOUT_MS */
    ATTEST_ERR_PROVIDER,  /* a provider failed; message in the callback's error text */
} attest_err;

/* A hardware evidence provider. probe() runs once at start on the main thread: it returns 1 and
 * sets *state when the platform has this kind of evidence, 0 when it has not, -1 on error (logged,
 * provider skipped). evidence() runs on the worker thread: it appends one evidence object (e.g.
 * {"type":"sev-snp",...}) for report_data to *out (a new reference) or returns -1 with a short
 * reason in err (no secrets). status() adds what /status should show (may be NULL). */
struct attest_provider {
    const char *type;    /* "sev-snp", "tdx", "tpm2" */
    int  (*probe)(const struct config *cfg, void **state);
    int  (*evidence)(void *state, const uint8_t report_data[64], json_t **out, char *err, size_t errlen);
    json_t *(*status)(void *state);
    void (*free)(void *state);
};

/* Providers in the order evidence is attached (DESIGN.md); defined in attest/providers.c. */
extern const struct attest_provider *const attest_providers[];

/* Detects providers and starts the worker. NULL only on allocation/thread failure. */
struct attest *attest_new(struct event_base *base, const struct config *cfg);
void attest_free(struct attest *a);

/* "sev-snp+tpm2", ... or "none"; borrowed, valid until attest_free. */
const char *attest_kind(const struct attest *a);
/* New JSON object for /status: kind, providers, queue depth, last/mean cost in ms. */
json_t *attest_status(const struct attest *a);
/* The trust statement (common/trust.h) this platform's results will carry, from the providers found
 * at start: "none" without any; a tpm2 item is google-rooted only when its AK certificate chains to a
 * pinned vendor root. 0, or -1 when it does not fit out. */
int attest_expected_trust(const struct attest *a, const char *platform, char *out, size_t cap);

/* Called exactly once on the event loop thread: evidence is a new reference to the evidence
 * array on success (callee takes it), NULL on failure with err/why set. */
typedef void (*attest_done_fn)(void *arg, json_t *evidence, attest_err err, const char *why);

/* Queues an evidence request; the callback never runs before this returns. Returns ATTEST_OK or
 * ATTEST_ERR_BUSY / ATTEST_ERR_NOMEM (then the callback is not called). With no hardware
 * provider the evidence is [{"type":"none","reason":...}]. */
attest_err attest_request(struct attest *a, const uint8_t report_data[64], attest_done_fn cb, void *arg);
#endif
