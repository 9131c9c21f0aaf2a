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
/* Untrusted text: escapes & < > " ' (safe in element content and quoted attributes). */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
#endif
