/* amd_chain: AMD certificate extensions, RSA-PSS links and certificate loading; see amd_chain.h. */
#include "verify/amd_chain.h"
#include "common/codec.h"
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

const char *amd_chain_strerror(amd_chain_err e)
{
    switch (e) {
    case AMD_CHAIN_OK: return "ok";
    case AMD_CHAIN_ERR_NOMEM: return "out of memory";
    case AMD_CHAIN_ERR_FORMAT: return "malformed certificate or extension";
    case AMD_CHAIN_ERR_SIGALG: return "signature algorithm is not RSASSA-PSS SHA-384 salt 48";
    case AMD_CHAIN_ERR_ISSUER: return "issuer name is not the parent's subject";
    case AMD_CHAIN_ERR_KEY: return "parent key is not an RSA key of at least 2048 bits";
    case AMD_CHAIN_ERR_SIGNATURE: return "signature does not verify";
    }
    return "unknown error";
}

void amd_chain_cn(const X509_NAME *name, char *out, size_t cap)
{
    int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    const ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
    if (!s || cap == 0) {
        snprintf(out, cap, "?");
        return;
    }
    size_t n = 0;
    const unsigned char *d = ASN1_STRING_get0_data(s);
    for (int k = 0; k < ASN1_STRING_length(s) && n + 1 < cap; k++)
        out[n++] = (d[k] >= 0x20 && d[k] < 0x7f) ? (char)d[k] : '?';
    out[n] = 0;
}

/* The DER contents of the extension with that OID, or NULL. */
static const ASN1_OCTET_STRING *ext_data(X509 *x, const char *oid)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    if (!o)
        return NULL;
    int i = X509_get_ext_by_OBJ(x, o, -1);
    ASN1_OBJECT_free(o);
    if (i < 0)
        return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

/* An SPL extension: a DER INTEGER in 0..255 filling the whole extension value. */
static amd_chain_err spl(X509 *x, const char *oid, int *has, uint8_t *v)
{
    const ASN1_OCTET_STRING *d = ext_data(x, oid);
    *has = 0;
    if (!d)
        return AMD_CHAIN_OK;
    const unsigned char *p = ASN1_STRING_get0_data(d);
    long len = ASN1_STRING_length(d);
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
    if (!ai)
        return AMD_CHAIN_ERR_FORMAT;
    int64_t val;
    int ok = p == ASN1_STRING_get0_data(d) + len && ASN1_INTEGER_get_int64(&val, ai) == 1 &&
             val >= 0 && val <= 255;
    ASN1_INTEGER_free(ai);
    if (!ok)
        return AMD_CHAIN_ERR_FORMAT;
    *has = 1;
    *v = (uint8_t)val;
    return AMD_CHAIN_OK;
}

/* An IA5String extension into out (printable ASCII only). */
static amd_chain_err ia5(X509 *x, const char *oid, int *has, char *out, size_t cap)
{
    const ASN1_OCTET_STRING *d = ext_data(x, oid);
    *has = 0;
    if (!d)
        return AMD_CHAIN_OK;
    const unsigned char *p = ASN1_STRING_get0_data(d);
    long len = ASN1_STRING_length(d);
    ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, len);
    if (!s)
        return AMD_CHAIN_ERR_FORMAT;
    int sl = ASN1_STRING_length(s);
    const unsigned char *sd = ASN1_STRING_get0_data(s);
    int ok = p == ASN1_STRING_get0_data(d) + len && sl >= 0 && (size_t)sl < cap;
    for (int i = 0; ok && i < sl; i++)
        ok = sd[i] >= 0x20 && sd[i] < 0x7f;
    if (ok) {
        memcpy(out, sd, (size_t)sl);
        out[sl] = 0;
        *has = 1;
    }
    ASN1_IA5STRING_free(s);
    return ok ? AMD_CHAIN_OK : AMD_CHAIN_ERR_FORMAT;
}

amd_chain_err amd_chain_vek_info(X509 *x, struct vek_info *v)
{
    memset(v, 0, sizeof *v);
    amd_chain_cn(X509_get_subject_name(x), v->subject_cn, sizeof v->subject_cn);
    amd_chain_cn(X509_get_issuer_name(x), v->issuer_cn, sizeof v->issuer_cn);
    amd_chain_err e;
    if ((e = ia5(x, "1.3.6.1.4.1.3704.1.2", &v->has_product, v->product, sizeof v->product)) ||
        (e = spl(x, "1.3.6.1.4.1.3704.1.3.1", &v->has_bl, &v->bl)) ||
        (e = spl(x, "1.3.6.1.4.1.3704.1.3.2", &v->has_tee, &v->tee)) ||
        (e = spl(x, "1.3.6.1.4.1.3704.1.3.3", &v->has_snp, &v->snp)) ||
        (e = spl(x, "1.3.6.1.4.1.3704.1.3.8", &v->has_ucode, &v->ucode)) ||
        (e = spl(x, "1.3.6.1.4.1.3704.1.3.9", &v->has_fmc, &v->fmc)) ||
        (e = ia5(x, "1.3.6.1.4.1.3704.1.5", &v->has_csp_id, v->csp_id, sizeof v->csp_id)))
        return e;
    const ASN1_OCTET_STRING *h = ext_data(x, "1.3.6.1.4.1.3704.1.4");
    if (h) {
        /* hwID is the raw chip id (not DER-wrapped): 64 bytes, or 8 on Turin */
        int hl = ASN1_STRING_length(h);
        if (hl <= 0 || hl > 64)
            return AMD_CHAIN_ERR_FORMAT;
        memcpy(v->hwid, ASN1_STRING_get0_data(h), (size_t)hl);
        v->hwid_len = (size_t)hl;
        v->has_hwid = 1;
    }
    return AMD_CHAIN_OK;
}

