/* acme_parse: bounded parsers for what the CA sends (JSON, Retry-After, timestamps, ARI, PEM
 * chains). Every function takes (ptr, len), never reads past len and returns a typed failure. */
#include "login/acme/acme_parse.h"
#include "login/acme/acme_log.h"
#include "login/limits.h"
#include "common/codec.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static int depth_ok(const json_t *j, int depth)
{
    if (depth > ACME_JSON_MAX_DEPTH)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v)
            if (!depth_ok(v, depth + 1))
                return 0;
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
            if (!depth_ok(v, depth + 1))
                return 0;
    }
    return 1;
}

json_t *acme_json_load(const uint8_t *body, size_t len)
{
    if (!body || !len || len > ACME_MAX_JSON_BYTES)
        return NULL;
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o) || !depth_ok(o, 1)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int num(const char *s, size_t len, int min, int max, int *out)
{
    uint64_t v;
    /* codec_parse_u64 rejects leading zeros; timestamps have them, so strip all but one */
    while (len > 1 && s[0] == '0') {
        s++;
        len--;
    }
    if (codec_parse_u64(s, len, (uint64_t)min, (uint64_t)max, &v))
        return -1;
    *out = (int)v;
    return 0;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static time_t mk_utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

long acme_retry_after_parse(const char *v, size_t len, time_t now)
{
    if (!v)
        return -1;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (!len)
        return -1;
    if (all_digits(v, len)) {
        uint64_t s;
        if (len > 12)
            return ACME_RETRY_AFTER_MAX_S;
        const char *p = v;
        size_t l = len;
        while (l > 1 && *p == '0') {
            p++;
            l--;
        }
        if (codec_parse_u64(p, l, 0, UINT64_MAX, &s))
            return -1;
        return s > ACME_RETRY_AFTER_MAX_S ? ACME_RETRY_AFTER_MAX_S : (long)s;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes) */
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (len != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
        v[19] != ':' || v[22] != ':' || v[25] != ' ' || memcmp(v + 26, "GMT", 3))
        return -1;
    int d, y, h, mi, s, mo = -1;
    for (int i = 0; i < 12; i++)
        if (!memcmp(v + 8, mons[i], 3))
            mo = i + 1;
    if (mo < 0 || num(v + 5, 2, 1, 31, &d) || num(v + 12, 4, 1970, 9999, &y) ||
        num(v + 17, 2, 0, 23, &h) || num(v + 20, 2, 0, 59, &mi) || num(v + 23, 2, 0, 60, &s))
        return -1;
    time_t t = mk_utc(y, mo, d, h, mi, s);
    if (t == (time_t)-1)
        return -1;
    if (t <= now)
        return 0;
    return t - now > ACME_RETRY_AFTER_MAX_S ? ACME_RETRY_AFTER_MAX_S : (long)(t - now);
}

int acme_rfc3339_parse(const char *s, size_t len, time_t *out)
{
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int y, mo, d, h, mi, sec;
    if (!all_digits(s, 4) || num(s, 4, 0, 9999, &y) || !all_digits(s + 5, 2) || num(s + 5, 2, 1, 12, &mo) ||
        !all_digits(s + 8, 2) || num(s + 8, 2, 1, 31, &d) || !all_digits(s + 11, 2) || num(s + 11, 2, 0, 23, &h) ||
        !all_digits(s + 14, 2) || num(s + 14, 2, 0, 59, &mi) || !all_digits(s + 17, 2) ||
        num(s + 17, 2, 0, 60, &sec))
        return -1;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        i++;
        size_t f = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return -1;
    }
    long off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (!all_digits(s + i + 1, 2) || num(s + i + 1, 2, 0, 23, &oh) || !all_digits(s + i + 4, 2) ||
            num(s + i + 4, 2, 0, 59, &om))
            return -1;
        off = (oh * 3600L + om * 60L) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;
    time_t t = mk_utc(y, mo, d, h, mi, sec > 59 ? 59 : sec);
    if (t == (time_t)-1)
        return -1;
    *out = t - off;
    return 0;
}

char *acme_ari_cert_id(X509 *cert)
{
    const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(cert);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    if (!kid || !serial || ASN1_STRING_length(kid) <= 0)
        return NULL;
    unsigned char *der = NULL, *p;
    int dl = i2d_ASN1_INTEGER(serial, &der);
    if (dl < 3) {
        OPENSSL_free(der);
        return NULL;
    }
    /* skip the INTEGER tag and its (short or long form) length: what is left is the content */
    p = der + 1;
    size_t hdr = 2;
    if (p[0] & 0x80)
        hdr += p[0] & 0x7f;
    if ((size_t)dl <= hdr) {
        OPENSSL_free(der);
        return NULL;
    }
    char *a = codec_b64url_encode_alloc(ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid));
    char *b = codec_b64url_encode_alloc(der + hdr, (size_t)dl - hdr);
    OPENSSL_free(der);
    char *out = NULL;
    if (a && b) {
        size_t al = strlen(a), bl = strlen(b);
        out = malloc(al + 1 + bl + 1);
        if (out) {
            memcpy(out, a, al);
            out[al] = '.';
            memcpy(out + al + 1, b, bl + 1);
        }
    }
    free(a);
    free(b);
    return out;
}

int acme_ari_parse(const uint8_t *body, size_t len, struct acme_ari_window *w)
{
    memset(w, 0, sizeof *w);
    json_t *o = acme_json_load(body, len);
    if (!o)
        return -1;
    int rc = -1;
    json_t *sw = json_object_get(o, "suggestedWindow");
    json_t *js = json_object_get(sw, "start"), *je = json_object_get(sw, "end");
    if (!json_is_string(js) || !json_is_string(je) ||
        acme_rfc3339_parse(json_string_value(js), json_string_length(js), &w->start) ||
        acme_rfc3339_parse(json_string_value(je), json_string_length(je), &w->end) || w->end <= w->start)
        goto out;
    const char *ex = json_string_value(json_object_get(o, "explanationURL"));
    if (ex)
        acme_log_sanitize(ex, strlen(ex), w->explanation, sizeof w->explanation);
    rc = 0;
out:
    json_decref(o);
    return rc;
}

time_t acme_ari_pick(const struct acme_ari_window *w, uint32_t rnd)
{
    uint64_t span = (uint64_t)(w->end - w->start);
    return w->start + (time_t)((span * (uint64_t)rnd) / UINT32_MAX);
}

int acme_pem_chain_parse(const char *pem, size_t len, X509 **leaf, STACK_OF(X509) **chain)
{
    *leaf = NULL;
    *chain = NULL;
    if (!pem || !len || len > ACME_MAX_CHAIN_BYTES)
        return -1;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    int rc = -1, n = 0;
    if (!b || !sk)
        goto out;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        if (!PEM_read_bio(b, &name, &header, &data, &dlen)) {
            /* the normal end is "no start line"; anything else (a cut block, no memory) must not
             * pass for a shorter chain */
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                goto out;
            break;
        }
        int ok = !strcmp(name, "CERTIFICATE") && dlen > 0;
        const unsigned char *p = data;
        X509 *x = ok ? d2i_X509(NULL, &p, dlen) : NULL;
        ok = x && p == data + dlen;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (!ok || ++n > ACME_MAX_CHAIN_CERTS || !sk_X509_push(sk, x)) {
            X509_free(x);
            goto out;
        }
    }
    if (n < 1)
        goto out;
    *leaf = sk_X509_shift(sk);
    *chain = sk;
    sk = NULL;
    rc = 0;
out:
    sk_X509_pop_free(sk, X509_free);
    BIO_free(b);
    return rc;
}
