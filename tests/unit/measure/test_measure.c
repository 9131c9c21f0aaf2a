/* Unit tests for src/measure: OVMF parsing (real AmdSev/OvmfX64 tails, hostile variants), the SNP
 * page accumulator (sev-snp-measure's published OVMF hash), vCPU signatures (published table and
 * formula cases), the SEV hashes table layout, PE/COFF hostile input, and the PCR 4 prediction
 * checked against PCR values read from real GCE vTPMs (go-eventlog testdata). */
#include "test.h"

#include <jansson.h>

#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include "measure/launch.h"
#include "measure/pcr_predict.h"
#include "measure/pe_hash.h"

#define SNPDIR "../shared/testdata/snp-measure-sev-snp-measure/"
#define LOGDIR "../shared/testdata/tpm-eventlogs-go-eventlog/"

static int unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    size_t r = codec_hex_decode(s ? s : "", n, out, cap);
    return r == (size_t)-1 ? -1 : (int)r;
}

static int hex_eq(const uint8_t *b, size_t n, const char *want)
{
    uint8_t w[128];
    return unhex(want, w, sizeof(w)) == (int)n && memcmp(b, w, n) == 0;
}

TEST(ovmf_amdsev_layout)
{
    size_t len;
    uint8_t *fw = test_read_file(SNPDIR "fixtures/ovmf_AmdSev_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    ovmf_info o;
    CHECK(ovmf_parse(fw, len, &o) == MEASURE_OK);
    CHECK(o.gpa == 0x100000000ull - 4096);
    CHECK(o.has_reset_eip && o.reset_eip == 0x80b004);
    CHECK(o.has_hash_table && o.hash_table_gpa == 0x810c00);
    CHECK(o.nsections == 7);
    CHECK(ovmf_has_section(&o, OVMF_SECTION_SNP_KERNEL_HASHES));
    CHECK(o.sections[5].type == OVMF_SECTION_SNP_KERNEL_HASHES && o.sections[5].gpa == 0x810000 &&
          o.sections[5].size == 0x1000);
    CHECK(o.sections[2].type == OVMF_SECTION_SNP_SECRETS && o.sections[3].type == OVMF_SECTION_CPUID);
    free(fw);

    fw = test_read_file(SNPDIR "fixtures/ovmf_OvmfX64_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    CHECK(ovmf_parse(fw, len, &o) == MEASURE_OK);
    CHECK(o.has_reset_eip);
    CHECK(!ovmf_has_section(&o, OVMF_SECTION_SNP_KERNEL_HASHES));
    CHECK(!ovmf_supports_hash_table(&o));
    free(fw);
}

/* sev-snp-measure test_snp_ovmf_hash_full_*: calc_snp_ovmf_hash(AmdSev tail). */
TEST(snp_ovmf_hash_published_vector)
{
    size_t len;
    uint8_t *fw = test_read_file(SNPDIR "fixtures/ovmf_AmdSev_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    snp_gctx g;
    snp_gctx_init(&g, NULL);
    CHECK(snp_gctx_normal_pages(&g, 0x100000000ull - len, fw, len) == MEASURE_OK);
    CHECK(hex_eq(g.ld, SNP_LD_LEN, "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2"
                                   "c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"));
    CHECK(g.pages == 1);
    CHECK(snp_gctx_normal_pages(&g, 0, fw, 100) == MEASURE_ERR_ARG);
    CHECK(snp_gctx_zero_pages(&g, 0, 4095) == MEASURE_ERR_ARG);
    free(fw);
}

/* The API path of the testdata cases (the CLI suite covers all of them). */
TEST(launch_api_matches_testdata)
{
    size_t len;
    uint8_t *fw = test_read_file(SNPDIR "fixtures/ovmf_AmdSev_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    sev_hashes h;
    CHECK(sev_hashes_compute("/dev/null", "/dev/null", "console=ttyS0 loglevel=7", &h) == MEASURE_OK);
    launch_params p = { .mode = LAUNCH_SNP, .ovmf = fw, .ovmf_len = len, .hashes = &h, .vcpus = 1,
                        .vcpu_sig = 0x800f12, .vmm = VMSA_VMM_QEMU, .guest_features = 0x21 };
    launch_result r;
    CHECK(launch_digest(&p, &r) == MEASURE_OK);
    CHECK(hex_eq(r.digest, 48, "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb2"
                               "8c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"));
    p.hashes = NULL;
    CHECK(launch_digest(&p, &r) == MEASURE_OK);
    CHECK(hex_eq(r.digest, 48, "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af"
                               "9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"));
    p.vcpus = 0;
    CHECK(launch_digest(&p, &r) == MEASURE_ERR_ARG);
    p.vcpus = MEASURE_MAX_VCPUS + 1;
    CHECK(launch_digest(&p, &r) == MEASURE_ERR_ARG);
    p.vcpus = 1;
    p.mode = LAUNCH_SEV;
    p.ovmf_hash = r.digest;            /* --ovmf-hash is SNP only */
    CHECK(launch_digest(&p, &r) == MEASURE_ERR_ARG);
    free(fw);
}

/* The API path of tests/measure/sev_snp_measure_vectors.json (printed by sev-snp-measure's own
 * CLI at a pinned commit): every EC2 and GCE case, and QEMU's EPYC-v4 ones, SNP and SEV-ES. */
static const char *vector_path(const char *upstream_path, char *buf, size_t cap)
{
    const char *fx = "tests/fixtures/";
    if (strncmp(upstream_path, fx, strlen(fx)) != 0)
        return upstream_path;
    int n = snprintf(buf, cap, SNPDIR "fixtures/%s", upstream_path + strlen(fx));
    return n > 0 && (size_t)n < cap ? buf : NULL;
}

TEST(launch_api_matches_upstream_vectors)
{
    json_error_t e;
    json_t *doc = json_load_file("tests/measure/sev_snp_measure_vectors.json", 0, &e);
    CHECK(doc != NULL);
    if (!doc) return;
    size_t i, checked = 0, ec2 = 0, differ = 0;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        json_t *a = json_object_get(c, "args");
        const char *mode = json_string_value(json_object_get(a, "mode"));
        const char *vmm_s = json_string_value(json_object_get(a, "vmm_type"));
        const char *type = json_string_value(json_object_get(a, "vcpu_type"));
        const char *want = json_string_value(json_object_get(c, "expected"));
        vmsa_vmm vmm;
        if (!mode || !vmm_s || !want || strcmp(mode, "sev") == 0 || vmsa_vmm_from_name(vmm_s, &vmm))
            continue;
        if (vmm == VMSA_VMM_QEMU && (!type || strcmp(type, "EPYC-v4") != 0))
            continue;
        char fwbuf[256], kbuf[256], ibuf[256];
        const char *fwp = vector_path(json_string_value(json_object_get(a, "ovmf")), fwbuf, sizeof(fwbuf));
        const char *k = json_string_value(json_object_get(a, "kernel"));
        const char *ini = json_string_value(json_object_get(a, "initrd"));
        size_t len;
        uint8_t *fw = fwp ? test_read_file(fwp, &len) : NULL;
        CHECK(fw != NULL);
        if (!fw) break;
        sev_hashes h;
        launch_params p = { .mode = strcmp(mode, "snp") == 0 ? LAUNCH_SNP : LAUNCH_SEV_ES, .ovmf = fw,
                            .ovmf_len = len, .vcpus = (unsigned)json_integer_value(json_object_get(a, "vcpus")),
                            .vmm = vmm, .guest_features = 1 };
        if (type)
            CHECK(vmsa_vcpu_sig_from_name(type, &p.vcpu_sig) == 0);
        const char *gf = json_string_value(json_object_get(a, "guest_features"));
        if (gf)
            p.guest_features = strtoull(gf, NULL, 16);
        uint8_t seed[SNP_LD_LEN];
        const char *oh = json_string_value(json_object_get(a, "snp_ovmf_hash"));
        if (oh) {
            CHECK(unhex(oh, seed, sizeof(seed)) == SNP_LD_LEN);
            p.ovmf_hash = seed;
        }
        if (k) {
            CHECK(sev_hashes_compute(vector_path(k, kbuf, sizeof(kbuf)),
                                     ini ? vector_path(ini, ibuf, sizeof(ibuf)) : NULL,
                                     json_string_value(json_object_get(a, "append")), &h) == MEASURE_OK);
            p.hashes = &h;
        }
        launch_result r;
        CHECK(launch_digest(&p, &r) == MEASURE_OK);
        if (!hex_eq(r.digest, r.digest_len, want) && ++differ <= 5)
            fprintf(stderr, "  %s differs from upstream\n", json_string_value(json_object_get(c, "name")));
        checked++;
        ec2 += vmm == VMSA_VMM_EC2;
        free(fw);
    }
    CHECK(differ == 0);
    CHECK(checked > 100 && ec2 > 50);
    json_decref(doc);
}

TEST(vcpu_signatures)
{
    /* cases.json cpu_sig.tests and table */
    CHECK(vmsa_cpu_sig(14, 1, 2) == 0xe12);
    CHECK(vmsa_cpu_sig(23, 1, 2) == 0x800f12);
    struct { const char *name; uint32_t sig; } t[] = {
        { "EPYC", 0x800f12 }, { "EPYC-v1", 0x800f12 }, { "EPYC-v4", 0x800f12 }, { "EPYC-IBPB", 0x800f12 },
        { "EPYC-Rome", 0x830f10 }, { "EPYC-Rome-v2", 0x830f10 }, { "EPYC-Milan", 0xa00f11 },
        { "epyc-milan-v2", 0xa00f11 }, { "EPYC-Genoa", 0xa10f10 }, { "EPYC-Turin", 0xb00f00 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t sig = 0;
        CHECK(vmsa_vcpu_sig_from_name(t[i].name, &sig) == 0 && sig == t[i].sig);
    }
    uint32_t sig;
    CHECK(vmsa_vcpu_sig_from_name("EPYC-v5", &sig) == -1);
    CHECK(vmsa_vcpu_sig_from_name(NULL, &sig) == -1);
    for (size_t i = 0; vmsa_vcpu_names[i]; i++)
        CHECK(vmsa_vcpu_sig_from_name(vmsa_vcpu_names[i], &sig) == 0);
}

TEST(vmsa_fields)
{
    uint8_t page[MEASURE_PAGE];
    vmsa_build(page, 0x80b004, 0x21, 0x800f12, VMSA_VMM_QEMU);
    CHECK(page[0x10 + 2] == 0x9b);                    /* CS attrib */
    CHECK(page[0x10 + 8 + 2] == 0x80);                /* CS base = eip & 0xffff0000 */
    CHECK(page[0x178] == 0x04 && page[0x179] == 0xb0); /* RIP = eip & 0xffff */
    CHECK(page[0x310] == 0x12 && page[0x311] == 0x0f && page[0x312] == 0x80);  /* RDX */
    CHECK(page[0x3b0] == 0x21);                       /* SEV_FEATURES */
    CHECK(page[0x408] == 0x80 && page[0x409] == 0x1f); /* MXCSR */
    /* EC2: RDX is a fixed 0x600 since sev-snp-measure 4a02bf0 (2026; it was 0), whatever the
     * vCPU signature; MXCSR and the x87 FCW stay 0. CS is 0x9a on the boot CPU, 0x9b on the APs. */
    vmsa_build(page, VMSA_BSP_EIP, 1, 0x800f12, VMSA_VMM_EC2);
    CHECK(page[0x10 + 2] == 0x9a && page[0x20 + 2] == 0x92 && page[0x90 + 2] == 0x83);
    CHECK(page[0x310] == 0x00 && page[0x311] == 0x06 && page[0x312] == 0 && page[0x313] == 0);
    CHECK(page[0x408] == 0 && page[0x409] == 0 && page[0x410] == 0 && page[0x411] == 0);
    CHECK(page[0x268] == 0x06 && page[0x269] == 0x04 && page[0x26a] == 0x07); /* default PAT */
    uint8_t other[MEASURE_PAGE];
    vmsa_build(other, VMSA_BSP_EIP, 1, 0xb00f00, VMSA_VMM_EC2);
    CHECK(memcmp(page, other, MEASURE_PAGE) == 0);
    vmsa_build(page, 0x80b004, 1, 0x800f12, VMSA_VMM_EC2);
    CHECK(page[0x10 + 2] == 0x9b && page[0x311] == 0x06);
    vmsa_build(page, 0x80b004, 0x21, 0x800f12, VMSA_VMM_QEMU);
    CHECK(page[0x410] == 0x7f && page[0x411] == 0x03);  /* x87 FCW on QEMU */
    vmsa_build(page, VMSA_BSP_EIP, 1, 0x800f12, VMSA_VMM_GCE);
    CHECK(page[0x310] == 0x00 && page[0x311] == 0x06); /* RDX = 0x600 */
    CHECK(page[0x268] == 0x06 && page[0x269] == 0x01 && page[0x26a] == 0x07 && page[0x26b] == 0);
    CHECK(page[0x408] == 0 && page[0x410] == 0);
    vmsa_build(other, VMSA_BSP_EIP, 1, 0xa10f10, VMSA_VMM_GCE);
    CHECK(memcmp(page, other, MEASURE_PAGE) == 0);
    vmsa_vmm v;
    CHECK(vmsa_vmm_from_name("QEMU", &v) == 0 && v == VMSA_VMM_QEMU);
    CHECK(vmsa_vmm_from_name("gce", &v) == 0 && v == VMSA_VMM_GCE);
    CHECK(vmsa_vmm_from_name("kvm", &v) == -1);
}

TEST(sev_hashes_layout)
{
    sev_hashes h;
    uint8_t t[SEV_HASHES_TABLE_PADDED], page[MEASURE_PAGE];
    CHECK(sev_hashes_compute("/dev/null", NULL, NULL, &h) == MEASURE_OK);
    /* SHA-256("") for kernel and initrd, SHA-256("\0") for the empty command line */
    CHECK(hex_eq(h.kernel, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(memcmp(h.kernel, h.initrd, 32) == 0);
    CHECK(hex_eq(h.cmdline, 32, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    sev_hashes h2;
    CHECK(sev_hashes_compute("/dev/null", NULL, "", &h2) == MEASURE_OK);
    CHECK(memcmp(h.cmdline, h2.cmdline, 32) == 0);
    sev_hashes_table(&h, t);
    /* header GUID 9438d606-4f22-4cc9-b479-a793d411fd21 in bytes_le, length 168 */
    CHECK(t[0] == 0x06 && t[1] == 0xd6 && t[2] == 0x38 && t[3] == 0x94 && t[15] == 0x21);
    CHECK(t[16] == 168 && t[17] == 0);
    CHECK(t[18] == 0xd8 && t[34] == 50);              /* cmdline entry first */
    CHECK(memcmp(t + 18 + 18, h.cmdline, 32) == 0);
    CHECK(memcmp(t + 18 + 2 * 50 + 18, h.kernel, 32) == 0);
    for (size_t i = 168; i < SEV_HASHES_TABLE_PADDED; i++)
        CHECK(t[i] == 0);
    CHECK(sev_hashes_page(&h, 0xc00, page) == MEASURE_OK);
    CHECK(memcmp(page + 0xc00, t, sizeof(t)) == 0 && page[0xbff] == 0);
    CHECK(sev_hashes_page(&h, 4096 - 175, page) == MEASURE_ERR_OVMF_FORMAT);
    CHECK(sev_hashes_compute("/nonexistent", NULL, NULL, &h) == MEASURE_ERR_IO);
}

/* Hostile firmware: every single-byte corruption of the footer/metadata area and every lie in
 * the sizes must parse or fail cleanly (run under ASan for the out-of-bounds part). */
TEST(ovmf_hostile)
{
    size_t len;
    uint8_t *fw = test_read_file(SNPDIR "fixtures/ovmf_AmdSev_suffix.bin", &len);
    CHECK(fw != NULL);
    if (!fw) return;
    uint8_t *copy = malloc(len);
    ovmf_info o;
    static const uint8_t vals[] = { 0x00, 0x01, 0x11, 0x12, 0x7f, 0x80, 0xff };
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t v = 0; v < sizeof(vals); v++) {
            memcpy(copy, fw, len);
            copy[pos] = vals[v];
            measure_err rc = ovmf_parse(copy, len, &o);
            if (rc == MEASURE_OK) {
                CHECK(o.nsections <= MEASURE_MAX_SECTIONS);
            } else {
                CHECK(rc == MEASURE_ERR_OVMF_FORMAT || rc == MEASURE_ERR_OVMF_SECTION ||
                      rc == MEASURE_ERR_TOO_BIG);
            }
        }
    }
    /* footer table length larger than the image */
    memcpy(copy, fw, len);
    copy[len - 50] = 0xff;
    copy[len - 49] = 0xff;
    CHECK(ovmf_parse(copy, len, &o) == MEASURE_ERR_OVMF_FORMAT);
    /* metadata offset-from-end smaller than the metadata header (found by fuzz_ovmf) */
    for (uint32_t off = 0; off < 16; off++) {
        memcpy(copy, fw, len);
        ovmf_info ref;
        CHECK(ovmf_parse(fw, len, &ref) == MEASURE_OK);
        /* the metadata entry's data is the 4 bytes before its 18-byte header; find it via parse */
        for (size_t pos = len - 50 - 200; pos < len - 50; pos++) {
            static const uint8_t g[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                           0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
            if (memcmp(copy + pos, g, 16) == 0) {
                copy[pos - 6] = (uint8_t)off;
                copy[pos - 5] = copy[pos - 4] = copy[pos - 3] = 0;
            }
        }
        CHECK(ovmf_parse(copy, len, &o) == MEASURE_ERR_OVMF_FORMAT);
    }
    /* a short image: every length below the footer's fixed offset */
    for (size_t n = 0; n < 50; n++)
        CHECK(ovmf_parse(fw + len - n, n, &o) == MEASURE_ERR_OVMF_FORMAT);
    CHECK(ovmf_parse(NULL, 0, &o) == MEASURE_ERR_ARG);
    free(copy);
    free(fw);
}

static size_t build_pe(uint8_t *b, size_t cap)
{
    /* DOS stub + PE32+ headers + one section of 512 bytes; SizeOfHeaders 0x200. */
    memset(b, 0, cap);
    b[0] = 'M'; b[1] = 'Z';
    b[0x3c] = 0x40;
    memcpy(b + 0x40, "PE\0\0", 4);
    uint8_t *coff = b + 0x44;
    coff[0] = 0x64; coff[1] = 0x86;        /* x86-64 */
    coff[2] = 1;                            /* one section */
    coff[16] = 240;                         /* SizeOfOptionalHeader */
    uint8_t *opt = coff + 20;
    opt[0] = 0x0b; opt[1] = 0x02;           /* PE32+ */
    opt[60] = 0x00; opt[61] = 0x02;         /* SizeOfHeaders 0x200 */
    opt[68] = 10;                           /* EFI application */
    opt[108] = 16;                          /* NumberOfRvaAndSizes */
    uint8_t *sh = opt + 240;
    memcpy(sh, ".text", 5);
    sh[16] = 0x00; sh[17] = 0x02;           /* SizeOfRawData 0x200 */
    sh[20] = 0x00; sh[21] = 0x02;           /* PointerToRawData 0x200 */
    for (size_t i = 0x200; i < 0x400; i++)
        b[i] = (uint8_t)i;
    return 0x400;
}

TEST(pe_hash_structure_and_hostile)
{
    uint8_t b[0x400], copy[0x400], d1[64], d2[64];
    size_t n = build_pe(b, sizeof(b)), dl = 0;
    pe_info pi;
    CHECK(pe_authenticode_hash(b, n, "sha256", d1, &dl, &pi) == MEASURE_OK && dl == 32);
    CHECK(pi.pe32plus && pi.subsystem == 10 && pi.nsections == 1 && pi.cert_size == 0);
    /* the checksum field is not hashed */
    memcpy(copy, b, n);
    copy[0x58 + 64] ^= 0xff;
    CHECK(pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL) == MEASURE_OK && memcmp(d1, d2, 32) == 0);
    /* section bytes are */
    memcpy(copy, b, n);
    copy[0x300] ^= 1;
    CHECK(pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL) == MEASURE_OK && memcmp(d1, d2, 32) != 0);
    /* every truncation and every single-byte corruption of the headers parses or fails cleanly */
    for (size_t len = 0; len < n; len++) {
        uint8_t *t = malloc(len ? len : 1);
        memcpy(t, b, len);
        measure_err rc = pe_authenticode_hash(t, len, "sha256", d2, &dl, NULL);
        CHECK(rc == MEASURE_OK || rc == MEASURE_ERR_PE_FORMAT);
        free(t);
    }
    for (size_t pos = 0; pos < 0x200; pos++) {
        for (int v = 0; v < 256; v += 51) {
            memcpy(copy, b, n);
            copy[pos] = (uint8_t)v;
            measure_err rc = pe_authenticode_hash(copy, n, "sha256", d2, &dl, NULL);
            CHECK(rc == MEASURE_OK || rc == MEASURE_ERR_PE_FORMAT || rc == MEASURE_ERR_TOO_BIG);
        }
    }
    CHECK(pe_authenticode_hash(b, n, "nosuchhash", d2, &dl, NULL) == MEASURE_ERR_ARG);
}

/* A UKI-shaped PE: .linux (itself a PE), .cmdline, .initrd. PCR 11, the kernel's Authenticode
 * digest for PCR 4 and PCR 9 follow the rules seen on the real boot (tests/measure/test_boot_uki.sh). */
TEST(uki_sections_pcr9)
{
    uint8_t inner[0x400], img[0x1000];
    build_pe(inner, sizeof(inner));
    size_t n = build_pe(img, sizeof(img));
    /* turn the outer PE's one section into three: .linux at 0x400, .cmdline at 0x800, .initrd at 0xa00 */
    uint8_t *coff = img + 0x44, *sh = img + 0x58 + 240;
    coff[2] = 4;
    struct { const char *name; uint32_t vs, ptr; } secs[3] = {
        { ".linux", 0x400, 0x400 }, { ".cmdline", 4, 0x800 }, { ".initrd", 0x10, 0xa00 } };
    for (int i = 0; i < 3; i++) {
        uint8_t *h = sh + 40 * (i + 1);
        memset(h, 0, 40);
        memcpy(h, secs[i].name, strlen(secs[i].name));
        h[8] = (uint8_t)secs[i].vs; h[9] = (uint8_t)(secs[i].vs >> 8);
        h[16] = 0x00; h[17] = 0x02;                 /* SizeOfRawData 0x200 */
        h[20] = (uint8_t)secs[i].ptr; h[21] = (uint8_t)(secs[i].ptr >> 8);
    }
    sh[17] = 0x02;                                  /* first section: 0x200 raw bytes at 0x200 */
    memcpy(img + 0x400, inner, 0x400);
    memcpy(img + 0x800, "ab c", 4);
    memset(img + 0xa00, 0x5a, 0x10);
    n = 0xc00;
    /* .linux needs 0x400 raw bytes: widen its raw size */
    sh[40 + 17] = 0x04;
    pcr_predict_uki_result u;
    CHECK(pcr_predict_uki_pcr11(img, n, &u) == MEASURE_OK);
    CHECK(u.is_uki && u.has_linux_pe && u.has_load_options && u.has_initrd && u.has_pcr9);
    uint8_t want[32], d[32];
    size_t dl = 0;
    CHECK(pe_authenticode_hash(inner, sizeof(inner), "sha256", want, &dl, NULL) == MEASURE_OK);
    CHECK(memcmp(u.linux_authenticode, want, 32) == 0);
    /* LoadOptions: UTF-16LE "ab c" and a NUL */
    static const uint8_t u16[10] = { 'a', 0, 'b', 0, ' ', 0, 'c', 0, 0, 0 };
    CHECK(tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, u16, sizeof(u16), d) == TPM_EVENTLOG_OK);
    CHECK(memcmp(u.load_options_digest, d, 32) == 0);
    uint8_t p9[32] = { 0 };
    tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, p9, d);
    CHECK(tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, img + 0xa00, 0x10, d) == TPM_EVENTLOG_OK);
    CHECK(memcmp(u.initrd_digest, d, 32) == 0);
    tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, p9, d);
    CHECK(memcmp(u.pcr9, p9, 32) == 0);
    CHECK(u.nevents == 6);
    /* a command line that is not UTF-8: PCR 9 is not predicted */
    img[0x801] = 0xff;
    CHECK(pcr_predict_uki_pcr11(img, n, &u) == MEASURE_OK && u.is_uki && !u.has_pcr9);
    /* no .linux section: not a UKI */
    memcpy(sh + 40, ".text2\0\0", 8);
    CHECK(pcr_predict_uki_pcr11(img, n, &u) == MEASURE_OK && !u.is_uki);
}

/* PCR 4 from the EFI application digests a real GCE firmware measured equals the PCR 4 value
 * read from that machine's vTPM (go-eventlog's Rhel8GCE, COS101AmdSev, ...): our model of the
 * boot-manager events before the applications is right. */
TEST(pcr4_prediction_matches_real_vtpms)
{
    json_error_t jerr;
    json_t *root = json_load_file(LOGDIR "expected_pcrs.json", 0, &jerr);
    CHECK(root != NULL);
    if (!root) return;
    int checked = 0;
    const char *name;
    json_t *e;
    json_object_foreach(root, name, e) {
        json_t *apps = json_object_get(json_object_get(e, "expected_efi_app_digests"), "sha256");
        const char *want = json_string_value(json_object_get(
            json_object_get(json_object_get(e, "expected_pcrs"), "sha256"), "4"));
        if (!json_is_array(apps) || !want || json_array_size(apps) > PCR_PREDICT_MAX_APPS)
            continue;
        uint8_t d[PCR_PREDICT_MAX_APPS][32];
        size_t n = json_array_size(apps);
        for (size_t i = 0; i < n; i++)
            CHECK(unhex(json_string_value(json_array_get(apps, i)), d[i], 32) == 32);
        pcr_predict_pcr4_result r;
        CHECK(pcr_predict_pcr4((const uint8_t (*)[32])d, n, 0, &r) == MEASURE_OK);
        if (!hex_eq(r.pcr4, 32, want)) {
            fprintf(stderr, "  %s: predicted PCR 4 differs from the vTPM's\n", name);
            test_case_failed = 1;
        }
        CHECK(r.nevents == n + 2);
        checked++;
    }
    CHECK(checked >= 2);
    json_decref(root);
    uint8_t one[1][32] = { { 0 } };
    pcr_predict_pcr4_result r;
    CHECK(pcr_predict_pcr4((const uint8_t (*)[32])one, 0, 0, &r) == MEASURE_ERR_ARG);
    CHECK(pcr_predict_pcr4((const uint8_t (*)[32])one, 1, PCR_PREDICT_MAX_FAILED_BOOTS + 1, &r) == MEASURE_ERR_ARG);
    CHECK(pcr_predict_pcr4((const uint8_t (*)[32])one, 1, 2, &r) == MEASURE_OK && r.nevents == 7);
    CHECK(r.events[2].action && strcmp(r.events[2].action, PCR_PREDICT_RETURNING_EFI_APP) == 0);
}

int main(void)
{
    RUN(ovmf_amdsev_layout);
    RUN(snp_ovmf_hash_published_vector);
    RUN(launch_api_matches_testdata);
    RUN(launch_api_matches_upstream_vectors);
    RUN(vcpu_signatures);
    RUN(vmsa_fields);
    RUN(sev_hashes_layout);
    RUN(ovmf_hostile);
    RUN(pe_hash_structure_and_hostile);
    RUN(uki_sections_pcr9);
    RUN(pcr4_prediction_matches_real_vtpms);
    return test_done();
}
