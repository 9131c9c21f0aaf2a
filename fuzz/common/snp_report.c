/* libFuzzer target: SEV-SNP report parsing and the whole snp-report check (common/snp_report,
 * verify/snp_check) with a real Milan VCEK and AMD's pinned chain. Properties: only exact-size
 * reports of version >= 2 parse; a parsed report re-reads identically; no input other than the
 * real report's signed bytes gets its signature accepted; the policy never passes (the real report
 * is a debug guest). */
#include "common/snp_report.h"
#include "verify/snp_check.h"
#include "verify/amd_chain.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static X509 *vcek;
static uint8_t real[SNP_REPORT_SIZE];
static int have_real;

static uint8_t *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    uint8_t *b = malloc(1 << 16);
    *n = b ? fread(b, 1, 1 << 16, f) : 0;
    fclose(f);
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t n;
    uint8_t *b = slurp("../shared/testdata/snp-reports-go-sev-guest/vcek.der", &n);
    if (b)
        amd_chain_load_certs(b, n, &vcek, 1);
    free(b);
    b = slurp("../shared/testdata/snp-reports-go-sev-guest/attestation.bin", &n);
    if (b && n == SNP_REPORT_SIZE) {
        memcpy(real, b, n);
        have_real = 1;
    }
    free(b);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snp_report r, r2;
    snp_err e = snp_report_parse(data, size, &r);
    if (size != SNP_REPORT_SIZE) {
        if (e != SNP_ERR_SIZE)
            abort();
        return 0;
    }
    uint32_t ver = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if ((e == SNP_OK) != (ver >= 2))
        abort();
    if (e != SNP_OK)
        return 0;
    if (snp_report_parse(data, size, &r2) != SNP_OK || memcmp(&r, &r2, sizeof r))
        abort();
    if (snp_report_signer(&r) > 7)
        abort();
    json_t *j = snp_check_report_json(&r, snp_report_product(&r));
    if (!j)
        abort();
    json_decref(j);
    if (!vcek)
        return 0;
    struct snp_policy pol;
    snp_policy_defaults(&pol);
    pol.at = 1700000000;
    struct steps st;
    if (steps_init(&st))
        return 0;
    struct snp_report pr;
    int parsed = 0;
    snp_check_run(&pol, data, size, vcek, NULL, 0, &st, "report", &pr, &parsed);
    int sig_ok = 0;
    for (size_t i = 0; i < st.n; i++)
        if (!strcmp(st.v[i].id, "snp.signature") && st.v[i].status == STEP_PASS)
            sig_ok = 1;
    if (sig_ok && (!have_real || memcmp(data, real, SNP_REPORT_SIGNED_LEN)))
        abort();   /* a forged report was accepted */
    if (st.failed == 0)
        abort();   /* the only signable report asks for debug: policy must fail */
    steps_free(&st);
    return 0;
}
