/* jose: JWK thumbprints, ES256 raw signatures and JWS serialisation on top of OpenSSL 3 and
 * jansson. Never holds a key beyond a call. */
#include "common/jose.h"
#include "common/codec.h"
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

const char *jose_strerror(jose_err e)
{
    switch (e) {
    case JOSE_OK: return "ok";
    case JOSE_ERR_NOMEM: return "out of memory";
    case JOSE_ERR_FORMAT: return "malformed JWS or JWK";
    case JOSE_ERR_UNSUPPORTED: return "unsupported algorithm or key type";
    case JOSE_ERR_KEY: return "unusable key";
    case JOSE_ERR_SIGNATURE: return "signature does not verify";
    case JOSE_ERR_KID: return "kid is not the key's RFC 7638 thumbprint";
    case JOSE_ERR_CRYPTO: return "cryptographic library failure";
    }
    return "unknown error";
}

static const char *str_member(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

jose_err jose_jwk_thumbprint(const json_t *jwk, char out[JOSE_THUMBPRINT_LEN + 1])
{
    static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
    static const char *const rsa[] = {"e", "kty", "n", NULL};
    static const char *const okp[] = {"crv", "kty", "x", NULL};
    const char *kty = str_member(jwk, "kty");
    const char *const *members = NULL;
    if (!kty)
        return JOSE_ERR_FORMAT;
    if (!strcmp(kty, "EC")) members = ec;
    else if (!strcmp(kty, "RSA")) members = rsa;
    else if (!strcmp(kty, "OKP")) members = okp;
    else return JOSE_ERR_UNSUPPORTED;
    /* Required members only, lexicographic order, no whitespace (RFC 7638 §3.2). jansson's
     * JSON_SORT_KEYS|JSON_COMPACT gives exactly that serialisation for string members. */
    json_t *canon = json_object();
    if (!canon)
        return JOSE_ERR_NOMEM;
    for (int i = 0; members[i]; i++) {
        const char *v = str_member(jwk, members[i]);
        if (!v) {
            json_decref(canon);
            return JOSE_ERR_FORMAT;
        }
        json_object_set_new(canon, members[i], json_string(v));
    }
    char *s = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(canon);
    if (!s)
        return JOSE_ERR_NOMEM;
    uint8_t h[32];
    unsigned int hl = 0;
    int ok = EVP_Digest(s, strlen(s), h, &hl, EVP_sha256(), NULL);
    free(s);
    if (!ok)
        return JOSE_ERR_CRYPTO;
    codec_b64url_encode(h, 32, out, JOSE_THUMBPRINT_LEN + 1);
    return JOSE_OK;
}

json_t *jose_jwk_from_pkey(EVP_PKEY *key)
{
    char curve[32];
    size_t cl = 0;
    uint8_t pub[65];
    size_t pl = 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &cl) ||
        strcmp(curve, "prime256v1") != 0 ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof pub, &pl) ||
        pl != 65 || pub[0] != 4)
        return NULL;
    char x[CODEC_B64URL_LEN(32)], y[CODEC_B64URL_LEN(32)];
    codec_b64url_encode(pub + 1, 32, x, sizeof x);
    codec_b64url_encode(pub + 33, 32, y, sizeof y);
    return json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y);
}

EVP_PKEY *jose_pkey_from_jwk(const json_t *jwk, jose_err *err)
{
    jose_err e = JOSE_ERR_FORMAT;
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    const char *kty = str_member(jwk, "kty"), *crv = str_member(jwk, "crv");
    const char *x = str_member(jwk, "x"), *y = str_member(jwk, "y");
    uint8_t pub[65];
    if (!kty || !crv || !x || !y)
        goto out;
    e = JOSE_ERR_UNSUPPORTED;
    if (strcmp(kty, "EC") || strcmp(crv, "P-256"))
        goto out;
    e = JOSE_ERR_FORMAT;
    pub[0] = 4;
    if (codec_b64url_decode(x, strlen(x), pub + 1, 32) != 32 ||
        codec_b64url_decode(y, strlen(y), pub + 33, 32) != 32)
        goto out;
    e = JOSE_ERR_KEY;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    /* fromdata checks the point is on the curve. */
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto out;
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!ctx || EVP_PKEY_public_check(ctx) <= 0) {
        EVP_PKEY_free(key);
        key = NULL;
        goto out;
    }
    e = JOSE_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    if (err)
        *err = e;
    return key;
}

