/* Unit tests for the SNP policy added for go-sev-guest parity: the built-in floor chosen per
 * product and silicon line (snp_tcb_floor), component-wise comparisons, the TCB relations and floors
 * checked by snp_check_run (REPORTED <= CURRENT, COMMITTED == CURRENT or provisional, REPORTED and
 * LAUNCH floors), PLATFORM_INFO decoding, CRL verification with AMD's RSA-PSS parameters, and the
 * KDS request paths and cache layout (amd_collateral). Reports here are built in memory and left
 * unsigned: the policy steps do not depend on the signature step. */
#include "test.h"
#include "verify/snp_check.h"
#include "verify/snp_tcb_floor.h"
#include "verify/amd_chain.h"
#include "verify/amd_collateral.h"
#include <stdint.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define TD "../shared/testdata/"

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A version 3 report of the given CPUID with all four TCBs = tcb (firmware 1.55 build 4). */
static void make_report(uint8_t r[SNP_REPORT_SIZE], uint8_t fam, uint8_t mod, uint8_t step, uint64_t tcb)
{
    memset(r, 0, SNP_REPORT_SIZE);
    r[0] = 3;
    put64(r + 0x08, 0x30000);
    r[0x34] = 1;
    put64(r + 0x38, tcb);
    put64(r + 0x40, 1);
    put64(r + 0x180, tcb);
    r[0x188] = fam;
    r[0x189] = mod;
    r[0x18A] = step;
    for (int i = 0; i < 64; i++)
        r[0x1A0 + i] = (uint8_t)(0x10 + i);
    put64(r + 0x1E0, tcb);
    r[0x1E8] = 4, r[0x1E9] = 55, r[0x1EA] = 1;
    r[0x1EC] = 4, r[0x1ED] = 55, r[0x1EE] = 1;
    put64(r + 0x1F0, tcb);
}

static const char *status_of(const struct steps *st, const char *id)
{
    static const char *names[] = {"pass", "fail", "warn", "info"};
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, id))
            return names[st->v[i].status];
    return "absent";
}

static const char *text_of(const struct steps *st, const char *id)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, id))
            return st->v[i].text;
    return "";
}

static int run_policy(const struct snp_policy *pol, const uint8_t *rep, struct steps *st)
{
    struct snp_report r;
    int parsed;
    if (steps_init(st))
        return -1;
    return snp_check_run(pol, rep, SNP_REPORT_SIZE, NULL, NULL, 0, st, "report", &r, &parsed);
}

/* Milan layout raw TCB. */
static uint64_t mtcb(unsigned bl, unsigned tee, unsigned snp, unsigned uc)
{
    return (uint64_t)bl | (uint64_t)tee << 8 | (uint64_t)snp << 48 | (uint64_t)uc << 56;
}

/* Turin layout raw TCB. */
static uint64_t ttcb(unsigned fmc, unsigned bl, unsigned tee, unsigned snp, unsigned uc)
{
    return (uint64_t)fmc | (uint64_t)bl << 8 | (uint64_t)tee << 16 | (uint64_t)snp << 24 | (uint64_t)uc << 56;
}

