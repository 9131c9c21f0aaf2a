/* Unit tests for common/gce_instance_ext: the instance-identity extension of a real GCE AK
 * certificate, and malformed variants of it. */
#include "test.h"
#include "common/gce_instance_ext.h"
#include "common/codec.h"

/* The extension of ../shared/testdata/gcp-vtpm-ak-ca/ak-certs/pca_tpm_ecc_sign_cert.pem. */
static const char REAL_HEX[] =
    "306e0c0d75732d63656e7472616c312d6102051b5a475c690c1c676f6f676c652e636f6d3a7775616c652d6763702d74"
    "657374696e6702080308" "78c5bdd3d99d0c0c63732d64656275672d706361a020301ea003020100a1030101ffa2030101"
    "ffa303010100a403010100a503010100";

static size_t real(uint8_t *out)
{
    return codec_hex_decode(REAL_HEX, strlen(REAL_HEX), out, 256);
}

TEST(real_extension_parses)
{
    uint8_t b[256];
    size_t n = real(b);
    struct gce_instance_info g;
    CHECK(n == 112);
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_OK);
    CHECK_STR(g.zone, "us-central1-a");
    CHECK(g.project_number == 117478743145ull);
    CHECK_STR(g.project_id, "google.com:wuale-gcp-testing");
    CHECK(g.instance_id == 218557372616137117ull);
    CHECK_STR(g.instance_name, "cs-debug-pca");
    CHECK(g.has_security && g.security_version == 0 && g.is_production && g.tpm_data_always_encrypted);
    CHECK(!g.suspend_resume_always_disabled && !g.vmtd_always_disabled && !g.always_in_yarn);
}

TEST(every_truncation_and_trailing_byte_fails)
{
    uint8_t b[300];
    size_t n = real(b);
    struct gce_instance_info g;
    for (size_t i = 0; i < n; i++)
        CHECK(gce_instance_ext_parse(b, i, &g) != GCE_EXT_OK);
    b[n] = 0;
    CHECK(gce_instance_ext_parse(b, n + 1, &g) == GCE_EXT_ERR_DER);
}

TEST(wrong_types_and_values_fail)
{
    uint8_t b[256];
    size_t n = real(b);
    struct gce_instance_info g;
    b[2] = 0x13;                                   /* zone as PrintableString */
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_ERR_TYPE);
    CHECK(g.zone[0] == 0 && g.instance_id == 0);   /* nothing half-filled */
    n = real(b);
    b[19] = 0x9b;                                  /* project number negative */
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_ERR_RANGE);
    n = real(b);
    b[4] = 0x0a;                                   /* a control byte in the zone */
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_ERR_RANGE);
    n = real(b);
    b[0x5b] = 0x01;                                /* BOOLEAN neither 00 nor FF */
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_ERR_DER);
    n = real(b);
    b[0x57] = 0xa2;                                /* [1] written as [2]: then [2] repeats */
    CHECK(gce_instance_ext_parse(b, n, &g) == GCE_EXT_ERR_DER);
}

TEST(without_security_properties)
{
    uint8_t b[256];
    size_t n = real(b);
    struct gce_instance_info g;
    b[1] = (uint8_t)(0x6e - 0x22);                 /* drop the [0] security properties */
    CHECK(gce_instance_ext_parse(b, n - 0x22, &g) == GCE_EXT_OK);
    CHECK(!g.has_security && !g.is_production);
    CHECK_STR(g.instance_name, "cs-debug-pca");
}

int main(void)
{
    RUN(real_extension_parses);
    RUN(every_truncation_and_trailing_byte_fails);
    RUN(wrong_types_and_values_fail);
    RUN(without_security_properties);
    return test_done();
}
