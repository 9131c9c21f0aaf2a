/* http_parse: request line, header fields, framing decisions (RFC 9112 §2-§6) and form/cookie
 * lookups. Every loop is bounded by len. */
#include "login/http_parse.h"
#include "common/codec.h"
#include <string.h>
#include <strings.h>

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int slice_ieq(struct http_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && !strncasecmp(s.p, lit, n);
}

int http_parse_status(http_parse_err e)
{
    switch (e) {
    case HTTP_PARSE_OK: return 200;
    case HTTP_PARSE_BAD: return 400;
    case HTTP_PARSE_URI_TOO_LONG: return 414;
    case HTTP_PARSE_HEADERS_TOO_BIG: return 431;
    case HTTP_PARSE_VERSION: return 505;
    case HTTP_PARSE_NOT_IMPLEMENTED: return 501;
    }
    return 400;
}

/* Finds CRLF at or after i; returns index of CR or len. Bare CR or LF is malformed (-1). */
static long find_crlf(const char *b, size_t len, size_t i)
{
    for (; i < len; i++) {
        if (b[i] == '\r')
            return (i + 1 < len && b[i + 1] == '\n') ? (long)i : -1;
        if (b[i] == '\n')
            return -1;
    }
    return (long)len;
}

static int has_token(struct http_slice v, const char *tok)
{
    size_t n = strlen(tok);
    for (size_t i = 0; i < v.len;) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.len && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
            i++;
        if (i - s == n && !strncasecmp(v.p + s, tok, n))
            return 1;
    }
    return 0;
}

