/* Unit tests for common/binding: the exact strings of evidence v1 and REPORT_DATA. */
#include "test.h"
#include "common/binding.h"
#include "common/codec.h"
#include <openssl/evp.h>

static const struct binding_input IN = {
    .client_id = "AbCdClient", .client_id_len = 10,
    .user_id = "https://www.paypal.com/webapps/auth/identity/user/xyz", .user_id_len = 53,
    .kid = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U",
    .tls_spki_sha256_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    .iat = 1700000000,
    .nonce_hex = "0123456789abcdef0123456789abcdef",
};

TEST(binding_strings_exact)
{
    size_t l;
    char *a = binding_a_string(&IN, &l);
    CHECK_STR(a, "PAYPAL_CLIENT_ID=AbCdClient|PAYPAL_USER_ID=https://www.paypal.com/webapps/auth/identity/user/xyz");
    char *b = binding_b_string(&IN, &l);
    CHECK_STR(b, "SEALED_LOGIN_V1|SIGNER_JWK_THUMBPRINT=oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
                 "|TLS_SPKI_SHA256=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                 "|IAT=1700000000|NONCE=0123456789abcdef0123456789abcdef");
    CHECK(l == strlen(b));
    free(a);
    free(b);
}

TEST(report_data_is_two_sha256)
{
    uint8_t rd[64], h[32];
    CHECK(binding_report_data(&IN, rd) == 0);
    size_t l;
    char *a = binding_a_string(&IN, &l);
    EVP_Digest(a, l, h, NULL, EVP_sha256(), NULL);
    CHECK(!memcmp(rd, h, 32));
    free(a);
    char *b = binding_b_string(&IN, &l);
    EVP_Digest(b, l, h, NULL, EVP_sha256(), NULL);
    CHECK(!memcmp(rd + 32, h, 32));
    free(b);
    /* a different user id changes only the first half */
    struct binding_input other = IN;
    other.user_id = "someone-else";
    other.user_id_len = 12;
    uint8_t rd2[64];
    CHECK(binding_report_data(&other, rd2) == 0);
    CHECK(memcmp(rd, rd2, 32) != 0 && !memcmp(rd + 32, rd2 + 32, 32));
    /* ids are bytes: an embedded NUL is kept */
    other.user_id = "ab\0cd";
    other.user_id_len = 5;
    uint8_t rd3[64];
    CHECK(binding_report_data(&other, rd3) == 0);
    other.user_id_len = 2;
    CHECK(binding_report_data(&other, rd2) == 0 && memcmp(rd2, rd3, 32) != 0);
}

TEST(report_data_rejects_malformed_fields)
{
    uint8_t rd[64];
    struct binding_input bad = IN;
    bad.tls_spki_sha256_hex = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
    CHECK(binding_report_data(&bad, rd) == -1);
    bad = IN;
    bad.nonce_hex = "0123";
    CHECK(binding_report_data(&bad, rd) == -1);
    bad = IN;
    bad.kid = "short";
    CHECK(binding_report_data(&bad, rd) == -1);
}

int main(void)
{
    RUN(binding_strings_exact);
    RUN(report_data_is_two_sha256);
    RUN(report_data_rejects_malformed_fields);
    return test_done();
}
