/* cmd_snp: `sealed-verify snp-report REPORT ...`: one SEV-SNP report checked against its VCEK or
 * VLEK, the AMD chain and the policy, with every field printed. Loads files only; the checks are
 * snp_check's. */
#include "verify/cli.h"
#include "verify/amd_chain.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

/* Report bytes from a file: raw 1184 bytes, or hex text of them. */
static uint8_t *load_report(const char *path, size_t *len, char *err, size_t errlen)
{
    uint8_t *b = verify_read_file(path, VERIFY_MAX_INPUT_FILE, len, err, errlen);
    if (!b || *len == SNP_REPORT_SIZE)
        return b;
    size_t hl;
    uint8_t *h = verify_hex_text(b, *len, &hl);
    if (h) {
        free(b);
        *len = hl;
        return h;
    }
    return b;   /* the parser reports the wrong size */
}

static X509 *d2i_cert(const uint8_t *p, size_t len)
{
    X509 *x = NULL;
    if (amd_chain_load_certs(p, len, &x, 1) != 1)
        return NULL;
    return x;
}

int cmd_snp_report(struct verify_opts *o)
{
    int rc = 2, nsup = 0, ntrust = 0;
    uint8_t *rep = NULL, *table = NULL;
    X509 *vek = NULL, *sup[VERIFY_MAX_CHAIN_CERTS + 2] = {0}, *trust[VERIFY_MAX_CHAIN_CERTS] = {0};
    struct steps st;
    char err[256] = "";
    size_t len = 0;
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify snp-report: give the report file\n");
        goto out;
    }
    if (!(rep = load_report(o->file, &len, err, sizeof err))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    const char *vekpath = o->vcek ? o->vcek : o->vlek;
    if (vekpath) {
        X509 *one[1];
        if (cli_load_certs_file(vekpath, one, 1, err, sizeof err) != 1) {
            fprintf(stderr, "sealed-verify: %s\n", err);
            goto out;
        }
        vek = one[0];
    }
    if (o->chain) {
        int n = cli_load_certs_file(o->chain, sup, VERIFY_MAX_CHAIN_CERTS, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "sealed-verify: --chain: %s\n", err);
            goto out;
        }
        nsup = n;
    }
    if (o->certs) {
        /* an extended-report certificate table (configfs-tsm auxblob / SNP_GET_EXT_REPORT) */
        size_t tl;
        struct snp_cert_table t;
        if (!(table = verify_read_file(o->certs, SNP_CERT_TABLE_MAX_BYTES, &tl, err, sizeof err))) {
            fprintf(stderr, "sealed-verify: %s\n", err);
            goto out;
        }
        snp_err te = snp_cert_table_parse(table, tl, &t);
        steps_check(&st, te == SNP_OK, NULL, "snp.cert_table", "certificate table %s: %s (%zu entries)", o->certs,
                    snp_strerror(te), t.n);
        for (size_t i = 0; te == SNP_OK && i < t.n; i++) {
            X509 *x = d2i_cert(t.e[i].data, t.e[i].len);
            steps_add(&st, x ? STEP_INFO : STEP_FAIL, "snp.cert_table.entry", "table entry %zu: %s, %zu bytes%s", i,
                      snp_cert_kind_name(t.e[i].kind), t.e[i].len, x ? "" : ", not a certificate");
            if (!x)
                continue;
            if ((t.e[i].kind == SNP_CERT_VCEK || t.e[i].kind == SNP_CERT_VLEK) && !vek)
                vek = x;
            else if ((t.e[i].kind == SNP_CERT_ASK || t.e[i].kind == SNP_CERT_ARK) && nsup < (int)(sizeof sup / sizeof sup[0]))
                sup[nsup++] = x;
            else
                X509_free(x);
        }
    }
    if ((ntrust = cli_load_trust_roots(o, trust, VERIFY_MAX_CHAIN_CERTS)) < 0)
        goto out;

    if (!vek) {
        /* no VCEK given or in the table: one `sealed-verify fetch` cached */
        char cpath[1024];
        if ((vek = cli_cached_vek(o, rep, len, cpath, sizeof cpath))) {
            steps_add(&st, STEP_INFO, "snp.vek.source", "no VCEK given: using the cached %s (and the cached chain)", cpath);
            nsup += cli_cached_chain(o, rep, len, sup + nsup, (int)(sizeof sup / sizeof sup[0]) - nsup);
        }
    }
    struct snp_report r;
    int parsed = 0;
    snp_check_run(&o->snp, rep, len, vek, sup, nsup, &st, "report", &r, &parsed);
    if (parsed && o->report_data) {
        uint8_t want[64];
        size_t wl = verify_hex_arg(o->report_data, want, sizeof want);
        steps_check(&st, wl == 64 && CRYPTO_memcmp(want, r.report_data, 64) == 0, NULL, "snp.report_data",
                    "REPORT_DATA equals --report-data");
    }
    if (o->json) {
        steps_print_json(&st, stdout, "snp-report");
    } else {
        steps_print(&st, stdout, "sealed-verify snp-report");
        json_t *f = json_object_get(st.fields, "report");
        if (f) {
            printf("fields:\n");
            cli_print_fields(f, stdout, 2);
        }
        printf("%s\n", st.failed ? "RESULT: FAIL - at least one check above failed" :
               "RESULT: PASS - the report was signed by an AMD secure processor with the key certified above, "
               "and meets the policy");
    }
    rc = st.failed ? 1 : 0;
out:
    free(rep);
    free(table);
    X509_free(vek);
    for (int i = 0; i < nsup; i++)
        X509_free(sup[i]);
    for (int i = 0; i < ntrust; i++)
        X509_free(trust[i]);
    steps_free(&st);
    return rc;
}
