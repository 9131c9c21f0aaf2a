/* Synthetic TCG2 crypto-agile event logs (one bank, SHA-256) for the verifier's unit tests:
 * the Spec ID Event03 header (TCG PC Client PFP 10.4.5.1), then events with or without data. */
#ifndef SEALED_TEST_EVENTLOG_BUILD_H
#define SEALED_TEST_EVENTLOG_BUILD_H
#include <stdint.h>
#include <string.h>
#include "common/tpm_eventlog.h"

struct logbuf {
    uint8_t b[8192];
    size_t n;
};

static inline void logbuf_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline void log_start(struct logbuf *l)
{
    memset(l, 0, sizeof *l);
    logbuf_put32(l->b + 4, TPM_EVENTLOG_EV_NO_ACTION);
    logbuf_put32(l->b + 28, 33);
    uint8_t *d = l->b + 32;
    memcpy(d, "Spec ID Event03", 16);
    d[21] = 2; d[23] = 2;                /* spec version 2.0, uintn size 2 */
    logbuf_put32(d + 24, 1);             /* one algorithm */
    d[28] = 0x0B; d[30] = 32;            /* SHA-256, 32 bytes */
    l->n = 32 + 33;
}

/* An event with len bytes of data; its digest is digest when given, else H(data). */
static inline void log_event_data(struct logbuf *l, uint32_t pcr, uint32_t type, const void *data, size_t len,
                                  const uint8_t *digest)
{
    uint8_t *e = l->b + l->n, h[32];
    logbuf_put32(e, pcr);
    logbuf_put32(e + 4, type);
    logbuf_put32(e + 8, 1);
    e[12] = 0x0B; e[13] = 0;
    tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, data, len, h);
    memcpy(e + 14, digest ? digest : h, 32);
    logbuf_put32(e + 46, (uint32_t)len);
    if (len)
        memcpy(e + 50, data, len);
    l->n += 50 + len;
}
#endif
