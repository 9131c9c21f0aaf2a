/* proxy_v2: the PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2) that
 * a load balancer sends before the client's bytes, and the address ranges it is accepted from.
 * Pure functions on (ptr, len): no I/O, no allocation, no logging. http_server.c reads the bytes
 * and decides, per listener, whether a header is expected at all. */
#ifndef SEALED_PROXY_V2_H
#define SEALED_PROXY_V2_H
#include <stddef.h>
#include <stdint.h>

#define PROXY_V2_FIXED 16   /* signature (12), version/command, family/transport, length (2) */

typedef enum {
    PROXY_V2_OK = 0,
    PROXY_V2_SHORT,          /* not all of the header yet: *need says how many bytes it has in total */
    PROXY_V2_BAD_SIGNATURE,  /* not a PROXY v2 header (decided as soon as one byte differs) */
    PROXY_V2_BAD_VERSION,    /* version nibble is not 2 */
    PROXY_V2_BAD_COMMAND,    /* command other than LOCAL (0) or PROXY (1) */
    PROXY_V2_BAD_ADDRESS,    /* family/transport unknown, or the length is too short for the addresses */
    PROXY_V2_BAD_TLV,        /* a TLV runs past the header */
    PROXY_V2_TOOBIG,         /* header longer than LIMIT_PROXY_V2_BYTES */
} proxy_v2_err;

/* What a complete header says. Addresses are 16 bytes, IPv4 mapped into IPv6 (::ffff:a.b.c.d). */
struct proxy_v2 {
    size_t header_len;       /* bytes of the header (the client's data starts after them) */
    int is_local;            /* LOCAL command (the proxy's own connection, e.g. a health check) */
    int has_address;         /* PROXY over TCP/IPv4 or TCP/IPv6: src/dst below are the client's */
    uint8_t src[16], dst[16];
    uint16_t src_port, dst_port;
};

/* Parses the header at the start of p[0..len). PROXY_V2_SHORT when more bytes are needed (*need is
 * then the total to have; 16 until the length field is in). Never reads past len. On an error
 * *out is unspecified. */
proxy_v2_err proxy_v2_parse(const uint8_t *p, size_t len, struct proxy_v2 *out, size_t *need);
const char *proxy_v2_strerror(proxy_v2_err e);

/* An address range, over the 128-bit IPv4-mapped form. */
struct proxy_cidr {
    uint8_t net[16];
    unsigned prefix;         /* 0..128 */
};

/* "a.b.c.d/n" (n 0..32) or "x:y::/n" (n 0..128); the bits past the prefix must be zero.
 * Returns 0, or -1 when s[0..len) is not such a range. */
int proxy_cidr_parse(const char *s, size_t len, struct proxy_cidr *out);
/* 1 when ip (16 bytes, IPv4 mapped) lies in c. */
int proxy_cidr_contains(const struct proxy_cidr *c, const uint8_t ip[16]);
#endif
