/* idset: linear-probing hash table of 128-bit keyed hashes at a load factor of at most 3/4.
 * The hash is already uniform, so its low bits index the table directly. The HMAC uses the
 * low-level SHA-256 context with the inner and outer pads absorbed once at start, and PayPal's
 * constant id prefix replaced by a tag byte, so a PayPal id costs two compression-function calls
 * (one for the inner hash, one for the outer) instead of three. */
#define OPENSSL_SUPPRESS_DEPRECATED   /* SHA256_CTX: the fast path for a precomputed HMAC */
#include "login/idset.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

struct idset {
    struct idset_key *slots;  /* owned: mmap'd, zero = empty */
    uint64_t mask;            /* slots - 1 */
    uint64_t count, capacity;
    size_t bytes;
    SHA256_CTX inner, outer;  /* HMAC state after the key pads */
};

struct idset *idset_new(uint64_t capacity)
{
    uint8_t key[32];
    if (RAND_bytes(key, sizeof key) != 1)
        return NULL;
    struct idset *s = idset_new_keyed(capacity, key);
    OPENSSL_cleanse(key, sizeof key);
    return s;
}

struct idset *idset_new_keyed(uint64_t capacity, const uint8_t key[32])
{
    if (capacity == 0 || capacity > (1ull << 40))
        return NULL;
    struct idset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    uint64_t slots = 16;
    while (slots / 4 * 3 < capacity)
        slots *= 2;
    s->bytes = (size_t)slots * sizeof(struct idset_key);
    /* mmap gives zeroed pages on first touch, so RSS follows the ids actually stored. */
    s->slots = mmap(NULL, s->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->slots == MAP_FAILED) {
        free(s);
        return NULL;
    }
    /* Ask for huge pages: each lookup is one random access into a table of up to 256 MB, and
     * with 4 KiB pages it also misses the TLB. With THP "defrag=madvise" (Debian's default) only
     * advised mappings get them at fault time; measured in docs/architecture.md. */
    madvise(s->slots, s->bytes, MADV_HUGEPAGE);
    s->mask = slots - 1;
    s->capacity = capacity;
    uint8_t pad[64];
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < 32; i++) pad[i] ^= key[i];
    SHA256_Init(&s->inner);
    SHA256_Update(&s->inner, pad, 64);
    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < 32; i++) pad[i] ^= key[i];
    SHA256_Init(&s->outer);
    SHA256_Update(&s->outer, pad, 64);
    OPENSSL_cleanse(pad, sizeof pad);
    return s;
}

void idset_free(struct idset *s)
{
    if (!s)
        return;
    if (s->slots && s->slots != MAP_FAILED)
        munmap(s->slots, s->bytes);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

/* Every PayPal user_id starts with this (50 bytes, then 43 base64url characters). */
static const char paypal_id_prefix[] = "https://www.paypal.com/webapps/auth/identity/user/";
#define PREFIX_LEN (sizeof paypal_id_prefix - 1)

/* The HMAC's message is an injective encoding of the id: 0x01 || rest when the id starts with
 * PayPal's prefix, 0x00 || id otherwise (the tag byte keeps the two kinds apart). A PayPal id
 * becomes 44 bytes, which with SHA-256's 9 bytes of padding fit the one block after the ipad. */
void idset_key_of(const struct idset *s, const void *id, size_t len, struct idset_key *out)
{
    SHA256_CTX c = s->inner;
    uint8_t h[32];
    int paypal = len >= PREFIX_LEN && !memcmp(id, paypal_id_prefix, PREFIX_LEN);
    uint8_t tag = (uint8_t)paypal;
    SHA256_Update(&c, &tag, 1);
    if (paypal)
        SHA256_Update(&c, (const uint8_t *)id + PREFIX_LEN, len - PREFIX_LEN);
    else
        SHA256_Update(&c, id, len);
    SHA256_Final(h, &c);
    c = s->outer;
    SHA256_Update(&c, h, 32);
    SHA256_Final(h, &c);
    memcpy(&out->lo, h, 8);
    memcpy(&out->hi, h + 8, 8);
    if (!out->lo && !out->hi)
        out->lo = 1;   /* zero marks an empty slot; 2^-128 odds, but never ambiguous */
    OPENSSL_cleanse(&c, sizeof c);
}

static struct idset_key *find(const struct idset *s, const struct idset_key *k)
{
    for (uint64_t i = k->lo & s->mask;; i = (i + 1) & s->mask) {
        struct idset_key *slot = &s->slots[i];
        if ((slot->lo == k->lo && slot->hi == k->hi) || (!slot->lo && !slot->hi))
            return slot;
    }
}

idset_result idset_insert_once(struct idset *s, const struct idset_key *k)
{
    struct idset_key *slot = find(s, k);
    if (slot->lo || slot->hi)
        return IDSET_PRESENT;
    if (s->count >= s->capacity)
        return IDSET_FULL;
    *slot = *k;
    s->count++;
    return IDSET_INSERTED;
}

int idset_contains(const struct idset *s, const struct idset_key *k)
{
    const struct idset_key *slot = find(s, k);
    return slot->lo || slot->hi;
}

uint64_t idset_count(const struct idset *s) { return s->count; }
uint64_t idset_capacity(const struct idset *s) { return s->capacity; }
size_t idset_table_bytes(const struct idset *s) { return s->bytes; }

int idset_next(const struct idset *s, uint64_t *i, struct idset_key *out)
{
    for (; *i <= s->mask; (*i)++) {
        const struct idset_key *slot = &s->slots[*i];
        if (slot->lo || slot->hi) {
            *out = *slot;
            (*i)++;
            return 0;
        }
    }
    return -1;
}

void idset_key_tag(const struct idset_key *k, char out[9])
{
    static const char H[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++)
        out[i] = H[(k->hi >> (60 - 4 * i)) & 15];
    out[8] = 0;
}
