/* Unit tests for the GCP wire formats of common/gcp (CRC32C, attributes, token, Secret Manager
 * names and answers, errors); platform detection is tests/unit/login/cloud/test_platform.c. */
#include "test.h"
#include "common/gcp.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(crc32c_vectors)
{
    /* RFC 3720 B.4 check value and the iSCSI 32-byte vectors */
    CHECK(gcp_crc32c((const uint8_t *)"123456789", 9) == 0xE3069283u);
    uint8_t z[32] = {0}, f[32];
    memset(f, 0xff, sizeof f);
    CHECK(gcp_crc32c(z, 32) == 0x8A9136AAu);
    CHECK(gcp_crc32c(f, 32) == 0x62A8AB43u);
    CHECK(gcp_crc32c(NULL, 0) == 0);
}

static int count(void *arg, const char *k, const char *v) { (*(int *)arg)++; return 0; }

TEST(attributes)
{
    const char *a = "{\"paypal_client_id\":\"c\",\"domain\":\"d\",\"startup-script\":\"x\",\"secret_ocid\":\"s\"}";
    int n = 0;
    unsigned ig;
    CHECK(gcp_attributes_each_trusted(a, strlen(a), count, &n, &ig) == 3 && n == 3 && ig == 1);
    CHECK(gcp_attributes_each_trusted("[]", 2, count, &n, &ig) == -1);
    CHECK(gcp_attributes_each_trusted("{\"domain\":\"a\",\"domain\":\"b\"}", 27, count, &n, &ig) == -1);
}

TEST(token)
{
    char *t;
    int64_t in;
    const char *ok = "{\"access_token\":\"ya29.abc\",\"expires_in\":3599,\"token_type\":\"Bearer\"}";
    CHECK(gcp_token_parse(ok, strlen(ok), &t, &in) == CLOUD_OK && in == 3599);
    CHECK_STR(t, "ya29.abc");
    free(t);
    const char *bad[] = {
        "{\"access_token\":\"ya29\\r\\nX-Evil: 1\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
        "{\"access_token\":\"ya29\",\"expires_in\":0,\"token_type\":\"Bearer\"}",
        "{\"access_token\":\"ya29\",\"expires_in\":10,\"token_type\":\"MAC\"}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(gcp_token_parse(bad[i], strlen(bad[i]), &t, &in) == CLOUD_ERR_FORMAT && t == NULL);
}

TEST(secret_names)
{
    char *u = gcp_secret_url(NULL, "my-proj", "paypal-secret");
    CHECK_STR(u, "https://secretmanager.googleapis.com/v1/projects/my-proj/secrets/paypal-secret/versions/latest:access");
    free(u);
    u = gcp_secret_url(NULL, "ignored", "projects/123/secrets/S_1");
    CHECK_STR(u, "https://secretmanager.googleapis.com/v1/projects/123/secrets/S_1/versions/latest:access");
    free(u);
    u = gcp_secret_url("https://127.0.0.1:1", NULL, "projects/p/secrets/s/versions/3");
    CHECK_STR(u, "https://127.0.0.1:1/v1/projects/p/secrets/s/versions/3:access");
    free(u);
    const char *bad[] = {"projects/p/secrets/s/versions/", "projects/p/keys/s", "projects//secrets/s", "a/b", "s?x",
                         "projects/P/secrets/s", "projects/p/secrets/s/versions/1/x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(gcp_secret_url(NULL, "p", bad[i]) == NULL);
    CHECK(gcp_secret_url(NULL, NULL, "s") == NULL);
}

TEST(secret_answers)
{
    uint8_t *s;
    size_t n;
    int checked;
    /* gcp_crc32c itself is pinned by crc32c_vectors; the suites check it against the fake's Python one */
    char ok[200];
    snprintf(ok, sizeof ok, "{\"name\":\"projects/1/secrets/s/versions/1\",\"payload\":{\"data\":\"c2Vrcml0\","
             "\"dataCrc32c\":\"%u\"}}", gcp_crc32c((const uint8_t *)"sekrit", 6));
    CHECK(gcp_secret_parse(ok, strlen(ok), &s, &n, &checked) == CLOUD_OK && checked && n == 6 && !memcmp(s, "sekrit", 6));
    free(s);
    snprintf(ok, sizeof ok, "{\"payload\":{\"data\":\"c2Vrcml0\",\"dataCrc32c\":%u}}", gcp_crc32c((const uint8_t *)"sekrit", 6));
    CHECK(gcp_secret_parse(ok, strlen(ok), &s, &n, &checked) == CLOUD_OK && checked);
    free(s);
    snprintf(ok, sizeof ok, "{\"payload\":{\"data\":\"c2Vrcml0\",\"dataCrc32c\":\"%u\"}}", gcp_crc32c((const uint8_t *)"sekrit", 6) ^ 1);
    CHECK(gcp_secret_parse(ok, strlen(ok), &s, &n, &checked) == CLOUD_ERR_INTEGRITY && s == NULL);
    const char *nocrc = "{\"payload\":{\"data\":\"c2Vrcml0\"}}";
    CHECK(gcp_secret_parse(nocrc, strlen(nocrc), &s, &n, &checked) == CLOUD_OK && !checked);
    free(s);
    const char *bad[] = {"{\"payload\":{\"data\":\"c2Vrcml0\",\"dataCrc32c\":\"-1\"}}",
                         "{\"payload\":{\"data\":\"c2Vrcml0\",\"dataCrc32c\":\"99999999999\"}}",
                         "{\"payload\":{\"data\":\"!!\"}}", "{\"payload\":{}}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(gcp_secret_parse(bad[i], strlen(bad[i]), &s, &n, &checked) == CLOUD_ERR_FORMAT && s == NULL);
}

TEST(errors)
{
    char st[32], msg[64];
    const char *e = "{\"error\":{\"code\":403,\"message\":\"Permission denied\\u0007.\",\"status\":\"PERMISSION_DENIED\"}}";
    gcp_error_parse(e, strlen(e), st, sizeof st, msg, sizeof msg);
    CHECK_STR(st, "PERMISSION_DENIED");
    CHECK_STR(msg, "Permission denied?.");
}

int main(void)
{
    RUN(crc32c_vectors);
    RUN(attributes);
    RUN(token);
    RUN(secret_names);
    RUN(secret_answers);
    RUN(errors);
    return test_done();
}
