/* Unit tests for attest/snp_common.c and attest/amd_kds.c on the real SEV-SNP reports in
 * ../shared/testdata (go-sev-guest and virtee Milan reports, their VCEKs and the KDS chains):
 * the provider-side checks, stale-VCEK detection, the certificate table -> evidence object, and
 * the exact KDS URLs (Milan/Genoa layout vs Turin's). */
#include "test.h"
#include "login/attest/amd_kds.h"
#include "login/attest/snp_common.h"
#include "login/config.h"
#include "common/codec.h"
#include <openssl/pem.h>
#include <openssl/x509.h>

static uint8_t *der_from_pem_file(const char *path, int index, size_t *len)
{
    FILE *f = fopen(path, "r");
    X509 *x = NULL;
    for (int i = 0; f && i <= index; i++) {
        X509_free(x);
        x = PEM_read_X509(f, NULL, NULL, NULL);
    }
    if (f)
        fclose(f);
    if (!x)
        return NULL;
    int n = i2d_X509(x, NULL);
    uint8_t *d = malloc((size_t)n), *p = d;
    i2d_X509(x, &p);
    X509_free(x);
    *len = (size_t)n;
    return d;
}

static uint8_t *real_report(size_t *len)
{
    return test_read_file(TESTDATA("snp-reports-go-sev-guest/attestation.bin"), len);
}

static void report_data_of(uint8_t rd[64])
{
    memset(rd, 0, 64);
    for (int i = 0; i < 5; i++)
        rd[i] = (uint8_t)(i + 1);       /* 0102030405 then zeros (expected.json) */
}

TEST(real_report_passes_provider_checks)
{
    size_t len;
    uint8_t *rep = real_report(&len), rd[64];
    char err[256];
    struct snp_report r;
    CHECK(rep && len == 1184);
    report_data_of(rd);
    CHECK(snp_ev_check(rep, len, rd, 0, &r, err, sizeof err) == 0);
    CHECK(r.version == 2 && r.reported_tcb == 0x4405000000000002ull);
    rd[63] ^= 1;
    CHECK(snp_ev_check(rep, len, rd, 0, &r, err, sizeof err) == -1);
    CHECK(strstr(err, "REPORT_DATA") != NULL);
    rd[63] ^= 1;
    CHECK(snp_ev_check(rep, len, rd, 1, &r, err, sizeof err) == -1);   /* we asked for VMPL 1 */
    CHECK(snp_ev_check(rep, len - 1, rd, 0, &r, err, sizeof err) == -1);
    free(rep);
}

TEST(virtee_report_hex_passes_too)
{
    size_t hl;
    char *hex = (char *)test_read_file(TESTDATA("snp-reports-virtee-sev/report_milan.hex"), &hl);
    uint8_t rep[1184];
    char err[256];
    struct snp_report r;
    CHECK(hex != NULL);
    while (hex && hl > 0 && (hex[hl - 1] == '\n' || hex[hl - 1] == '\r'))
        hl--;
    for (size_t i = 0; hex && i < hl; i++)
        if (hex[i] >= 'A' && hex[i] <= 'F')
            hex[i] = (char)(hex[i] - 'A' + 'a');
    CHECK(hex && codec_hex_decode(hex, hl, rep, sizeof rep) == 1184);
    uint8_t rd[64];
    memcpy(rd, rep + 0x50, 64);
    CHECK(snp_ev_check(rep, 1184, rd, 0, &r, err, sizeof err) == 0);
    size_t vl;
    uint8_t *vcek = test_read_file(TESTDATA("snp-reports-virtee-sev/vcek_milan.der"), &vl);
    CHECK(vcek && snp_ev_signed_by(rep, 1184, vcek, vl) == 1);
    free(vcek);
    free(hex);
}

TEST(signed_by_spots_the_wrong_vcek)
{
    size_t len, vl, tl;
    uint8_t *rep = real_report(&len);
    uint8_t *vcek = test_read_file(TESTDATA("snp-reports-go-sev-guest/vcek.der"), &vl);
    uint8_t *turin = test_read_file(TESTDATA("snp-reports-virtee-sev/vcek_turin.der"), &tl);
    CHECK(rep && vcek && turin);
    CHECK(snp_ev_signed_by(rep, len, vcek, vl) == 1);
    CHECK(snp_ev_signed_by(rep, len, turin, tl) == 0);
    rep[0x90] ^= 1;                                        /* measurement changed */
    CHECK(snp_ev_signed_by(rep, len, vcek, vl) == 0);
    free(rep);
    free(vcek);
    free(turin);
}

