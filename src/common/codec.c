/* codec: base64, base64url and hex encoders/decoders plus the one checked number parser.
 * Hand-written because OpenSSL's EVP_Decode* accepts whitespace and has no url alphabet;
 * strictness matters here since these decode attacker-supplied JWS and cookies. */
#include "common/codec.h"
#include <stdlib.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const char *alpha, int pad, const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t need = pad ? CODEC_B64_LEN(len) : CODEC_B64URL_LEN(len);
    if (cap < need)
        return (size_t)-1;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (pad) { out[o++] = '='; out[o++] = '='; }
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int b64_value(int url, unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

static size_t b64_decode(int url, const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (!url) {
        if (len % 4)
            return (size_t)-1;
        if (len && in[len - 1] == '=') len--;
        if (len && in[len - 1] == '=') len--;
    }
    if (len % 4 == 1)
        return (size_t)-1;
    size_t outlen = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (outlen > cap)
        return (size_t)-1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(url, (unsigned char)in[i]);
        if (v < 0)
            return (size_t)-1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)   /* non-canonical trailing bits */
        return (size_t)-1;
    return o;
}

size_t codec_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap) { return b64_encode(B64, 1, in, len, out, cap); }
size_t codec_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap) { return b64_encode(B64URL, 0, in, len, out, cap); }
size_t codec_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap) { return b64_decode(0, in, len, out, cap); }
size_t codec_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap) { return b64_decode(1, in, len, out, cap); }

size_t codec_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char H[] = "0123456789abcdef";
    if (cap < CODEC_HEX_LEN(len))
        return (size_t)-1;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = H[in[i] >> 4];
        out[2 * i + 1] = H[in[i] & 15];
    }
    out[2 * len] = 0;
    return 2 * len;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t codec_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len % 2 || len / 2 > cap)
        return (size_t)-1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_value((unsigned char)in[2 * i]), lo = hex_value((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return (size_t)-1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return len / 2;
}

static char *encode_alloc(size_t (*enc)(const uint8_t *, size_t, char *, size_t), size_t need,
                          const uint8_t *in, size_t len)
{
    char *s = malloc(need);
    if (s && enc(in, len, s, need) == (size_t)-1) {
        free(s);
        s = NULL;
    }
    return s;
}

char *codec_b64_encode_alloc(const uint8_t *in, size_t len) { return encode_alloc(codec_b64_encode, CODEC_B64_LEN(len), in, len); }
char *codec_b64url_encode_alloc(const uint8_t *in, size_t len) { return encode_alloc(codec_b64url_encode, CODEC_B64URL_LEN(len), in, len); }
char *codec_hex_encode_alloc(const uint8_t *in, size_t len) { return encode_alloc(codec_hex_encode, CODEC_HEX_LEN(len), in, len); }

static uint8_t *decode_alloc(int url, const char *in, size_t len, size_t *outlen)
{
    uint8_t *b = malloc(len / 4 * 3 + 4);
    if (!b)
        return NULL;
    size_t n = b64_decode(url, in, len, b, len / 4 * 3 + 3);
    if (n == (size_t)-1) {
        free(b);
        return NULL;
    }
    b[n] = 0;
    *outlen = n;
    return b;
}

uint8_t *codec_b64_decode_alloc(const char *in, size_t len, size_t *outlen) { return decode_alloc(0, in, len, outlen); }
uint8_t *codec_b64url_decode_alloc(const char *in, size_t len, size_t *outlen) { return decode_alloc(1, in, len, outlen); }

int codec_parse_u64(const char *in, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && in[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] < '0' || in[i] > '9')
            return -1;
        unsigned d = (unsigned)(in[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
