/* Unit tests for login/addr_key: per-address limits count an IPv6 /64 as one address and every
 * IPv4 address (also seen as IPv4-mapped IPv6 on a dual-stack socket) on its own. */
#include "test.h"
#include "login/addr_key.h"
#include "login/limits.h"
#include <arpa/inet.h>
#include <netinet/in.h>

static void key6(const char *text, uint8_t out[ADDR_KEY_BYTES])
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, text, &a.sin6_addr);
    addr_key_of((struct sockaddr *)&a, out);
}

static void key4(const char *text, uint8_t out[ADDR_KEY_BYTES])
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, text, &a.sin_addr);
    addr_key_of((struct sockaddr *)&a, out);
}

TEST(ipv6_addresses_in_one_slash_64_share_a_key)
{
    uint8_t a[16], b[16], c[16], d[16];
    key6("2001:db8:1:2::1", a);
    key6("2001:db8:1:2:ffff:ffff:ffff:ffff", b);
    key6("2001:db8:1:2:8a3b:1c00:dead:beef", c);
    CHECK(!memcmp(a, b, 16) && !memcmp(a, c, 16));
    key6("2001:db8:1:3::1", d);                 /* the neighbouring /64 is another address */
    CHECK(memcmp(a, d, 16) != 0);
    key6("2001:db8:1:2::", d);                  /* the key is the prefix itself */
    CHECK(!memcmp(a, d, 16));
    CHECK(LIMIT_IPV6_PREFIX_BITS == 64);
}

TEST(ipv4_addresses_count_one_by_one_in_both_spellings)
{
    uint8_t a[16], b[16], m[16];
    key4("192.0.2.1", a);
    key4("192.0.2.2", b);
    CHECK(memcmp(a, b, 16) != 0);               /* no /24 or /64 lumping for IPv4 */
    key6("::ffff:192.0.2.1", m);
    CHECK(!memcmp(a, m, 16));
    key6("::ffff:192.0.2.2", m);
    CHECK(!memcmp(b, m, 16));
    static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    CHECK(!memcmp(a, want, 16));
}

TEST(ipv4_and_ipv6_never_collide)
{
    uint8_t a[16], b[16];
    key4("127.0.0.1", a);
    key6("::1", b);
    CHECK(memcmp(a, b, 16) != 0);
    key6("::ffff:0:0", b);                      /* a /64 key never looks like a mapped address */
    key6("0:0:0:0:1::", a);
    CHECK(memcmp(a, b, 16) != 0);
}

TEST(other_families_share_the_zero_key)
{
    uint8_t a[16], zero[16] = {0};
    struct sockaddr sa = {.sa_family = AF_UNIX};
    memset(a, 0xaa, sizeof a);
    addr_key_of(&sa, a);
    CHECK(!memcmp(a, zero, 16));
}

int main(void)
{
    RUN(ipv6_addresses_in_one_slash_64_share_a_key);
    RUN(ipv4_and_ipv6_never_collide);
    RUN(ipv4_addresses_count_one_by_one_in_both_spellings);
    RUN(other_families_share_the_zero_key);
    return test_done();
}
