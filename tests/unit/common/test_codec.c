/* Unit tests for common/codec: base64, base64url and hex round trips, strict decoding (padding,
 * alphabet, non-canonical bits, white space), encoders that need room for the NUL, and the
 * checked number parser codec_parse_u64. */
#include "test.h"
#include "common/codec.h"

TEST(codec_roundtrips_and_strictness)
{
    uint8_t buf[64] = {0}, out[64];
    char s[128];
    for (size_t n = 0; n < 20; n++) {
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 37 + n);
        size_t l = codec_b64_encode(buf, n, s, sizeof s);
        CHECK(codec_b64_decode(s, l, out, sizeof out) == n && !memcmp(buf, out, n));
        l = codec_b64url_encode(buf, n, s, sizeof s);
        CHECK(codec_b64url_decode(s, l, out, sizeof out) == n && !memcmp(buf, out, n));
        l = codec_hex_encode(buf, n, s, sizeof s);
        CHECK(codec_hex_decode(s, l, out, sizeof out) == n && !memcmp(buf, out, n));
    }
    CHECK(codec_b64_encode((const uint8_t *)"foobar", 6, s, sizeof s) == 8);
    CHECK_STR(s, "Zm9vYmFy");
    codec_b64_encode((const uint8_t *)"fo", 2, s, sizeof s);
    CHECK_STR(s, "Zm8=");
    CHECK(codec_b64_decode("Zm9", 3, out, sizeof out) == (size_t)-1);      /* unpadded */
    CHECK(codec_b64_decode("Zm9=", 4, out, sizeof out) == (size_t)-1);     /* non-canonical bits */
    CHECK(codec_b64url_decode("Zm8=", 4, out, sizeof out) == (size_t)-1);  /* padding in url form */
    CHECK(codec_b64url_decode("a+b/", 4, out, sizeof out) == (size_t)-1);  /* wrong alphabet */
    CHECK(codec_b64_decode("Zm 9v", 5, out, sizeof out) == (size_t)-1);
    CHECK(codec_hex_decode("0g", 2, out, sizeof out) == (size_t)-1);
    CHECK(codec_b64_encode(buf, 3, s, 4) == (size_t)-1);                   /* no room for NUL */
    uint64_t v;
    CHECK(codec_parse_u64("123", 3, 0, 1000, &v) == 0 && v == 123);
    CHECK(codec_parse_u64("0123", 4, 0, 1000, &v) == -1);
    CHECK(codec_parse_u64("1001", 4, 0, 1000, &v) == -1);
    CHECK(codec_parse_u64("18446744073709551616", 20, 0, UINT64_MAX, &v) == -1);
    CHECK(codec_parse_u64("18446744073709551615", 20, 0, UINT64_MAX, &v) == 0 && v == UINT64_MAX);
    CHECK(codec_parse_u64("-1", 2, 0, 10, &v) == -1);
}

int main(void)
{
    RUN(codec_roundtrips_and_strictness);
    return test_done();
}
