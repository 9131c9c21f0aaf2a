/* file: the one read-whole-file helper (configfs/sysfs reports, evidence and keys given to the
 * command-line tools, kernel and firmware images). Reads at most max bytes and refuses a larger
 * file rather than truncating it. Knows nothing about what the bytes mean. */
#ifndef SEALED_COMMON_FILE_H
#define SEALED_COMMON_FILE_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FILE_OK = 0,
    FILE_ERR_OPEN,     /* open failed (errno kept) */
    FILE_ERR_READ,     /* read failed (errno kept) */
    FILE_ERR_TOOBIG,   /* larger than max (errno EFBIG) */
    FILE_ERR_NOMEM,    /* errno ENOMEM */
} file_err;

/* Reads the whole of path ("-" = standard input) into *out, malloc'd by this call with a NUL
 * after *len bytes; the caller frees it (wiping it first if secret: then nothing this call
 * allocated is left unwiped). On failure *out is NULL and errno says why. */
file_err file_read_all(const char *path, size_t max, int secret, uint8_t **out, size_t *len);
const char *file_strerror(file_err e);
#endif
