/* acme_log: the ACME client's event lines, written through the service log (login/log.h) so they
 * share its format and its one-write-per-line rule. Knows nothing about ACME state. */
#include "login/acme/acme_log.h"
#include "login/log.h"
#include <stdarg.h>
#include <stdio.h>

#define DEFINE_LOG(name, sink) \
    void name(const char *event, const char *fmt, ...) \
    { \
        char buf[1400]; \
        va_list ap; \
        va_start(ap, fmt); \
        vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap); \
        va_end(ap); \
        sink(event, "%s", buf); \
    }
DEFINE_LOG(acme_log_info, log_info)
DEFINE_LOG(acme_log_warn, log_warn)
DEFINE_LOG(acme_log_error, log_error)

char *acme_log_sanitize(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return out;
    for (size_t i = 0; s && i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            if (o + 2 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
    }
    out[o] = 0;
    return out;
}
