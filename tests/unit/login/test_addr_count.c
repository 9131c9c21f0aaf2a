/* Unit tests for login/addr_count: counts per address against a plain model through many random
 * opens and closes (backward-shift deletion must never lose or duplicate an entry), and the
 * table's capacity. */
#include "test.h"
#include "login/addr_count.h"
#include "login/limits.h"

#define ADDRS 6000

static void key_of(unsigned i, uint8_t k[16])
{
    memset(k, 0, 16);
    k[10] = k[11] = 0xff;
    k[12] = 10;
    k[13] = (uint8_t)(i >> 16);
    k[14] = (uint8_t)(i >> 8);
    k[15] = (uint8_t)i;
}

TEST(counts_follow_a_model_through_random_opens_and_closes)
{
    struct addr_count *t = addr_count_new();
    static unsigned model[ADDRS];
    unsigned distinct = 0, bad = 0;
    uint64_t x = 88172645463325252ull;
    CHECK(t != NULL);
    for (int step = 0; t && step < 400000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        unsigned a = (unsigned)(x % ADDRS);
        uint8_t k[16];
        key_of(a, k);
        int open = (x >> 32) % 3 != 0;   /* opens outnumber closes until the table fills */
        if (open && (model[a] || distinct < LIMIT_CONNECTIONS_TOTAL)) {
            distinct += !model[a];
            model[a]++;
            bad += addr_count_inc(t, k) != model[a];
        } else if (!open && model[a]) {
            model[a]--;
            distinct -= !model[a];
            addr_count_dec(t, k);
        }
        if (step % 1000 == 0)
            for (unsigned i = 0; i < ADDRS; i++) {
                key_of(i, k);
                bad += addr_count_get(t, k) != model[i];
            }
    }
    CHECK(bad == 0);
    /* close everything: the table ends empty */
    for (unsigned i = 0; t && i < ADDRS; i++) {
        uint8_t k[16];
        key_of(i, k);
        while (model[i]--)
            addr_count_dec(t, k);
        bad += addr_count_get(t, k) != 0;
    }
    CHECK(bad == 0);
    addr_count_free(t);
}

TEST(room_for_as_many_addresses_as_connections)
{
    struct addr_count *t = addr_count_new();
    uint8_t k[16];
    unsigned ok = 0;
    for (unsigned i = 0; i < LIMIT_CONNECTIONS_TOTAL; i++) {
        key_of(i, k);
        ok += addr_count_inc(t, k) == 1;
    }
    CHECK(ok == LIMIT_CONNECTIONS_TOTAL);
    key_of(LIMIT_CONNECTIONS_TOTAL, k);
    CHECK(addr_count_inc(t, k) == 0);            /* full: refused, nothing counted */
    CHECK(addr_count_get(t, k) == 0);
    key_of(0, k);
    CHECK(addr_count_inc(t, k) == 2);            /* a known address still counts */
    addr_count_dec(t, k);
    addr_count_dec(t, k);
    key_of(LIMIT_CONNECTIONS_TOTAL, k);
    CHECK(addr_count_inc(t, k) == 1);            /* room again after one address left */
    addr_count_dec(t, k);
    addr_count_dec(t, k);                        /* not counted: ignored */
    CHECK(addr_count_get(t, k) == 0);
    addr_count_free(t);
}

int main(void)
{
    RUN(counts_follow_a_model_through_random_opens_and_closes);
    RUN(room_for_as_many_addresses_as_connections);
    return test_done();
}
