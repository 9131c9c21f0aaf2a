/* html: buffer growth and the five-character escape. */
#include "login/html.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void html_init(struct html *h) { memset(h, 0, sizeof *h); }
void html_free(struct html *h) { free(h->buf); memset(h, 0, sizeof *h); }
int html_failed(const struct html *h) { return h->failed; }

static int reserve(struct html *h, size_t more)
{
    if (h->failed)
        return -1;
    if (h->len + more + 1 <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->len + more + 1)
        cap *= 2;
    char *b = realloc(h->buf, cap);
    if (!b) {
        h->failed = 1;
        return -1;
    }
    h->buf = b;
    h->cap = cap;
    return 0;
}

static void add(struct html *h, const char *s, size_t n)
{
    if (reserve(h, n))
        return;
    memcpy(h->buf + h->len, s, n);
    h->len += n;
    h->buf[h->len] = 0;
}

void html_raw(struct html *h, const char *s) { add(h, s, strlen(s)); }

void html_rawf(struct html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(h, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    h->len += (size_t)n;
}

void html_textn(struct html *h, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\0': rep = "\xef\xbf\xbd"; break;   /* U+FFFD: NUL never reaches a page */
        default: continue;
        }
        add(h, s + start, i - start);
        add(h, rep, strlen(rep));
        start = i + 1;
    }
    add(h, s + start, n - start);
}

void html_text(struct html *h, const char *s) { html_textn(h, s, strlen(s)); }
