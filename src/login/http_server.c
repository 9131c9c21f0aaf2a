/* http_server: connection life cycle (accept → first TLS record → TLS → head → body → handler →
 * response → keep-alive or close), one deadline timer per connection for the phase it is in, the
 * wait queues that decide which connection gives way when the server is full, and the inbound
 * caps. Parsing of the head itself is http_parse.c's, of the first TLS record tls_record.c's. */
#include "login/http_server.h"
#include "login/addr_count.h"
#include "login/addr_key.h"
#include "login/fault.h"
#include "login/http_field.h"
#include "login/http_parse.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/proxy_v2.h"
#include "login/tls.h"
#include "login/tls_record.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct listener {
    struct http_server *server;     /* borrowed */
    struct evconnlistener *evl;     /* owned */
    struct tls *tls;                /* borrowed, NULL for plain HTTP */
    http_handler_fn handler;
    void *arg;
    int port;                       /* bound port */
    int proxy_v2;                   /* connections from proxy_from start with a PROXY v2 header */
    struct proxy_cidr proxy_from;
    struct listener *next;
};

/* A connection from the load balancer whose PROXY v2 header is still arriving (proxy_v2.c parses
 * it); it becomes a struct conn, under the client's address, once the header is complete. */
struct pending {
    struct listener *lst;           /* borrowed */
    evutil_socket_t fd;             /* owned until handed to conn_start */
    struct event *ev;               /* owned: readable or timed out */
    uint8_t ip[16];                 /* the load balancer's address */
    char peer[INET6_ADDRSTRLEN];
    uint8_t buf[LIMIT_PROXY_V2_BYTES];
    size_t have, need;
    struct pending *next, *prev;
};

/* PH_HELLO: TLS, the first record (the ClientHello) still arriving: the kernel holds its bytes,
 * and there is no SSL and no bufferevent yet; PH_HEAD also covers the TLS handshake.
 * PH_CLOSING: writing a last response; PH_LINGER: response sent and our side shut down, reading
 * and discarding what the client still sends so that closing does not reset the connection
 * (and destroy the response in the client's receive buffer) before the client has read it. */
enum conn_phase { PH_HELLO, PH_HEAD, PH_BODY, PH_HANDLER, PH_WRITE, PH_CLOSING, PH_LINGER };

#define WAIT_NONE HTTP_WAIT_KINDS   /* in no wait queue: a request is being read, handled or answered */

struct conn {
    struct http_server *server;     /* borrowed */
    struct listener *lst;           /* borrowed */
    evutil_socket_t fd;             /* owned until bev exists, then bev's */
    struct bufferevent *bev;        /* owned (owns fd and SSL); NULL in PH_HELLO */
    struct event *hello;            /* owned: fd readable or closed, PH_HELLO only */
    size_t lowat;                   /* SO_RCVLOWAT we set on fd in PH_HELLO (0: the kernel's default) */
    struct event *deadline;         /* owned */
    int wait;                       /* enum http_wait queue it is in, or WAIT_NONE */
    struct timeval wait_since;      /* when it joined that queue (for the log) */
    struct conn *wnext, *wprev;     /* in that queue, oldest first */
    uint8_t ip[ADDR_KEY_BYTES];     /* addr_key_of(peer): IPv4, or the IPv6 /64 */
    char peer[INET6_ADDRSTRLEN];
    enum conn_phase phase;
    int got_bytes;                  /* any byte of the current request seen */
    int tls_failed;                 /* a fatal TLS or socket error: no close_notify */
    int must_linger;                /* an error answer: the client may still be sending */
    unsigned nrequests;
    uint64_t body_left;
    size_t discarded;               /* bytes drained while closing */
    struct http_exchange *x;        /* owned: the request in progress */
    struct conn *next, *prev;
};

struct http_exchange {
    struct conn *conn;              /* borrowed; NULL after abort */
    char *head;                     /* owned copy of the head with NULs written in */
    const char *method, *path, *query;
    const char *names[LIMIT_HEADER_COUNT], *values[LIMIT_HEADER_COUNT];
    size_t nheaders;
    int keep_alive, is_head;
    char *body;                     /* owned: the request body (at most LIMIT_BODY_BYTES), NUL after body_len */
    size_t body_len;
    void (*abort_fn)(void *);
    void *abort_arg;
};

/* Connections waiting for a complete request head, one queue per enum http_wait, oldest first. */
struct wait_queue {
    struct conn *head, *tail;       /* borrowed: the conns list owns them */
};

struct http_server {
    struct event_base *base;        /* borrowed */
    struct listener *listeners;     /* owned list */
    struct conn *conns;             /* owned list */
    struct wait_queue waiting[HTTP_WAIT_KINDS];
    struct http_server_stats stats;
    struct http_server_stats logged; /* stats at the last http.pressure line */
    struct event *pressure_log;     /* owned: pending while evictions and refusals are summarized */
    unsigned max_connections;       /* LIMIT_CONNECTIONS_TOTAL, or less if fds are scarce */
    struct event *accept_pause;     /* owned: re-enables listeners after EMFILE */
    struct addr_count *per_addr;    /* owned: open connections per client address */
    struct pending *pending;        /* owned list */
    unsigned npending;
};

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);

