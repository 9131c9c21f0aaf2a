/* tdx_quote: DCAP v4/v5 quote decoding; see tdx_quote.h. All integers are little-endian. */
#include "verify/tdx_quote.h"
#include "common/reader.h"
#include <string.h>


static void copy(struct rd *r, void *dst, size_t n)
{
    const uint8_t *p = rd_take(r, n);
    if (p)
        memcpy(dst, p, n);
}

const char *tdx_quote_strerror(tdx_quote_err e)
{
    switch (e) {
    case TDX_QUOTE_OK: return "ok";
    case TDX_QUOTE_ERR_TRUNCATED: return "truncated";
    case TDX_QUOTE_ERR_TRAILING: return "bytes after the signature data";
    case TDX_QUOTE_ERR_VERSION: return "quote version is not 4 or 5";
    case TDX_QUOTE_ERR_TEE: return "TEE type is not TDX (0x81)";
    case TDX_QUOTE_ERR_KEY_TYPE: return "attestation key type is not ECDSA P-256 (2)";
    case TDX_QUOTE_ERR_BODY: return "unknown v5 body type or size";
    case TDX_QUOTE_ERR_CERT_TYPE: return "certification data is not a QE report (6) with a PCK chain (5)";
    case TDX_QUOTE_ERR_SIZE: return "a size field disagrees with the data or exceeds a limit";
    }
    return "unknown error";
}

static void body(struct rd *r, struct tdx_quote *q)
{
    copy(r, q->tee_tcb_svn, 16);
    copy(r, q->mrseam, 48);
    copy(r, q->mrsignerseam, 48);
    q->seam_attributes = rd_le64(r);
    q->td_attributes = rd_le64(r);
    q->xfam = rd_le64(r);
    copy(r, q->mrtd, 48);
    copy(r, q->mrconfigid, 48);
    copy(r, q->mrowner, 48);
    copy(r, q->mrownerconfig, 48);
    for (int i = 0; i < 4; i++)
        copy(r, q->rtmr[i], 48);
    copy(r, q->report_data, 64);
    if (q->body_type == 3) {
        copy(r, q->tee_tcb_svn2, 16);
        copy(r, q->mrservicetd, 48);
    }
}

tdx_quote_err tdx_quote_parse(const uint8_t *buf, size_t len, struct tdx_quote *q)
{
    memset(q, 0, sizeof *q);
    if (!buf || len < TDX_QUOTE_HEADER_LEN)
        return TDX_QUOTE_ERR_TRUNCATED;
    if (len > TDX_QUOTE_MAX_LEN)
        return TDX_QUOTE_ERR_SIZE;
    struct rd r = rd_init(buf, len);
    q->version = (uint16_t)rd_le16(&r);
    q->att_key_type = (uint16_t)rd_le16(&r);
    q->tee_type = (uint32_t)rd_le32(&r);
    q->qe_svn = (uint16_t)rd_le16(&r);
    q->pce_svn = (uint16_t)rd_le16(&r);
    copy(&r, q->qe_vendor_id, 16);
    copy(&r, q->user_data, 20);
    if (q->version != 4 && q->version != 5)
        return TDX_QUOTE_ERR_VERSION;
    if (q->tee_type != TDX_QUOTE_TEE_TDX)
        return TDX_QUOTE_ERR_TEE;
    if (q->att_key_type != TDX_QUOTE_ATT_ECDSA_P256)
        return TDX_QUOTE_ERR_KEY_TYPE;
    q->body_type = 2;
    if (q->version == 5) {
        q->body_type = (uint16_t)rd_le16(&r);
        uint32_t bsize = (uint32_t)rd_le32(&r);
        if (r.bad)
            return TDX_QUOTE_ERR_TRUNCATED;
        if (!((q->body_type == 2 && bsize == TDX_QUOTE_BODY10_LEN) || (q->body_type == 3 && bsize == TDX_QUOTE_BODY15_LEN)))
            return TDX_QUOTE_ERR_BODY;
    }
    body(&r, q);
    if (r.bad)
        return TDX_QUOTE_ERR_TRUNCATED;
    q->signed_data = buf;
    q->signed_len = (size_t)(r.p - buf);

    uint32_t sigdata = (uint32_t)rd_le32(&r);
    if (r.bad)
        return TDX_QUOTE_ERR_TRUNCATED;
    if (sigdata != r.left)
        return r.left < sigdata ? TDX_QUOTE_ERR_TRUNCATED : TDX_QUOTE_ERR_TRAILING;
    copy(&r, q->signature, 64);
    copy(&r, q->att_key, 64);
    uint16_t ctype = (uint16_t)rd_le16(&r);
    uint32_t csize = (uint32_t)rd_le32(&r);
    if (r.bad)
        return TDX_QUOTE_ERR_TRUNCATED;
    if (ctype != 6)
        return TDX_QUOTE_ERR_CERT_TYPE;
    if (csize != r.left)
        return r.left < csize ? TDX_QUOTE_ERR_TRUNCATED : TDX_QUOTE_ERR_SIZE;
    q->qe_report = rd_take(&r, TDX_QUOTE_QE_REPORT_LEN);
    copy(&r, q->qe_report_signature, 64);
    q->qe_auth_len = (size_t)rd_le16(&r);
    q->qe_auth = rd_take(&r, q->qe_auth_len);
    uint16_t ptype = (uint16_t)rd_le16(&r);
    uint32_t psize = (uint32_t)rd_le32(&r);
    if (r.bad)
        return TDX_QUOTE_ERR_TRUNCATED;
    if (ptype != 5)
        return TDX_QUOTE_ERR_CERT_TYPE;
    if (psize > TDX_QUOTE_MAX_CERTS)
        return TDX_QUOTE_ERR_SIZE;
    if (psize != r.left)
        return r.left < psize ? TDX_QUOTE_ERR_TRUNCATED : TDX_QUOTE_ERR_SIZE;
    q->pck_chain = rd_take(&r, psize);
    q->pck_chain_len = psize;
    return r.bad ? TDX_QUOTE_ERR_TRUNCATED : TDX_QUOTE_OK;
}
