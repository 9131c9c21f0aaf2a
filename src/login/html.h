/* html: a growable output buffer for pages with HTML escaping. Every byte that did not come
 * from our own templates goes through html_text (a PayPal display name is attacker-controlled).
 * An allocation failure (or a page above LIMIT_PAGE_BYTES) is sticky: html_failed() tells the caller to answer 503 instead. */
#ifndef SEALED_HTML_H
#define SEALED_HTML_H
#include <stddef.h>
#include "common/dynbuf.h"
#include "login/log.h"

struct html {
    struct dynbuf b;   /* owned: the page so far (b.p, b.len), capped at LIMIT_PAGE_BYTES */
};

void html_init(struct html *h);
void html_free(struct html *h);
int html_failed(const struct html *h);
/* Template text (trusted). */
void html_raw(struct html *h, const char *s);
void html_rawf(struct html *h, const char *fmt, ...) LOG_PRINTF(2, 3);
/* Untrusted text: escapes & < > " ' (safe in element content and quoted attributes); NUL, the
 * other C0 controls but tab, LF and CR, DEL and the C1 controls become U+FFFD. */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
/* Untrusted text in element content, escaped as html_textn and wrapped in <bdi> (with class cls,
 * trusted, when not NULL), so right-to-left text or bidi controls in it cannot reorder anything
 * around it. Every string a visitor or PayPal supplies goes through this on a page. */
void html_bdi(struct html *h, const char *cls, const char *s, size_t n);
#endif