const char *http_wait_name(int kind)
{
    static const char *const names[HTTP_WAIT_KINDS] = {"hello", "handshake", "head", "idle"};
    return kind >= 0 && kind < HTTP_WAIT_KINDS ? names[kind] : "?";
}

static void wait_leave(struct conn *c)
{
    if (c->wait == WAIT_NONE)
        return;
    struct wait_queue *q = &c->server->waiting[c->wait];
    if (c->wprev) c->wprev->wnext = c->wnext;
    else q->head = c->wnext;
    if (c->wnext) c->wnext->wprev = c->wprev;
    else q->tail = c->wprev;
    c->wnext = c->wprev = NULL;
    c->server->stats.waiting[c->wait]--;
    c->wait = WAIT_NONE;
}

/* Puts c at the newest end of queue kind (leaving the one it was in). */
static void wait_join(struct conn *c, int kind)
{
    wait_leave(c);
    struct wait_queue *q = &c->server->waiting[kind];
    c->wait = kind;
    c->wprev = q->tail;
    if (q->tail) q->tail->wnext = c;
    else q->head = c;
    q->tail = c;
    c->server->stats.waiting[kind]++;
    event_base_gettimeofday_cached(c->server->base, &c->wait_since);
}

const char *http_status_text(int s)
{
    switch (s) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    }
    return "Unknown";
}

static void set_deadline(struct conn *c, int ms)
{
    if (ms <= 0) {
        event_del(c->deadline);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->deadline, &tv);
}

static void exchange_free(struct http_exchange *x)
{
    if (!x)
        return;
    free(x->head);
    if (x->body)
        OPENSSL_clear_free(x->body, x->body_len + 1);   /* codes and proofs */
    free(x);
}

/* Writes a complete response; the connection stays open only if keep_alive. */
static void write_response(struct conn *c, int status, const char *ctype, const char *const *headers,
                           const void *body, size_t len, int keep_alive, int is_head)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int has_cache = 0;
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: sealed-login\r\n", status,
                        http_status_text(status), date);
    if (ctype)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
    evbuffer_add_printf(out, "Content-Length: %zu\r\nConnection: %s\r\n", len, keep_alive ? "keep-alive" : "close");
    for (const char *const *h = headers; h && *h; h++) {
        if (!strncasecmp(*h, "Cache-Control:", 14))
            has_cache = 1;
        evbuffer_add_printf(out, "%s\r\n", *h);
    }
    if (!has_cache)
        evbuffer_add_printf(out, "Cache-Control: no-store\r\n");
    evbuffer_add_printf(out, "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
                             "Referrer-Policy: no-referrer\r\n");
    if (c->lst->tls)
        evbuffer_add_printf(out, "Strict-Transport-Security: max-age=31536000\r\n");
    evbuffer_add(out, "\r\n", 2);
    if (!is_head && len)
        evbuffer_add(out, body, len);
    c->phase = keep_alive ? PH_WRITE : PH_CLOSING;
    set_deadline(c, LIMIT_WRITE_TIMEOUT_MS);
    bufferevent_enable(c->bev, EV_WRITE);
}

/* Answers a protocol error from the server itself and closes after writing. */
static void reject(struct conn *c, int status)
{
    char body[128];
    int n = snprintf(body, sizeof body, "%d %s\n", status, http_status_text(status));
    c->server->stats.rejected_limits++;
    c->must_linger = 1;
    wait_leave(c);
    exchange_free(c->x);
    c->x = NULL;
    evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
    write_response(c, status, "text/plain; charset=utf-8", NULL, body, (size_t)n, 0, 0);
}

void http_respond(struct http_exchange *x, int status, const char *ctype, const char *const *headers,
                  const void *body, size_t len)
{
    struct conn *c = x->conn;
    if (!c) {   /* aborted: the caller broke the contract, but do not crash */
        exchange_free(x);
        return;
    }
    int fields_ok = !ctype || http_field_value_ok(ctype, strlen(ctype));
    for (const char *const *h = headers; fields_ok && h && *h; h++)
        fields_ok = http_field_line_ok(*h);
    if (!fields_ok) {   /* a value from outside would have split the response: answer 500 */
        static const char err[] = "500 Internal Server Error\n";
        log_error("http.bad_response_header", "status=%d reason=\"control byte or malformed name\"", status);
        status = 500, ctype = "text/plain; charset=utf-8", headers = NULL, body = err, len = sizeof err - 1;
    }
    int keep = x->keep_alive && c->nrequests < LIMIT_REQUESTS_PER_CONN;
    write_response(c, status, ctype, headers, body, len, keep, x->is_head);
    c->x = NULL;
    exchange_free(x);
}

