/* reader: the bounded cursor every binary parser of outside bytes uses (TPM structures and
 * responses, TDX quotes). rd_take() hands out n bytes or, past the end, NULL and a sticky `bad`
 * flag, so a parser can read a whole structure and check once; the integer readers return 0 once
 * bad. Never reads past the input; never allocates. Header-only (static inline). */
#ifndef SEALED_COMMON_READER_H
#define SEALED_COMMON_READER_H
#include <stddef.h>
#include <stdint.h>
#include "common/byteorder.h"

struct rd {
    const uint8_t *p;   /* borrowed: next unread byte */
    size_t left;        /* bytes after p */
    int bad;            /* set once a read went past the end */
};

/* A reader over (p, len); a NULL p reads as empty. */
static inline struct rd rd_init(const uint8_t *p, size_t len)
{
    struct rd r = { p, p ? len : 0, 0 };
    return r;
}

static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static inline uint8_t rd_u8(struct rd *r) { const uint8_t *p = rd_take(r, 1); return p ? p[0] : 0; }
static inline uint16_t rd_be16(struct rd *r) { const uint8_t *p = rd_take(r, 2); return p ? get_be16(p) : 0; }
static inline uint32_t rd_be32(struct rd *r) { const uint8_t *p = rd_take(r, 4); return p ? get_be32(p) : 0; }
static inline uint64_t rd_be64(struct rd *r) { const uint8_t *p = rd_take(r, 8); return p ? get_be64(p) : 0; }
static inline uint16_t rd_le16(struct rd *r) { const uint8_t *p = rd_take(r, 2); return p ? get_le16(p) : 0; }
static inline uint32_t rd_le32(struct rd *r) { const uint8_t *p = rd_take(r, 4); return p ? get_le32(p) : 0; }
static inline uint64_t rd_le64(struct rd *r) { const uint8_t *p = rd_take(r, 8); return p ? get_le64(p) : 0; }
#endif
