/* Unit tests for attest/tpm2_wire.c's structures (the parts that need no TPM): the AK template
 * bytes, TPMS_ATTEST parsing (every truncation and trailing byte rejected), TPMT_PUBLIC ->
 * EVP_PKEY, TPMT_SIGNATURE checks for ECDSA and RSASSA, and response-code classification. The
 * command layer is exercised against swtpm in tests/attest/test_tpm2.py. */
#include "test.h"
#include "login/attest/tpm2_wire.h"
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

static size_t put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return 2; }
static size_t put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); return 4; }

TEST(ak_template_is_the_documented_bytes)
{
    uint8_t t[64];
    size_t n = tpm2w_ak_template_ecc_p256(t, sizeof t);
    static const uint8_t want[] = { 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10,
                                    0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00 };
    CHECK(n == sizeof want && memcmp(t, want, n) == 0);
    CHECK(tpm2w_ak_template_ecc_p256(t, 10) == 0);
}

/* A quote over sha256 PCRs 0-15 with the given extraData. */
static size_t make_quote(uint8_t *q, const uint8_t extra[32])
{
    size_t o = 0;
    o += put32(q + o, TPM2W_GENERATED_VALUE);
    o += put16(q + o, TPM2W_ST_ATTEST_QUOTE);
    o += put16(q + o, 34);                                  /* qualifiedSigner: nameAlg + digest */
    o += put16(q + o, TPM2W_ALG_SHA256);
    memset(q + o, 0xAB, 32); o += 32;
    o += put16(q + o, 32);
    memcpy(q + o, extra, 32); o += 32;
    memset(q + o, 0, 8); q[o + 7] = 9; o += 8;              /* clock */
    o += put32(q + o, 2); o += put32(q + o, 0); q[o++] = 1; /* reset, restart, safe */
    memset(q + o, 0x11, 8); o += 8;                         /* firmwareVersion */
    o += put32(q + o, 1);
    o += put16(q + o, TPM2W_ALG_SHA256);
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
    struct tpm2w_quote_info qi;
    CHECK(tpm2w_parse_quote(q, n, &qi) == TPM2W_OK);
    CHECK(qi.extra_len == 32 && memcmp(qi.extra, extra, 32) == 0);
    CHECK(qi.pcr_hash == TPM2W_ALG_SHA256 && qi.pcr_mask == 0xFFFF && qi.pcr_digest_len == 32);
    CHECK(qi.clock == 9 && qi.reset_count == 2 && qi.safe == 1);
    for (size_t l = 0; l < n; l++)
        CHECK(tpm2w_parse_quote(q, l, &qi) != TPM2W_OK);
    q[n] = 0;
    CHECK(tpm2w_parse_quote(q, n + 1, &qi) != TPM2W_OK);    /* trailing byte */
    q[5] = 0x17;                                           /* TPM_ST_ATTEST_CERTIFY, not a quote */
    CHECK(tpm2w_parse_quote(q, n, &qi) != TPM2W_OK);
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
    o = tpm2w_ak_template_ecc_p256(p, 64) - 4;
    o += put16(p + o, 32); memcpy(p + o, pt + 1, 32); o += 32;
    o += put16(p + o, 32); memcpy(p + o, pt + 33, 32); o += 32;
    return o;
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
    o += put16(s + o, TPM2W_ALG_ECDSA);
    o += put16(s + o, TPM2W_ALG_SHA256);
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
    CHECK(tpm2w_public_to_pkey(pub, pl, &got) == TPM2W_OK && got && EVP_PKEY_eq(k, got) == 1);
    EVP_PKEY *bad = NULL;
    CHECK(tpm2w_public_to_pkey(pub, pl - 1, &bad) != TPM2W_OK && !bad);
    pub[17] = 0x05;                                        /* curve id: not P-256/P-384 */
    CHECK(tpm2w_public_to_pkey(pub, pl, &bad) == TPM2W_ERR_INVAL && !bad);
    size_t n = make_quote(q, extra), sl = ecdsa_sig(sig, k, q, n);
    CHECK(tpm2w_verify_signature(got, q, n, sig, sl) == TPM2W_OK);
    q[40] ^= 1;
    CHECK(tpm2w_verify_signature(got, q, n, sig, sl) == TPM2W_ERR_CRYPTO);
    q[40] ^= 1;
    CHECK(tpm2w_verify_signature(got, q, n, sig, sl - 1) != TPM2W_OK);
    sig[3] = 0x0C;                                         /* claims SHA-384: digest differs */
    CHECK(tpm2w_verify_signature(got, q, n, sig, sl) == TPM2W_ERR_CRYPTO);
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
    o += put16(pub + o, TPM2W_ALG_RSA); o += put16(pub + o, TPM2W_ALG_SHA256);
    o += put32(pub + o, 0x00050072); o += put16(pub + o, 0);
    o += put16(pub + o, TPM2W_ALG_NULL);
    o += put16(pub + o, TPM2W_ALG_RSASSA); o += put16(pub + o, TPM2W_ALG_SHA256);
    o += put16(pub + o, 2048); o += put32(pub + o, 0);      /* exponent 0 = 65537 */
    o += put16(pub + o, 256); BN_bn2binpad(nb, pub + o, 256); o += 256;
    BN_free(nb);
    CHECK(tpm2w_public_to_pkey(pub, o, &got) == TPM2W_OK && EVP_PKEY_eq(k, got) == 1);
    size_t n = make_quote(q, extra), dl = 256, so = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    so += put16(sig + so, TPM2W_ALG_RSASSA); so += put16(sig + so, TPM2W_ALG_SHA256); so += put16(sig + so, 256);
    EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(m, sig + so, &dl, q, n);
    EVP_MD_CTX_free(m);
    so += dl;
    CHECK(tpm2w_verify_signature(got, q, n, sig, so) == TPM2W_OK);
    sig[so - 1] ^= 1;
    CHECK(tpm2w_verify_signature(got, q, n, sig, so) == TPM2W_ERR_CRYPTO);
    EVP_PKEY *ec = gen("EC", "P-256", 0);                   /* an RSA signature for an EC key */
    CHECK(tpm2w_verify_signature(ec, q, n, sig, so) == TPM2W_ERR_INVAL);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(k);
    EVP_PKEY_free(got);
}

