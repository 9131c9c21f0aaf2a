/* attest/attest_util: bounded file reads and writes for kernel interfaces, PEM/base64 JSON
 * helpers and timing counters for the providers. No provider logic lives here. */
#include "login/attest/attest_util.h"
#include "common/codec.h"
#include "common/file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

uint8_t *attest_util_read_file(const char *path, size_t cap, size_t *len)
{
    uint8_t *b;
    return file_read_all(path, cap, 0, &b, len) == FILE_OK ? b : NULL;
}

int attest_util_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const uint8_t *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return -1;
    return 0;
}

json_t *attest_util_b64_json(const uint8_t *data, size_t len)
{
    char *s = codec_b64_encode_alloc(data, len);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

json_t *attest_util_cert_pem_json(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *bio = NULL;
    json_t *j = NULL;
    if (!x)
        return NULL;
    char *mem;
    long ml;
    if (!(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509(bio, x))
        goto done;
    ml = BIO_get_mem_data(bio, &mem);
    if (ml > 0)
        j = json_stringn(mem, (size_t)ml);
done:
    BIO_free(bio);
    X509_free(x);
    return j;
}

int attest_util_path(char *out, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b + 1 > cap)
        return -1;
    memcpy(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b);
    out[a + 1 + b] = 0;
    return 0;
}

void attest_util_stats_init(struct attest_util_stats *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
}

void attest_util_stats_add(struct attest_util_stats *s, int ok, double ms, const char *err)
{
    pthread_mutex_lock(&s->mu);
    if (ok) {
        s->ok++;
        s->last_ms = ms;
        s->total_ms += ms;
    } else {
        s->failed++;
        snprintf(s->last_error, sizeof s->last_error, "%s", err && *err ? err : "failed");
    }
    pthread_mutex_unlock(&s->mu);
}

void attest_util_stats_json(struct attest_util_stats *s, json_t *obj)
{
    pthread_mutex_lock(&s->mu);
    json_object_set_new(obj, "count", json_integer((json_int_t)s->ok));
    json_object_set_new(obj, "failed", json_integer((json_int_t)s->failed));
    json_object_set_new(obj, "last_ms", json_real(s->last_ms));
    json_object_set_new(obj, "mean_ms", json_real(s->ok ? s->total_ms / (double)s->ok : 0.0));
    if (s->failed)
        json_object_set_new(obj, "last_error", json_string(s->last_error));
    pthread_mutex_unlock(&s->mu);
}

double attest_util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
