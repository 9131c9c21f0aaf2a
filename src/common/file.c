/* file: read(2) in chunks into a capped dynbuf; see file.h. */
#include "common/file.h"
#include "common/dynbuf.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#define FILE_CHUNK 16384u

const char *file_strerror(file_err e)
{
    switch (e) {
    case FILE_OK: return "ok";
    case FILE_ERR_OPEN: return "cannot open";
    case FILE_ERR_READ: return "cannot read";
    case FILE_ERR_TOOBIG: return "too large";
    case FILE_ERR_NOMEM: return "out of memory";
    }
    return "unknown error";
}

file_err file_read_all(const char *path, size_t max, int secret, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0)
        return FILE_ERR_OPEN;
    struct dynbuf b;
    dynbuf_init(&b, max, secret);
    uint8_t chunk[FILE_CHUNK];
    file_err rc = FILE_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = FILE_ERR_READ;
            break;
        }
        if (r == 0)
            break;
        dynbuf_err e = dynbuf_add(&b, chunk, (size_t)r);
        if (e) {
            rc = e == DYNBUF_ERR_TOOBIG ? FILE_ERR_TOOBIG : FILE_ERR_NOMEM;
            break;
        }
    }
    if (secret)
        OPENSSL_cleanse(chunk, sizeof chunk);
    int saved = rc == FILE_ERR_TOOBIG ? EFBIG : rc == FILE_ERR_NOMEM ? ENOMEM : errno;
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc == FILE_OK && !(*out = (uint8_t *)dynbuf_take(&b, len)))
        rc = FILE_ERR_NOMEM, saved = ENOMEM;
    dynbuf_free(&b);
    if (rc)
        errno = saved;
    return rc;
}
