/* libFuzzer target: the GCP answers (common/gcp): Secret Manager's versions.access (base64 payload,
 * CRC32C), the service-account token, metadata attributes and error bodies. The first byte picks
 * the parser (mod 4), the rest is the answer. Properties: a decoded secret is shorter than the
 * answer and, when its CRC was checked, matches the CRC in the answer; a token holds no space or
 * control character; at most the five trusted attributes are handed out; error texts are
 * NUL-terminated and printable; a refused answer yields no buffer. */
#include "fuzz.h"
#include "common/gcp.h"
#include <jansson.h>

static int count(void *arg, const char *k, const char *v)
{
    FUZZ_REQUIRE(k && v);
    (*(int *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = len - 1;
    uint8_t *out = NULL;
    size_t outlen = 0;
    char *tok = NULL;
    int64_t v = 0;
    switch (data[0] % 4) {
    case 0: {
        int checked;
        if (gcp_secret_parse(p, n, &out, &outlen, &checked) == CLOUD_OK) {
            FUZZ_REQUIRE(out && outlen < n);
            if (checked) {
                json_t *j = json_loadb(p, n, 0, NULL);
                json_t *c = json_object_get(json_object_get(j, "payload"), "dataCrc32c");
                unsigned long long want = json_is_string(c) ? strtoull(json_string_value(c), NULL, 10)
                                                            : (unsigned long long)json_integer_value(c);
                FUZZ_REQUIRE(c && gcp_crc32c(out, outlen) == (uint32_t)want);
                json_decref(j);
            }
        } else {
            FUZZ_REQUIRE(out == NULL);
        }
        break;
    }
    case 1:
        if (gcp_token_parse(p, n, &tok, &v) == CLOUD_OK) {
            FUZZ_REQUIRE(v > 0 && *tok);
            for (const char *c = tok; *c; c++)
                FUZZ_REQUIRE((unsigned char)*c > ' ' && *c != 0x7f);
        } else {
            FUZZ_REQUIRE(tok == NULL);
        }
        break;
    case 2: {
        unsigned ignored;
        int k = 0;
        int r = gcp_attributes_each_trusted(p, n, count, &k, &ignored);
        FUZZ_REQUIRE(r == -1 || (r == k && r <= 5));
        break;
    }
    case 3: {
        char st[32], msg[96];
        gcp_error_parse(p, n, st, sizeof st, msg, sizeof msg);
        fuzz_printable(st, sizeof st);
        fuzz_printable(msg, sizeof msg);
        break;
    }
    }
    free(out);
    free(tok);
    return 0;
}
