/* http_client: libcurl multi on libevent (the socket/timer callback pattern of curl's
 * multi-event example). One struct http_call per transfer; responses are buffered up to a cap. */
#include "login/http_client.h"
#include "common/dynbuf.h"
#include "login/http_field.h"
#include "login/limits.h"
#include "login/log.h"
#include <curl/curl.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

struct http_client {
    struct event_base *base;       /* borrowed */
    CURLM *multi;                  /* owned */
    struct event *timer;           /* owned */
    struct http_call *calls;       /* owned list of calls in flight */
    unsigned active;
};

struct http_call {
    struct http_client *client;    /* borrowed */
    CURL *easy;                    /* owned */
    struct curl_slist *hdrs;       /* owned */
    uint8_t *req_body;             /* owned, wiped */
    size_t req_body_len;
    char *user, *pass;             /* owned, wiped */
    struct dynbuf body;            /* the response body, capped, wiped (it may carry tokens) */
    char *resp_hdrs;               /* owned: "name: value\0" pairs of the last response */
    size_t resp_hdrs_len;
    int too_big;
    char errbuf[CURL_ERROR_SIZE];
    http_done_fn done;
    void *arg;
    struct http_call *next, *prev;
};

/* Per-socket watcher (curl's socketp). */
struct sock_watch {
    struct event *ev;
    struct http_client *client;
};

const char *http_client_strerror(http_client_err e)
{
    switch (e) {
    case HTTP_CLIENT_OK: return "ok";
    case HTTP_CLIENT_ERR_NOMEM: return "out of memory";
    case HTTP_CLIENT_ERR_CONNECT: return "could not connect";
    case HTTP_CLIENT_ERR_TIMEOUT: return "timed out";
    case HTTP_CLIENT_ERR_TOOBIG: return "response too large";
    case HTTP_CLIENT_ERR_PROTOCOL: return "malformed response";
    }
    return "unknown error";
}

static void call_free(struct http_call *call)
{
    if (!call)
        return;
    struct http_client *c = call->client;
    if (call->easy) {
        curl_multi_remove_handle(c->multi, call->easy);
        curl_easy_cleanup(call->easy);
    }
    if (call->prev) call->prev->next = call->next;
    else if (c->calls == call) c->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    c->active--;
    curl_slist_free_all(call->hdrs);
    if (call->req_body) OPENSSL_clear_free(call->req_body, call->req_body_len);
    if (call->user) OPENSSL_clear_free(call->user, strlen(call->user));
    if (call->pass) OPENSSL_clear_free(call->pass, strlen(call->pass));
    dynbuf_free(&call->body);
    if (call->resp_hdrs) OPENSSL_clear_free(call->resp_hdrs, call->resp_hdrs_len);
    free(call);
}

static http_client_err map_curl(CURLcode rc, int too_big)
{
    if (too_big) return HTTP_CLIENT_ERR_TOOBIG;
    switch (rc) {
    case CURLE_OK: return HTTP_CLIENT_OK;
    case CURLE_OPERATION_TIMEDOUT: return HTTP_CLIENT_ERR_TIMEOUT;
    case CURLE_OUT_OF_MEMORY: return HTTP_CLIENT_ERR_NOMEM;
    case CURLE_FILESIZE_EXCEEDED: case CURLE_WRITE_ERROR: return HTTP_CLIENT_ERR_TOOBIG;
    case CURLE_WEIRD_SERVER_REPLY: case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE: case CURLE_BAD_CONTENT_ENCODING: case CURLE_HTTP2:
        return HTTP_CLIENT_ERR_PROTOCOL;
    default: return HTTP_CLIENT_ERR_CONNECT;
    }
}

static void check_done(struct http_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct http_call *call = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        struct http_response r = {0};
        r.err = map_curl(msg->data.result, call->too_big || call->body.err == DYNBUF_ERR_TOOBIG);
        r.errmsg = r.err ? (call->errbuf[0] ? call->errbuf : curl_easy_strerror(msg->data.result)) : "";
        if (r.err == HTTP_CLIENT_ERR_TOOBIG)
            r.errmsg = "response over the size cap";
        if (!r.err)
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r.status);
        curl_off_t us = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
        r.total_ms = (double)us / 1000.0;
        r.body = call->body.p ? (const uint8_t *)call->body.p : (const uint8_t *)"";
        r.body_len = call->body.len;
        r.call = call;
        call->done(call->arg, &r);
        call_free(call);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http_client *c = userp;
    struct sock_watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            if (w->ev)
                event_free(w->ev);
            free(w);
            curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            return -1;
        w->client = c;
        curl_multi_assign(c->multi, s, w);
    } else if (w->ev) {
        event_free(w->ev);
    }
    w->ev = event_new(c->base, s, kind, on_socket_event, c);
    if (!w->ev) {
        free(w);
        curl_multi_assign(c->multi, s, NULL);
        return -1;
    }
    event_add(w->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *c = userp;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return 0;
}

