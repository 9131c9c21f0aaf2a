/* proxy_v2: parser of the PROXY protocol v2 header and of the address ranges it is trusted from.
 * Owns nothing and touches no socket: http_server.c feeds it the bytes it read. */
#include "login/proxy_v2.h"
#include "login/limits.h"
#include <arpa/inet.h>
#include <string.h>

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

const char *proxy_v2_strerror(proxy_v2_err e)
{
    switch (e) {
    case PROXY_V2_OK: return "ok";
    case PROXY_V2_SHORT: return "incomplete header";
    case PROXY_V2_BAD_SIGNATURE: return "no PROXY v2 signature";
    case PROXY_V2_BAD_VERSION: return "not version 2";
    case PROXY_V2_BAD_COMMAND: return "unknown command";
    case PROXY_V2_BAD_ADDRESS: return "bad address block";
    case PROXY_V2_BAD_TLV: return "bad TLV";
    case PROXY_V2_TOOBIG: return "header over the size cap";
    }
    return "unknown error";
}

static void map4(uint8_t out[16], const uint8_t *v4)
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

proxy_v2_err proxy_v2_parse(const uint8_t *p, size_t len, struct proxy_v2 *out, size_t *need)
{
    size_t sig = len < sizeof SIG ? len : sizeof SIG;
    *need = PROXY_V2_FIXED;
    if (sig && memcmp(p, SIG, sig))
        return PROXY_V2_BAD_SIGNATURE;
    if (len > 12 && (p[12] >> 4) != 2)
        return PROXY_V2_BAD_VERSION;
    if (len > 12 && (p[12] & 0x0f) > 1)
        return PROXY_V2_BAD_COMMAND;
    if (len < PROXY_V2_FIXED)
        return PROXY_V2_SHORT;
    size_t total = PROXY_V2_FIXED + ((size_t)p[14] << 8 | p[15]);
    if (total > LIMIT_PROXY_V2_BYTES)
        return PROXY_V2_TOOBIG;
    *need = total;
    if (len < total)
        return PROXY_V2_SHORT;

    memset(out, 0, sizeof *out);
    out->header_len = total;
    out->is_local = (p[12] & 0x0f) == 0;
    unsigned family = p[13] >> 4, transport = p[13] & 0x0f;
    size_t body = total - PROXY_V2_FIXED, addr = 0;
    const uint8_t *a = p + PROXY_V2_FIXED;
    if (family > 3 || transport > 2)
        return PROXY_V2_BAD_ADDRESS;
    if (family == 1)
        addr = 12;
    else if (family == 2)
        addr = 36;
    else if (family == 3)
        addr = 216;
    if (body < addr)
        return PROXY_V2_BAD_ADDRESS;
    /* TLVs after the addresses: type (1), length (2), value; each must fit */
    for (size_t off = addr; off < body;) {
        if (body - off < 3)
            return PROXY_V2_BAD_TLV;
        size_t vlen = (size_t)a[off + 1] << 8 | a[off + 2];
        if (body - off - 3 < vlen)
            return PROXY_V2_BAD_TLV;
        off += 3 + vlen;
    }
    /* LOCAL: the proxy speaks for itself, the addresses (if any) are to be ignored; so are UNSPEC and
     * UNIX. A TCP connection announced as datagrams is a lie. */
    if (out->is_local || (family != 1 && family != 2))
        return PROXY_V2_OK;
    if (transport != 1)
        return PROXY_V2_BAD_ADDRESS;
    if (family == 1) {
        map4(out->src, a);
        map4(out->dst, a + 4);
        out->src_port = (uint16_t)(a[8] << 8 | a[9]);
        out->dst_port = (uint16_t)(a[10] << 8 | a[11]);
    } else {
        memcpy(out->src, a, 16);
        memcpy(out->dst, a + 16, 16);
        out->src_port = (uint16_t)(a[32] << 8 | a[33]);
        out->dst_port = (uint16_t)(a[34] << 8 | a[35]);
    }
    out->has_address = 1;
    return PROXY_V2_OK;
}

int proxy_cidr_parse(const char *s, size_t len, struct proxy_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = memchr(s, '/', len);
    if (!slash || slash == s || (size_t)(slash - s) >= sizeof buf)
        return -1;
    size_t alen = (size_t)(slash - s), plen = len - alen - 1;
    if (plen < 1 || plen > 3)
        return -1;
    unsigned prefix = 0;
    for (size_t i = 0; i < plen; i++) {
        char ch = slash[1 + i];
        if (ch < '0' || ch > '9' || (i == 0 && ch == '0' && plen > 1))
            return -1;
        prefix = prefix * 10 + (unsigned)(ch - '0');
    }
    memcpy(buf, s, alen);
    buf[alen] = 0;
    uint8_t v4[4];
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, v4) == 1) {
        if (prefix > 32)
            return -1;
        map4(out->net, v4);
        prefix += 96;
    } else if (inet_pton(AF_INET6, buf, out->net) != 1 || prefix > 128) {
        return -1;
    }
    for (unsigned bit = prefix; bit < 128; bit++)
        if (out->net[bit / 8] & (0x80 >> (bit % 8)))
            return -1;
    out->prefix = prefix;
    return 0;
}

int proxy_cidr_contains(const struct proxy_cidr *c, const uint8_t ip[16])
{
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->net, ip, full))
        return 0;
    if (rest && ((c->net[full] ^ ip[full]) & (uint8_t)(0xff << (8 - rest))))
        return 0;
    return 1;
}
