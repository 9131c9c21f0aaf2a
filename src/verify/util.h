/* util: small helpers for sealed-verify's command layer: bounded file reading, RFC 3339 times,
 * and hex-or-binary input detection. No policy, no crypto. */
#ifndef SEALED_VERIFY_UTIL_H
#define SEALED_VERIFY_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads a whole file of at most max bytes ("-" is stdin). malloc'd buffer with a NUL after *len,
 * or NULL with errno-style message in err (cap errlen). */
uint8_t *verify_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" or "@<unix seconds>" into *out; 0 or -1. */
int verify_parse_time(const char *s, time_t *out);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out (21+ bytes). */
void verify_format_time(time_t t, char *out, size_t cap);

/* If buf (len bytes) is hex text (optionally ending in whitespace), decodes it in place-free
 * fashion into a new malloc'd buffer and returns it with *outlen; otherwise NULL. */
uint8_t *verify_hex_text(const uint8_t *buf, size_t len, size_t *outlen);

/* Decodes a hex command-line value (either case) into out (at most cap bytes); the decoded length,
 * or (size_t)-1 if it is not hex or too long. */
size_t verify_hex_arg(const char *s, uint8_t *out, size_t cap);
#endif
