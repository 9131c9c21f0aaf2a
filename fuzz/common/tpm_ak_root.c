/* libFuzzer target: AK certificate chains (common/tpm_ak_root), as the verifier and the tpm2
 * provider read a vTPM's certificate. The input is DER certificates back to back: the AK
 * certificate, then up to four chain certificates. Properties: without test roots a chain is never
 * TEST-rooted; the answer does not depend on being asked twice; a VENDOR answer names its root and
 * a chain that starts at the leaf, a NONE answer says why; the leaf's GCE instance extension, when
 * one parses, converts to JSON with its strings intact. */
#include "fuzz.h"
#include "common/tpm_ak_root.h"

#define AT 1767225600   /* 2026-01-01: inside the pinned roots' validity */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    X509 *certs[5] = { 0 };
    int n = 0;
    const uint8_t *p = data;
    while (n < 5 && p < data + size) {
        const uint8_t *q = p;
        X509 *x = d2i_X509(NULL, &q, (long)(data + size - p));
        if (!x)
            break;
        certs[n++] = x;
        p = q;
    }
    if (n == 0)
        return 0;
    struct tpm_ak_root_result a, b;
    tpm_ak_root_kind ka = tpm_ak_root_check(certs[0], certs + 1, n - 1, NULL, 0, AT, &a);
    tpm_ak_root_kind kb = tpm_ak_root_check(certs[0], certs + 1, n - 1, NULL, 0, AT, &b);
    FUZZ_REQUIRE(ka == a.kind && kb == ka && ka != TPM_AK_ROOT_TEST);
    fuzz_printable(a.root, sizeof a.root);
    fuzz_printable(a.chain, sizeof a.chain);
    fuzz_printable(a.why, sizeof a.why);
    if (ka == TPM_AK_ROOT_VENDOR)
        FUZZ_REQUIRE(a.root[0] && !strncmp(a.chain, "CN=", 3) && !strcmp(a.chain, b.chain));
    else
        FUZZ_REQUIRE(a.why[0]);

    struct gce_instance_info g;
    const char *why = NULL;
    int r = tpm_ak_gce_instance(certs[0], &g, &why);
    FUZZ_REQUIRE(r >= -1 && r <= 1 && (r != -1 || why));
    if (r == 1) {
        json_t *j = tpm_ak_gce_instance_json(&g);
        FUZZ_REQUIRE(j && json_is_object(j));
        json_decref(j);
    }
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    return 0;
}
