/* libFuzzer target: the strict decoders and the number parser (common/codec), every input through
 * each. Properties: whatever decodes re-encodes to exactly the input (the decoders accept one
 * canonical text per value, hex in either case: no whitespace, no stray padding, canonical trailing bits); a decoder
 * never writes past cap, and with one byte less than it needs it fails; a parsed number prints
 * back to the input and is refused by bounds that exclude it. */
#include "fuzz.h"
#include "common/codec.h"
#include <inttypes.h>
#include <strings.h>

static uint8_t out[4096 + 1];
static char back[2 * 4096 + 8];

typedef size_t (*decode_fn)(const char *, size_t, uint8_t *, size_t);
typedef size_t (*encode_fn)(const uint8_t *, size_t, char *, size_t);

static void roundtrip(const char *s, size_t len, decode_fn dec, encode_fn enc, int anycase)
{
    if (len > 2 * 4096)
        return;
    out[4096] = 0xa5;
    size_t n = dec(s, len, out, 4096);
    FUZZ_REQUIRE(out[4096] == 0xa5);
    if (n == (size_t)-1)
        return;
    FUZZ_REQUIRE(n <= len);
    size_t m = enc(out, n, back, sizeof back);
    FUZZ_REQUIRE(m == len && !(anycase ? strncasecmp(back, s, len) : memcmp(back, s, len)));
    if (n > 0)
        FUZZ_REQUIRE(dec(s, len, out, n - 1) == (size_t)-1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    roundtrip(s, size, codec_b64_decode, codec_b64_encode, 0);
    roundtrip(s, size, codec_b64url_decode, codec_b64url_encode, 0);
    roundtrip(s, size, codec_hex_decode, codec_hex_encode, 1);

    size_t n;
    uint8_t *a = codec_b64url_decode_alloc(s, size, &n);
    if (a) {
        FUZZ_REQUIRE(a[n] == 0);
        char *e = codec_b64url_encode_alloc(a, n);
        FUZZ_REQUIRE(e && strlen(e) == size && !memcmp(e, s, size));
        free(e);
        free(a);
    }

    uint64_t v, w;
    if (codec_parse_u64(s, size, 0, UINT64_MAX, &v) == 0) {
        char d[32];
        int k = snprintf(d, sizeof d, "%" PRIu64, v);
        FUZZ_REQUIRE((size_t)k == size && !memcmp(d, s, size));
        FUZZ_REQUIRE(codec_parse_u64(s, size, v, v, &w) == 0 && w == v);
        FUZZ_REQUIRE(v == UINT64_MAX || codec_parse_u64(s, size, v + 1, UINT64_MAX, &w) == -1);
        FUZZ_REQUIRE(v == 0 || codec_parse_u64(s, size, 0, v - 1, &w) == -1);
    }
    return 0;
}
