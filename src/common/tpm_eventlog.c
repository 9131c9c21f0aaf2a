/* TCG PC Client event log parser and PCR replay (see tpm_eventlog.h). Reads only the caller's
 * buffer, bounds-checked against its length and the TPM_EVENTLOG_* caps; allocates only the event
 * index. Knows nothing about what events mean beyond EV_NO_ACTION and the Spec ID / StartupLocality
 * headers that change how the log itself is read. */
#include "common/tpm_eventlog.h"
#include "common/byteorder.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define LEGACY_HDR_LEN 32u   /* pcr, type, sha1 digest, event size */
#define SPEC_ID_SIG    "Spec ID Event03"   /* 15 chars + NUL = 16 bytes */
#define LOCALITY_SIG   "StartupLocality"   /* 15 chars + NUL = 16 bytes */

size_t tpm_eventlog_alg_size(uint16_t alg)
{
    switch (alg) {
    case TPM_EVENTLOG_ALG_SHA1:   return 20;
    case TPM_EVENTLOG_ALG_SHA256: return 32;
    case TPM_EVENTLOG_ALG_SHA384: return 48;
    case TPM_EVENTLOG_ALG_SHA512: return 64;
    default:                      return 0;
    }
}

const char *tpm_eventlog_alg_name(uint16_t alg)
{
    switch (alg) {
    case TPM_EVENTLOG_ALG_SHA1:   return "sha1";
    case TPM_EVENTLOG_ALG_SHA256: return "sha256";
    case TPM_EVENTLOG_ALG_SHA384: return "sha384";
    case TPM_EVENTLOG_ALG_SHA512: return "sha512";
    default:                      return NULL;
    }
}

uint16_t tpm_eventlog_alg_from_name(const char *name)
{
    static const uint16_t algs[] = { TPM_EVENTLOG_ALG_SHA1, TPM_EVENTLOG_ALG_SHA256,
                                     TPM_EVENTLOG_ALG_SHA384, TPM_EVENTLOG_ALG_SHA512 };
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strcmp(name, tpm_eventlog_alg_name(algs[i])) == 0)
            return algs[i];
    return 0;
}

static const EVP_MD *alg_md(uint16_t alg)
{
    switch (alg) {
    case TPM_EVENTLOG_ALG_SHA1:   return EVP_sha1();
    case TPM_EVENTLOG_ALG_SHA256: return EVP_sha256();
    case TPM_EVENTLOG_ALG_SHA384: return EVP_sha384();
    case TPM_EVENTLOG_ALG_SHA512: return EVP_sha512();
    default:                      return NULL;
    }
}

const char *tpm_eventlog_event_type_name(uint32_t type)
{
    switch (type) {
    case 0x00000000u: return "EV_PREBOOT_CERT";
    case 0x00000001u: return "EV_POST_CODE";
    case 0x00000002u: return "EV_UNUSED";
    case 0x00000003u: return "EV_NO_ACTION";
    case 0x00000004u: return "EV_SEPARATOR";
    case 0x00000005u: return "EV_ACTION";
    case 0x00000006u: return "EV_EVENT_TAG";
    case 0x00000007u: return "EV_S_CRTM_CONTENTS";
    case 0x00000008u: return "EV_S_CRTM_VERSION";
    case 0x00000009u: return "EV_CPU_MICROCODE";
    case 0x0000000Au: return "EV_PLATFORM_CONFIG_FLAGS";
    case 0x0000000Bu: return "EV_TABLE_OF_DEVICES";
    case 0x0000000Cu: return "EV_COMPACT_HASH";
    case 0x0000000Du: return "EV_IPL";
    case 0x0000000Eu: return "EV_IPL_PARTITION_DATA";
    case 0x0000000Fu: return "EV_NONHOST_CODE";
    case 0x00000010u: return "EV_NONHOST_CONFIG";
    case 0x00000011u: return "EV_NONHOST_INFO";
    case 0x00000012u: return "EV_OMIT_BOOT_DEVICE_EVENTS";
    case 0x80000001u: return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case 0x80000002u: return "EV_EFI_VARIABLE_BOOT";
    case 0x80000003u: return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case 0x80000004u: return "EV_EFI_BOOT_SERVICES_DRIVER";
    case 0x80000005u: return "EV_EFI_RUNTIME_SERVICES_DRIVER";
    case 0x80000006u: return "EV_EFI_GPT_EVENT";
    case 0x80000007u: return "EV_EFI_ACTION";
    case 0x80000008u: return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case 0x80000009u: return "EV_EFI_HANDOFF_TABLES";
    case 0x8000000Au: return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case 0x8000000Bu: return "EV_EFI_HANDOFF_TABLES2";
    case 0x8000000Cu: return "EV_EFI_VARIABLE_BOOT2";
    case 0x80000010u: return "EV_EFI_HCRTM_EVENT";
    case 0x800000E0u: return "EV_EFI_VARIABLE_AUTHORITY";
    case 0x800000E1u: return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case 0x800000E2u: return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    default:          return NULL;
    }
}

