/* SEV hashes table (see sev_hashes.h). GUIDs are in their little-endian on-disk form. */
#include "measure/sev_hashes.h"

#include <string.h>

#include <openssl/evp.h>

static const uint8_t GUID_TABLE_HEADER[16] = { 0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
                                               0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21 };
static const uint8_t GUID_CMDLINE[16] = { 0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
                                          0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a };
static const uint8_t GUID_INITRD[16] = { 0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
                                         0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d };
static const uint8_t GUID_KERNEL[16] = { 0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
                                         0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b };

#define ENTRY_LEN 50u   /* GUID + u16 length + SHA-256 */

measure_err sev_hashes_compute(const char *kernel_path, const char *initrd_path, const char *append,
                               sev_hashes *out)
{
    measure_err rc;
    unsigned int n = 0;
    if (!kernel_path || !out)
        return MEASURE_ERR_ARG;
    if ((rc = measure_sha256_file(kernel_path, out->kernel)) != MEASURE_OK)
        return rc;
    if ((rc = measure_sha256_file(initrd_path, out->initrd)) != MEASURE_OK)
        return rc;
    size_t alen = append ? strlen(append) : 0;
    if (alen > MEASURE_MAX_APPEND)
        return MEASURE_ERR_TOO_BIG;
    /* The command line as the guest sees it: its bytes and the terminating NUL. */
    if (EVP_Digest(append ? append : "", alen + 1, out->cmdline, &n, EVP_sha256(), NULL) != 1)
        return MEASURE_ERR_CRYPTO;
    return MEASURE_OK;
}

static void put_entry(uint8_t *p, const uint8_t guid[16], const uint8_t hash[32])
{
    memcpy(p, guid, 16);
    p[16] = ENTRY_LEN;
    p[17] = 0;
    memcpy(p + 18, hash, 32);
}

void sev_hashes_table(const sev_hashes *h, uint8_t out[SEV_HASHES_TABLE_PADDED])
{
    memset(out, 0, SEV_HASHES_TABLE_PADDED);
    memcpy(out, GUID_TABLE_HEADER, 16);
    out[16] = SEV_HASHES_TABLE_LEN & 0xff;    /* the length excludes the alignment padding */
    out[17] = SEV_HASHES_TABLE_LEN >> 8;
    put_entry(out + 18, GUID_CMDLINE, h->cmdline);
    put_entry(out + 18 + ENTRY_LEN, GUID_INITRD, h->initrd);
    put_entry(out + 18 + 2 * ENTRY_LEN, GUID_KERNEL, h->kernel);
}

measure_err sev_hashes_page(const sev_hashes *h, uint32_t offset, uint8_t page[MEASURE_PAGE])
{
    if (offset >= MEASURE_PAGE || MEASURE_PAGE - offset < SEV_HASHES_TABLE_PADDED)
        return MEASURE_ERR_OVMF_FORMAT;
    memset(page, 0, MEASURE_PAGE);
    sev_hashes_table(h, page + offset);
    return MEASURE_OK;
}
