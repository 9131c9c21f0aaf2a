/* Unit tests for common/snp_report: the real Milan reports in ../shared/testdata (fields as in
 * their expected.json, signature with their VCEKs, every single-bit flip of the signed area and of
 * the signature fails, cross-report VCEK fails), layouts of versions 3 and 5, Turin's TCB layout,
 * and the certificate-table parser. */
#include "test.h"
#include "common/snp_report.h"
#include "common/codec.h"
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static uint8_t *load_report(const char *path)
{
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    if (b && n == SNP_REPORT_SIZE)
        return b;
    if (b && n == 2 * SNP_REPORT_SIZE) {   /* upper-case hex text */
        uint8_t *r = malloc(SNP_REPORT_SIZE);
        for (size_t i = 0; i < n; i++)
            if (b[i] >= 'A' && b[i] <= 'F')
                b[i] = (uint8_t)(b[i] - 'A' + 'a');
        if (r && codec_hex_decode((const char *)b, n, r, SNP_REPORT_SIZE) == SNP_REPORT_SIZE) {
            free(b);
            return r;
        }
        free(r);
    }
    free(b);
    return NULL;
}

static EVP_PKEY *vcek_key(const char *path)
{
    size_t n;
    uint8_t *b = test_read_file(path, &n);
    const unsigned char *p = b;
    X509 *x = b ? d2i_X509(NULL, &p, (long)n) : NULL;
    EVP_PKEY *k = x ? EVP_PKEY_dup(X509_get0_pubkey(x)) : NULL;
    X509_free(x);
    free(b);
    return k;
}

static json_t *expected_fields(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    json_t *f = json_incref(json_object_get(json_array_get(j, 0), "report_fields"));
    json_decref(j);
    return f;
}

static int hex_is(const uint8_t *b, size_t n, const json_t *s)
{
    char h[200];
    codec_hex_encode(b, n, h, sizeof h);
    return json_is_string(s) && !strcmp(h, json_string_value(s));
}

static void check_fields(int *test_case_failed_p, const struct snp_report *r, json_t *f)
{
    CHECK(f != NULL);
    CHECK(r->version == json_integer_value(json_object_get(f, "version")));
    CHECK(r->vmpl == json_integer_value(json_object_get(f, "vmpl")));
    CHECK(r->signature_algo == 1);
    char pol[24];
    snprintf(pol, sizeof pol, "0x%llx", (unsigned long long)r->policy);
    CHECK_STR(pol, json_string_value(json_object_get(f, "policy")));
    CHECK(hex_is(r->report_data, 64, json_object_get(f, "report_data")));
    CHECK(hex_is(r->measurement, 48, json_object_get(f, "measurement")));
    CHECK(hex_is(r->chip_id, 64, json_object_get(f, "chip_id")));
    CHECK(hex_is(r->report_id, 32, json_object_get(f, "report_id")));
    CHECK(hex_is(r->report_id_ma, 32, json_object_get(f, "report_id_ma")));
    CHECK(hex_is(r->host_data, 32, json_object_get(f, "host_data")));
    json_t *rt = json_object_get(f, "reported_tcb");
    char raw[24];
    snprintf(raw, sizeof raw, "0x%016llx", (unsigned long long)r->reported_tcb);
    CHECK_STR(raw, json_string_value(json_object_get(rt, "raw")));
    struct snp_tcb t;
    snp_tcb_decode(r->reported_tcb, SNP_PRODUCT_MILAN, &t);
    CHECK(t.bootloader == json_integer_value(json_object_get(rt, "bootloader")));
    CHECK(t.tee == json_integer_value(json_object_get(rt, "tee")));
    CHECK(t.snp == json_integer_value(json_object_get(rt, "snp")));
    CHECK(t.microcode == json_integer_value(json_object_get(rt, "microcode")));
    CHECK(r->current_major == json_integer_value(json_object_get(f, "current_major")));
    CHECK(r->current_minor == json_integer_value(json_object_get(f, "current_minor")));
    CHECK(r->current_build == json_integer_value(json_object_get(f, "current_build")));
    /* signature R/S are printed big-endian upstream; the report stores them little-endian */
    uint8_t be[48];
    for (int i = 0; i < 48; i++)
        be[i] = r->sig_r[47 - i];
    CHECK(hex_is(be, 48, json_object_get(f, "sig_r")));
    for (int i = 0; i < 48; i++)
        be[i] = r->sig_s[47 - i];
    CHECK(hex_is(be, 48, json_object_get(f, "sig_s")));
    CHECK(snp_report_signer(r) == SNP_SIGNER_VCEK);
    CHECK(!r->reserved_nonzero);
}