const char *tpm_eventlog_strerror(tpm_eventlog_err err)
{
    switch (err) {
    case TPM_EVENTLOG_OK:              return "ok";
    case TPM_EVENTLOG_ERR_ARG:         return "invalid argument";
    case TPM_EVENTLOG_ERR_TRUNCATED:   return "event log truncated (a record runs past its end)";
    case TPM_EVENTLOG_ERR_FORMAT:      return "malformed event log";
    case TPM_EVENTLOG_ERR_TOO_BIG:     return "event log exceeds a size limit";
    case TPM_EVENTLOG_ERR_UNKNOWN_ALG: return "event digest uses an algorithm the log header does not declare";
    case TPM_EVENTLOG_ERR_NO_BANK:     return "event log has no digests for the requested PCR bank";
    case TPM_EVENTLOG_ERR_UNSUPPORTED: return "unsupported hash algorithm";
    case TPM_EVENTLOG_ERR_NOMEM:       return "out of memory";
    case TPM_EVENTLOG_ERR_CRYPTO:      return "hash computation failed";
    }
    return "unknown error";
}

/* True when buf[0..len) is all 0x00 or all 0xFF (padding after the last record). */
static int is_padding(const uint8_t *buf, size_t len)
{
    uint8_t c = buf[0];
    if (c != 0x00 && c != 0xFF)
        return 0;
    for (size_t i = 1; i < len; i++)
        if (buf[i] != c)
            return 0;
    return 1;
}

static tpm_eventlog_err push_event(tpm_eventlog *log, size_t *cap, const tpm_eventlog_event *ev)
{
    if (log->nevents >= TPM_EVENTLOG_MAX_EVENTS)
        return TPM_EVENTLOG_ERR_TOO_BIG;
    if (log->nevents == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        if (ncap > TPM_EVENTLOG_MAX_EVENTS)
            ncap = TPM_EVENTLOG_MAX_EVENTS;
        tpm_eventlog_event *n = realloc(log->events, ncap * sizeof(*n));
        if (!n)
            return TPM_EVENTLOG_ERR_NOMEM;
        log->events = n;
        *cap = ncap;
    }
    log->events[log->nevents++] = *ev;
    return TPM_EVENTLOG_OK;
}

/* Reads one legacy (TCG 1.2, SHA-1) record at buf[off..len). */
static tpm_eventlog_err read_legacy(const uint8_t *buf, size_t len, size_t off,
                                    tpm_eventlog_event *ev, size_t *next)
{
    if (len - off < LEGACY_HDR_LEN)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    const uint8_t *p = buf + off;
    memset(ev, 0, sizeof(*ev));
    ev->offset = off;
    ev->pcr = get_le32(p);
    ev->type = get_le32(p + 4);
    ev->ndigests = 1;
    ev->digests[0].alg = TPM_EVENTLOG_ALG_SHA1;
    ev->digests[0].len = 20;
    ev->digests[0].digest = p + 8;
    uint32_t dlen = get_le32(p + 28);
    if (dlen > TPM_EVENTLOG_MAX_EVENT_DATA)
        return TPM_EVENTLOG_ERR_TOO_BIG;
    if (dlen > len - off - LEGACY_HDR_LEN)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    ev->data = p + LEGACY_HDR_LEN;
    ev->data_len = dlen;
    *next = off + LEGACY_HDR_LEN + dlen;
    return TPM_EVENTLOG_OK;
}

