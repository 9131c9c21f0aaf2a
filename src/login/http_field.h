/* http_field: the one check every header line we send goes through (responses in http_server.c,
 * requests in http_client.c, PayPal's access token in paypal.c). A value from outside (a token,
 * a URL, a cookie) that carried CR or LF would add header lines or split the message; NUL, the
 * other C0 controls and DEL have no place in a field value either. Pure functions, no state. */
#ifndef SEALED_HTTP_FIELD_H
#define SEALED_HTTP_FIELD_H
#include <stddef.h>

/* 1 if v[0..len) may be sent as a field value (RFC 9110 §5.5): visible ASCII, SP, HTAB and
 * obs-text (0x80-0xFF); 0 for CR, LF, NUL, any other byte below 0x20, or DEL (0x7F). */
int http_field_value_ok(const char *v, size_t len);
/* 1 if line (NUL-terminated) is "Name: value" with a token name (RFC 9110 §5.6.2) and a value
 * that http_field_value_ok accepts. "Name:" (empty value) is accepted. */
int http_field_line_ok(const char *line);
/* 1 if t[0..len) is an RFC 6750 §2.1 b64token (what a Bearer credential must be):
 * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
int http_field_b64token_ok(const char *t, size_t len);
#endif
