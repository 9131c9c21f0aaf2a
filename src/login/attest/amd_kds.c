/* attest/amd_kds: the AMD KDS client (VCEK and ASK/ARK chain), with the rate-limit rules in
 * amd_kds.h. Talks only to the configured KDS base URL over libcurl; holds no secrets. */
#include "login/attest/amd_kds.h"
#include "login/attest/attest_limits.h"
#include "login/log.h"
#include "common/dynbuf.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static pthread_mutex_t kds_mu = PTHREAD_MUTEX_INITIALIZER;
static struct timespec kds_last;   /* monotonic time of this process's last request */

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Waits until ATTEST_KDS_MIN_GAP_S passed since this process's last KDS request. */
static void pace(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (kds_last.tv_sec || kds_last.tv_nsec) {
        double since = (double)(now.tv_sec - kds_last.tv_sec) + (double)(now.tv_nsec - kds_last.tv_nsec) / 1e9;
        if (since < ATTEST_KDS_MIN_GAP_S)
            sleep_s(ATTEST_KDS_MIN_GAP_S - since);
    }
    clock_gettime(CLOCK_MONOTONIC, &kds_last);
}

/* GET url into *b (caller dynbuf_frees b). Serialised process-wide and paced. */
static amd_kds_err kds_get(const char *what, const char *url, struct dynbuf *b, char *err, size_t errlen)
{
    amd_kds_err rc = AMD_KDS_ERR_RATELIMIT;
    int waited = 0;     /* just slept what Retry-After asked: that is the pace now */
    pthread_mutex_lock(&kds_mu);
    for (int tries = 0; tries < ATTEST_KDS_TRIES; tries++) {
        CURL *h = curl_easy_init();
        if (!h) {
            rc = AMD_KDS_ERR_NOMEM;
            break;
        }
        dynbuf_free(b);
        dynbuf_init(b, ATTEST_KDS_BODY_MAX, 0);
        if (!waited)
            pace();
        else
            clock_gettime(CLOCK_MONOTONIC, &kds_last);
        waited = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)ATTEST_KDS_TIMEOUT_S);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "sealed-login");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, dynbuf_curl_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        CURLcode cc = curl_easy_perform(h);
        long status = 0;
        curl_off_t retry_after = -1;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
        curl_easy_cleanup(h);
        log_info("attest.kds", "request=%s status=%ld try=%d%s%s", what, status, tries + 1,
                 cc != CURLE_OK ? " error=" : "", cc != CURLE_OK ? curl_easy_strerror(cc) : "");
        if (cc != CURLE_OK) {
            snprintf(err, errlen, "KDS: %s", b->err == DYNBUF_ERR_TOOBIG ? "answer too large" : curl_easy_strerror(cc));
            rc = b->err == DYNBUF_ERR_TOOBIG ? AMD_KDS_ERR_BODY : AMD_KDS_ERR_NET;
            break;
        }
        if (status == 200) {
            rc = AMD_KDS_OK;
            break;
        }
        if (status == 404) {
            snprintf(err, errlen, "KDS: 404 for this chip and TCB");
            rc = AMD_KDS_ERR_NOTFOUND;
            break;
        }
        if (status != 429 && status != 503) {
            snprintf(err, errlen, "KDS: HTTP %ld", status);
            rc = AMD_KDS_ERR_HTTP;
            break;
        }
        /* rate limited: wait what it asks (at least our pace, at most a bound), then again */
        snprintf(err, errlen, "KDS: HTTP %ld (rate limited)", status);
        rc = AMD_KDS_ERR_RATELIMIT;
        if (retry_after > ATTEST_KDS_RETRY_MAX_S)
            break;
        log_warn("attest.kds", "request=%s status=%ld retry_after=%lld", what, status, (long long)retry_after);
        sleep_s(retry_after > 0 ? (double)retry_after : (double)ATTEST_KDS_MIN_GAP_S);
        waited = 1;
    }
    pthread_mutex_unlock(&kds_mu);
    return rc;
}

