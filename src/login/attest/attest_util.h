/* attest/attest_util: small helpers shared by the evidence providers: bounded reads of kernel
 * files (sysfs, securityfs, configfs), DER -> PEM, base64 JSON strings, and the provider
 * timing counters behind status(). Owns no global state. */
#ifndef SEALED_ATTEST_UTIL_H
#define SEALED_ATTEST_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <jansson.h>

/* Reads a whole file into a new buffer (caller frees; a NUL follows the *len bytes). Returns NULL
 * with errno set: ENOENT when absent, EFBIG when it is longer than cap, others from the kernel. */
uint8_t *attest_util_read_file(const char *path, size_t cap, size_t *len);
/* Writes all of (data, len) to path (opened O_WRONLY, no create, no truncate: kernel attribute
 * files). Returns 0 or -1 with errno set. */
int attest_util_write_file(const char *path, const void *data, size_t len);
/* A new JSON string holding base64(data), or NULL on allocation failure. */
json_t *attest_util_b64_json(const uint8_t *data, size_t len);
/* A new JSON string with the PEM of the first X.509 certificate in (der, len) (trailing bytes,
 * e.g. NV padding, are ignored). NULL when it does not parse. */
json_t *attest_util_cert_pem_json(const uint8_t *der, size_t len);
/* path_join(dir, name) into out (cap bytes); -1 when it does not fit. */
int attest_util_path(char *out, size_t cap, const char *dir, const char *name);

/* Cost counters for status(): last and mean milliseconds per evidence, count, failures and the
 * last failure's reason (provider error text: never secrets). */
struct attest_util_stats {
    pthread_mutex_t mu;
    uint64_t ok, failed;
    double   last_ms, total_ms;
    char     last_error[160];
};
void attest_util_stats_init(struct attest_util_stats *s);
/* err: the failure's reason when !ok (may be NULL). */
void attest_util_stats_add(struct attest_util_stats *s, int ok, double ms, const char *err);
/* Adds "count", "failed", "last_ms", "mean_ms" (and "last_error" after a failure) to obj. */
void attest_util_stats_json(struct attest_util_stats *s, json_t *obj);
double attest_util_now_ms(void);
#endif
