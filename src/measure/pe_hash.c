/* PE/COFF Authenticode hashing (see pe_hash.h). Every offset from the image is checked against
 * len before use; sections are hashed in ascending PointerToRawData order as the PE spec and
 * edk2 require. */
#include "measure/pe_hash.h"
#include "common/byteorder.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define COFF_HDR_LEN   20u
#define SECTION_HDR_LEN 40u
#define DIR_SECURITY   4u

typedef struct {
    uint32_t raw_ptr, raw_size;
} raw_range;

static int cmp_range(const void *a, const void *b)
{
    const raw_range *x = a, *y = b;
    return x->raw_ptr < y->raw_ptr ? -1 : x->raw_ptr > y->raw_ptr;
}

static int update(EVP_MD_CTX *ctx, const uint8_t *base, size_t from, size_t to)
{
    return to < from || EVP_DigestUpdate(ctx, base + from, to - from) == 1;
}

typedef struct {
    pe_info pi;
    size_t checksum;      /* offset of OptionalHeader.CheckSum */
    size_t cert_dir;      /* offset of the certificate-table directory entry (nrva > 4) */
    uint32_t nrva;
    size_t sh;            /* offset of the section table */
} pe_layout;

/* Validates the DOS, PE, COFF and optional headers and the section table's extent. */
static measure_err parse_layout(const uint8_t *image, size_t len, pe_layout *l)
{
    memset(l, 0, sizeof(*l));
    if (!image)
        return MEASURE_ERR_ARG;
    if (len > MEASURE_MAX_PE_BYTES)
        return MEASURE_ERR_TOO_BIG;
    if (len < 0x40 || image[0] != 'M' || image[1] != 'Z')
        return MEASURE_ERR_PE_FORMAT;
    uint32_t pe = get_le32(image + 0x3C);
    if (pe > len || len - pe < 4 + COFF_HDR_LEN || memcmp(image + pe, "PE\0\0", 4) != 0)
        return MEASURE_ERR_PE_FORMAT;
    const uint8_t *coff = image + pe + 4;
    l->pi.machine = get_le16(coff);
    l->pi.nsections = get_le16(coff + 2);
    uint16_t opt_size = get_le16(coff + 16);
    size_t opt = pe + 4 + COFF_HDR_LEN;
    if (len - opt < opt_size || opt_size < 2)
        return MEASURE_ERR_PE_FORMAT;
    uint16_t magic = get_le16(image + opt);
    if (magic == 0x20b)
        l->pi.pe32plus = 1;
    else if (magic != 0x10b)
        return MEASURE_ERR_PE_FORMAT;
    size_t nrva_off = l->pi.pe32plus ? 108 : 92, dirs_off = l->pi.pe32plus ? 112 : 96;
    if (opt_size < nrva_off + 4)
        return MEASURE_ERR_PE_FORMAT;
    l->pi.size_of_headers = get_le32(image + opt + 60);
    l->pi.subsystem = get_le16(image + opt + 68);
    l->nrva = get_le32(image + opt + nrva_off);
    if (l->nrva > 16 || opt_size < dirs_off + (size_t)l->nrva * 8)
        return MEASURE_ERR_PE_FORMAT;
    l->checksum = opt + 64;
    l->cert_dir = opt + dirs_off + DIR_SECURITY * 8;
    if (l->nrva > DIR_SECURITY) {
        l->pi.cert_offset = get_le32(image + l->cert_dir);
        l->pi.cert_size = get_le32(image + l->cert_dir + 4);
    }
    if (l->pi.size_of_headers > len || l->pi.size_of_headers < opt + opt_size)
        return MEASURE_ERR_PE_FORMAT;
    if (l->pi.nsections > MEASURE_MAX_PE_SECTIONS)
        return MEASURE_ERR_TOO_BIG;
    l->sh = opt + opt_size;
    if ((len - l->sh) / SECTION_HDR_LEN < l->pi.nsections)
        return MEASURE_ERR_PE_FORMAT;
    if (l->pi.cert_size && ((uint64_t)l->pi.cert_offset + l->pi.cert_size > len))
        return MEASURE_ERR_PE_FORMAT;
    return MEASURE_OK;
}

