/* init_cmdline: the sealed.* network parameters of the kernel command line (static IPv4 address,
 * gateway, nameservers, interface). Pure parsing over (ptr, len): it never reads files, never
 * configures anything and ignores every parameter that is not sealed.*. */
#include "init/init.h"
#include <string.h>
#include <arpa/inet.h>

const char *init_err_str(enum init_err e)
{
    switch (e) {
    case INIT_OK: return "ok";
    case INIT_DONE: return "done";
    case INIT_ERR_SYNTAX: return "syntax";
    case INIT_ERR_UNKNOWN: return "unknown-key";
    case INIT_ERR_TOOLONG: return "too-long";
    case INIT_ERR_TOOMANY: return "too-many";
    case INIT_ERR_DUPLICATE: return "duplicate";
    case INIT_ERR_GW_OFFLINK: return "gateway-offlink";
    case INIT_ERR_GW_NO_IP: return "gateway-without-address";
    }
    return "unknown-error";
}

uint32_t init_prefix_mask(unsigned prefix)
{
    if (prefix == 0)
        return 0;
    if (prefix >= 32)
        return 0xffffffffu;
    return htonl(0xffffffffu << (32 - prefix));
}

/* Decimal 0..max over exactly len bytes; no sign, no leading zero (so "010" is not octal 8). */
static int parse_small(const char *p, size_t len, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (len == 0 || len > 3 || (len > 1 && p[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

enum init_err init_parse_ipv4(const char *p, size_t len, uint32_t *out)
{
    uint32_t host = 0;
    size_t start = 0;
    unsigned parts = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '.')
            continue;
        unsigned v;
        if (parts == 4 || parse_small(p + start, i - start, 255, &v))
            return INIT_ERR_SYNTAX;
        host = host << 8 | v;
        parts++;
        start = i + 1;
    }
    if (parts != 4)
        return INIT_ERR_SYNTAX;
    *out = htonl(host);
    return INIT_OK;
}

static int has_prefix(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && memcmp(p, lit, n) == 0;
}

/* One "sealed.KEY=VALUE" word (the "sealed." already matched). */
static enum init_err parse_word(const char *w, size_t n, struct init_net *o)
{
    const char *eq = memchr(w, '=', n);
    if (!eq)
        return INIT_ERR_SYNTAX;
    size_t klen = (size_t)(eq - w), vlen = n - klen - 1;
    const char *v = eq + 1;
    if (klen == 2 && !memcmp(w, "ip", 2)) {
        const char *slash = memchr(v, '/', vlen);
        if (o->have_ip)
            return INIT_ERR_DUPLICATE;
        if (!slash)
            return INIT_ERR_SYNTAX;   /* a prefix is required: guessing one from the class is wrong */
        size_t alen = (size_t)(slash - v);
        if (init_parse_ipv4(v, alen, &o->ip) || parse_small(slash + 1, vlen - alen - 1, 32, &o->prefix))
            return INIT_ERR_SYNTAX;
        o->have_ip = 1;
        return INIT_OK;
    }
    if (klen == 2 && !memcmp(w, "gw", 2)) {
        if (o->have_gw)
            return INIT_ERR_DUPLICATE;
        if (init_parse_ipv4(v, vlen, &o->gw))
            return INIT_ERR_SYNTAX;
        o->have_gw = 1;
        return INIT_OK;
    }
    if (klen == 3 && !memcmp(w, "dns", 3)) {
        size_t start = 0;
        for (size_t i = 0; i <= vlen; i++) {
            if (i < vlen && v[i] != ',')
                continue;
            if (o->ndns == INIT_DNS_MAX)
                return INIT_ERR_TOOMANY;
            if (init_parse_ipv4(v + start, i - start, &o->dns[o->ndns]))
                return INIT_ERR_SYNTAX;
            o->ndns++;
            start = i + 1;
        }
        return INIT_OK;
    }
    if (klen == 2 && !memcmp(w, "if", 2)) {
        if (o->ifname[0])
            return INIT_ERR_DUPLICATE;
        if (vlen == 0 || (vlen == 1 && v[0] == '.') || (vlen == 2 && v[0] == '.' && v[1] == '.'))
            return INIT_ERR_SYNTAX;   /* the kernel refuses these names too (dev_valid_name) */
        if (vlen > INIT_IFNAME_MAX)
            return INIT_ERR_TOOLONG;
        for (size_t i = 0; i < vlen; i++)
            if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
                  v[i] == '_' || v[i] == '-' || v[i] == '.'))
                return INIT_ERR_SYNTAX;
        memcpy(o->ifname, v, vlen);
        o->ifname[vlen] = 0;
        return INIT_OK;
    }
    return INIT_ERR_UNKNOWN;
}

enum init_err init_cmdline_parse(const char *p, size_t len, struct init_net *out,
                                 const char **bad_key, size_t *bad_len)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\0'))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        int quoted = 0;
        while (i < len && (quoted || !(p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\0'))) {
            if (p[i] == '"')
                quoted = !quoted;
            i++;
        }
        const char *w = p + start;
        size_t n = i - start;
        if (!has_prefix(w, n, "sealed."))
            continue;
        enum init_err e = parse_word(w + 7, n - 7, out);
        if (e) {
            if (bad_key) {
                *bad_key = w;
                *bad_len = n;
            }
            return e;
        }
    }
    if (out->have_gw && !out->have_ip)
        return INIT_ERR_GW_NO_IP;
    if (out->have_gw) {
        uint32_t m = init_prefix_mask(out->prefix);
        if ((out->gw & m) != (out->ip & m) || out->gw == out->ip)
            return INIT_ERR_GW_OFFLINK;
    }
    return INIT_OK;
}
