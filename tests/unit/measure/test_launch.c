/* Unit tests for measure/launch: launch_digest on the testdata cases and on every published
 * sev-snp-measure vector (tests/measure/sev_snp_measure_vectors.json), and its argument checks. */
#include "test.h"
#include "snp_testdata.h"

#include <jansson.h>

#include "measure/launch.h"

/* The API path of the testdata cases (the CLI suite covers all of them). */
TEST(launch_api_matches_testdata)
{
    size_t len;
    uint8_t *fw = amdsev_tail(&len);
    CHECK(fw != NULL);
    if (!fw) return;
    sev_hashes h;
    CHECK(sev_hashes_compute("/dev/null", "/dev/null", "console=ttyS0 loglevel=7", &h) == MEASURE_OK);
    launch_params p = { .mode = LAUNCH_SNP, .ovmf = fw, .ovmf_len = len, .hashes = &h, .vcpus = 1,
                        .vcpu_sig = 0x800f12, .vmm = VMSA_VMM_QEMU, .guest_features = 0x21 };
    launch_result r;
    CHECK(launch_digest(&p, &r) == MEASURE_OK);
    CHECK(test_hex_eq(r.digest, 48, "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb2"
                               "8c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"));
    p.hashes = NULL;
    CHECK(launch_digest(&p, &r) == MEASURE_OK);
    CHECK(test_hex_eq(r.digest, 48, "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af"
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
            CHECK(test_unhex(oh, seed, sizeof(seed)) == SNP_LD_LEN);
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
        if (!test_hex_eq(r.digest, r.digest_len, want) && ++differ <= 5)
            fprintf(stderr, "  %s differs from upstream\n", json_string_value(json_object_get(c, "name")));
        checked++;
        ec2 += vmm == VMSA_VMM_EC2;
        free(fw);
    }
    CHECK(differ == 0);
    CHECK(checked > 100 && ec2 > 50);
    json_decref(doc);
}

int main(void)
{
    RUN(launch_api_matches_testdata);
    RUN(launch_api_matches_upstream_vectors);
    return test_done();
}
