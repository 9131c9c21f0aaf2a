/* Unit tests for common/amd_roots and verify/amd_chain: the pinned certificates are AMD's (DER
 * SHA-256 as in ../shared/testdata/amd-kds-cert-chains/PROVENANCE.md), every chain link verifies
 * with RSA-PSS SHA-384 salt 48, every cross-product link fails, VCEK extensions read as KDS wrote
 * them (Milan and Turin), and a non-PSS signature is refused. */
#include "test.h"
#include "common/amd_roots.h"
#include "verify/amd_chain.h"
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

static X509 *der_file(const char *path)
{
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    X509 *x = NULL;
    if (b)
        amd_chain_load_certs(b, n, &x, 1);
    free(b);
    return x;
}

TEST(pinned_roots_are_amds)
{
    static const struct { snp_product p; const char *ark, *ask, *asvk; } want[] = {
        {SNP_PRODUCT_MILAN, "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
         "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
         "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"},
        {SNP_PRODUCT_GENOA, "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
         "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
         "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"},
        {SNP_PRODUCT_TURIN, "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
         "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
         "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"},
    };
    for (size_t i = 0; i < 3; i++) {
        const struct amd_roots *r = amd_roots_for(want[i].p);
        CHECK(r != NULL);
        if (!r)
            continue;
        X509 *ark = amd_roots_load(r->ark_pem), *ask = amd_roots_load(r->ask_pem), *asvk = amd_roots_load(r->asvk_pem);
        char fp[65];
        amd_chain_fingerprint(ark, fp);
        CHECK_STR(fp, want[i].ark);
        CHECK_STR(r->ark_sha256, want[i].ark);
        amd_chain_fingerprint(ask, fp);
        CHECK_STR(fp, want[i].ask);
        amd_chain_fingerprint(asvk, fp);
        CHECK_STR(fp, want[i].asvk);
        CHECK(amd_chain_verify_link(ark, ark) == AMD_CHAIN_OK);
        CHECK(amd_chain_verify_link(ask, ark) == AMD_CHAIN_OK);
        CHECK(amd_chain_verify_link(asvk, ark) == AMD_CHAIN_OK);
        CHECK(amd_chain_verify_link(ark, ask) != AMD_CHAIN_OK);
        X509_free(ark);
        X509_free(ask);
        X509_free(asvk);
    }
    CHECK(amd_roots_for(SNP_PRODUCT_UNKNOWN) == NULL);
}

TEST(cross_product_links_fail)
{
    snp_product ps[3] = {SNP_PRODUCT_MILAN, SNP_PRODUCT_GENOA, SNP_PRODUCT_TURIN};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            if (a == b)
                continue;
            X509 *ask = amd_roots_load(amd_roots_for(ps[a])->ask_pem);
            X509 *asvk = amd_roots_load(amd_roots_for(ps[a])->asvk_pem);
            X509 *ark = amd_roots_load(amd_roots_for(ps[b])->ark_pem);
            CHECK(amd_chain_verify_link(ask, ark) == AMD_CHAIN_ERR_SIGNATURE);
            CHECK(amd_chain_verify_link(asvk, ark) == AMD_CHAIN_ERR_SIGNATURE);
            X509_free(ask);
            X509_free(asvk);
            X509_free(ark);
        }
}

TEST(vceks_chain_only_to_their_product)
{
    X509 *milan = der_file(TESTDATA("snp-reports-go-sev-guest/vcek.der"));
    X509 *milan2 = der_file(TESTDATA("snp-reports-virtee-sev/vcek_milan.der"));
    X509 *turin = der_file(TESTDATA("snp-reports-virtee-sev/vcek_turin.der"));
    X509 *m_ask = amd_roots_load(amd_roots_for(SNP_PRODUCT_MILAN)->ask_pem);
    X509 *m_asvk = amd_roots_load(amd_roots_for(SNP_PRODUCT_MILAN)->asvk_pem);
    X509 *g_ask = amd_roots_load(amd_roots_for(SNP_PRODUCT_GENOA)->ask_pem);
    X509 *t_ask = amd_roots_load(amd_roots_for(SNP_PRODUCT_TURIN)->ask_pem);
    CHECK(milan && milan2 && turin);
    CHECK(amd_chain_verify_link(milan, m_ask) == AMD_CHAIN_OK);
    CHECK(amd_chain_verify_link(milan2, m_ask) == AMD_CHAIN_OK);
    CHECK(amd_chain_verify_link(turin, t_ask) == AMD_CHAIN_OK);
    CHECK(amd_chain_verify_link(milan, g_ask) == AMD_CHAIN_ERR_SIGNATURE);
    CHECK(amd_chain_verify_link(milan, m_asvk) == AMD_CHAIN_ERR_SIGNATURE);
    CHECK(amd_chain_verify_link(milan, t_ask) == AMD_CHAIN_ERR_SIGNATURE);
    CHECK(amd_chain_verify_link(turin, m_ask) == AMD_CHAIN_ERR_SIGNATURE);
    CHECK(amd_chain_verify_link(turin, g_ask) == AMD_CHAIN_ERR_SIGNATURE);
    /* validity: the go-sev-guest VCEK is valid 2022-09-24 .. 2029-09-24 */
    CHECK(amd_chain_valid_at(milan, 1700000000));
    CHECK(!amd_chain_valid_at(milan, 1893456000));   /* 2030-01-01 */
    CHECK(!amd_chain_valid_at(milan, 1600000000));   /* 2020 */
    /* a flipped byte inside the signed part breaks the link (virtee's milan_chain_invalid) */
    size_t n;
    uint8_t *b = test_read_file(TESTDATA("snp-reports-virtee-sev/vcek_milan.der"), &n);
    CHECK(b != NULL);
    if (b) {
        b[40] ^= 0x01;
        X509 *bad = NULL;
        if (amd_chain_load_certs(b, n, &bad, 1) == 1)
            CHECK(amd_chain_verify_link(bad, m_ask) != AMD_CHAIN_OK);
        X509_free(bad);
        free(b);
    }
    X509_free(milan);
    X509_free(milan2);
    X509_free(turin);
    X509_free(m_ask);
    X509_free(m_asvk);
    X509_free(g_ask);
    X509_free(t_ask);
}

