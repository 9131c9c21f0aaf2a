/* cmd_tdx: `sealed-verify tdx-quote QUOTE [--ccel LOG]`: one Intel TDX DCAP quote checked up to
 * the pinned Intel SGX Root CA, with every field printed. Loads files only; the checks are
 * tdx_check's. */
#include "verify/cli.h"
#include "verify/tdx_check.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include <stdlib.h>
#include <string.h>

int cmd_tdx_quote(struct verify_opts *o)
{
    int rc = 2, ntrust = 0;
    uint8_t *quote = NULL, *log = NULL, rd[64];
    size_t ql = 0, ll = 0;
    char err[256] = "";
    X509 *trust[VERIFY_MAX_CHAIN_CERTS] = {0};
    struct steps st;
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify tdx-quote: give the quote file\n");
        goto out;
    }
    if (!(quote = verify_read_file(o->file, VERIFY_MAX_INPUT_FILE, &ql, err, sizeof err)) ||
        (o->ccel && !(log = verify_read_file(o->ccel, VERIFY_MAX_EVENTLOG, &ll, err, sizeof err)))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    if (o->report_data && verify_hex_arg(o->report_data, rd, sizeof rd) != 64) {
        fprintf(stderr, "sealed-verify: --report-data wants 128 lowercase hex digits\n");
        goto out;
    }
    if ((ntrust = cli_load_trust_roots(o, trust, VERIFY_MAX_CHAIN_CERTS)) < 0)
        goto out;
    struct tdx_check_in in = {
        .quote = quote, .quote_len = ql, .ccel = log, .ccel_len = ll,
        .expected_report_data = o->report_data ? rd : NULL, .trust_roots = trust, .ntrust_roots = ntrust,
        .trust_root_file = o->trust_root, .at = o->at, .allow_debug = o->snp.allow_debug,
    };
    struct tdx_quote q;
    int parsed;
    tdx_check_run(&in, &st, "quote", &q, &parsed);
    if (o->json) {
        steps_print_json(&st, stdout, "tdx-quote");
    } else {
        steps_print(&st, stdout, "sealed-verify tdx-quote");
        json_t *f = json_object_get(st.fields, "quote");
        if (f) {
            printf("fields:\n");
            cli_print_fields(f, stdout, 2);
        }
        printf("%s\n", st.failed ? "RESULT: FAIL - at least one check above failed" :
               "RESULT: PASS - a TDX quoting enclave certified by the PCK chain above signed this TD report");
    }
    rc = st.failed ? 1 : 0;
out:
    free(quote);
    free(log);
    for (int i = 0; i < ntrust; i++)
        X509_free(trust[i]);
    steps_free(&st);
    return rc;
}