EVP_PKEY *jose_rsa_pkey_from_jwk(const json_t *jwk, jose_err *err)
{
    jose_err e = JOSE_ERR_FORMAT;
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *ebn = NULL;
    uint8_t nb[JOSE_RSA_MAX_BITS / 8 + 1], eb[8];
    const char *kty = str_member(jwk, "kty"), *ns = str_member(jwk, "n"), *es = str_member(jwk, "e");
    size_t nl, el;
    if (!kty)
        goto out;
    e = JOSE_ERR_UNSUPPORTED;
    if (strcmp(kty, "RSA"))
        goto out;
    e = JOSE_ERR_KEY;
    if (json_object_get(jwk, "d"))
        goto out;   /* a private key is never what a JWKS should publish */
    e = JOSE_ERR_FORMAT;
    if (!ns || !es || (nl = codec_b64url_decode(ns, strlen(ns), nb, sizeof nb)) == (size_t)-1 ||
        (el = codec_b64url_decode(es, strlen(es), eb, sizeof eb)) == (size_t)-1 || nl == 0 || el == 0 ||
        nb[0] == 0 || eb[0] == 0)   /* RFC 7518 §6.3.1: minimal big-endian, no leading zero */
        goto out;
    e = JOSE_ERR_KEY;
    if (!(n = BN_bin2bn(nb, (int)nl, NULL)) || !(ebn = BN_bin2bn(eb, (int)el, NULL)))
        goto nomem;
    if (BN_num_bits(n) < JOSE_RSA_MIN_BITS || BN_num_bits(n) > JOSE_RSA_MAX_BITS || BN_num_bits(ebn) > 32 ||
        !BN_is_odd(ebn) || BN_is_one(ebn) || !BN_is_odd(n))
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ebn) || !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto nomem;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        key = NULL;
        goto out;
    }
    e = JOSE_OK;
    goto out;
nomem:
    e = JOSE_ERR_NOMEM;
out:
    BN_free(n);
    BN_free(ebn);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    if (err)
        *err = e;
    return key;
}

jose_err jose_rs256_verify(EVP_PKEY *key, const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen)
{
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return JOSE_ERR_KEY;
    if (siglen != (size_t)EVP_PKEY_get_size(key))
        return JOSE_ERR_SIGNATURE;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return JOSE_ERR_NOMEM;
    jose_err e = JOSE_ERR_SIGNATURE;
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) > 0 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
        EVP_DigestVerify(md, sig, siglen, data, len) == 1)
        e = JOSE_OK;
    EVP_MD_CTX_free(md);
    return e;
}

jose_err jose_hs256_verify(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len,
                           const uint8_t *sig, size_t siglen)
{
    uint8_t mac[32];
    unsigned int ml = 0;
    if (!key || keylen == 0)
        return JOSE_ERR_KEY;
    if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, mac, &ml) || ml != 32)
        return JOSE_ERR_CRYPTO;
    jose_err e = siglen == 32 && CRYPTO_memcmp(mac, sig, 32) == 0 ? JOSE_OK : JOSE_ERR_SIGNATURE;
    OPENSSL_cleanse(mac, sizeof mac);
    return e;
}

static int is_p256(EVP_PKEY *key)
{
    char curve[32];
    size_t cl = 0;
    return key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &cl) &&
           !strcmp(curve, "prime256v1");
}

jose_err jose_es256_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t sig[JOSE_ES256_SIG_LEN])
{
    if (!is_p256(key))
        return JOSE_ERR_KEY;
    jose_err e = JOSE_ERR_CRYPTO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t dl = sizeof der;
    ECDSA_SIG *es = NULL;
    const unsigned char *p = der;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) <= 0 ||
        EVP_DigestSign(md, der, &dl, data, len) <= 0 ||
        !(es = d2i_ECDSA_SIG(NULL, &p, (long)dl)))
        goto out;
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
        goto out;
    e = JOSE_OK;
out:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return e;
}

jose_err jose_es256_verify(EVP_PKEY *key, const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen)
{
    if (!is_p256(key))
        return JOSE_ERR_KEY;
    if (siglen != JOSE_ES256_SIG_LEN)
        return JOSE_ERR_SIGNATURE;
    jose_err e = JOSE_ERR_SIGNATURE;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    int dl;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!es || !r || !s || !md || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        e = JOSE_ERR_NOMEM;
        goto out;
    }
    if ((dl = i2d_ECDSA_SIG(es, &der)) <= 0) {
        e = JOSE_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) > 0 &&
        EVP_DigestVerify(md, der, (size_t)dl, data, len) == 1)
        e = JOSE_OK;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return e;
}

/* Builds "b64url(header).b64url(payload)" and signs it; returns both parts to the caller. */
static jose_err sign_parts(EVP_PKEY *key, const json_t *hdr, const uint8_t *payload, size_t len,
                           char **input, size_t *hlen, char **sig_b64)
{
    *input = NULL;
    *sig_b64 = NULL;
    json_t *alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "ES256"))
        return JOSE_ERR_UNSUPPORTED;
    char *h = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
    if (!h)
        return JOSE_ERR_NOMEM;
    size_t hl = strlen(h);
    size_t cap = CODEC_B64URL_LEN(hl) + CODEC_B64URL_LEN(len) + 1;
    char *in = malloc(cap);
    if (!in) {
        free(h);
        return JOSE_ERR_NOMEM;
    }
    size_t a = codec_b64url_encode((const uint8_t *)h, hl, in, cap);
    free(h);
    in[a] = '.';
    size_t b = codec_b64url_encode(payload, len, in + a + 1, cap - a - 1);
    uint8_t sig[JOSE_ES256_SIG_LEN];
    jose_err e = jose_es256_sign(key, (uint8_t *)in, a + 1 + b, sig);
    if (e) {
        free(in);
        return e;
    }
    *sig_b64 = codec_b64url_encode_alloc(sig, sizeof sig);
    if (!*sig_b64) {
        free(in);
        return JOSE_ERR_NOMEM;
    }
    *input = in;
    *hlen = a;
    return JOSE_OK;
}

