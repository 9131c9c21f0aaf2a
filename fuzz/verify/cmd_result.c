/* libFuzzer target: a result file (compact JWS, JSON forms, payload, evidence) through every step
 * of `sealed-verify result` (verify/cmd_result with common/jose, binding, snp_report and
 * verify/tpm_check). Property: a run with no failed step has a verified JWS signature, a kid equal
 * to the key's thumbprint and a payload REPORT_DATA equal to the recomputation; and it never holds
 * SEV-SNP evidence signed under a test root (none is trusted here). */
#include "verify/cli.h"
#include <stdlib.h>
#include <string.h>

static int passed(const struct steps *st, const char *id)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, id))
            return st->v[i].status == STEP_PASS;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct verify_opts o;
    memset(&o, 0, sizeof o);
    snp_policy_defaults(&o.snp);
    o.at = o.snp.at = 1900000000;
    o.max_skew = 300;
    o.allow_unattested = 1;
    o.skip_measurement = 1;
    o.file = "fuzz";
    o.no_kds_cache = 1;   /* the run depends on the input only, never on a local KDS cache */
    struct steps st;
    if (result_verify_buffer(&o, data, size, &st) < 0)
        return 0;
    if (st.failed == 0) {
        if (!passed(&st, "jws.signature") || !passed(&st, "jws.kid") || !passed(&st, "report_data.payload_a") ||
            !passed(&st, "report_data.payload_b"))
            abort();
        for (size_t i = 0; i < st.n; i++)
            if (!strcmp(st.v[i].id, "snp.chain.vek_signed") && st.v[i].status == STEP_PASS)
                abort();   /* no test root and no AMD-signed forgery possible */
    }
    steps_free(&st);
    return 0;
}