TEST(floor_per_silicon_line)
{
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_report r;
    struct { uint8_t fam, mod, step; snp_product p; const char *line; uint8_t snp, uc; } cases[] = {
        {0x19, 0x01, 1, SNP_PRODUCT_MILAN, "Milan (B1)", 0x1D, 0xDE},
        {0x19, 0x01, 2, SNP_PRODUCT_MILAN, "Milan-X (B2)", 0x1D, 0x47},
        {0x19, 0x11, 1, SNP_PRODUCT_GENOA, "Genoa (B1)", 0x1B, 0x56},
        {0x19, 0x11, 2, SNP_PRODUCT_GENOA, "Genoa-X (B2)", 0x1B, 0x51},
        {0x19, 0xA0, 1, SNP_PRODUCT_GENOA, "Bergamo/Siena (Zen 4c)", 0x1B, 0x19},
        {0x19, 0xAF, 2, SNP_PRODUCT_GENOA, "Bergamo/Siena (Zen 4c)", 0x1B, 0x19},
        {0x1A, 0x02, 1, SNP_PRODUCT_TURIN, "Turin", 0x04, 0x51},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_report(b, cases[i].fam, cases[i].mod, cases[i].step, 0);
        CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK);
        CHECK(snp_report_product(&r) == cases[i].p);
        const struct snp_tcb_floor *f = snp_tcb_floor_for(cases[i].p, &r);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_STR(f->line, cases[i].line);
        CHECK(f->min.snp == cases[i].snp && f->min.microcode == cases[i].uc);
        CHECK(strstr(f->source, "AMD-SB-") != NULL && strstr(f->source, "20") != NULL);
    }
    /* no CPUID (version 2): the classic line, the strictest microcode floor */
    b[0] = 2;
    memset(b + 0x188, 0, 3);
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK);
    CHECK_STR(snp_tcb_floor_for(SNP_PRODUCT_MILAN, &r)->line, "Milan (B1)");
    CHECK_STR(snp_tcb_floor_for(SNP_PRODUCT_GENOA, NULL)->line, "Genoa (B1)");
    CHECK(snp_tcb_floor_for(SNP_PRODUCT_UNKNOWN, &r) == NULL);
    /* every table entry names a bulletin and a date */
    size_t n;
    const struct snp_tcb_floor *t = snp_tcb_floor_table(&n);
    CHECK(n == 6);
    for (size_t i = 0; i < n; i++)
        CHECK(strstr(t[i].source, "AMD-SB-") && strstr(t[i].source, "(20"));
}

TEST(tcb_comparisons)
{
    struct snp_tcb a = {.bootloader = 4, .tee = 0, .snp = 29, .microcode = 222}, min = a;
    char def[128];
    CHECK(snp_tcb_at_least(&a, &min, SNP_PRODUCT_MILAN, def, sizeof def) && def[0] == 0);
    a.snp = 28;
    a.microcode = 221;
    CHECK(!snp_tcb_at_least(&a, &min, SNP_PRODUCT_MILAN, def, sizeof def));
    CHECK_STR(def, "snp 28 < 29, microcode 221 < 222");
    /* fmc counts only on Turin */
    struct snp_tcb t = {.fmc = 0, .snp = 5, .microcode = 0x61}, tm = {.fmc = 1, .snp = 4, .microcode = 0x51};
    CHECK(snp_tcb_at_least(&t, &tm, SNP_PRODUCT_GENOA, NULL, 0));
    CHECK(!snp_tcb_at_least(&t, &tm, SNP_PRODUCT_TURIN, def, sizeof def));
    CHECK_STR(def, "fmc 0 < 1");
    CHECK(snp_tcb_equal(&t, &t, SNP_PRODUCT_TURIN));
    struct snp_tcb t2 = t;
    t2.fmc = 9;
    CHECK(!snp_tcb_equal(&t, &t2, SNP_PRODUCT_TURIN) && snp_tcb_equal(&t, &t2, SNP_PRODUCT_MILAN));
    /* a tiny buffer is still terminated */
    char small[8];
    CHECK(!snp_tcb_at_least(&a, &min, SNP_PRODUCT_MILAN, small, sizeof small) && strlen(small) < sizeof small);
    char f[64];
    snp_tcb_format(&tm, SNP_PRODUCT_TURIN, f, sizeof f);
    CHECK_STR(f, "fmc=1 bl=0 tee=0 snp=4 ucode=81");
}

