/* Unit tests for login/proxy_v2: PROXY protocol v2 headers (whole, cut, malformed) and the
 * address ranges they are accepted from. */
#include "test.h"
#include "login/limits.h"
#include "login/proxy_v2.h"
#include <arpa/inet.h>

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* A header: version 2, cmd, family/transport byte, then body (addresses + TLVs). */
static size_t hdr(uint8_t *out, int cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
    memcpy(out, SIG, 12);
    out[12] = (uint8_t)(0x20 | cmd);
    out[13] = fam;
    out[14] = (uint8_t)(blen >> 8);
    out[15] = (uint8_t)blen;
    memcpy(out + 16, body, blen);
    return 16 + blen;
}

TEST(parses_tcp4_and_tcp6)
{
    uint8_t b[600], v4[12 + 7] = {198, 51, 100, 7, 10, 0, 0, 25, 0xc3, 0x50, 0x01, 0xbb,
                                  0x04, 0x00, 0x04, 'a', 'b', 'c', 'd'};        /* + a TLV (type 4, 4 bytes) */
    size_t n = hdr(b, 1, 0x11, v4, sizeof v4), need = 0;
    memcpy(b + n, "\x16\x03\x01", 3);                                          /* the client's TLS bytes follow */
    struct proxy_v2 pv;
    CHECK(proxy_v2_parse(b, n + 3, &pv, &need) == PROXY_V2_OK);
    CHECK(pv.header_len == n && pv.has_address && !pv.is_local);
    uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
    CHECK(!memcmp(pv.src, want, 16) && pv.src_port == 50000 && pv.dst_port == 443);

    uint8_t v6[36] = {0};
    inet_pton(AF_INET6, "2001:db8::42", v6);
    inet_pton(AF_INET6, "2001:db8::1", v6 + 16);
    v6[32] = 0x12; v6[33] = 0x34; v6[34] = 0x00; v6[35] = 0x50;
    n = hdr(b, 1, 0x21, v6, sizeof v6);
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_OK);
    CHECK(pv.has_address && !memcmp(pv.src, v6, 16) && pv.src_port == 0x1234 && pv.dst_port == 80);
}

TEST(local_and_unspec_carry_no_address)
{
    uint8_t b[64], v4[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2};
    size_t need;
    struct proxy_v2 pv;
    size_t n = hdr(b, 0, 0x11, v4, sizeof v4);                  /* LOCAL (a health check): addresses ignored */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_OK && pv.is_local && !pv.has_address);
    n = hdr(b, 1, 0x00, NULL, 0);                               /* PROXY, UNSPEC */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_OK && !pv.has_address && pv.header_len == 16);
}

TEST(short_input_asks_for_more_and_never_reads_past_len)
{
    uint8_t b[64], v4[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2};
    size_t n = hdr(b, 1, 0x11, v4, sizeof v4), need;
    struct proxy_v2 pv;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);                   /* ASan sees any read past cut */
        memcpy(copy, b, cut);
        CHECK(proxy_v2_parse(copy, cut, &pv, &need) == PROXY_V2_SHORT);
        CHECK(need == (cut < 16 ? 16 : n));
        free(copy);
    }
}

TEST(refuses_what_is_not_a_v2_header)
{
    uint8_t b[700], v4[12] = {0};
    size_t need;
    struct proxy_v2 pv;
    CHECK(proxy_v2_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &pv, &need) == PROXY_V2_BAD_SIGNATURE);
    CHECK(proxy_v2_parse((const uint8_t *)"\x16\x03", 2, &pv, &need) == PROXY_V2_BAD_SIGNATURE);  /* a TLS hello */
    CHECK(proxy_v2_parse((const uint8_t *)"PROXY TCP4 ", 11, &pv, &need) == PROXY_V2_BAD_SIGNATURE); /* v1 is not taken */
    size_t n = hdr(b, 1, 0x11, v4, sizeof v4);
    b[12] = 0x11;                                               /* version 1 */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_VERSION);
    b[12] = 0x22;                                               /* command 2 */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_COMMAND);
    n = hdr(b, 1, 0x11, v4, 8);                                 /* TCP4 needs 12 address bytes */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_ADDRESS);
    n = hdr(b, 1, 0x12, v4, sizeof v4);                         /* UDP over a TCP connection */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_ADDRESS);
    n = hdr(b, 1, 0x51, v4, sizeof v4);                         /* family 5 */
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_ADDRESS);
    uint8_t tlv[12 + 4] = {0};
    tlv[12] = 0x20; tlv[13] = 0x00; tlv[14] = 0x05;             /* TLV claims 5 bytes, 1 present */
    n = hdr(b, 1, 0x11, tlv, sizeof tlv);
    CHECK(proxy_v2_parse(b, n, &pv, &need) == PROXY_V2_BAD_TLV);
    uint8_t big[LIMIT_PROXY_V2_BYTES] = {0};
    n = hdr(b, 1, 0x11, big, LIMIT_PROXY_V2_BYTES - 15);        /* one byte over the cap */
    CHECK(proxy_v2_parse(b, 16, &pv, &need) == PROXY_V2_TOOBIG);
    n = hdr(b, 1, 0x11, big, LIMIT_PROXY_V2_BYTES - 16);        /* exactly the cap: fine (all zero TLVs... of type 0) */
    CHECK(proxy_v2_parse(b, n, &pv, &need) != PROXY_V2_TOOBIG);
}

TEST(address_ranges)
{
    struct proxy_cidr c;
    uint8_t ip[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 77};
    CHECK(proxy_cidr_parse("10.0.0.0/24", 11, &c) == 0 && c.prefix == 120);
    CHECK(proxy_cidr_contains(&c, ip));
    ip[14] = 1;
    CHECK(!proxy_cidr_contains(&c, ip));
    CHECK(proxy_cidr_parse("10.0.0.0/23", 11, &c) == 0 && proxy_cidr_contains(&c, ip));
    CHECK(proxy_cidr_parse("127.0.0.1/32", 12, &c) == 0);
    ip[13] = 0; ip[14] = 0; ip[15] = 77;
    CHECK(!proxy_cidr_contains(&c, ip));
    CHECK(proxy_cidr_parse("0.0.0.0/0", 9, &c) == 0 && proxy_cidr_contains(&c, ip));
    uint8_t v6[16];
    inet_pton(AF_INET6, "2001:db8::42", v6);
    CHECK(proxy_cidr_parse("2001:db8::/32", 13, &c) == 0 && c.prefix == 32 && proxy_cidr_contains(&c, v6));
    CHECK(!proxy_cidr_contains(&c, ip));
    const char *bad[] = {"10.0.0.0", "10.0.0.1/24", "10.0.0.0/33", "10.0.0.0/", "/24", "10.0.0.0/024", "10.0.0.0/2x",
                         "2001:db8::/129", "example/8", "10.0.0.0/24 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(proxy_cidr_parse(bad[i], strlen(bad[i]), &c) == -1);
    CHECK(proxy_cidr_parse("10.0.0.0/24", 8, &c) == -1);        /* (ptr, len): the range is cut at len */
}

int main(void)
{
    RUN(parses_tcp4_and_tcp6);
    RUN(local_and_unspec_carry_no_address);
    RUN(short_input_asks_for_more_and_never_reads_past_len);
    RUN(refuses_what_is_not_a_v2_header);
    RUN(address_ranges);
    return test_done();
}
