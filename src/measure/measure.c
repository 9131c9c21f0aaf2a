/* Error messages and file helpers for sealed-measure (see measure.h). Reads files named by the
 * operator; never writes anything. */
#include "measure/measure.h"

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
    measure_err rc = MEASURE_OK;
    FILE *f = NULL;
    uint8_t *b = NULL;
    size_t n = 0, bcap = 0;

    if (!path || !buf || !len)
        return MEASURE_ERR_ARG;
    *buf = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f)
        return MEASURE_ERR_IO;
    for (;;) {
        if (n == bcap) {
            size_t ncap = bcap ? bcap * 2 : 65536;
            if (bcap > cap) {
                rc = MEASURE_ERR_TOO_BIG;
                goto fail;
            }
            if (ncap > cap + 1)
                ncap = cap + 1;
            uint8_t *nb = realloc(b, ncap);
            if (!nb) {
                rc = MEASURE_ERR_NOMEM;
                goto fail;
            }
            b = nb;
            bcap = ncap;
        }
        size_t r = fread(b + n, 1, bcap - n, f);
        n += r;
        if (n > cap) {
            rc = MEASURE_ERR_TOO_BIG;
            goto fail;
        }
        if (r == 0) {
            if (ferror(f)) {
                rc = MEASURE_ERR_IO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *buf = b;
    *len = n;
    return MEASURE_OK;
fail:
    if (f)
        fclose(f);
    free(b);
    return rc;
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
