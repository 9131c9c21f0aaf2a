/* codec: base64 (RFC 4648 §4, padded), base64url (§5, unpadded, as JOSE uses) and lowercase hex.
 * Pure functions on (ptr, len); decoders are strict (no whitespace, no stray padding, canonical
 * trailing bits) and never read past len. Owns no state. */
#ifndef SEALED_CODEC_H
#define SEALED_CODEC_H
#include <stddef.h>
#include <stdint.h>

/* Output sizes including the terminating NUL. */
#define CODEC_B64_LEN(n)    ((((n) + 2) / 3) * 4 + 1)
#define CODEC_B64URL_LEN(n) (((n) * 4 + 2) / 3 + 1)
#define CODEC_HEX_LEN(n)    ((n) * 2 + 1)

/* Encoders write a NUL-terminated string into out (cap bytes, see sizes above) and return its
 * length, or (size_t)-1 when cap is too small. */
size_t codec_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
size_t codec_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);
size_t codec_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decoders write at most cap bytes to out and return the decoded length, or (size_t)-1 on any
 * malformed input or when cap is too small. b64 requires padding; b64url rejects it. */
size_t codec_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);
size_t codec_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);
size_t codec_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* Convenience: malloc'd NUL-terminated encodings (caller frees), NULL on allocation failure. */
char *codec_b64_encode_alloc(const uint8_t *in, size_t len);
char *codec_b64url_encode_alloc(const uint8_t *in, size_t len);
char *codec_hex_encode_alloc(const uint8_t *in, size_t len);
/* malloc'd decoding (caller frees; one extra NUL byte after *outlen); NULL on malformed input. */
uint8_t *codec_b64_decode_alloc(const char *in, size_t len, size_t *outlen);
uint8_t *codec_b64url_decode_alloc(const char *in, size_t len, size_t *outlen);

/* Parses a decimal unsigned integer in [min, max] from exactly len bytes (no sign, no spaces,
 * no leading zeros except "0"). Returns 0 and sets *out, or -1. */
int codec_parse_u64(const char *in, size_t len, uint64_t min, uint64_t max, uint64_t *out);
#endif