TEST(go_sev_guest_fields_match_expected)
{
    uint8_t *b = load_report(TESTDATA("snp-reports-go-sev-guest/attestation.bin"));
    json_t *f = expected_fields(TESTDATA("snp-reports-go-sev-guest/expected.json"));
    struct snp_report r;
    CHECK(b && snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_OK);
    if (b)
        check_fields(test_case_failed_p, &r, f);
    CHECK(snp_report_product(&r) == SNP_PRODUCT_UNKNOWN);   /* version 2: no CPUID fields */
    json_decref(f);
    free(b);
}

TEST(virtee_hex_fields_match_expected)
{
    uint8_t *b = load_report(TESTDATA("snp-reports-virtee-sev/report_milan.hex"));
    json_t *f = expected_fields(TESTDATA("snp-reports-virtee-sev/expected.json"));
    struct snp_report r;
    CHECK(b && snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_OK);
    if (b)
        check_fields(test_case_failed_p, &r, f);
    json_decref(f);
    free(b);
}

TEST(real_reports_verify_with_their_vcek)
{
    uint8_t *a = load_report(TESTDATA("snp-reports-go-sev-guest/attestation.bin"));
    uint8_t *v = load_report(TESTDATA("snp-reports-virtee-sev/report_milan.hex"));
    EVP_PKEY *ka = vcek_key(TESTDATA("snp-reports-go-sev-guest/vcek.der"));
    EVP_PKEY *kv = vcek_key(TESTDATA("snp-reports-virtee-sev/vcek_milan.der"));
    CHECK(a && v && ka && kv);
    CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE, ka) == SNP_OK);
    CHECK(snp_report_verify_signature(v, SNP_REPORT_SIZE, kv) == SNP_OK);
    /* cross-report: each report with the other chip's VCEK fails */
    CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE, kv) == SNP_ERR_SIGNATURE);
    CHECK(snp_report_verify_signature(v, SNP_REPORT_SIZE, ka) == SNP_ERR_SIGNATURE);
    /* the unsigned tail after the signature does not take part */
    a[0x400] ^= 0xff;
    CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE, ka) == SNP_OK);
    /* wrong length, wrong key type */
    CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE - 1, ka) == SNP_ERR_SIZE);
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE, p256) == SNP_ERR_KEY);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kv);
    free(a);
    free(v);
}

/* Every single-bit flip in 0x000-0x29F and in R and S (0x2A0-0x32F) must fail. */
static int flips_all_fail(uint8_t *b, EVP_PKEY *k, size_t from, size_t to, size_t *first_bad)
{
    for (size_t i = from; i < to; i++)
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            snp_err e = snp_report_verify_signature(b, SNP_REPORT_SIZE, k);
            b[i] ^= (uint8_t)(1u << bit);
            if (e == SNP_OK) {
                *first_bad = i;
                return 0;
            }
        }
    return 1;
}

TEST(every_single_bit_flip_fails)
{
    uint8_t *a = load_report(TESTDATA("snp-reports-go-sev-guest/attestation.bin"));
    EVP_PKEY *ka = vcek_key(TESTDATA("snp-reports-go-sev-guest/vcek.der"));
    size_t bad = 0;
    CHECK(a && ka);
    if (a && ka) {
        CHECK(flips_all_fail(a, ka, 0, SNP_REPORT_SIGNED_LEN, &bad));
        CHECK(flips_all_fail(a, ka, SNP_REPORT_SIG_OFFSET, SNP_REPORT_SIG_OFFSET + 2 * SNP_SIG_COMPONENT_LEN, &bad));
        if (bad)
            fprintf(stderr, "  a flip at 0x%zx still verifies\n", bad);
        CHECK(snp_report_verify_signature(a, SNP_REPORT_SIZE, ka) == SNP_OK);
    }
    EVP_PKEY_free(ka);
    free(a);
}

