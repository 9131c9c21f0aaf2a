/* Unit tests for login/tls_record: a client's first bytes on a TLS port, whole, cut at every
 * length, and not TLS at all. */
#include "test.h"
#include "login/tls_record.h"

/* A handshake record header with a body of n bytes (the body's bytes do not matter here). */
static size_t record(uint8_t *out, size_t n)
{
    out[0] = 22, out[1] = 3, out[2] = 1, out[3] = (uint8_t)(n >> 8), out[4] = (uint8_t)n;
    memset(out + 5, 0xab, n);
    return 5 + n;
}

TEST(a_whole_record_is_complete_and_every_cut_is_short)
{
    static uint8_t b[TLS_RECORD_MAX_BYTES + 10];
    size_t n = record(b, 512), need = 0;
    CHECK(tls_record_first(b, n, &need) == TLS_RECORD_COMPLETE && need == n);
    CHECK(tls_record_first(b, n + 7, &need) == TLS_RECORD_COMPLETE && need == n);   /* the next record follows */
    for (size_t cut = 0; cut < n; cut++) {
        need = 0;
        CHECK(tls_record_first(b, cut, &need) == TLS_RECORD_SHORT);
        CHECK(need == (cut < 5 ? 5 : n));
    }
    n = record(b, TLS_RECORD_MAX_PLAINTEXT);   /* the largest record there is */
    CHECK(tls_record_first(b, n - 1, &need) == TLS_RECORD_SHORT && need == TLS_RECORD_MAX_BYTES);
    CHECK(tls_record_first(b, n, &need) == TLS_RECORD_COMPLETE && need == TLS_RECORD_MAX_BYTES);
}

TEST(other_protocols_and_impossible_lengths_are_other)
{
    uint8_t b[64];
    size_t need = 77;
    CHECK(tls_record_first((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &need) == TLS_RECORD_OTHER);
    CHECK(tls_record_first((const uint8_t *)"G", 1, &need) == TLS_RECORD_OTHER);         /* at the first byte */
    CHECK(tls_record_first((const uint8_t *)"\x16\x02", 2, &need) == TLS_RECORD_OTHER); /* at the second */
    CHECK(tls_record_first((const uint8_t *)"\x17\x03\x03\x00\x10", 5, &need) == TLS_RECORD_OTHER); /* application data */
    CHECK(tls_record_first((const uint8_t *)"\x80\x2e\x01\x03\x01", 5, &need) == TLS_RECORD_OTHER); /* SSLv2-style hello */
    record(b, 0);
    CHECK(tls_record_first(b, 5, &need) == TLS_RECORD_OTHER);                          /* empty record */
    b[3] = 0x40, b[4] = 0x01;                                                          /* 2^14 + 1 */
    CHECK(tls_record_first(b, 5, &need) == TLS_RECORD_OTHER);
    CHECK(need == 77);                                                                 /* untouched */
    CHECK(tls_record_first(b, 0, &need) == TLS_RECORD_SHORT && need == 5);            /* nothing yet */
}

int main(void)
{
    RUN(a_whole_record_is_complete_and_every_cut_is_short);
    RUN(other_protocols_and_impossible_lengths_are_other);
    return test_done();
}
