/* init_restart: PID 1's restart policy for the service child (init.h): exponential back-off between
 * restarts, reset by a run of INIT_STABLE_MS, and a crash-loop limit after which PID 1 gives up.
 * Pure arithmetic on times it is given: no clock, no process, no I/O. */
#include "init/init.h"
#include <string.h>

void init_restart_begin(struct init_restart *r)
{
    memset(r, 0, sizeof *r);
    r->delay_ms = INIT_RESTART_MIN_MS;
}

long long init_restart_after_exit(struct init_restart *r, long long now_ms, long long ran_ms)
{
    /* forget crashes older than the window, then count this one */
    unsigned k = 0;
    for (unsigned i = 0; i < r->n; i++)
        if (now_ms - r->crash_ms[i] < INIT_CRASH_WINDOW_MS)
            r->crash_ms[k++] = r->crash_ms[i];
    r->n = k;
    if (r->n == INIT_CRASH_MAX) {   /* cannot happen (we give up at MAX), but never overflow */
        memmove(r->crash_ms, r->crash_ms + 1, (INIT_CRASH_MAX - 1) * sizeof r->crash_ms[0]);
        r->n--;
    }
    r->crash_ms[r->n++] = now_ms;
    if (r->n >= INIT_CRASH_MAX)
        return -1;
    if (ran_ms >= INIT_STABLE_MS)
        r->delay_ms = INIT_RESTART_MIN_MS;
    long long d = r->delay_ms;
    r->delay_ms = r->delay_ms * 2 > INIT_RESTART_MAX_MS ? INIT_RESTART_MAX_MS : r->delay_ms * 2;
    return d;
}
