/* http_parse: strict HTTP/1.1 request-head parsing (RFC 9112) and the small pieces of request
 * content the site reads (query parameters, cookies). (ptr, len) in, borrowed slices out; never
 * reads past len, never needs a NUL, no allocation. Hand-written because no maintained HTTP
 * parser is packaged in Debian bookworm (see docs/architecture.md). */
#ifndef SEALED_HTTP_PARSE_H
#define SEALED_HTTP_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "login/limits.h"

typedef enum {
    HTTP_PARSE_OK = 0,
    HTTP_PARSE_BAD,              /* 400: malformed */
    HTTP_PARSE_URI_TOO_LONG,     /* 414 */
    HTTP_PARSE_HEADERS_TOO_BIG,  /* 431: too many header fields */
    HTTP_PARSE_VERSION,          /* 505: not HTTP/1.0 or 1.1 */
    HTTP_PARSE_NOT_IMPLEMENTED,  /* 501: Transfer-Encoding on a request */
} http_parse_err;

struct http_slice { const char *p; size_t len; };

struct http_head {
    struct http_slice method, target, path, query;  /* query.p NULL when absent */
    int minor;                                      /* HTTP/1.minor */
    struct { struct http_slice name, value; } headers[LIMIT_HEADER_COUNT];
    size_t nheaders;
    uint64_t content_length;                        /* 0 when absent */
    int keep_alive;                                 /* after Connection and version rules */
};

/* Parses a request head: buf holds exactly the bytes up to and including the blank line
 * (CRLF CRLF). Returns HTTP_PARSE_OK and fills out, or the error that decides the status. */
http_parse_err http_parse_head(const char *buf, size_t len, struct http_head *out);

/* Status code for a parse error. */
int http_parse_status(http_parse_err e);

/* Finds the header (case-insensitive name); NULL slice p when absent. */
struct http_slice http_head_get(const struct http_head *h, const char *name);

/* Looks up name in an application/x-www-form-urlencoded string (a query) and percent-decodes
 * its value into out (cap bytes incl. NUL). Returns the decoded length, -1 when absent, -2 when
 * malformed, too long, or present more than once (ambiguous parameters are refused). */
long http_form_get(const char *q, size_t qlen, const char *name, char *out, size_t cap);

/* Finds cookie name in a Cookie header value; returns its raw value slice (p NULL if absent). */
struct http_slice http_cookie_get(const char *hdr, size_t len, const char *name);
#endif
