/* addr_count: how many connections each client address (addr_key.h: an IPv4 address or an IPv6
 * /64) has open, for LIMIT_CONNECTIONS_PER_IP. A fixed open-addressing table with room for
 * LIMIT_CONNECTIONS_TOTAL addresses at load <= 1/2, so accepting or closing a connection costs
 * O(1) instead of a walk over every open connection. Slot positions come from a per-process
 * random key, so a client cannot pick addresses that pile up in one place. Event loop only. */
#ifndef SEALED_ADDR_COUNT_H
#define SEALED_ADDR_COUNT_H
#include <stdint.h>

struct addr_count;

/* NULL on allocation or randomness failure. */
struct addr_count *addr_count_new(void);
void addr_count_free(struct addr_count *t);   /* NULL is fine */

/* Connections open from key (0 if none). */
unsigned addr_count_get(const struct addr_count *t, const uint8_t key[16]);
/* One more connection from key. Returns the new count, or 0 if the table is full (more distinct
 * addresses than LIMIT_CONNECTIONS_TOTAL: the caller refuses the connection). */
unsigned addr_count_inc(struct addr_count *t, const uint8_t key[16]);
/* One connection fewer from key; the entry goes when it reaches 0. A key not counted is ignored. */
void addr_count_dec(struct addr_count *t, const uint8_t key[16]);
#endif