struct http_client *http_client_new(struct event_base *base)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT))
            return NULL;
        global_done = 1;
    }
    struct http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, on_timer, c);
    if (!c->multi || !c->timer) {
        http_client_free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    while (c->calls)
        call_free(c->calls);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->timer)
        event_free(c->timer);
    free(c);
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    struct http_call *call = arg;
    size_t len = size * n;
    if (len >= 5 && !strncasecmp(ptr, "HTTP/", 5)) {   /* a new response (after 1xx/redirect) */
        call->resp_hdrs_len = 0;
        return len;
    }
    while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
        len--;
    if (!len || !memchr(ptr, ':', len))
        return size * n;
    if (call->resp_hdrs_len + len + 1 > HTTP_CLIENT_MAX_HEADER_BYTES) {
        call->too_big = 1;
        return 0;
    }
    if (!call->resp_hdrs && !(call->resp_hdrs = malloc(HTTP_CLIENT_MAX_HEADER_BYTES)))
        return 0;
    memcpy(call->resp_hdrs + call->resp_hdrs_len, ptr, len);
    call->resp_hdrs[call->resp_hdrs_len + len] = 0;
    call->resp_hdrs_len += len + 1;
    return size * n;
}

void http_response_headers_each(const struct http_response *r, const char *name,
                                void (*fn)(void *arg, const char *value), void *arg)
{
    const struct http_call *call = r->call;
    size_t nl = strlen(name);
    for (size_t o = 0; call && call->resp_hdrs && o < call->resp_hdrs_len;) {
        const char *line = call->resp_hdrs + o;
        size_t ll = strlen(line);
        if (ll > nl && line[nl] == ':' && !strncasecmp(line, name, nl)) {
            const char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            fn(arg, v);
        }
        o += ll + 1;
    }
}

static void keep_last(void *arg, const char *value) { *(const char **)arg = value; }

const char *http_response_header(const struct http_response *r, const char *name)
{
    const char *v = NULL;
    http_response_headers_each(r, name, keep_last, &v);
    return v;
}

struct http_call *http_client_start(struct http_client *c, const struct http_request *req,
                                    http_done_fn done, void *arg)
{
    if (c->active >= HTTP_CLIENT_MAX_CALLS)
        return NULL;
    int https = !strncmp(req->url, "https://", 8);
    if (!https && !(req->allow_plain_http && !strncmp(req->url, "http://", 7)))
        return NULL;
    for (const char *const *h = req->headers; h && *h; h++)
        if (!http_field_line_ok(*h)) {   /* never the line itself: it may carry a credential */
            log_error("http_client.bad_header", "reason=\"control byte or malformed name\" index=%d",
                      (int)(h - req->headers));
            return NULL;
        }
    struct http_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->client = c;
    call->done = done;
    call->arg = arg;
    dynbuf_init(&call->body, req->max_response ? req->max_response : HTTP_CLIENT_DEFAULT_MAX_RESPONSE, 1);
    call->next = c->calls;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    c->active++;
    CURL *e = call->easy = curl_easy_init();
    if (!e)
        goto fail;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *l = curl_slist_append(call->hdrs, *h);
        if (!l)
            goto fail;
        call->hdrs = l;
    }
    /* curl adds "Expect: 100-continue" to larger POSTs; no peer of ours wants it. */
    struct curl_slist *l = curl_slist_append(call->hdrs, "Expect:");
    if (!l)
        goto fail;
    call->hdrs = l;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->hdrs);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : (long)HTTP_CLIENT_DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->body.max);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dynbuf_curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &call->body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sealed-login/1");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (req->basic_user) {
        call->user = strdup(req->basic_user);
        call->pass = strdup(req->basic_pass ? req->basic_pass : "");
        if (!call->user || !call->pass)
            goto fail;
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, call->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, call->pass);
    }
    const char *m = req->method ? req->method : "GET";
    if (!strcmp(m, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") || req->body) {
        call->req_body_len = req->body_len;
        call->req_body = malloc(req->body_len + 1);
        if (!call->req_body)
            goto fail;
        if (req->body_len)
            memcpy(call->req_body, req->body, req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->req_body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(m, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
        goto fail;
    return call;
fail:
    call_free(call);
    return NULL;
}

void http_call_cancel(struct http_call *call)
{
    call_free(call);
}

unsigned http_client_active(const struct http_client *c)
{
    return c->active;
}
