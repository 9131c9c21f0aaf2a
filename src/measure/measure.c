/* Error messages and file helpers for sealed-measure (see measure.h). Reads files named by the
 * operator; never writes anything. */
#include "measure/measure.h"
#include "common/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

const char *measure_strerror(measure_err err)
{
    switch (err) {
    case MEASURE_OK:                   return "ok";
    case MEASURE_ERR_ARG:              return "invalid arguments";
    case MEASURE_ERR_IO:               return "cannot read input file";
    case MEASURE_ERR_TOO_BIG:          return "input exceeds a size limit";
    case MEASURE_ERR_NOMEM:            return "out of memory";
    case MEASURE_ERR_CRYPTO:           return "hash computation failed";
    case MEASURE_ERR_OVMF_FORMAT:      return "malformed OVMF firmware (footer GUID table or SEV metadata)";
    case MEASURE_ERR_OVMF_SECTION:     return "unknown OVMF metadata section type";
    case MEASURE_ERR_NO_RESET_EIP:     return "Can't find SEV_ES_RESET_BLOCK_GUID entry in OVMF table";
    case MEASURE_ERR_NO_KERNEL_HASHES: return "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section";
    case MEASURE_ERR_NO_HASH_TABLE:    return "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement";
    case MEASURE_ERR_PE_FORMAT:        return "malformed PE/COFF image";
    }
    return "unknown error";
}

measure_err measure_read_file(const char *path, size_t cap, uint8_t **buf, size_t *len)
{
    if (!path || !buf || !len)
        return MEASURE_ERR_ARG;
    switch (file_read_all(path, cap, 0, buf, len)) {
    case FILE_OK: return MEASURE_OK;
    case FILE_ERR_TOOBIG: return MEASURE_ERR_TOO_BIG;
    case FILE_ERR_NOMEM: return MEASURE_ERR_NOMEM;
    default: return MEASURE_ERR_IO;
    }
}

measure_err measure_sha256_file(const char *path, uint8_t out[32])
{
    measure_err rc = MEASURE_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = NULL;
    static uint8_t chunk[1 << 16];
    unsigned long long total = 0;

    if (!ctx)
        return MEASURE_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    if (path) {
        f = fopen(path, "rb");
        if (!f) {
            rc = MEASURE_ERR_IO;
            goto out;
        }
        size_t r;
        while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            total += r;
            if (total > MEASURE_MAX_FILE_BYTES) {
                rc = MEASURE_ERR_TOO_BIG;
                goto out;
            }
            if (EVP_DigestUpdate(ctx, chunk, r) != 1) {
                rc = MEASURE_ERR_CRYPTO;
                goto out;
            }
        }
        if (ferror(f)) {
            rc = MEASURE_ERR_IO;
            goto out;
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        rc = MEASURE_ERR_CRYPTO;
out:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return rc;
}
