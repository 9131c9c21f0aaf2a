/* Unit tests for common/tpm2_struct: TPMS_ATTEST (quote) and TPMT_SIGNATURE decoding (every
 * truncation, trailing bytes, caps, wrong magic and type), TPMT_PUBLIC -> EVP_PKEY, and quote
 * signature checks for ECDSA and RSASSA: the code both the tpm2 provider and sealed-verify run. */
#include "test.h"
#include "common/tpm2_struct.h"
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

static size_t put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return 2; }
static size_t put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); return 4; }

static size_t quote(uint8_t *q)
{
    static const uint8_t fixed[] = {
        0xff, 0x54, 0x43, 0x47, 0x80, 0x18,           /* magic, TPM_ST_ATTEST_QUOTE */
        0x00, 0x04, 0x00, 0x0b, 0xaa, 0xbb,           /* qualifiedSigner (4 bytes) */
        0x00, 0x03, 0x01, 0x02, 0x03,                 /* extraData (3 bytes) */
        0, 0, 0, 0, 0, 0, 0x10, 0x00,                 /* clock */
        0, 0, 0, 5, 0, 0, 0, 6, 1,                    /* resetCount, restartCount, safe */
        0x20, 0x19, 0x10, 0x23, 0, 0x16, 0x36, 0x36,  /* firmwareVersion */
        0, 0, 0, 2,                                   /* two selections */
        0x00, 0x0b, 3, 0xff, 0xff, 0x00,              /* sha256 PCRs 0-15 */
        0x00, 0x04, 3, 0x01, 0x00, 0x00,              /* sha1 PCR 0 */
        0x00, 0x02, 0xde, 0xad,                       /* pcrDigest (2 bytes) */
    };
    memcpy(q, fixed, sizeof fixed);
    return sizeof fixed;
}

TEST(quote_fields)
{
    uint8_t q[128];
    size_t n = quote(q);
    struct tpm2_quote t;
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_OK);
    CHECK(t.qualified_signer_len == 4 && t.qualified_signer[3] == 0xbb);
    CHECK(t.extra_data_len == 3 && t.extra_data[2] == 3);
    CHECK(t.clock == 0x1000 && t.reset_count == 5 && t.restart_count == 6 && t.safe == 1);
    CHECK(t.firmware_version == 0x2019102300163636ull);
    CHECK(t.nsel == 2 && t.sel[0].hash == 0x000b && t.sel[0].size == 3 && t.sel[0].select[1] == 0xff);
    CHECK(t.sel[1].hash == 0x0004 && t.sel[1].select[0] == 1);
    CHECK(t.pcr_digest_len == 2 && t.pcr_digest[0] == 0xde);
}

TEST(quote_every_truncation_fails)
{
    uint8_t q[128];
    size_t n = quote(q);
    struct tpm2_quote t;
    for (size_t l = 0; l < n; l++) {
        tpm2_err e = tpm2_quote_parse(q, l, &t);
        CHECK(e == TPM2_ERR_TRUNCATED);
        if (e != TPM2_ERR_TRUNCATED)
            fprintf(stderr, "  length %zu gave %d\n", l, e);
    }
    q[n] = 0;
    CHECK(tpm2_quote_parse(q, n + 1, &t) == TPM2_ERR_TRAILING);
}

TEST(quote_rejects_bad_magic_type_and_caps)
{
    uint8_t q[128];
    size_t n = quote(q);
    struct tpm2_quote t;
    q[0] = 0xfe;
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_ERR_MAGIC);
    n = quote(q);
    q[5] = 0x17;   /* TPM_ST_ATTEST_CERTIFY */
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_ERR_TYPE);
    n = quote(q);
    q[45] = 9;     /* selection count above the cap */
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_ERR_SIZE);
    n = quote(q);
    q[48] = 5;     /* sizeofSelect above PCR_SELECT_MAX */
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_ERR_SIZE);
    n = quote(q);
    q[12] = 0x01;  /* extraData of 259 bytes: above the cap */
    CHECK(tpm2_quote_parse(q, n, &t) == TPM2_ERR_SIZE);
    CHECK(tpm2_quote_parse(NULL, 0, &t) == TPM2_ERR_TRUNCATED);
}

