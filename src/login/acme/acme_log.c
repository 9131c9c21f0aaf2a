/* acme_log: formats the ACME client's event lines and writes each with one write(2) to stderr,
 * the same shape as the service log (login/log.h). Knows nothing about ACME state. */
#include "login/acme/acme_log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void emit(const char *level, const char *event, const char *fmt, va_list ap)
{
    char line[1536];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s %s", level, event);
    if (fmt && n < (int)sizeof line - 2) {
        line[n++] = ' ';
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        n = m < 0 ? n : (n + m >= (int)sizeof line - 1 ? (int)sizeof line - 2 : n + m);
    }
    for (int i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

#define DEFINE_LOG(name, level) \
    void name(const char *event, const char *fmt, ...) { va_list ap; va_start(ap, fmt); emit(level, event, fmt, ap); va_end(ap); }
DEFINE_LOG(acme_log_info, "info")
DEFINE_LOG(acme_log_warn, "warn")
DEFINE_LOG(acme_log_error, "error")

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