/* Reads one crypto-agile (TCG_PCR_EVENT2) record at buf[off..len). */
static tpm_eventlog_err read_agile(const tpm_eventlog *log, const uint8_t *buf, size_t len,
                                   size_t off, tpm_eventlog_event *ev, size_t *next)
{
    size_t pos = off;
    if (len - pos < 12)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    memset(ev, 0, sizeof(*ev));
    ev->offset = off;
    ev->pcr = get_le32(buf + pos);
    ev->type = get_le32(buf + pos + 4);
    uint32_t count = get_le32(buf + pos + 8);
    pos += 12;
    if (count > log->nalgs)
        return TPM_EVENTLOG_ERR_FORMAT;
    for (uint32_t i = 0; i < count; i++) {
        if (len - pos < 2)
            return TPM_EVENTLOG_ERR_TRUNCATED;
        uint16_t alg = get_le16(buf + pos);
        pos += 2;
        size_t size = 0;
        for (size_t a = 0; a < log->nalgs; a++)
            if (log->algs[a].alg == alg)
                size = log->algs[a].size;
        if (size == 0)
            return TPM_EVENTLOG_ERR_UNKNOWN_ALG;
        for (uint32_t j = 0; j < i; j++)
            if (ev->digests[j].alg == alg)
                return TPM_EVENTLOG_ERR_FORMAT;   /* the same bank twice */
        if (len - pos < size)
            return TPM_EVENTLOG_ERR_TRUNCATED;
        ev->digests[i].alg = alg;
        ev->digests[i].len = (uint16_t)size;
        ev->digests[i].digest = buf + pos;
        pos += size;
    }
    ev->ndigests = count;
    if (len - pos < 4)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    uint32_t dlen = get_le32(buf + pos);
    pos += 4;
    if (dlen > TPM_EVENTLOG_MAX_EVENT_DATA)
        return TPM_EVENTLOG_ERR_TOO_BIG;
    if (dlen > len - pos)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    ev->data = buf + pos;
    ev->data_len = dlen;
    *next = pos + dlen;
    return TPM_EVENTLOG_OK;
}

/* Fills log->algs from a TCG_EfiSpecIDEvent ("Spec ID Event03") body. */
static tpm_eventlog_err read_spec_id(tpm_eventlog *log, const uint8_t *d, size_t n)
{
    if (n < 28)
        return TPM_EVENTLOG_ERR_FORMAT;
    uint32_t nalgs = get_le32(d + 24);
    if (nalgs == 0)
        return TPM_EVENTLOG_ERR_FORMAT;
    if (nalgs > TPM_EVENTLOG_MAX_ALGS)
        return TPM_EVENTLOG_ERR_TOO_BIG;
    if (n - 28 < (size_t)nalgs * 4 + 1)   /* + vendorInfoSize byte */
        return TPM_EVENTLOG_ERR_FORMAT;
    for (uint32_t i = 0; i < nalgs; i++) {
        uint16_t alg = get_le16(d + 28 + 4 * i);
        uint16_t size = get_le16(d + 30 + 4 * i);
        if (size == 0 || size > TPM_EVENTLOG_MAX_DIGEST)
            return TPM_EVENTLOG_ERR_FORMAT;
        size_t known = tpm_eventlog_alg_size(alg);
        if (known && known != size)
            return TPM_EVENTLOG_ERR_FORMAT;
        for (uint32_t j = 0; j < i; j++)
            if (log->algs[j].alg == alg)
                return TPM_EVENTLOG_ERR_FORMAT;
        log->algs[i].alg = alg;
        log->algs[i].size = size;
    }
    log->nalgs = nalgs;
    size_t vendor = d[28 + 4 * nalgs];
    if (n - 28 - (size_t)nalgs * 4 - 1 < vendor)
        return TPM_EVENTLOG_ERR_FORMAT;
    return TPM_EVENTLOG_OK;
}