void http_on_abort(struct http_exchange *x, void (*fn)(void *), void *arg)
{
    x->abort_fn = fn;
    x->abort_arg = arg;
}

const char *http_method(const struct http_exchange *x) { return x->method; }
const char *http_path(const struct http_exchange *x) { return x->path; }
const char *http_query(const struct http_exchange *x) { return x->query; }
const char *http_body(const struct http_exchange *x, size_t *len)
{
    *len = x->body_len;
    return x->body;
}

const char *http_peer_addr(const struct http_exchange *x) { return x->conn ? x->conn->peer : ""; }
int http_is_tls(const struct http_exchange *x) { return x->conn && x->conn->lst->tls; }
void http_peer_key(const struct http_exchange *x, uint8_t out[16])
{
    if (x->conn)
        memcpy(out, x->conn->ip, ADDR_KEY_BYTES);
    else
        memset(out, 0, ADDR_KEY_BYTES);
}
SSL *http_ssl(const struct http_exchange *x)
{
    return x->conn && x->conn->lst->tls ? bufferevent_openssl_get_ssl(x->conn->bev) : NULL;
}

const char *http_header(const struct http_exchange *x, const char *name)
{
    for (size_t i = 0; i < x->nheaders; i++)
        if (!strcasecmp(x->names[i], name))
            return x->values[i];
    return NULL;
}

/* Copies the parsed head into an exchange, NUL-terminating each piece in the copy. */
static struct http_exchange *exchange_new(const char *buf, size_t len, const struct http_head *h)
{
    struct http_exchange *x = calloc(1, sizeof *x);
    if (!x || !(x->head = malloc(len + 1))) {
        free(x);
        return NULL;
    }
    memcpy(x->head, buf, len);
    x->head[len] = 0;
#define PIECE(s) (x->head + ((s).p - buf))
    char *m = PIECE(h->method);
    m[h->method.len] = 0;
    x->method = m;
    char *p = PIECE(h->path);
    x->path = p;
    if (h->query.p) {
        char *q = PIECE(h->query);
        q[h->query.len] = 0;
        x->query = q;
    }
    p[h->path.len] = 0;   /* after the query's NUL: path ends at '?' or ' ' */
    for (size_t i = 0; i < h->nheaders; i++) {
        char *n = PIECE(h->headers[i].name), *v = PIECE(h->headers[i].value);
        n[h->headers[i].name.len] = 0;
        v[h->headers[i].value.len] = 0;
        x->names[i] = n;
        x->values[i] = v;
    }
#undef PIECE
    x->nheaders = h->nheaders;
    x->keep_alive = h->keep_alive;
    x->is_head = h->method.len == 4 && !memcmp(h->method.p, "HEAD", 4);
    return x;
}

static void dispatch(struct conn *c)
{
    c->phase = PH_HANDLER;
    set_deadline(c, LIMIT_RESPONSE_WAIT_MS);
    c->server->stats.requests_total++;
    c->x->conn = c;
    c->lst->handler(c->lst->arg, c->x);
}

static void read_head(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    /* RFC 9112 §2.2: ignore empty lines before a request line. */
    unsigned char two[2];
    while (evbuffer_copyout(in, two, 2) == 2 && two[0] == '\r' && two[1] == '\n')
        evbuffer_drain(in, 2);
    size_t avail = evbuffer_get_length(in);
    if (!avail)
        return;
    if (!c->got_bytes) {
        c->got_bytes = 1;
        set_deadline(c, LIMIT_HEADER_TIMEOUT_MS);
    }
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        /* A bare LF (RFC 9112 §2.2 allows refusing it) would otherwise wait for the timeout. */
        const char *b = (const char *)evbuffer_pullup(in, -1);
        for (size_t i = 0; b && i < avail; i++)
            if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r')) {
                reject(c, 400);
                return;
            }
        if (avail > LIMIT_HEADER_BYTES) {
            struct evbuffer_ptr eol = evbuffer_search(in, "\r\n", 2, NULL);
            reject(c, (eol.pos < 0 && avail > LIMIT_REQUEST_LINE_BYTES) || eol.pos > LIMIT_REQUEST_LINE_BYTES ? 414 : 431);
        }
        return;
    }
    wait_leave(c);   /* a complete head: from here on the connection is busy with a request */
    size_t hlen = (size_t)end.pos + 4;
    if (hlen > LIMIT_HEADER_BYTES) {
        struct evbuffer_ptr eol = evbuffer_search(in, "\r\n", 2, NULL);
        reject(c, eol.pos > LIMIT_REQUEST_LINE_BYTES ? 414 : 431);
        return;
    }
    char *buf = (char *)evbuffer_pullup(in, (ev_ssize_t)hlen);
    struct http_head h;
    http_parse_err e = http_parse_head(buf, hlen, &h);
    if (e) {
        evbuffer_drain(in, hlen);
        reject(c, http_parse_status(e));
        return;
    }
    if (h.content_length > LIMIT_BODY_BYTES) {
        evbuffer_drain(in, hlen);
        reject(c, 413);
        return;
    }
    c->x = exchange_new(buf, hlen, &h);
    evbuffer_drain(in, hlen);
    if (!c->x) {
        reject(c, 503);
        return;
    }
    c->nrequests++;
    c->body_left = h.content_length;
    if (c->body_left && !(c->x->body = malloc((size_t)c->body_left + 1))) {
        reject(c, 503);
        return;
    }
    if (c->body_left) {
        c->phase = PH_BODY;
        set_deadline(c, LIMIT_BODY_TIMEOUT_MS);
        return;
    }
    dispatch(c);
}

