/* rate_limit: token buckets for /callback (each one may cost a token request to PayPal): one per
 * client address (IPv4 address, IPv6 /64) in a direct-mapped table under a per-process random
 * hash key, and one for everyone. Addresses that collide share a bucket (stricter, never looser).
 * Holds no address in the clear beyond the prefix it keys on; single-threaded. */
#ifndef SEALED_RATE_LIMIT_H
#define SEALED_RATE_LIMIT_H
#include <stddef.h>
#include <stdint.h>

struct rate_limit;

/* per_addr_per_min: each address's rate and burst; global_per_s: everyone's rate (burst 5x).
 * NULL on allocation failure. */
struct rate_limit *rate_limit_new(uint64_t per_addr_per_min, uint64_t global_per_s);
void rate_limit_free(struct rate_limit *r);   /* NULL is fine */

typedef enum { RATE_OK = 0, RATE_ADDR, RATE_GLOBAL } rate_result;
/* Takes one token for the textual address addr (as http_peer_addr gives it) at now_ms (a monotonic
 * clock). An unparsable address shares one bucket. *retry_s: seconds until a token is back. */
rate_result rate_limit_take(struct rate_limit *r, const char *addr, uint64_t now_ms, unsigned *retry_s);

/* The prefix an address is limited by: 4 bytes for IPv4 (and IPv4-mapped IPv6), 8 for IPv6.
 * Returns the length, or 0 when addr does not parse. */
size_t rate_limit_prefix(const char *addr, uint8_t out[16]);
#endif
