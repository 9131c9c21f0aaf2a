/* dynbuf: growth by doubling from 256 bytes, never past max + 1 (the NUL); see dynbuf.h. */
#include "common/dynbuf.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#define DYNBUF_MIN 256u

void dynbuf_init(struct dynbuf *b, size_t max, int secret)
{
    memset(b, 0, sizeof *b);
    b->max = max;
    b->secret = secret;
}

const char *dynbuf_strerror(dynbuf_err e)
{
    switch (e) {
    case DYNBUF_OK: return "ok";
    case DYNBUF_ERR_NOMEM: return "out of memory";
    case DYNBUF_ERR_TOOBIG: return "too big";
    }
    return "unknown error";
}

/* Room for n more bytes and a NUL. */
static dynbuf_err reserve(struct dynbuf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return b->err = DYNBUF_ERR_TOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return DYNBUF_OK;
    size_t cap = b->cap ? b->cap : DYNBUF_MIN;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *np;
    if (b->secret) {
        /* realloc could leave a copy behind: move by hand and wipe the old storage */
        if (!(np = malloc(cap)))
            return b->err = DYNBUF_ERR_NOMEM;
        if (b->p) {
            memcpy(np, b->p, b->len);
            OPENSSL_clear_free(b->p, b->cap);
        }
    } else if (!(np = realloc(b->p, cap))) {
        return b->err = DYNBUF_ERR_NOMEM;
    }
    b->p = np;
    b->cap = cap;
    return DYNBUF_OK;
}

dynbuf_err dynbuf_add(struct dynbuf *b, const void *p, size_t n)
{
    dynbuf_err e = reserve(b, n);
    if (e)
        return e;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return DYNBUF_OK;
}

dynbuf_err dynbuf_addstr(struct dynbuf *b, const char *s) { return dynbuf_add(b, s, strlen(s)); }

dynbuf_err dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (b->err)
        return b->err;
    if (n < 0)
        return b->err = DYNBUF_ERR_NOMEM;
    dynbuf_err e = reserve(b, (size_t)n);
    if (e)
        return e;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return DYNBUF_OK;
}

dynbuf_err dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dynbuf_err e = dynbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
    if (b->err || (!b->p && dynbuf_add(b, "", 0))) {
        dynbuf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void dynbuf_free(struct dynbuf *b)
{
    if (!b)
        return;
    if (b->p) {
        if (b->secret)
            OPENSSL_clear_free(b->p, b->cap);
        else
            free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = DYNBUF_OK;
}

size_t dynbuf_curl_write(char *data, size_t size, size_t n, void *dynbuf)
{
    size_t len = size * n;
    return dynbuf_add(dynbuf, data, len) == DYNBUF_OK ? len : 0;
}
