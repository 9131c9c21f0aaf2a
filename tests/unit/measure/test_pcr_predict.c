/* Unit tests for measure/pcr_predict: a UKI's PCR 11/PCR 9 events, and the PCR 4 prediction
 * checked against PCR values read from real GCE vTPMs (go-eventlog testdata). */
#include "test.h"

#include <jansson.h>

#include "common/tpm_eventlog.h"
#include "measure/pcr_predict.h"
#include "measure/pe_hash.h"
#include "pe_build.h"

#define LOGDIR "../shared/testdata/tpm-eventlogs-go-eventlog/"

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
            CHECK(test_unhex(json_string_value(json_array_get(apps, i)), d[i], 32) == 32);
        pcr_predict_pcr4_result r;
        CHECK(pcr_predict_pcr4((const uint8_t (*)[32])d, n, 0, &r) == MEASURE_OK);
        if (!test_hex_eq(r.pcr4, 32, want)) {
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
    RUN(uki_sections_pcr9);
    RUN(pcr4_prediction_matches_real_vtpms);
    return test_done();
}
