/* Unit tests for verify/tpm_attest: TPMS_ATTEST (quote) and TPMT_SIGNATURE decoding, every
 * truncation, trailing bytes, caps, wrong magic and type. */
#include "test.h"
#include "verify/tpm_attest.h"

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
    struct tpm_quote t;
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_OK);
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
    struct tpm_quote t;
    for (size_t l = 0; l < n; l++) {
        tpm_attest_err e = tpm_attest_parse_quote(q, l, &t);
        CHECK(e == TPM_ATTEST_ERR_TRUNCATED);
        if (e != TPM_ATTEST_ERR_TRUNCATED)
            fprintf(stderr, "  length %zu gave %d\n", l, e);
    }
    q[n] = 0;
    CHECK(tpm_attest_parse_quote(q, n + 1, &t) == TPM_ATTEST_ERR_TRAILING);
}

TEST(quote_rejects_bad_magic_type_and_caps)
{
    uint8_t q[128];
    size_t n = quote(q);
    struct tpm_quote t;
    q[0] = 0xfe;
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_ERR_MAGIC);
    n = quote(q);
    q[5] = 0x17;   /* TPM_ST_ATTEST_CERTIFY */
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_ERR_TYPE);
    n = quote(q);
    q[45] = 9;     /* selection count above the cap */
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_ERR_SIZE);
    n = quote(q);
    q[48] = 5;     /* sizeofSelect above PCR_SELECT_MAX */
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_ERR_SIZE);
    n = quote(q);
    q[12] = 0x01;  /* extraData of 259 bytes: above the cap */
    CHECK(tpm_attest_parse_quote(q, n, &t) == TPM_ATTEST_ERR_SIZE);
    CHECK(tpm_attest_parse_quote(NULL, 0, &t) == TPM_ATTEST_ERR_TRUNCATED);
}

TEST(signatures)
{
    static const uint8_t ecdsa[] = {0x00, 0x18, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 0x03};
    static const uint8_t rsa[] = {0x00, 0x14, 0x00, 0x0b, 0x00, 0x03, 9, 9, 9};
    static const uint8_t hmac[] = {0x00, 0x05, 0x00, 0x0b};
    struct tpm_signature s;
    CHECK(tpm_attest_parse_signature(ecdsa, sizeof ecdsa, &s) == TPM_ATTEST_OK);
    CHECK(s.sig_alg == TPM_ALG_ECDSA && s.hash_alg == 0x000b && s.r_len == 2 && s.s_len == 1 && s.s[0] == 3);
    for (size_t l = 0; l < sizeof ecdsa; l++)
        CHECK(tpm_attest_parse_signature(ecdsa, l, &s) == TPM_ATTEST_ERR_TRUNCATED);
    CHECK(tpm_attest_parse_signature(rsa, sizeof rsa, &s) == TPM_ATTEST_OK && s.rsa_len == 3);
    CHECK(tpm_attest_parse_signature(hmac, sizeof hmac, &s) == TPM_ATTEST_ERR_ALG);
    uint8_t trail[sizeof rsa + 1];
    memcpy(trail, rsa, sizeof rsa);
    trail[sizeof rsa] = 0;
    CHECK(tpm_attest_parse_signature(trail, sizeof trail, &s) == TPM_ATTEST_ERR_TRAILING);
    CHECK_STR(tpm_attest_sig_alg_name(TPM_ALG_RSAPSS), "RSAPSS");
}

int main(void)
{
    RUN(quote_fields);
    RUN(quote_every_truncation_fails);
    RUN(quote_rejects_bad_magic_type_and_caps);
    RUN(signatures);
    return test_done();
}