char *jose_jws_compact_sign(EVP_PKEY *key, const json_t *hdr, const uint8_t *payload, size_t len)
{
    char *in, *sig;
    size_t hl;
    if (sign_parts(key, hdr, payload, len, &in, &hl, &sig))
        return NULL;
    size_t il = strlen(in), sl = strlen(sig);
    char *out = malloc(il + 1 + sl + 1);
    if (out) {
        memcpy(out, in, il);
        out[il] = '.';
        memcpy(out + il + 1, sig, sl + 1);
    }
    free(in);
    free(sig);
    return out;
}

json_t *jose_jws_flat_sign(EVP_PKEY *key, const json_t *hdr, const uint8_t *payload, size_t len)
{
    char *in, *sig;
    size_t hl;
    if (sign_parts(key, hdr, payload, len, &in, &hl, &sig))
        return NULL;
    in[hl] = 0;
    json_t *o = json_pack("{s:s, s:s, s:s}", "protected", in, "payload", in + hl + 1, "signature", sig);
    free(in);
    free(sig);
    return o;
}

void jose_jws_clear(struct jose_jws *jws)
{
    json_decref(jws->header);
    free(jws->payload);
    free(jws->signing_input);
    memset(jws, 0, sizeof *jws);
}

jose_err jose_jws_parse(const char *s, size_t len, struct jose_jws *out)
{
    memset(out, 0, sizeof *out);
    if (len > JOSE_MAX_COMPACT)
        return JOSE_ERR_FORMAT;
    const char *d1 = memchr(s, '.', len);
    if (!d1)
        return JOSE_ERR_FORMAT;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - s));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - s)))
        return JOSE_ERR_FORMAT;
    size_t hl, sl = len - (size_t)(d2 + 1 - s);
    uint8_t *h = codec_b64url_decode_alloc(s, (size_t)(d1 - s), &hl);
    if (!h)
        return JOSE_ERR_FORMAT;
    json_error_t je;
    out->header = json_loadb((const char *)h, hl, JSON_REJECT_DUPLICATES, &je);
    free(h);
    if (!json_is_object(out->header))
        goto bad;
    out->payload = codec_b64url_decode_alloc(d1 + 1, (size_t)(d2 - d1 - 1), &out->payload_len);
    if (!out->payload)
        goto bad;
    out->sig_len = codec_b64url_decode(d2 + 1, sl, out->sig, sizeof out->sig);
    if (out->sig_len == (size_t)-1 || out->sig_len == 0)
        goto bad;   /* unsigned ("alg":"none") JWS are never accepted */   /* includes DER-encoded signatures, which are longer than 64 bytes */
    out->signing_input_len = (size_t)(d2 - s);
    out->signing_input = malloc(out->signing_input_len + 1);
    if (!out->signing_input) {
        jose_jws_clear(out);
        return JOSE_ERR_NOMEM;
    }
    memcpy(out->signing_input, s, out->signing_input_len);
    out->signing_input[out->signing_input_len] = 0;
    return JOSE_OK;
bad:
    jose_jws_clear(out);
    return JOSE_ERR_FORMAT;
}

jose_err jose_jws_verify_embedded(const struct jose_jws *jws, EVP_PKEY *pinned, EVP_PKEY **key_out)
{
    const char *alg = str_member(jws->header, "alg"), *kid = str_member(jws->header, "kid");
    json_t *jwk = json_object_get(jws->header, "jwk");
    if (!alg || strcmp(alg, "ES256"))
        return JOSE_ERR_UNSUPPORTED;
    if (!json_is_object(jwk) || !kid)
        return JOSE_ERR_FORMAT;
    if (json_object_get(jws->header, "crit"))
        return JOSE_ERR_UNSUPPORTED;   /* RFC 7515 §4.1.11: we understand no extension */
    if (json_object_get(jwk, "d"))
        return JOSE_ERR_KEY;    /* a private key in a header is never acceptable */
    jose_err e;
    EVP_PKEY *key = jose_pkey_from_jwk(jwk, &e);
    if (!key)
        return e;
    char tp[JOSE_THUMBPRINT_LEN + 1];
    if ((e = jose_jwk_thumbprint(jwk, tp)))
        goto out;
    if (strlen(kid) != JOSE_THUMBPRINT_LEN || CRYPTO_memcmp(kid, tp, JOSE_THUMBPRINT_LEN)) {
        e = JOSE_ERR_KID;
        goto out;
    }
    if (pinned && EVP_PKEY_eq(key, pinned) != 1) {
        e = JOSE_ERR_KEY;
        goto out;
    }
    e = jose_es256_verify(key, (const uint8_t *)jws->signing_input, jws->signing_input_len, jws->sig, jws->sig_len);
out:
    if (e == JOSE_OK && key_out)
        *key_out = key;
    else
        EVP_PKEY_free(key);
    return e;
}
