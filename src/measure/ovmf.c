/* OVMF footer table and SEV metadata parser (see ovmf.h). Bounds-checks every offset read from
 * the image against its length; the image is attacker-supplied as far as this code knows. */
#include "measure/ovmf.h"
#include "common/byteorder.h"

#include <string.h>

/* GUIDs in their on-disk (little-endian "bytes_le") form. */
static const uint8_t GUID_FOOTER[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                         0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const uint8_t GUID_HASH_TABLE[16] = { 0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b,
                                             0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54 };
static const uint8_t GUID_RESET_BLOCK[16] = { 0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
                                              0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e };
static const uint8_t GUID_SEV_METADATA[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
                                               0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };

#define ENTRY_HDR   18u   /* u16 size + GUID, at the end of each entry */
#define FOOTER_GAP  32u   /* the table ends this far before the end of the image */
#define META_HDR    16u   /* "ASEV", size, version, count */
#define META_DESC   12u   /* gpa, size, type */

int ovmf_has_section(const ovmf_info *ovmf, uint32_t type)
{
    for (size_t i = 0; i < ovmf->nsections; i++)
        if (ovmf->sections[i].type == type)
            return 1;
    return 0;
}

int ovmf_supports_hash_table(const ovmf_info *ovmf)
{
    return ovmf->has_hash_table && ovmf->hash_table_gpa != 0;
}

/* Parses the SEV metadata block whose offset-from-end is in the table entry. */
static measure_err parse_metadata(ovmf_info *o, const uint8_t *entry, size_t entry_len)
{
    if (entry_len < 4)
        return MEASURE_ERR_OVMF_FORMAT;
    uint32_t from_end = get_le32(entry);
    if (from_end > o->len || from_end < META_HDR)   /* the header must fit before the end */
        return MEASURE_ERR_OVMF_FORMAT;
    size_t start = o->len - from_end;
    const uint8_t *h = o->data + start;
    if (memcmp(h, "ASEV", 4) != 0 || get_le32(h + 8) != 1)
        return MEASURE_ERR_OVMF_FORMAT;
    uint32_t size = get_le32(h + 4), count = get_le32(h + 12);
    if (size < META_HDR || size > o->len - start)
        return MEASURE_ERR_OVMF_FORMAT;
    if (count > MEASURE_MAX_SECTIONS)
        return MEASURE_ERR_TOO_BIG;
    if ((size_t)count * META_DESC > size - META_HDR)
        return MEASURE_ERR_OVMF_FORMAT;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *d = h + META_HDR + (size_t)i * META_DESC;
        ovmf_section *s = &o->sections[i];
        s->gpa = get_le32(d);
        s->size = get_le32(d + 4);
        s->type = get_le32(d + 8);
        switch (s->type) {
        case OVMF_SECTION_SNP_SEC_MEM:
        case OVMF_SECTION_SNP_SECRETS:
        case OVMF_SECTION_CPUID:
        case OVMF_SECTION_SVSM_CAA:
        case OVMF_SECTION_SNP_KERNEL_HASHES:
            break;
        default:
            return MEASURE_ERR_OVMF_SECTION;
        }
    }
    o->nsections = count;
    return MEASURE_OK;
}

measure_err ovmf_parse(const uint8_t *data, size_t len, ovmf_info *out)
{
    const uint8_t *meta = NULL;
    size_t meta_len = 0;

    if (!data || !out)
        return MEASURE_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (len < FOOTER_GAP + ENTRY_HDR)
        return MEASURE_ERR_OVMF_FORMAT;
    if (len > MEASURE_MAX_OVMF_BYTES)
        return MEASURE_ERR_TOO_BIG;
    out->data = data;
    out->len = len;
    out->gpa = 0x100000000ull - len;

    /* Footer entry: [.. table entries ..][u16 size][footer GUID] then 32 bytes to the end. */
    size_t footer = len - FOOTER_GAP - ENTRY_HDR;
    if (memcmp(data + footer + 2, GUID_FOOTER, 16) != 0)
        return MEASURE_OK;
    uint16_t full = get_le16(data + footer);
    if (full < ENTRY_HDR)
        return MEASURE_OK;
    size_t table_len = full - ENTRY_HDR;
    if (table_len > footer)
        return MEASURE_ERR_OVMF_FORMAT;
    out->has_footer_table = 1;
    const uint8_t *table = data + footer - table_len;
    size_t remaining = table_len, nentries = 0;
    /* Entries are walked from the end of the table towards its start. As in sev-snp-measure, a
     * GUID seen twice keeps the entry nearest the start of the table. */
    while (remaining >= ENTRY_HDR) {
        const uint8_t *hdr = table + remaining - ENTRY_HDR;
        uint16_t esize = get_le16(hdr);
        if (esize < ENTRY_HDR || esize > remaining)
            return MEASURE_ERR_OVMF_FORMAT;
        if (++nentries > MEASURE_MAX_FOOTER_ENTRIES)
            return MEASURE_ERR_TOO_BIG;
        const uint8_t *edata = table + remaining - esize;
        size_t elen = esize - ENTRY_HDR;
        const uint8_t *guid = hdr + 2;
        if (memcmp(guid, GUID_RESET_BLOCK, 16) == 0) {
            if (elen < 4)
                return MEASURE_ERR_OVMF_FORMAT;
            out->has_reset_eip = 1;
            out->reset_eip = get_le32(edata);
        } else if (memcmp(guid, GUID_HASH_TABLE, 16) == 0) {
            if (elen < 4)
                return MEASURE_ERR_OVMF_FORMAT;
            out->has_hash_table = 1;
            out->hash_table_gpa = get_le32(edata);
        } else if (memcmp(guid, GUID_SEV_METADATA, 16) == 0) {
            meta = edata;
            meta_len = elen;
        }
        remaining -= esize;
    }
    if (meta)
        return parse_metadata(out, meta, meta_len);
    return MEASURE_OK;
}