static int tcb_fields(snp_product p, uint64_t tcb, char *out, size_t cap)
{
    unsigned b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned)(tcb >> (8 * i)) & 0xff;
    int n;
    if (p == SNP_PRODUCT_TURIN)
        n = snprintf(out, cap, "fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", b[0], b[1], b[2], b[3], b[7]);
    else
        n = snprintf(out, cap, "blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", b[0], b[1], b[6], b[7]);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int amd_kds_vcek_url(char *out, size_t cap, const char *base, snp_product p,
                     const uint8_t chip_id[64], uint64_t tcb)
{
    const char *name = p != SNP_PRODUCT_UNKNOWN ? snp_product_name(p) : NULL;
    char hwid[129], q[128];
    if (!name || !base)
        return -1;
    size_t idlen = p == SNP_PRODUCT_TURIN ? 8 : 64;
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < idlen; i++) {
        hwid[2 * i] = hx[chip_id[i] >> 4];
        hwid[2 * i + 1] = hx[chip_id[i] & 15];
    }
    hwid[2 * idlen] = 0;
    if (tcb_fields(p, tcb, q, sizeof q) != 0)
        return -1;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    int n = snprintf(out, cap, "%.*s/vcek/v1/%s/%s?%s", (int)bl, base, name, hwid, q);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static uint8_t *x509_der(X509 *x, size_t *len)
{
    int n = i2d_X509(x, NULL);
    if (n <= 0)
        return NULL;
    uint8_t *d = malloc((size_t)n), *p = d;
    if (d && i2d_X509(x, &p) != n) {
        free(d);
        return NULL;
    }
    *len = (size_t)n;
    return d;
}

amd_kds_err amd_kds_fetch_vcek(const char *base, snp_product p, const uint8_t chip_id[64],
                               uint64_t tcb, uint8_t **der, size_t *len, char *err, size_t errlen)
{
    char url[512];
    struct dynbuf b = { 0 };
    *der = NULL;
    if (amd_kds_vcek_url(url, sizeof url, base, p, chip_id, tcb) != 0) {
        snprintf(err, errlen, "KDS: no URL for this product");
        return AMD_KDS_ERR_INVAL;
    }
    amd_kds_err rc = kds_get("vcek", url, &b, err, errlen);
    if (rc == AMD_KDS_OK) {
        const unsigned char *q = (const unsigned char *)b.p;
        X509 *x = d2i_X509(NULL, &q, (long)b.len);
        if (!x || q != (const unsigned char *)b.p + b.len) {
            snprintf(err, errlen, "KDS: VCEK answer is not one DER certificate");
            rc = AMD_KDS_ERR_BODY;
        } else if (!(*der = x509_der(x, len))) {
            rc = AMD_KDS_ERR_NOMEM;
        }
        X509_free(x);
    }
    dynbuf_free(&b);
    return rc;
}

amd_kds_err amd_kds_fetch_chain(const char *base, snp_product p, uint8_t **ask, size_t *ask_len,
                                uint8_t **ark, size_t *ark_len, char *err, size_t errlen)
{
    char url[512];
    struct dynbuf b = { 0 };
    const char *name = p != SNP_PRODUCT_UNKNOWN ? snp_product_name(p) : NULL;
    *ask = *ark = NULL;
    size_t bl = base ? strlen(base) : 0;
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    int n = name ? snprintf(url, sizeof url, "%.*s/vcek/v1/%s/cert_chain", (int)bl, base, name) : -1;
    if (n <= 0 || (size_t)n >= sizeof url) {
        snprintf(err, errlen, "KDS: no URL for this product");
        return AMD_KDS_ERR_INVAL;
    }
    amd_kds_err rc = kds_get("cert_chain", url, &b, err, errlen);
    if (rc != AMD_KDS_OK) {
        dynbuf_free(&b);
        return rc;
    }
    BIO *bio = BIO_new_mem_buf(b.p, (int)b.len);
    X509 *x1 = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    X509 *x2 = x1 ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (!x1 || !x2) {
        snprintf(err, errlen, "KDS: cert_chain is not two PEM certificates");
        rc = AMD_KDS_ERR_BODY;
    } else if (!(*ask = x509_der(x1, ask_len)) || !(*ark = x509_der(x2, ark_len))) {
        free(*ask);
        *ask = NULL;
        rc = AMD_KDS_ERR_NOMEM;
    }
    X509_free(x1);
    X509_free(x2);
    BIO_free(bio);
    dynbuf_free(&b);
    return rc;
}