TEST(vek_extensions_milan_and_turin)
{
    X509 *milan = der_file(TESTDATA("snp-reports-go-sev-guest/vcek.der"));
    X509 *turin = der_file(TESTDATA("snp-reports-virtee-sev/vcek_turin.der"));
    struct vek_info v;
    CHECK(milan && amd_chain_vek_info(milan, &v) == AMD_CHAIN_OK);
    CHECK_STR(v.product, "Milan-B0");
    CHECK(v.has_bl && v.bl == 2 && v.has_tee && v.tee == 0 && v.has_snp && v.snp == 5 && v.has_ucode && v.ucode == 68);
    CHECK(!v.has_fmc && !v.has_csp_id);
    CHECK(v.has_hwid && v.hwid_len == 64 && v.hwid[0] == 0x3a && v.hwid[63] == 0x5d);
    CHECK_STR(v.subject_cn, "SEV-VCEK");
    CHECK_STR(v.issuer_cn, "SEV-Milan");
    CHECK(turin && amd_chain_vek_info(turin, &v) == AMD_CHAIN_OK);
    CHECK_STR(v.product, "Turin");
    CHECK(v.has_fmc && v.fmc == 0 && v.bl == 0 && v.tee == 0 && v.snp == 0 && v.ucode == 9);
    static const uint8_t hw[8] = {0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d};
    CHECK(v.has_hwid && v.hwid_len == 8 && !memcmp(v.hwid, hw, 8));
    CHECK_STR(v.issuer_cn, "SEV-Turin");
    X509_free(milan);
    X509_free(turin);
}

TEST(non_pss_signature_is_refused)
{
    /* a self-signed RSA certificate with PKCS#1 v1.5 SHA-384: valid, but not AMD's scheme */
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"ARK-Milan", -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    CHECK(X509_sign(x, k, EVP_sha384()) > 0);
    CHECK(X509_verify(x, k) == 1);
    CHECK(amd_chain_verify_link(x, x) == AMD_CHAIN_ERR_SIGALG);
    /* PSS with the wrong salt length is refused too */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    CHECK(EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, k) == 1);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384());
    CHECK(X509_sign_ctx(x, m) > 0);
    CHECK(amd_chain_verify_link(x, x) == AMD_CHAIN_ERR_SIGALG);
    /* and with salt 48 it is accepted */
    EVP_MD_CTX_reset(m);
    pc = NULL;
    CHECK(EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, k) == 1);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384());
    CHECK(X509_sign_ctx(x, m) > 0);
    CHECK(amd_chain_verify_link(x, x) == AMD_CHAIN_OK);
    EVP_MD_CTX_free(m);
    X509_NAME_free(n);
    X509_free(x);
    EVP_PKEY_free(k);
}

TEST(load_certs_pem_bundle_and_der)
{
    size_t n;
    uint8_t *b = test_read_file(TESTDATA("amd-kds-cert-chains/milan_ask_ark_asvk_trustee.pem"), &n);
    X509 *xs[4] = {0};
    CHECK(b && amd_chain_load_certs(b, n, xs, 4) == 3);
    char cn[64];
    amd_chain_cn(X509_get_subject_name(xs[2]), cn, sizeof cn);
    CHECK_STR(cn, "SEV-VLEK-Milan");
    for (int i = 0; i < 4; i++)
        X509_free(xs[i]);
    CHECK(amd_chain_load_certs((const uint8_t *)"garbage", 7, xs, 4) == -1);
    free(b);
}

int main(void)
{
    RUN(pinned_roots_are_amds);
    RUN(cross_product_links_fail);
    RUN(vceks_chain_only_to_their_product);
    RUN(vek_extensions_milan_and_turin);
    RUN(non_pss_signature_is_refused);
    RUN(load_certs_pem_bundle_and_der);
    return test_done();
}