TEST(response_codes)
{
    CHECK(tpm2w_rc_is_handle(0x18B));      /* TPM_RC_HANDLE + TPM_RC_1 (NV_ReadPublic, absent) */
    CHECK(tpm2w_rc_is_handle(0x28B));
    CHECK(!tpm2w_rc_is_handle(0x922));     /* TPM_RC_RETRY */
    CHECK(!tpm2w_rc_is_handle(0x101));     /* TPM_RC_FAILURE */
    CHECK(!tpm2w_rc_is_handle(0x0));
}

TEST(open_rejects_bad_specs)
{
    struct tpm2w_conn *c = NULL;
    CHECK(tpm2w_open("", &c) == TPM2W_ERR_INVAL && !c);
    CHECK(tpm2w_open("tcp:nohostport", &c) == TPM2W_ERR_IO && !c);
    CHECK(tpm2w_open("unix:/nonexistent/sock", &c) == TPM2W_ERR_IO && !c);
    CHECK(tpm2w_open("/nonexistent/tpmrm0", &c) == TPM2W_ERR_IO && !c);
}

int main(void)
{
    RUN(ak_template_is_the_documented_bytes);
    RUN(quote_parse_accepts_exactly_one_quote);
    RUN(ecc_public_area_and_ecdsa_signature);
    RUN(rsa_public_area_and_rsassa_signature);
    RUN(response_codes);
    RUN(open_rejects_bad_specs);
    return test_done();
}
