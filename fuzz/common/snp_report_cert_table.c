/* libFuzzer target: the extended-report certificate table (common/snp_report) and, for each entry,
 * certificate loading and AMD extension reading (verify/amd_chain). Properties: entries lie inside
 * the buffer after the table, do not overlap, have non-zero length, known kinds appear once and
 * match their GUID; extension values stay within their bounds. */
#include "common/snp_report.h"
#include "verify/amd_chain.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snp_cert_table t;
    if (snp_cert_table_parse(data, size, &t) != SNP_OK)
        return 0;
    if (t.n > SNP_CERT_TABLE_MAX || (t.n && size < 24 * (t.n + 1)))
        abort();
    for (size_t i = 0; i < t.n; i++) {
        const struct snp_cert_entry *e = &t.e[i];
        if (e->len == 0 || e->data < data + 24 * (t.n + 1) || e->data + e->len > data + size)
            abort();
        if (e->kind != SNP_CERT_OTHER && memcmp(e->guid, snp_cert_kind_guid(e->kind), 16))
            abort();
        for (size_t j = i + 1; j < t.n; j++) {
            const struct snp_cert_entry *f = &t.e[j];
            if (e->data < f->data + f->len && f->data < e->data + e->len)
                abort();
            if (e->kind != SNP_CERT_OTHER && e->kind == f->kind)
                abort();
        }
        if (e->kind != SNP_CERT_OTHER && snp_cert_table_find(&t, e->kind) != e)
            abort();
        X509 *x = NULL;
        if (amd_chain_load_certs(e->data, e->len, &x, 1) == 1) {
            struct vek_info v;
            if (amd_chain_vek_info(x, &v) == AMD_CHAIN_OK) {
                if (v.hwid_len > 64 || strlen(v.product) >= sizeof v.product || strlen(v.csp_id) >= sizeof v.csp_id)
                    abort();
            }
            amd_chain_verify_link(x, x);
            X509_free(x);
        }
    }
    return 0;
}
