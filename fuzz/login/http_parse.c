/* libFuzzer target for login/http_parse: request heads, query forms and cookies. Asserts
 * properties of the output, not only "no crash": every slice lies inside the input, caps hold,
 * and a successful parse means a well-formed head. */
#include "login/http_parse.h"
#include <assert.h>
#include <stdint.h>
#include <string.h>

static void inside(const uint8_t *buf, size_t len, struct http_slice s)
{
    if (!s.p)
        return;
    assert((const uint8_t *)s.p >= buf && (const uint8_t *)s.p + s.len <= buf + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct http_head h;
    http_parse_err e = http_parse_head((const char *)data, len, &h);
    int st = http_parse_status(e);
    assert(st >= 200 && st < 600);
    if (e == HTTP_PARSE_OK) {
        assert(len >= 4 && !memcmp(data + len - 4, "\r\n\r\n", 4));
        inside(data, len, h.method);
        inside(data, len, h.target);
        inside(data, len, h.path);
        inside(data, len, h.query);
        assert(h.path.len >= 1 && (h.path.p[0] == '/' || h.path.p[0] == '*'));
        assert(h.nheaders <= LIMIT_HEADER_COUNT);
        assert(h.minor == 0 || h.minor == 1);
        for (size_t i = 0; i < h.nheaders; i++) {
            inside(data, len, h.headers[i].name);
            inside(data, len, h.headers[i].value);
            assert(h.headers[i].name.len > 0);
            assert(!memchr(h.headers[i].value.p, '\n', h.headers[i].value.len));
        }
        char out[64];
        if (h.query.p) {
            long n = http_form_get(h.query.p, h.query.len, "code", out, sizeof out);
            assert(n >= -2 && n < (long)sizeof out);
            if (n >= 0)
                assert(strlen(out) == (size_t)n);   /* no embedded NUL ever comes out */
        }
        struct http_slice c = http_head_get(&h, "cookie");
        if (c.p) {
            struct http_slice v = http_cookie_get(c.p, c.len, "__Host-sealed_login");
            inside(data, len, v);
        }
    }
    char out[32];
    long n = http_form_get((const char *)data, len, "state", out, sizeof out);
    assert(n >= -2 && n < (long)sizeof out);
    return 0;
}
