/* oci_sign: the signing string, rsa-sha256 signature and header set of OCI request signatures v1.
 * Byte-exact against OCI's published test vectors (tests/unit/common/test_oci_sign.c). Touches no
 * network and no file; the key stays the caller's. */
#include "common/oci_sign.h"
#include "common/dynbuf.h"
#include "common/codec.h"
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *oci_sign_strerror(oci_sign_err e)
{
    switch (e) {
    case OCI_SIGN_OK: return "ok";
    case OCI_SIGN_ERR_NOMEM: return "out of memory";
    case OCI_SIGN_ERR_ARG: return "bad argument (method, key id or date)";
    case OCI_SIGN_ERR_URL: return "not an absolute http(s) URL";
    case OCI_SIGN_ERR_KEY: return "not an RSA private key";
    case OCI_SIGN_ERR_CRYPTO: return "signing failed";
    }
    return "unknown error";
}

static const char DAYS[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void oci_sign_format_date(time_t t, char out[OCI_SIGN_DATE_LEN + 1])
{
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999)
        year = 9999;
    snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday % 7],
             tm.tm_mday % 100, MONTHS[tm.tm_mon % 12], year, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100);
    memcpy(out, buf, OCI_SIGN_DATE_LEN);
    out[OCI_SIGN_DATE_LEN] = 0;
}

static int digits(const char *s, size_t n, int *v)
{
    /* codec_parse_u64 rejects leading zeros; dates have them, so parse by hand. */
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = (int)x;
    return 0;
}

int oci_sign_parse_date(const char *s, size_t len, time_t *t)
{
    /* "Thu, 05 Jan 2014 21:31:40 GMT". The weekday is not checked: OCI's own published vector
     * says "Thu" for 5 January 2014, a Sunday, and its servers accept such dates. */
    if (len != OCI_SIGN_DATE_LEN || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3))
        return -1;
    struct tm tm = {0};
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (!memcmp(s + 8, MONTHS[i], 3))
            mon = i;
    int year, mday, h, m, sec;
    if (mon < 0 || digits(s + 5, 2, &mday) || digits(s + 12, 4, &year) || digits(s + 17, 2, &h) ||
        digits(s + 20, 2, &m) || digits(s + 23, 2, &sec))
        return -1;
    if (mday < 1 || mday > 31 || year < 1970 || h > 23 || m > 59 || sec > 60)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    *t = timegm(&tm);
    return *t == (time_t)-1 ? -1 : 0;
}

/* Splits an absolute URL into host (authority without userinfo) and request target. */
static oci_sign_err split_url(const char *url, const char **host, size_t *host_len, const char **target,
                              size_t *target_len)
{
    size_t ulen = strnlen(url, OCI_SIGN_MAX_URL + 1);
    if (ulen > OCI_SIGN_MAX_URL)
        return OCI_SIGN_ERR_URL;
    const char *p;
    if (!strncasecmp(url, "https://", 8))
        p = url + 8;
    else if (!strncasecmp(url, "http://", 7))
        p = url + 7;
    else
        return OCI_SIGN_ERR_URL;
    const char *end = url + ulen;
    const char *a_end = p;
    while (a_end < end && *a_end != '/' && *a_end != '?' && *a_end != '#')
        a_end++;
    const char *at = memchr(p, '@', (size_t)(a_end - p));
    if (at)
        p = at + 1;
    if (a_end == p)
        return OCI_SIGN_ERR_URL;
    *host = p;
    *host_len = (size_t)(a_end - p);
    const char *frag = memchr(a_end, '#', (size_t)(end - a_end));
    *target = a_end;
    *target_len = (size_t)((frag ? frag : end) - a_end);
    return OCI_SIGN_OK;
}

/* The signing string and the header list are ours, built from a request the caller sized:
 * this cap only keeps a runaway target from growing them without bound. */
#define OCI_SIGN_MAX_STRING (64 * 1024)

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

