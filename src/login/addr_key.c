/* addr_key: peer address → limit key (IPv4 whole, IPv6 by prefix). */
#include "login/addr_key.h"
#include "login/limits.h"
#include <netinet/in.h>
#include <string.h>

void addr_key_of(const struct sockaddr *sa, uint8_t out[ADDR_KEY_BYTES])
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, ADDR_KEY_BYTES);
    if (sa->sa_family == AF_INET) {
        memcpy(out, v4mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (!memcmp(a, v4mapped, 12)) {
            memcpy(out, a, 16);
            return;
        }
        unsigned bits = LIMIT_IPV6_PREFIX_BITS;
        memcpy(out, a, bits / 8);
        if (bits % 8)
            out[bits / 8] = a[bits / 8] & (uint8_t)(0xff << (8 - bits % 8));
    }
}