http_parse_err http_parse_head(const char *b, size_t len, struct http_head *h)
{
    memset(h, 0, sizeof *h);
    long eol = find_crlf(b, len, 0);
    if (eol < 0 || (size_t)eol >= len)
        return HTTP_PARSE_BAD;
    if ((size_t)eol > LIMIT_REQUEST_LINE_BYTES)
        return HTTP_PARSE_URI_TOO_LONG;
    /* request-line = method SP request-target SP HTTP-version */
    size_t i = 0;
    while (i < (size_t)eol && is_tchar((unsigned char)b[i]))
        i++;
    if (i == 0 || i >= (size_t)eol || b[i] != ' ')
        return HTTP_PARSE_BAD;
    h->method = (struct http_slice){b, i};
    size_t t = ++i;
    while (i < (size_t)eol && b[i] > 0x20 && b[i] < 0x7f)
        i++;
    if (i == t || i >= (size_t)eol || b[i] != ' ')
        return HTTP_PARSE_BAD;
    h->target = (struct http_slice){b + t, i - t};
    if (b[t] != '/' && !(h->target.len == 1 && b[t] == '*'))
        return HTTP_PARSE_BAD;   /* only origin-form (and OPTIONS *) */
    const char *q = memchr(h->target.p, '?', h->target.len);
    h->path = (struct http_slice){h->target.p, q ? (size_t)(q - h->target.p) : h->target.len};
    if (q)
        h->query = (struct http_slice){q + 1, h->target.len - h->path.len - 1};
    struct http_slice ver = {b + i + 1, (size_t)eol - i - 1};
    if (ver.len != 8 || memcmp(ver.p, "HTTP/1.", 7) != 0) {
        if (ver.len == 8 && !memcmp(ver.p, "HTTP/", 5) && ver.p[5] >= '0' && ver.p[5] <= '9' && ver.p[6] == '.')
            return HTTP_PARSE_VERSION;
        return HTTP_PARSE_BAD;
    }
    if (ver.p[7] != '0' && ver.p[7] != '1')
        return HTTP_PARSE_VERSION;
    h->minor = ver.p[7] - '0';

    int seen_cl = 0, te = 0, host = 0;
    struct http_slice conn = {0};
    i = (size_t)eol + 2;
    for (;;) {
        long e = find_crlf(b, len, i);
        if (e < 0 || (size_t)e >= len)
            return HTTP_PARSE_BAD;
        if ((size_t)e == i)   /* blank line: end of head */
            break;
        if (h->nheaders == LIMIT_HEADER_COUNT)
            return HTTP_PARSE_HEADERS_TOO_BIG;
        size_t n = i;
        while (n < (size_t)e && is_tchar((unsigned char)b[n]))
            n++;
        if (n == i || n >= (size_t)e || b[n] != ':')
            return HTTP_PARSE_BAD;   /* includes obs-fold and "Name :" */
        size_t v = n + 1, ve = (size_t)e;
        while (v < ve && (b[v] == ' ' || b[v] == '\t'))
            v++;
        while (ve > v && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
            ve--;
        for (size_t k = v; k < ve; k++)
            if ((unsigned char)b[k] < 0x20 && b[k] != '\t')
                return HTTP_PARSE_BAD;   /* control characters, NUL */
        struct http_slice name = {b + i, n - i}, value = {b + v, ve - v};
        h->headers[h->nheaders].name = name;
        h->headers[h->nheaders].value = value;
        h->nheaders++;
        if (slice_ieq(name, "content-length")) {
            uint64_t cl;
            if (seen_cl || codec_parse_u64(value.p, value.len, 0, UINT64_MAX / 2, &cl))
                return HTTP_PARSE_BAD;   /* repeated or malformed framing */
            seen_cl = 1;
            h->content_length = cl;
        } else if (slice_ieq(name, "transfer-encoding")) {
            te = 1;
        } else if (slice_ieq(name, "host")) {
            if (host++)
                return HTTP_PARSE_BAD;
        } else if (slice_ieq(name, "connection")) {
            conn = value;
        }
        i = (size_t)e + 2;
    }
    if (i + 2 != len)
        return HTTP_PARSE_BAD;   /* caller must pass exactly the head */
    if (h->minor == 1 && !host)
        return HTTP_PARSE_BAD;   /* RFC 9112 §3.2 */
    if (te)
        return HTTP_PARSE_NOT_IMPLEMENTED;   /* no request bodies beyond Content-Length here */
    h->keep_alive = h->minor == 1 ? !has_token(conn, "close") : has_token(conn, "keep-alive");
    return HTTP_PARSE_OK;
}

struct http_slice http_head_get(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (slice_ieq(h->headers[i].name, name))
            return h->headers[i].value;
    return (struct http_slice){0};
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long http_form_get(const char *q, size_t qlen, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    long found = -1;
    int params = 0;
    for (size_t i = 0; q && i <= qlen;) {
        size_t s = i;
        while (i < qlen && q[i] != '&')
            i++;
        if (++params > LIMIT_QUERY_PARAMS)
            return -2;
        const char *eq = memchr(q + s, '=', i - s);
        size_t kl = eq ? (size_t)(eq - (q + s)) : i - s;
        if (kl == nl && !memcmp(q + s, name, nl)) {
            if (found >= 0)
                return -2;
            const char *v = eq ? eq + 1 : q + i;
            size_t vl = (size_t)(q + i - v), o = 0;
            for (size_t k = 0; k < vl; k++) {
                char c = v[k];
                if (c == '+')
                    c = ' ';
                else if (c == '%') {
                    int hi, lo;
                    if (k + 2 >= vl)
                        return -2;
                    hi = hexval(v[k + 1]);
                    lo = hexval(v[k + 2]);
                    if (hi < 0 || lo < 0)
                        return -2;
                    c = (char)(hi << 4 | lo);
                    k += 2;
                }
                if (c == 0 || o + 1 >= cap)
                    return -2;
                out[o++] = c;
            }
            out[o] = 0;
            found = (long)o;
        }
        i++;
    }
    return found;
}

struct http_slice http_cookie_get(const char *hdr, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; hdr && i < len;) {
        while (i < len && (hdr[i] == ' ' || hdr[i] == ';'))
            i++;
        size_t s = i;
        while (i < len && hdr[i] != ';')
            i++;
        if (i - s > nl && hdr[s + nl] == '=' && !memcmp(hdr + s, name, nl))
            return (struct http_slice){hdr + s + nl + 1, i - s - nl - 1};
    }
    return (struct http_slice){0};
}
