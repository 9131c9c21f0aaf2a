/* addr_key: the key that per-address limits count by (connections per client address now, rate
 * limits later). An IPv4 address counts on its own; an IPv6 address counts by its /64, because
 * one host is normally given a whole /64 (RFC 7421) and can draw a fresh address from it for
 * every connection. Pure functions, no state, never logs. */
#ifndef SEALED_ADDR_KEY_H
#define SEALED_ADDR_KEY_H
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_KEY_BYTES 16

/* Writes the 16-byte key of a peer address: IPv4 (and IPv4-mapped IPv6, as a dual-stack socket
 * reports IPv4 peers) as ::ffff:a.b.c.d; IPv6 with all bits after LIMIT_IPV6_PREFIX_BITS zeroed.
 * Any other family gets the all-zero key (one bucket for all of them). */
void addr_key_of(const struct sockaddr *sa, uint8_t out[ADDR_KEY_BYTES]);
#endif