tpm_eventlog_err tpm_eventlog_parse(const uint8_t *buf, size_t len, tpm_eventlog **out)
{
    tpm_eventlog_err rc = TPM_EVENTLOG_OK;
    tpm_eventlog *log = NULL;
    size_t cap = 0, off = 0, next = 0;
    tpm_eventlog_event ev;

    if (!out)
        return TPM_EVENTLOG_ERR_ARG;
    *out = NULL;
    if (!buf && len)
        return TPM_EVENTLOG_ERR_ARG;
    if (len > TPM_EVENTLOG_MAX_LOG_BYTES)
        return TPM_EVENTLOG_ERR_TOO_BIG;
    if (len == 0)
        return TPM_EVENTLOG_ERR_TRUNCATED;
    log = calloc(1, sizeof(*log));
    if (!log)
        return TPM_EVENTLOG_ERR_NOMEM;

    /* The first record is always in the legacy layout; a Spec ID Event03 there switches the
     * rest of the log to the crypto-agile layout. */
    rc = read_legacy(buf, len, 0, &ev, &next);
    if (rc)
        goto fail;
    if (ev.type == TPM_EVENTLOG_EV_NO_ACTION && ev.pcr == 0 && ev.data_len >= 16 &&
        memcmp(ev.data, SPEC_ID_SIG, 16) == 0) {
        log->crypto_agile = 1;
        rc = read_spec_id(log, ev.data, ev.data_len);
        if (rc)
            goto fail;
    } else {
        log->nalgs = 1;
        log->algs[0].alg = TPM_EVENTLOG_ALG_SHA1;
        log->algs[0].size = 20;
    }

    for (;;) {
        if (ev.pcr >= TPM_EVENTLOG_NUM_PCRS && ev.type != TPM_EVENTLOG_EV_NO_ACTION) {
            rc = TPM_EVENTLOG_ERR_FORMAT;
            goto fail;
        }
        if (ev.type == TPM_EVENTLOG_EV_NO_ACTION && ev.data_len >= 17 &&
            memcmp(ev.data, LOCALITY_SIG, 16) == 0)
            log->startup_locality = ev.data[16];
        rc = push_event(log, &cap, &ev);
        if (rc)
            goto fail;
        off = next;
        if (off >= len || is_padding(buf + off, len - off))
            break;
        rc = log->crypto_agile ? read_agile(log, buf, len, off, &ev, &next)
                               : read_legacy(buf, len, off, &ev, &next);
        if (rc)
            goto fail;
    }
    *out = log;
    return TPM_EVENTLOG_OK;
fail:
    tpm_eventlog_free(log);
    return rc;
}

void tpm_eventlog_free(tpm_eventlog *log)
{
    if (!log)
        return;
    free(log->events);
    free(log);
}

const tpm_eventlog_digest *tpm_eventlog_event_digest(const tpm_eventlog_event *ev, uint16_t alg)
{
    if (!ev)
        return NULL;
    for (size_t i = 0; i < ev->ndigests && i < TPM_EVENTLOG_MAX_ALGS; i++)
        if (ev->digests[i].alg == alg)
            return &ev->digests[i];
    return NULL;
}

tpm_eventlog_err tpm_eventlog_hash(uint16_t alg, const void *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = alg_md(alg);
    unsigned int olen = 0;
    if (!md)
        return TPM_EVENTLOG_ERR_UNSUPPORTED;
    if (!out || (!data && len))
        return TPM_EVENTLOG_ERR_ARG;
    if (EVP_Digest(data ? data : "", len, out, &olen, md, NULL) != 1)
        return TPM_EVENTLOG_ERR_CRYPTO;
    return TPM_EVENTLOG_OK;
}

tpm_eventlog_err tpm_eventlog_extend(uint16_t alg, uint8_t *pcr, const uint8_t *digest)
{
    uint8_t buf[2 * TPM_EVENTLOG_MAX_DIGEST];
    size_t n = tpm_eventlog_alg_size(alg);
    if (!n)
        return TPM_EVENTLOG_ERR_UNSUPPORTED;
    if (!pcr || !digest)
        return TPM_EVENTLOG_ERR_ARG;
    memcpy(buf, pcr, n);
    memcpy(buf + n, digest, n);
    return tpm_eventlog_hash(alg, buf, 2 * n, pcr);
}

tpm_eventlog_err tpm_eventlog_replay(const tpm_eventlog *log, uint16_t alg, tpm_eventlog_bank *out)
{
    tpm_eventlog_err rc;
    size_t n = tpm_eventlog_alg_size(alg);
    if (!log || !out)
        return TPM_EVENTLOG_ERR_ARG;
    if (!n)
        return TPM_EVENTLOG_ERR_UNSUPPORTED;
    memset(out, 0, sizeof(*out));
    out->alg = alg;
    out->digest_len = n;
    out->pcr[0][n - 1] = log->startup_locality;
    int declared = 0;
    for (size_t a = 0; a < log->nalgs; a++)
        if (log->algs[a].alg == alg)
            declared = 1;
    if (!declared)
        return TPM_EVENTLOG_ERR_NO_BANK;
    for (size_t i = 0; i < log->nevents; i++) {
        const tpm_eventlog_event *ev = &log->events[i];
        if (ev->type == TPM_EVENTLOG_EV_NO_ACTION)
            continue;
        const tpm_eventlog_digest *d = tpm_eventlog_event_digest(ev, alg);
        if (!d || d->len != n)
            return TPM_EVENTLOG_ERR_NO_BANK;
        rc = tpm_eventlog_extend(alg, out->pcr[ev->pcr], d->digest);
        if (rc)
            return rc;
        out->extended_mask |= 1u << ev->pcr;
    }
    return TPM_EVENTLOG_OK;
}
