/* dynbuf: the one growable byte buffer, with a size cap (curl's dynbuf): HTTP bodies taken from
 * libcurl, signing strings, HTML pages, whole files. Always NUL-terminated after len bytes once
 * anything was added, so text callers need no copy. Errors are sticky: after the first failed add
 * every later add fails too, and the caller checks once. A secret buffer wipes the storage it
 * leaves behind when it grows and when it is freed. */
#ifndef SEALED_COMMON_DYNBUF_H
#define SEALED_COMMON_DYNBUF_H
#include <stdarg.h>
#include <stddef.h>

typedef enum {
    DYNBUF_OK = 0,
    DYNBUF_ERR_NOMEM,    /* an allocation failed */
    DYNBUF_ERR_TOOBIG,   /* the content would pass max */
} dynbuf_err;

struct dynbuf {
    char *p;             /* owned; NULL until the first add */
    size_t len;          /* content bytes (the NUL after them is not counted) */
    size_t cap;          /* allocated bytes */
    size_t max;          /* cap on len */
    int secret;          /* wipe left-behind storage (OPENSSL_cleanse) */
    dynbuf_err err;      /* first error, sticky */
};

/* An empty buffer holding at most max bytes; secret != 0 wipes on growth and free. */
void dynbuf_init(struct dynbuf *b, size_t max, int secret);
/* Appends n bytes; fails (stickily) when that would pass max or memory runs out. */
dynbuf_err dynbuf_add(struct dynbuf *b, const void *p, size_t n);
dynbuf_err dynbuf_addstr(struct dynbuf *b, const char *s);
dynbuf_err dynbuf_printf(struct dynbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
dynbuf_err dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the content to the caller (who frees it, wiping it first if secret) and empties b;
 * *len may be NULL. Returns NULL when the buffer failed; an empty buffer gives "" (malloc'd). */
char *dynbuf_take(struct dynbuf *b, size_t *len);
/* Frees the storage (wiped if secret) and empties b, keeping max and secret; accepts NULL. */
void dynbuf_free(struct dynbuf *b);
const char *dynbuf_strerror(dynbuf_err e);
/* A libcurl CURLOPT_WRITEFUNCTION appending to the struct dynbuf given as CURLOPT_WRITEDATA: a
 * body above the buffer's max (or out of memory) aborts the transfer with CURLE_WRITE_ERROR, and
 * the buffer's err says which. */
size_t dynbuf_curl_write(char *data, size_t size, size_t n, void *dynbuf);
#endif