TEST(reported_and_launch_floors)
{
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_policy pol;
    struct steps st;
    snp_policy_defaults(&pol);
    make_report(b, 0x19, 0x01, 1, mtcb(4, 0, 0x1D, 0xDE));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "pass");
    CHECK_STR(status_of(&st, "policy.min_launch_tcb"), "pass");
    CHECK(strstr(text_of(&st, "policy.min_tcb"), "Milan (B1)") && strstr(text_of(&st, "policy.min_tcb"), "AMD-SB-3030"));
    steps_free(&st);
    /* Milan-X: microcode 0x47 is enough on stepping 2, not on stepping 1 */
    make_report(b, 0x19, 0x01, 2, mtcb(4, 0, 0x1D, 0x47));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "pass");
    steps_free(&st);
    make_report(b, 0x19, 0x01, 1, mtcb(4, 0, 0x1D, 0x47));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "fail");
    CHECK(strstr(text_of(&st, "policy.min_tcb"), "microcode 71 < 222") != NULL);
    steps_free(&st);
    /* launched below the floor: only the launch check fails; --min-launch-tcb relaxes it alone */
    make_report(b, 0x19, 0x01, 1, mtcb(4, 0, 0x1D, 0xDE));
    put64(b + 0x1F0, mtcb(4, 0, 0x1C, 0xDE));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "pass");
    CHECK_STR(status_of(&st, "policy.min_launch_tcb"), "fail");
    steps_free(&st);
    pol.min_launch_tcb_given = 1;
    snp_policy_parse_tcb("snp=28", &pol.min_launch_tcb);
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_launch_tcb"), "pass");
    CHECK(strstr(text_of(&st, "policy.min_launch_tcb"), "--min-launch-tcb") != NULL);
    steps_free(&st);
    /* --min-tcb replaces the floor for both */
    snp_policy_defaults(&pol);
    pol.min_tcb_given = 1;
    snp_policy_parse_tcb("bl=5", &pol.min_tcb);
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "fail");
    CHECK_STR(status_of(&st, "policy.min_launch_tcb"), "fail");
    steps_free(&st);
    /* Turin reads its own layout, fmc included */
    snp_policy_defaults(&pol);
    make_report(b, 0x1A, 0x02, 1, ttcb(1, 3, 2, 4, 0x51));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "pass");
    steps_free(&st);
    make_report(b, 0x1A, 0x02, 1, ttcb(1, 3, 2, 3, 0x51));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "policy.min_tcb"), "fail");
    CHECK(strstr(text_of(&st, "policy.min_tcb"), "snp 3 < 4") != NULL);
    steps_free(&st);
}

TEST(committed_current_and_reported_relations)
{
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_policy pol;
    struct steps st;
    snp_policy_defaults(&pol);
    uint64_t good = mtcb(4, 0, 0x1D, 0xDE);
    make_report(b, 0x19, 0x01, 1, good);
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.committed"), "pass");
    CHECK_STR(status_of(&st, "snp.tcb.reported_le_current"), "pass");
    steps_free(&st);
    /* committed below current: provisional firmware */
    put64(b + 0x1E0, mtcb(4, 0, 0x1C, 0xDE));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.committed"), "fail");
    steps_free(&st);
    pol.allow_provisional_firmware = 1;
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.committed"), "warn");
    steps_free(&st);
    /* committed above current is never accepted */
    put64(b + 0x1E0, mtcb(4, 0, 0x1E, 0xDE));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.committed"), "fail");
    steps_free(&st);
    /* the committed firmware version counts too */
    put64(b + 0x1E0, good);
    b[0x1EC] = 3;
    pol.allow_provisional_firmware = 0;
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.committed"), "fail");
    steps_free(&st);
    b[0x1EC] = 4;
    /* reported above current */
    put64(b + 0x38, mtcb(4, 0, 0x1C, 0xDE));
    put64(b + 0x1E0, mtcb(4, 0, 0x1C, 0xDE));
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.tcb.reported_le_current"), "fail");
    CHECK(strstr(text_of(&st, "snp.tcb.reported_le_current"), "snp 28 < 29") != NULL);
    steps_free(&st);
}

TEST(platform_info_decoded)
{
    json_t *o = snp_check_platform_info_json(0x25);
    CHECK(o && json_is_true(json_object_get(o, "smt_enabled")) && json_is_true(json_object_get(o, "ecc_enabled")) &&
          json_is_true(json_object_get(o, "alias_check_complete")) && json_is_false(json_object_get(o, "tsme_enabled")) &&
          !json_object_get(o, "unknown_bits"));
    CHECK_STR(json_string_value(json_object_get(o, "raw")), "0x25");
    json_decref(o);
    o = snp_check_platform_info_json(0x1C0);
    CHECK(o && json_is_true(json_object_get(o, "tio_enabled")));
    CHECK_STR(json_string_value(json_object_get(o, "unknown_bits")), "0x140");
    json_decref(o);
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_policy pol;
    struct steps st;
    snp_policy_defaults(&pol);
    make_report(b, 0x19, 0x01, 1, mtcb(4, 0, 0x1D, 0xDE));
    put64(b + 0x40, 0x100);
    run_policy(&pol, b, &st);
    CHECK_STR(status_of(&st, "snp.platform_info"), "warn");
    steps_free(&st);
}