/* A signatureAlgorithm must be RSASSA-PSS with exactly SHA-384 / MGF1-SHA-384 / salt 48. */
static int pss_alg_ok(const X509_ALGOR *alg)
{
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE)
        return 0;
    const ASN1_STRING *seq = pval;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    RSA_PSS_PARAMS *pp = d2i_RSA_PSS_PARAMS(NULL, &p, ASN1_STRING_length(seq));
    if (!pp)
        return 0;
    int ok = 0;
    X509_ALGOR *mgfhash = NULL;
    if (!pp->hashAlgorithm || OBJ_obj2nid(pp->hashAlgorithm->algorithm) != NID_sha384)
        goto out;
    if (!pp->maskGenAlgorithm || OBJ_obj2nid(pp->maskGenAlgorithm->algorithm) != NID_mgf1 ||
        !pp->maskGenAlgorithm->parameter || pp->maskGenAlgorithm->parameter->type != V_ASN1_SEQUENCE)
        goto out;
    const ASN1_STRING *ms = pp->maskGenAlgorithm->parameter->value.sequence;
    const unsigned char *mp = ASN1_STRING_get0_data(ms);
    mgfhash = d2i_X509_ALGOR(NULL, &mp, ASN1_STRING_length(ms));
    if (!mgfhash || OBJ_obj2nid(mgfhash->algorithm) != NID_sha384)
        goto out;
    if (!pp->saltLength || ASN1_INTEGER_get(pp->saltLength) != 48)
        goto out;
    if (pp->trailerField && ASN1_INTEGER_get(pp->trailerField) != 1)
        goto out;
    ok = 1;
out:
    X509_ALGOR_free(mgfhash);
    RSA_PSS_PARAMS_free(pp);
    return ok;
}

amd_chain_err amd_chain_verify_link(X509 *child, X509 *parent)
{
    if (!child || !parent)
        return AMD_CHAIN_ERR_FORMAT;
    const X509_ALGOR *alg = NULL;
    X509_get0_signature(NULL, &alg, child);
    if (!pss_alg_ok(alg))
        return AMD_CHAIN_ERR_SIGALG;
    EVP_PKEY *k = X509_get0_pubkey(parent);
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) < 2048)
        return AMD_CHAIN_ERR_KEY;
    /* X509_verify uses the certificate's stored TBS bytes and its (checked above) PSS parameters */
    if (X509_verify(child, k) != 1)
        return AMD_CHAIN_ERR_SIGNATURE;
    if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
        return AMD_CHAIN_ERR_ISSUER;
    return AMD_CHAIN_OK;
}

int amd_chain_valid_at(X509 *cert, time_t at)
{
    time_t t = at;
    return X509_cmp_time(X509_get0_notBefore(cert), &t) < 0 && X509_cmp_time(X509_get0_notAfter(cert), &t) > 0;
}

int amd_chain_load_certs(const uint8_t *buf, size_t len, X509 **out, int max)
{
    int n = 0;
    if (len > 0x7fffffff || max <= 0)
        return -1;
    if (len >= 11 && memmem(buf, len, "-----BEGIN", 10)) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        while (b && n < max && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
            out[n++] = x;
        BIO_free(b);
    } else {
        const unsigned char *p = buf;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && p == buf + len)
            out[n++] = x;
        else
            X509_free(x);
    }
    return n > 0 ? n : -1;
}

void amd_chain_fingerprint(X509 *cert, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    out[0] = 0;
    if (X509_digest(cert, EVP_sha256(), md, &ml) == 1 && ml == 32)
        codec_hex_encode(md, 32, out, 65);
}

int amd_chain_same_cert(X509 *a, X509 *b)
{
    return a && b && X509_cmp(a, b) == 0;
}

amd_chain_err amd_chain_verify_crl(X509_CRL *crl, X509 *issuer)
{
    if (!crl || !issuer)
        return AMD_CHAIN_ERR_FORMAT;
    const X509_ALGOR *alg = NULL;
    X509_CRL_get0_signature(crl, NULL, &alg);
    if (!alg || !pss_alg_ok(alg))
        return AMD_CHAIN_ERR_SIGALG;
    EVP_PKEY *k = X509_get0_pubkey(issuer);
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) < 2048)
        return AMD_CHAIN_ERR_KEY;
    if (X509_CRL_verify(crl, k) != 1)
        return AMD_CHAIN_ERR_SIGNATURE;
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
        return AMD_CHAIN_ERR_ISSUER;
    return AMD_CHAIN_OK;
}

int amd_chain_crl_revokes(X509_CRL *crl, X509 *cert)
{
    X509_REVOKED *rev = NULL;
    if (!crl || !cert || X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) != 0)
        return 0;
    return X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1;
}

X509_CRL *amd_chain_load_crl(const uint8_t *buf, size_t len)
{
    X509_CRL *c = NULL;
    if (len > 0x7fffffff)
        return NULL;
    if (len >= 11 && memmem(buf, len, "-----BEGIN", 10)) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        c = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *p = buf;
        c = d2i_X509_CRL(NULL, &p, (long)len);
        if (c && p != buf + len) {
            X509_CRL_free(c);
            c = NULL;
        }
    }
    return c;
}
