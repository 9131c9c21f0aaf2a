/* Unit tests for login/login_spent: the set of spent login states is bounded by
 * LOGIN_USED_STATES_MAX, refuses when full of live states and makes room as they expire. */
#include "test.h"
#include "login/limits.h"
#include "login/login_spent.h"
#include <stdint.h>

TEST(spent_states_are_bounded_and_expire)
{
    struct login_spent *s = login_spent_new();
    struct login_spent_entry e;
    char st[32];
    for (int i = 0; i < LOGIN_USED_STATES_MAX; i++) {
        int n = snprintf(st, sizeof st, "state-%d", i);
        login_spent_entry_of(st, (size_t)n, 1000 + (uint64_t)(i % 2) * 1000, &e);
        CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_NEW);
    }
    login_spent_entry_of("state-0", 7, 1000, &e);
    CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_SEEN);
    login_spent_entry_of("new", 3, 3000, &e);
    CHECK(!login_spent_has_room(s, 500) && login_spent_has_room(s, 1500));
    CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_FULL);   /* full of live states: refuse */
    CHECK(login_spent_insert(s, &e, 1500) == LOGIN_SPENT_NEW);   /* half of them expired */
    CHECK(login_spent_contains(s, &e, 1500));
    login_spent_entry_of("state-0", 7, 1000, &e);
    CHECK(!login_spent_contains(s, &e, 1500));
    login_spent_free(s);
}

int main(void)
{
    RUN(spent_states_are_bounded_and_expire);
    return test_done();
}