TEST(signatures)
{
    static const uint8_t ecdsa[] = {0x00, 0x18, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 0x03};
    static const uint8_t rsa[] = {0x00, 0x14, 0x00, 0x0b, 0x00, 0x03, 9, 9, 9};
    static const uint8_t hmac[] = {0x00, 0x05, 0x00, 0x0b};
    struct tpm2_signature s;
    CHECK(tpm2_signature_parse(ecdsa, sizeof ecdsa, &s) == TPM2_OK);
    CHECK(s.sig_alg == TPM2_ALG_ECDSA && s.hash_alg == 0x000b && s.r_len == 2 && s.s_len == 1 && s.s[0] == 3);
    for (size_t l = 0; l < sizeof ecdsa; l++)
        CHECK(tpm2_signature_parse(ecdsa, l, &s) == TPM2_ERR_TRUNCATED);
    CHECK(tpm2_signature_parse(rsa, sizeof rsa, &s) == TPM2_OK && s.rsa_len == 3);
    CHECK(tpm2_signature_parse(hmac, sizeof hmac, &s) == TPM2_ERR_ALG);
    uint8_t trail[sizeof rsa + 1];
    memcpy(trail, rsa, sizeof rsa);
    trail[sizeof rsa] = 0;
    CHECK(tpm2_signature_parse(trail, sizeof trail, &s) == TPM2_ERR_TRAILING);
    CHECK_STR(tpm2_sig_alg_name(TPM2_ALG_RSAPSS), "RSAPSS");
}

/* A quote over sha256 PCRs 0-15 with the given extraData. */
static size_t make_quote(uint8_t *q, const uint8_t extra[32])
{
    size_t o = 0;
    o += put32(q + o, TPM2_GENERATED_VALUE);
    o += put16(q + o, TPM2_ST_ATTEST_QUOTE);
    o += put16(q + o, 34);                                  /* qualifiedSigner: nameAlg + digest */
    o += put16(q + o, TPM2_ALG_SHA256);
    memset(q + o, 0xAB, 32); o += 32;
    o += put16(q + o, 32);
    memcpy(q + o, extra, 32); o += 32;
    memset(q + o, 0, 8); q[o + 7] = 9; o += 8;              /* clock */
    o += put32(q + o, 2); o += put32(q + o, 0); q[o++] = 1; /* reset, restart, safe */
    memset(q + o, 0x11, 8); o += 8;                         /* firmwareVersion */
    o += put32(q + o, 1);
    o += put16(q + o, TPM2_ALG_SHA256);
    q[o++] = 3; q[o++] = 0xff; q[o++] = 0xff; q[o++] = 0;
    o += put16(q + o, 32);
    memset(q + o, 0xCD, 32); o += 32;
    return o;
}

TEST(quote_parse_accepts_exactly_one_quote)
{
    uint8_t q[256], extra[32];
    memset(extra, 0x5A, 32);
    size_t n = make_quote(q, extra);
    struct tpm2_quote qi;
    CHECK(tpm2_quote_parse(q, n, &qi) == TPM2_OK);
    CHECK(qi.extra_data_len == 32 && memcmp(qi.extra_data, extra, 32) == 0);
    CHECK(qi.nsel == 1 && qi.sel[0].hash == TPM2_ALG_SHA256 && tpm2_pcr_selection_mask(&qi.sel[0]) == 0xFFFF &&
          qi.pcr_digest_len == 32);
    CHECK(qi.clock == 9 && qi.reset_count == 2 && qi.safe == 1);
    for (size_t l = 0; l < n; l++)
        CHECK(tpm2_quote_parse(q, l, &qi) != TPM2_OK);
    q[n] = 0;
    CHECK(tpm2_quote_parse(q, n + 1, &qi) == TPM2_ERR_TRAILING);    /* trailing byte */
    q[5] = 0x17;                                           /* TPM_ST_ATTEST_CERTIFY, not a quote */
    CHECK(tpm2_quote_parse(q, n, &qi) == TPM2_ERR_TYPE);
}

static EVP_PKEY *gen(const char *type, const char *curve, unsigned bits)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (c && EVP_PKEY_keygen_init(c) > 0 &&
        (curve ? EVP_PKEY_CTX_set_group_name(c, curve) : EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits)) > 0)
        EVP_PKEY_keygen(c, &k);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* TPMT_PUBLIC for an ECC P-256 restricted ECDSA key with k's public point. */
static size_t ecc_public(uint8_t *p, EVP_PKEY *k)
{
    uint8_t pt[65];
    size_t pl = 0, o = 0;
    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt, &pl);
    /* the service's AK template (login/attest/tpm2_wire) without its empty unique point */
    static const uint8_t tmpl[] = { 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10,
                                    0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10 };
    memcpy(p, tmpl, sizeof tmpl);
    o = sizeof tmpl;
    o += put16(p + o, 32); memcpy(p + o, pt + 1, 32); o += 32;
    o += put16(p + o, 32); memcpy(p + o, pt + 33, 32); o += 32;
    return o;
}

/* Parses a marshalled TPMT_SIGNATURE and checks it over msg, as both callers do. */
static tpm2_err check_sig(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sl)
{
    struct tpm2_signature s;
    tpm2_err e = tpm2_signature_parse(sig, sl, &s);
    return e ? e : tpm2_signature_verify(k, &s, msg, len);
}

