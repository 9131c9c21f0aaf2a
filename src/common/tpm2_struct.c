/* tpm2_struct: TPMS_ATTEST (quote), TPMT_SIGNATURE and TPMT_PUBLIC decoding and the quote signature
 * check; see tpm2_struct.h. */
#include "common/tpm2_struct.h"
#include "common/reader.h"
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

/* TPM2B: u16 size then bytes; size must be <= cap. */
static tpm2_err tpm2b(struct rd *r, size_t cap, const uint8_t **p, size_t *len)
{
    uint16_t n = rd_be16(r);
    if (r->bad)
        return TPM2_ERR_TRUNCATED;
    if (n > cap)
        return TPM2_ERR_SIZE;
    *p = rd_take(r, n);
    *len = n;
    return r->bad ? TPM2_ERR_TRUNCATED : TPM2_OK;
}

const char *tpm2_strerror(tpm2_err e)
{
    switch (e) {
    case TPM2_OK: return "ok";
    case TPM2_ERR_TRUNCATED: return "truncated";
    case TPM2_ERR_TRAILING: return "trailing bytes after the structure";
    case TPM2_ERR_MAGIC: return "magic is not TPM_GENERATED_VALUE";
    case TPM2_ERR_TYPE: return "not a quote (TPM_ST_ATTEST_QUOTE)";
    case TPM2_ERR_SIZE: return "a size field is above its limit";
    case TPM2_ERR_ALG: return "unsupported algorithm";
    case TPM2_ERR_HASH: return "unknown signature hash algorithm";
    case TPM2_ERR_KEY: return "the key's type does not match the signature algorithm";
    case TPM2_ERR_SIGNATURE: return "signature does not verify";
    case TPM2_ERR_CRYPTO: return "cannot use the key";
    }
    return "unknown error";
}

const char *tpm2_sig_alg_name(uint16_t alg)
{
    switch (alg) {
    case TPM2_ALG_RSASSA: return "RSASSA";
    case TPM2_ALG_RSAPSS: return "RSAPSS";
    case TPM2_ALG_ECDSA: return "ECDSA";
    }
    return "?";
}

const EVP_MD *tpm2_md(uint16_t hash_alg)
{
    switch (hash_alg) {
    case TPM2_ALG_SHA1:   return EVP_sha1();
    case TPM2_ALG_SHA256: return EVP_sha256();
    case TPM2_ALG_SHA384: return EVP_sha384();
    case TPM2_ALG_SHA512: return EVP_sha512();
    }
    return NULL;
}

uint32_t tpm2_pcr_selection_mask(const struct tpm2_pcr_selection *s)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < s->size && i < TPM2_MAX_SELECT; i++)
        m |= (uint32_t)s->select[i] << (8 * i);
    return m;
}

tpm2_err tpm2_quote_parse(const uint8_t *buf, size_t len, struct tpm2_quote *q)
{
    struct rd r = rd_init(buf, len);
    tpm2_err e;
    memset(q, 0, sizeof *q);
    q->magic = rd_be32(&r);
    if (r.bad)
        return TPM2_ERR_TRUNCATED;
    if (q->magic != TPM2_GENERATED_VALUE)
        return TPM2_ERR_MAGIC;
    q->type = rd_be16(&r);
    if (r.bad)
        return TPM2_ERR_TRUNCATED;
    if (q->type != TPM2_ST_ATTEST_QUOTE)
        return TPM2_ERR_TYPE;
    if ((e = tpm2b(&r, TPM2_MAX_NAME, &q->qualified_signer, &q->qualified_signer_len)) ||
        (e = tpm2b(&r, TPM2_MAX_DATA, &q->extra_data, &q->extra_data_len)))
        return e;
    q->clock = rd_be64(&r);
    q->reset_count = rd_be32(&r);
    q->restart_count = rd_be32(&r);
    q->safe = rd_u8(&r);
    q->firmware_version = rd_be64(&r);
    uint32_t count = rd_be32(&r);
    if (r.bad)
        return TPM2_ERR_TRUNCATED;
    if (count > TPM2_MAX_SELECTIONS)
        return TPM2_ERR_SIZE;
    for (uint32_t i = 0; i < count; i++) {
        struct tpm2_pcr_selection *s = &q->sel[i];
        s->hash = rd_be16(&r);
        s->size = rd_u8(&r);
        if (r.bad)
            return TPM2_ERR_TRUNCATED;
        if (s->size > TPM2_MAX_SELECT)
            return TPM2_ERR_SIZE;
        const uint8_t *p = rd_take(&r, s->size);
        if (!p)
            return TPM2_ERR_TRUNCATED;
        memcpy(s->select, p, s->size);
    }
    q->nsel = count;
    if ((e = tpm2b(&r, TPM2_MAX_DIGEST, &q->pcr_digest, &q->pcr_digest_len)))
        return e;
    return r.left ? TPM2_ERR_TRAILING : TPM2_OK;
}

tpm2_err tpm2_signature_parse(const uint8_t *buf, size_t len, struct tpm2_signature *s)
{
    struct rd r = rd_init(buf, len);
    tpm2_err e;
    memset(s, 0, sizeof *s);
    s->sig_alg = rd_be16(&r);
    s->hash_alg = rd_be16(&r);
    if (r.bad)
        return TPM2_ERR_TRUNCATED;
    switch (s->sig_alg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
        if ((e = tpm2b(&r, TPM2_MAX_SIG, &s->rsa, &s->rsa_len)))
            return e;
        break;
    case TPM2_ALG_ECDSA:
        if ((e = tpm2b(&r, TPM2_MAX_DIGEST, &s->r, &s->r_len)) ||
            (e = tpm2b(&r, TPM2_MAX_DIGEST, &s->s, &s->s_len)))
            return e;
        break;
    default:
        return TPM2_ERR_ALG;
    }
    return r.left ? TPM2_ERR_TRAILING : TPM2_OK;
}