static void conn_process(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (c->phase == PH_CLOSING || c->phase == PH_LINGER) {
        c->discarded += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (c->discarded > LIMIT_LINGER_BYTES)
            conn_close(c);
        return;
    }
    if (c->phase == PH_HEAD)
        read_head(c);
    if (c->phase == PH_BODY) {
        size_t n = evbuffer_get_length(in);
        size_t take = n < c->body_left ? n : (size_t)c->body_left;
        evbuffer_remove(in, c->x->body + c->x->body_len, take);   /* capped at LIMIT_BODY_BYTES above */
        c->x->body_len += take;
        c->x->body[c->x->body_len] = 0;
        c->body_left -= take;
        if (!c->body_left)
            dispatch(c);
    }
    if (c->phase == PH_HANDLER && evbuffer_get_length(in) > LIMIT_HEADER_BYTES)
        bufferevent_disable(c->bev, EV_READ);   /* pipelined bytes wait; cap what we hold */
}

static void on_read(struct bufferevent *bev, void *arg)
{
    conn_process(arg);
}

/* Sends our TLS close_notify once, best effort, before the TCP side closes (RFC 8446 §6.1): without
 * it a client cannot tell a complete response from one cut short by an attacker. Only with the
 * output buffer flushed, so the 24-byte alert goes straight to the socket after it. Never after
 * a fatal TLS error or before the handshake finished (OpenSSL forbids SSL_shutdown there). */
static void conn_close_notify(struct conn *c)
{
    if (!c->lst->tls || c->tls_failed || evbuffer_get_length(bufferevent_get_output(c->bev)))
        return;   /* an unsent tail must not look like a complete response */
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    if (!ssl || !SSL_is_init_finished(ssl) || (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
        return;
    if (SSL_shutdown(ssl) < 0)
        ERR_clear_error();   /* a full socket buffer or a peer gone: nothing more to do */
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)))
        return;
    if (c->phase == PH_CLOSING) {
        conn_close_notify(c);
        /* A complete request answered with "Connection: close" and nothing more received: the
         * client sends nothing after it but its own close_notify, which it sends only after
         * reading ours, so closing now cannot reset the answer away. */
        if (!c->must_linger && !evbuffer_get_length(bufferevent_get_input(bev))) {
            conn_close(c);
            return;
        }
        /* Lingering close: FIN after the response, then drain until the client closes (after an
         * error answer the client may still be sending; a reset would destroy the answer). */
        c->phase = PH_LINGER;
        shutdown(bufferevent_getfd(c->bev), SHUT_WR);
        set_deadline(c, LIMIT_LINGER_MS);
        bufferevent_enable(c->bev, EV_READ);
        return;
    }
    if (c->phase == PH_WRITE) {
        c->phase = PH_HEAD;
        c->got_bytes = 0;
        wait_join(c, HTTP_WAIT_IDLE);
        set_deadline(c, LIMIT_IDLE_TIMEOUT_MS);
        bufferevent_enable(c->bev, EV_READ);
        conn_process(c);   /* a pipelined request may already be buffered */
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {   /* the TLS handshake is done (connected comes before any read) */
        if (c->wait == HTTP_WAIT_HANDSHAKE)
            wait_join(c, HTTP_WAIT_HEAD);
        return;
    }
    int pending = evbuffer_get_length(bufferevent_get_output(bev)) > 0;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && pending &&
        (c->phase == PH_WRITE || c->phase == PH_CLOSING)) {
        c->phase = PH_CLOSING;   /* the client half-closed: finish its response, then close */
        return;
    }
    if (what & BEV_EVENT_ERROR)
        c->tls_failed = 1;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_close(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->wait != WAIT_NONE)
        c->server->stats.timed_out[c->wait]++;
    if ((c->phase == PH_HEAD && c->got_bytes) || c->phase == PH_BODY) {
        reject(c, 408);
        return;
    }
    if (c->phase == PH_HANDLER) {   /* the handler's own deadlines should have answered first */
        struct http_exchange *x = c->x;
        c->x = NULL;
        if (x) {
            x->conn = NULL;
            if (x->abort_fn)
                x->abort_fn(x->abort_arg);
            exchange_free(x);
        }
        log_warn("http.handler_timeout", "limit_ms=%d", LIMIT_RESPONSE_WAIT_MS);
        reject(c, 504);
        return;
    }
    conn_close(c);   /* idle keep-alive, unfinished hello or handshake, or a client not reading */
}

