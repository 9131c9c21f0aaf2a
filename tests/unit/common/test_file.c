/* Unit tests for common/file: a file is read whole, NUL-terminated, or refused when above its cap
 * (errno EFBIG) or missing (errno ENOENT), leaving nothing allocated. */
#include "test.h"
#include "common/file.h"
#include <errno.h>
#include <unistd.h>

TEST(file_read_all_whole_or_refused)
{
    char path[] = "/tmp/sealed-test-file-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    uint8_t data[40000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    close(fd);
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK(file_read_all(path, sizeof data, 0, &b, &n) == FILE_OK && n == sizeof data && !memcmp(b, data, n) && b[n] == 0);
    free(b);
    CHECK(file_read_all(path, sizeof data - 1, 1, &b, &n) == FILE_ERR_TOOBIG && !b && errno == EFBIG);
    unlink(path);
    CHECK(file_read_all(path, 10, 0, &b, &n) == FILE_ERR_OPEN && !b && errno == ENOENT);
}

int main(void)
{
    RUN(file_read_all_whole_or_refused);
    return test_done();
}
