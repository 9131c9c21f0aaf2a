/* http_client: non-blocking outbound HTTP(S) on the service's event loop (libcurl multi driven by
 * libevent), so a slow PayPal, ACME CA or cloud API never blocks other visitors. Each call has a
 * deadline and a response-size cap; TLS peers are always verified. Owns the curl handles and the
 * response buffers; never logs URLs' query strings, headers or bodies (they carry secrets). */
#ifndef SEALED_HTTP_CLIENT_H
#define SEALED_HTTP_CLIENT_H
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_client;
struct http_call;

typedef enum {
    HTTP_CLIENT_OK = 0,       /* a response arrived (any status) */
    HTTP_CLIENT_ERR_NOMEM,
    HTTP_CLIENT_ERR_CONNECT,  /* DNS, TCP or TLS failure */
    HTTP_CLIENT_ERR_TIMEOUT,  /* deadline passed */
    HTTP_CLIENT_ERR_TOOBIG,   /* response body or headers over the cap */
    HTTP_CLIENT_ERR_PROTOCOL, /* malformed HTTP */
} http_client_err;

const char *http_client_strerror(http_client_err e);

struct http_request {
    const char *method;             /* "GET", "POST", "HEAD", ... */
    const char *url;
    const char *const *headers;     /* NULL-terminated "Name: value" lines, or NULL */
    const uint8_t *body;            /* copied; the copy is wiped after the call */
    size_t body_len;
    const char *basic_user;         /* optional HTTP Basic credentials (copied, wiped) */
    const char *basic_pass;
    long timeout_ms;                /* whole-call deadline; 0 = HTTP_CLIENT_DEFAULT_TIMEOUT_MS */
    size_t max_response;            /* body cap; 0 = HTTP_CLIENT_DEFAULT_MAX_RESPONSE */
    const char *ca_file;            /* CA bundle to trust instead of the system's, or NULL */
    int allow_plain_http;           /* 1 only for link-local metadata and local fakes */
};

/* A finished call. Everything is borrowed and valid only during the callback. */
struct http_response {
    http_client_err err;
    const char *errmsg;             /* human text for err (curl's, no URL), "" when OK */
    long status;                    /* HTTP status, 0 when err != OK */
    const uint8_t *body;            /* NUL-terminated after body_len */
    size_t body_len;
    double total_ms;
    const struct http_call *call;
};

/* Case-insensitive lookup of a response header (last occurrence); NULL if absent. */
const char *http_response_header(const struct http_response *r, const char *name);
/* Calls fn for every occurrence of a header (e.g. several Link headers). */
void http_response_headers_each(const struct http_response *r, const char *name,
                                void (*fn)(void *arg, const char *value), void *arg);

typedef void (*http_done_fn)(void *arg, const struct http_response *resp);

struct http_client *http_client_new(struct event_base *base);
/* Cancels every call in flight (their callbacks are not called) and frees the client. */
void http_client_free(struct http_client *c);

/* Starts a call; done runs exactly once, later, on the loop — unless http_call_cancel is called
 * first. Returns NULL (and done is never called) on allocation failure, a refused URL scheme, or
 * a header line that http_field_line_ok refuses (CR, LF, NUL, other controls: logged, without
 * the line). */
struct http_call *http_client_start(struct http_client *c, const struct http_request *req,
                                    http_done_fn done, void *arg);
/* Cancels a call in flight; its callback will not run. Safe with NULL. Must not be called on a
 * call whose callback has already started. */
void http_call_cancel(struct http_call *call);
/* Calls in flight (for /status and tests). */
unsigned http_client_active(const struct http_client *c);
#endif