measure_err pe_sections(const uint8_t *image, size_t len, pe_section *out, size_t cap, size_t *n)
{
    pe_layout l;
    measure_err rc;
    if (!out || !n)
        return MEASURE_ERR_ARG;
    *n = 0;
    if ((rc = parse_layout(image, len, &l)) != MEASURE_OK)
        return rc;
    if (l.pi.nsections > cap)
        return MEASURE_ERR_TOO_BIG;
    for (uint16_t i = 0; i < l.pi.nsections; i++) {
        const uint8_t *s = image + l.sh + (size_t)i * SECTION_HDR_LEN;
        pe_section *o = &out[i];
        memset(o, 0, sizeof(*o));
        memcpy(o->name, s, 8);
        o->virtual_size = get_le32(s + 8);
        o->virtual_address = get_le32(s + 12);
        o->raw_size = get_le32(s + 16);
        o->raw_ptr = get_le32(s + 20);
        if (o->raw_size && (uint64_t)o->raw_ptr + o->raw_size > len)
            return MEASURE_ERR_PE_FORMAT;
    }
    *n = l.pi.nsections;
    return MEASURE_OK;
}

measure_err pe_authenticode_hash(const uint8_t *image, size_t len, const char *alg, uint8_t *out,
                                 size_t *out_len, pe_info *info)
{
    measure_err rc = MEASURE_OK;
    EVP_MD_CTX *ctx = NULL;
    raw_range ranges[MEASURE_MAX_PE_SECTIONS];
    pe_layout l;
    const EVP_MD *md = EVP_get_digestbyname(alg ? alg : "sha256");

    if (!image || !out || !out_len || !md)
        return MEASURE_ERR_ARG;
    if ((rc = parse_layout(image, len, &l)) != MEASURE_OK)
        return rc;
    const pe_info pi = l.pi;
    const size_t checksum = l.checksum, cert_dir = l.cert_dir, sh = l.sh;
    const uint32_t nrva = l.nrva;

    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return MEASURE_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    /* Headers: skip the CheckSum field and, when present, the certificate-table directory entry. */
    int ok = update(ctx, image, 0, checksum);
    if (nrva > DIR_SECURITY) {
        ok = ok && update(ctx, image, checksum + 4, cert_dir);
        ok = ok && update(ctx, image, cert_dir + 8, pi.size_of_headers);
    } else {
        ok = ok && update(ctx, image, checksum + 4, pi.size_of_headers);
    }
    if (!ok) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    /* Sections with raw data, in file order. */
    size_t n = 0;
    for (uint16_t i = 0; i < pi.nsections; i++) {
        const uint8_t *s = image + sh + (size_t)i * SECTION_HDR_LEN;
        uint32_t raw_size = get_le32(s + 16), raw_ptr = get_le32(s + 20);
        if (raw_size == 0)
            continue;
        if ((uint64_t)raw_ptr + raw_size > len) {
            rc = MEASURE_ERR_PE_FORMAT;
            goto out;
        }
        ranges[n].raw_ptr = raw_ptr;
        ranges[n].raw_size = raw_size;
        n++;
    }
    qsort(ranges, n, sizeof(ranges[0]), cmp_range);
    uint64_t hashed = pi.size_of_headers;
    for (size_t i = 0; i < n; i++) {
        if (EVP_DigestUpdate(ctx, image + ranges[i].raw_ptr, ranges[i].raw_size) != 1) {
            rc = MEASURE_ERR_CRYPTO;
            goto out;
        }
        hashed += ranges[i].raw_size;
    }
    /* Trailing data (debug info, ...) except the attribute certificates at the end. */
    if (len > hashed) {
        uint64_t cert = nrva > DIR_SECURITY ? pi.cert_size : 0;
        if (len > hashed + cert) {
            if (EVP_DigestUpdate(ctx, image + hashed, (size_t)(len - hashed - cert)) != 1) {
                rc = MEASURE_ERR_CRYPTO;
                goto out;
            }
        } else if (len < hashed + cert) {
            rc = MEASURE_ERR_PE_FORMAT;
            goto out;
        }
    }
    unsigned int olen = 0;
    if (EVP_DigestFinal_ex(ctx, out, &olen) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    *out_len = olen;
    if (info)
        *info = pi;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}
