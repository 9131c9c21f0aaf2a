/* gce_instance_ext: a strict DER reader for GCE's instance-identity extension; see the header.
 * Hand-written because the structure is five fields and a small SEQUENCE of optional booleans:
 * OpenSSL's ASN1 template macros would be larger than the parser, and it must also build for wasm. */
#include "common/gce_instance_ext.h"
#include <string.h>

struct der {
    const uint8_t *p;
    size_t left;
};

/* One TLV: tag byte (low-tag-number form only), definite length; value borrowed into *v. */
static int der_next(struct der *d, uint8_t *tag, struct der *v)
{
    if (d->left < 2)
        return -1;
    uint8_t t = d->p[0], l0 = d->p[1];
    size_t hdr = 2, len;
    if ((t & 0x1f) == 0x1f)
        return -1;
    if (l0 < 0x80) {
        len = l0;
    } else {
        size_t n = l0 & 0x7f;
        if (n == 0 || n > 3 || d->left < 2 + n)
            return -1;
        len = 0;
        for (size_t i = 0; i < n; i++)
            len = len << 8 | d->p[2 + i];
        if (len < 0x80 || (n > 1 && d->p[2] == 0))   /* DER: minimal length encoding */
            return -1;
        hdr += n;
    }
    if (len > d->left - hdr)
        return -1;
    *tag = t;
    v->p = d->p + hdr;
    v->left = len;
    d->p += hdr + len;
    d->left -= hdr + len;
    return 0;
}

static gce_ext_err get_string(struct der *d, char *out)
{
    uint8_t tag;
    struct der v;
    if (der_next(d, &tag, &v))
        return GCE_EXT_ERR_DER;
    if (tag != 0x0c)
        return GCE_EXT_ERR_TYPE;
    if (v.left > GCE_EXT_MAX_STR)
        return GCE_EXT_ERR_RANGE;
    for (size_t i = 0; i < v.left; i++)
        if (v.p[i] < 0x20 || v.p[i] > 0x7e)
            return GCE_EXT_ERR_RANGE;
    memcpy(out, v.p, v.left);
    out[v.left] = 0;
    return GCE_EXT_OK;
}

/* A non-negative DER INTEGER that fits 64 bits (minimal encoding). */
static gce_ext_err int_value(const struct der *v, uint64_t *out)
{
    if (v->left == 0 || v->left > 9)
        return v->left ? GCE_EXT_ERR_RANGE : GCE_EXT_ERR_DER;
    if (v->p[0] & 0x80)
        return GCE_EXT_ERR_RANGE;
    if (v->left > 1 && v->p[0] == 0 && !(v->p[1] & 0x80))
        return GCE_EXT_ERR_DER;
    if (v->left == 9 && v->p[0] != 0)
        return GCE_EXT_ERR_RANGE;
    uint64_t x = 0;
    for (size_t i = 0; i < v->left; i++)
        x = x << 8 | v->p[i];
    *out = x;
    return GCE_EXT_OK;
}

static gce_ext_err get_int(struct der *d, uint64_t *out)
{
    uint8_t tag;
    struct der v;
    if (der_next(d, &tag, &v))
        return GCE_EXT_ERR_DER;
    if (tag != 0x02)
        return GCE_EXT_ERR_TYPE;
    return int_value(&v, out);
}

/* [n] EXPLICIT BOOLEAN inside the security properties. */
static gce_ext_err bool_value(const struct der *inner, int *out)
{
    struct der d = *inner, v;
    uint8_t tag;
    if (der_next(&d, &tag, &v) || d.left)
        return GCE_EXT_ERR_DER;
    if (tag != 0x01)
        return GCE_EXT_ERR_TYPE;
    if (v.left != 1 || (v.p[0] != 0 && v.p[0] != 0xff))
        return GCE_EXT_ERR_DER;
    *out = v.p[0] == 0xff;
    return GCE_EXT_OK;
}

static gce_ext_err security_properties(struct der *seq, struct gce_instance_info *o)
{
    int last = -1;
    while (seq->left) {
        uint8_t tag;
        struct der v;
        if (der_next(seq, &tag, &v))
            return GCE_EXT_ERR_DER;
        if ((tag & 0xe0) != 0xa0)
            return GCE_EXT_ERR_TYPE;
        int n = tag & 0x1f;
        if (n <= last)            /* DER: fields in tag order, each at most once */
            return GCE_EXT_ERR_DER;
        last = n;
        gce_ext_err e = GCE_EXT_OK;
        if (n == 0) {
            struct der in = v, iv;
            uint8_t it;
            if (der_next(&in, &it, &iv) || in.left)
                return GCE_EXT_ERR_DER;
            if (it != 0x02)
                return GCE_EXT_ERR_TYPE;
            e = int_value(&iv, &o->security_version);
        } else if (n == 1) {
            e = bool_value(&v, &o->is_production);
        } else if (n == 2) {
            e = bool_value(&v, &o->tpm_data_always_encrypted);
        } else if (n == 3) {
            e = bool_value(&v, &o->suspend_resume_always_disabled);
        } else if (n == 4) {
            e = bool_value(&v, &o->vmtd_always_disabled);
        } else if (n == 5) {
            e = bool_value(&v, &o->always_in_yarn);
        }   /* later tags: newer properties this reader does not know; skipped */
        if (e)
            return e;
    }
    return GCE_EXT_OK;
}

gce_ext_err gce_instance_ext_parse(const uint8_t *der, size_t len, struct gce_instance_info *out)
{
    memset(out, 0, sizeof *out);
    struct der top = {der, len}, seq;
    uint8_t tag;
    gce_ext_err e;
    if (der_next(&top, &tag, &seq) || top.left)
        return GCE_EXT_ERR_DER;
    if (tag != 0x30)
        return GCE_EXT_ERR_TYPE;
    if ((e = get_string(&seq, out->zone)) || (e = get_int(&seq, &out->project_number)) ||
        (e = get_string(&seq, out->project_id)) || (e = get_int(&seq, &out->instance_id)) ||
        (e = get_string(&seq, out->instance_name)))
        goto fail;
    if (seq.left) {
        struct der ex, props;
        if (der_next(&seq, &tag, &ex) || seq.left) {
            e = GCE_EXT_ERR_DER;
            goto fail;
        }
        if (tag != 0xa0) {
            e = GCE_EXT_ERR_TYPE;
            goto fail;
        }
        if (der_next(&ex, &tag, &props) || ex.left) {
            e = GCE_EXT_ERR_DER;
            goto fail;
        }
        if (tag != 0x30) {
            e = GCE_EXT_ERR_TYPE;
            goto fail;
        }
        out->has_security = 1;
        if ((e = security_properties(&props, out)))
            goto fail;
    }
    return GCE_EXT_OK;
fail:
    memset(out, 0, sizeof *out);
    return e;
}

const char *gce_ext_strerror(gce_ext_err e)
{
    switch (e) {
    case GCE_EXT_OK: return "ok";
    case GCE_EXT_ERR_DER: return "not well-formed DER";
    case GCE_EXT_ERR_TYPE: return "a field has the wrong ASN.1 type";
    case GCE_EXT_ERR_RANGE: return "a value is out of range (negative, too large, too long or not printable)";
    }
    return "unknown error";
}
