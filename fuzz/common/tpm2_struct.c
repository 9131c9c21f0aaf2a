/* libFuzzer target: TPMS_ATTEST (quote) and TPMT_SIGNATURE decoding (common/tpm2_struct). Property:
 * whatever parses re-encodes to exactly the input (the parsers accept one canonical structure and
 * no trailing bytes), and every borrowed pointer lies inside the input. */
#include "common/tpm2_struct.h"
#include <stdlib.h>
#include <string.h>

static uint8_t out[4096];
static size_t n;

static void put(const void *p, size_t len)
{
    if (n + len > sizeof out)
        abort();
    memcpy(out + n, p, len);
    n += len;
}

static void be(uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        put(&b, 1);
    }
}

static void inside(const uint8_t *p, size_t len, const uint8_t *d, size_t size)
{
    if (len && (p < d || p + len > d + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tpm2_quote q;
    if (tpm2_quote_parse(data, size, &q) == TPM2_OK) {
        inside(q.qualified_signer, q.qualified_signer_len, data, size);
        inside(q.extra_data, q.extra_data_len, data, size);
        inside(q.pcr_digest, q.pcr_digest_len, data, size);
        n = 0;
        be(q.magic, 4);
        be(q.type, 2);
        be(q.qualified_signer_len, 2);
        put(q.qualified_signer, q.qualified_signer_len);
        be(q.extra_data_len, 2);
        put(q.extra_data, q.extra_data_len);
        be(q.clock, 8);
        be(q.reset_count, 4);
        be(q.restart_count, 4);
        be(q.safe, 1);
        be(q.firmware_version, 8);
        be(q.nsel, 4);
        for (size_t i = 0; i < q.nsel; i++) {
            be(q.sel[i].hash, 2);
            be(q.sel[i].size, 1);
            put(q.sel[i].select, q.sel[i].size);
        }
        be(q.pcr_digest_len, 2);
        put(q.pcr_digest, q.pcr_digest_len);
        if (n != size || memcmp(out, data, size))
            abort();
    }
    struct tpm2_signature s;
    if (tpm2_signature_parse(data, size, &s) == TPM2_OK) {
        n = 0;
        be(s.sig_alg, 2);
        be(s.hash_alg, 2);
        if (s.sig_alg == TPM2_ALG_ECDSA) {
            inside(s.r, s.r_len, data, size);
            inside(s.s, s.s_len, data, size);
            be(s.r_len, 2);
            put(s.r, s.r_len);
            be(s.s_len, 2);
            put(s.s, s.s_len);
        } else {
            inside(s.rsa, s.rsa_len, data, size);
            be(s.rsa_len, 2);
            put(s.rsa, s.rsa_len);
        }
        if (n != size || memcmp(out, data, size))
            abort();
    }
    return 0;
}
