/* util: file reading, time parsing and hex detection for sealed-verify; see util.h. */
#include "verify/util.h"
#include "common/codec.h"
#include "common/file.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *verify_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    uint8_t *b;
    switch (file_read_all(path, max, 0, &b, len)) {
    case FILE_OK: return b;
    case FILE_ERR_OPEN: snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); break;
    case FILE_ERR_READ: snprintf(err, errlen, "cannot read %s", path); break;
    case FILE_ERR_TOOBIG: snprintf(err, errlen, "%s is larger than %zu bytes", path, max); break;
    case FILE_ERR_NOMEM: snprintf(err, errlen, "out of memory reading %s", path); break;
    }
    return NULL;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian); portable, no timegm needed. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int verify_parse_time(const char *s, time_t *out)
{
    size_t n = strlen(s);
    if (n > 1 && s[0] == '@') {
        uint64_t v;
        if (codec_parse_u64(s + 1, n - 1, 0, (uint64_t)1 << 40, &v))
            return -1;
        *out = (time_t)v;
        return 0;
    }
    int Y, M, D, h, m, sec;
    if (n < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    long long t = days_from_civil(Y, M, D) * 86400LL + h * 3600LL + m * 60LL + sec - off;
    *out = (time_t)t;
    return 0;
}

void verify_format_time(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "@%lld", (long long)t);
}

uint8_t *verify_hex_text(const uint8_t *buf, size_t len, size_t *outlen)
{
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    if (len == 0 || len % 2)
        return NULL;
    char *lower = malloc(len);
    uint8_t *out = malloc(len / 2 + 1);
    if (!lower || !out)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        lower[i] = c;
    }
    if (codec_hex_decode(lower, len, out, len / 2) != len / 2)
        goto fail;
    free(lower);
    *outlen = len / 2;
    return out;
fail:
    free(lower);
    free(out);
    return NULL;
}

size_t verify_hex_arg(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s), ol = 0;
    if (n == 0 || n / 2 > cap)
        return (size_t)-1;
    uint8_t *b = verify_hex_text((const uint8_t *)s, n, &ol);
    if (!b || ol > cap) {
        free(b);
        return (size_t)-1;
    }
    memcpy(out, b, ol);
    free(b);
    return ol;
}