oci_sign_err oci_sign_rsa_sha256(EVP_PKEY *key, const uint8_t *data, size_t len, char **b64)
{
    oci_sign_err rc = OCI_SIGN_ERR_CRYPTO;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *sig = NULL;
    size_t siglen = 0;
    *b64 = NULL;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return OCI_SIGN_ERR_KEY;
    if (!(ctx = EVP_MD_CTX_new()))
        return OCI_SIGN_ERR_NOMEM;
    if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_DigestSign(ctx, NULL, &siglen, data, len) != 1)
        goto fail;
    if (!(sig = malloc(siglen))) {
        rc = OCI_SIGN_ERR_NOMEM;
        goto fail;
    }
    if (EVP_DigestSign(ctx, sig, &siglen, data, len) != 1)
        goto fail;
    if (!(*b64 = codec_b64_encode_alloc(sig, siglen))) {
        rc = OCI_SIGN_ERR_NOMEM;
        goto fail;
    }
    rc = OCI_SIGN_OK;
fail:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}

void oci_sign_result_clear(struct oci_sign_result *r)
{
    if (!r)
        return;
    free(r->signing_string);
    free(r->signature_b64);
    free(r->authorization);
    for (int i = 0; i < OCI_SIGN_MAX_HEADERS; i++)
        free(r->headers[i]);
    memset(r, 0, sizeof *r);
}

static int is_body_method(const char *m)
{
    return !strcasecmp(m, "POST") || !strcasecmp(m, "PUT") || !strcasecmp(m, "PATCH");
}

static int is_plain_method(const char *m)
{
    return !strcasecmp(m, "GET") || !strcasecmp(m, "HEAD") || !strcasecmp(m, "DELETE") ||
           !strcasecmp(m, "OPTIONS");
}

oci_sign_err oci_sign_request(EVP_PKEY *key, const char *key_id, const struct oci_sign_request *req,
                              struct oci_sign_result *out)
{
    oci_sign_err rc;
    struct dynbuf ss, names;
    char date[OCI_SIGN_DATE_LEN + 1];
    char body_sha[CODEC_B64_LEN(32)];
    char clen[24];
    const char *host, *target;
    size_t host_len, target_len;
    int nh = 0;

    dynbuf_init(&ss, OCI_SIGN_MAX_STRING, 0);
    dynbuf_init(&names, OCI_SIGN_MAX_STRING, 0);
    memset(out, 0, sizeof *out);
    if (!req->method || !key_id || !*key_id || strnlen(key_id, OCI_SIGN_MAX_KEY_ID + 1) > OCI_SIGN_MAX_KEY_ID ||
        strchr(key_id, '"'))
        return OCI_SIGN_ERR_ARG;
    int body = is_body_method(req->method);
    if (!body && !is_plain_method(req->method))
        return OCI_SIGN_ERR_ARG;
    if (req->which == OCI_SIGN_HEADERS_FEDERATION && !body)
        return OCI_SIGN_ERR_ARG;
    if ((rc = split_url(req->url ? req->url : "", &host, &host_len, &target, &target_len)))
        return rc;
    if (req->date) {
        time_t t;
        if (oci_sign_parse_date(req->date, strlen(req->date), &t))
            return OCI_SIGN_ERR_ARG;
        memcpy(date, req->date, OCI_SIGN_DATE_LEN + 1);
    } else {
        oci_sign_format_date(time(NULL) + req->clock_offset_s, date);
    }
    const char *ctype = req->content_type ? req->content_type : "application/json";
    if (body) {
        uint8_t md[32];
        const uint8_t *b = req->body ? req->body : (const uint8_t *)"";
        if (!EVP_Digest(b, req->body ? req->body_len : 0, md, NULL, EVP_sha256(), NULL))
            return OCI_SIGN_ERR_CRYPTO;
        codec_b64_encode(md, sizeof md, body_sha, sizeof body_sha);
        snprintf(clen, sizeof clen, "%zu", req->body ? req->body_len : 0);
    }

