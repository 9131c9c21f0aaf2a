/* Unit tests for login/result_store: results found by code and browser secret only, expiry after
 * RESULT_KEEP_S, the byte cap, and undoing the last add. */
#include "test.h"
#include "login/limits.h"
#include "login/result_store.h"
#include <stdint.h>

TEST(results_expire_and_respect_caps)
{
    struct result_store *r = result_store_new();
    uint8_t h[32] = {7};
    struct idset_key k = {1, 2};
    CHECK(result_store_add(r, "AAAAAAAAAA", h, &k, 1000, "one", 3) == 0);
    CHECK(result_store_add(r, "BBBBBBBBBB", h, &k, 2000, "two", 3) == 0);
    CHECK(result_store_find(r, "AAAAAAAAAA", 10, h));
    CHECK(!result_store_find(r, "AAAAAAAAA", 9, h));
    result_store_expire(r, 1000 + RESULT_KEEP_S);
    CHECK(result_store_count(r) == 1 && !result_store_find(r, "AAAAAAAAAA", 10, h));
    CHECK(result_store_find(r, "BBBBBBBBBB", 10, h));
    CHECK(!result_store_fits(r, RESULT_STORE_MAX_BYTES, 2000));
    CHECK(result_store_fits(r, 100, 2000));
    result_store_pop_last(r);
    CHECK(result_store_count(r) == 0 && result_store_bytes(r) == 0);
    result_store_free(r);
}

int main(void)
{
    RUN(results_expire_and_respect_caps);
    return test_done();
}
