/* addr_count: linear probing with backward-shift deletion (no tombstones, so probe lengths stay
 * those of the live entries). */
#include "login/addr_count.h"
#include "login/limits.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#define SLOTS (2 * LIMIT_CONNECTIONS_TOTAL)   /* a power of two; load <= 1/2 */

struct slot {
    uint8_t key[16];
    unsigned n;   /* 0 = empty */
};

struct addr_count {
    uint64_t k0, k1;   /* per-process mixing key */
    unsigned used;
    struct slot slots[SLOTS];
};

_Static_assert((SLOTS & (SLOTS - 1)) == 0, "SLOTS must be a power of two");

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static unsigned home(const struct addr_count *t, const uint8_t key[16])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    return (unsigned)(mix(mix(a ^ t->k0) ^ b ^ t->k1) & (SLOTS - 1));
}

struct addr_count *addr_count_new(void)
{
    struct addr_count *t = calloc(1, sizeof *t);
    if (t && (RAND_bytes((unsigned char *)&t->k0, sizeof t->k0) != 1 ||
              RAND_bytes((unsigned char *)&t->k1, sizeof t->k1) != 1)) {
        free(t);
        return NULL;
    }
    return t;
}

void addr_count_free(struct addr_count *t) { free(t); }

/* The slot holding key, or the empty slot where it would go. */
static unsigned find(const struct addr_count *t, const uint8_t key[16])
{
    unsigned i = home(t, key);
    while (t->slots[i].n && memcmp(t->slots[i].key, key, 16))
        i = (i + 1) & (SLOTS - 1);
    return i;
}

unsigned addr_count_get(const struct addr_count *t, const uint8_t key[16])
{
    return t->slots[find(t, key)].n;
}

unsigned addr_count_inc(struct addr_count *t, const uint8_t key[16])
{
    unsigned i = find(t, key);
    if (!t->slots[i].n) {
        if (t->used >= SLOTS / 2)
            return 0;
        memcpy(t->slots[i].key, key, 16);
        t->used++;
    }
    return ++t->slots[i].n;
}

void addr_count_dec(struct addr_count *t, const uint8_t key[16])
{
    unsigned i = find(t, key);
    if (!t->slots[i].n || --t->slots[i].n)
        return;
    t->used--;
    /* backward shift: move later entries of the run into the hole if their home allows it */
    for (unsigned j = (i + 1) & (SLOTS - 1); t->slots[j].n; j = (j + 1) & (SLOTS - 1)) {
        unsigned h = home(t, t->slots[j].key);
        /* j's entry may move to i unless its home lies cyclically in (i, j] */
        if (((j - h) & (SLOTS - 1)) >= ((j - i) & (SLOTS - 1))) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].n = 0;
    memset(t->slots[i].key, 0, 16);
}
