/* fault: named failure points for the fault-injection test build only. In normal builds (and so
 * in the sealed image) FAULT(name) is the constant 0, FAULT_CRASH(path) is nothing, and the
 * compiler drops both. With -DSEALED_FAULTS (make faults → build/faults/sealed-login):
 * - FAULT("sign") is true while the file named by the environment variable SEALED_FAULT_FILE
 *   contains that word, so whole-binary tests can make signing, evidence or rendering fail and
 *   check that no PayPal id is used up (without that variable every FAULT is 0);
 * - FAULT_CRASH(path) ends the process at once when an HTTPS request asks for /__fault/crash/HOW,
 *   so a test image built with this binary (tests/image/test_reboot.py; docs/image.md) can make
 *   its working service crash and PID 1 restart it: a release image cannot, on purpose. */
#ifndef SEALED_FAULT_H
#define SEALED_FAULT_H
#ifdef SEALED_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static inline int fault_on(const char *name)
{
    const char *path = getenv("SEALED_FAULT_FILE");
    char buf[256] = "";
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    return buf[0] && strstr(buf, name) != NULL;
}
/* HOW is the way a real crash ends: "kill" raises SIGKILL (kill -9: no handler runs, nothing is
 * flushed or saved), "abort" calls abort() (SIGABRT, a failed check), "exit" calls _exit(1) (a
 * fatal error; status 0 would be a clean stop, which PID 1 answers with a power-off). Any other
 * path returns. Nothing is answered: the client sees the connection close. */
static inline void fault_crash(const char *path)
{
    static const char prefix[] = "/__fault/crash/";
    if (strncmp(path, prefix, sizeof prefix - 1))
        return;
    const char *how = path + sizeof prefix - 1;
    if (strcmp(how, "kill") && strcmp(how, "abort") && strcmp(how, "exit"))
        return;
    fprintf(stderr, "fault.crash how=%s pid=%d\n", how, (int)getpid());
    fflush(stderr);
    if (!strcmp(how, "kill"))
        raise(SIGKILL);
    if (!strcmp(how, "abort"))
        abort();
    _exit(1);
}
#define FAULT(name) fault_on(name)
#define FAULT_CRASH(path) fault_crash(path)
#else
#define FAULT(name) 0
#define FAULT_CRASH(path) ((void)0)
#endif
#endif
