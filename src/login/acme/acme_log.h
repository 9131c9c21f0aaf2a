/* acme_log: the ACME client's log lines ("<time> <level> acme.<event> key=value ..."), in the
 * service's one-line format. Callers pass states, URLs' paths, counts and the CA's problem
 * details; never keys, key authorizations, nonces or JWS bodies. */
#ifndef SEALED_ACME_LOG_H
#define SEALED_ACME_LOG_H
#include <stddef.h>
#if defined(__GNUC__)
#define ACME_LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ACME_LOG_PRINTF(a, b)
#endif
void acme_log_info(const char *event, const char *fmt, ...) ACME_LOG_PRINTF(2, 3);
void acme_log_warn(const char *event, const char *fmt, ...) ACME_LOG_PRINTF(2, 3);
void acme_log_error(const char *event, const char *fmt, ...) ACME_LOG_PRINTF(2, 3);
/* Copies at most cap-1 bytes of s into out as a log-safe value: printable ASCII only, '"' and
 * '\\' escaped, everything else as '?'. Returns out. */
char *acme_log_sanitize(const char *s, size_t len, char *out, size_t cap);
#endif
