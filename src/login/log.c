/* log: formats and writes event lines to stderr with one write(2) each, so lines from the main
 * loop and the evidence worker never interleave. */
#include "login/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void emit(const char *level, const char *event, const char *fmt, va_list ap)
{
    char line[1024];
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
    for (int i = 0; i < n; i++)   /* one event, one line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

#define DEFINE_LOG(name, level) \
    void name(const char *event, const char *fmt, ...) { va_list ap; va_start(ap, fmt); emit(level, event, fmt, ap); va_end(ap); }
DEFINE_LOG(log_info, "info")
DEFINE_LOG(log_warn, "warn")
DEFINE_LOG(log_error, "error")
