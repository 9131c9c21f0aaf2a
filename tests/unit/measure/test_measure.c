/* Unit tests for measure/measure: every error has its own sentence (the SNP kernel-hashes one as
 * sev-snp-measure words it), a file is read whole or refused above its cap, and the streamed
 * SHA-256 of a file matches the one-shot digest (NULL path: the empty input). The other modules
 * of src/measure have their own test_<module>.c beside this one. */
#include "test.h"
#include "measure/measure.h"

#include <unistd.h>
#include <openssl/sha.h>

TEST(every_error_has_its_own_sentence)
{
    for (int a = MEASURE_OK; a <= MEASURE_ERR_PE_FORMAT; a++) {
        const char *s = measure_strerror((measure_err)a);
        CHECK(s && *s && strcmp(s, "unknown error") != 0);
        for (int b = MEASURE_OK; b < a; b++)
            CHECK(strcmp(s, measure_strerror((measure_err)b)) != 0);
    }
    CHECK_STR(measure_strerror(MEASURE_ERR_NO_KERNEL_HASHES),
              "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section");
    CHECK_STR(measure_strerror((measure_err)(MEASURE_ERR_PE_FORMAT + 1)), "unknown error");
}

TEST(read_file_whole_or_refused)
{
    char path[] = "/tmp/sealed-measure-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    static const char data[] = "ovmf bytes";
    CHECK(write(fd, data, sizeof data - 1) == (ssize_t)(sizeof data - 1));
    close(fd);
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK(measure_read_file(path, sizeof data - 1, &b, &n) == MEASURE_OK && n == sizeof data - 1 &&
          !memcmp(b, data, n));
    free(b);
    b = NULL;
    CHECK(measure_read_file(path, sizeof data - 2, &b, &n) == MEASURE_ERR_TOO_BIG && !b);
    CHECK(measure_read_file(NULL, 10, &b, &n) == MEASURE_ERR_ARG);
    CHECK(measure_read_file(path, 10, NULL, &n) == MEASURE_ERR_ARG);
    unlink(path);
    CHECK(measure_read_file(path, 10, &b, &n) == MEASURE_ERR_IO && !b);
}

TEST(sha256_file_streams_the_same_digest)
{
    char path[] = "/tmp/sealed-measure-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    static uint8_t data[200000];   /* more than one 64 KiB read */
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    close(fd);
    uint8_t got[32], want[32];
    SHA256(data, sizeof data, want);
    CHECK(measure_sha256_file(path, got) == MEASURE_OK && !memcmp(got, want, 32));
    CHECK(measure_sha256_file(NULL, got) == MEASURE_OK &&
          test_hex_eq(got, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    unlink(path);
    CHECK(measure_sha256_file(path, got) == MEASURE_ERR_IO);
}

int main(void)
{
    RUN(every_error_has_its_own_sentence);
    RUN(read_file_whole_or_refused);
    RUN(sha256_file_streams_the_same_digest);
    return test_done();
}
