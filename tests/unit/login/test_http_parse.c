/* Unit tests for login/http_parse: request heads, limits, framing, forms and cookies. */
#include "test.h"
#include "login/http_parse.h"

static http_parse_err parse(const char *s, struct http_head *h) { return http_parse_head(s, strlen(s), h); }

TEST(parses_a_normal_request)
{
    struct http_head h;
    CHECK(parse("GET /callback?code=a%20b&state=x HTTP/1.1\r\nHost: example\r\nCookie: a=1; b=2\r\n\r\n", &h) == HTTP_PARSE_OK);
    CHECK(h.method.len == 3 && !memcmp(h.method.p, "GET", 3));
    CHECK(h.path.len == 9 && !memcmp(h.path.p, "/callback", 9));
    CHECK(h.query.len == 18 && h.minor == 1 && h.keep_alive == 1 && h.nheaders == 2);
    struct http_slice c = http_head_get(&h, "COOKIE");
    CHECK(c.p && c.len == 8);
    struct http_slice v = http_cookie_get(c.p, c.len, "b");
    CHECK(v.len == 1 && v.p[0] == '2');
    CHECK(http_cookie_get(c.p, c.len, "c").p == NULL);
    char out[64];
    CHECK(http_form_get(h.query.p, h.query.len, "code", out, sizeof out) == 3);
    CHECK_STR(out, "a b");
    CHECK(http_form_get(h.query.p, h.query.len, "missing", out, sizeof out) == -1);
}

TEST(rejects_malformed_heads)
{
    struct http_head h;
    CHECK(parse("GET / HTTP/1.1\r\n\r\n", &h) == HTTP_PARSE_BAD);                     /* no Host */
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &h) == HTTP_PARSE_OK);                      /* 1.0 needs none */
    CHECK(h.keep_alive == 0);
    CHECK(parse("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost : x\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n continued\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01" "b\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", &h) == HTTP_PARSE_NOT_IMPLEMENTED);
    CHECK(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &h) == HTTP_PARSE_VERSION);
    CHECK(parse("GET / HTTP/1.2\r\nHost: x\r\n\r\n", &h) == HTTP_PARSE_VERSION);
    CHECK(parse("GET / FTP/1.1\r\nHost: x\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(parse("GET / HTTP/1.1\nHost: x\r\n\r\n", &h) == HTTP_PARSE_BAD);
    CHECK(http_parse_status(HTTP_PARSE_HEADERS_TOO_BIG) == 431);
}

TEST(header_count_and_request_line_limits)
{
    struct http_head h;
    char buf[LIMIT_HEADER_BYTES * 2];
    size_t o = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < LIMIT_HEADER_COUNT; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "X-%d: y\r\n", i);
    o += (size_t)snprintf(buf + o, sizeof buf - o, "\r\n");
    CHECK(http_parse_head(buf, o, &h) == HTTP_PARSE_HEADERS_TOO_BIG);
    o = (size_t)snprintf(buf, sizeof buf, "GET /");
    memset(buf + o, 'a', LIMIT_REQUEST_LINE_BYTES);
    o += LIMIT_REQUEST_LINE_BYTES;
    o += (size_t)snprintf(buf + o, sizeof buf - o, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(http_parse_head(buf, o, &h) == HTTP_PARSE_URI_TOO_LONG);
}

TEST(connection_header_decides_keep_alive)
{
    struct http_head h;
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", &h) == HTTP_PARSE_OK && !h.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h) == HTTP_PARSE_OK && h.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, close\r\n\r\n", &h) == HTTP_PARSE_OK && !h.keep_alive);
}

TEST(form_decoding_is_strict)
{
    char out[16];
    CHECK(http_form_get("a=%41%42", 8, "a", out, sizeof out) == 2 && !strcmp(out, "AB"));
    CHECK(http_form_get("a=%4", 4, "a", out, sizeof out) == -2);
    CHECK(http_form_get("a=%zz", 5, "a", out, sizeof out) == -2);
    CHECK(http_form_get("a=%00", 5, "a", out, sizeof out) == -2);           /* no NUL smuggling */
    CHECK(http_form_get("a=1&a=2", 7, "a", out, sizeof out) == -2);         /* ambiguous */
    CHECK(http_form_get("a=0123456789abcdefXYZ", 21, "a", out, sizeof out) == -2);  /* too long */
    CHECK(http_form_get("aa=1&a=", 7, "a", out, sizeof out) == 0);
    CHECK(http_form_get("b=1", 3, "a", out, sizeof out) == -1);
}

int main(void)
{
    RUN(parses_a_normal_request);
    RUN(rejects_malformed_heads);
    RUN(header_count_and_request_line_limits);
    RUN(connection_header_decides_keep_alive);
    RUN(form_decoding_is_strict);
    return test_done();
}