static void conn_close(struct conn *c)
{
    struct http_server *s = c->server;
    struct http_exchange *x = c->x;
    c->x = NULL;
    if (x) {
        x->conn = NULL;
        if (x->abort_fn && c->phase == PH_HANDLER)
            x->abort_fn(x->abort_arg);   /* the handler must not touch x after this */
        exchange_free(x);
    }
    wait_leave(c);
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->stats.connections_open--;
    addr_count_dec(s->per_addr, c->ip);
    event_free(c->deadline);
    if (c->hello)
        event_free(c->hello);
    if (c->bev) {
        if (c->phase != PH_LINGER)   /* idle timeout, server shutdown, client's close_notify */
            conn_close_notify(c);
        bufferevent_free(c->bev);
    } else {
        evutil_closesocket(c->fd);
    }
    free(c);
}

/* The per-address key (addr_key.h: IPv4, or the IPv6 /64) of a 16-byte address (IPv4-mapped or IPv6). */
static void key_of_ip16(const uint8_t ip[16], uint8_t key[ADDR_KEY_BYTES])
{
    struct sockaddr_in6 sa6;
    memset(&sa6, 0, sizeof sa6);
    sa6.sin6_family = AF_INET6;
    memcpy(&sa6.sin6_addr, ip, 16);
    addr_key_of((const struct sockaddr *)&sa6, key);
}

/* ---- when the server is full ------------------------------------------------------------------
 * The policy (docs/architecture.md, "Connection lifecycle"): a connection waiting for a request
 * head can be closed to take a new one, the one that made the least progress first (a ClientHello
 * still arriving, then a TLS handshake under way, then a first head not complete, then idle
 * keep-alive), the oldest of its kind first. This is nginx's reuse of "reusable" connections
 * (ngx_drain_connections: when worker_connections run out, the oldest connections waiting for a
 * request are closed), with the queue ordered by progress. A connection busy with a request is
 * never closed for another; the per-address cap is never bent. */
#define PRESSURE_LOG_MS 10000   /* evictions and refusals after the first are summed up this often */

static void pressure_arm(struct http_server *s)
{
    struct timeval tv = {PRESSURE_LOG_MS / 1000, (PRESSURE_LOG_MS % 1000) * 1000};
    s->logged = s->stats;
    evtimer_add(s->pressure_log, &tv);
}

/* The window after a logged eviction or refusal ended: one line for everything since, if anything. */
static void on_pressure_log(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    const struct http_server_stats *n = &s->stats, *o = &s->logged;
    uint64_t ev[HTTP_WAIT_KINDS], any = 0;
    for (int k = 0; k < HTTP_WAIT_KINDS; k++)
        any |= ev[k] = n->evicted[k] - o->evicted[k];
    uint64_t full = n->refused_full - o->refused_full, addr = n->refused_per_address - o->refused_per_address;
    if (!(any | full | addr))
        return;   /* quiet again: the next eviction or refusal is logged when it happens */
    log_warn("http.pressure", "window_ms=%d evicted_hello=%" PRIu64 " evicted_handshake=%" PRIu64
             " evicted_head=%" PRIu64 " evicted_idle=%" PRIu64 " refused_full=%" PRIu64
             " refused_per_address=%" PRIu64 " open=%u cap=%u", PRESSURE_LOG_MS, ev[HTTP_WAIT_HELLO],
             ev[HTTP_WAIT_HANDSHAKE], ev[HTTP_WAIT_HEAD], ev[HTTP_WAIT_IDLE], full, addr,
             n->connections_open, s->max_connections);
    pressure_arm(s);
}

static int pressure_quiet(const struct http_server *s)
{
    return !evtimer_pending(s->pressure_log, NULL);
}

static struct conn *evict_candidate(const struct http_server *s)
{
    for (int k = 0; k < HTTP_WAIT_KINDS; k++)
        if (s->waiting[k].head)
            return s->waiting[k].head;
    return NULL;
}

/* The same order among the waiting connections of one address (key ip) only: at its cap, an
 * address's new connection takes the place of its own oldest waiting one, so that a visitor behind
 * a NAT or in a /64 shared with an attacker's stalled connections still gets in. A scan of the
 * queues, which only an address at its cap pays. */
static struct conn *evict_candidate_of(const struct http_server *s, const uint8_t ip[ADDR_KEY_BYTES])
{
    for (int k = 0; k < HTTP_WAIT_KINDS; k++)
        for (struct conn *c = s->waiting[k].head; c; c = c->wnext)
            if (!memcmp(c->ip, ip, ADDR_KEY_BYTES))
                return c;
    return NULL;
}

