/* fault: named failure points for the fault-injection test build only. In normal builds (and so
 * in the sealed image) FAULT(name) is the constant 0 and the compiler drops the branch. With
 * -DSEALED_FAULTS (make faults → build/faults/sealed-login) FAULT("sign") is true while the
 * file named by the environment variable SEALED_FAULT_FILE contains that word, so whole-binary
 * tests can make signing, evidence or rendering fail and check that no PayPal id is used up. */
#ifndef SEALED_FAULT_H
#define SEALED_FAULT_H
#ifdef SEALED_FAULTS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define FAULT(name) fault_on(name)
#else
#define FAULT(name) 0
#endif
#endif