    /* date */
    dynbuf_addstr(&ss, "date: ");
    dynbuf_addstr(&ss, date);
    dynbuf_addstr(&names, "date");
    /* (request-target): lower-case method, space, path and query as sent */
    dynbuf_addstr(&ss, "\n(request-target): ");
    for (const char *m = req->method; *m; m++) {
        char c = (*m >= 'A' && *m <= 'Z') ? (char)(*m + 32) : *m;
        dynbuf_add(&ss, &c, 1);
    }
    dynbuf_addstr(&ss, " ");
    if (target_len == 0 || target[0] != '/')
        dynbuf_addstr(&ss, "/");
    dynbuf_add(&ss, target, target_len);
    dynbuf_addstr(&names, " (request-target)");
    if (req->which != OCI_SIGN_HEADERS_FEDERATION) {
        dynbuf_addstr(&ss, "\nhost: ");
        dynbuf_add(&ss, host, host_len);
        dynbuf_addstr(&names, " host");
    }
    if (body) {
        dynbuf_addstr(&ss, "\ncontent-length: ");
        dynbuf_addstr(&ss, clen);
        dynbuf_addstr(&ss, "\ncontent-type: ");
        dynbuf_addstr(&ss, ctype);
        dynbuf_addstr(&ss, "\nx-content-sha256: ");
        dynbuf_addstr(&ss, body_sha);
        dynbuf_addstr(&names, " content-length content-type x-content-sha256");
    }
    if (ss.err || names.err) {
        rc = ss.err == DYNBUF_ERR_TOOBIG ? OCI_SIGN_ERR_ARG : OCI_SIGN_ERR_NOMEM;
        goto fail;
    }
    out->signing_string = dynbuf_take(&ss, &out->signing_string_len);
    if ((rc = oci_sign_rsa_sha256(key, (const uint8_t *)out->signing_string, out->signing_string_len,
                                  &out->signature_b64)))
        goto fail;
    out->authorization = dup_printf("Signature version=\"1\",headers=\"%s\",keyId=\"%s\","
                                    "algorithm=\"rsa-sha256\",signature=\"%s\"",
                                    names.p, key_id, out->signature_b64);
    out->headers[nh++] = dup_printf("date: %s", date);
    if (req->which != OCI_SIGN_HEADERS_FEDERATION)
        out->headers[nh++] = dup_printf("host: %.*s", (int)host_len, host);
    if (body) {
        out->headers[nh++] = dup_printf("content-type: %s", ctype);
        out->headers[nh++] = dup_printf("content-length: %s", clen);
        out->headers[nh++] = dup_printf("x-content-sha256: %s", body_sha);
    }
    out->headers[nh++] = out->authorization ? dup_printf("authorization: %s", out->authorization) : NULL;
    for (int i = 0; i < nh; i++)
        if (!out->headers[i] || !out->authorization) {
            rc = OCI_SIGN_ERR_NOMEM;
            goto fail;
        }
    dynbuf_free(&names);
    return OCI_SIGN_OK;
fail:
    dynbuf_free(&ss);
    dynbuf_free(&names);
    oci_sign_result_clear(out);
    return rc;
}

EVP_PKEY *oci_sign_load_key_pem(const char *pem, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
    BIO_free(b);
    if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
}

char *oci_sign_fingerprint(const char *md_name, const uint8_t *der, size_t len)
{
    const EVP_MD *md = !strcmp(md_name, "SHA256") ? EVP_sha256() : !strcmp(md_name, "MD5") ? EVP_md5() : NULL;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (!md || !EVP_Digest(der, len, d, &dl, md, NULL))
        return NULL;
    static const char HEX[] = "0123456789abcdef";
    char *s = malloc((size_t)dl * 3 + 1);
    if (!s)
        return NULL;
    for (unsigned i = 0; i < dl; i++) {
        s[i * 3] = HEX[d[i] >> 4];
        s[i * 3 + 1] = HEX[d[i] & 15];
        s[i * 3 + 2] = ':';
    }
    s[dl ? dl * 3 - 1 : 0] = 0;
    return s;
}