/* Room for one more connection from address key ip: there is some, or the oldest connection that
 * made the least progress is closed for it (of the same address when the address is at its cap,
 * which the count therefore never exceeds). Returns 0, or -1 when the new connection must be
 * refused (every connection it could replace is busy with a request). */
static int conn_admit(struct http_server *s, const uint8_t ip[ADDR_KEY_BYTES])
{
    const char *refuse = NULL;
    struct conn *v = NULL;
    int at_address_cap = addr_count_get(s->per_addr, ip) >= LIMIT_CONNECTIONS_PER_IP;
    if (at_address_cap) {
        if (!(v = evict_candidate_of(s, ip))) {
            s->stats.refused_per_address++;
            refuse = "per_address";
        }
    } else if (s->stats.connections_open < s->max_connections) {
        return 0;
    } else {
        v = evict_candidate(s);
    }
    if (v) {
        s->stats.evicted[v->wait]++;
        if (pressure_quiet(s)) {
            struct timeval now;
            event_base_gettimeofday_cached(s->base, &now);
            long age_ms = (long)(now.tv_sec - v->wait_since.tv_sec) * 1000 + (now.tv_usec - v->wait_since.tv_usec) / 1000;
            log_warn("http.pressure", "action=evict reason=%s evicted=%s waited_ms=%ld open=%u cap=%u",
                     at_address_cap ? "per_address" : "full",
                     http_wait_name(v->wait), age_ms, s->stats.connections_open, s->max_connections);
            pressure_arm(s);
        }
        conn_close(v);
        return 0;
    }
    if (!refuse) {
        s->stats.refused_full++;
        refuse = "full";
    }
    s->stats.rejected_limits++;
    if (pressure_quiet(s)) {
        log_warn("http.pressure", "action=refuse reason=%s open=%u cap=%u", refuse, s->stats.connections_open,
                 s->max_connections);
        pressure_arm(s);
    }
    return -1;
}

/* 1 if a new connection would be taken now (below the cap, or one waiting could give way). */
static int conn_room(const struct http_server *s)
{
    return s->stats.connections_open < s->max_connections || evict_candidate(s);
}

/* ---- a new connection ------------------------------------------------------------------------- */
static void conn_attach(struct conn *c)
{
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* a read high-water mark keeps a flood from growing our buffer past the head cap; small single
     * reads grow it in steps, so a client trickling its head holds 2 KiB, not a 16 KiB chunk */
    bufferevent_setwatermark(c->bev, EV_READ, 0, LIMIT_HEADER_BYTES + 1024);
    bufferevent_set_max_single_read(c->bev, LIMIT_READ_CHUNK_BYTES);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* The first TLS record is in (or the bytes are not TLS, or the kernel wants them read): OpenSSL
 * and a bufferevent take the socket over. The handshake deadline keeps running. */
static void conn_start_tls(struct conn *c)
{
    struct http_server *s = c->server;
    if (c->hello) {
        event_free(c->hello);
        c->hello = NULL;
    }
    if (c->lowat) {   /* back to the default, or later records would not wake the bufferevent */
        int one = 1;
        setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
        c->lowat = 0;
    }
    SSL *ssl = FAULT("conn_tls") ? NULL : tls_ssl_new(c->lst->tls);
    if (ssl) {
        c->bev = bufferevent_openssl_socket_new(s->base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (c->bev)
            bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
        else
            SSL_free(ssl);
    }
    if (!c->bev) {
        conn_close(c);   /* no certificate yet, or out of memory: closes fd */
        return;
    }
    c->phase = PH_HEAD;
    wait_join(c, HTTP_WAIT_HANDSHAKE);
    conn_attach(c);
}

static void on_hello(evutil_socket_t fd, short what, void *arg);

/* PH_HELLO: peeks at what the client sent (the kernel keeps it) until its first TLS record is
 * complete. SO_RCVLOWAT keeps the kernel from waking us before that many bytes are there, so a
 * client trickling a ClientHello a byte at a time costs no wake-up per byte and no buffer of ours.
 * what: the event (0 right after accept). */
static void hello_check(struct conn *c, short what)
{
    uint8_t buf[TLS_RECORD_MAX_BYTES];
    ssize_t r = recv(c->fd, buf, sizeof buf, MSG_PEEK);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        conn_close(c);   /* gone, or reset, before its first record: nothing to answer */
        return;
    }
    size_t need = 0;
    tls_record_state st = tls_record_first(buf, r > 0 ? (size_t)r : 0, &need);
    if (st == TLS_RECORD_SHORT && (what & EV_CLOSED)) {
        conn_close(c);   /* half-closed in its first record: it can never finish a handshake */
        return;
    }
    /* Still short: sleep until the kernel holds the bytes the record takes. Woken short of a mark
     * already set (the kernel wakes early when the socket's receive memory runs low), or unable to
     * set one: OpenSSL reads the record as it comes, as before. */
    if (st == TLS_RECORD_SHORT && need > c->lowat) {
        int v = (int)need;
        if (!c->hello)
            c->hello = event_new(c->server->base, c->fd, EV_READ | EV_CLOSED | EV_PERSIST, on_hello, c);
        if (c->hello && !setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v)) {
            c->lowat = need;
            if (!event_pending(c->hello, EV_READ, NULL))
                event_add(c->hello, NULL);
            return;
        }
    }
    conn_start_tls(c);
}

