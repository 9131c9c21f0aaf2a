/* Unit tests for init/init_restart: PID 1's back-off and crash-loop limit. */
#include "test.h"
#include "init/init.h"

TEST(backoff_doubles_to_the_cap_and_resets_after_a_stable_run)
{
    struct init_restart r;
    init_restart_begin(&r);
    long long t = 0, d;
    /* crashes spread over hours never reach the loop limit, but back off */
    long long want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (int i = 0; i < 8; i++) {
        t += INIT_CRASH_WINDOW_MS;   /* each one outside the previous ones' window */
        d = init_restart_after_exit(&r, t, 100);
        CHECK(d == want[i]);
    }
    t += INIT_CRASH_WINDOW_MS;
    CHECK(init_restart_after_exit(&r, t, INIT_STABLE_MS) == INIT_RESTART_MIN_MS);
}

TEST(crash_loop_gives_up_after_max_crashes_in_the_window)
{
    struct init_restart r;
    init_restart_begin(&r);
    long long t = 0, d = 0;
    int starts = 0;
    for (int i = 0; i < 100; i++) {
        d = init_restart_after_exit(&r, t, 50);
        if (d < 0)
            break;
        starts++;
        t += d + 50;
    }
    CHECK(d == -1);
    CHECK(starts == INIT_CRASH_MAX - 1);
    CHECK(t < INIT_CRASH_WINDOW_MS);
}

TEST(crashes_older_than_the_window_are_forgotten)
{
    struct init_restart r;
    init_restart_begin(&r);
    long long t = 0;
    for (int i = 0; i < INIT_CRASH_MAX - 1; i++)
        CHECK(init_restart_after_exit(&r, t += 1000, 10) > 0);
    /* the next crash comes after the window: only it counts */
    t += INIT_CRASH_WINDOW_MS;
    CHECK(init_restart_after_exit(&r, t, INIT_STABLE_MS) == INIT_RESTART_MIN_MS);
    CHECK(r.n == 1);
}

int main(void)
{
    RUN(backoff_doubles_to_the_cap_and_resets_after_a_stable_run);
    RUN(crash_loop_gives_up_after_max_crashes_in_the_window);
    RUN(crashes_older_than_the_window_are_forgotten);
    return test_done();
}