tpm2_err tpm2_signature_verify(EVP_PKEY *key, const struct tpm2_signature *s, const uint8_t *msg, size_t len)
{
    const EVP_MD *md = tpm2_md(s->hash_alg);
    int kt = EVP_PKEY_get_base_id(key);
    unsigned char *der = NULL;
    int dl = 0;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    tpm2_err rc = TPM2_ERR_CRYPTO;
    const uint8_t *sig;
    size_t sl;
    if (!md)
        return TPM2_ERR_HASH;
    if (s->sig_alg == TPM2_ALG_RSASSA || s->sig_alg == TPM2_ALG_RSAPSS) {
        if (kt != EVP_PKEY_RSA)
            return TPM2_ERR_KEY;
        sig = s->rsa;
        sl = s->rsa_len;
    } else if (s->sig_alg == TPM2_ALG_ECDSA) {
        if (kt != EVP_PKEY_EC)
            return TPM2_ERR_KEY;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *br = BN_bin2bn(s->r, (int)s->r_len, NULL), *bs = BN_bin2bn(s->s, (int)s->s_len, NULL);
        if (!es || !br || !bs || !ECDSA_SIG_set0(es, br, bs)) {
            BN_free(br);
            BN_free(bs);
            ECDSA_SIG_free(es);
            return TPM2_ERR_CRYPTO;
        }
        dl = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (dl <= 0)
            return TPM2_ERR_CRYPTO;
        sig = der;
        sl = (size_t)dl;
    } else {
        return TPM2_ERR_ALG;
    }
    if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) != 1)
        goto fail;
    if (s->sig_alg == TPM2_ALG_RSAPSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))
        goto fail;
    rc = EVP_DigestVerify(ctx, sig, sl, msg, len) == 1 ? TPM2_OK : TPM2_ERR_SIGNATURE;
fail:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}

/* Skips a TPMT_*_SCHEME / TPMT_SYM_DEF_OBJECT: the algorithm, then its details when not NULL. */
static void skip_scheme(struct rd *r, int is_sym)
{
    uint16_t alg = rd_be16(r);
    if (alg == TPM2_ALG_NULL)
        return;
    rd_be16(r);                /* keyBits / hashAlg */
    if (is_sym || alg == TPM2_ALG_ECDAA)
        rd_be16(r);            /* mode / count */
}

tpm2_err tpm2_public_to_pkey(const uint8_t *buf, size_t len, EVP_PKEY **out)
{
    struct rd r = rd_init(buf, len);
    tpm2_err rc = TPM2_ERR_CRYPTO, e;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *ex = NULL;
    uint8_t point[1 + 2 * 48];
    const uint8_t *skip;
    size_t sl;
    const char *kt;
    *out = NULL;
    uint16_t type = rd_be16(&r);
    rd_be16(&r);                              /* nameAlg */
    rd_be32(&r);                              /* objectAttributes */
    if ((e = tpm2b(&r, TPM2_MAX_DIGEST, &skip, &sl)))   /* authPolicy */
        return e;
    skip_scheme(&r, 1);                       /* symmetric */
    skip_scheme(&r, 0);                       /* scheme */
    if (r.bad)
        return TPM2_ERR_TRUNCATED;
    if (type != TPM2_ALG_RSA && type != TPM2_ALG_ECC)
        return TPM2_ERR_ALG;
    if (!(bld = OSSL_PARAM_BLD_new()))
        return TPM2_ERR_CRYPTO;
    if (type == TPM2_ALG_RSA) {
        kt = "RSA";
        rd_be16(&r);                          /* keyBits */
        uint32_t exp = rd_be32(&r);
        const uint8_t *mod;
        size_t ml;
        if (!(rc = tpm2b(&r, TPM2_MAX_SIG, &mod, &ml)))
            rc = r.left ? TPM2_ERR_TRAILING : ml < TPM2_MIN_RSA_BYTES ? TPM2_ERR_SIZE : TPM2_OK;
        if (rc)
            goto fail;
        rc = TPM2_ERR_CRYPTO;
        if (!(n = BN_bin2bn(mod, (int)ml, NULL)) || !(ex = BN_new()) || !BN_set_word(ex, exp ? exp : 65537) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex))
            goto fail;
    } else {
        kt = "EC";
        uint16_t curve = rd_be16(&r);
        skip_scheme(&r, 0);                   /* kdf */
        const uint8_t *x, *y;
        size_t xl, yl, fl;
        const char *group;
        if (curve == TPM2_ECC_NIST_P256) { group = "prime256v1"; fl = 32; }
        else if (curve == TPM2_ECC_NIST_P384) { group = "secp384r1"; fl = 48; }
        else { rc = TPM2_ERR_ALG; goto fail; }
        if (!(rc = tpm2b(&r, TPM2_MAX_DIGEST, &x, &xl)) && !(rc = tpm2b(&r, TPM2_MAX_DIGEST, &y, &yl)))
            rc = r.left ? TPM2_ERR_TRAILING : xl != fl || yl != fl ? TPM2_ERR_SIZE : TPM2_OK;
        if (rc)
            goto fail;
        rc = TPM2_ERR_CRYPTO;
        point[0] = 0x04;
        memcpy(point + 1, x, fl);
        memcpy(point + 1 + fl, y, fl);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fl))
            goto fail;
    }
    if (!(params = OSSL_PARAM_BLD_to_param(bld)) || !(ctx = EVP_PKEY_CTX_new_from_name(NULL, kt, NULL)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto fail;
    rc = TPM2_OK;
fail:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    return rc;
}
