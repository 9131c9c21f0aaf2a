/* log: one line per event to stderr: "2026-11-21T23:59:01Z level event key=value ...".
 * Callers pass only counts, states and short hash prefixes: never secrets, tokens, codes,
 * PayPal ids, names or e-mail addresses (STYLE.md; docs/logging.md lists every event). */
#ifndef SEALED_LOG_H
#define SEALED_LOG_H

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

/* event: short dotted name ("login.result"); fmt: the key=value rest (may be NULL). */
void log_info(const char *event, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_warn(const char *event, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_error(const char *event, const char *fmt, ...) LOG_PRINTF(2, 3);
#endif
