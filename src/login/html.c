/* html: buffer growth, the five-character escape (control and bidi-formatting characters become U+FFFD) and the
 * bidi-isolated form for text a visitor or PayPal supplies. */
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

/* One byte (or the two of a C1 control) that must not reach a page as is, with its replacement;
 * 0 for an ordinary byte. Jansson hands us valid UTF-8, so C1 controls are always 0xC2 0x80-0x9F. */
static size_t escape_at(const char *s, size_t i, size_t n, const char **rep)
{
    static const char FFFD[] = "\xef\xbf\xbd";
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '&': *rep = "&amp;"; return 1;
    case '<': *rep = "&lt;"; return 1;
    case '>': *rep = "&gt;"; return 1;
    case '"': *rep = "&quot;"; return 1;
    case '\'': *rep = "&#39;"; return 1;
    case '\t': case '\n': case '\r': return 0;   /* the HTML parser folds CR LF into LF */
    default: break;
    }
    /* NUL, the other C0 controls, DEL, C1 controls */
    if (c < 0x20 || c == 0x7f) { *rep = FFFD; return 1; }
    if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
        *rep = FFFD;
        return 2;
    }
    /* the explicit bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): inside a
     * <bdi> they could still show a value reversed ("moc.elpmaxe@..."); the signed result keeps them */
    if (c == 0xe2 && i + 2 < n) {
        unsigned char c1 = (unsigned char)s[i + 1], c2 = (unsigned char)s[i + 2];
        if ((c1 == 0x80 && c2 >= 0xaa && c2 <= 0xae) || (c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9)) {
            *rep = FFFD;
            return 3;
        }
    }
    return 0;
}

void html_textn(struct html *h, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n;) {
        const char *rep;
        size_t k = escape_at(s, i, n, &rep);
        if (!k) {
            i++;
            continue;
        }
        add(h, s + start, i - start);
        add(h, rep, strlen(rep));
        i += k;
        start = i;
    }
    add(h, s + start, n - start);
}

void html_text(struct html *h, const char *s) { html_textn(h, s, strlen(s)); }

void html_bdi(struct html *h, const char *cls, const char *s, size_t n)
{
    if (cls) {
        html_raw(h, "<bdi class=\"");
        html_raw(h, cls);
        html_raw(h, "\">");
    } else {
        html_raw(h, "<bdi>");
    }
    html_textn(h, s, n);
    html_raw(h, "</bdi>");
}
