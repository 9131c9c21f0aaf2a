/* Unit tests for login/idset: test-and-insert, fail-closed capacity, keyed hashing. */
#include "test.h"
#include "login/idset.h"

TEST(insert_once_then_present)
{
    struct idset *s = idset_new(100);
    struct idset_key k;
    idset_key_of(s, "user-1", 6, &k);
    CHECK(!idset_contains(s, &k));
    CHECK(idset_insert_once(s, &k) == IDSET_INSERTED);
    CHECK(idset_insert_once(s, &k) == IDSET_PRESENT);
    CHECK(idset_contains(s, &k));
    CHECK(idset_count(s) == 1);
    idset_free(s);
}

TEST(full_set_refuses_new_ids_but_keeps_old)
{
    struct idset *s = idset_new(3);
    struct idset_key k[5];
    char id[16];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(id, sizeof id, "id-%d", i);
        idset_key_of(s, id, (size_t)n, &k[i]);
    }
    for (int i = 0; i < 3; i++)
        CHECK(idset_insert_once(s, &k[i]) == IDSET_INSERTED);
    CHECK(idset_insert_once(s, &k[3]) == IDSET_FULL);
    CHECK(!idset_contains(s, &k[3]));
    for (int i = 0; i < 3; i++)
        CHECK(idset_insert_once(s, &k[i]) == IDSET_PRESENT);
    CHECK(idset_count(s) == 3);
    idset_free(s);
}

TEST(keys_depend_on_bytes_and_per_boot_key)
{
    struct idset *a = idset_new(10), *b = idset_new(10);
    struct idset_key k1, k2, k3, k4;
    idset_key_of(a, "abc", 3, &k1);
    idset_key_of(a, "abc", 3, &k2);
    idset_key_of(a, "abd", 3, &k3);
    idset_key_of(b, "abc", 3, &k4);
    CHECK(k1.lo == k2.lo && k1.hi == k2.hi);
    CHECK(k1.lo != k3.lo || k1.hi != k3.hi);
    CHECK(k1.lo != k4.lo || k1.hi != k4.hi);   /* a new boot gets a new key */
    /* bytes, not C strings: an embedded NUL matters */
    idset_key_of(a, "ab\0c", 4, &k3);
    idset_key_of(a, "ab", 2, &k4);
    CHECK(k3.lo != k4.lo || k3.hi != k4.hi);
    char tag[9];
    idset_key_tag(&k1, tag);
    CHECK(strlen(tag) == 8);
    idset_free(a);
    idset_free(b);
}

TEST(paypal_prefix_encoding_stays_injective)
{
    /* PayPal ids hash as 0x01 || rest, others as 0x00 || id: no id of one kind may collide
     * with an id of the other, nor with the bare rest */
    static const char P[] = "https://www.paypal.com/webapps/auth/identity/user/";
    struct idset *a = idset_new(10);
    struct idset_key k[8];
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%sAbC", P);
    idset_key_of(a, buf, (size_t)n, &k[0]);
    idset_key_of(a, "AbC", 3, &k[1]);
    idset_key_of(a, "\x01" "AbC", 4, &k[2]);
    idset_key_of(a, "\x00" "AbC", 4, &k[3]);
    idset_key_of(a, P, sizeof P - 1, &k[4]);                 /* the prefix alone */
    idset_key_of(a, "", 0, &k[5]);
    idset_key_of(a, "\x01", 1, &k[6]);
    idset_key_of(a, P, sizeof P - 2, &k[7]);                 /* one byte short of the prefix */
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            CHECK(k[i].lo != k[j].lo || k[i].hi != k[j].hi);
    /* same id, same key, through either path */
    struct idset_key again;
    idset_key_of(a, buf, (size_t)n, &again);
    CHECK(again.lo == k[0].lo && again.hi == k[0].hi);
    idset_free(a);
}

TEST(many_ids_all_distinct_and_found)
{
    enum { N = 200000 };
    struct idset *s = idset_new(N);
    char id[32];
    int ok = 1;
    for (int i = 0; i < N; i++) {
        int n = snprintf(id, sizeof id, "https://paypal/%d", i);
        struct idset_key k;
        idset_key_of(s, id, (size_t)n, &k);
        if (idset_insert_once(s, &k) != IDSET_INSERTED) ok = 0;
    }
    for (int i = 0; i < N; i += 7) {
        int n = snprintf(id, sizeof id, "https://paypal/%d", i);
        struct idset_key k;
        idset_key_of(s, id, (size_t)n, &k);
        if (!idset_contains(s, &k)) ok = 0;
    }
    CHECK(ok);
    CHECK(idset_count(s) == N);
    /* load factor stays at or below 3/4 */
    CHECK(idset_table_bytes(s) / 16 * 3 / 4 >= N);
    idset_free(s);
}

TEST(bad_capacity_refused)
{
    CHECK(idset_new(0) == NULL);
}

int main(void)
{
    RUN(insert_once_then_present);
    RUN(full_set_refuses_new_ids_but_keeps_old);
    RUN(keys_depend_on_bytes_and_per_boot_key);
    RUN(paypal_prefix_encoding_stays_injective);
    RUN(many_ids_all_distinct_and_found);
    RUN(bad_capacity_refused);
    return test_done();
}
