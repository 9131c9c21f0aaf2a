/* Unit tests for login/state_seal that need no device: mode "none" seals nothing, and a TPM seal
 * (on a device that is not there) refuses every blob it did not make before any device use: not
 * v1, sealed by SNP, key material longer than the blob. The TPM and SNP backends are covered
 * whole-binary (tests/login/test_state_sealed*.py). */
#include "test.h"
#include "login/state_seal.h"

TEST(seal_refuses_what_it_did_not_make)
{
    struct state_seal *s = state_seal_new("none", NULL, NULL, 0);
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK(s && state_seal_scope(s) == NULL);
    CHECK(state_seal_wrap(s, (const uint8_t *)"x", 1, &out, &n) == SSEAL_ERR_UNAVAILABLE && !out);
    state_seal_free(s);
    /* a TPM kind on a device that is not there: every blob is refused before any device use */
    s = state_seal_new("tpm", "/nonexistent-tpm", NULL, 0x10);
    CHECK(s && !strcmp(state_seal_scope(s), "sealed-vtpm"));
    static const uint8_t junk[64] = "SLSEAL02";
    CHECK(state_seal_unwrap(s, junk, sizeof junk, &out, &n) == SSEAL_ERR_FORMAT);
    uint8_t snp[64] = "SLSEAL01";
    snp[8] = 2;   /* sealed by SNP: not ours */
    CHECK(state_seal_unwrap(s, snp, sizeof snp, &out, &n) == SSEAL_ERR_KEY);
    uint8_t trunc[30] = "SLSEAL01";
    trunc[8] = 1;
    trunc[23] = 200;   /* keymat longer than the blob */
    CHECK(state_seal_unwrap(s, trunc, sizeof trunc, &out, &n) == SSEAL_ERR_FORMAT);
    state_seal_free(s);
}

int main(void)
{
    RUN(seal_refuses_what_it_did_not_make);
    return test_done();
}
