/* http_server: the inbound HTTP/1.1 server on libevent (evconnlistener + bufferevents, with
 * bufferevent_openssl for TLS). It enforces every inbound cap of limits.h (request line, header
 * bytes/count, body size, header/body/idle/write timeouts, connections in total and per client
 * address, an IPv6 /64 counting as one; when full, a new connection replaces the oldest one that
 * made the least progress, see enum http_wait), gives a TLS connection OpenSSL state only once its first
 * record is in, answers protocol errors itself (400, 408, 413, 414, 431, 501, 505), sends
 * close_notify before closing, supports keep-alive and hands each well-formed request to a
 * handler as a struct http_exchange, which the handler may answer at once or later (after PayPal
 * and the evidence worker). Never interprets request content beyond HTTP framing;
 * never logs targets, queries or headers (they carry codes). */
#ifndef SEALED_HTTP_SERVER_H
#define SEALED_HTTP_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

struct event_base;
struct tls;
struct http_server;
struct http_exchange;

/* Handles one request. Must eventually call http_respond exactly once (now or later), unless
 * the exchange is aborted first (see http_on_abort). */
typedef void (*http_handler_fn)(void *arg, struct http_exchange *x);

/* The event loop the service runs on, configured for many short connections (epoll changelist).
 * NULL on failure; free with event_base_free. */
struct event_base *http_server_event_base_new(void);
struct http_server *http_server_new(struct event_base *base);
/* Stops listening, closes every connection (pending exchanges get their abort callbacks). */
void http_server_free(struct http_server *s);
/* Closes the listening sockets (graceful stop); open connections stay and are answered. */
void http_server_stop_listening(struct http_server *s);
/* Lowers the connection cap below LIMIT_CONNECTIONS_TOTAL (when file descriptors are scarce). */
void http_server_set_max_connections(struct http_server *s, unsigned n);
/* Listens on addr:port; TLS when tls is non-NULL (borrowed, must outlive the server). Returns
 * the bound port (useful with port 0) or -1 (logged). */
int http_server_listen(struct http_server *s, const char *addr, int port, struct tls *tls,
                       http_handler_fn handler, void *arg);
/* Makes the listener bound to port expect a PROXY protocol v2 header (proxy_v2.h) on every
 * connection from an address in cidr ("10.0.0.0/24"): the header's client address then stands for
 * the peer (logs, per-address caps). Connections from elsewhere are served as they come, headers
 * and all (so a header from outside cidr is just bad bytes). Returns 0, or -1 when cidr is not a
 * range or no listener has that port. */
int http_server_expect_proxy_v2(struct http_server *s, int port, const char *cidr);

/* Request accessors; strings are borrowed, valid until the response is sent or the exchange is
 * aborted. method is upper case as received; path excludes the query; query excludes '?'. */
const char *http_method(const struct http_exchange *x);
const char *http_path(const struct http_exchange *x);
const char *http_query(const struct http_exchange *x);          /* NULL if none */
const char *http_header(const struct http_exchange *x, const char *name); /* case-insensitive */
/* The request body (at most LIMIT_BODY_BYTES; NUL-terminated after *len bytes), NULL when none. */
const char *http_body(const struct http_exchange *x, size_t *len);
const char *http_peer_addr(const struct http_exchange *x);      /* textual client IP */
/* The client's limit key (addr_key.h: IPv4 address or IPv6 /64) into out[16]; all zero after
 * an abort. Per-address limits must count by this, never by the textual address. */
void http_peer_key(const struct http_exchange *x, uint8_t out[16]);
int http_is_tls(const struct http_exchange *x);
/* The SSL of the connection (NULL for plain HTTP); borrowed. */
SSL *http_ssl(const struct http_exchange *x);

/* Sends a response: status, Content-Type, extra header lines ("Name: value", NULL-terminated
 * list or NULL), body (copied). Adds Date, Content-Length, Connection and the security headers.
 * HEAD requests get no body. Safe to call only once per exchange. A content type or header line
 * that http_field_line_ok refuses (CR, LF, NUL, other controls) is never sent: the answer becomes
 * a plain 500 instead (logged). */
void http_respond(struct http_exchange *x, int status, const char *content_type,
                  const char *const *headers, const void *body, size_t len);

/* For deferred answers: fn(arg) runs if the client goes away or the server closes the
 * connection before http_respond; after that the exchange must not be used. Pass fn NULL to
 * clear. */
void http_on_abort(struct http_exchange *x, void (*fn)(void *arg), void *arg);

/* Reason phrase for a status code ("Not Found"). */
const char *http_status_text(int status);

/* How far a connection waiting for a complete request head got, least progress first: its TLS
 * ClientHello still arriving (no OpenSSL state yet), the TLS handshake under way, the first
 * request's head not complete, idle between keep-alive requests. When the server is full, a new
 * connection takes the place of the oldest connection of the first non-empty kind. */
enum http_wait { HTTP_WAIT_HELLO, HTTP_WAIT_HANDSHAKE, HTTP_WAIT_HEAD, HTTP_WAIT_IDLE, HTTP_WAIT_KINDS };
/* "hello", "handshake", "head", "idle" (a static string; "?" for anything else). */
const char *http_wait_name(int kind);

/* Counters for /status. rejected_limits counts every refusal and every error answer of the
 * server's own; the rest say which connections waited, were closed to make room, timed out. */
struct http_server_stats {
    uint64_t connections_total, requests_total, rejected_limits;
    unsigned connections_open;
    unsigned waiting[HTTP_WAIT_KINDS];          /* open now, by kind */
    uint64_t evicted[HTTP_WAIT_KINDS];          /* closed to take a new connection when full */
    uint64_t timed_out[HTTP_WAIT_KINDS];        /* closed (or answered 408) at their deadline */
    uint64_t refused_full;                      /* new connections closed at once: full, none waiting */
    uint64_t refused_per_address;               /* ... or their address at LIMIT_CONNECTIONS_PER_IP */
};
void http_server_stats(const struct http_server *s, struct http_server_stats *out);
#endif
