/* tpm_attest: TPMS_ATTEST (quote) and TPMT_SIGNATURE decoding; see tpm_attest.h. */
#include "verify/tpm_attest.h"
#include "verify/reader.h"
#include <string.h>


static uint8_t u8(struct rd *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

static uint16_t u16(struct rd *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t u32(struct rd *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t u64(struct rd *r)
{
    uint64_t hi = u32(r);
    return hi << 32 | u32(r);
}

/* TPM2B: u16 size then bytes; size must be <= cap. */
static int tpm2b(struct rd *r, size_t cap, const uint8_t **p, size_t *len)
{
    uint16_t n = u16(r);
    if (r->bad)
        return TPM_ATTEST_ERR_TRUNCATED;
    if (n > cap)
        return TPM_ATTEST_ERR_SIZE;
    *p = take(r, n);
    *len = n;
    return r->bad ? TPM_ATTEST_ERR_TRUNCATED : TPM_ATTEST_OK;
}

const char *tpm_attest_strerror(tpm_attest_err e)
{
    switch (e) {
    case TPM_ATTEST_OK: return "ok";
    case TPM_ATTEST_ERR_TRUNCATED: return "truncated";
    case TPM_ATTEST_ERR_TRAILING: return "trailing bytes after the structure";
    case TPM_ATTEST_ERR_MAGIC: return "magic is not TPM_GENERATED_VALUE";
    case TPM_ATTEST_ERR_TYPE: return "not a quote (TPM_ST_ATTEST_QUOTE)";
    case TPM_ATTEST_ERR_SIZE: return "a size field is above its limit";
    case TPM_ATTEST_ERR_ALG: return "unsupported signature algorithm";
    }
    return "unknown error";
}

const char *tpm_attest_sig_alg_name(uint16_t alg)
{
    switch (alg) {
    case TPM_ALG_RSASSA: return "RSASSA";
    case TPM_ALG_RSAPSS: return "RSAPSS";
    case TPM_ALG_ECDSA: return "ECDSA";
    }
    return "?";
}

tpm_attest_err tpm_attest_parse_quote(const uint8_t *buf, size_t len, struct tpm_quote *q)
{
    struct rd r = {buf, buf ? len : 0, 0};
    int e;
    memset(q, 0, sizeof *q);
    q->magic = u32(&r);
    if (r.bad)
        return TPM_ATTEST_ERR_TRUNCATED;
    if (q->magic != TPM_GENERATED_VALUE)
        return TPM_ATTEST_ERR_MAGIC;
    q->type = u16(&r);
    if (r.bad)
        return TPM_ATTEST_ERR_TRUNCATED;
    if (q->type != TPM_ST_ATTEST_QUOTE)
        return TPM_ATTEST_ERR_TYPE;
    if ((e = tpm2b(&r, TPM_ATTEST_MAX_NAME, &q->qualified_signer, &q->qualified_signer_len)) ||
        (e = tpm2b(&r, TPM_ATTEST_MAX_DATA, &q->extra_data, &q->extra_data_len)))
        return (tpm_attest_err)e;
    q->clock = u64(&r);
    q->reset_count = u32(&r);
    q->restart_count = u32(&r);
    q->safe = u8(&r);
    q->firmware_version = u64(&r);
    uint32_t count = u32(&r);
    if (r.bad)
        return TPM_ATTEST_ERR_TRUNCATED;
    if (count > TPM_ATTEST_MAX_SELECTIONS)
        return TPM_ATTEST_ERR_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        struct tpm_pcr_selection *s = &q->sel[i];
        s->hash = u16(&r);
        s->size = u8(&r);
        if (r.bad)
            return TPM_ATTEST_ERR_TRUNCATED;
        if (s->size > TPM_ATTEST_MAX_SELECT)
            return TPM_ATTEST_ERR_SIZE;
        const uint8_t *p = take(&r, s->size);
        if (!p)
            return TPM_ATTEST_ERR_TRUNCATED;
        memcpy(s->select, p, s->size);
    }
    q->nsel = count;
    if ((e = tpm2b(&r, TPM_ATTEST_MAX_DIGEST, &q->pcr_digest, &q->pcr_digest_len)))
        return (tpm_attest_err)e;
    return r.left ? TPM_ATTEST_ERR_TRAILING : TPM_ATTEST_OK;
}

tpm_attest_err tpm_attest_parse_signature(const uint8_t *buf, size_t len, struct tpm_signature *s)
{
    struct rd r = {buf, buf ? len : 0, 0};
    int e;
    memset(s, 0, sizeof *s);
    s->sig_alg = u16(&r);
    s->hash_alg = u16(&r);
    if (r.bad)
        return TPM_ATTEST_ERR_TRUNCATED;
    switch (s->sig_alg) {
    case TPM_ALG_RSASSA:
    case TPM_ALG_RSAPSS:
        if ((e = tpm2b(&r, TPM_ATTEST_MAX_SIG, &s->rsa, &s->rsa_len)))
            return (tpm_attest_err)e;
        break;
    case TPM_ALG_ECDSA:
        if ((e = tpm2b(&r, TPM_ATTEST_MAX_DIGEST, &s->r, &s->r_len)) ||
            (e = tpm2b(&r, TPM_ATTEST_MAX_DIGEST, &s->s, &s->s_len)))
            return (tpm_attest_err)e;
        break;
    default:
        return TPM_ATTEST_ERR_ALG;
    }
    return r.left ? TPM_ATTEST_ERR_TRAILING : TPM_ATTEST_OK;
}
