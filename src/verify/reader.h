/* reader: the bounded cursor the verifier's binary parsers share (TPM structures, TDX quotes).
 * take() hands out n bytes or, past the end, NULL and a sticky `bad` flag, so a parser can read a
 * whole structure and check once. Never reads past the input. Header-only (static inline). */
#ifndef SEALED_VERIFY_READER_H
#define SEALED_VERIFY_READER_H
#include <stddef.h>
#include <stdint.h>

struct rd {
    const uint8_t *p;   /* borrowed: next unread byte */
    size_t left;
    int bad;            /* set once a read went past the end */
};

static inline const uint8_t *take(struct rd *r, size_t n)
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
#endif
