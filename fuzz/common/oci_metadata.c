/* libFuzzer target for the cloud wire parsers (common/oci_*.c, common/gcp.c) and OCI date parsing.
 * The first byte picks the parser; the rest is the peer's answer. Asserts properties of the
 * output, not only "no crash": a parsed region is a plain host label, a decoded secret is shorter
 * than its base64, a CRC-checked payload matches its CRC, tokens hold no control characters, error
 * texts are NUL-terminated within their buffers and printable. */
#include "common/gcp.h"
#include "common/oci.h"
#include "common/oci_sign.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>

static void printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    assert(n < cap);
    for (size_t i = 0; i < n; i++)
        assert((unsigned char)s[i] >= 0x20);
}

static int count(void *arg, const char *k, const char *v)
{
    assert(k && v);
    (*(int *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    int which = data[0] % 9;
    const char *p = (const char *)data + 1;
    size_t n = len - 1;
    uint8_t *out = NULL;
    size_t outlen = 0;
    char *tok = NULL;
    int64_t v = 0;
    switch (which) {
    case 0: {
        struct oci_instance in;
        if (oci_instance_parse(p, n, &in) == CLOUD_OK) {
            assert(in.region && in.tenancy && in.id && in.compartment);
            for (const char *c = in.region; *c; c++)
                assert((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
            unsigned ig;
            int k = 0;
            int r = oci_instance_each_trusted(&in, count, &k, &ig);
            assert(r == k && r <= 5);
        } else {
            assert(in.region == NULL && in.user == NULL);
        }
        oci_instance_clear(&in);
        break;
    }
    case 1:
        if (oci_vault_parse(p, n, &out, &outlen) == CLOUD_OK)
            assert(out && outlen < n && out[outlen] == 0);
        else
            assert(out == NULL);
        break;
    case 2:
        if (oci_federation_parse(p, n, &tok, &v) == CLOUD_OK)
            assert(tok && strlen(tok) < n && !strchr(tok, '"') && v > 0);
        else
            assert(tok == NULL);
        break;
    case 3:
        if (oci_jwt_exp(p, n, &v) == CLOUD_OK)
            assert(v > 0);
        break;
    case 4: {
        int checked;
        cloud_err e = gcp_secret_parse(p, n, &out, &outlen, &checked);
        if (e == CLOUD_OK) {
            assert(out && outlen < n);
            if (checked) {   /* the answer's CRC was present and matches the decoded bytes */
                json_t *j = json_loadb(p, n, 0, NULL);
                json_t *c = json_object_get(json_object_get(j, "payload"), "dataCrc32c");
                unsigned long long want = json_is_string(c) ? strtoull(json_string_value(c), NULL, 10)
                                                            : (unsigned long long)json_integer_value(c);
                assert(c && gcp_crc32c(out, outlen) == (uint32_t)want);
                json_decref(j);
            }
        } else {
            assert(out == NULL);
        }
        break;
    }
    case 5:
        if (gcp_token_parse(p, n, &tok, &v) == CLOUD_OK) {
            assert(v > 0 && *tok);
            for (const char *c = tok; *c; c++)
                assert((unsigned char)*c > ' ' && *c != 0x7f);
        } else {
            assert(tok == NULL);
        }
        break;
    case 6: {
        unsigned ig;
        int k = 0;
        int r = gcp_attributes_each_trusted(p, n, count, &k, &ig);
        assert(r == -1 || (r == k && r <= 5));
        break;
    }
    case 7: {
        char code[64], msg[128];
        oci_error_parse(p, n, code, sizeof code, msg, sizeof msg);
        printable(code, sizeof code);
        printable(msg, sizeof msg);
        char st[32], m2[96];
        gcp_error_parse(p, n, st, sizeof st, m2, sizeof m2);
        printable(st, sizeof st);
        printable(m2, sizeof m2);
        break;
    }
    case 8: {
        time_t t;
        if (oci_sign_parse_date(p, n, &t) == 0) {
            char back[OCI_SIGN_DATE_LEN + 1];
            time_t t2;
            oci_sign_format_date(t, back);   /* what we would send parses back to the same time */
            assert(oci_sign_parse_date(back, strlen(back), &t2) == 0 && t2 == t);
        }
        break;
    }
    }
    if (out)
        free(out);
    free(tok);
    return 0;
}