/* ECDSA TPMT_SIGNATURE over msg. */
static size_t ecdsa_sig(uint8_t *s, EVP_PKEY *k, const uint8_t *msg, size_t len)
{
    unsigned char der[80];
    size_t dl = sizeof der, o = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(m, der, &dl, msg, len);
    EVP_MD_CTX_free(m);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    o += put16(s + o, TPM2_ALG_ECDSA);
    o += put16(s + o, TPM2_ALG_SHA256);
    o += put16(s + o, 32); BN_bn2binpad(ECDSA_SIG_get0_r(sig), s + o, 32); o += 32;
    o += put16(s + o, 32); BN_bn2binpad(ECDSA_SIG_get0_s(sig), s + o, 32); o += 32;
    ECDSA_SIG_free(sig);
    return o;
}

TEST(ecc_public_area_and_ecdsa_signature)
{
    EVP_PKEY *k = gen("EC", "P-256", 0), *got = NULL;
    uint8_t pub[256], q[256], sig[128], extra[32] = { 1 };
    CHECK(k != NULL);
    size_t pl = ecc_public(pub, k);
    CHECK(tpm2_public_to_pkey(pub, pl, &got) == TPM2_OK && got && EVP_PKEY_eq(k, got) == 1);
    EVP_PKEY *bad = NULL;
    CHECK(tpm2_public_to_pkey(pub, pl - 1, &bad) != TPM2_OK && !bad);
    pub[17] = 0x05;                                        /* curve id: not P-256/P-384 */
    CHECK(tpm2_public_to_pkey(pub, pl, &bad) == TPM2_ERR_ALG && !bad);
    size_t n = make_quote(q, extra), sl = ecdsa_sig(sig, k, q, n);
    CHECK(check_sig(got, q, n, sig, sl) == TPM2_OK);
    q[40] ^= 1;
    CHECK(check_sig(got, q, n, sig, sl) == TPM2_ERR_SIGNATURE);
    q[40] ^= 1;
    CHECK(check_sig(got, q, n, sig, sl - 1) != TPM2_OK);
    sig[3] = 0x0C;                                         /* claims SHA-384: digest differs */
    CHECK(check_sig(got, q, n, sig, sl) == TPM2_ERR_SIGNATURE);
    EVP_PKEY_free(k);
    EVP_PKEY_free(got);
}

TEST(rsa_public_area_and_rsassa_signature)
{
    EVP_PKEY *k = gen("RSA", NULL, 2048), *got = NULL;
    uint8_t pub[512], q[256], sig[512], extra[32] = { 2 };
    BIGNUM *nb = NULL;
    CHECK(k && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &nb));
    size_t o = 0;
    o += put16(pub + o, TPM2_ALG_RSA); o += put16(pub + o, TPM2_ALG_SHA256);
    o += put32(pub + o, 0x00050072); o += put16(pub + o, 0);
    o += put16(pub + o, TPM2_ALG_NULL);
    o += put16(pub + o, TPM2_ALG_RSASSA); o += put16(pub + o, TPM2_ALG_SHA256);
    o += put16(pub + o, 2048); o += put32(pub + o, 0);      /* exponent 0 = 65537 */
    o += put16(pub + o, 256); BN_bn2binpad(nb, pub + o, 256); o += 256;
    BN_free(nb);
    CHECK(tpm2_public_to_pkey(pub, o, &got) == TPM2_OK && EVP_PKEY_eq(k, got) == 1);
    size_t n = make_quote(q, extra), dl = 256, so = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    so += put16(sig + so, TPM2_ALG_RSASSA); so += put16(sig + so, TPM2_ALG_SHA256); so += put16(sig + so, 256);
    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(m, sig + so, &dl, q, n);
    EVP_MD_CTX_free(m);
    so += dl;
    CHECK(check_sig(got, q, n, sig, so) == TPM2_OK);
    sig[so - 1] ^= 1;
    CHECK(check_sig(got, q, n, sig, so) == TPM2_ERR_SIGNATURE);
    EVP_PKEY *ec = gen("EC", "P-256", 0);                   /* an RSA signature for an EC key */
    CHECK(check_sig(ec, q, n, sig, so) == TPM2_ERR_KEY);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(k);
    EVP_PKEY_free(got);
}

int main(void)
{
    RUN(quote_fields);
    RUN(quote_every_truncation_fails);
    RUN(quote_rejects_bad_magic_type_and_caps);
    RUN(signatures);
    RUN(quote_parse_accepts_exactly_one_quote);
    RUN(ecc_public_area_and_ecdsa_signature);
    RUN(rsa_public_area_and_rsassa_signature);
    return test_done();
}