static void on_hello(evutil_socket_t fd, short what, void *arg)
{
    hello_check(arg, what);
}

/* Takes fd on as a connection of l from ip (the client's address: the peer's, or the one a
 * PROXY v2 header from the load balancer gave), within the caps (conn_admit). */
static void conn_start(struct listener *l, evutil_socket_t fd, const uint8_t ip16[16], const char *peer)
{
    struct http_server *s = l->server;
    uint8_t ip[ADDR_KEY_BYTES];
    key_of_ip16(ip16, ip);
    if (conn_admit(s, ip)) {
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (!c || !(c->deadline = evtimer_new(s->base, on_deadline, c)) ||
        !addr_count_inc(s->per_addr, ip)) {   /* the count cannot fill below the total cap */
        if (c && c->deadline)
            event_free(c->deadline);
        free(c);
        evutil_closesocket(fd);
        s->stats.rejected_limits++;
        return;
    }
    c->server = s;
    c->lst = l;
    c->fd = fd;
    c->wait = WAIT_NONE;
    memcpy(c->ip, ip, 16);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->stats.connections_open++;
    s->stats.connections_total++;
    set_deadline(c, LIMIT_HANDSHAKE_TIMEOUT_MS);
    if (l->tls) {
        c->phase = PH_HELLO;
        wait_join(c, HTTP_WAIT_HELLO);
        /* the ClientHello is often in already (it follows the handshake's last ACK at once) */
        hello_check(c, 0);
        return;
    }
    c->phase = PH_HEAD;
    wait_join(c, HTTP_WAIT_HEAD);
    if (!(c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
        conn_close(c);
        return;
    }
    conn_attach(c);
}

/* Frees p; closes its socket unless keep_fd (handed on to conn_start). */
static void pending_free(struct pending *p, int keep_fd)
{
    struct http_server *s = p->lst->server;
    if (p->prev) p->prev->next = p->next;
    else s->pending = p->next;
    if (p->next) p->next->prev = p->prev;
    s->npending--;
    event_free(p->ev);
    if (!keep_fd)
        evutil_closesocket(p->fd);
    free(p);
}

/* Reads exactly the header (16 bytes, then the length it states), never the client's bytes after it,
 * so that TLS or HTTP starts on the socket where the header ends. */
static void on_proxy_read(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    if (what & EV_TIMEOUT) {
        log_warn("http.proxy_v2_rejected", "from=%s reason=timeout have=%zu", p->peer, p->have);
        pending_free(p, 0);
        return;
    }
    ssize_t r = recv(fd, p->buf + p->have, p->need - p->have, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        pending_free(p, 0);            /* gone before its header: a TCP health check, or a client that left */
        return;
    }
    if (r < 0)
        return;
    p->have += (size_t)r;
    struct proxy_v2 pv;
    size_t need;
    proxy_v2_err e = proxy_v2_parse(p->buf, p->have, &pv, &need);
    if (e == PROXY_V2_SHORT) {
        p->need = need;
        return;
    }
    if (e != PROXY_V2_OK) {
        log_warn("http.proxy_v2_rejected", "from=%s reason=\"%s\"", p->peer, proxy_v2_strerror(e));
        pending_free(p, 0);
        return;
    }
    uint8_t ip[16];
    char peer[INET6_ADDRSTRLEN];
    memcpy(ip, pv.has_address ? pv.src : p->ip, 16);
    if (!pv.has_address)
        snprintf(peer, sizeof peer, "%s", p->peer);
    else if (!memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
        inet_ntop(AF_INET, ip + 12, peer, sizeof peer);
    else
        inet_ntop(AF_INET6, ip, peer, sizeof peer);
    struct listener *l = p->lst;
    pending_free(p, 1);
    conn_start(l, fd, ip, peer);
}

static void proxy_start(struct listener *l, evutil_socket_t fd, const uint8_t ip[16], const char *peer)
{
    struct http_server *s = l->server;
    struct pending *p = NULL;
    if (s->npending >= LIMIT_PROXY_V2_PENDING || !conn_room(s) ||
        !(p = calloc(1, sizeof *p)) || !(p->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_proxy_read, p))) {
        s->stats.rejected_limits++;
        free(p);
        evutil_closesocket(fd);
        return;
    }
    struct timeval tv = {LIMIT_PROXY_V2_TIMEOUT_MS / 1000, (LIMIT_PROXY_V2_TIMEOUT_MS % 1000) * 1000};
    p->lst = l;
    p->fd = fd;
    memcpy(p->ip, ip, 16);
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    p->need = PROXY_V2_FIXED;
    p->next = s->pending;
    if (s->pending)
        s->pending->prev = p;
    s->pending = p;
    s->npending++;
    event_add(p->ev, &tv);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct listener *l = arg;
    uint8_t ip[16] = {0};
    char peer[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &in->sin_addr, 4);
        inet_ntop(AF_INET, &in->sin_addr, peer, sizeof peer);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(ip, &in6->sin6_addr, 16);
        inet_ntop(AF_INET6, &in6->sin6_addr, peer, sizeof peer);
    }
    if (l->proxy_v2 && proxy_cidr_contains(&l->proxy_from, ip))
        proxy_start(l, fd, ip, peer);
    else
        conn_start(l, fd, ip, peer);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    struct http_server *s = arg;
    for (struct listener *l = s->listeners; l; l = l->next)
        evconnlistener_enable(l->evl);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS...): stop accepting for a moment instead of spinning
 * on a listener that stays readable. */
static void on_accept_error(struct evconnlistener *evl, void *arg)
{
    struct listener *l = arg;
    struct http_server *s = l->server;
    int err = EVUTIL_SOCKET_ERROR();
    if (!evtimer_pending(s->accept_pause, NULL))
        log_warn("http.accept_failed", "errno=%d pause_ms=100 open=%u", err, s->stats.connections_open);
    for (struct listener *i = s->listeners; i; i = i->next)
        evconnlistener_disable(i->evl);
    struct timeval tv = {0, 100000};
    evtimer_add(s->accept_pause, &tv);
}

struct event_base *http_server_event_base_new(void)
{
    /* The changelist folds the several enable/disable calls bufferevent_openssl makes during a
     * handshake into one epoll_ctl per descriptor per loop turn (we never dup() a descriptor,
     * the changelist's one caveat). */
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

struct http_server *http_server_new(struct event_base *base)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->max_connections = LIMIT_CONNECTIONS_TOTAL;
    if (!(s->accept_pause = evtimer_new(base, on_accept_resume, s)) ||
        !(s->pressure_log = evtimer_new(base, on_pressure_log, s)) || !(s->per_addr = addr_count_new())) {
        if (s->accept_pause)
            event_free(s->accept_pause);
        if (s->pressure_log)
            event_free(s->pressure_log);
        free(s);
        return NULL;
    }
    return s;
}

void http_server_set_max_connections(struct http_server *s, unsigned n)
{
    s->max_connections = n < LIMIT_CONNECTIONS_TOTAL ? n : LIMIT_CONNECTIONS_TOTAL;
}

void http_server_stop_listening(struct http_server *s)
{
    while (s->listeners) {
        struct listener *l = s->listeners;
        s->listeners = l->next;
        evconnlistener_free(l->evl);
        free(l);
    }
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    http_server_stop_listening(s);
    while (s->conns)
        conn_close(s->conns);
    while (s->pending)
        pending_free(s->pending, 0);
    event_free(s->accept_pause);
    event_free(s->pressure_log);
    addr_count_free(s->per_addr);
    free(s);
}

int http_server_listen(struct http_server *s, const char *addr, int port, struct tls *tls,
                       http_handler_fn handler, void *arg)
{
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    char spec[128];
    snprintf(spec, sizeof spec, strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sl) < 0) {
        log_error("http.listen_failed", "addr=%s reason=\"bad address\"", spec);
        return -1;
    }
    struct listener *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->server = s;
    l->tls = tls;
    l->handler = handler;
    l->arg = arg;
    l->evl = evconnlistener_new_bind(s->base, on_accept, l,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                     1024, (struct sockaddr *)&ss, sl);
    if (!l->evl) {
        log_error("http.listen_failed", "addr=%s errno=%d", spec, errno);
        free(l);
        return -1;
    }
    evconnlistener_set_error_cb(l->evl, on_accept_error);
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    getsockname(evconnlistener_get_fd(l->evl), (struct sockaddr *)&bound, &bl);
    int bport = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    l->port = bport;
    l->next = s->listeners;
    s->listeners = l;
    return bport;
}

int http_server_expect_proxy_v2(struct http_server *s, int port, const char *cidr)
{
    struct proxy_cidr c;
    if (!cidr || proxy_cidr_parse(cidr, strlen(cidr), &c)) {
        log_error("http.proxy_v2_config", "reason=\"not an address range\"");
        return -1;
    }
    for (struct listener *l = s->listeners; l; l = l->next) {
        if (l->port == port) {
            l->proxy_from = c;
            l->proxy_v2 = 1;
            log_info("http.proxy_v2", "port=%d from=%s", port, cidr);
            return 0;
        }
    }
    return -1;
}

void http_server_stats(const struct http_server *s, struct http_server_stats *out)
{
    *out = s->stats;
}