static const uint8_t G_VCEK[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t G_ASK[16]  = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t G_ARK[16]  = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

/* A host certificate table {VCEK, ASK, ARK} as Linux/QEMU hosts write it (page-padded). */
static uint8_t *make_table(const uint8_t *v, size_t vl, const uint8_t *a, size_t al, const uint8_t *r, size_t rl, size_t *len)
{
    size_t cap = 3 * 4096;
    uint8_t *t = calloc(1, cap);
    const uint8_t *g[3] = { G_VCEK, G_ASK, G_ARK }, *d[3] = { v, a, r };
    size_t l[3] = { vl, al, rl }, off = 4 * 24;
    for (int i = 0; i < 3; i++) {
        memcpy(t + 24 * i, g[i], 16);
        for (int b = 0; b < 4; b++) {
            t[24 * i + 16 + b] = (uint8_t)(off >> (8 * b));
            t[24 * i + 20 + b] = (uint8_t)(l[i] >> (8 * b));
        }
        memcpy(t + off, d[i], l[i]);
        off += l[i];
    }
    *len = cap;
    return t;
}

TEST(evidence_from_host_table_and_stale_vcek_goes_to_kds)
{
    size_t len, vl, al, rl, tl, sl;
    uint8_t *rep = real_report(&len), rd[64];
    uint8_t *vcek = test_read_file(TESTDATA("snp-reports-go-sev-guest/vcek.der"), &vl);
    uint8_t *ask = der_from_pem_file(TESTDATA("snp-reports-go-sev-guest/milan_cert_chain.pem"), 0, &al);
    uint8_t *ark = der_from_pem_file(TESTDATA("snp-reports-go-sev-guest/milan_cert_chain.pem"), 1, &rl);
    uint8_t *stale = test_read_file(TESTDATA("snp-reports-virtee-sev/vcek_milan.der"), &sl);
    CHECK(rep && vcek && ask && ark && stale);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.amd_kds_url = "http://127.0.0.1:9";     /* nothing listens: a fetch fails at once */
    struct snp_ev_cache cache;
    CHECK(snp_ev_cache_init(&cache, &cfg) == 0);
    char err[256];
    struct snp_report r;
    report_data_of(rd);
    CHECK(snp_ev_check(rep, len, rd, 0, &r, err, sizeof err) == 0);
    uint8_t *tab = make_table(vcek, vl, ask, al, ark, rl, &tl);
    json_t *ev = NULL;
    CHECK(snp_ev_build(&cache, "sev-guest", rep, len, &r, tab, tl, &ev, err, sizeof err) == 0);
    CHECK_STR(json_string_value(json_object_get(ev, "type")), "sev-snp");
    CHECK_STR(json_string_value(json_object_get(ev, "certs_from")), "host");
    CHECK(strncmp(json_string_value(json_object_get(ev, "vcek")), "-----BEGIN CERTIFICATE-----", 27) == 0);
    CHECK(json_object_get(ev, "ask") && json_object_get(ev, "ark") && !json_object_get(ev, "vlek"));
    size_t bl;
    const char *b64 = json_string_value(json_object_get(ev, "report"));
    uint8_t *back = b64 ? codec_b64_decode_alloc(b64, strlen(b64), &bl) : NULL;
    CHECK(back && bl == len && memcmp(back, rep, len) == 0);
    free(back);
    json_decref(ev);
    free(tab);
    /* a host VCEK of another chip/TCB does not sign the report: KDS is asked (and is down) */
    tab = make_table(stale, sl, ask, al, ark, rl, &tl);
    ev = NULL;
    CHECK(snp_ev_build(&cache, "sev-guest", rep, len, &r, tab, tl, &ev, err, sizeof err) == -1 && !ev);
    CHECK(strstr(err, "KDS") != NULL);
    /* a malformed table (entry pointing past the end) is an error, not "no certificates" */
    tab[16] = 0xff; tab[17] = 0xff; tab[18] = 0xff;
    CHECK(snp_ev_build(&cache, "sev-guest", rep, len, &r, tab, tl, &ev, err, sizeof err) == -1);
    free(tab);
    snp_ev_cache_clear(&cache);
    free(rep); free(vcek); free(ask); free(ark); free(stale);
}

TEST(kds_url_for_the_real_report_is_the_documented_one)
{
    size_t len;
    uint8_t *rep = real_report(&len);
    struct snp_report r;
    char url[512], err[64];
    uint8_t rd[64];
    report_data_of(rd);
    CHECK(rep && snp_ev_check(rep, len, rd, 0, &r, err, sizeof err) == 0);
    CHECK(amd_kds_vcek_url(url, sizeof url, "https://kdsintf.amd.com/", SNP_PRODUCT_MILAN, r.chip_id, r.reported_tcb) == 0);
    CHECK_STR(url, "https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e5"
                   "3786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"
                   "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
    /* Turin: FMC first, SNP in byte 3, and only the first 8 chip-id bytes */
    CHECK(amd_kds_vcek_url(url, sizeof url, "https://kdsintf.amd.com", SNP_PRODUCT_TURIN, r.chip_id,
                           0x2100000000041003ull) == 0);
    CHECK_STR(url, "https://kdsintf.amd.com/vcek/v1/Turin/3ac3fe21e13fb099?fmcSPL=3&blSPL=16&teeSPL=4&snpSPL=0&ucodeSPL=33");
    CHECK(amd_kds_vcek_url(url, sizeof url, "https://x", SNP_PRODUCT_UNKNOWN, r.chip_id, 0) == -1);
    CHECK(amd_kds_vcek_url(url, 40, "https://kdsintf.amd.com", SNP_PRODUCT_MILAN, r.chip_id, 0) == -1);
    free(rep);
}

int main(void)
{
    RUN(real_report_passes_provider_checks);
    RUN(virtee_report_hex_passes_too);
    RUN(signed_by_spots_the_wrong_vcek);
    RUN(evidence_from_host_table_and_stale_vcek_goes_to_kds);
    RUN(kds_url_for_the_real_report_is_the_documented_one);
    return test_done();
}