static EVP_PKEY *rsa_key(void)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *k = NULL;
    if (c && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) == 1)
        EVP_PKEY_keygen(c, &k);
    EVP_PKEY_CTX_free(c);
    return k;
}

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_NAME_free(n);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha384());
    return x;
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *k, int pss, long revoked)
{
    X509_CRL *c = X509_CRL_new();
    X509_CRL_set_version(c, 1);
    X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
    X509_CRL_set1_lastUpdate(c, t);
    ASN1_TIME_free(t);
    if (revoked >= 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_INTEGER_set(sn, revoked);
        X509_REVOKED_set_serialNumber(r, sn);
        ASN1_INTEGER_free(sn);
        t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
        X509_REVOKED_set_revocationDate(r, t);
        ASN1_TIME_free(t);
        X509_CRL_add0_revoked(c, r);
    }
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, k);
    if (pss) {
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384());
    }
    X509_CRL_sign_ctx(c, m);
    EVP_MD_CTX_free(m);
    return c;
}

TEST(crl_verification)
{
    EVP_PKEY *k = rsa_key(), *k2 = rsa_key();
    X509 *root = self_signed(k, "ARK-Test"), *other = self_signed(k2, "ARK-Test");
    X509 *child = self_signed(k2, "SEV-Test");
    /* child as if issued by root with serial 7 */
    X509_set_issuer_name(child, X509_get_subject_name(root));
    ASN1_INTEGER_set(X509_get_serialNumber(child), 7);
    X509_CRL *ok = make_crl(root, k, 1, 7), *pkcs1 = make_crl(root, k, 0, -1);
    CHECK(amd_chain_verify_crl(ok, root) == AMD_CHAIN_OK);
    CHECK(amd_chain_verify_crl(ok, other) == AMD_CHAIN_ERR_SIGNATURE);
    CHECK(amd_chain_verify_crl(pkcs1, root) == AMD_CHAIN_ERR_SIGALG);
    CHECK(amd_chain_crl_revokes(ok, child) == 1);
    ASN1_INTEGER_set(X509_get_serialNumber(child), 8);
    CHECK(amd_chain_crl_revokes(ok, child) == 0);
    CHECK(amd_chain_crl_revokes(ok, root) == 0);   /* issuer matches, serial 0 is not listed */
    /* DER round trip through the loader */
    unsigned char *der = NULL;
    int dl = i2d_X509_CRL(ok, &der);
    X509_CRL *back = amd_chain_load_crl(der, (size_t)dl);
    CHECK(back && amd_chain_verify_crl(back, root) == AMD_CHAIN_OK);
    CHECK(amd_chain_load_crl(der, (size_t)dl - 1) == NULL);
    CHECK(amd_chain_load_crl((const uint8_t *)"garbage", 7) == NULL);
    OPENSSL_free(der);
    X509_CRL_free(back);
    X509_CRL_free(ok);
    X509_CRL_free(pkcs1);
    X509_free(root);
    X509_free(other);
    X509_free(child);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}

TEST(kds_paths_and_cache_layout)
{
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_report r;
    struct kds_request q;
    char p[KDS_PATH_MAX];
    make_report(b, 0x19, 0x01, 1, mtcb(4, 0, 0x1D, 0xDE));
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_OK);
    CHECK(kds_vek_path(&q, p, sizeof p) == 0);
    CHECK(!strncmp(p, "/vcek/v1/Milan/101112", 21) && strstr(p, "4e4f?blSPL=04&teeSPL=00&snpSPL=29&ucodeSPL=222") != NULL);
    CHECK(kds_chain_path(&q, p, sizeof p) == 0);
    CHECK_STR(p, "/vcek/v1/Milan/cert_chain");
    CHECK(kds_crl_path(&q, p, sizeof p) == 0);
    CHECK_STR(p, "/vcek/v1/Milan/crl");
    CHECK(kds_cache_vek_file("/c", &q, p, sizeof p) == 0);
    CHECK(!strncmp(p, "/c/Milan/1011", 13) && strstr(p, "/de1d000000000004/vcek.der") != NULL);
    CHECK(kds_vek_path(&q, p, 20) == -1);
    /* Turin: 8-byte hwid, fmcSPL, and the rest of CHIP_ID must be zero */
    make_report(b, 0x1A, 0x02, 1, ttcb(1, 3, 2, 5, 0x61));
    memset(b + 0x1A8, 0, 56);
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_OK);
    CHECK(kds_vek_path(&q, p, sizeof p) == 0);
    CHECK_STR(p, "/vcek/v1/Turin/1011121314151617?fmcSPL=01&blSPL=03&teeSPL=02&snpSPL=05&ucodeSPL=97");
    b[0x1B0] = 1;
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_ERR_CHIP_ID);
    /* masked chip id, version 2 without --product, VLEK (no VEK path, chain under /vlek/) */
    make_report(b, 0x19, 0x11, 1, mtcb(10, 0, 0x1B, 0x56));
    memset(b + 0x1A0, 0, 64);
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_ERR_CHIP_ID);
    b[0] = 2;
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_ERR_PRODUCT);
    b[0] = 3;
    b[0x48] = 1 << 2;
    snp_report_parse(b, sizeof b, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_UNKNOWN, &q) == KDS_OK);
    CHECK(kds_vek_path(&q, p, sizeof p) == -1);
    CHECK(kds_chain_path(&q, p, sizeof p) == 0);
    CHECK_STR(p, "/vlek/v1/Genoa/cert_chain");
    CHECK(kds_cache_dir("/x/y", p, sizeof p) == 0);
    CHECK_STR(p, "/x/y");
}