TEST(parse_rejects_bad_sizes_and_versions)
{
    uint8_t b[SNP_REPORT_SIZE + 1];
    struct snp_report r;
    memset(b, 0, sizeof b);
    b[0] = 2;
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_OK);
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE + 1, &r) == SNP_ERR_SIZE);
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE - 1, &r) == SNP_ERR_SIZE);
    CHECK(snp_report_parse(b, 0, &r) == SNP_ERR_SIZE);
    CHECK(snp_report_parse(NULL, 0, &r) == SNP_ERR_ARG);
    b[0] = 1;
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_ERR_VERSION);
    b[0] = 0;
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_ERR_VERSION);
    b[0] = 9;   /* future versions parse, flagged as unknown */
    CHECK(snp_report_parse(b, SNP_REPORT_SIZE, &r) == SNP_OK && !snp_report_version_known(r.version));
    CHECK(snp_report_version_known(2) && snp_report_version_known(3) && snp_report_version_known(5));
    CHECK(!snp_report_version_known(4));
}

TEST(version_3_and_5_fields_and_reserved)
{
    uint8_t b[SNP_REPORT_SIZE];
    struct snp_report r;
    memset(b, 0, sizeof b);
    b[0] = 2;
    b[0x188] = 0x19;   /* CPUID bytes are reserved in version 2 */
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && r.reserved_nonzero && r.cpuid_fam_id == 0);
    b[0] = 3;
    b[0x189] = 0x11;
    b[0x18A] = 1;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && !r.reserved_nonzero);
    CHECK(r.cpuid_fam_id == 0x19 && r.cpuid_mod_id == 0x11 && r.cpuid_step == 1);
    CHECK(snp_report_product(&r) == SNP_PRODUCT_GENOA);
    b[0x189] = 0x01;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && snp_report_product(&r) == SNP_PRODUCT_MILAN);
    b[0x188] = 0x1A;
    b[0x189] = 0x02;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && snp_report_product(&r) == SNP_PRODUCT_TURIN);
    /* mitigation vectors: reserved before version 5 */
    b[0x1F8] = 7;
    b[0x200] = 9;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && r.reserved_nonzero && r.launch_mit_vector == 0);
    b[0] = 5;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && !r.reserved_nonzero);
    CHECK(r.launch_mit_vector == 7 && r.current_mit_vector == 9);
    b[0x208] = 1;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && r.reserved_nonzero);
    b[0x208] = 0;
    b[0x48] = 1u << 2;   /* VLEK */
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && snp_report_signer(&r) == SNP_SIGNER_VLEK);
    b[0x48] = 7u << 2;
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && snp_report_signer(&r) == SNP_SIGNER_NONE);
    b[0x49] = 1;         /* key_info bits above 4 are reserved */
    CHECK(snp_report_parse(b, sizeof b, &r) == SNP_OK && r.reserved_nonzero);
}

