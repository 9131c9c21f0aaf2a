/* Unit tests for common/gcp_vtpm_roots: the pinned certificates are byte-identical to Google's
 * published ones in ../shared/testdata. */
#include "test.h"
#include "common/gcp_vtpm_roots.h"
#include "common/codec.h"
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CA_DIR "../shared/testdata/gcp-vtpm-ak-ca/ca/"

TEST(pinned_cas_equal_googles_published_files)
{
    static const char *files[] = {"gcp_ek_ak_ca_root.crt", "gcp_ek_ak_ca_intermediate_v3.crt", "tpm_ek_root_1.cer",
                                  "tpm_ek_intermediate_2.crt", "tpm_ek_intermediate_3.crt"};
    CHECK(gcp_vtpm_ca_count() == 5);
    for (size_t i = 0; i < gcp_vtpm_ca_count(); i++) {
        const struct gcp_vtpm_ca *ca = gcp_vtpm_ca_at(i);
        X509 *x = gcp_vtpm_ca_load(ca);
        CHECK(x != NULL);
        unsigned char *der = NULL;
        int dl = x ? i2d_X509(x, &der) : -1;
        uint8_t md[32];
        char hex[65];
        EVP_Digest(der, (size_t)dl, md, NULL, EVP_sha256(), NULL);
        codec_hex_encode(md, 32, hex, sizeof hex);
        CHECK_STR(hex, ca->sha256);
        char path[256];
        snprintf(path, sizeof path, CA_DIR "%s", files[i]);
        size_t fl = 0;
        unsigned char *f = test_read_file(path, &fl);
        CHECK(f && (int)fl == dl && memcmp(f, der, fl) == 0);
        CHECK(ca->is_root == (X509_check_issued(x, x) == X509_V_OK));
        free(f);
        OPENSSL_free(der);
        X509_free(x);
    }
    CHECK(gcp_vtpm_ca_at(gcp_vtpm_ca_count()) == NULL);
}

int main(void)
{
    RUN(pinned_cas_equal_googles_published_files);
    return test_done();
}
