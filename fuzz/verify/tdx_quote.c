/* libFuzzer target: Intel TDX DCAP quotes (verify/tdx_quote) through every tdx-quote step
 * (verify/tdx_check: signatures, QE binding, PCK chain, CCEL replay with the input's tail as the
 * log). Properties: borrowed regions lie inside the input in their layout order and the PCK chain
 * ends the quote; no input chains to the pinned Intel root (nothing here is Intel-signed), so the
 * chain step never passes and the check never passes. */
#include "verify/tdx_check.h"
#include <stdlib.h>
#include <string.h>

static int passed(const struct steps *st, const char *id)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, id) && st->v[i].status == STEP_PASS)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tdx_quote q;
    if (tdx_quote_parse(data, size, &q) == TDX_QUOTE_OK) {
        size_t h = q.version == 5 ? 54 : 48;
        size_t bl = q.body_type == 3 ? TDX_QUOTE_BODY15_LEN : TDX_QUOTE_BODY10_LEN;
        if (q.signed_data != data || q.signed_len != h + bl)
            abort();
        if (q.qe_report != data + q.signed_len + 4 + 128 + 6)
            abort();
        if (q.qe_auth != q.qe_report + TDX_QUOTE_QE_REPORT_LEN + 64 + 2)
            abort();
        if (q.pck_chain != q.qe_auth + q.qe_auth_len + 6 || q.pck_chain + q.pck_chain_len != data + size)
            abort();
    }
    struct tdx_check_in in;
    memset(&in, 0, sizeof in);
    in.quote = data;
    in.quote_len = size;
    in.at = 1900000000;
    if (size > 64) {   /* the last bytes double as a CCEL log */
        in.ccel = data + size - 64;
        in.ccel_len = 64;
    }
    struct steps st;
    if (steps_init(&st))
        return 0;
    struct tdx_quote q2;
    int parsed;
    tdx_check_run(&in, &st, "quote", &q2, &parsed);
    if (passed(&st, "tdx.pck_chain") || st.failed == 0)
        abort();
    steps_free(&st);
    return 0;
}
