/* Unit tests for attest/tpm2_wire.c (the parts that need no TPM): the AK template bytes,
 * response-code classification and transport specs. The structures are common/tpm2_struct's
 * (tests/unit/common/test_tpm2_struct.c); the command layer is exercised against swtpm in
 * tests/attest/test_tpm2.py. */
#include "test.h"
#include "login/attest/tpm2_wire.h"

TEST(ak_template_is_the_documented_bytes)
{
    uint8_t t[64];
    size_t n = tpm2w_ak_template_ecc_p256(t, sizeof t);
    static const uint8_t want[] = { 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10,
                                    0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00 };
    CHECK(n == sizeof want && memcmp(t, want, n) == 0);
    CHECK(tpm2w_ak_template_ecc_p256(t, 10) == 0);
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
    RUN(response_codes);
    RUN(open_rejects_bad_specs);
    return test_done();
}