TEST(tcb_layouts)
{
    struct snp_tcb t;
    snp_tcb_decode(0x4405000000000002ull, SNP_PRODUCT_MILAN, &t);
    CHECK(t.bootloader == 2 && t.tee == 0 && t.snp == 5 && t.microcode == 68 && t.fmc == 0);
    snp_tcb_decode(0x4405000000000002ull, SNP_PRODUCT_GENOA, &t);
    CHECK(t.bootloader == 2 && t.snp == 5 && t.microcode == 68);
    /* Turin: byte0 FMC, byte1 bootloader, byte2 TEE, byte3 SNP, byte7 microcode */
    snp_tcb_decode(0x0900000004030201ull, SNP_PRODUCT_TURIN, &t);
    CHECK(t.fmc == 1 && t.bootloader == 2 && t.tee == 3 && t.snp == 4 && t.microcode == 9);
    CHECK(snp_product_from_name("Milan-B0", 8) == SNP_PRODUCT_MILAN);
    CHECK(snp_product_from_name("genoa", 5) == SNP_PRODUCT_GENOA);
    CHECK(snp_product_from_name("Turin", 5) == SNP_PRODUCT_TURIN);
    CHECK(snp_product_from_name("Milanx", 6) == SNP_PRODUCT_UNKNOWN);
    CHECK(snp_product_from_name("Mil", 3) == SNP_PRODUCT_UNKNOWN);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static size_t entry(uint8_t *t, int i, snp_cert_kind k, uint32_t off, uint32_t len)
{
    memcpy(t + 24 * i, snp_cert_kind_guid(k), 16);
    put32(t + 24 * i + 16, off);
    put32(t + 24 * i + 20, len);
    return 0;
}

TEST(cert_table_parse)
{
    uint8_t t[400];
    struct snp_cert_table ct;
    memset(t, 0, sizeof t);
    entry(t, 0, SNP_CERT_VCEK, 96, 100);
    entry(t, 1, SNP_CERT_ASK, 196, 100);
    entry(t, 2, SNP_CERT_ARK, 296, 100);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_OK && ct.n == 3);
    const struct snp_cert_entry *v = snp_cert_table_find(&ct, SNP_CERT_VCEK);
    CHECK(v && v->data == t + 96 && v->len == 100);
    CHECK(snp_cert_table_find(&ct, SNP_CERT_VLEK) == NULL);
    CHECK(snp_cert_table_find(&ct, SNP_CERT_ARK)->data == t + 296);
    /* blob past the end */
    CHECK(snp_cert_table_parse(t, 395, &ct) == SNP_ERR_SIZE);
    /* empty table and terminator only */
    CHECK(snp_cert_table_parse(t, 0, &ct) == SNP_OK && ct.n == 0);
    uint8_t z[24] = {0};
    CHECK(snp_cert_table_parse(z, 24, &ct) == SNP_OK && ct.n == 0);
    /* no terminator */
    CHECK(snp_cert_table_parse(t, 72, &ct) == SNP_ERR_SIZE);
    /* overlap */
    entry(t, 1, SNP_CERT_ASK, 150, 100);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_FORMAT);
    /* blob inside the table itself */
    entry(t, 1, SNP_CERT_ASK, 24, 10);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_FORMAT);
    /* duplicate kind */
    entry(t, 1, SNP_CERT_VCEK, 196, 100);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_FORMAT);
    /* unknown GUIDs are kept as OTHER; zero length is malformed */
    entry(t, 1, SNP_CERT_ASK, 196, 100);
    t[24] ^= 0xff;
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_OK && ct.e[1].kind == SNP_CERT_OTHER);
    entry(t, 1, SNP_CERT_ASK, 196, 0);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_SIZE);
    /* zero GUID with a non-zero offset is not a terminator */
    memset(t + 24, 0, 16);
    put32(t + 24 + 16, 196);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_FORMAT);
    /* offset + length overflow in 32 bits */
    entry(t, 1, SNP_CERT_ASK, 0xffffff00u, 0x200);
    CHECK(snp_cert_table_parse(t, 396, &ct) == SNP_ERR_SIZE);
    /* too many entries */
    uint8_t big[24 * (SNP_CERT_TABLE_MAX + 2) + 16 * 20];
    memset(big, 0, sizeof big);
    for (int i = 0; i < (int)SNP_CERT_TABLE_MAX + 1; i++) {
        memset(big + 24 * i, i + 1, 16);
        put32(big + 24 * i + 16, (uint32_t)(24 * (SNP_CERT_TABLE_MAX + 2) + (uint32_t)i));
        put32(big + 24 * i + 20, 1);
    }
    CHECK(snp_cert_table_parse(big, sizeof big, &ct) == SNP_ERR_FORMAT);
}

int main(void)
{
    RUN(go_sev_guest_fields_match_expected);
    RUN(virtee_hex_fields_match_expected);
    RUN(real_reports_verify_with_their_vcek);
    RUN(every_single_bit_flip_fails);
    RUN(parse_rejects_bad_sizes_and_versions);
    RUN(version_3_and_5_fields_and_reserved);
    RUN(tcb_layouts);
    RUN(cert_table_parse);
    return test_done();
}