TEST(cache_store_and_lookup_with_a_real_vcek)
{
    size_t rl, vl;
    uint8_t *rep = test_read_file(TD "snp-reports-go-sev-guest/attestation.bin", &rl);
    uint8_t *vc = test_read_file(TD "snp-reports-go-sev-guest/vcek.der", &vl);
    CHECK(rep && vc && rl == SNP_REPORT_SIZE);
    if (!rep || !vc)
        return;
    char dir[] = "/tmp/kds-unit-XXXXXX", p[KDS_PATH_MAX], found[KDS_PATH_MAX];
    CHECK(mkdtemp(dir) != NULL);
    struct snp_report r;
    struct kds_request q;
    snp_report_parse(rep, rl, &r);
    CHECK(kds_request_from_report(&r, SNP_PRODUCT_MILAN, &q) == KDS_OK);
    CHECK(kds_cache_lookup_vek(dir, rep, rl, SNP_PRODUCT_MILAN, found, sizeof found) == NULL);
    CHECK(kds_cache_vek_file(dir, &q, p, sizeof p) == 0);
    CHECK(kds_cache_store(p, vc, vl) == 0);
    X509 *x = kds_cache_lookup_vek(dir, rep, rl, SNP_PRODUCT_MILAN, found, sizeof found);
    CHECK(x != NULL);
    CHECK_STR(found, p);
    struct vek_info vi;
    CHECK(x && amd_chain_vek_info(x, &vi) == AMD_CHAIN_OK && vi.hwid_len == 64 && !memcmp(vi.hwid, r.chip_id, 64));
    X509_free(x);
    /* without --product a version 2 report cannot be keyed */
    CHECK(kds_cache_lookup_vek(dir, rep, rl, SNP_PRODUCT_UNKNOWN, found, sizeof found) == NULL);
    /* a chain stored for the product comes back */
    size_t cl;
    uint8_t *chain = test_read_file(TD "amd-kds-cert-chains/ask_ark_milan.pem", &cl);
    CHECK(chain && kds_cache_chain_file(dir, &q, p, sizeof p) == 0 && kds_cache_store(p, chain, cl) == 0);
    X509 *c[4] = {0};
    CHECK(kds_cache_lookup_chain(dir, rep, rl, SNP_PRODUCT_MILAN, c, 4) == 2);
    for (int i = 0; i < 4; i++)
        X509_free(c[i]);
    /* a store into an unwritable place fails cleanly */
    CHECK(kds_cache_store("/proc/nonexistent/dir/file", vc, vl) == -1);
    free(chain);
    free(rep);
    free(vc);
}

int main(void)
{
    RUN(floor_per_silicon_line);
    RUN(tcb_comparisons);
    RUN(reported_and_launch_floors);
    RUN(committed_current_and_reported_relations);
    RUN(platform_info_decoded);
    RUN(crl_verification);
    RUN(kds_paths_and_cache_layout);
    RUN(cache_store_and_lookup_with_a_real_vcek);
    return test_done();
}
