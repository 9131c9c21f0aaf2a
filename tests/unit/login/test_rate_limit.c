/* Unit tests for login/rate_limit: address prefixes (IPv4, IPv4-mapped, an IPv6 /64), the
 * per-address token bucket and its retry hint, and the global bucket. */
#include "test.h"
#include "login/rate_limit.h"
#include <stdint.h>

TEST(rate_limit_per_address_per_64_and_global)
{
    uint8_t p[16];
    CHECK(rate_limit_prefix("192.0.2.1", p) == 4);
    CHECK(rate_limit_prefix("::ffff:192.0.2.1", p) == 4 && p[0] == 192);
    CHECK(rate_limit_prefix("2001:db8:1:2:3:4:5:6", p) == 8);
    CHECK(rate_limit_prefix("nonsense", p) == 0);
    struct rate_limit *r = rate_limit_new(3, 1000);
    unsigned retry;
    for (int i = 0; i < 3; i++)
        CHECK(rate_limit_take(r, "2001:db8:1:2::1", 1000, &retry) == RATE_OK);
    /* the same /64 shares the bucket; another /64 and IPv4 do not */
    CHECK(rate_limit_take(r, "2001:db8:1:2:ffff::9", 1000, &retry) == RATE_ADDR && retry >= 1 && retry <= 21);
    CHECK(rate_limit_take(r, "2001:db8:1:3::1", 1000, &retry) == RATE_OK);
    CHECK(rate_limit_take(r, "192.0.2.1", 1000, &retry) == RATE_OK);
    /* 3 per minute: one token back after 20 s */
    CHECK(rate_limit_take(r, "2001:db8:1:2::1", 21000, &retry) == RATE_OK);
    CHECK(rate_limit_take(r, "2001:db8:1:2::1", 21000, &retry) == RATE_ADDR);
    rate_limit_free(r);
    r = rate_limit_new(1000, 2);   /* global 2/s, burst 10 */
    char a[32];
    int ok = 0;
    for (int i = 0; i < 30; i++) {
        snprintf(a, sizeof a, "198.51.100.%d", i);
        ok += rate_limit_take(r, a, 5000, &retry) == RATE_OK;
    }
    CHECK(ok == 10);
    CHECK(rate_limit_take(r, "203.0.113.1", 5000, &retry) == RATE_GLOBAL);
    CHECK(rate_limit_take(r, "203.0.113.1", 5600, &retry) == RATE_OK);
    rate_limit_free(r);
}

int main(void)
{
    RUN(rate_limit_per_address_per_64_and_global);
    return test_done();
}
