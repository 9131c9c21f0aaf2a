/* html: buffer growth and the five-character escape. */
#include "login/html.h"
#include "login/limits.h"
#include <stdarg.h>
#include <string.h>

void html_init(struct html *h) { dynbuf_init(&h->b, LIMIT_PAGE_BYTES, 0); }
void html_free(struct html *h) { dynbuf_free(&h->b); }
int html_failed(const struct html *h) { return h->b.err != DYNBUF_OK; }

static void add(struct html *h, const char *s, size_t n) { dynbuf_add(&h->b, s, n); }

void html_raw(struct html *h, const char *s) { add(h, s, strlen(s)); }

void html_rawf(struct html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dynbuf_vprintf(&h->b, fmt, ap);
    va_end(ap);
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
